//! What a run of the OaiOutputValidator did, as shown by `vitrine job` and stored with
//! the run (JSON): counts before and after, timings, the instances and the rules.

use crate::domain::InstanceRole;
use crate::store::{JobRunInstance, Store};
use anyhow::Context as _;
use serde::Serialize;
use std::collections::BTreeMap;

/// Findings and repairs of one rule over a run.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct RuleStats {
    /// The rule set: `zvdd` (bundled) or another's name.
    #[serde(default = "bundled")]
    pub rule_set: String,
    /// The rule id within its set.
    #[serde(default)]
    pub rule_id: String,
    /// error, warn or info.
    pub class: String,
    /// The rule's `@role` as written, if any.
    #[serde(default)]
    pub role: Option<String>,
    /// One of its messages.
    #[serde(default)]
    pub message: String,
    /// Findings in the METS as stored.
    pub occurrences: u64,
    /// Of those, how many a repair fixed.
    pub repaired: u64,
}

/// The set of rules in reports stored before rule sets were named.
fn bundled() -> String {
    crate::domain::DEFAULT_RULE_SET.to_string()
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
            role: i.role.as_str().to_string(),
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
    /// Records whose stored results came from other rule sets (or other versions of
    /// them) than their domain's now, validated again.
    #[serde(default)]
    pub stale: u64,
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
    /// Per rule (a rule of the bundled set by its id, any other as `set:id`): rule set,
    /// class, role, a message, occurrences, repaired.
    pub rules: BTreeMap<String, RuleStats>,
    /// Repairs applied per rule.
    pub repairs: BTreeMap<String, u64>,
    /// Records that could not be validated, with the reason.
    pub errors: Vec<String>,
}

impl JobReport {
    /// Whether this instance joined a run coordinated elsewhere.
    pub fn joined(&self) -> bool {
        self.role == InstanceRole::Worker.as_str()
    }

    /// Seconds of the wall time in which this instance validated nothing: the
    /// database side (claims and stores not hidden behind validation, marking, counts).
    pub fn database_only_seconds(&self) -> f64 {
        (self.seconds - self.validate_seconds).max(0.0)
    }
}

/// Fills a coordinator's report with what every instance stored: the run's counters,
/// the instances, the errors, and the per-rule figures.
pub(super) async fn summarize(
    store: &dyn Store,
    run_id: i64,
    report: &mut JobReport,
) -> anyhow::Result<()> {
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
            let key = crate::validation::rule_sets::qualified_rule(&r.rule_set, &r.rule_id);
            let stats = RuleStats {
                rule_set: r.rule_set,
                rule_id: r.rule_id,
                class: r.class,
                role: r.role,
                message: r.message,
                occurrences: r.occurrences.max(0) as u64,
                repaired: r.repaired.max(0) as u64,
            };
            (key, stats)
        })
        .collect();
    report.repairs = repairs
        .into_iter()
        .map(|(rule, n)| (rule, n.max(0) as u64))
        .collect();
    Ok(())
}
