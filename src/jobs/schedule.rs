//! The job schedule of `vitrine serve` (tokio-cron-scheduler, UTC): the OaiOutputValidator
//! runs for each domain with zmets switched on whose parent does not have it on (that run
//! covers the sub-domains), at the domain's `jobs.oai_output_validator.schedule`; and,
//! every minute, a run for any such domain that has records waiting (`undefined` after a
//! new export, a release or a withdrawal), so that changes reach zmets without waiting
//! for the night.
//!
//! Every instance fires the schedule; on PostgreSQL the one that gets the job's lock
//! coordinates the run and the others join it as workers.

use super::oai_output_validator::{run, Options};
use crate::config::Config;
use crate::store::{load_tree, Store};
use anyhow::Context;
use std::sync::Arc;
use tokio_cron_scheduler::{Job, JobScheduler};

/// Starts the schedule; keep the returned scheduler alive while serving.
pub async fn start(store: Arc<dyn Store>, config: Arc<Config>) -> anyhow::Result<JobScheduler> {
    let scheduler = JobScheduler::new()
        .await
        .context("cannot start the job scheduler")?;
    let tree = load_tree(store.as_ref(), config.clone()).await?;
    for domain in tree.all() {
        let zmets = |id: i64| tree.config(id).oai.formats.zmets.on;
        let parent_covers = domain.parent_id.is_some_and(zmets);
        let cron = tree.config(domain.id).jobs.oai_output_validator.schedule;
        if !zmets(domain.id) || parent_covers || cron.trim().is_empty() {
            continue;
        }
        let name = domain.name.to_string();
        let nightly = validator_job(&cron, store.clone(), config.clone(), name.clone(), false)
            .with_context(|| {
                format!(
                    "domains.{}.jobs.oai_output_validator.schedule {cron:?} is not a valid cron expression",
                    domain.name
                )
            })?;
        scheduler.add(nightly).await?;
        scheduler
            .add(validator_job(
                "30 * * * * *",
                store.clone(),
                config.clone(),
                name,
                true,
            )?)
            .await?;
        tracing::info!(domain = %domain.name, schedule = %cron, "OaiOutputValidator scheduled");
    }
    scheduler.start().await?;
    Ok(scheduler)
}

/// A scheduled OaiOutputValidator run; `only_when_waiting` skips the run (and its job
/// record) when no record of the scope waits for validation.
fn validator_job(
    cron: &str,
    store: Arc<dyn Store>,
    config: Arc<Config>,
    name: String,
    only_when_waiting: bool,
) -> Result<Job, tokio_cron_scheduler::JobSchedulerError> {
    Job::new_async(cron, move |_, _| {
        let (store, config, name) = (store.clone(), config.clone(), name.clone());
        Box::pin(async move {
            let tree = match load_tree(store.as_ref(), config.clone()).await {
                Ok(tree) => Arc::new(tree),
                Err(e) => {
                    tracing::error!(domain = %name, "scheduled OaiOutputValidator run failed: {e}");
                    return;
                }
            };
            if only_when_waiting {
                let Some(domain) = tree.by_name(&name) else {
                    return;
                };
                let scope: Vec<i64> = tree.zmets_scope(domain.id);
                match store.validation_counts(&scope).await {
                    Ok(counts) if counts.get("undefined").copied().unwrap_or(0) > 0 => {}
                    _ => return,
                }
            }
            let options = Options::new(
                &name,
                if only_when_waiting {
                    "changes"
                } else {
                    "schedule"
                },
            );
            match run(store, tree, &config, &options, &|_, _| {}).await {
                Ok(report) if report.joined() => tracing::info!(
                    domain = %name,
                    run = report.run_id,
                    validated = report.validated,
                    seconds = report.seconds,
                    "joined the OaiOutputValidator run of another instance"
                ),
                Ok(report) => tracing::info!(
                    domain = %name,
                    run = report.run_id,
                    validated = report.validated,
                    seconds = report.seconds,
                    "scheduled OaiOutputValidator run finished"
                ),
                Err(e) => {
                    tracing::error!(domain = %name, "scheduled OaiOutputValidator run failed: {e:#}")
                }
            }
        })
    })
}
