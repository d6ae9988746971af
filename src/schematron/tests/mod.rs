//! Unit tests of the Schematron engine, one file per group of constructs. Each test
//! compiles a small schema and asserts on the findings it produces for a document.

mod abstracts;
mod basics;
mod contexts;
mod errors;
mod functions;
mod native;
mod output;
mod phases;
mod xslt2;

use super::{CompileError, CompileOptions, Report, Schema};

pub(super) const METS: &str = "http://www.loc.gov/METS/";

/// A schema with the given body (`mets` bound), compiled with default options.
pub(super) fn schema(body: &str) -> Schema {
    schema_with(body, &CompileOptions::default())
}

pub(super) fn schema_with(body: &str, options: &CompileOptions) -> Schema {
    Schema::compile(wrap(body).as_bytes(), options)
        .unwrap_or_else(|e| panic!("schema refused: {e}"))
}

pub(super) fn wrap(body: &str) -> String {
    format!(
        "<schema xmlns='http://purl.oclc.org/dsdl/schematron' queryBinding='xslt1'>\n\
         <ns prefix='mets' uri='{METS}'/>\n{body}\n</schema>"
    )
}

pub(super) fn compile_error(body: &str) -> CompileError {
    Schema::compile(wrap(body).as_bytes(), &CompileOptions::default())
        .expect_err("schema must be refused")
}

pub(super) fn run(body: &str, doc: &str) -> Report {
    schema(body)
        .validate_bytes(doc.as_bytes())
        .expect("document parses")
}

/// Rule ids of the findings, in order.
pub(super) fn ids(report: &Report) -> Vec<&str> {
    report.findings.iter().map(|f| &*f.rule_id).collect()
}

/// A small METS document: two dmdSecs, a structMap with typed divs.
pub(super) const DOC: &str = r#"<mets:mets xmlns:mets="http://www.loc.gov/METS/" OBJID="o1">
  <mets:dmdSec ID="DMD1"><mets:mdWrap MDTYPE="MODS"/></mets:dmdSec>
  <mets:dmdSec ID="dmd 2"/>
  <mets:structMap TYPE="LOGICAL">
    <mets:div ID="LOG_1" TYPE="monograph" DMDID="DMD1">
      <mets:div ID="LOG_2" TYPE="chapter"/>
      <mets:div ID="LOG_3" TYPE="Chapter" DMDID="DMD9"/>
    </mets:div>
  </mets:structMap>
</mets:mets>"#;
