//! The Schematron compiler (public entry point only): a schema either compiles, or is
//! refused with a reason; a compiled schema validates a document to a verdict, the same
//! one each time, and every finding names its rule.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vitrine::schematron::{CompileOptions, Schema};

const DOCUMENT: &[u8] = br#"<mets:mets xmlns:mets="http://www.loc.gov/METS/" OBJID="x">
<mets:dmdSec ID="d1"><mets:mdWrap MDTYPE="MODS"><mets:xmlData>
<mods:mods xmlns:mods="http://www.loc.gov/mods/v3"><mods:titleInfo><mods:title>T</mods:title></mods:titleInfo>
<mods:originInfo><mods:dateIssued>1848</mods:dateIssued></mods:originInfo></mods:mods>
</mets:xmlData></mets:mdWrap></mets:dmdSec>
<mets:structMap TYPE="LOGICAL"><mets:div ID="l1" DMDID="d1" TYPE="monograph" LABEL="a b"/></mets:structMap>
</mets:mets>"#;

fuzz_target!(|data: &[u8]| {
    match Schema::compile(data, &CompileOptions::default()) {
        Err(e) => common::assert_reason("the schema", &e.to_string()),
        Ok(schema) => {
            let first = schema.validate_bytes(DOCUMENT).expect("the document parses");
            let second = schema.validate_bytes(DOCUMENT).expect("the document parses");
            assert_eq!(first.verdict(), second.verdict(), "validation is not deterministic");
            assert_eq!(first.findings.len(), second.findings.len());
            for finding in &first.findings {
                assert!(!finding.rule_id.is_empty(), "a finding without a rule id");
            }
        }
    }
});
