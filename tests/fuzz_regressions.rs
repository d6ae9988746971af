//! Every input a fuzz target once failed on (`fuzz/regressions/TARGET/`), replayed through
//! the target's property (`fuzz/properties.rs`) in the normal suite.

#[path = "../fuzz/properties.rs"]
mod properties;

use std::path::Path;

/// Runs `property` on every file in `fuzz/regressions/{target}`; returns how many.
fn replay(target: &str, property: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| property(&data));
        assert!(outcome.is_ok(), "{}: the property fails", file.display());
    }
    files.len()
}

#[test]
fn documents_the_hardened_entry_point_once_mishandled_are_refused_or_round_trip() {
    assert!(replay("xml_entry", properties::xml_entry) >= 3);
}

#[test]
fn mets_files_the_reader_once_mishandled_store_well_formed_utf8_in_every_format() {
    assert!(replay("mets_reader", properties::mets_reader) >= 3);
}

#[test]
fn regular_expressions_the_translator_once_mistranslated_are_refused_with_a_reason() {
    assert!(replay("xsd_regex", properties::xsd_regex) >= 1);
}

#[test]
fn inputs_the_protocol_and_schema_targets_fail_on_are_replayed_when_there_are_any() {
    for (target, property) in [
        ("oai_arguments", properties::oai_arguments as fn(&[u8])),
        ("resumption_token", properties::resumption_token),
        ("schematron_compile", properties::schematron_compile),
    ] {
        replay(target, property);
    }
}
