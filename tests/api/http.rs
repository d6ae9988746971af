//! HTTP behaviour of the endpoint (OAI-TRAPS "HTTP").

use crate::helpers::{TestApp, Xml};

#[tokio::test]
async fn post_with_form_arguments_answers_like_get() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let response = app
        .client
        .post(format!("{}/oai", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("verb=GetRecord&identifier=oai%3Adigital.ulb.example.org%3Ademo_mono_0001&metadataPrefix=oai_dc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let x = Xml::parse(&response.bytes().await.unwrap());
    assert_eq!(
        x.s("string(//o:header/o:identifier)"),
        "oai:digital.ulb.example.org:demo_mono_0001"
    );
}

#[tokio::test]
async fn compression_is_used_only_when_asked_for() {
    let app = TestApp::spawn().await;
    let plain = app.get("/oai", &[("verb", "Identify")]).await;
    assert!(plain.headers().get("content-encoding").is_none());
    let gz = app
        .client
        .get(format!("{}/oai?verb=Identify", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let bytes = gz.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    let deflate = app
        .client
        .get(format!("{}/oai?verb=Identify", app.address))
        .header("accept-encoding", "deflate")
        .send()
        .await
        .unwrap();
    assert_eq!(deflate.headers()["content-encoding"], "deflate");
}

#[tokio::test]
async fn an_unknown_domain_is_not_found_and_the_base_url_never_redirects() {
    let app = TestApp::spawn().await;
    let r = app.get("/nosuch/oai", &[("verb", "Identify")]).await;
    assert_eq!(r.status(), 404);
    let r = app.get("/oai", &[]).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn basic_auth_protects_a_configured_endpoint() {
    let config = format!(
        "{}\n[domains.zd.oai.auth]\nuser = \"rosetta\"\npassword = \"s3cret\"\n",
        crate::helpers::TEST_CONFIG
    );
    let app = TestApp::spawn_with(&config).await;
    let r = app.get("/zd/oai", &[("verb", "Identify")]).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let wrong = app
        .client
        .get(format!("{}/zd/oai?verb=Identify", app.address))
        .basic_auth("rosetta", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let ok = app
        .client
        .get(format!("{}/zd/oai?verb=Identify", app.address))
        .basic_auth("rosetta", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        app.get("/oai", &[("verb", "Identify")]).await.status(),
        200,
        "other endpoints stay open"
    );
}

#[tokio::test]
async fn overload_is_answered_with_503_and_retry_after() {
    let config = format!(
        "[server]\nmax_concurrent_requests = 1\nretry_after_seconds = 7\n{}",
        crate::helpers::TEST_CONFIG
    );
    let app = TestApp::spawn_with(&config).await;
    app.import_demo().await;
    let mut statuses = Vec::new();
    let requests: Vec<_> = (0..16)
        .map(|_| {
            app.get(
                "/oai",
                &[("verb", "ListRecords"), ("metadataPrefix", "mets")],
            )
        })
        .collect();
    for r in futures_util::future::join_all(requests).await {
        if r.status() == 503 {
            assert_eq!(r.headers()["retry-after"], "7");
        }
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&200));
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503));
}
