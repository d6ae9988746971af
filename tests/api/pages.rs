//! ListRecords pages bounded by bytes as well as by records (SPEC §9), and the memory
//! of responses in flight bounded by `server.max_response_bytes` (503 + Retry-After).

use crate::helpers::{fixtures, TestApp, Xml, TEST_CONFIG};
use std::time::{Duration, Instant};

/// Harvests ListRecords `mets` on `/oai`: the identifiers of each page, and every
/// (cursor, completeListSize) announced.
async fn pages(app: &TestApp) -> (Vec<Vec<String>>, Vec<(String, String)>) {
    let mut x = app
        .oai(&[("verb", "ListRecords"), ("metadataPrefix", "mets")])
        .await;
    let mut pages = vec![x.all("//o:header/o:identifier")];
    let mut cursors = Vec::new();
    while let Some(token) = x.token() {
        cursors.push((
            x.s("string(//o:resumptionToken/@cursor)"),
            x.s("string(//o:resumptionToken/@completeListSize)"),
        ));
        if token.is_empty() {
            break;
        }
        x = app
            .oai(&[("verb", "ListRecords"), ("resumptionToken", &token)])
            .await;
        pages.push(x.all("//o:header/o:identifier"));
    }
    (pages, cursors)
}

#[tokio::test]
async fn a_page_ends_early_once_its_metadata_reaches_the_byte_budget() {
    // Demo records are 16–50 KB: 60 KB holds two or three of them, not ten.
    let app = TestApp::spawn_with(&format!("[oai]\nmax_page_bytes = 60000\n{TEST_CONFIG}")).await;
    app.import_demo().await;
    let (pages, cursors) = pages(&app).await;
    assert!(pages.len() > 4, "pages of at most a few records: {pages:?}");
    assert!(
        pages.iter().all(|p| (1..10).contains(&p.len())),
        "{pages:?}"
    );
    let all: Vec<&String> = pages.iter().flatten().collect();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(all.len(), 34, "every record once");
    assert_eq!(unique.len(), 34, "no record twice");
    let mut sent = 0;
    for ((cursor, size), page) in cursors.iter().zip(&pages) {
        assert_eq!(cursor, &sent.to_string());
        assert_eq!(size, "34");
        sent += page.len();
    }
}

#[tokio::test]
async fn a_record_larger_than_the_byte_budget_comes_alone() {
    let app = TestApp::spawn_with(&format!("[oai]\nmax_page_bytes = 1\n{TEST_CONFIG}")).await;
    app.import_demo().await;
    let (pages, cursors) = pages(&app).await;
    assert_eq!(pages.len(), 34);
    assert!(pages.iter().all(|p| p.len() == 1));
    assert_eq!(cursors.last().map(|(c, _)| c.as_str()), Some("33"));
    // Headers are small: ListIdentifiers pages keep the page size.
    let x = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "mets")])
        .await;
    assert_eq!(x.count("//o:header"), 10);
}

/// A METS file of about `bytes` bytes: a demo monograph with long notes in its MODS.
fn large_record(dir: &std::path::Path, id: &str, bytes: usize) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixtures().join("main/demo_mono_0001.xml")).unwrap();
    let text = text.replace("demo_mono_0001", id);
    let note = format!(
        "<mods:note>{}</mods:note>\n",
        "Lorem ipsum dolor sit amet. ".repeat(20_000)
    );
    let notes = note.repeat(bytes / note.len() + 1);
    let at = text.find("</mods:mods>").expect("a MODS section");
    let path = dir.join(format!("{id}.xml"));
    std::fs::write(&path, format!("{}{}{}", &text[..at], notes, &text[at..])).unwrap();
    path
}

#[tokio::test]
async fn responses_beyond_the_memory_budget_get_503_with_retry_after() {
    let config =
        format!("[server]\nmax_response_bytes = 1048576\nretry_after_seconds = 3\n{TEST_CONFIG}");
    let app = TestApp::spawn_with(&config).await;
    app.import_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let big = large_record(dir.path(), "big_0001", 24 << 20);
    let report = app.import("ulb", &[big], true).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let get = [
        ("verb", "GetRecord"),
        ("identifier", "oai:digital.ulb.example.org:big_0001"),
        ("metadataPrefix", "mets"),
    ];
    // A slow harvester: the response has started, its body is not read.
    let held = app.get("/oai", &get).await;
    assert_eq!(held.status(), 200);
    assert!(held.content_length().unwrap() > 24 << 20);
    let busy = app.get("/oai", &get).await;
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "3");
    // Once the first response is gone, its memory is free again.
    drop(held);
    let started = Instant::now();
    loop {
        let r = app.get("/oai", &get).await;
        if r.status() == 200 {
            let x = Xml::parse(&r.bytes().await.unwrap());
            assert_eq!(x.count("//mets:mets"), 1);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "memory never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
