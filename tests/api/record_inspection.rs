//! Why the validator job decided what it did, as a QA librarian asks it: `vitrine record
//! show|list` and the example records of `job show`, after a real job run.

use crate::command_line::{stderr, stdout, Cli};
use crate::helpers::{TestApp, TEST_CONFIG};

/// The test configuration with zmets switched on for `ulb`.
fn config() -> String {
    TEST_CONFIG.replace(
        "[domains.zd]",
        "[domains.ulb.oai.formats.zmets]\non = true\n[domains.zd]",
    )
}

async fn validated() -> (TestApp, Cli) {
    let app = TestApp::spawn_with(&config()).await;
    app.import_demo().await;
    let cli = Cli::new(&app, &config());
    let output = cli.run(&["job", "run", "oai-output-validator", "--domain", "ulb"]);
    assert!(output.status.success(), "{}", stderr(&output));
    (app, cli)
}

#[tokio::test]
async fn record_show_tells_why_a_stored_record_is_invalid_with_readable_locations() {
    let (_app, cli) = validated().await;
    let output = cli.run(&["record", "show", "--domain", "ulb", "demo_mono_0012"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("record demo_mono_0012 in domain ulb\n"),
        "{text}"
    );
    assert!(text.contains("  release     released"), "{text}");
    assert!(text.contains("  validation  invalid ("), "{text}");
    assert!(
        text.contains("  reason      error: METS-AP-Kap-2.6.2.1-a"),
        "{text}"
    );
    assert!(
        text.contains("findings before repairs: 2 findings"),
        "{text}"
    );
    assert!(text.contains("error [METS-AP-Kap-2.6.2.1-a]"), "{text}");
    assert!(text.contains("        at /mets:mets\n"), "{text}");
    assert!(
        !text.contains("namespace-uri()"),
        "short paths only: {text}"
    );
    for prefix in ["mets", "oai_dc"] {
        assert!(
            text.contains(&format!("    {prefix:<8} 20")),
            "{prefix}: {text}"
        );
    }
    let repaired = stdout(&cli.run(&["record", "show", "--domain", "ulb", "demo_per_0001_1786"]));
    assert!(repaired.contains("repairs: 2 repairs"), "{repaired}");
    assert!(
        repaired.contains("at /mets:mets/mets:structMap[1]/mets:div/mets:div\n"),
        "{repaired}"
    );
    assert!(repaired.contains("    zmets    20"), "{repaired}");
    // JSON keeps the long locations, as SVRL does.
    let json: serde_json::Value = serde_json::from_str(&stdout(&cli.run(&[
        "record",
        "show",
        "--domain",
        "ulb",
        "demo_per_0001_1786",
        "--json",
    ])))
    .unwrap();
    assert_eq!(json["state"], "valid");
    let location = json["findings_before_repairs"][0]["location"]
        .as_str()
        .unwrap();
    assert!(
        location.contains("namespace-uri()='http://www.loc.gov/METS/'"),
        "{location}"
    );
    assert_eq!(json["repairs"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn record_list_selects_by_state_and_rule() {
    let (_app, cli) = validated().await;
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["record", "list", "--domain", "ulb"];
        all.extend_from_slice(args);
        stdout(&cli.run(&all))
            .lines()
            .skip(1)
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&["--state", "invalid"]),
        ["demo_mono_0012", "demo_mono_0013"]
    );
    assert_eq!(ids(&["--rule", "MODS-AP-Kap-2.4-b"]), ["demo_mono_0003"]);
    assert!(ids(&["--state", "undefined"])
        .iter()
        .all(|id| id.starts_with("demo_zd")));
    let all = ids(&[]);
    assert!(
        all.len() > 30 && all.contains(&"demo_zd_0001".to_string()),
        "sub-domains too"
    );
    let json = stdout(&cli.run(&[
        "record",
        "list",
        "--domain",
        "ulb",
        "--state",
        "valid_warn",
        "--json",
    ]));
    let objects: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["state"], "valid_warn");
    assert_eq!(objects[0]["domain"], "ulb");
    let output = cli.run(&["record", "show", "--domain", "zd", "demo_mono_0012"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("it is a record of domain ulb"));
}

#[tokio::test]
async fn job_show_names_example_records_per_rule() {
    let (app, cli) = validated().await;
    let ulb = app.domain("ulb").await;
    let run = app.store.job_runs(Some(ulb.id)).await.unwrap()[0].id;
    let text = stdout(&cli.run(&["job", "show", &run.to_string()]));
    let examples: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("records per rule"))
        .skip(1)
        .collect();
    assert!(
        examples
            .iter()
            .any(|l| l.starts_with("METS-AP-Kap-2.6.2.1-a") && l.ends_with(" demo_mono_0012")),
        "{text}"
    );
    assert!(
        examples
            .iter()
            .any(|l| l.starts_with("MODS-AP-Kap-2.4-b") && l.ends_with(" demo_mono_0003")),
        "{text}"
    );
}
