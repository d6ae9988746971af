//! Every protocol error condition of OAI-PMH §3.6 and OAI-TRAPS "Arguments"/"Dates".

use crate::helpers::TestApp;

const ID: &str = "oai:digital.ulb.example.org:demo_mono_0001";

#[tokio::test]
async fn verb_errors_are_bad_verbs_with_an_empty_request_element() {
    let app = TestApp::spawn().await;
    for query in [
        vec![],
        vec![("verb", "Frobnicate")],
        vec![("verb", "Identify"), ("verb", "Identify")],
    ] {
        let x = app.oai(&query).await;
        assert_eq!(x.errors(), vec!["badVerb"], "{query:?}");
        assert_eq!(
            x.count("/o:OAI-PMH/o:request/@*"),
            0,
            "no attributes on badVerb"
        );
    }
}

#[tokio::test]
async fn argument_errors_are_bad_arguments_without_echo() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("verb", "Identify"), ("foo", "bar")],
        vec![("verb", "ListRecords")],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("metadataPrefix", "oai_dc"),
        ],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("unknown", "1"),
        ],
        vec![("verb", "GetRecord"), ("identifier", ID)],
        vec![("verb", "GetRecord"), ("metadataPrefix", "oai_dc")],
        vec![
            ("verb", "ListRecords"),
            ("resumptionToken", "x"),
            ("metadataPrefix", "oai_dc"),
        ],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2020-01-01T00:00:00+01:00"),
        ],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2020-01-01T00:00:00.5Z"),
        ],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("until", "2020-01-01T00:00:00"),
        ],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2020-13-01"),
        ],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2020-01-01"),
            ("until", "2020-01-02T00:00:00Z"),
        ],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2021-01-01"),
            ("until", "2020-01-01"),
        ],
        vec![
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("set", "a b"),
        ],
        vec![("verb", "ListSets"), ("set", "zd")],
        vec![
            ("verb", "ListMetadataFormats"),
            ("metadataPrefix", "oai_dc"),
        ],
    ];
    for query in cases {
        let x = app.oai(&query).await;
        assert!(
            !x.errors().is_empty() && x.errors().iter().all(|e| e == "badArgument"),
            "{query:?} gave {:?}",
            x.errors()
        );
        assert_eq!(
            x.count("/o:OAI-PMH/o:request/@*"),
            0,
            "no attributes on badArgument: {query:?}"
        );
    }
}

#[tokio::test]
async fn all_errors_found_are_reported_each_in_its_own_element() {
    let app = TestApp::spawn().await;
    let x = app
        .oai(&[
            ("verb", "ListRecords"),
            ("from", "yesterday"),
            ("bogus", "1"),
        ])
        .await;
    assert_eq!(
        x.errors(),
        vec!["badArgument", "badArgument", "badArgument"]
    );
}

#[tokio::test]
async fn unknown_identifiers_formats_and_tokens_get_their_codes() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let x = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:digital.ulb.example.org:nope"),
            ("metadataPrefix", "oai_dc"),
        ])
        .await;
    assert_eq!(x.errors(), vec!["idDoesNotExist"]);
    assert_eq!(
        x.s("string(/o:OAI-PMH/o:request/@identifier)"),
        "oai:digital.ulb.example.org:nope"
    );
    let x = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", ID),
            ("metadataPrefix", "marc21"),
        ])
        .await;
    assert_eq!(x.errors(), vec!["cannotDisseminateFormat"]);
    let x = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:x:nope"),
            ("metadataPrefix", "marc21"),
        ])
        .await;
    assert_eq!(
        x.errors(),
        vec!["idDoesNotExist", "cannotDisseminateFormat"]
    );
    let x = app
        .oai(&[
            ("verb", "ListMetadataFormats"),
            ("identifier", "oai:x:nope"),
        ])
        .await;
    assert_eq!(x.errors(), vec!["idDoesNotExist"]);
    let x = app
        .oai(&[("verb", "ListRecords"), ("metadataPrefix", "marc21")])
        .await;
    assert_eq!(x.errors(), vec!["cannotDisseminateFormat"]);
    let x = app
        .oai(&[("verb", "ListRecords"), ("resumptionToken", "forged")])
        .await;
    assert_eq!(x.errors(), vec!["badResumptionToken"]);
    let x = app
        .oai(&[("verb", "ListSets"), ("resumptionToken", "x")])
        .await;
    assert_eq!(x.errors(), vec!["badResumptionToken"]);
}

#[tokio::test]
async fn an_unknown_set_matches_no_records() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    for set in ["nosuchset", "zd:nosuch", "geschichte:x"] {
        let x = app
            .oai(&[
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", "oai_dc"),
                ("set", set),
            ])
            .await;
        assert_eq!(x.errors(), vec!["noRecordsMatch"], "{set}");
    }
}

#[tokio::test]
async fn an_until_a_year_before_the_earliest_datestamp_matches_no_records() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let identify = app.oai(&[("verb", "Identify")]).await;
    let earliest = identify.s("string(//o:earliestDatestamp)");
    let year: i32 = earliest[..4].parse().unwrap();
    let until = format!("{}{}", year - 1, &earliest[4..]);
    let x = app
        .oai(&[
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("until", &until),
        ])
        .await;
    assert_eq!(x.errors(), vec!["noRecordsMatch"]);
    assert_eq!(
        x.s("string(/o:OAI-PMH/o:request/@until)"),
        until,
        "arguments echoed on noRecordsMatch"
    );
}

#[tokio::test]
async fn a_token_of_another_verb_is_bad() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let x = app
        .oai(&[("verb", "ListRecords"), ("metadataPrefix", "oai_dc")])
        .await;
    let token = x.token().expect("a first page of 10 ends with a token");
    let y = app
        .oai(&[("verb", "ListIdentifiers"), ("resumptionToken", &token)])
        .await;
    assert_eq!(y.errors(), vec!["badResumptionToken"]);
    let z = app
        .oai_at(
            "/zd/oai",
            &[("verb", "ListRecords"), ("resumptionToken", &token)],
        )
        .await;
    assert_eq!(
        z.errors(),
        vec!["badResumptionToken"],
        "tokens belong to their endpoint"
    );
}

#[tokio::test]
async fn syntactically_illegal_argument_values_are_bad_arguments_and_never_echoed() {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let list = |name: &'static str, value: &'static str| {
        let mut q = vec![("verb", "ListRecords"), ("metadataPrefix", "oai_dc")];
        q.retain(|(k, _)| *k != name);
        q.push((name, value));
        q
    };
    let get = |name: &'static str, value: &'static str| {
        let mut q = vec![
            ("verb", "GetRecord"),
            ("identifier", ID),
            ("metadataPrefix", "oai_dc"),
        ];
        q.retain(|(k, _)| *k != name);
        q.push((name, value));
        q
    };
    let cases = vec![
        list("metadataPrefix", "oai_dc "),
        list("metadataPrefix", "%"),
        list("metadataPrefix", "oai_%"),
        list("metadataPrefix", "\"oai_dc\""),
        list("metadataPrefix", "<oai_dc>"),
        get("metadataPrefix", "oai dc"),
        get("identifier", "%zz"),
        get("identifier", "oai:digital.ulb.example.org:%zz"),
        get("identifier", "not a URI"),
        vec![("verb", "ListMetadataFormats"), ("identifier", "%zz")],
        list("from", "0000-01-01"),
        list("until", "0000-01-01T00:00:00Z"),
        list("from", "2016-12-31T23:59:60Z"),
    ];
    for query in cases {
        // `oai` validates the response against OAI-PMH.xsd.
        let x = app.oai(&query).await;
        assert_eq!(x.errors(), vec!["badArgument"], "{query:?}");
        assert_eq!(
            x.count("/o:OAI-PMH/o:request/@*"),
            0,
            "no attributes on badArgument: {query:?}"
        );
    }
}
