//! The six verbs answering valid requests.

use crate::helpers::TestApp;

#[tokio::test]
async fn identify_describes_the_repository() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let x = app.oai(&[("verb", "Identify")]).await;
    assert_eq!(x.s("string(//o:repositoryName)"), "ULB test repository");
    assert_eq!(x.s("string(//o:baseURL)"), format!("{}/oai", app.address));
    assert_eq!(x.s("string(//o:request)"), format!("{}/oai", app.address));
    assert_eq!(x.s("string(//o:protocolVersion)"), "2.0");
    assert_eq!(x.s("string(//o:deletedRecord)"), "persistent");
    assert_eq!(x.s("string(//o:granularity)"), "YYYY-MM-DDThh:mm:ssZ");
    assert_eq!(x.all("//o:compression"), vec!["gzip", "deflate"]);
    assert_eq!(x.all("//o:adminEmail"), vec!["digital@ulb.example.org"]);
    assert_eq!(
        x.s("string(//id:repositoryIdentifier)"),
        "digital.ulb.example.org"
    );
    assert_eq!(x.s("string(//id:delimiter)"), ":");
    // earliestDatestamp is a true lower bound of every datestamp.
    let earliest = x.s("string(//o:earliestDatestamp)");
    let all = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")])
        .await;
    for d in all.all("//o:header/o:datestamp") {
        assert!(d >= earliest, "{d} < {earliest}");
    }
    let sub = app.oai_at("/zd/oai", &[("verb", "Identify")]).await;
    assert_eq!(
        sub.s("string(//o:baseURL)"),
        format!("{}/zd/oai", app.address)
    );
    assert_eq!(sub.s("string(//o:repositoryName)"), "ULB Zeitungen");
}

#[tokio::test]
async fn list_metadata_formats_lists_the_formats_and_those_of_one_item() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let x = app.oai(&[("verb", "ListMetadataFormats")]).await;
    assert_eq!(x.all("//o:metadataPrefix"), vec!["oai_dc", "mets", "mods"]);
    assert_eq!(
        x.s("string(//o:metadataFormat[o:metadataPrefix='oai_dc']/o:schema)"),
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    );
    let one = app
        .oai(&[
            ("verb", "ListMetadataFormats"),
            ("identifier", "oai:digital.ulb.example.org:demo_mono_0001"),
        ])
        .await;
    assert_eq!(
        one.all("//o:metadataPrefix"),
        vec!["oai_dc", "mets", "mods"]
    );
}

#[tokio::test]
async fn list_sets_shows_sub_domains_and_configured_sets_hierarchically() {
    let app = TestApp::spawn().await;
    let x = app.oai(&[("verb", "ListSets")]).await;
    assert_eq!(x.all("//o:setSpec"), vec!["geschichte", "zd"]);
    assert_eq!(
        x.s("string(//o:set[o:setSpec='zd']/o:setName)"),
        "ULB Zeitungen"
    );
    assert_eq!(
        x.s("string(//o:set[o:setSpec='geschichte']/o:setDescription//dc:description)"),
        "Digitale Sammlung Geschichte"
    );
    let sub = app.oai_at("/zd/oai", &[("verb", "ListSets")]).await;
    assert_eq!(sub.errors(), vec!["noSetHierarchy"]);
}

#[tokio::test]
async fn get_record_returns_each_format_with_its_namespace_and_schema_location() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let id = "oai:digital.ulb.example.org:demo_mono_0001";
    let dc = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", id),
            ("metadataPrefix", "oai_dc"),
        ])
        .await;
    assert_eq!(dc.s("string(//o:header/o:identifier)"), id);
    assert!(!dc.s("string(//oai_dc:dc/dc:title)").is_empty());
    assert_eq!(dc.all("//o:header/o:setSpec"), vec!["geschichte"]);
    let mods = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", id),
            ("metadataPrefix", "mods"),
        ])
        .await;
    assert_eq!(mods.count("//o:metadata/mods:mods"), 1);
    assert_eq!(
        mods.s("string(//o:metadata/mods:mods/@xsi:schemaLocation)"),
        "http://www.loc.gov/mods/v3 http://www.loc.gov/standards/mods/v3/mods-3-8.xsd"
    );
    assert_eq!(mods.s("string(//mods:recordIdentifier)"), "demo_mono_0001");
    let mets = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", id),
            ("metadataPrefix", "mets"),
        ])
        .await;
    assert_eq!(mets.count("//o:metadata/mets:mets"), 1);
    assert!(
        !String::from_utf8_lossy(&mets.raw)[40..].contains("<?xml"),
        "no XML declaration inside a record"
    );
}

#[tokio::test]
async fn a_sub_domain_is_a_set_of_its_ancestor_and_its_records_list_every_set() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let zd = app
        .oai(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("set", "zd"),
        ])
        .await;
    assert_eq!(zd.count("//o:header"), 8);
    assert!(zd.all("//o:header/o:setSpec").iter().all(|s| s == "zd"));
    let own = app
        .oai_at(
            "/zd/oai",
            &[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")],
        )
        .await;
    assert_eq!(own.count("//o:header"), 8);
    assert_eq!(
        own.count("//o:setSpec"),
        0,
        "within its own endpoint the domain is no set"
    );
    // A record of the root domain is not visible in the sub-domain's endpoint.
    let other = app
        .oai_at(
            "/zd/oai",
            &[
                ("verb", "GetRecord"),
                ("identifier", "oai:digital.ulb.example.org:demo_mono_0001"),
                ("metadataPrefix", "oai_dc"),
            ],
        )
        .await;
    assert_eq!(other.errors(), vec!["idDoesNotExist"]);
}

#[tokio::test]
async fn a_configured_set_selects_records_by_collection() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let x = app
        .oai(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "mets"),
            ("set", "geschichte"),
        ])
        .await;
    let mut n = x.count("//o:header");
    let mut token = x.token();
    while let Some(t) = token.filter(|t| !t.is_empty()) {
        let next = app
            .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &t)])
            .await;
        n += next.count("//o:header");
        token = next.token();
    }
    let members = crate::helpers::fixtures_with_classification("Geschichte", "main");
    assert_eq!(
        n, members,
        "every Geschichte record of the root domain, nothing else"
    );
}
