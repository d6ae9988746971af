//! Output of `vitrine validate`: human text grouped by class, JSON, and SVRL.

use super::report::{Class, Report};
use serde_json::json;
use std::io::{self, Write};

/// Writes findings grouped as errors, warnings and infos (rule id, message, location),
/// ending with the verdict line for `file`.
pub fn write_text(out: &mut impl Write, file: &str, report: &Report) -> io::Result<()> {
    for (class, heading) in [
        (Class::Error, "errors"),
        (Class::Warn, "warnings"),
        (Class::Info, "infos"),
    ] {
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.class == class)
            .collect();
        if findings.is_empty() {
            continue;
        }
        writeln!(out, "{file}: {heading}:")?;
        for f in findings {
            writeln!(out, "  [{}] {}", f.rule_id, f.message)?;
            if !f.location.is_empty() {
                writeln!(out, "      at {}", f.location)?;
            }
            for d in &f.diagnostics {
                writeln!(out, "      ({}) {}", d.id, d.text)?;
            }
        }
    }
    writeln!(
        out,
        "{file}: {} ({} errors, {} warnings, {} infos)",
        report.verdict(),
        report.count(Class::Error),
        report.count(Class::Warn),
        report.count(Class::Info)
    )
}

/// `{"file": …, "verdict": …, "findings": […]}`.
pub fn to_json(file: &str, report: &Report) -> serde_json::Value {
    json!({
        "file": file,
        "verdict": report.verdict(),
        "findings": report.findings,
    })
}

pub use super::svrl::to_svrl;
