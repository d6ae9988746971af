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
    use super::{count, verdict_line, write_findings};
    use crate::schematron::{CompileOptions, Schema};

    #[test]
    fn findings_are_grouped_by_class_and_the_verdict_counts_them() {
        let schema = Schema::compile(
            br#"<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt1">
              <ns prefix="m" uri="urn:m"/>
              <pattern><rule context="m:div">
                <assert id="dmd" role="warn" test="@DMDID" diagnostics="d">no DMDID on <value-of select="@ID"/></assert>
              </rule></pattern>
              <pattern><rule context="/m:root"><report id="obj" role="info" test="@OBJID">OBJID <value-of select="@OBJID"/></report></rule></pattern>
              <diagnostics><diagnostic id="d">TYPE <value-of select="@TYPE"/></diagnostic></diagnostics>
            </schema>"#,
            &CompileOptions::default(),
        )
        .unwrap();
        let report = schema
            .validate_bytes(
                br#"<root xmlns="urn:m" OBJID="o1"><div ID="L2" TYPE="chapter"/></root>"#,
            )
            .unwrap();
        let mut out = Vec::new();
        write_findings(&mut out, "a.xml", &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        let warn = text
            .find("a.xml: warnings:\n  [dmd] no DMDID on L2\n")
            .expect(&text);
        let info = text.find("a.xml: infos:\n  [obj] OBJID o1\n").expect(&text);
        assert!(warn < info, "{text}");
        assert!(text.contains("      (d) TYPE chapter\n"), "{text}");
        assert_eq!(
            verdict_line("a.xml", &report),
            "a.xml: valid_warn (0 errors, 1 warning, 1 info)"
        );
    }

    #[test]
    fn one_of_a_kind_is_singular() {
        assert_eq!(count(1, "error"), "1 error");
        assert_eq!(count(0, "error"), "0 errors");
        assert_eq!(count(2, "info"), "2 infos");
    }
}
