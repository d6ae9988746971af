//! The storage story, told through the `Store` trait alone; it runs on SQLite and, with
//! `VITRINE_TEST_POSTGRES_URL`, on PostgreSQL.

use crate::helpers::fresh_database;
use vitrine::domain::DomainName;
use vitrine::store::{ListQuery, Payload, PutOutcome, PutRecord, StateChange, Store, StoreError};

fn record(domain_id: i64, local: &str, body: &str) -> PutRecord {
    PutRecord {
        domain_id,
        local_id: local.into(),
        oai_identifier: format!("oai:x.org:{local}"),
        parent_refs: vec![],
        title: Some(format!("Title {local}")),
        sets: vec![],
        payloads: vec![
            Payload::new("mets", format!("<mets>{body}</mets>").as_bytes()),
            Payload::new("oai_dc", b"<dc/>"),
        ],
        release: true,
    }
}

fn query(prefix: &str, until: i64) -> ListQuery {
    ListQuery {
        prefix: prefix.into(),
        domain_ids: None,
        configured_set: None,
        from: None,
        until,
        after: None,
        limit: 100,
        with_body: true,
    }
}

#[tokio::test]
async fn the_storage_story() {
    let (url, _dir) = fresh_database().await;
    let sql = vitrine::store::open(&url, 4).await.unwrap();
    let store: &dyn Store = &sql;

    // Domains form one tree with one root.
    let root = store
        .add_domain(&DomainName::parse("ulb").unwrap(), None, "ULB", 900)
        .await
        .unwrap();
    let zd = store
        .add_domain(&DomainName::parse("zd").unwrap(), Some(root.id), "ZD", 900)
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_domain(&DomainName::parse("other").unwrap(), None, "x", 900)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .add_domain(&DomainName::parse("zd").unwrap(), Some(root.id), "x", 900)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.domains().await.unwrap().len(), 2);

    // Create, unchanged, replace.
    assert_eq!(
        store
            .put_record(&record(root.id, "a", "1"), 1000)
            .await
            .unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        store
            .put_record(&record(root.id, "a", "1"), 1001)
            .await
            .unwrap(),
        PutOutcome::Unchanged
    );
    let items = store.list(&query("mets", 5000)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].datestamp, 1000);
    assert_eq!(items[0].body.as_deref(), Some(&b"<mets>1</mets>"[..]));
    assert_eq!(
        store
            .put_record(&record(root.id, "a", "2"), 1002)
            .await
            .unwrap(),
        PutOutcome::Replaced
    );
    let item = store
        .get("oai:x.org:a", "mets", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (item.datestamp, item.body.as_deref()),
        (1002, Some(&b"<mets>2</mets>"[..]))
    );

    // A record cannot move to another domain silently.
    assert!(matches!(
        store.put_record(&record(zd.id, "a", "3"), 1003).await,
        Err(StoreError::Conflict(_))
    ));

    // Batch: each record whole or not at all.
    let batch: Vec<PutRecord> = (0..5)
        .map(|i| record(zd.id, &format!("z{i}"), "z"))
        .collect();
    let results = store.put_records(&batch, 1010).await;
    assert!(results.iter().all(|r| matches!(r, Ok(PutOutcome::Created))));
    assert_eq!(store.count(&query("mets", 5000)).await.unwrap(), 6);
    let scoped = ListQuery {
        domain_ids: Some(vec![zd.id]),
        ..query("mets", 5000)
    };
    assert_eq!(store.count(&scoped).await.unwrap(), 5);

    // One conflicting record does not cost the rest of its batch.
    let mixed = vec![record(zd.id, "z5", "z"), record(zd.id, "a", "moved")];
    let results = store.put_records(&mixed, 1011).await;
    assert!(matches!(results[0], Ok(PutOutcome::Created)));
    assert!(matches!(results[1], Err(StoreError::Conflict(_))));
    assert_eq!(store.count(&query("mets", 5000)).await.unwrap(), 7);
    store
        .change_state(zd.id, "z5", StateChange::Delete, 1012)
        .await
        .unwrap();

    // Keyset paging: pages are disjoint and complete.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list(&ListQuery {
                limit: 2,
                after,
                with_body: false,
                ..query("mets", 5000)
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|i| (i.datestamp, i.record_id));
        seen.extend(page.into_iter().map(|i| i.oai_identifier));
    }
    assert_eq!(seen.len(), 7, "six records and one deleted marker");

    // Withdraw and delete leave deleted markers with new datestamps in every format.
    assert!(store
        .change_state(root.id, "a", StateChange::Withdraw, 1020)
        .await
        .unwrap());
    assert!(!store
        .change_state(root.id, "a", StateChange::Withdraw, 1021)
        .await
        .unwrap());
    let formats = store
        .formats_of("oai:x.org:a", None)
        .await
        .unwrap()
        .unwrap();
    assert!(formats.iter().all(|(_, deleted)| *deleted));
    let item = store
        .get("oai:x.org:a", "oai_dc", None)
        .await
        .unwrap()
        .unwrap();
    assert!(item.deleted && item.datestamp == 1020 && item.body.is_none());
    assert!(store
        .change_state(root.id, "a", StateChange::Release, 1030)
        .await
        .unwrap());
    assert!(
        !store
            .get("oai:x.org:a", "mets", None)
            .await
            .unwrap()
            .unwrap()
            .deleted
    );
    assert!(store
        .change_state(zd.id, "z0", StateChange::Delete, 1040)
        .await
        .unwrap());
    assert!(matches!(
        store
            .change_state(zd.id, "z0", StateChange::Release, 1041)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let status = store.record_status(zd.id, "z0").await.unwrap().unwrap();
    assert!(status.deleted && !status.released);
    // Re-importing a deleted record restores it.
    assert_eq!(
        store
            .put_record(&record(zd.id, "z0", "z"), 1050)
            .await
            .unwrap(),
        PutOutcome::Replaced
    );
    assert!(
        !store
            .get("oai:x.org:z0", "mets", None)
            .await
            .unwrap()
            .unwrap()
            .deleted
    );

    // Bounds: from/until inclusive.
    let window = ListQuery {
        from: Some(1020),
        until: 1030,
        ..query("oai_dc", 0)
    };
    let ids: Vec<String> = store
        .list(&window)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.oai_identifier)
        .collect();
    assert_eq!(ids, vec!["oai:x.org:a"]);
    assert_eq!(store.earliest_datestamp(None).await.unwrap(), Some(1010));

    // Settings made on the command line overlay the configuration file.
    store
        .set_domain_setting(zd.id, "page_size", Some("5"))
        .await
        .unwrap();
    store
        .set_domain_setting(zd.id, "oai.formats.zmets.on", Some("true"))
        .await
        .unwrap();
    store
        .set_domain_setting(zd.id, "page_size", Some("7"))
        .await
        .unwrap();
    let config = std::sync::Arc::new(vitrine::config::Config::default());
    let tree = vitrine::store::load_tree(store, config.clone())
        .await
        .unwrap();
    assert_eq!(tree.page_size(zd.id), 7);
    assert!(tree.config(zd.id).oai.formats.zmets.on);
    assert_eq!(tree.page_size(root.id), 100);
    store
        .set_domain_setting(zd.id, "page_size", None)
        .await
        .unwrap();
    let tree = vitrine::store::load_tree(store, config).await.unwrap();
    assert_eq!(tree.page_size(zd.id), 100);

    // Settings are written once.
    assert_eq!(
        store.setting_or_insert("k", "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        store.setting_or_insert("k", "second").await.unwrap(),
        "first"
    );
    sql.close().await;
}
