//! The text `vitrine validate` writes for people: findings grouped as errors, warnings
//! and infos with their short readable locations ([`super::location::short`]), and a
//! verdict line with counts in correct English (`1 error`, `2 warnings`).

use crate::schematron::{Class, Report};
use std::io::{self, Write};

/// `n` and the noun, singular for one: `1 error`, `0 errors`, `3 infos`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The verdict line for `file`: `file: invalid (1 error, 2 warnings, 0 infos)`.
pub fn verdict_line(file: &str, report: &Report) -> String {
    format!(
        "{file}: {} ({}, {}, {})",
        report.verdict(),
        count(report.count(Class::Error), "error"),
        count(report.count(Class::Warn), "warning"),
        count(report.count(Class::Info), "info"),
    )
}

/// Writes the findings of `file`, grouped by class (rule id, message, short location,
/// diagnostics); the verdict line is [`verdict_line`].
pub fn write_findings(out: &mut impl Write, file: &str, report: &Report) -> io::Result<()> {
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
                writeln!(out, "      at {}", super::location::short(&f.location))?;
            }
            for d in &f.diagnostics {
                writeln!(out, "      ({}) {}", d.id, d.text)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_of_a_kind_is_singular() {
        assert_eq!(count(1, "error"), "1 error");
        assert_eq!(count(0, "error"), "0 errors");
        assert_eq!(count(2, "info"), "2 infos");
    }
}
