//! Resumption tokens, cursor, completeListSize and datestamp bounds (OAI-TRAPS "Flow
//! control", "Dates").

use crate::helpers::{fixtures_with_classification, second_after, TestApp, Xml};
use vitrine::domain::Datestamp;

async fn harvest(app: &TestApp, verb: &str, first: &[(&str, &str)]) -> Vec<Xml> {
    let mut pages = vec![app.oai(first).await];
    while let Some(token) = pages.last().unwrap().token().filter(|t| !t.is_empty()) {
        pages.push(
            app.oai(&[("verb", verb), ("resumptionToken", &token)])
                .await,
        );
    }
    pages
}

#[tokio::test]
async fn a_list_pages_with_cursor_and_complete_list_size_and_ends_with_an_empty_token() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    // 26 + 8 imported, one withdrawn and one deleted afterwards stay listed as deleted.
    app.change(
        "ulb",
        "demo_mono_0014",
        vitrine::store::StateChange::Withdraw,
    )
    .await;
    let pages = harvest(
        &app,
        "ListRecords",
        &[("verb", "ListRecords"), ("metadataPrefix", "mets")],
    )
    .await;
    assert_eq!(pages.len(), 4);
    let mut ids = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        ids.extend(page.all("//o:record/o:header/o:identifier"));
        assert_eq!(
            page.s("string(//o:resumptionToken/@cursor)"),
            (i * 10).to_string()
        );
        assert_eq!(
            page.s("string(//o:resumptionToken/@completeListSize)"),
            "34"
        );
    }
    assert_eq!(
        pages[3].token().as_deref(),
        Some(""),
        "the completing response has an empty token"
    );
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 34);
    assert_eq!(
        pages
            .iter()
            .map(|p| p.count("//o:header[@status='deleted']"))
            .sum::<usize>(),
        1
    );
}

#[tokio::test]
async fn a_list_that_fits_one_page_has_no_token_and_a_multiple_of_the_page_size_no_extra_page() {
    let app = TestApp::spawn_with(
        &crate::helpers::TEST_CONFIG.replace("page_size = 10", "page_size = 8"),
    )
    .await;
    app.import_demo().await;
    let one = app
        .oai_at(
            "/zd/oai",
            &[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")],
        )
        .await;
    assert_eq!(one.count("//o:header"), 8);
    assert_eq!(
        one.token(),
        None,
        "a list that fits one response has no token"
    );
    let pages = harvest(
        &app,
        "ListIdentifiers",
        &[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("set", "zd"),
        ],
    )
    .await;
    assert_eq!(pages.len(), 1);
}

#[tokio::test]
async fn re_issuing_a_token_returns_the_same_page() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let first = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")])
        .await;
    let t1 = first.token().unwrap();
    let a = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &t1)])
        .await;
    let t2 = a.token().unwrap();
    let b = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &t2)])
        .await;
    let a_again = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &t1)])
        .await;
    assert_eq!(a.all("//o:identifier"), a_again.all("//o:identifier"));
    let b_again = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &t2)])
        .await;
    assert_eq!(b.all("//o:identifier"), b_again.all("//o:identifier"));
    assert_ne!(a.all("//o:identifier"), b.all("//o:identifier"));
}

#[tokio::test]
async fn the_token_remembers_the_set_and_survives_changes_meanwhile() {
    let app = TestApp::spawn_with(
        &crate::helpers::TEST_CONFIG.replace("page_size = 10", "page_size = 3"),
    )
    .await;
    app.import_demo().await;
    let first = app
        .oai(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("set", "zd"),
        ])
        .await;
    let token = first.token().unwrap();
    // A change after the first page: the harvest goes on undisturbed.
    app.change(
        "zd",
        "demo_zd_0001_18480405",
        vitrine::store::StateChange::Withdraw,
    )
    .await;
    let second = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &token)])
        .await;
    assert!(second.errors().is_empty());
    assert!(
        second.all("//o:setSpec").iter().all(|s| s == "zd"),
        "the set is kept"
    );
}

#[tokio::test]
async fn a_token_is_good_until_its_expiration_date_and_bad_a_second_later() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let first = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")])
        .await;
    let token = first.token().unwrap();
    let expires = first.s("string(//o:resumptionToken/@expirationDate)");
    let lifetime = Datestamp::parse(&expires).unwrap().seconds() - app.clock.now();
    assert_eq!(lifetime, 168 * 3600, "oai.token_lifetime_hours");
    app.clock.advance(lifetime);
    let last_second = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &token)])
        .await;
    assert!(last_second.errors().is_empty());
    assert_eq!(last_second.count("//o:header"), 10);
    app.clock.advance(1);
    let late = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &token)])
        .await;
    assert_eq!(late.errors(), vec!["badResumptionToken"]);
}

#[tokio::test]
async fn from_and_until_are_inclusive_and_a_day_until_covers_the_day() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let x = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:digital.ulb.example.org:demo_mono_0002"),
            ("metadataPrefix", "oai_dc"),
        ])
        .await;
    // The whole import fell into the second the clock stands at.
    let stamp = x.s("string(//o:header/o:datestamp)");
    assert_eq!(Datestamp::parse(&stamp).unwrap().seconds(), app.clock.now());
    let identifiers = |pages: Vec<Xml>| -> Vec<String> {
        pages
            .iter()
            .flat_map(|p| p.all("//o:header/o:identifier"))
            .collect()
    };
    let same = harvest(
        &app,
        "ListIdentifiers",
        &[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("from", &stamp),
            ("until", &stamp),
            ("set", "geschichte"),
        ],
    )
    .await;
    assert_eq!(
        identifiers(same).len(),
        fixtures_with_classification("Geschichte", "main"),
        "from=until=that second: every record of the set"
    );
    let exact = identifiers(
        harvest(
            &app,
            "ListIdentifiers",
            &[
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", "oai_dc"),
                ("from", &stamp),
                ("until", &stamp),
            ],
        )
        .await,
    );
    assert_eq!(exact.len(), 34, "from=until=that second: every record");
    assert!(exact.contains(&"oai:digital.ulb.example.org:demo_mono_0001".to_string()));
    let second_before = Datestamp::from_seconds(app.clock.now() - 1).to_string();
    for (from, until) in [
        (second_after(&stamp), second_after(&stamp)),
        (second_before.clone(), second_before),
    ] {
        let none = app
            .oai(&[
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", "oai_dc"),
                ("from", &from),
                ("until", &until),
            ])
            .await;
        assert_eq!(none.errors(), vec!["noRecordsMatch"], "{from}..{until}");
    }
    let day = &stamp[..10];
    let by_day = app
        .oai(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("from", day),
            ("until", day),
        ])
        .await;
    assert_eq!(
        by_day.s("string(//o:resumptionToken/@completeListSize)"),
        "34",
        "a day-granularity until includes the whole day"
    );
}
