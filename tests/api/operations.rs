//! What an admin meets running vitrine: one endpoint for the root domain, a baseURL that
//! follows the public URL, imports that refuse colliding ids, storage failures that count
//! as transient, database URLs that fail fast and precisely, and the publishing defaults
//! `serve` and `check-config` report.

use crate::helpers::{fixtures, TestApp, TEST_CONFIG};
use std::time::{Duration, Instant};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_root_domain_under_its_name_redirects_permanently_to_the_one_root_endpoint() {
    let app = TestApp::spawn().await;
    let client = no_redirects();
    let response = client
        .get(format!("{}/ulb/oai?verb=Identify&x=%2F", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 301);
    assert_eq!(response.headers()["location"], "/oai?verb=Identify&x=%2F");
    let post = client
        .post(format!("{}/ulb/oai", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("verb=Identify")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 308, "POST keeps its method and body");
    assert_eq!(post.headers()["location"], "/oai");
    // The sub-domain keeps its own endpoint, and Identify names one baseURL for the root.
    let zd = app.oai_at("/zd/oai", &[("verb", "Identify")]).await;
    assert!(zd.s("string(//o:baseURL)").ends_with("/zd/oai"));
    let root = app.oai(&[("verb", "Identify")]).await;
    assert_eq!(
        root.s("string(//o:baseURL)"),
        format!("{}/oai", app.address)
    );
}

#[tokio::test]
async fn identify_and_the_redirect_use_the_configured_public_url() {
    let config = format!("[server]\npublic_url = \"https://oai.example.org/\"\n{TEST_CONFIG}");
    let app = TestApp::spawn_with(&config).await;
    let identify = app.oai(&[("verb", "Identify")]).await;
    assert_eq!(
        identify.s("string(//o:baseURL)"),
        "https://oai.example.org/oai"
    );
    let zd = app.oai_at("/zd/oai", &[("verb", "Identify")]).await;
    assert_eq!(
        zd.s("string(//o:baseURL)"),
        "https://oai.example.org/zd/oai"
    );
    let response = no_redirects()
        .get(format!("{}/ulb/oai?verb=Identify", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "https://oai.example.org/oai?verb=Identify"
    );
}

#[tokio::test]
async fn two_files_of_one_import_with_the_same_local_id_are_both_refused_every_time() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let source = fixtures().join("main/demo_mono_0001.xml");
    let text = std::fs::read_to_string(&source).unwrap();
    std::fs::write(dir.path().join("PPN1_legacy.xml"), &text).unwrap();
    std::fs::write(
        dir.path().join("PPN1_curated.xml"),
        text.replace("</mods:title>", " (curated)</mods:title>"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("main/demo_mono_0002.xml"),
        dir.path().join("other.xml"),
    )
    .unwrap();
    for round in 0..2 {
        let report = app.import("ulb", &[dir.path().to_path_buf()], true).await;
        assert_eq!(report.failed.len(), 2, "round {round}: {:?}", report.failed);
        for (file, reason) in &report.failed {
            let other = if file.ends_with("PPN1_legacy.xml") {
                "PPN1_curated.xml"
            } else {
                "PPN1_legacy.xml"
            };
            assert!(reason.contains("\"demo_mono_0001\""), "{reason}");
            assert!(reason.contains(other), "{reason}");
        }
        assert_eq!(report.created + report.unchanged, 1, "round {round}");
        assert_eq!(report.replaced, 0, "round {round}");
    }
    let ulb = app.domain("ulb").await;
    assert!(app
        .store
        .record_status(ulb.id, "demo_mono_0001")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_import_into_a_store_that_went_away_fails_transiently() {
    let app = TestApp::spawn().await;
    let store = vitrine::store::open(&app.url, 2).await.unwrap();
    store.close().await;
    let store: std::sync::Arc<dyn vitrine::store::Store> = std::sync::Arc::new(store);
    let files = vitrine::ingest::collect_files(&[fixtures().join("main")]).unwrap();
    let count = files.len();
    let report = vitrine::ingest::import(
        store,
        app.tree().await,
        &app.domain("ulb").await,
        files,
        vitrine::ingest::ImportOptions::new(true, app.time()),
    )
    .await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let stopped = report
        .stopped
        .expect("the import stops at the storage failure");
    assert!(stopped.transient, "{}", stopped.cause);
    assert_eq!(stopped.not_imported.len(), count);
}

#[tokio::test]
async fn an_import_stopped_before_its_first_batch_commits_nothing_and_says_so() {
    let app = TestApp::spawn().await;
    let files = vitrine::ingest::collect_files(&[fixtures().join("main")]).unwrap();
    let count = files.len();
    let report = vitrine::ingest::import_until(
        app.store.clone(),
        app.tree().await,
        &app.domain("ulb").await,
        files,
        vitrine::ingest::ImportOptions::new(false, app.time()),
        std::future::ready(()),
    )
    .await;
    assert!(report.interrupted);
    assert_eq!((report.files, report.committed()), (count, 0));
}

#[tokio::test]
async fn an_unreachable_postgres_server_is_reported_within_seconds_with_its_address() {
    let started = Instant::now();
    let error = vitrine::store::open("postgres://postgres@127.0.0.1:9/vitrine", 2)
        .await
        .err()
        .expect("nothing listens on port 9");
    assert!(started.elapsed() < Duration::from_secs(5));
    let open = error
        .downcast_ref::<vitrine::store::OpenError>()
        .expect("an OpenError");
    assert!(open.is_transient());
    assert_eq!(
        format!("{error:#}"),
        "cannot reach PostgreSQL: connection refused at 127.0.0.1:9"
    );
}

#[tokio::test]
async fn a_missing_postgres_database_is_named_once() {
    let Ok(base) = std::env::var("VITRINE_TEST_POSTGRES_URL") else {
        return; // Needs a PostgreSQL server (CI runs this again with one).
    };
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let error = vitrine::store::open(&format!("{prefix}/vitrine_no_such_db"), 2)
        .await
        .err()
        .expect("no such database");
    let message = format!("{error:#}");
    assert!(
        message.starts_with(
            "database \"vitrine_no_such_db\" does not exist on the PostgreSQL server at "
        ),
        "{message}"
    );
    assert_eq!(
        message.matches("vitrine_no_such_db").count(),
        2,
        "{message}"
    );
    assert!(!error
        .downcast_ref::<vitrine::store::OpenError>()
        .unwrap()
        .is_transient());
}

#[tokio::test]
async fn opening_a_missing_sqlite_database_for_reading_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo/dir/v.db");
    let error = vitrine::store::open_existing(&format!("sqlite://{}", file.display()), 2)
        .await
        .err()
        .expect("no database there");
    assert!(format!("{error:#}").starts_with(&format!("no database at {}", file.display())));
    assert!(!dir.path().join("typo").exists(), "no folder was created");
    vitrine::store::open(&format!("sqlite://{}", file.display()), 2)
        .await
        .expect("creating commands create it");
    assert!(file.is_file());
}

#[tokio::test]
async fn publishing_defaults_are_named_per_setting_and_domain() {
    let app = TestApp::spawn().await;
    let problems = vitrine::preflight::publishing_defaults(&app.config, &*app.tree().await);
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["server.public_url"],
        "ulb sets its identifier and e-mails"
    );
    let bare =
        TestApp::spawn_with("[domains.zd]\nrepository_identifier = \"zd.example.org\"").await;
    let problems = vitrine::preflight::publishing_defaults(&bare.config, &*bare.tree().await);
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "server.public_url",
            "domains.ulb.repository_identifier",
            "domains.ulb.admin_emails",
        ]
    );
    assert!(problems[1].message.contains("oai:vitrine.localhost:"));
    assert!(problems[2].message.contains("admin@vitrine.localhost"));
}
