//! The whole demo collection and the corpus of real-world METS: every file repairs,
//! never gains error findings, and repairs to itself a second time.

use super::*;
use std::path::{Path, PathBuf};

/// The `.xml` files below `dir`, sorted.
fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    files
}

/// Repairs every METS among `files`; returns (name, errors before, errors after).
fn repair_all(files: &[PathBuf]) -> Vec<(String, usize, usize)> {
    let mut rows = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).unwrap();
        if crate::formats::document::mets_document(&bytes, crate::xml::ParseLimits::default())
            .is_err()
        {
            continue; // not METS (e.g. bare MODS)
        }
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let ctx = context(&name);
        let repaired = repair(&bytes, &ctx).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (before, after) = (errors(&bytes), errors(&repaired.mets));
        assert!(
            after <= before,
            "{}: {before} errors before, {after} after",
            path.display()
        );
        assert_idempotent(&repaired, &ctx);
        println!(
            "{name:<60} {before:>4} {after:>4} {:>4}",
            repaired.repairs.len()
        );
        rows.push((name, before, after));
    }
    rows
}

#[test]
fn every_corpus_sample_repairs_without_gaining_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/samples");
    assert!(
        dir.is_dir(),
        "the corpus is missing: expected METS samples in {}",
        dir.display()
    );
    let rows = repair_all(&xml_files(&dir));
    assert!(
        rows.len() >= 20,
        "only {} METS samples in {}",
        rows.len(),
        dir.display()
    );
    let (before, after) = rows.iter().fold((0, 0), |(b, a), r| (b + r.1, a + r.2));
    println!("{:<60} {before:>4} {after:>4}", "total");
    assert!(after < before, "the repairs fix nothing in the corpus");
}

#[test]
fn every_demo_record_repairs_to_no_errors_but_the_unrepairable() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let rows = repair_all(&xml_files(&dir));
    assert_eq!(rows.len(), 34);
    for (name, before, after) in rows {
        assert_eq!(after, 0, "{name}: {before} errors before, {after} after");
    }
}

#[test]
fn a_clean_record_is_left_alone() {
    for id in [
        "demo_mono_0001",
        "demo_mono_0002",
        "demo_mono_0007",
        "demo_mono_0015",
    ] {
        let mets = fixture(id);
        let repaired = repair(mets.as_bytes(), &context(id)).unwrap();
        assert!(repaired.repairs.is_empty(), "{id}: {:#?}", repaired.repairs);
        assert_eq!(findings(&repaired.mets), findings(mets.as_bytes()));
        assert_eq!(text(&repaired), serialised(&mets));
    }
}

#[test]
fn the_output_is_the_root_element_without_declaration() {
    let mets = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE mets:mets>\n<!-- exported -->\n{}\n<?done?>",
        fixture("demo_mono_0012").split_once("?>").unwrap().1.trim_start()
    );
    let repaired = repair(mets.as_bytes(), &context("demo_mono_0012")).unwrap();
    let out = text(&repaired);
    assert!(
        out.starts_with("<mets:mets xmlns:dv=\"http://dfg-viewer.de/\""),
        "{}",
        &out[..80]
    );
    assert!(
        out.ends_with("</mets:mets>")
            && !out.contains("<?xml")
            && !out.contains("exported")
            && !out.contains("DOCTYPE")
    );
    // The institution's umlauts are written as UTF-8, not as character references.
    assert!(out.contains("<dv:owner>Landes- und Universitätsbibliothek Beispielstadt</dv:owner>"));
}

#[test]
fn base_urls_with_a_query_get_the_arguments_appended() {
    let key = crate::domain::LocalId::parse("a").unwrap();
    for (base, url) in [
        ("https://x.org/oai", "https://x.org/oai?verb="),
        ("https://x.org/oai?", "https://x.org/oai?verb="),
        (
            "https://x.org/oai?tenant=ulb",
            "https://x.org/oai?tenant=ulb&verb=",
        ),
    ] {
        let ctx = RepairContext {
            oai_base_url: base,
            ..context("a")
        };
        assert!(
            crate::repair::structure::zmets_url(&ctx, &key).starts_with(url),
            "{base}"
        );
    }
}

#[test]
fn not_mets_is_refused() {
    let err = repair(
        b"<mods xmlns=\"http://www.loc.gov/mods/v3\"/>",
        &context("x"),
    )
    .unwrap_err();
    assert!(matches!(err, crate::repair::RepairError::Input(_)), "{err}");
    assert!(repair(b"<mets:mets", &context("x")).is_err());
}
