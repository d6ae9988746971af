//! The ingest API (`/api/v1`, SPEC §4): storing METS by PUT and POST, status, release,
//! withdrawal, deletion, validation within the request, and every error status — each
//! asserted on the answer and on what is (not) stored.

use crate::ingest_helpers::{chunked_put, fixture, invalid_mets, json, problem, token, Api};
use reqwest::Method;
use serde_json::Value;
use vitrine::store::TokenScope;

#[tokio::test]
async fn a_put_creates_then_replaces_and_an_identical_put_changes_nothing() {
    let api = Api::spawn("").await;
    let mets = fixture("demo_mono_0001");
    let r = api.put("demo_mono_0001", mets.clone(), &[]).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["location"],
        "/api/v1/domains/ulb/records/demo_mono_0001"
    );
    let body = json(r).await;
    assert_eq!(body["outcome"], "created");
    assert_eq!(
        body["oai_identifier"],
        "oai:digital.ulb.example.org:demo_mono_0001"
    );
    assert_eq!(body["validation"]["mode"], "background");
    let r = api.put("demo_mono_0001", mets.clone(), &[]).await;
    assert_eq!(r.status(), 204);
    let changed = String::from_utf8(mets)
        .unwrap()
        .replace("1684", "1685")
        .into_bytes();
    let r = api.put("demo_mono_0001", changed, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["outcome"], "replaced");
    let (status, record) = api.status("demo_mono_0001").await;
    assert_eq!(status, 200);
    assert_eq!(record["zmods_validation"], "undefined");
    assert_eq!(record["released"], false);
}

#[tokio::test]
async fn a_post_takes_the_id_from_the_mets_and_answers_with_its_location() {
    let api = Api::spawn("").await;
    let r = api
        .request(Method::POST, "/api/v1/domains/ulb/records")
        .query(&[("release", "true")])
        .header("content-type", "text/xml; charset=utf-8")
        .body(fixture("demo_mono_0002"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["location"],
        "/api/v1/domains/ulb/records/demo_mono_0002"
    );
    let x = api
        .app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:digital.ulb.example.org:demo_mono_0002"),
            ("metadataPrefix", "mets"),
        ])
        .await;
    assert!(x.errors().is_empty(), "a released record is harvested");
}

#[tokio::test]
async fn a_put_whose_mets_names_another_id_is_refused_naming_both() {
    let api = Api::spawn("").await;
    let r = api.put("PPN999", fixture("demo_mono_0001"), &[]).await;
    let body = problem(r, 422).await;
    assert_eq!(body["given"], "PPN999");
    assert_eq!(body["found"], "demo_mono_0001");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("PPN999") && detail.contains("demo_mono_0001"),
        "{detail}"
    );
    assert_eq!(api.status("demo_mono_0001").await.0, 404);
}

#[tokio::test]
async fn malformed_xml_is_refused_with_its_line_and_column_and_nothing_is_stored() {
    let api = Api::spawn("").await;
    let r = api
        .put(
            "x1",
            b"<mets:mets xmlns:mets=\"http://www.loc.gov/METS/\">\n  <a></b>".to_vec(),
            &[],
        )
        .await;
    let body = problem(r, 400).await;
    assert_eq!(body["type"], "urn:vitrine:problem:malformed-xml");
    assert_eq!(body["line"], 2);
    assert!(body["column"].as_u64().unwrap() > 0);
    let r = api
        .put(
            "x1",
            b"<mods xmlns=\"http://www.loc.gov/mods/v3\"/>".to_vec(),
            &[],
        )
        .await;
    let body = problem(r, 422).await;
    assert_eq!(body["type"], "urn:vitrine:problem:not-mets");
    assert_eq!(api.status("x1").await.0, 404);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_before_it_is_read_whole() {
    let api = Api::spawn("").await;
    // Declared too large: refused on the header alone.
    let r = api.put("big", vec![b' '; 300_000], &[]).await;
    let body = problem(r, 413).await;
    assert_eq!(body["limit"], 200000);
    // Streamed without a length (chunked): refused when the limit is passed.
    let raw = chunked_put(&api, "/api/v1/domains/ulb/records/big", 40, 10_000).await;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.contains("application/problem+json"), "{raw}");
    assert_eq!(api.status("big").await.0, 404);
}

#[tokio::test]
async fn a_body_that_is_not_xml_is_refused_with_415() {
    let api = Api::spawn("").await;
    let r = api
        .request(Method::PUT, "/api/v1/domains/ulb/records/demo_mono_0001")
        .header("content-type", "application/json")
        .body(fixture("demo_mono_0001"))
        .send()
        .await
        .unwrap();
    let body = problem(r, 415).await;
    assert!(body["detail"].as_str().unwrap().contains("application/xml"));
    let r = api
        .request(Method::PUT, "/api/v1/domains/ulb/records/demo_mono_0001")
        .body(fixture("demo_mono_0001"))
        .send()
        .await
        .unwrap();
    problem(r, 415).await;
}

#[tokio::test]
async fn an_unknown_domain_or_record_is_404() {
    let api = Api::spawn("").await;
    let r = api
        .request(Method::GET, "/api/v1/domains/nosuch/records/x")
        .send()
        .await
        .unwrap();
    assert!(problem(r, 404).await["detail"]
        .as_str()
        .unwrap()
        .contains("nosuch"));
    for (method, path) in [
        (Method::GET, "/api/v1/domains/ulb/records/missing"),
        (Method::DELETE, "/api/v1/domains/ulb/records/missing"),
        (Method::POST, "/api/v1/domains/ulb/records/missing/release"),
        (Method::POST, "/api/v1/domains/ulb/records/missing/withdraw"),
    ] {
        let r = api.request(method, path).send().await.unwrap();
        problem(r, 404).await;
    }
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let api = Api::spawn("").await;
    let url = format!("{}/api/v1/domains/ulb/records/x", api.app.address);
    let r = api.app.client.get(&url).send().await.unwrap();
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    problem(r, 401).await;
    for bad in ["garbage", "vit_1_wrongsecret", "vit_999_x"] {
        let r = api
            .app
            .client
            .get(&url)
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        problem(r, 401).await;
    }
    let expiring = Some(api.app.clock.now() + 60);
    let expired = token(&api.app, "ulb", TokenScope::Ingest, expiring).await;
    let with_it = || api.app.client.get(&url).bearer_auth(&expired).send();
    api.app.clock.advance(59);
    problem(with_it().await.unwrap(), 404).await;
    api.app.clock.advance(1);
    assert!(problem(with_it().await.unwrap(), 401).await["detail"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let revoked = token(&api.app, "ulb", TokenScope::Ingest, None).await;
    let id: i64 = revoked.split('_').nth(1).unwrap().parse().unwrap();
    api.app
        .store
        .revoke_token(id, api.app.clock.now())
        .await
        .unwrap();
    let r = api
        .app
        .client
        .get(&url)
        .bearer_auth(&revoked)
        .send()
        .await
        .unwrap();
    assert!(problem(r, 401).await["detail"]
        .as_str()
        .unwrap()
        .contains("revoked"));
}

#[tokio::test]
async fn a_token_covers_its_domain_and_those_below_and_needs_the_ingest_scope_to_write() {
    let api = Api::spawn("").await;
    let zd_token = token(&api.app, "zd", TokenScope::Ingest, None).await;
    let read_token = token(&api.app, "ulb", TokenScope::Read, None).await;
    let put = |token: String, domain: &'static str| {
        let api = &api;
        async move {
            api.app
                .client
                .put(format!(
                    "{}/api/v1/domains/{domain}/records/demo_mono_0001",
                    api.app.address
                ))
                .bearer_auth(token)
                .header("content-type", "application/xml")
                .body(fixture("demo_mono_0001"))
                .send()
                .await
                .unwrap()
        }
    };
    let body = problem(put(zd_token.clone(), "ulb").await, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("zd"));
    let body = problem(put(read_token.clone(), "ulb").await, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("scope"));
    assert_eq!(
        put(api.token.clone(), "zd").await.status(),
        201,
        "the root's token covers zd"
    );
    let r = api
        .app
        .client
        .get(format!(
            "{}/api/v1/domains/zd/records/demo_mono_0001",
            api.app.address
        ))
        .bearer_auth(&read_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a read token reads");
}

#[tokio::test]
async fn too_many_requests_get_429_with_retry_after() {
    let api = Api::spawn("[api]\nrate_limit_per_second = 1\nrate_limit_burst = 2\n").await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let r = api
            .request(Method::GET, "/api/v1/domains/ulb/records/x")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        last = Some(r);
    }
    assert_eq!(statuses, vec![404, 404, 429]);
    let r = last.unwrap();
    assert_eq!(r.headers()["retry-after"], "1");
    problem(r, 429).await;
    let other = token(&api.app, "ulb", TokenScope::Read, None).await;
    let r = api
        .app
        .client
        .get(format!("{}/api/v1/domains/ulb/records/x", api.app.address))
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "each token has its own limit");
}

#[tokio::test]
async fn release_withdraw_and_delete_change_what_harvesters_see() {
    let api = Api::spawn("").await;
    assert_eq!(
        api.put("demo_mono_0001", fixture("demo_mono_0001"), &[])
            .await
            .status(),
        201
    );
    let get_record = || {
        api.app.oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:digital.ulb.example.org:demo_mono_0001"),
            ("metadataPrefix", "oai_dc"),
        ])
    };
    assert_eq!(get_record().await.errors(), vec!["idDoesNotExist"]);
    let r = api
        .request(
            Method::POST,
            "/api/v1/domains/ulb/records/demo_mono_0001/release",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let status = json(r).await;
    assert_eq!(status["released"], true);
    assert_eq!(status["formats"]["oai_dc"]["deleted"], false);
    assert!(get_record().await.errors().is_empty());
    let r = api
        .request(
            Method::POST,
            "/api/v1/domains/ulb/records/demo_mono_0001/withdraw",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await["released"], false);
    assert_eq!(
        get_record().await.s("string(//o:header/@status)"),
        "deleted"
    );
    let r = api
        .request(Method::DELETE, "/api/v1/domains/ulb/records/demo_mono_0001")
        .send()
        .await
        .unwrap();
    let status = json(r).await;
    assert_eq!(status["deleted"], true);
    for prefix in ["oai_dc", "mets", "mods"] {
        assert_eq!(status["formats"][prefix]["deleted"], true, "{prefix}");
    }
    let r = api
        .request(
            Method::POST,
            "/api/v1/domains/ulb/records/demo_mono_0001/release",
        )
        .send()
        .await
        .unwrap();
    problem(r, 409).await;
}

#[tokio::test]
async fn the_status_names_parent_and_children() {
    let api = Api::spawn("").await;
    for id in ["demo_mvw_0001_01", "demo_mvw_0001", "demo_mvw_0001_02"] {
        assert_eq!(api.put(id, fixture(id), &[]).await.status(), 201, "{id}");
    }
    let (_, anchor) = api.status("demo_mvw_0001").await;
    assert_eq!(
        anchor["children"],
        serde_json::json!(["demo_mvw_0001_01", "demo_mvw_0001_02"])
    );
    assert_eq!(anchor["parent"], Value::Null);
    let (_, volume) = api.status("demo_mvw_0001_01").await;
    assert_eq!(volume["parent"], "demo_mvw_0001");
}

#[tokio::test]
async fn a_synchronous_validation_answers_with_the_findings_and_stores_the_state() {
    let api = Api::spawn("").await;
    let r = api
        .put(
            "demo_mono_0002",
            invalid_mets(),
            &[("validate", "sync"), ("release", "true")],
        )
        .await;
    assert_eq!(r.status(), 201);
    let body = json(r).await;
    assert_eq!(body["validation"]["mode"], "sync");
    let result = &body["validation"]["result"];
    assert_eq!(result["zmods_validation"], "invalid");
    let findings = result["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["class"] == "error" && f["repaired"] == false),
        "{findings:?}"
    );
    let (_, status) = api.status("demo_mono_0002").await;
    assert_eq!(status["zmods_validation"], "invalid");
    assert!(!status["findings"].as_array().unwrap().is_empty());
    assert!(status["validated"].is_string());

    let r = api
        .put(
            "demo_mono_0001",
            fixture("demo_mono_0001"),
            &[("validate", "sync"), ("release", "true")],
        )
        .await;
    let body = json(r).await;
    assert_eq!(body["validation"]["result"]["zmods_validation"], "valid");
    let x = api
        .app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:digital.ulb.example.org:demo_mono_0001"),
            ("metadataPrefix", "zmets"),
        ])
        .await;
    assert!(
        x.errors().is_empty(),
        "a valid record is in zmets at once: {:?}",
        x.errors()
    );
}

#[tokio::test]
async fn a_validated_export_refuses_an_invalid_record_with_its_findings_and_stores_nothing() {
    let api = Api::spawn("").await;
    let r = api
        .put(
            "demo_mono_0002",
            invalid_mets(),
            &[("validate", "sync"), ("reject_invalid", "true")],
        )
        .await;
    let body = problem(r, 422).await;
    assert_eq!(body["type"], "urn:vitrine:problem:invalid-record");
    assert_eq!(body["validation"]["zmods_validation"], "invalid");
    assert!(!body["validation"]["findings"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(api.status("demo_mono_0002").await.0, 404, "nothing stored");
    let r = api
        .put(
            "demo_mono_0001",
            fixture("demo_mono_0001"),
            &[("validate", "sync"), ("reject_invalid", "true")],
        )
        .await;
    assert_eq!(r.status(), 201, "a valid record passes");
}

#[tokio::test]
async fn bad_arguments_and_unknown_operations_get_problems() {
    let api = Api::spawn("").await;
    let r = api
        .put(
            "demo_mono_0001",
            fixture("demo_mono_0001"),
            &[("validate", "later")],
        )
        .await;
    problem(r, 400).await;
    let r = api
        .put(
            "demo_mono_0001",
            fixture("demo_mono_0001"),
            &[("frobnicate", "1")],
        )
        .await;
    problem(r, 400).await;
    let r = api
        .request(Method::PATCH, "/api/v1/domains/ulb/records/x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "GET, PUT, DELETE");
    problem(r, 405).await;
    let r = api
        .request(Method::GET, "/api/v1/nothing")
        .send()
        .await
        .unwrap();
    problem(r, 404).await;
    let r = api.app.get("/api/v1/openapi.json", &[]).await;
    assert_eq!(r.status(), 200);
    let doc = json(r).await;
    assert_eq!(doc["openapi"], "3.1.0");
}
