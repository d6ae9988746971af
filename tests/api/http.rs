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

#[tokio::test]
async fn head_answers_wherever_get_does_without_a_body() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    for (path, query) in [
        ("/oai", "verb=Identify"),
        ("/oai", "verb=ListRecords&metadataPrefix=mets"),
        ("/zd/oai", "verb=ListIdentifiers&metadataPrefix=oai_dc"),
        ("/", ""),
        ("/health", ""),
        ("/schemas/diagnostics.xsd", ""),
    ] {
        let url = format!("{}{path}?{query}", app.address);
        let get = app.client.get(&url).send().await.unwrap();
        let head = app.client.head(&url).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}?{query}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "no body: {path}");
    }
}

#[tokio::test]
async fn other_methods_get_405_with_the_allowed_ones() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/oai", "GET, HEAD, POST"),
        (reqwest::Method::DELETE, "/zd/oai", "GET, HEAD, POST"),
        (reqwest::Method::PATCH, "/nosuch/oai", "GET, HEAD, POST"),
        (reqwest::Method::POST, "/", "GET, HEAD"),
        (reqwest::Method::DELETE, "/health", "GET, HEAD"),
    ] {
        let r = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
    }
}

#[tokio::test]
async fn the_basic_scheme_name_is_case_insensitive() {
    use base64::Engine;
    let config = format!(
        "{}\n[domains.zd.oai.auth]\nuser = \"rosetta\"\npassword = \"s3cret\"\n",
        crate::helpers::TEST_CONFIG
    );
    let app = TestApp::spawn_with(&config).await;
    let encoded = base64::engine::general_purpose::STANDARD.encode("rosetta:s3cret");
    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        let r = app
            .client
            .get(format!("{}/zd/oai?verb=Identify", app.address))
            .header("authorization", format!("{scheme} {encoded}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
    let r = app
        .client
        .get(format!("{}/zd/oai?verb=Identify", app.address))
        .header("authorization", format!("Bearer {encoded}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Identify's baseURL for a request carrying every forwarding header.
async fn forwarded_base_url(app: &TestApp) -> String {
    let r = app
        .client
        .get(format!("{}/oai?verb=Identify", app.address))
        .header("x-forwarded-host", "harvest.example.org")
        .header("x-forwarded-proto", "https")
        .header("forwarded", "host=harvest.example.org;proto=https")
        .send()
        .await
        .unwrap();
    let x = Xml::parse(&r.bytes().await.unwrap());
    x.s("string(//o:baseURL)")
}

#[tokio::test]
async fn forwarding_headers_count_only_from_trusted_proxies() {
    let app = TestApp::spawn().await;
    assert_eq!(
        forwarded_base_url(&app).await,
        format!("{}/oai", app.address),
        "by default no client is believed"
    );
    let config = format!(
        "[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n{}",
        crate::helpers::TEST_CONFIG
    );
    let app = TestApp::spawn_with(&config).await;
    assert_eq!(
        forwarded_base_url(&app).await,
        format!("{}/oai", app.address),
        "127.0.0.1 is not among the trusted proxies"
    );
    let config = format!(
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n{}",
        crate::helpers::TEST_CONFIG
    );
    let app = TestApp::spawn_with(&config).await;
    assert_eq!(
        forwarded_base_url(&app).await,
        "https://harvest.example.org/oai"
    );
}

#[tokio::test]
async fn domain_show_masks_the_basic_password() {
    let config = format!(
        "{}\n[domains.zd.oai.auth]\nuser = \"rosetta\"\npassword = \"s3cret\"\n",
        crate::helpers::TEST_CONFIG
    );
    let app = TestApp::spawn_with(&config).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vitrine.toml");
    std::fs::write(&file, &config).unwrap();
    let vitrine = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
            .arg("--config")
            .arg(&file)
            .args(["--database", &app.url])
            .args(args)
            .env_remove("VITRINE_LOG")
            .output()
            .expect("run vitrine");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let shown = vitrine(&["domain", "show", "zd"]);
    assert!(shown.contains("rosetta"), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("password = \"********\""), "{shown}");
    vitrine(&["domain", "set", "zd", "oai.auth.password", "n3w-secret"]);
    let shown = vitrine(&["domain", "show", "zd"]);
    assert!(
        !shown.contains("n3w-secret") && !shown.contains("s3cret"),
        "{shown}"
    );
}
