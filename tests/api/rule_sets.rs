//! Rule sets beside or instead of the bundled zvdd.sch (`jobs.oai_output_validator.rules`):
//! what the validator stores from each set, how a record's state follows from all of
//! them, that a changed list makes every result stale, what the QA pages show of a
//! foreign rule, and that a rule set which cannot run stops everything that would run it.

use crate::command_line::Cli;
use crate::helpers::{fixtures, TestApp, TEST_CONFIG};
use crate::web_client::{add_user, Visitor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use vitrine::domain::ValidationState;
use vitrine::jobs::oai_output_validator::{run, JobReport, Options};
use vitrine::store::StoredFinding;
use vitrine::users::Role;
use vitrine::validation::RuleSets;

const RULES_KEY: &str = "jobs.oai_output_validator.rules";

/// zmets on in `ulb`, with the institution data the repairs need.
fn config() -> String {
    TEST_CONFIG
        .replace(
            "page_size = 10\n",
            "page_size = 10\n\
             record_identifier_source = \"DE-3\"\n\
             presentation_url = \"https://viewer.example.org/{id}\"\n\
             reference_url = \"https://opac.example.org/{id}\"\n",
        )
        .replace(
            "[domains.zd]",
            "[domains.ulb.oai.formats.zmets]\non = true\n\
             [domains.ulb.oai.formats.zmods]\non = true\n\
             [domains.ulb.institution]\nname = \"Example Library\"\n\
             [domains.zd]",
        )
}

/// A library's own rule set (XPath 1.0) in `dir`, named `lib-rules`: a fatal rule on the
/// record `blocked`, an info rule on the record `noted`.
fn lib_rules(dir: &Path, blocked: &str, noted: &str) -> PathBuf {
    let path = dir.join("lib-rules.sch");
    std::fs::write(
        &path,
        format!(
            r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt1">
  <ns prefix="mods" uri="http://www.loc.gov/mods/v3"/>
  <pattern id="delivery">
    <rule context="mods:recordInfo/mods:recordIdentifier">
      <report id="lib-blocked" role="fatal" test=". = '{blocked}'">Record <value-of select="."/> is blocked for delivery.</report>
      <report id="lib-note" role="info" test=". = '{noted}'">Record <value-of select="."/> is noted.</report>
    </rule>
  </pattern>
</schema>
"#
        ),
    )
    .unwrap();
    path
}

/// The app with three demo monographs, released: 0001, 0003 (valid after repairs) and
/// 0009 (a warning no repair can fix).
async fn app_with_records() -> TestApp {
    let app = TestApp::spawn_with(&config()).await;
    let files: Vec<PathBuf> = ["demo_mono_0001", "demo_mono_0003", "demo_mono_0009"]
        .iter()
        .map(|id| fixtures().join(format!("main/{id}.xml")))
        .collect();
    let r = app.import("ulb", &files, true).await;
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    app
}

async fn try_run(app: &TestApp) -> anyhow::Result<JobReport> {
    let options = Options {
        join_wait: Duration::from_millis(300),
        ..Options::new("ulb", "test", app.time())
    };
    run(
        app.store.clone(),
        app.tree().await,
        &app.config,
        &options,
        &|_, _| {},
    )
    .await
}

async fn run_job(app: &TestApp) -> JobReport {
    try_run(app).await.expect("job run")
}

/// Stores the rule-set list of `ulb` as `vitrine domain set` does.
async fn set_rules(app: &TestApp, rules: &[&str]) {
    let value = format!(
        "[{}]",
        rules
            .iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let ulb = app.domain("ulb").await.id;
    app.store
        .set_domain_setting(ulb, RULES_KEY, Some(&value))
        .await
        .unwrap();
}

/// State, reason, rule-set version and findings of a record of `ulb`.
async fn validation(
    app: &TestApp,
    local: &str,
) -> (ValidationState, String, String, Vec<StoredFinding>) {
    let id = app.status("ulb", local).await.id;
    let diag = app.store.diagnostics(&[id]).await.unwrap().remove(0);
    (
        diag.state,
        diag.reason,
        diag.rule_set_version.unwrap_or_default(),
        diag.findings,
    )
}

fn lib_finding(rule_id: &str, class: &str, role: &str, message: &str) -> StoredFinding {
    StoredFinding {
        stage: "before".into(),
        rule_set: "lib-rules".into(),
        rule_id: rule_id.into(),
        class: class.into(),
        role: Some(role.into()),
        message: message.into(),
        location: String::new(),
        repaired: false,
    }
}

/// The findings without their locations (the test's rule set reports on one node per
/// record; the location is the skeleton's long path).
fn without_locations(findings: &[StoredFinding]) -> Vec<StoredFinding> {
    findings
        .iter()
        .map(|f| StoredFinding {
            location: String::new(),
            ..f.clone()
        })
        .collect()
}

#[tokio::test]
async fn a_rule_set_beside_zvdd_adds_its_findings_and_a_changed_list_revalidates_every_record() {
    let app = app_with_records().await;
    let dir = tempfile::tempdir().unwrap();
    let lib = lib_rules(dir.path(), "demo_mono_0001", "demo_mono_0003");
    let lib = lib.to_str().unwrap();

    // The default list: the bundled rules alone.
    let first = run_job(&app).await;
    assert_eq!((first.validated, first.stale), (3, 0));
    let zvdd_version = RuleSets::bundled().unwrap().version().to_string();
    let mut baseline = HashMap::new();
    for local in ["demo_mono_0001", "demo_mono_0003", "demo_mono_0009"] {
        let (state, _, version, findings) = validation(&app, local).await;
        assert_eq!(version, zvdd_version, "{local}");
        assert!(findings.iter().all(|f| f.rule_set == "zvdd"), "{local}");
        baseline.insert(local, (state, findings));
    }
    assert_eq!(baseline["demo_mono_0003"].0, ValidationState::Valid);
    assert_eq!(baseline["demo_mono_0009"].0, ValidationState::ValidWarn);
    let again = run_job(&app).await;
    assert_eq!((again.validated, again.stale), (0, 0), "nothing changed");

    // Beside: a changed list makes every stored result stale.
    set_rules(&app, &["zvdd", lib]).await;
    let beside = run_job(&app).await;
    assert_eq!((beside.validated, beside.stale), (3, 3));
    assert!(!beside.full, "stale results, not a full run");
    let version = RuleSets::load(&["zvdd".to_string(), lib.to_string()])
        .unwrap()
        .version()
        .to_string();
    assert!(version.starts_with(&format!("{zvdd_version}+lib-rules@")));

    let (state, reason, stored_version, findings) = validation(&app, "demo_mono_0001").await;
    assert_eq!(state, ValidationState::Invalid, "a fatal role is an error");
    assert!(
        reason.starts_with("error: ") && reason.contains("lib-rules:lib-blocked"),
        "{reason}"
    );
    assert_eq!(stored_version, version);
    let (zvdd, own): (Vec<_>, Vec<_>) = findings.into_iter().partition(|f| f.rule_set == "zvdd");
    assert_eq!(
        zvdd, baseline["demo_mono_0001"].1,
        "zvdd finds what it found"
    );
    assert_eq!(
        without_locations(&own),
        [lib_finding(
            "lib-blocked",
            "error",
            "fatal",
            "Record demo_mono_0001 is blocked for delivery."
        )]
    );
    assert!(own[0].location.contains("recordIdentifier"), "{own:?}");

    let (state, reason, _, findings) = validation(&app, "demo_mono_0003").await;
    assert_eq!(
        state,
        ValidationState::ValidWarn,
        "valid for zvdd, info here"
    );
    assert_eq!(reason, "info: lib-rules:lib-note");
    let (zvdd, own): (Vec<_>, Vec<_>) = findings.into_iter().partition(|f| f.rule_set == "zvdd");
    assert_eq!(zvdd, baseline["demo_mono_0003"].1);
    assert_eq!(
        without_locations(&own),
        [lib_finding(
            "lib-note",
            "info",
            "info",
            "Record demo_mono_0003 is noted."
        )]
    );

    let (state, _, _, findings) = validation(&app, "demo_mono_0009").await;
    assert_eq!(state, ValidationState::ValidWarn);
    assert_eq!(
        findings, baseline["demo_mono_0009"].1,
        "no rule of lib fires"
    );

    let blocked = &beside.rules["lib-rules:lib-blocked"];
    assert_eq!(
        (
            blocked.rule_set.as_str(),
            blocked.rule_id.as_str(),
            blocked.class.as_str(),
            blocked.role.as_deref(),
            blocked.occurrences
        ),
        ("lib-rules", "lib-blocked", "error", Some("fatal"), 1)
    );
    assert_eq!(
        blocked.message,
        "Record demo_mono_0001 is blocked for delivery."
    );
    let unchanged = run_job(&app).await;
    assert_eq!((unchanged.validated, unchanged.stale), (0, 0));

    // Instead: the list without zvdd; only the library's rules decide.
    set_rules(&app, &[lib]).await;
    let instead = run_job(&app).await;
    assert_eq!((instead.validated, instead.stale), (3, 3));
    let states: Vec<ValidationState> = futures_util::future::join_all(
        ["demo_mono_0001", "demo_mono_0003", "demo_mono_0009"]
            .iter()
            .map(|l| validation(&app, l)),
    )
    .await
    .into_iter()
    .map(|(state, _, version, findings)| {
        assert!(version.starts_with("lib-rules@") && !version.contains('+'));
        assert!(findings.iter().all(|f| f.rule_set == "lib-rules"));
        state
    })
    .collect();
    assert_eq!(
        states,
        [
            ValidationState::Invalid,
            ValidationState::ValidWarn,
            ValidationState::Valid
        ]
    );
    assert!(instead.rules.keys().all(|k| k.starts_with("lib-rules:")));
}

#[tokio::test]
async fn the_qa_pages_show_a_foreign_rule_with_its_set_role_and_message() {
    let app = app_with_records().await;
    let dir = tempfile::tempdir().unwrap();
    let lib = lib_rules(dir.path(), "demo_mono_0001", "demo_mono_0003");
    run_job(&app).await;
    set_rules(&app, &["zvdd", lib.to_str().unwrap()]).await;
    let report = run_job(&app).await;
    add_user(&app, "root", Role::Admin, None).await;
    let mut admin = Visitor::logged_in(&app, "root").await;

    let page = admin.get("/ulb/qa/oaivalidator").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = page.html();
    let row = "//table[@id='rule-table']//tr[@data-rule='lib-rules:lib-blocked']";
    assert_eq!(html.count(row), 1, "{}", page.body);
    assert_eq!(
        html.s(&format!("string({row}/td[@class='rule-set'])")),
        "lib-rules"
    );
    assert_eq!(html.s(&format!("string({row}//code)")), "lib-blocked");
    assert_eq!(
        html.s(&format!("normalize-space({row}/td[1])")),
        "error fatal"
    );
    assert_eq!(
        html.s(&format!("normalize-space({row}/td[4])")),
        "Record demo_mono_0001 is blocked for delivery."
    );
    assert_eq!(
        html.s(&format!("string({row}//a[contains(@class,'unrepaired')])")),
        "✗ demo_mono_0001"
    );
    // A rule of the bundled set keeps its title and set name.
    for (key, stat) in report.rules.iter().filter(|(_, s)| s.rule_set == "zvdd") {
        let row = format!("//table[@id='rule-table']//tr[@data-rule='{key}']");
        assert_eq!(
            html.s(&format!("string({row}/td[@class='rule-set'])")),
            "zvdd"
        );
        let title = vitrine::validation::rule_info(&stat.rule_id)
            .unwrap()
            .title
            .clone();
        assert!(
            html.s(&format!("normalize-space({row}/td[4])"))
                .starts_with(&title),
            "{key}"
        );
    }
    // The filter by rule takes the qualified key.
    let filtered = admin
        .get("/ulb/qa/oaivalidator?rule=lib-rules%3Alib-note")
        .await
        .html();
    assert_eq!(
        filtered.all("//table[@id='rule-table']/tbody/tr/@data-rule"),
        ["lib-rules:lib-note"]
    );

    let json: serde_json::Value =
        serde_json::from_str(&admin.get("/ulb/qa/oaivalidator.json").await.body).unwrap();
    let rule = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "lib-rules:lib-blocked")
        .expect("the rule in the JSON");
    assert_eq!(
        (
            &rule["rule_set"],
            &rule["id"],
            &rule["role"],
            &rule["class"]
        ),
        (
            &serde_json::json!("lib-rules"),
            &serde_json::json!("lib-blocked"),
            &serde_json::json!("fatal"),
            &serde_json::json!("error")
        )
    );
    let csv = admin.get("/ulb/qa/oaivalidator.csv").await.body;
    assert!(
        csv.lines().any(|l| l.starts_with(
            "error,fatal,lib-rules,lib-blocked,Record demo_mono_0001 is blocked for delivery.,1,0,1,"
        )),
        "{csv}"
    );

    let record = admin.get("/ulb/qa/records/demo_mono_0001").await;
    assert_eq!(record.status, 200, "{}", record.body);
    let html = record.html();
    let group = "//section[@id='before']//details[@data-rule='lib-rules:lib-blocked']";
    assert_eq!(html.count(group), 1, "{}", record.body);
    assert_eq!(
        html.s(&format!("normalize-space({group}/summary)")),
        "lib-blocked error fatal [lib-rules] (1, repaired 0/1)"
    );
    assert_eq!(
        html.s(&format!(
            "string({group}//tr[@data-rule-set='lib-rules']/td[2])"
        )),
        "Record demo_mono_0001 is blocked for delivery."
    );

    let page = admin
        .get(&format!("/ulb/admin/jobreport/{}", report.run_id))
        .await;
    let html = page.html();
    let row = "//table[@id='report-rules']//tr[@data-rule='lib-rules:lib-blocked']";
    assert_eq!(html.count(row), 1, "{}", page.body);
    assert_eq!(
        html.s(&format!("string({row}/td[@class='rule-set'])")),
        "lib-rules"
    );
    assert_eq!(
        html.s(&format!("normalize-space({row}/td[4])")),
        "Record demo_mono_0001 is blocked for delivery."
    );
    assert_eq!(
        html.s("string(//*[@id='stale'])"),
        "3",
        "the run says why it revalidated"
    );
}

#[tokio::test]
async fn a_rule_set_that_cannot_run_stops_the_job_before_anything_changes() {
    let app = app_with_records().await;
    run_job(&app).await;
    let before = validation(&app, "demo_mono_0001").await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sch");
    let missing = missing.to_str().unwrap();
    set_rules(&app, &["zvdd", missing]).await;
    let err = format!("{:#}", try_run(&app).await.unwrap_err());
    assert!(
        err.contains("domains.ulb.jobs.oai_output_validator.rules")
            && err.contains(&format!("rule set {missing}: cannot read it")),
        "{err}"
    );
    let after = validation(&app, "demo_mono_0001").await;
    assert_eq!(
        (after.0, after.2, after.3),
        (before.0, before.2, before.3),
        "nothing marked or stored"
    );
    assert_eq!(
        app.store.job_runs(None).await.unwrap().len(),
        1,
        "no run recorded"
    );
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

/// A rule set that does not compile: line 5 has an XPath syntax error.
fn broken_rules(dir: &Path) -> PathBuf {
    let path = dir.join("broken.sch");
    std::fs::write(
        &path,
        "<schema xmlns=\"http://purl.oclc.org/dsdl/schematron\" queryBinding=\"xslt1\">\n\
         <pattern>\n\
         <rule context=\"/*\">\n\
         <assert id=\"ok\" test=\"true()\">fine</assert>\n\
         <assert id=\"bad\" test=\"count((\">never</assert>\n\
         </rule>\n\
         </pattern>\n\
         </schema>\n",
    )
    .unwrap();
    path
}

#[tokio::test]
async fn check_config_and_serve_name_the_rule_set_file_and_line_that_does_not_compile() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let broken = broken_rules(dir.path());
    let broken = broken.to_str().unwrap();
    let text = format!(
        "[server]\npublic_url = \"https://oai.example.org\"\n{TEST_CONFIG}\
         [domains.zd.jobs.oai_output_validator]\nrules = [\"zvdd\", \"{broken}\"]\n"
    );
    let cli = Cli::new(&app, &text);
    let output = cli.run(&["check-config"]);
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code(&output), 1, "{out}");
    let expected =
        format!("domains.zd.jobs.oai_output_validator.rules: rule set {broken}, line 5: ");
    assert_eq!(
        out.lines().filter(|l| l.starts_with(&expected)).count(),
        1,
        "{out}"
    );

    // The server does not start, even on the loopback address.
    let output = cli.run(&["serve", "--bind", "127.0.0.1:0"]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), 1, "{err}");
    assert!(err.contains(&expected), "{err}");
    assert!(err.contains("refusing to start"), "{err}");
    assert!(output.stdout.is_empty(), "nothing listens");

    // A relative path is refused when the configuration is read.
    let cli = Cli::new(
        &app,
        &format!("{TEST_CONFIG}[domains.zd.jobs.oai_output_validator]\nrules = [\"ddb.sch\"]\n"),
    );
    let output = cli.run(&["check-config"]);
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains(
            "domains.zd: jobs.oai_output_validator.rules: rule set \"ddb.sch\" is neither"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn domain_set_refuses_a_rule_set_that_cannot_run_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let broken = broken_rules(dir.path());
    let cli = Cli::new(&app, TEST_CONFIG);
    let value = format!("[\"zvdd\", \"{}\"]", broken.display());
    let output = cli.run(&["domain", "set", "ulb", RULES_KEY, &value]);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_ne!(code(&output), 0, "{err}");
    assert!(
        err.contains(&format!("rule set {}, line 5: ", broken.display())),
        "{err}"
    );
    assert!(app.store.domain_settings().await.unwrap().is_empty());

    let lib = lib_rules(dir.path(), "x", "y");
    let value = format!("[\"zvdd\", \"{}\"]", lib.display());
    let output = cli.run(&["domain", "set", "ulb", RULES_KEY, &value]);
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = app.tree().await;
    assert_eq!(
        tree.validation_rules(app.domain("zd").await.id),
        ["zvdd".to_string(), lib.display().to_string()],
        "zd inherits the list"
    );
}

#[test]
fn validate_on_the_command_line_runs_zvdd_and_a_file_together() {
    let dir = tempfile::tempdir().unwrap();
    let lib = lib_rules(dir.path(), "demo_mono_0003", "none");
    let file = fixtures().join("main/demo_mono_0003.xml");
    let file = file.to_str().unwrap();
    let lib = lib.to_str().unwrap();
    let validate = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
            .arg("validate")
            .args(args)
            .env_remove("VITRINE_LOG")
            .output()
            .expect("run vitrine")
    };
    let alone = validate(&[file]);
    let both = validate(&["--rules", "zvdd", "--rules", lib, file]);
    let err = String::from_utf8_lossy(&both.stderr);
    assert_eq!(code(&both), 1, "the fatal rule makes it invalid: {err}");
    assert!(
        err.contains("[lib-blocked] Record demo_mono_0003 is blocked for delivery."),
        "{err}"
    );
    // Every finding of the bundled rules alone is there too.
    for line in String::from_utf8_lossy(&alone.stderr)
        .lines()
        .filter(|l| l.trim_start().starts_with('['))
    {
        assert!(err.contains(line), "{line} missing from {err}");
    }
}

#[tokio::test]
async fn the_ddb_rule_set_runs_in_the_job_instead_of_zvdd_with_its_ids_and_messages() {
    let ddb = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../shared/corpus/ddb-schematron/ddb_validierung_mets-mods-ap-digitalisierte-medien.sch",
    );
    assert!(
        ddb.is_file(),
        "the shared corpus is missing: expected {}",
        ddb.display()
    );
    let app = app_with_records().await;
    set_rules(&app, &[ddb.to_str().unwrap()]).await;
    run_job(&app).await;
    let schema = vitrine::schematron::Schema::compile_file(&ddb, &Default::default()).unwrap();
    let mut checked = 0;
    for local in ["demo_mono_0001", "demo_mono_0003", "demo_mono_0009"] {
        let (state, _, _, findings) = validation(&app, local).await;
        let mut stored: Vec<(String, String, String)> = findings
            .iter()
            .filter(|f| f.stage == "before")
            .map(|f| {
                assert_eq!(
                    f.rule_set,
                    "ddb_validierung_mets-mods-ap-digitalisierte-medien"
                );
                (f.rule_id.clone(), f.class.clone(), f.message.clone())
            })
            .collect();
        // What the DDB's rules report on the record as imported, run directly.
        let bytes = std::fs::read(fixtures().join(format!("main/{local}.xml"))).unwrap();
        let doc = vitrine::validation::mets_document(&bytes, Default::default()).unwrap();
        let report = schema.validate(&doc);
        let mut expected: Vec<(String, String, String)> = report
            .findings
            .iter()
            .map(|f| {
                (
                    f.rule_id.to_string(),
                    f.class.as_str().to_string(),
                    f.message.clone(),
                )
            })
            .collect();
        stored.sort();
        expected.sort();
        assert_eq!(stored, expected, "{local}");
        assert!(
            stored.iter().all(|(id, _, _)| !id.starts_with("METS-AP")),
            "zvdd.sch ran: {stored:?}"
        );
        if stored.iter().any(|(_, class, _)| class == "error") {
            assert_ne!(state, ValidationState::Valid, "{local}");
        }
        checked += expected.len();
    }
    assert!(
        checked > 0,
        "the DDB rules report nothing on the demo records, so this test compares nothing"
    );
}
