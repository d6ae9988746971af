//! The OaiOutputValidator job (mode `zmets`): validates exactly the zmets harvesters
//! receive — the stored METS after the ZVDD repairs — with each domain's rule sets
//! (`jobs.oai_output_validator.rules`: the bundled one, others beside or instead of it),
//! and stores per record the zmods_validation state, every finding with its rule set
//! (and whether a repair fixed it), every repair, and the zmets/zmods renderings
//! (SPEC §5).
//!
//! Scope: the domain it is started on and every descendant with `oai.formats.zmets.on`.
//! Every rule set of the scope is compiled before anything is marked; one that cannot
//! run fails the run. A first run (or `--full`) sets every record in scope to
//! `undefined`; later runs take the records whose METS or release changed since (they
//! are `undefined` already) plus their parents and children, and the records whose
//! result was stored under another rule-set version than their domain's now (stale). Results are stored in batches; a record is only updated
//! if it did not change while it was validated, so a run can be stopped or killed at any
//! point and the next run picks up what is left. A run found still `running` by the next
//! one is dead and is marked `killed`.
//!
//! One run per domain at a time, cluster-wide: the instance that gets the job's lock
//! coordinates the run. On PostgreSQL, an instance that does not get it joins the run as
//! a worker: both claim batches of records with `FOR NO KEY UPDATE SKIP LOCKED` until none is
//! left; the coordinator then waits for the records others still hold, takes over any a
//! dead worker left, and writes the report. Each instance validates one batch while it
//! stores the previous one and claims the next.

use crate::config::Config;
use crate::domain::{
    Clock, Domain, DomainTree, InstanceRole, JobPhase, JobStatus, ValidationState,
};
use crate::store::{
    Claim, ClaimRequest, ClaimedTask, HeldRecords, JobRun, Participant, PreparedResult,
    RecordFailure, Store, ValidationTask,
};
use crate::validation::record::{validate_record, ValidationResult};
use crate::validation::RuleSets;
use anyhow::{bail, Context};
use rayon::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod report;

use report::summarize;
pub use report::{InstanceReport, JobReport, RuleStats};

/// The job's name in job lists.
pub const JOB: &str = "OaiOutputValidator";
/// Records validated per batch (one transaction each) unless told otherwise.
pub const BATCH: usize = 128;

/// How long an instance waits for a run it found running elsewhere to reach its
/// validating phase, to join it.
pub const JOIN_WAIT: Duration = Duration::from_secs(30);

/// How the job is started.
#[derive(Debug, Clone)]
pub struct Options {
    /// Domain to start on.
    pub domain: String,
    /// Revalidate every record in scope.
    pub full: bool,
    /// Who or what started it.
    pub started_by: String,
    /// Records per batch: one transaction each, and on PostgreSQL the unit of sharing.
    pub batch_size: usize,
    /// How long to wait, on PostgreSQL, for a run coordinated elsewhere to reach its
    /// validating phase before giving up on joining it.
    pub join_wait: Duration,
    /// This instance's name in the run's record.
    pub instance: String,
    /// Where the run's times (start, end, joins, results) are read.
    pub clock: Clock,
}

impl Options {
    /// An incremental run of `domain` with the default batch size and join wait, its
    /// times read from `clock`.
    pub fn new(domain: &str, started_by: &str, clock: Clock) -> Options {
        Options {
            domain: domain.to_string(),
            full: false,
            started_by: started_by.to_string(),
            batch_size: BATCH,
            join_wait: JOIN_WAIT,
            instance: instance_name(),
            clock,
        }
    }
}

/// `host:pid`: which vitrine process took part in a run.
pub fn instance_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// Runs the job to the end: as the run's coordinator when this instance gets the job's
/// lock; otherwise, on PostgreSQL, as a worker of the run another instance coordinates
/// (on SQLite it is refused). `progress(done, total)` is called after every batch.
pub async fn run(
    store: Arc<dyn Store>,
    tree: Arc<DomainTree>,
    config: &Config,
    options: &Options,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<JobReport> {
    let domain = tree.require(&options.domain)?.clone();
    let scope: Vec<i64> = tree.zmets_scope(domain.id);
    if scope.is_empty() {
        bail!(
            "zmets is switched on in none of the domains under {}; \
             switch it on with `vitrine domain set {} oai.formats.zmets.on true`",
            domain.name,
            domain.name
        );
    }
    // Every rule set of the scope compiles before anything is marked or validated.
    let rule_sets = scope_rule_sets(&tree, &scope)?;
    let job = Job {
        store: store.as_ref(),
        tree,
        public_url: config.server.public_url.as_str().into(),
        options,
        domain: &domain,
        scope: &scope,
        rule_sets: &rule_sets,
        progress,
    };
    // One run per domain at a time, across every instance sharing the database.
    let lock = store.try_job_lock(&lock_key(&domain)).await?;
    match lock {
        Some(_lock) => job.coordinate().await,
        None if store.shares_work() => job.join().await,
        None => bail!("{JOB} is running on {} already", domain.name),
    }
}

/// The rule sets of each domain in scope, compiled: (domain id, its rule sets).
fn scope_rule_sets(tree: &DomainTree, scope: &[i64]) -> anyhow::Result<Vec<(i64, RuleSets)>> {
    scope
        .iter()
        .map(|id| {
            let name = tree.by_id(*id).map_or("?", |d| d.name.as_str());
            RuleSets::load(&tree.validation_rules(*id))
                .map(|sets| (*id, sets))
                .with_context(|| format!("domains.{name}.jobs.oai_output_validator.rules"))
        })
        .collect()
}

/// The name of the job's lock for a domain.
fn lock_key(domain: &Domain) -> String {
    format!("{JOB}:zmets:{}", domain.name)
}

/// One start of the job on one instance.
struct Job<'a> {
    store: &'a dyn Store,
    tree: Arc<DomainTree>,
    public_url: Arc<str>,
    options: &'a Options,
    domain: &'a Domain,
    scope: &'a [i64],
    rule_sets: &'a [(i64, RuleSets)],
    progress: &'a (dyn Fn(u64, u64) + Sync),
}

impl Job<'_> {
    /// A report with what is known before the run.
    fn report(&self, run_id: i64, full: bool, role: InstanceRole) -> JobReport {
        JobReport {
            run_id,
            domain: self.domain.name.to_string(),
            scope: self
                .scope
                .iter()
                .filter_map(|id| self.tree.by_id(*id).map(|d| d.name.to_string()))
                .collect(),
            full,
            role: role.as_str().to_string(),
            instance: self.options.instance.clone(),
            ..JobReport::default()
        }
    }

    /// Unix seconds now, by the run's clock.
    fn now(&self) -> i64 {
        self.options.clock.now()
    }

    /// What a claimant of the run shares.
    fn share(&self, me: Participant, worker: bool, total: u64) -> Share<'_> {
        Share {
            store: self.store,
            tree: self.tree.clone(),
            public_url: self.public_url.clone(),
            scope: self.scope,
            me,
            clock: &self.options.clock,
            batch: self.options.batch_size.max(1) as i64,
            worker,
            total,
            progress: self.progress,
        }
    }

    /// Runs the job holding its lock: records the run, marks records undefined,
    /// validates (with any workers that join), and writes the report.
    async fn coordinate(&self) -> anyhow::Result<JobReport> {
        let started = Instant::now();
        let killed = self
            .store
            .kill_stale_job_runs(JOB, self.domain.id, self.now())
            .await?;
        let earlier = self.store.job_runs(Some(self.domain.id)).await?;
        // A run that got past preparing marked the scope; the next one continues from
        // there, even if it was killed.
        let full = self.options.full || !earlier.iter().any(|r| r.job == JOB && r.prepared_scope());
        let run_id = self
            .store
            .start_job_run(
                JOB,
                "zmets",
                self.domain.id,
                &self.options.started_by,
                full,
                self.now(),
            )
            .await?;
        let me = self
            .store
            .join_job_run(
                run_id,
                &self.options.instance,
                InstanceRole::Coordinator,
                self.now(),
            )
            .await?;
        let mut report = self.report(run_id, full, InstanceRole::Coordinator);
        report.killed_runs = killed;
        let mut tally = Tally::default();
        let mut outcome = self.validate_scope(me, &mut report, &mut tally).await;
        tally.add_to(&mut report);
        self.store.leave_job_run(me, self.now()).await?;
        match summarize(self.store, run_id, &mut report).await {
            Err(e) if outcome.is_ok() => outcome = Err(e),
            _ => {}
        }
        report.seconds = started.elapsed().as_secs_f64();
        report.records_per_second = report.validated as f64 / report.seconds.max(1e-9);
        if let Err(e) = &outcome {
            report.errors.push(format!("run failed: {e:#}"));
        }
        if report.validated >= crate::store::REFRESH_STATISTICS_AFTER {
            // The run rewrote findings and the zmets/zmods channel: let the planner see
            // it before the QA snapshot, the next run and the next zmets harvest.
            if let Err(e) = self.store.refresh_statistics().await {
                report
                    .errors
                    .push(format!("the database statistics were not refreshed: {e}"));
            }
        }
        if let Err(e) = self.store.record_qa_snapshot(run_id, self.scope).await {
            report
                .errors
                .push(format!("the QA statistics were not kept: {e}"));
        }
        let status = if outcome.is_ok() {
            JobStatus::Finished
        } else {
            JobStatus::Failed
        };
        let json = serde_json::to_string(&report)?;
        self.store
            .finish_job_run(run_id, status, &json, self.now())
            .await?;
        outcome.map(|_| report)
    }

    /// The coordinator's run: marks the scope, takes its share, and on PostgreSQL
    /// sweeps up after the workers.
    async fn validate_scope(
        &self,
        me: Participant,
        report: &mut JobReport,
        tally: &mut Tally,
    ) -> anyhow::Result<()> {
        let store = self.store;
        report.before = store.validation_counts(self.scope).await?;
        // Results of other rule sets (or other versions of them) are stale.
        for (domain_id, sets) in self.rule_sets {
            report.stale += store.mark_stale(*domain_id, sets.version()).await?;
        }
        // Full: every record in scope. Incremental: the changed records are `undefined`
        // already; their parents and children join them.
        store.mark_undefined(self.scope, report.full).await?;
        let total = undefined(store, self.scope).await?;
        store.set_job_phase(me.run_id, JobPhase::Validating).await?;
        let share = self.share(me, false, total);
        share.take(tally).await?;
        if store.shares_work() {
            store.set_job_phase(me.run_id, JobPhase::Sweeping).await?;
            share.sweep(tally).await?;
        }
        report.after = store.validation_counts(self.scope).await?;
        Ok(())
    }

    /// Joins the run another instance coordinates and takes a share of its records.
    async fn join(&self) -> anyhow::Result<JobReport> {
        let started = Instant::now();
        let Some(run) = self.run_to_join().await? else {
            let mut report = self.report(0, false, InstanceRole::Worker);
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        };
        let me = self
            .store
            .join_job_run(
                run.id,
                &self.options.instance,
                InstanceRole::Worker,
                self.now(),
            )
            .await?;
        let total = undefined(self.store, self.scope).await?;
        let mut tally = Tally::default();
        let outcome = self.share(me, true, total).take(&mut tally).await;
        self.store.leave_job_run(me, self.now()).await?;
        outcome?;
        let mut report = self.report(run.id, run.full_run, InstanceRole::Worker);
        tally.add_to(&mut report);
        report.seconds = started.elapsed().as_secs_f64();
        report.records_per_second = report.validated as f64 / report.seconds.max(1e-9);
        Ok(report)
    }

    /// The run to join, once it reached its validating phase; `None` when the job's
    /// lock turns out free (the run ended before this instance could join it).
    async fn run_to_join(&self) -> anyhow::Result<Option<JobRun>> {
        let deadline = Instant::now() + self.options.join_wait;
        let mut pause = Duration::from_millis(5);
        loop {
            match self.store.running_job_run(JOB, self.domain.id).await? {
                Some(run) if run.phase != JobPhase::Preparing => return Ok(Some(run)),
                Some(_) => {}
                None => {
                    if self
                        .store
                        .try_job_lock(&lock_key(self.domain))
                        .await?
                        .is_some()
                    {
                        return Ok(None);
                    }
                }
            }
            if Instant::now() >= deadline {
                bail!(
                    "{JOB} is running on {} already, and no run to join reached its \
                     validating phase within {} s",
                    self.domain.name,
                    self.options.join_wait.as_secs_f64()
                );
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
}

/// Records waiting for validation in the domains.
async fn undefined(store: &dyn Store, scope: &[i64]) -> anyhow::Result<u64> {
    let counts = store.validation_counts(scope).await?;
    Ok(counts
        .get(ValidationState::Undefined.as_str())
        .copied()
        .unwrap_or(0)
        .max(0) as u64)
}

/// What one instance did in a run.
#[derive(Debug, Default)]
struct Tally {
    validated: u64,
    changed_meanwhile: u64,
    errors: Vec<String>,
    load_seconds: f64,
    validate_seconds: f64,
    save_seconds: f64,
}

impl Tally {
    /// Copies the counts and times into a report.
    fn add_to(&self, report: &mut JobReport) {
        report.validated = self.validated;
        report.changed_meanwhile = self.changed_meanwhile;
        report.errors = self.errors.clone();
        report.load_seconds = self.load_seconds;
        report.validate_seconds = self.validate_seconds;
        report.save_seconds = self.save_seconds;
    }
}

/// A batch validated, ready to be stored.
struct Validated {
    results: Vec<PreparedResult>,
    failures: Vec<RecordFailure>,
    seconds: f64,
}

/// One instance's part in a run: claims batches and stores their results.
struct Share<'a> {
    store: &'a dyn Store,
    tree: Arc<DomainTree>,
    public_url: Arc<str>,
    scope: &'a [i64],
    me: Participant,
    clock: &'a Clock,
    batch: i64,
    worker: bool,
    total: u64,
    progress: &'a (dyn Fn(u64, u64) + Sync),
}

impl Share<'_> {
    /// Claims, validates and stores batches until nothing claimable is left, validating
    /// one batch while the previous one is stored and the next one claimed: at most
    /// three batches in memory.
    async fn take(&self, tally: &mut Tally) -> anyhow::Result<()> {
        let mut after = 0;
        let mut next = self.claim(tally, &mut after, false).await?;
        let mut pending: Option<(HeldRecords, Validated)> = None;
        while !next.tasks.is_empty() {
            let Claim { tasks, held } = next;
            let validating = self.spawn_validation(tasks);
            if let Some((held, validated)) = pending.take() {
                self.save(tally, held, validated).await?;
            }
            next = self.claim(tally, &mut after, false).await?;
            let validated = validating.await?;
            tally.validate_seconds += validated.seconds;
            pending = Some((held, validated));
        }
        if let Some((held, validated)) = pending {
            self.save(tally, held, validated).await?;
        }
        Ok(())
    }

    /// The coordinator on PostgreSQL, after its share: waits for the records other
    /// instances still hold, and takes over those left undefined (a worker that died
    /// freed its records when its transaction aborted). One batch at a time: a claim
    /// that waits must not wait for this instance's own uncommitted batch.
    async fn sweep(&self, tally: &mut Tally) -> anyhow::Result<()> {
        let mut after = 0;
        loop {
            let Claim { tasks, held } = self.claim(tally, &mut after, true).await?;
            if tasks.is_empty() {
                return Ok(());
            }
            let validated = self.spawn_validation(tasks).await?;
            tally.validate_seconds += validated.seconds;
            self.save(tally, held, validated).await?;
        }
    }

    /// Claims the next batch after `after`, and moves `after` past it.
    async fn claim(&self, tally: &mut Tally, after: &mut i64, wait: bool) -> anyhow::Result<Claim> {
        let timer = Instant::now();
        let claim = self
            .store
            .claim(&ClaimRequest {
                domain_ids: self.scope,
                run_id: self.me.run_id,
                after: *after,
                limit: self.batch,
                wait,
                worker: self.worker,
            })
            .await?;
        if let Some(last) = claim.tasks.last() {
            *after = last.record_id;
        }
        tally.load_seconds += timer.elapsed().as_secs_f64();
        Ok(claim)
    }

    /// Validates a batch on the blocking threads (rayon inside).
    fn spawn_validation(
        &self,
        tasks: Vec<ClaimedTask>,
    ) -> impl std::future::Future<Output = anyhow::Result<Validated>> {
        let tree = self.tree.clone();
        let public_url = self.public_url.clone();
        let handle =
            tokio::task::spawn_blocking(move || validate_batch(&tasks, &tree, &public_url));
        async move { Ok(handle.await?) }
    }

    /// Stores a validated batch and reports progress.
    async fn save(
        &self,
        tally: &mut Tally,
        held: HeldRecords,
        validated: Validated,
    ) -> anyhow::Result<()> {
        let timer = Instant::now();
        let outcome = self
            .store
            .save_claimed(
                held,
                &validated.results,
                &validated.failures,
                Some(self.me),
                self.clock.now(),
            )
            .await?;
        tally.save_seconds += timer.elapsed().as_secs_f64();
        tally.validated += outcome.saved;
        tally.changed_meanwhile += outcome.changed_meanwhile;
        tally
            .errors
            .extend(validated.failures.into_iter().map(|f| f.message));
        let done = outcome
            .run_validated
            .map_or(tally.validated, |n| n.max(0) as u64);
        (self.progress)(done, self.total);
        Ok(())
    }
}

/// Repairs and validates a batch in parallel, and prepares the results for storing.
fn validate_batch(tasks: &[ClaimedTask], tree: &DomainTree, public_url: &str) -> Validated {
    let timer = Instant::now();
    let outcomes: Vec<Result<PreparedResult, RecordFailure>> = tasks
        .par_iter()
        .map(|claimed| {
            claimed
                .task()
                .map_err(anyhow::Error::from)
                .and_then(|task| {
                    validate_record(&task, tree, public_url).map(|r| prepare(r, claimed, &task))
                })
                .map_err(|e| RecordFailure {
                    record_id: claimed.record_id,
                    message: format!("{}: {e:#}", claimed.local_id),
                })
        })
        .collect();
    let mut validated = Validated {
        results: Vec::with_capacity(outcomes.len()),
        failures: Vec::new(),
        seconds: 0.0,
    };
    for outcome in outcomes {
        match outcome {
            Ok(result) => validated.results.push(result),
            Err(failure) => validated.failures.push(failure),
        }
    }
    validated.seconds = timer.elapsed().as_secs_f64();
    validated
}

/// A validated record's result ready to be stored for `claimed`, compressed on this
/// thread.
pub fn prepare(
    result: ValidationResult,
    claimed: &ClaimedTask,
    task: &ValidationTask,
) -> PreparedResult {
    match result.repaired {
        None => PreparedResult::as_stored(claimed, result.outcome, &task.mets),
        Some((zmets, zmods)) => {
            PreparedResult::repaired(claimed, result.outcome, &zmets, zmods.as_deref())
        }
    }
}
