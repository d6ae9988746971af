//! Validating one record as the OaiOutputValidator does, with no database and on any
//! thread: the stored METS is validated, repaired, and — when a repair changed it —
//! validated again as the zmets harvesters receive. The job calls it for every claimed
//! record; anything else that needs one record's verdict (diagnostics, a synchronous
//! check) calls the same function.

use super::{mets_document, zvdd, ZVDD_RULES};
use crate::domain::{
    DomainTree, StoredFinding, StoredRepair, ValidationOutcome, ValidationState, ValidationTask,
};
use crate::repair::{repair_in_place, serialize, RepairContext};
use crate::schematron::{Class, Finding, Verdict};
use anyhow::Context as _;
use std::sync::OnceLock;

/// The version of the bundled rule set: the first 12 hex digits of its SHA-256.
pub fn rule_set_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(ZVDD_RULES.as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
}

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

/// Repairs and validates one record (no database, any thread).
pub fn validate_record(
    task: &ValidationTask,
    tree: &DomainTree,
    public_url: &str,
) -> anyhow::Result<ValidationResult> {
    let schema = zvdd().context("the ZVDD rules do not compile")?;
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
    let before = schema.validate(&doc);
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
        (schema.validate(&reparsed), Some((zmets, zmods)))
    };
    let same = |a: &Finding, b: &Finding| a.rule_id == b.rule_id && a.location == b.location;
    let stored = |f: &Finding, stage: &str, repaired: bool| StoredFinding {
        stage: stage.to_string(),
        rule_id: f.rule_id.to_string(),
        class: f.class.as_str().to_string(),
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
    let outcome = ValidationOutcome {
        record_id: task.record_id,
        revision: task.revision,
        state: state_of(verdict),
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
    Ok(ValidationResult { outcome, repaired })
}
