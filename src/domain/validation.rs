//! What validating one record works on and decides, as plain data: the record to
//! validate, and its outcome (state, reason, findings, repairs). The validation layer
//! produces it, the store keeps it, `diag=true` shows it.

/// A record waiting for validation, with what the repairs need.
#[derive(Debug, Clone)]
pub struct ValidationTask {
    /// Record id.
    pub record_id: i64,
    /// Domain id.
    pub domain_id: i64,
    /// Local id.
    pub local_id: String,
    /// The record's revision when claimed: a result is stored only if the record did not
    /// change since.
    pub revision: i64,
    /// The METS as stored (uncompressed).
    pub mets: Vec<u8>,
    /// Title of the parent record, when linked.
    pub parent_title: Option<String>,
}

/// One stored finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    /// `before` (in the METS as stored) or `after` (only in the repaired zmets).
    pub stage: String,
    /// The rule set that reported it: `zvdd` (the bundled one) or the name of another
    /// (its file name without `.sch`).
    pub rule_set: String,
    /// Rule id.
    pub rule_id: String,
    /// `error`, `warn` or `info`.
    pub class: String,
    /// The rule's `@role` as written (`fatal`, `warn`, …), if it has one.
    pub role: Option<String>,
    /// Message.
    pub message: String,
    /// XPath of the node.
    pub location: String,
    /// Whether a repair of the zmets fixed it.
    pub repaired: bool,
}

/// One stored repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRepair {
    /// Rule answered.
    pub rule_id: String,
    /// XPath of the changed node.
    pub xpath: String,
    /// Before.
    pub before: String,
    /// After.
    pub after: String,
}

/// What validating one record decided: its state and why, every finding and repair.
#[derive(Debug, Clone)]
pub struct ValidationOutcome {
    /// Record id.
    pub record_id: i64,
    /// The record's revision seen when claimed.
    pub revision: i64,
    /// `invalid`, `valid_warn` or `valid`.
    pub state: super::ValidationState,
    /// Classes and rule ids that decided the state.
    pub reason: String,
    /// The version of the rule sets it was validated with (`zvdd@1a2b3c4d5e6f+…`).
    pub rule_set_version: String,
    /// Every finding.
    pub findings: Vec<StoredFinding>,
    /// Every repair.
    pub repairs: Vec<StoredRepair>,
}
