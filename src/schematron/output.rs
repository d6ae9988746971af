//! Output of `vitrine validate` for programs: JSON and SVRL (the text for people is
//! `validation::text`).

use super::report::Report;
use serde_json::json;

/// `{"file": …, "verdict": …, "findings": […]}`.
pub fn to_json(file: &str, report: &Report) -> serde_json::Value {
    json!({
        "file": file,
        "verdict": report.verdict(),
        "findings": report.findings,
    })
}

pub use super::svrl::to_svrl;
