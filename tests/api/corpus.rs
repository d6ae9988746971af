//! Every file of the shared corpus is imported or refused with a clear reason, and every
//! imported METS comes back from `GetRecord mets` unchanged.

use crate::helpers::{corpus, TestApp};

#[tokio::test]
async fn every_corpus_sample_is_imported_or_refused_with_a_reason_and_round_trips() {
    let app = TestApp::spawn().await;
    let files = vitrine::ingest::collect_files(&[corpus().join("samples")]).unwrap();
    assert!(files.len() >= 20, "the corpus holds its samples");
    let mut imported = 0;
    for file in &files {
        let report = app.import("ulb", std::slice::from_ref(file), true).await;
        if let Some((_, reason)) = report.failed.first() {
            assert!(
                reason.contains("not a METS document")
                    || reason.contains("local identifier")
                    || reason.contains("another domain"),
                "{}: unexpected refusal {reason}",
                file.display()
            );
            continue;
        }
        imported += 1;
        let bytes = std::fs::read(file).unwrap();
        let record = vitrine::formats::mets::read(&bytes, Default::default()).unwrap();
        let local = record.local_id.clone().unwrap();
        let id = vitrine::domain::OaiIdentifier::new(
            "digital.ulb.example.org",
            &vitrine::domain::LocalId::parse(&local).unwrap(),
        );
        let x = app
            .oai(&[
                ("verb", "GetRecord"),
                ("identifier", id.as_str()),
                ("metadataPrefix", "mets"),
            ])
            .await;
        let raw = String::from_utf8(x.raw.clone()).unwrap();
        let start = raw.find("<metadata>").unwrap() + "<metadata>".len();
        let end = raw.rfind("</metadata>").unwrap();
        let served = &raw[start..end];
        let original = String::from_utf8(bytes).unwrap();
        assert!(
            original.contains(served),
            "{}: the METS served is not the METS ingested",
            file.display()
        );
        assert!(
            served.len() * 10 > original.len() * 9,
            "{}: METS truncated",
            file.display()
        );
    }
    assert!(
        imported >= 15,
        "most corpus samples are METS ({imported} imported)"
    );
}
