//! The OaiOutputValidator job (mode `zmets`): validates exactly the zmets harvesters
//! receive — the stored METS after the ZVDD repairs — with the bundled rule set, and
//! stores per record the zmods_validation state, every finding (and whether a repair
//! fixed it), every repair, and the zmets/zmods renderings (SPEC §5).
//!
//! Scope: the domain it is started on and every descendant with `oai.formats.zmets.on`.
//! A first run (or `--full`) sets every record in scope to `undefined`; later runs take
//! the records whose METS or release changed since (they are `undefined` already) plus
//! their parents and children. Results are stored in batches; a record is only updated
//! if it did not change while it was validated, so a run can be stopped or killed at any
//! point and the next run picks up what is left. A run found still `running` by the next
//! one is dead and is marked `killed`.
//!
//! One run per domain at a time, cluster-wide: the instance that gets the job's lock
//! coordinates the run. On PostgreSQL, an instance that does not get it joins the run as
//! a worker: both claim batches of records with `FOR UPDATE SKIP LOCKED` until none is
//! left; the coordinator then waits for the records others still hold, takes over any a
//! dead worker left, and writes the report. Each instance validates one batch while it
//! stores the previous one and claims the next.

use crate::config::Config;
use crate::domain::{Domain, DomainTree};
use crate::repair::{repair_in_place, serialize, RepairContext};
use crate::schematron::{Class, Finding, Verdict};
use crate::store::{
    Claim, ClaimRequest, ClaimedTask, HeldRecords, JobRun, JobRunInstance, Participant,
    PreparedResult, RecordFailure, Store, StoredFinding, StoredRepair, ValidationOutcome,
    ValidationResult, ValidationTask,
};
use crate::validation::{mets_document, zvdd, ZVDD_RULES};
use anyhow::{bail, Context};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

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
}

impl Options {
    /// An incremental run of `domain` with the default batch size and join wait.
    pub fn new(domain: &str, started_by: &str) -> Options {
        Options {
            domain: domain.to_string(),
            full: false,
            started_by: started_by.to_string(),
            batch_size: BATCH,
            join_wait: JOIN_WAIT,
            instance: instance_name(),
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

/// Findings and repairs of one rule over a run.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct RuleStats {
    /// error, warn or info.
    pub class: String,
    /// Findings in the METS as stored.
    pub occurrences: u64,
    /// Of those, how many a repair fixed.
    pub repaired: u64,
}

/// What one instance did in a run.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct InstanceReport {
    /// `host:pid`.
    pub instance: String,
    /// `coordinator` or `worker`.
    pub role: String,
    /// Results it stored.
    pub validated: u64,
    /// Results it dropped because the record changed meanwhile.
    pub changed_meanwhile: u64,
    /// Whether it finished (a worker that died did not).
    pub finished: bool,
}

impl From<JobRunInstance> for InstanceReport {
    fn from(i: JobRunInstance) -> Self {
        InstanceReport {
            instance: i.instance,
            role: i.role,
            validated: i.validated.max(0) as u64,
            changed_meanwhile: i.changed_meanwhile.max(0) as u64,
            finished: i.finished_at.is_some(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct JobReport {
    /// Run id (0: there was no run to join).
    pub run_id: i64,
    /// Domain started on.
    pub domain: String,
    /// Domains covered.
    pub scope: Vec<String>,
    /// Whether every record was revalidated.
    pub full: bool,
    /// `coordinator` (this instance ran the job) or `worker` (it joined a run another
    /// instance coordinates; the counts are its own).
    #[serde(default)]
    pub role: String,
    /// This instance.
    #[serde(default)]
    pub instance: String,
    /// Records per state before.
    pub before: BTreeMap<String, i64>,
    /// Records per state after.
    pub after: BTreeMap<String, i64>,
    /// Records validated and stored (by every instance, in a coordinator's report).
    pub validated: u64,
    /// Records that changed while being validated (left `undefined` for the next run).
    pub changed_meanwhile: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Records per second.
    pub records_per_second: f64,
    /// Of the wall time, seconds this instance spent repairing and validating (on the
    /// worker threads); the rest went to the database.
    #[serde(default)]
    pub validate_seconds: f64,
    /// Seconds spent claiming (loading) records, mostly while a batch was validated.
    #[serde(default)]
    pub load_seconds: f64,
    /// Seconds spent storing results, mostly while a batch was validated.
    #[serde(default)]
    pub save_seconds: f64,
    /// The instances that took part.
    #[serde(default)]
    pub instances: Vec<InstanceReport>,
    /// Earlier runs found still running at the start (dead), now marked killed.
    #[serde(default)]
    pub killed_runs: Vec<i64>,
    /// Per rule: class, occurrences, repaired.
    pub rules: BTreeMap<String, RuleStats>,
    /// Repairs applied per rule.
    pub repairs: BTreeMap<String, u64>,
    /// Records that could not be validated, with the reason.
    pub errors: Vec<String>,
}

impl JobReport {
    /// Whether this instance joined a run coordinated elsewhere.
    pub fn joined(&self) -> bool {
        self.role == "worker"
    }

    /// Seconds of the wall time in which this instance validated nothing: the
    /// database side (claims and stores not hidden behind validation, marking, counts).
    pub fn database_only_seconds(&self) -> f64 {
        (self.seconds - self.validate_seconds).max(0.0)
    }
}

/// The version of the bundled rule set: the first 12 hex digits of its SHA-256.
pub fn rule_set_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(ZVDD_RULES.as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
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
    zvdd().map_err(|e| anyhow::anyhow!("the ZVDD rules do not compile: {e}"))?;
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
    let job = Job {
        store: store.as_ref(),
        tree,
        public_url: config.server.public_url.as_str().into(),
        options,
        domain: &domain,
        scope: &scope,
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

/// The name of the job's lock for a domain.
fn lock_key(domain: &Domain) -> String {
    format!("{JOB}:zmets:{}", domain.name)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One start of the job on one instance.
struct Job<'a> {
    store: &'a dyn Store,
    tree: Arc<DomainTree>,
    public_url: Arc<str>,
    options: &'a Options,
    domain: &'a Domain,
    scope: &'a [i64],
    progress: &'a (dyn Fn(u64, u64) + Sync),
}

impl Job<'_> {
    /// A report with what is known before the run.
    fn report(&self, run_id: i64, full: bool, role: &str) -> JobReport {
        JobReport {
            run_id,
            domain: self.domain.name.to_string(),
            scope: self
                .scope
                .iter()
                .filter_map(|id| self.tree.by_id(*id).map(|d| d.name.to_string()))
                .collect(),
            full,
            role: role.to_string(),
            instance: self.options.instance.clone(),
            ..JobReport::default()
        }
    }

    /// What a claimant of the run shares.
    fn share(&self, me: Participant, worker: bool, total: u64) -> Share<'_> {
        Share {
            store: self.store,
            tree: self.tree.clone(),
            public_url: self.public_url.clone(),
            scope: self.scope,
            me,
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
            .kill_stale_job_runs(JOB, self.domain.id, now())
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
                now(),
            )
            .await?;
        let me = self
            .store
            .join_job_run(run_id, &self.options.instance, "coordinator", now())
            .await?;
        let mut report = self.report(run_id, full, "coordinator");
        report.killed_runs = killed;
        let mut tally = Tally::default();
        let mut outcome = self.validate_scope(me, &mut report, &mut tally).await;
        tally.add_to(&mut report);
        self.store.leave_job_run(me, now()).await?;
        match summarize(self.store, run_id, &mut report).await {
            Err(e) if outcome.is_ok() => outcome = Err(e),
            _ => {}
        }
        report.seconds = started.elapsed().as_secs_f64();
        report.records_per_second = report.validated as f64 / report.seconds.max(1e-9);
        if let Err(e) = &outcome {
            report.errors.push(format!("run failed: {e:#}"));
        }
        if let Err(e) = self.store.record_qa_snapshot(run_id, self.scope).await {
            report
                .errors
                .push(format!("the QA statistics were not kept: {e}"));
        }
        let status = if outcome.is_ok() {
            "finished"
        } else {
            "failed"
        };
        let json = serde_json::to_string(&report)?;
        self.store
            .finish_job_run(run_id, status, &json, now())
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
        // Full: every record in scope. Incremental: the changed records are `undefined`
        // already; their parents and children join them.
        store.mark_undefined(self.scope, report.full).await?;
        let total = undefined(store, self.scope).await?;
        store.set_job_phase(me.run_id, "validating").await?;
        let share = self.share(me, false, total);
        share.take(tally).await?;
        if store.shares_work() {
            store.set_job_phase(me.run_id, "sweeping").await?;
            share.sweep(tally).await?;
        }
        report.after = store.validation_counts(self.scope).await?;
        Ok(())
    }

    /// Joins the run another instance coordinates and takes a share of its records.
    async fn join(&self) -> anyhow::Result<JobReport> {
        let started = Instant::now();
        let Some(run) = self.run_to_join().await? else {
            let mut report = self.report(0, false, "worker");
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        };
        let me = self
            .store
            .join_job_run(run.id, &self.options.instance, "worker", now())
            .await?;
        let total = undefined(self.store, self.scope).await?;
        let mut tally = Tally::default();
        let outcome = self.share(me, true, total).take(&mut tally).await;
        self.store.leave_job_run(me, now()).await?;
        outcome?;
        let mut report = self.report(run.id, run.full_run, "worker");
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
                Some(run) if run.phase != "preparing" => return Ok(Some(run)),
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
    Ok(counts.get("undefined").copied().unwrap_or(0).max(0) as u64)
}

/// Fills a coordinator's report with what every instance stored: the run's counters,
/// the instances, the errors, and the per-rule figures.
async fn summarize(store: &dyn Store, run_id: i64, report: &mut JobReport) -> anyhow::Result<()> {
    let run = store
        .job_run(run_id)
        .await?
        .with_context(|| format!("job run {run_id} vanished"))?;
    report.validated = run.validated.max(0) as u64;
    let instances = store.job_run_instances(run_id).await?;
    report.changed_meanwhile = instances
        .iter()
        .map(|i| i.changed_meanwhile.max(0) as u64)
        .sum();
    report.instances = instances.into_iter().map(InstanceReport::from).collect();
    report.errors = store.job_run_errors(run_id).await?;
    let (rules, repairs) = store.job_run_rules(run_id).await?;
    report.rules = rules
        .into_iter()
        .map(|r| {
            let stats = RuleStats {
                class: r.class,
                occurrences: r.occurrences.max(0) as u64,
                repaired: r.repaired.max(0) as u64,
            };
            (r.rule_id, stats)
        })
        .collect();
    report.repairs = repairs
        .into_iter()
        .map(|(rule, n)| (rule, n.max(0) as u64))
        .collect();
    Ok(())
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
        let clock = Instant::now();
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
        tally.load_seconds += clock.elapsed().as_secs_f64();
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
        let clock = Instant::now();
        let outcome = self
            .store
            .save_claimed(
                held,
                &validated.results,
                &validated.failures,
                Some(self.me),
                now(),
            )
            .await?;
        tally.save_seconds += clock.elapsed().as_secs_f64();
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
    let clock = Instant::now();
    let outcomes: Vec<Result<PreparedResult, RecordFailure>> = tasks
        .par_iter()
        .map(|claimed| {
            claimed
                .task()
                .map_err(anyhow::Error::from)
                .and_then(|task| validate_task(&task, tree, public_url))
                .map(|result| PreparedResult::for_claimed(result, claimed))
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
    validated.seconds = clock.elapsed().as_secs_f64();
    validated
}

fn class_name(class: Class) -> &'static str {
    match class {
        Class::Error => "error",
        Class::Warn => "warn",
        Class::Info => "info",
    }
}

/// Repairs and validates one record (no database, any thread).
pub fn validate_task(
    task: &ValidationTask,
    tree: &DomainTree,
    public_url: &str,
) -> anyhow::Result<ValidationResult> {
    let schema = zvdd().map_err(|e| anyhow::anyhow!("{e}"))?;
    let domain_config = tree.config(task.domain_id);
    let endpoint = match tree.by_id(task.domain_id) {
        Some(d) if d.parent_id.is_some() => {
            format!("{}/{}/oai", public_url.trim_end_matches('/'), d.name)
        }
        _ => format!("{}/oai", public_url.trim_end_matches('/')),
    };
    let fill =
        |template: &Option<String>| template.as_ref().map(|t| t.replace("{id}", &task.local_id));
    let repository_identifier = tree.repository_identifier(task.domain_id);
    let context = RepairContext {
        local_id: &task.local_id,
        record_identifier_source: domain_config.record_identifier_source.as_deref(),
        institution: &domain_config.institution,
        oai_base_url: &endpoint,
        repository_identifier: &repository_identifier,
        presentation_url: fill(&domain_config.presentation_url),
        reference_url: fill(&domain_config.reference_url),
        parent_title: task.parent_title.as_deref(),
    };
    // One parse: the stored METS is validated, then repaired in place. Only a METS that
    // a repair changed is serialised and validated again, from the zmets bytes
    // harvesters receive; without repairs the zmets is the stored METS itself, and its
    // findings are those just found.
    let doc = mets_document(&task.mets, Default::default())?;
    let before = schema.validate(&doc);
    let (repairs, mut doc) =
        repair_in_place(doc, &context).map_err(|e| anyhow::anyhow!("repair failed: {e}"))?;
    // Without repairs zmods is the MODS stored with the METS (`zmods: None`).
    let (after, zmets, zmods) = if repairs.is_empty() {
        (before.clone(), task.mets.clone(), None)
    } else {
        let zmets = serialize(&mut doc).map_err(|e| anyhow::anyhow!("repair failed: {e}"))?;
        drop(doc);
        let reparsed = crate::xml::parse(&zmets, Default::default())?;
        let zmods = crate::formats::mets::primary_mods_of(&reparsed)
            .ok()
            .flatten()
            .map(String::into_bytes);
        (schema.validate(&reparsed), zmets, zmods)
    };
    let same = |a: &Finding, b: &Finding| a.rule_id == b.rule_id && a.location == b.location;
    let stored = |f: &Finding, stage: &str, repaired: bool| StoredFinding {
        stage: stage.to_string(),
        rule_id: f.rule_id.to_string(),
        class: class_name(f.class).to_string(),
        message: f.message.clone(),
        location: f.location.clone(),
        repaired,
    };
    let mut findings: Vec<StoredFinding> = before
        .findings
        .iter()
        .map(|f| stored(f, "before", !after.findings.iter().any(|a| same(a, f))))
        .collect();
    findings.extend(
        after
            .findings
            .iter()
            .filter(|a| !before.findings.iter().any(|f| same(a, f)))
            .map(|a| stored(a, "after", false)),
    );
    let verdict = after.verdict();
    let deciding = |class: Class| {
        let mut ids: Vec<&str> = after
            .findings
            .iter()
            .filter(|f| f.class == class)
            .map(|f| &*f.rule_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.join(" ")
    };
    let reason = match verdict {
        Verdict::Invalid => format!("error: {}", deciding(Class::Error)),
        Verdict::ValidWarn => {
            let warn = deciding(Class::Warn);
            if warn.is_empty() {
                format!("info: {}", deciding(Class::Info))
            } else {
                format!("warn: {warn}")
            }
        }
        Verdict::Valid => String::new(),
    };
    let zmets_is_stored = repairs.is_empty();
    let outcome = ValidationOutcome {
        record_id: task.record_id,
        updated_at: task.updated_at,
        state: verdict.as_str().to_string(),
        reason,
        rule_set_version: rule_set_version().to_string(),
        findings,
        repairs: repairs
            .into_iter()
            .map(|r| StoredRepair {
                rule_id: r.rule_id,
                xpath: r.xpath,
                before: r.before,
                after: r.after,
            })
            .collect(),
    };
    Ok(ValidationResult {
        outcome,
        zmets,
        zmods,
        zmets_is_stored,
    })
}
