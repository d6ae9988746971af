//! The zmets/zmods channel across validator runs: what enters, what leaves, and which
//! datestamps stay.

use crate::helpers::TestApp;
use crate::validator_job::{config, import_repairable, run_job, state, without_default_images};
use vitrine::domain::ValidationState;

const VALID: &str = "oai:digital.ulb.example.org:demo_mono_0003";
const TURNS_INVALID: &str = "oai:digital.ulb.example.org:demo_mono_0001";

/// The datestamp and status (`""` or `"deleted"`) of a record in a ZVDD format.
async fn header(app: &TestApp, identifier: &str, prefix: &str) -> (String, String) {
    let doc = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", identifier),
            ("metadataPrefix", prefix),
        ])
        .await;
    assert!(
        doc.errors().is_empty(),
        "{prefix} {identifier}: {:?}",
        doc.errors()
    );
    (
        doc.s("string(//o:header/o:datestamp)"),
        doc.s("string(//o:header/@status)"),
    )
}

#[tokio::test]
async fn a_record_that_turns_invalid_leaves_the_channel_once_and_unchanged_ones_keep_their_datestamps(
) {
    let app = TestApp::spawn_with(&config()).await;
    import_repairable(&app).await;
    run_job(&app, "ulb", false).await;
    let mut entered = Vec::new();
    for id in [TURNS_INVALID, VALID] {
        for prefix in ["zmets", "zmods"] {
            let (stamp, status) = header(&app, id, prefix).await;
            assert_eq!(status, "", "{prefix} {id} is live after the first run");
            entered.push(stamp);
        }
    }

    // A new export of one record loses its DEFAULT image group: no repair fixes that.
    app.clock.advance(5);
    let dir = tempfile::tempdir().unwrap();
    let broken = without_default_images("demo_mono_0001.xml", dir.path());
    app.import("ulb", &[broken], true).await;
    run_job(&app, "ulb", false).await;
    assert_eq!(
        state(&app, "ulb", "demo_mono_0001").await,
        ValidationState::Invalid
    );
    let mut left = Vec::new();
    for prefix in ["zmets", "zmods"] {
        let (stamp, status) = header(&app, TURNS_INVALID, prefix).await;
        assert_eq!(status, "deleted", "{prefix}: the invalid record left");
        assert!(stamp > entered[0], "{prefix}: it left with a new datestamp");
        left.push(stamp);
    }

    // A full run validates everything again: nothing changed, so nothing moves.
    app.clock.advance(5);
    let report = run_job(&app, "ulb", true).await;
    assert_eq!(report.validated, 2);
    for (i, prefix) in ["zmets", "zmods"].into_iter().enumerate() {
        assert_eq!(
            header(&app, TURNS_INVALID, prefix).await,
            (left[i].clone(), "deleted".to_string()),
            "{prefix}: a record that left stays left, with the datestamp of its leaving"
        );
        assert_eq!(
            header(&app, VALID, prefix).await,
            (entered[2 + i].clone(), String::new()),
            "{prefix}: an unchanged valid record keeps the datestamp it entered with"
        );
    }
}
