//! Tests of the repairs against the rule set itself: a defect (from a demo fixture or
//! made in a clean one) must make its rule fire, the repair must make it stop firing,
//! log it, and change nothing else.

mod corpus;
mod kinds;
mod kinds_mods;
mod kinds_structure;

use super::{repair, RepairContext, RepairKind, Repaired};
use crate::domain::settings::Institution;
use crate::schematron::Class;
use crate::validation::zvdd;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The institution of the demo collection.
fn institution() -> &'static Institution {
    static INSTITUTION: OnceLock<Institution> = OnceLock::new();
    INSTITUTION.get_or_init(|| Institution {
        name: Some("Landes- und Universitätsbibliothek Beispielstadt".into()),
        logo: Some("https://digital.example-library.de/logo.png".into()),
        site_url: Some("https://www.example-library.de/".into()),
        contact: Some("mailto:digital@example-library.de".into()),
    })
}

/// A context as the zmets format would build it for `local_id`.
fn context(local_id: &str) -> RepairContext<'_> {
    RepairContext {
        local_id,
        record_identifier_source: Some("DE-3"),
        institution: institution(),
        oai_base_url: "https://digital.example.org/ulb/oai",
        repository_identifier: "digital.example.org",
        presentation_url: Some(format!(
            "https://digital.example-library.de/viewer/{local_id}"
        )),
        reference_url: Some(format!("https://opac.example-library.de/record/{local_id}")),
        parent_title: None,
    }
}

/// A demo fixture by local id.
fn fixture(local_id: &str) -> String {
    let folder = if local_id.starts_with("demo_zd") {
        "zd"
    } else {
        "main"
    };
    let path = format!(
        "{}/fixtures/demo/{folder}/{local_id}.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The findings of the bundled rule set: (rule id, class, location).
fn findings(mets: &[u8]) -> Vec<(String, Class, String)> {
    let doc = crate::formats::document::mets_document(mets, crate::xml::ParseLimits::default())
        .expect("METS");
    zvdd()
        .expect("rule set")
        .validate(&doc)
        .findings
        .into_iter()
        .map(|f| (f.rule_id.to_string(), f.class, f.location))
        .collect()
}

fn fires(mets: &[u8], rule: &str) -> bool {
    findings(mets).iter().any(|(id, _, _)| id == rule)
}

fn counts(mets: &[u8]) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    for (id, _, _) in findings(mets) {
        *map.entry(id).or_default() += 1;
    }
    map
}

fn errors(mets: &[u8]) -> usize {
    findings(mets)
        .iter()
        .filter(|(_, class, _)| *class == Class::Error)
        .count()
}

fn text(repaired: &Repaired) -> &str {
    std::str::from_utf8(&repaired.mets).expect("UTF-8")
}

/// The common check: `rule` fires on `mets` before, not after; the log names it with
/// an XPath containing `path_part`; no other rule fires more often; repairing again
/// changes nothing.
fn check(
    mets: &str,
    ctx: &RepairContext,
    rule: &str,
    kind: RepairKind,
    path_part: &str,
) -> Repaired {
    assert!(
        fires(mets.as_bytes(), rule),
        "{rule} does not fire before the repair"
    );
    let repaired = repair(mets.as_bytes(), ctx).expect("repairs");
    assert!(
        !fires(&repaired.mets, rule),
        "{rule} still fires:\n{}",
        text(&repaired)
    );
    let entry = repaired
        .repairs
        .iter()
        .find(|r| r.rule_id == rule && r.kind == kind)
        .unwrap_or_else(|| panic!("no {rule} {kind:?} in {:#?}", repaired.repairs));
    assert!(entry.xpath.starts_with("/mets:mets/"), "{}", entry.xpath);
    assert!(
        entry.xpath.contains(path_part),
        "{} lacks {path_part}",
        entry.xpath
    );
    assert_ne!(entry.before, entry.after);
    let (before, after) = (counts(mets.as_bytes()), counts(&repaired.mets));
    for (id, n) in &after {
        assert!(
            n <= before.get(id).unwrap_or(&0),
            "{id} fires {n} times after, {:?} before",
            before.get(id)
        );
    }
    assert_idempotent(&repaired, ctx);
    repaired
}

fn assert_idempotent(repaired: &Repaired, ctx: &RepairContext) {
    let again = repair(&repaired.mets, ctx).expect("repairs again");
    assert!(
        again.repairs.is_empty(),
        "second run repaired: {:#?}",
        again.repairs
    );
    assert_eq!(text(&again), text(repaired));
}

/// libxml2's serialisation of `mets` unchanged (the fixtures have no prolog beyond the
/// declaration), to compare output against.
fn serialised(mets: &str) -> String {
    let doc =
        crate::xml::parse(mets.as_bytes(), crate::xml::ParseLimits::default()).expect("parses");
    let options = libxml::tree::SaveOptions {
        no_declaration: true,
        ..Default::default()
    };
    doc.to_string_with_options(options).trim().to_string()
}
