//! Release, withdrawal, deletion and re-import as harvesters see them (SPEC §2, §3).

use crate::helpers::{fixtures, second_after, TestApp};
use vitrine::store::StateChange;

const ID: &str = "oai:digital.ulb.example.org:demo_mono_0001";

#[tokio::test]
async fn unreleased_records_are_invisible() {
    let app = TestApp::spawn().await;
    let r = app
        .import("ulb", &[fixtures().join("main/demo_mono_0001.xml")], false)
        .await;
    assert_eq!(r.created, 1);
    let x = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", ID),
            ("metadataPrefix", "oai_dc"),
        ])
        .await;
    assert_eq!(x.errors(), vec!["idDoesNotExist"]);
    let l = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")])
        .await;
    assert_eq!(l.errors(), vec!["noRecordsMatch"]);
    app.change("ulb", "demo_mono_0001", StateChange::Release)
        .await;
    let x = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", ID),
            ("metadataPrefix", "oai_dc"),
        ])
        .await;
    assert!(x.errors().is_empty());
}

#[tokio::test]
async fn withdrawn_and_deleted_records_stay_visible_as_deleted_with_a_new_datestamp() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let before = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", ID),
            ("metadataPrefix", "mets"),
        ])
        .await;
    let stamp = before.s("string(//o:header/o:datestamp)");
    // Datestamps have second granularity: the withdrawal falls into the next second.
    app.clock.advance(1);
    app.change("ulb", "demo_mono_0001", StateChange::Withdraw)
        .await;
    let after = second_after(&stamp);
    for prefix in ["oai_dc", "mets", "mods"] {
        let x = app
            .oai(&[
                ("verb", "GetRecord"),
                ("identifier", ID),
                ("metadataPrefix", prefix),
            ])
            .await;
        assert_eq!(x.s("string(//o:header/@status)"), "deleted", "{prefix}");
        assert_eq!(x.count("//o:metadata"), 0);
        assert_eq!(x.s("string(//o:header/o:datestamp)"), after);
    }
    // An incremental harvest from that second sees exactly the withdrawal: the whole
    // import fell into the second before.
    let incremental = app
        .oai(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "mets"),
            ("from", &after),
        ])
        .await;
    assert_eq!(
        incremental.all("//o:header[@status='deleted']/o:identifier"),
        vec![ID.to_string()]
    );
    assert_eq!(incremental.count("//o:header"), 1);
    app.change("ulb", "demo_mono_0002", StateChange::Delete)
        .await;
    let x = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:digital.ulb.example.org:demo_mono_0002"),
            ("metadataPrefix", "oai_dc"),
        ])
        .await;
    assert_eq!(x.s("string(//o:header/@status)"), "deleted");
}

#[tokio::test]
async fn re_importing_an_identical_file_changes_nothing_and_a_changed_file_moves_the_datestamp() {
    let app = TestApp::spawn().await;
    let file = fixtures().join("main/demo_mono_0001.xml");
    app.import("ulb", std::slice::from_ref(&file), true).await;
    let first = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", ID),
            ("metadataPrefix", "mets"),
        ])
        .await;
    app.clock.advance(1);
    let again = app.import("ulb", std::slice::from_ref(&file), true).await;
    assert_eq!((again.unchanged, again.replaced, again.created), (1, 0, 0));
    let second = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", ID),
            ("metadataPrefix", "mets"),
        ])
        .await;
    assert_eq!(
        first.s("string(//o:datestamp)"),
        second.s("string(//o:datestamp)")
    );

    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("changed.xml");
    let text = std::fs::read_to_string(&file).unwrap();
    let title = first.s("string((//mods:titleInfo/mods:title)[1])");
    std::fs::write(&changed, text.replacen(&title, "Ein neuer Titel", 1)).unwrap();
    let r = app.import("ulb", &[changed], true).await;
    assert_eq!(r.replaced, 1);
    let third = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", ID),
            ("metadataPrefix", "oai_dc"),
        ])
        .await;
    assert_eq!(
        third.s("string(//o:datestamp)"),
        second_after(&first.s("string(//o:datestamp)"))
    );
    assert!(third.s("string(//dc:title[1])").contains("Ein neuer Titel"));
}

#[tokio::test]
async fn parents_and_children_are_linked_whatever_the_arrival_order() {
    let app = TestApp::spawn().await;
    let main = fixtures().join("main");
    // Volumes first, anchor last.
    let volumes: Vec<_> = (1..=4)
        .map(|i| main.join(format!("demo_mvw_0001_0{i}.xml")))
        .collect();
    app.import("ulb", &volumes, true).await;
    app.import("ulb", &[main.join("demo_mvw_0001.xml")], true)
        .await;
    let anchor = app.status("ulb", "demo_mvw_0001").await;
    for i in 1..=4 {
        let v = app.status("ulb", &format!("demo_mvw_0001_0{i}")).await;
        assert_eq!(v.parent_id, Some(anchor.id), "volume {i}");
    }
    // Newspaper issues link to their year, the year to the newspaper.
    app.import("zd", &[fixtures().join("zd")], true).await;
    let paper = app.status("zd", "demo_zd_0001").await;
    let year = app.status("zd", "demo_zd_0001_1848").await;
    let issue = app.status("zd", "demo_zd_0001_18480304").await;
    assert_eq!(year.parent_id, Some(paper.id));
    assert_eq!(issue.parent_id, Some(year.id));
}

#[tokio::test]
async fn a_bad_file_is_reported_precisely_and_the_others_are_imported() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a_broken.xml"),
        "<mets:mets xmlns:mets=\"http://www.loc.gov/METS/\">\n  <mets:dmdSec>\n</mets:mets>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b_not_mets.xml"),
        "<mods xmlns=\"http://www.loc.gov/mods/v3\"/>",
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("main/demo_mono_0001.xml"),
        dir.path().join("c_good.xml"),
    )
    .unwrap();
    let r = app.import("ulb", &[dir.path().to_path_buf()], true).await;
    assert_eq!(r.created, 1);
    assert_eq!(r.failed.len(), 2);
    let broken = &r
        .failed
        .iter()
        .find(|(p, _)| p.ends_with("a_broken.xml"))
        .unwrap()
        .1;
    assert!(broken.starts_with("line 3, column"), "{broken}");
    let not_mets = &r
        .failed
        .iter()
        .find(|(p, _)| p.ends_with("b_not_mets.xml"))
        .unwrap()
        .1;
    assert!(not_mets.contains("not a METS document"), "{not_mets}");
}

#[tokio::test]
async fn a_record_that_leaves_a_set_reaches_harvesters_of_that_set() {
    let app = TestApp::spawn().await;
    let file = fixtures().join("main/demo_mono_0001.xml");
    app.import("ulb", std::slice::from_ref(&file), true).await;
    let before = app
        .oai(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("set", "geschichte"),
        ])
        .await;
    assert_eq!(before.all("//o:identifier"), vec![ID.to_string()]);
    let stamp = before.s("string(//o:datestamp)");
    app.clock.advance(1);
    let dir = tempfile::tempdir().unwrap();
    let moved = dir.path().join("moved.xml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &moved,
        text.replace(
            ">Geschichte</mods:classification>",
            ">Theologie</mods:classification>",
        ),
    )
    .unwrap();
    assert_eq!(app.import("ulb", &[moved], true).await.replaced, 1);
    let after = second_after(&stamp);
    let incremental = app
        .oai(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("set", "geschichte"),
            ("from", &after),
        ])
        .await;
    assert_eq!(
        incremental.all("//o:identifier"),
        vec![ID.to_string()],
        "the set's harvester sees the change"
    );
    assert!(
        incremental.all("//o:setSpec").is_empty(),
        "and learns the record is no longer in the set"
    );
}
