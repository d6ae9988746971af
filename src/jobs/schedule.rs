//! The job schedule of `vitrine serve` (tokio-cron-scheduler, UTC): the OaiOutputValidator
//! runs for each domain with zmets switched on whose parent does not have it on (that run
//! covers the sub-domains), at the domain's `jobs.oai_output_validator.schedule`.

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
        let (store, config) = (store.clone(), config.clone());
        let job = Job::new_async(cron.as_str(), move |_, _| {
            let (store, config, name) = (store.clone(), config.clone(), name.clone());
            Box::pin(async move {
                let options = Options {
                    domain: name.clone(),
                    full: false,
                    started_by: "schedule".into(),
                };
                let outcome = match load_tree(store.as_ref(), config.clone()).await {
                    Ok(tree) => run(store, Arc::new(tree), &config, &options, &|_, _| {}).await,
                    Err(e) => Err(e.into()),
                };
                match outcome {
                    Ok(report) => tracing::info!(
                        domain = %name,
                        validated = report.validated,
                        seconds = report.seconds,
                        "scheduled OaiOutputValidator run finished"
                    ),
                    Err(e) => tracing::error!(domain = %name, "scheduled OaiOutputValidator run failed: {e:#}"),
                }
            })
        })
        .with_context(|| format!("domains.{}.jobs.oai_output_validator.schedule {cron:?} is not a valid cron expression", domain.name))?;
        scheduler.add(job).await?;
        tracing::info!(domain = %domain.name, schedule = %cron, "OaiOutputValidator scheduled");
    }
    scheduler.start().await?;
    Ok(scheduler)
}
