//! What a validation found: [`Report`], its [`Finding`]s and the [`Verdict`].

use serde::Serialize;
use std::sync::Arc;

/// Whether a finding comes from a failed `assert` or a successful `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `sch:assert` whose test was false.
    Assert,
    /// `sch:report` whose test was true.
    Report,
}

/// Severity of a finding, derived from its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// fatal, error (and no role, by default).
    Error,
    /// caution, warn, warning.
    Warn,
    /// info, information, hint.
    Info,
}

impl Class {
    /// `error`, `warn` or `info`: the word a stored finding carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Error => "error",
            Class::Warn => "warn",
            Class::Info => "info",
        }
    }

    /// Reads a class as stored (`error`, `warn` or `info`); any other text is refused.
    pub fn parse(text: &str) -> Result<Class, crate::domain::InvalidValue> {
        match text {
            "error" => Ok(Class::Error),
            "warn" => Ok(Class::Warn),
            "info" => Ok(Class::Info),
            _ => Err(crate::domain::InvalidValue::new(
                "finding class",
                text,
                "not one of: error warn info",
            )),
        }
    }

    /// The class of a role (case-insensitive); `None` for roles with no known class.
    pub fn from_role(role: &str) -> Option<Class> {
        match role.trim().to_ascii_lowercase().as_str() {
            "fatal" | "error" => Some(Class::Error),
            "caution" | "warn" | "warning" => Some(Class::Warn),
            "info" | "information" | "hint" => Some(Class::Info),
            _ => None,
        }
    }
}

/// One failed assertion or successful report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The assert/report `@id`, else `pattern/rule-index/check-index` (1-based).
    pub rule_id: Arc<str>,
    /// Assert or report.
    pub kind: Kind,
    /// Severity.
    pub class: Class,
    /// The raw `@role` (of the check, else of its rule).
    pub role: Option<Arc<str>>,
    /// The `@flag`.
    pub flag: Option<Arc<str>>,
    /// The message, `value-of` and `name` evaluated, white space normalised.
    pub message: String,
    /// Where: the XPath of the context node, as the ISO skeleton (XSLT 1) writes it.
    pub location: String,
    /// The `@see`.
    pub see: Option<Arc<str>>,
    /// The pattern `@id`.
    pub pattern: Option<Arc<str>>,
    /// The rule context as written.
    pub context: Arc<str>,
    /// The test as written.
    pub test: Arc<str>,
    /// The referenced diagnostics, evaluated.
    pub diagnostics: Vec<Diagnostic>,
    /// Index into [`Report::fired_rules`] of the firing this finding belongs to.
    #[serde(skip)]
    pub fired_rule: usize,
}

/// A `diagnostic` referenced by a finding, evaluated in the rule context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// The diagnostic `@id`.
    pub id: Arc<str>,
    /// Its text, white space normalised.
    pub text: String,
}

/// A rule that fired on a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FiredRule {
    /// Index into [`Report::active_patterns`].
    pub pattern: usize,
    /// The rule context as written.
    pub context: Arc<str>,
    /// The rule `@id`.
    pub id: Option<Arc<str>>,
}

/// A pattern that was active.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivePattern {
    /// The pattern `@id`.
    pub id: Option<Arc<str>>,
    /// Its title (or id).
    pub name: Option<Arc<str>>,
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No findings.
    Valid,
    /// Findings, none of class error.
    ValidWarn,
    /// At least one finding of class error.
    Invalid,
}

impl Verdict {
    /// `valid`, `valid_warn` or `invalid`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::ValidWarn => "valid_warn",
            Verdict::Invalid => "invalid",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of validating one document against one or more schemas.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Findings, per pattern in document order.
    pub findings: Vec<Finding>,
    /// Every rule firing, per pattern in document order.
    pub fired_rules: Vec<FiredRule>,
    /// The patterns that ran.
    pub active_patterns: Vec<ActivePattern>,
    /// Namespace bindings of the schema(s), for SVRL.
    pub namespaces: Vec<(String, String)>,
    /// Title of the (first) schema.
    pub title: Option<String>,
}

impl Report {
    /// `valid` (no findings), `valid_warn` (no errors) or `invalid`.
    pub fn verdict(&self) -> Verdict {
        if self.findings.iter().any(|f| f.class == Class::Error) {
            Verdict::Invalid
        } else if self.findings.is_empty() {
            Verdict::Valid
        } else {
            Verdict::ValidWarn
        }
    }

    /// Number of findings of `class`.
    pub fn count(&self, class: Class) -> usize {
        self.findings.iter().filter(|f| f.class == class).count()
    }

    /// Appends the report of another schema on the same document.
    pub fn merge(&mut self, other: Report) {
        let pattern_offset = self.active_patterns.len();
        let fired_offset = self.fired_rules.len();
        self.active_patterns.extend(other.active_patterns);
        self.fired_rules
            .extend(other.fired_rules.into_iter().map(|mut r| {
                r.pattern += pattern_offset;
                r
            }));
        self.findings
            .extend(other.findings.into_iter().map(|mut f| {
                f.fired_rule += fired_offset;
                f
            }));
        for ns in other.namespaces {
            if !self.namespaces.contains(&ns) {
                self.namespaces.push(ns);
            }
        }
        if self.title.is_none() {
            self.title = other.title;
        }
    }
}
