//! Folder exports through the API (the call a Goobi or Kitodo HTTP step makes) in both
//! of Goobi's modes, the confinement to the export folders, and the hotfolder.

use crate::helpers::{fixtures, TestApp};
use crate::ingest_helpers::{api_config, invalid_mets, json, problem, Api};
use reqwest::Method;
use serde_json::{json as object, Value};
use std::path::Path;
use vitrine::ingest::hotfolder::Hotfolders;

/// Copies demo fixtures into `dir` (created), as a Goobi export folder.
fn export_folder(dir: &Path, ids: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for id in ids {
        std::fs::copy(
            fixtures().join("main").join(format!("{id}.xml")),
            dir.join(format!("{id}.xml")),
        )
        .unwrap();
    }
}

/// The body of a Goobi HTTP step after its variable replacement, sent as Goobi sends it.
async fn goobi_step(api: &Api, body: Value) -> reqwest::Response {
    api.request(Method::POST, "/api/v1/domains/ulb/exports")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_goobi_http_step_in_background_mode_imports_the_whole_export_folder() {
    let api = Api::spawn("").await;
    let folder = api.export_dir.path().join("Beispiel_Werk_1234");
    export_folder(&folder, &["demo_mvw_0001", "demo_mvw_0001_01"]);
    // "path": "{exportfolder}/{processtitle}" after Goobi's replacement.
    let r = goobi_step(
        &api,
        object!({"path": folder.display().to_string(), "release": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert_eq!(body["created"], 2);
    assert_eq!(body["failed"], 0);
    let files = body["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert!(files
        .iter()
        .all(|f| f["outcome"] == "created" && f["file"].is_string()));
    let (_, volume) = api.status("demo_mvw_0001_01").await;
    assert_eq!(volume["parent"], "demo_mvw_0001");
    assert_eq!(volume["zmods_validation"], "undefined", "validated later");
    let x = api
        .app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:digital.ulb.example.org:demo_mvw_0001_01"),
            ("metadataPrefix", "mods"),
        ])
        .await;
    assert!(x.errors().is_empty());
    // The same export again (a repeated step) changes nothing; a relative path works too.
    let r = goobi_step(
        &api,
        object!({"path": "Beispiel_Werk_1234", "release": true}),
    )
    .await;
    assert_eq!(json(r).await["unchanged"], 2);
}

#[tokio::test]
async fn a_goobi_validated_export_refuses_the_invalid_record_with_its_findings() {
    let api = Api::spawn("").await;
    let folder = api.export_dir.path().join("Proc_9");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("demo_mono_0002.xml"), invalid_mets()).unwrap();
    let r = goobi_step(
        &api,
        object!({"path": folder.display().to_string(), "release": true, "validate": "sync", "reject_invalid": true}),
    )
    .await;
    let body = problem(r, 422).await;
    assert_eq!(body["failed"], 1);
    let file = &body["files"][0];
    assert_eq!(file["outcome"], "failed");
    assert_eq!(file["type"], "urn:vitrine:problem:invalid-record");
    assert!(!file["validation"]["findings"]
        .as_array()
        .unwrap()
        .is_empty());
    // The journal line names the export, the file, the rule and that nothing was stored.
    let detail = body["detail"].as_str().unwrap();
    for part in [
        "Proc_9",
        "demo_mono_0002.xml",
        "METS-AP-Kap-",
        "nothing was stored",
    ] {
        assert!(detail.contains(part), "{part} missing in {detail}");
    }
    assert_eq!(api.status("demo_mono_0002").await.0, 404, "nothing stored");

    // Validated, not refused: stored with its findings in the answer.
    export_folder(&folder, &["demo_mono_0001"]);
    let r = goobi_step(
        &api,
        object!({"path": folder.join("demo_mono_0001.xml").display().to_string(), "validate": "sync"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    let result = &body["files"][0]["validation"]["result"];
    assert!(
        result["zmods_validation"]
            .as_str()
            .unwrap()
            .starts_with("valid"),
        "{result}"
    );
}

#[tokio::test]
async fn paths_outside_the_export_folders_are_forbidden() {
    let api = Api::spawn("").await;
    let outside = tempfile::tempdir().unwrap();
    export_folder(outside.path(), &["demo_mono_0001"]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path(), api.export_dir.path().join("link")).unwrap();
    for path in [
        "../etc".to_string(),
        "sub/../../etc".to_string(),
        outside.path().display().to_string(),
        "/etc/passwd".to_string(),
        "link".to_string(),
    ] {
        let r = goobi_step(&api, object!({"path": path})).await;
        problem(r, 403).await;
    }
    assert_eq!(api.status("demo_mono_0001").await.0, 404);
    let r = goobi_step(&api, object!({"path": "no_such_process"})).await;
    problem(r, 404).await;
}

#[tokio::test]
async fn a_malformed_export_call_is_refused_precisely() {
    let api = Api::spawn("").await;
    let r = api
        .request(Method::POST, "/api/v1/domains/ulb/exports")
        .header("content-type", "application/json")
        .body("{\"path\": \"x\",\n \"release\": yes}")
        .send()
        .await
        .unwrap();
    let body = problem(r, 400).await;
    assert_eq!(body["line"], 2);
    let r = goobi_step(&api, object!({"path": "x", "mode": "fast"})).await;
    problem(r, 400).await;
    let r = goobi_step(&api, object!({"path": "x", "validate": "later"})).await;
    problem(r, 400).await;
    let r = api
        .request(Method::POST, "/api/v1/domains/ulb/exports")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("path=x")
        .send()
        .await
        .unwrap();
    problem(r, 415).await;
}

#[tokio::test]
async fn without_export_folders_every_export_call_is_forbidden() {
    let app = TestApp::spawn().await;
    let token =
        crate::ingest_helpers::token(&app, "ulb", vitrine::store::TokenScope::Ingest, None).await;
    let r = app
        .client
        .post(format!("{}/api/v1/domains/ulb/exports", app.address))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(object!({"path": "/tmp"}).to_string())
        .send()
        .await
        .unwrap();
    let body = problem(r, 403).await;
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("ingest.export_dirs"));
}

#[tokio::test]
async fn the_hotfolder_imports_complete_files_and_moves_them_to_done_or_failed() {
    let hot = tempfile::tempdir().unwrap();
    let export = tempfile::tempdir().unwrap();
    let extra = format!(
        "watch = [{:?}]\nwatch_release = true\n",
        hot.path().display().to_string()
    );
    let app = TestApp::spawn_with(&api_config(export.path(), &extra)).await;
    export_folder(hot.path(), &["demo_mono_0001"]);
    export_folder(&hot.path().join("zd"), &["demo_mono_0002"]);
    std::fs::write(
        hot.path().join("broken.xml"),
        "<mets:mets xmlns:mets=\"http://www.loc.gov/METS/\">\n<a>",
    )
    .unwrap();
    let mut watcher = Hotfolders::new(app.time());
    let first = watcher
        .scan(app.store.clone(), app.tree().await, &app.config)
        .await;
    assert_eq!(first.waiting, 3, "files seen once may still be growing");
    assert!(first.imported.is_empty());
    let second = watcher
        .scan(app.store.clone(), app.tree().await, &app.config)
        .await;
    assert_eq!(second.imported.len(), 2, "{second:?}");
    assert_eq!(second.failed.len(), 1);
    assert!(hot.path().join("done/demo_mono_0001.xml").is_file());
    assert!(hot.path().join("zd/done/demo_mono_0002.xml").is_file());
    assert!(hot.path().join("failed/broken.xml").is_file());
    let reason = std::fs::read_to_string(hot.path().join("failed/broken.xml.error")).unwrap();
    assert!(reason.contains("line 2"), "{reason}");
    assert!(!hot.path().join("demo_mono_0001.xml").exists());
    assert!(app.status("ulb", "demo_mono_0001").await.released);
    assert_eq!(
        app.status("zd", "demo_mono_0002").await.local_id,
        "demo_mono_0002"
    );
}

#[tokio::test]
async fn a_goobi_http_step_without_headers_sends_its_token_in_the_body() {
    let api = Api::spawn("").await;
    let folder = api.export_dir.path().join("Proc_2");
    export_folder(&folder, &["demo_mono_0003"]);
    let send = |body: Value| {
        api.app
            .client
            .post(format!("{}/api/v1/domains/ulb/exports", api.app.address))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let r = send(object!({"path": "Proc_2"})).await.unwrap();
    assert!(problem(r, 401).await["detail"]
        .as_str()
        .unwrap()
        .contains("token"));
    let r = send(object!({"path": "Proc_2", "token": "vit_1_wrong"}))
        .await
        .unwrap();
    problem(r, 401).await;
    assert_eq!(api.status("demo_mono_0003").await.0, 404);
    let r = send(object!({"path": "Proc_2", "release": true, "token": api.token}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["created"], 1);
}
