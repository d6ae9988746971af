//! `/metrics` on the metrics listener: after real OAI-PMH requests the page, parsed line
//! by line, counts them by endpoint, verb and status, with their latency and the bytes
//! sent; 503s and the overload counter; records per domain and state as the store holds
//! them; the validator run; the connection pool.

use crate::helpers::{TestApp, TEST_CONFIG};
use crate::prometheus_text::Page;

const METRICS: &str = "[server]\nmetrics_bind = \"127.0.0.1:0\"\n";

async fn scrape(app: &TestApp) -> Page {
    let address = app.metrics_address.as_ref().expect("a metrics listener");
    let r = app
        .client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let page = Page::parse(&r.text().await.unwrap());
    for sample in &page.samples {
        assert!(sample.name.starts_with("vitrine_"), "{}", sample.name);
        let family = page
            .family(&sample.name)
            .unwrap_or_else(|| panic!("no TYPE for {}", sample.name));
        assert!(page.help.contains_key(family), "no HELP for {family}");
    }
    page
}

/// Body length of a response as sent (no compression asked for).
async fn body_len(r: reqwest::Response) -> f64 {
    r.bytes().await.unwrap().len() as f64
}

#[tokio::test]
async fn oai_requests_are_counted_by_endpoint_verb_and_status() {
    let app = TestApp::spawn_with(&format!("{METRICS}{TEST_CONFIG}")).await;
    app.import_demo().await;
    let mut identify_bytes = 0.0;
    for _ in 0..2 {
        let r = app.get("/oai", &[("verb", "Identify")]).await;
        assert_eq!(r.status(), 200);
        identify_bytes += body_len(r).await;
    }
    // The demo has more records than two pages (10 each): both pages issue a token.
    let first = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")])
        .await;
    let token = first.token().expect("a resumption token");
    let second = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &token)])
        .await;
    assert!(!second.token().expect("a resumption token").is_empty());
    app.oai_at(
        "/zd/oai",
        &[("verb", "ListRecords"), ("metadataPrefix", "oai_dc")],
    )
    .await;
    assert_eq!(app.get("/oai", &[("verb", "Nonsense")]).await.status(), 200);
    assert_eq!(app.get("/oai", &[]).await.status(), 200);
    assert_eq!(
        app.get("/nosuch/oai", &[("verb", "Identify")])
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/nowhere", &[]).await.status(), 404);
    assert_eq!(app.get("/health", &[]).await.status(), 200);

    let page = scrape(&app).await;
    let requests = |endpoint: &str, verb: &str, status: &str| {
        page.get(
            "vitrine_http_requests_total",
            &[("endpoint", endpoint), ("verb", verb), ("status", status)],
        )
    };
    assert_eq!(requests("/oai", "Identify", "200"), Some(2.0));
    assert_eq!(requests("/oai", "ListIdentifiers", "200"), Some(2.0));
    assert_eq!(requests("/zd/oai", "ListRecords", "200"), Some(1.0));
    assert_eq!(requests("/oai", "illegal", "200"), Some(1.0));
    assert_eq!(requests("/oai", "none", "200"), Some(1.0));
    // Unknown names add no series of their own.
    assert_eq!(requests("/{dname}/oai", "Identify", "404"), Some(1.0));
    assert!(page
        .find(
            "vitrine_http_requests_total",
            &[("endpoint", "/nosuch/oai")]
        )
        .is_empty());
    assert_eq!(requests("other", "", "404"), Some(1.0));
    assert_eq!(requests("/health", "", "200"), Some(1.0));
    let oai_requests: f64 = page
        .find("vitrine_http_requests_total", &[])
        .iter()
        .filter(|s| !s.labels["verb"].is_empty())
        .map(|s| s.value)
        .sum();
    assert_eq!(oai_requests, 8.0, "every OAI request once");

    // Latency: a histogram per endpoint and verb, cumulative, ending in +Inf = count.
    let labels = [("endpoint", "/oai"), ("verb", "Identify")];
    let buckets = page.find("vitrine_http_request_duration_seconds_bucket", &labels);
    assert_eq!(buckets.len(), 15, "1 ms to 30 s and +Inf");
    assert_eq!(buckets[0].labels["le"], "0.001");
    assert_eq!(buckets[13].labels["le"], "30");
    assert!(buckets.windows(2).all(|w| w[0].value <= w[1].value));
    assert_eq!(buckets[14].labels["le"], "+Inf");
    assert_eq!(buckets[14].value, 2.0);
    assert_eq!(
        page.value("vitrine_http_request_duration_seconds_count", &labels),
        2.0
    );
    let sum = page.value("vitrine_http_request_duration_seconds_sum", &labels);
    assert!(sum > 0.0 && sum < 60.0, "{sum}");
    assert_eq!(
        page.kind["vitrine_http_request_duration_seconds"],
        "histogram"
    );

    // Bytes: exactly the bodies the client received.
    assert_eq!(
        page.value("vitrine_http_response_bytes_total", &labels),
        identify_bytes
    );
    assert_eq!(page.kind["vitrine_http_response_bytes_total"], "counter");
    assert_eq!(
        page.value(
            "vitrine_oai_resumption_tokens_issued_total",
            &[("endpoint", "/oai"), ("verb", "ListIdentifiers")]
        ),
        2.0
    );
    // The last page of zd's list (8 records) carries no token.
    assert!(page
        .find(
            "vitrine_oai_resumption_tokens_issued_total",
            &[("endpoint", "/zd/oai")]
        )
        .is_empty());
    assert_eq!(
        page.value(
            "vitrine_overload_rejections_total",
            &[("limit", "requests")]
        ),
        0.0
    );

    // Records per domain and state: what the store counts.
    for domain in ["ulb", "zd"] {
        let d = app.domain(domain).await;
        let counts = app.store.validation_counts(&[d.id]).await.unwrap();
        assert!(counts.values().sum::<i64>() > 0);
        for (state, n) in counts {
            let shown = page
                .get("vitrine_records", &[("domain", domain), ("state", &state)])
                .unwrap_or(0.0);
            assert_eq!(shown, n as f64, "{domain} {state}");
        }
    }
    assert_eq!(page.kind["vitrine_records"], "gauge");
    assert_eq!(page.value("vitrine_database_up", &[]), 1.0);
    assert_eq!(page.value("vitrine_db_pool_max_connections", &[]), 8.0);
    let in_use = page.value("vitrine_db_pool_connections", &[("state", "in_use")]);
    let idle = page.value("vitrine_db_pool_connections", &[("state", "idle")]);
    assert!(in_use + idle >= 1.0 && in_use + idle <= 8.0);

    // The main listener does not serve /metrics.
    assert_eq!(app.get("/metrics", &[]).await.status(), 404);
}

#[tokio::test]
async fn a_503_is_counted_by_status_and_as_overload() {
    let config = format!(
        "[server]\nmax_concurrent_requests = 1\nmetrics_bind = \"127.0.0.1:0\"\n{TEST_CONFIG}"
    );
    let app = TestApp::spawn_with(&config).await;
    app.import_demo().await;
    let requests: Vec<_> = (0..16)
        .map(|_| {
            app.get(
                "/oai",
                &[("verb", "ListRecords"), ("metadataPrefix", "mets")],
            )
        })
        .collect();
    let mut refused = 0.0;
    let mut served = 0.0;
    for r in futures_util::future::join_all(requests).await {
        match r.status().as_u16() {
            503 => refused += 1.0,
            200 => served += 1.0,
            other => panic!("status {other}"),
        }
    }
    assert!(refused > 0.0, "some requests must be refused");
    let page = scrape(&app).await;
    let labels = |status| {
        [
            ("endpoint", "/oai"),
            ("verb", "ListRecords"),
            ("status", status),
        ]
    };
    assert_eq!(
        page.value("vitrine_http_requests_total", &labels("503")),
        refused
    );
    assert_eq!(
        page.value("vitrine_http_requests_total", &labels("200")),
        served
    );
    assert_eq!(
        page.value(
            "vitrine_overload_rejections_total",
            &[("limit", "requests")]
        ),
        refused
    );
    // The checks are answered whatever the load.
    assert_eq!(app.get("/health", &[]).await.status(), 200);
}

#[tokio::test]
async fn a_validator_run_shows_its_progress_and_records_per_state() {
    let config = format!("{METRICS}{}", crate::qa_pages::config());
    let app = TestApp::spawn_with(&config).await;
    app.import_demo().await;
    let report = crate::qa_pages::run_job(&app, false).await;
    assert!(report.validated > 0);
    let page = scrape(&app).await;
    let ulb = [("domain", "ulb")];
    assert_eq!(page.value("vitrine_validator_running", &ulb), 0.0);
    assert_eq!(
        page.value("vitrine_validator_run_validated_records", &ulb),
        report.validated as f64
    );
    assert_eq!(
        page.value("vitrine_validator_run_waiting_records", &ulb),
        0.0
    );
    let run = app
        .store
        .job_run(report.run_id)
        .await
        .unwrap()
        .expect("the run");
    assert_eq!(
        page.value("vitrine_validator_run_started_timestamp_seconds", &ulb),
        run.started_at as f64
    );
    let seconds = page.value("vitrine_validator_run_duration_seconds", &ulb);
    let rate = page.value("vitrine_validator_run_records_per_second", &ulb);
    assert_eq!(rate, report.validated as f64 / seconds.max(1.0));
    assert_eq!(
        page.value(
            "vitrine_validator_run_info",
            &[("domain", "ulb"), ("status", "finished"), ("phase", "done")]
        ),
        1.0
    );
    // No run on zd itself: no series for it.
    assert!(page
        .find("vitrine_validator_running", &[("domain", "zd")])
        .is_empty());
    // After the run no record waits; every state the store counts is shown.
    let scope = app.tree().await.zmets_scope(app.domain("ulb").await.id);
    let counts = app.store.validation_counts(&scope).await.unwrap();
    assert_eq!(counts["undefined"], 0);
    let shown: f64 = page
        .find("vitrine_records", &[])
        .iter()
        .filter(|s| s.labels["state"] != "undefined")
        .map(|s| s.value)
        .sum();
    assert_eq!(shown, counts.values().sum::<i64>() as f64);
}
