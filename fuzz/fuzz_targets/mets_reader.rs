//! The METS reader (record id, parents, MODS, Dublin Core): a document is either refused
//! with a reason or, once accepted, every stored form (`mets`, `mods`, `oai_dc`, and the
//! repaired `zmets` and its `zmods`) is UTF-8 and well-formed where OAI-PMH embeds it.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vitrine::config::Institution;
use vitrine::formats::mets;
use vitrine::repair::{repair, RepairContext};
use vitrine::xml::ParseLimits;

fuzz_target!(|data: &[u8]| {
    let limits = ParseLimits::with_max_bytes(1 << 20);
    let record = match mets::read(data, limits) {
        Ok(record) => record,
        Err(e) => return common::assert_reason("the METS", &e.to_string()),
    };
    if let Some(id) = &record.local_id {
        let xml_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
        assert!(
            !id.is_empty() && id.trim_matches(xml_space) == id,
            "local id {id:?}"
        );
    }
    for parent in &record.parent_refs {
        assert!(!parent.is_empty(), "an empty parent reference");
    }
    common::assert_embeds_well_formed("mets", &record.mets, "mets");
    if let Some(mods) = &record.mods {
        common::assert_embeds_well_formed("mods", mods.as_bytes(), "mods");
    }
    if let Some(dc) = &record.dc {
        common::assert_embeds_well_formed("oai_dc", dc.as_bytes(), "dc");
    }
    let institution = Institution::default();
    let context = RepairContext {
        local_id: record.local_id.as_deref().unwrap_or("fuzz"),
        record_identifier_source: Some("DE-0"),
        institution: &institution,
        oai_base_url: "http://127.0.0.1/oai",
        repository_identifier: "fuzz.example.org",
        presentation_url: None,
        reference_url: None,
        parent_title: None,
    };
    // The stored METS is what the validator job repairs into zmets.
    match repair(&record.mets, &context) {
        Ok(repaired) => {
            common::assert_embeds_well_formed("zmets", &repaired.mets, "mets");
            if let Ok(Some(zmods)) = mets::primary_mods(&repaired.mets, ParseLimits::default()) {
                common::assert_embeds_well_formed("zmods", zmods.as_bytes(), "mods");
            }
        }
        Err(e) => panic!("the stored METS cannot be repaired: {e}"),
    }
});
