//! Validating one record as the OaiOutputValidator does, with no database and on any
//! thread: the stored METS is validated, repaired, and — when a repair changed it —
//! validated again as the zmets harvesters receive. The job calls it for every claimed
//! record; anything else that needs one record's verdict (diagnostics, a synchronous
//! check) calls the same function.

use super::mets_document;
use super::rule_sets::{qualified_rule, RuleSets};
use crate::domain::{
    DomainTree, StoredFinding, StoredRepair, ValidationOutcome, ValidationState, ValidationTask,
};
use crate::repair::{repair_in_place, serialize, RepairContext};
use crate::schematron::{Class, Finding, Report, Verdict};
use anyhow::Context as _;
use libxml::tree::Document;

/// The outcome of validating one record, with its zmets/zmods renderings.
#[derive(Debug, Clone)]
pub struct ValidationResult {
    /// State, reason, findings and repairs.
    pub outcome: ValidationOutcome,
    /// The repaired METS (zmets) and its MODS (zmods), uncompressed; `None` when no
    /// repair changed the METS: the zmets is the METS as stored, its zmods the MODS
    /// stored with it.
    pub repaired: Option<(Vec<u8>, Option<Vec<u8>>)>,
}

/// The state a record takes for the verdict on what harvesters receive.
fn state_of(verdict: Verdict) -> ValidationState {
    match verdict {
        Verdict::Valid => ValidationState::Valid,
        Verdict::ValidWarn => ValidationState::ValidWarn,
        Verdict::Invalid => ValidationState::Invalid,
    }
}

/// One rule set's findings on one document.
#[derive(Clone)]
struct SetFindings {
    rule_set: String,
    report: Report,
}

/// Every rule set's findings on `doc`, in the configured order.
fn validate_with(rules: &RuleSets, doc: &Document) -> Vec<SetFindings> {
    rules
        .sets()
        .iter()
        .map(|set| SetFindings {
            rule_set: set.name.clone(),
            report: set.schema.validate(doc),
        })
        .collect()
}

/// The findings of every set with their set's name.
fn tagged(found: &[SetFindings]) -> impl Iterator<Item = (&str, &Finding)> {
    found.iter().flat_map(|s| {
        s.report
            .findings
            .iter()
            .map(move |f| (s.rule_set.as_str(), f))
    })
}

/// Repairs and validates one record (no database, any thread) with the rule sets of its
/// domain (`jobs.oai_output_validator.rules`): its state is `invalid` when any set
/// reports an error-class finding (role `fatal` or `error`), `valid_warn` when the sets
/// report only warn- or info-class ones, `valid` when none reports anything.
pub fn validate_record(
    task: &ValidationTask,
    tree: &DomainTree,
    public_url: &str,
) -> anyhow::Result<ValidationResult> {
    let rules = RuleSets::load(&tree.validation_rules(task.domain_id)).with_context(|| {
        format!(
            "the rule sets of domain {} do not load",
            tree.by_id(task.domain_id)
                .map_or_else(|| task.domain_id.to_string(), |d| d.name.to_string())
        )
    })?;
    let domain_config = tree.config(task.domain_id);
    let endpoint = format!(
        "{}{}",
        public_url.trim_end_matches('/'),
        tree.by_id(task.domain_id)
            .map_or_else(|| "/oai".to_string(), |d| d.endpoint_path())
    );
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
    let before = validate_with(&rules, &doc);
    let (repairs, mut doc) = repair_in_place(doc, &context).context("repair failed")?;
    // Without repairs zmods is the MODS stored with the METS (`zmods: None`).
    let (after, repaired) = if repairs.is_empty() {
        (before.clone(), None)
    } else {
        let zmets = serialize(&mut doc).context("repair failed")?;
        drop(doc);
        let reparsed = crate::xml::parse(&zmets, Default::default())?;
        let zmods = crate::formats::mets::primary_mods_of(&reparsed)
            .ok()
            .flatten()
            .map(String::into_bytes);
        (validate_with(&rules, &reparsed), Some((zmets, zmods)))
    };
    let same = |(sa, a): (&str, &Finding), (sb, b): (&str, &Finding)| {
        sa == sb && a.rule_id == b.rule_id && a.location == b.location
    };
    let stored = |(set, f): (&str, &Finding), stage: &str, repaired: bool| StoredFinding {
        stage: stage.to_string(),
        rule_set: set.to_string(),
        rule_id: f.rule_id.to_string(),
        class: f.class.as_str().to_string(),
        role: f.role.as_deref().map(str::to_string),
        message: f.message.clone(),
        location: f.location.clone(),
        repaired,
    };
    let mut findings: Vec<StoredFinding> = tagged(&before)
        .map(|f| stored(f, "before", !tagged(&after).any(|a| same(a, f))))
        .collect();
    findings.extend(
        tagged(&after)
            .filter(|a| !tagged(&before).any(|f| same(*a, f)))
            .map(|a| stored(a, "after", false)),
    );
    let verdict = verdict_of(&after);
    let deciding = |class: Class| {
        let mut ids: Vec<String> = tagged(&after)
            .filter(|(_, f)| f.class == class)
            .map(|(set, f)| qualified_rule(set, &f.rule_id))
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
    let outcome = ValidationOutcome {
        record_id: task.record_id,
        revision: task.revision,
        state: state_of(verdict),
        reason,
        rule_set_version: rules.version().to_string(),
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
    Ok(ValidationResult { outcome, repaired })
}

/// The verdict of every set together: the worst class any of them found.
fn verdict_of(found: &[SetFindings]) -> Verdict {
    let verdicts: Vec<Verdict> = found.iter().map(|s| s.report.verdict()).collect();
    if verdicts.contains(&Verdict::Invalid) {
        Verdict::Invalid
    } else if verdicts.contains(&Verdict::ValidWarn) {
        Verdict::ValidWarn
    } else {
        Verdict::Valid
    }
}
