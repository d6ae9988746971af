//! A protected (Basic auth) sub-domain's records are reachable only with its credentials,
//! also through the endpoints of its ancestors (SPEC §9): lists, sets, GetRecord,
//! ListMetadataFormats, ListSets, the start page and resumption tokens.

use crate::helpers::{TestApp, Xml, TEST_CONFIG};

const USER: &str = "rosetta";
const PASSWORD: &str = "s3cret";

async fn protected_zd() -> TestApp {
    let config = format!(
        "{TEST_CONFIG}\n[domains.zd.oai.auth]\nuser = \"{USER}\"\npassword = \"{PASSWORD}\"\n"
    );
    let app = TestApp::spawn_with(&config).await;
    app.import_demo().await;
    app
}

/// An OAI request with optional Basic credentials, parsed and schema-checked.
async fn oai(app: &TestApp, path: &str, query: &[(&str, &str)], auth: Option<(&str, &str)>) -> Xml {
    let mut request = app
        .client
        .get(format!("{}{}", app.address, path))
        .query(query);
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path} {query:?}");
    let x = Xml::parse(&response.bytes().await.unwrap());
    x.assert_valid_oai();
    x
}

/// Every identifier of a list, following resumption tokens; and the completeListSize.
async fn harvest(
    app: &TestApp,
    path: &str,
    query: &[(&str, &str)],
    auth: Option<(&str, &str)>,
) -> (Vec<String>, Option<usize>) {
    let mut x = oai(app, path, query, auth).await;
    let verb = query[0].1;
    let mut ids = x.all("//o:header/o:identifier");
    let size = x
        .all("//o:resumptionToken/@completeListSize")
        .first()
        .map(|s| s.parse().unwrap());
    while let Some(token) = x.token().filter(|t| !t.is_empty()) {
        x = oai(
            app,
            path,
            &[("verb", verb), ("resumptionToken", &token)],
            auth,
        )
        .await;
        ids.extend(x.all("//o:header/o:identifier"));
    }
    (ids, size)
}

const CREDENTIALS: Option<(&str, &str)> = Some((USER, PASSWORD));
const ZD_RECORD: &str = "oai:digital.ulb.example.org:demo_zd_0001";

#[tokio::test]
async fn anonymous_clients_of_an_ancestor_see_nothing_of_a_protected_sub_domain() {
    let app = protected_zd().await;
    let (zd, _) = harvest(
        &app,
        "/zd/oai",
        &[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")],
        CREDENTIALS,
    )
    .await;
    assert_eq!(
        zd.len(),
        8,
        "the sub-domain's own endpoint serves its records"
    );
    assert!(zd.iter().any(|id| id == ZD_RECORD));

    let list = [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")];
    let (root, size) = harvest(&app, "/oai", &list, None).await;
    assert_eq!(root.len(), 26, "only the root domain's own records");
    assert_eq!(
        size,
        Some(26),
        "completeListSize counts only what the client sees"
    );
    assert!(root.iter().all(|id| !zd.contains(id)));
    let (records, _) = harvest(
        &app,
        "/oai",
        &[("verb", "ListRecords"), ("metadataPrefix", "mets")],
        None,
    )
    .await;
    assert_eq!(records.len(), 26);

    for set in ["zd"] {
        let x = oai(
            &app,
            "/oai",
            &[
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", "oai_dc"),
                ("set", set),
            ],
            None,
        )
        .await;
        assert_eq!(x.errors(), vec!["noRecordsMatch"], "set {set}");
    }
    let x = oai(
        &app,
        "/oai",
        &[
            ("verb", "GetRecord"),
            ("identifier", ZD_RECORD),
            ("metadataPrefix", "oai_dc"),
        ],
        None,
    )
    .await;
    assert_eq!(x.errors(), vec!["idDoesNotExist"]);
    let x = oai(
        &app,
        "/oai",
        &[("verb", "ListMetadataFormats"), ("identifier", ZD_RECORD)],
        None,
    )
    .await;
    assert_eq!(x.errors(), vec!["idDoesNotExist"]);
    let x = oai(&app, "/oai", &[("verb", "ListSets")], None).await;
    assert!(!x
        .all("//o:setSpec")
        .iter()
        .any(|s| s == "zd" || s.starts_with("zd:")));

    let home = app.get("/", &[]).await.text().await.unwrap();
    assert!(
        !home.contains("/zd/oai"),
        "the start page does not advertise it"
    );
}

#[tokio::test]
async fn the_sub_domains_credentials_open_its_records_through_the_ancestors_endpoint() {
    let app = protected_zd().await;
    let list = [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")];
    let (all, size) = harvest(&app, "/oai", &list, CREDENTIALS).await;
    assert_eq!(all.len(), 34);
    assert_eq!(size, Some(34));
    let (zd, _) = harvest(
        &app,
        "/oai",
        &[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("set", "zd"),
        ],
        CREDENTIALS,
    )
    .await;
    assert_eq!(zd.len(), 8);
    let x = oai(
        &app,
        "/oai",
        &[
            ("verb", "GetRecord"),
            ("identifier", ZD_RECORD),
            ("metadataPrefix", "oai_dc"),
        ],
        CREDENTIALS,
    )
    .await;
    assert!(x.errors().is_empty());
    assert_eq!(x.s("string(//o:header/o:setSpec)"), "zd");
    let x = oai(&app, "/oai", &[("verb", "ListSets")], CREDENTIALS).await;
    assert!(x.all("//o:setSpec").iter().any(|s| s == "zd"));
    let home = app
        .client
        .get(format!("{}/", app.address))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("/zd/oai"));
    // Wrong credentials open nothing.
    let (wrong, _) = harvest(&app, "/oai", &list, Some((USER, "nope"))).await;
    assert_eq!(wrong.len(), 26);
}

#[tokio::test]
async fn a_token_issued_with_credentials_serves_no_anonymous_client() {
    let app = protected_zd().await;
    let list = [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")];
    let first = oai(&app, "/oai", &list, CREDENTIALS).await;
    let token = first.token().expect("a first page of 10");
    let next = [
        ("verb", "ListIdentifiers"),
        ("resumptionToken", token.as_str()),
    ];
    let x = oai(&app, "/oai", &next, None).await;
    assert_eq!(x.errors(), vec!["badResumptionToken"]);
    assert_eq!(x.count("//o:header"), 0);
    let x = oai(&app, "/oai", &next, CREDENTIALS).await;
    assert!(x.errors().is_empty());
    assert_eq!(x.count("//o:header"), 10);
    // And the other way round: an anonymous token does not widen with credentials.
    let anonymous = oai(&app, "/oai", &list, None).await.token().unwrap();
    let x = oai(
        &app,
        "/oai",
        &[
            ("verb", "ListIdentifiers"),
            ("resumptionToken", anonymous.as_str()),
        ],
        CREDENTIALS,
    )
    .await;
    assert_eq!(x.errors(), vec!["badResumptionToken"]);
}

#[tokio::test]
async fn the_endpoint_of_a_protected_domains_sub_domain_needs_its_credentials_too() {
    let config = format!(
        "{TEST_CONFIG}\n[domains.ulb.oai.auth]\nuser = \"{USER}\"\npassword = \"{PASSWORD}\"\n"
    );
    let app = TestApp::spawn_with(&config).await;
    app.import_demo().await;
    let identify = [("verb", "Identify")];
    assert_eq!(app.get("/zd/oai", &identify).await.status(), 401);
    let x = oai(&app, "/zd/oai", &identify, CREDENTIALS).await;
    assert!(x.errors().is_empty());
    let (zd, _) = harvest(
        &app,
        "/zd/oai",
        &[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")],
        CREDENTIALS,
    )
    .await;
    assert_eq!(zd.len(), 8);
}
