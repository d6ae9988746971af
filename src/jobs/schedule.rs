//! The job schedule of `vitrine serve` (tokio-cron-scheduler, UTC): the OaiOutputValidator
//! runs for each domain with zmets switched on whose parent does not have it on (that run
//! covers the sub-domains), at the domain's `jobs.oai_output_validator.schedule`; and,
//! every minute, a run for any such domain that has records waiting (`undefined` after a
//! new export, a release or a withdrawal), so that changes reach zmets without waiting
//! for the night.
//!
//! The schedule follows the domain tree while serving, as the web layer does: every few
//! seconds it is compared with the stored domains and settings, so a domain switched to
//! zmets with `vitrine domain set`, or a changed schedule, is scheduled (or unscheduled)
//! without a restart.
//!
//! Every instance fires the schedule; on PostgreSQL the one that gets the job's lock
//! coordinates the run and the others join it as workers.

use super::oai_output_validator::{run, Options};
use crate::config::Config;
use crate::domain::{Clock, DomainTree};
use crate::store::{load_tree, Store};
use anyhow::Context;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_cron_scheduler::{Job, JobScheduler};

/// How often the schedule is compared with the stored domains and settings.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(5);

/// The running schedule; keep it alive while serving (dropping it stops following).
pub struct Schedule {
    _scheduler: JobScheduler,
    entries: Arc<Mutex<Entries>>,
    follower: tokio::task::JoinHandle<()>,
}

/// Per scheduled domain: its cron expression and the jobs added for it.
type Entries = BTreeMap<String, (String, Vec<Job>)>;

impl Schedule {
    /// What is scheduled now: (domain, cron expression), by domain name.
    pub fn scheduled(&self) -> Vec<(String, String)> {
        self.entries
            .lock()
            .map(|e| {
                e.iter()
                    .map(|(d, (cron, _))| (d.clone(), cron.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

/// Starts the schedule and follows the domain tree every `every`; the runs read their
/// times from `clock`. An invalid schedule at the start is an error; one set while
/// serving is logged and left unscheduled.
pub async fn start(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    clock: Clock,
    every: Duration,
) -> anyhow::Result<Schedule> {
    let scheduler = JobScheduler::new()
        .await
        .context("cannot start the job scheduler")?;
    let entries: Arc<Mutex<Entries>> = Arc::default();
    let tree = load_tree(store.as_ref(), config.clone()).await?;
    let given = Given {
        store,
        config,
        clock,
    };
    follow(&scheduler, &entries, &tree, &given, true).await?;
    scheduler.start().await?;
    let follower = tokio::spawn({
        let (scheduler, entries) = (scheduler.clone(), entries.clone());
        async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let tree = match load_tree(given.store.as_ref(), given.config.clone()).await {
                    Ok(tree) => tree,
                    Err(e) => {
                        tracing::warn!("cannot read the domains for the schedule: {e:#}");
                        continue;
                    }
                };
                if let Err(e) = follow(&scheduler, &entries, &tree, &given, false).await {
                    tracing::error!("cannot update the job schedule: {e:#}");
                }
            }
        }
    });
    Ok(Schedule {
        _scheduler: scheduler,
        entries,
        follower,
    })
}

/// What every scheduled run is given.
#[derive(Clone)]
struct Given {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    clock: Clock,
}

/// The schedule the tree asks for: each domain with zmets switched on whose parent does
/// not have it on, with its cron expression.
fn wanted(tree: &DomainTree) -> BTreeMap<String, String> {
    let zmets = |id: i64| tree.config(id).oai.formats.zmets.on;
    tree.all()
        .iter()
        .filter(|d| zmets(d.id) && !d.parent_id.is_some_and(zmets))
        .map(|d| {
            let cron = tree.config(d.id).jobs.oai_output_validator.schedule;
            (d.name.to_string(), cron.trim().to_string())
        })
        .filter(|(_, cron)| !cron.is_empty())
        .collect()
}

/// Brings the scheduler in line with the tree: removes the jobs of domains no longer
/// wanted (or whose schedule changed) and adds those newly wanted. `strict`: a cron
/// expression that does not parse is an error instead of a logged refusal.
async fn follow(
    scheduler: &JobScheduler,
    entries: &Mutex<Entries>,
    tree: &DomainTree,
    given: &Given,
    strict: bool,
) -> anyhow::Result<()> {
    let wanted = wanted(tree);
    let current: Entries = entries.lock().map(|e| e.clone()).unwrap_or_default();
    for (name, (cron, jobs)) in &current {
        if wanted.get(name) != Some(cron) {
            for job in jobs {
                scheduler.remove(&job.guid()).await?;
            }
            if let Ok(mut e) = entries.lock() {
                e.remove(name);
            }
            tracing::info!(domain = %name, "OaiOutputValidator unscheduled");
        }
    }
    for (name, cron) in wanted {
        if current.get(&name).is_some_and(|(c, _)| *c == cron) {
            continue;
        }
        let nightly = match validator_job(&cron, given.clone(), name.clone(), false) {
            Ok(job) => job,
            Err(e) => {
                let e = anyhow::Error::new(e).context(format!(
                    "domains.{name}.jobs.oai_output_validator.schedule {cron:?} is not a valid cron expression"
                ));
                if strict {
                    return Err(e);
                }
                tracing::error!("{e:#}");
                continue;
            }
        };
        let changes = validator_job("30 * * * * *", given.clone(), name.clone(), true)?;
        scheduler.add(nightly.clone()).await?;
        scheduler.add(changes.clone()).await?;
        let jobs = vec![nightly, changes];
        tracing::info!(domain = %name, schedule = %cron, "OaiOutputValidator scheduled");
        if let Ok(mut e) = entries.lock() {
            e.insert(name, (cron, jobs));
        }
    }
    Ok(())
}

/// A scheduled OaiOutputValidator run; `only_when_waiting` skips the run (and its job
/// record) when no record of the scope waits for validation.
fn validator_job(
    cron: &str,
    given: Given,
    name: String,
    only_when_waiting: bool,
) -> Result<Job, tokio_cron_scheduler::JobSchedulerError> {
    Job::new_async(cron, move |_, _| {
        let Given {
            store,
            config,
            clock,
        } = given.clone();
        let name = name.clone();
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
                    Ok(counts)
                        if counts
                            .get(crate::domain::ValidationState::Undefined.as_str())
                            .copied()
                            .unwrap_or(0)
                            > 0 => {}
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
                clock,
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
