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
//! point and the next run picks up what is left.

use crate::config::Config;
use crate::domain::DomainTree;
use crate::repair::{repair_in_place, serialize, RepairContext};
use crate::schematron::{Class, Finding, Verdict};
use crate::store::{Store, StoredFinding, StoredRepair, ValidationResult, ValidationTask};
use crate::validation::{mets_document, zvdd, ZVDD_RULES};
use anyhow::{bail, Context};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The job's name in job lists.
pub const JOB: &str = "OaiOutputValidator";
/// Records validated per batch (one transaction each).
const BATCH: i64 = 128;

/// How the job is started.
#[derive(Debug, Clone)]
pub struct Options {
    /// Domain to start on.
    pub domain: String,
    /// Revalidate every record in scope.
    pub full: bool,
    /// Who or what started it.
    pub started_by: String,
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

/// What a run did.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct JobReport {
    /// Run id.
    pub run_id: i64,
    /// Domain started on.
    pub domain: String,
    /// Domains covered.
    pub scope: Vec<String>,
    /// Whether every record was revalidated.
    pub full: bool,
    /// Records per state before.
    pub before: BTreeMap<String, i64>,
    /// Records per state after.
    pub after: BTreeMap<String, i64>,
    /// Records validated and stored.
    pub validated: u64,
    /// Records that changed while being validated (left `undefined` for the next run).
    pub changed_meanwhile: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Records per second.
    pub records_per_second: f64,
    /// Per rule: class, occurrences, repaired.
    pub rules: BTreeMap<String, RuleStats>,
    /// Repairs applied per rule.
    pub repairs: BTreeMap<String, u64>,
    /// Records that could not be validated, with the reason.
    pub errors: Vec<String>,
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

/// Runs the job to the end. `progress(done, total)` is called after every batch.
pub async fn run(
    store: Arc<dyn Store>,
    tree: Arc<DomainTree>,
    config: &Config,
    options: &Options,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<JobReport> {
    zvdd().map_err(|e| anyhow::anyhow!("the ZVDD rules do not compile: {e}"))?;
    let domain = tree
        .by_name(&options.domain)
        .with_context(|| format!("no domain {}", options.domain))?
        .clone();
    let scope: Vec<i64> = tree.zmets_scope(domain.id);
    if scope.is_empty() {
        bail!(
            "zmets is switched on in none of the domains under {}; \
             switch it on with `vitrine domain set {} oai.formats.zmets.on true`",
            domain.name,
            domain.name
        );
    }
    // One run per domain at a time, across every instance sharing the database.
    let _lock = store
        .try_job_lock(&format!("{JOB}:zmets:{}", domain.name))
        .await?
        .with_context(|| format!("{JOB} is running on {} already", domain.name))?;
    let earlier = store.job_runs(Some(domain.id)).await?;
    let full = options.full
        || !earlier
            .iter()
            .any(|r| r.job == JOB && r.status == "finished");
    let started = std::time::Instant::now();
    let now = chrono::Utc::now().timestamp();
    let run_id = store
        .start_job_run(JOB, "zmets", domain.id, &options.started_by, full, now)
        .await?;
    let mut report = JobReport {
        run_id,
        domain: domain.name.to_string(),
        scope: scope
            .iter()
            .filter_map(|id| tree.by_id(*id).map(|d| d.name.to_string()))
            .collect(),
        full,
        ..JobReport::default()
    };
    let outcome =
        validate_scope(store.as_ref(), &tree, config, &scope, &mut report, progress).await;
    report.seconds = started.elapsed().as_secs_f64();
    report.records_per_second = report.validated as f64 / report.seconds.max(1e-9);
    let status = if outcome.is_ok() {
        "finished"
    } else {
        "failed"
    };
    if let Err(e) = &outcome {
        report.errors.push(format!("run failed: {e:#}"));
    }
    let json = serde_json::to_string(&report)?;
    store
        .finish_job_run(
            run_id,
            status,
            report.validated as i64,
            &json,
            chrono::Utc::now().timestamp(),
        )
        .await?;
    outcome.map(|_| report)
}

async fn validate_scope(
    store: &dyn Store,
    tree: &Arc<DomainTree>,
    config: &Config,
    scope: &[i64],
    report: &mut JobReport,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<()> {
    report.before = store.validation_counts(scope).await?;
    // Full: every record in scope. Incremental: the changed records are `undefined`
    // already; their parents and children join them.
    store.mark_undefined(scope, report.full).await?;
    let total = store
        .validation_counts(scope)
        .await?
        .get("undefined")
        .copied()
        .unwrap_or(0) as u64;
    let mut after_id = 0;
    loop {
        let tasks = store.undefined_records(scope, after_id, BATCH).await?;
        let Some(last) = tasks.last() else { break };
        after_id = last.record_id;
        let tree = tree.clone();
        let public_url = config.server.public_url.clone();
        let outcomes = tokio::task::spawn_blocking(move || {
            tasks
                .par_iter()
                .map(|task| {
                    validate_task(task, &tree, &public_url).map_err(|e| (task.local_id.clone(), e))
                })
                .collect::<Vec<_>>()
        })
        .await?;
        let mut results = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            match outcome {
                Ok(result) => results.push(result),
                Err((local_id, e)) => report.errors.push(format!("{local_id}: {e:#}")),
            }
        }
        for r in &results {
            for f in r.findings.iter().filter(|f| f.stage == "before") {
                let stats = report.rules.entry(f.rule_id.clone()).or_default();
                stats.class = f.class.clone();
                stats.occurrences += 1;
                stats.repaired += u64::from(f.repaired);
            }
            for rep in &r.repairs {
                *report.repairs.entry(rep.rule_id.clone()).or_default() += 1;
            }
        }
        let saved = store
            .save_validations(&results, chrono::Utc::now().timestamp())
            .await?;
        report.validated += saved;
        report.changed_meanwhile += results.len() as u64 - saved;
        progress(report.validated, total);
    }
    report.after = store.validation_counts(scope).await?;
    Ok(())
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
    let (after, zmets, zmets_doc) = if repairs.is_empty() {
        (before.clone(), task.mets.clone(), doc)
    } else {
        let zmets = serialize(&mut doc).map_err(|e| anyhow::anyhow!("repair failed: {e}"))?;
        drop(doc);
        let reparsed = crate::xml::parse(&zmets, Default::default())?;
        (schema.validate(&reparsed), zmets, reparsed)
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
    let zmods = crate::formats::mets::primary_mods_of(&zmets_doc)
        .ok()
        .flatten()
        .map(String::into_bytes);
    Ok(ValidationResult {
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
        zmets,
        zmods,
    })
}
