//! The QA and administration pages as people use them: the numbers on the QA page, its
//! `.json` and `.csv`, a record's validation page, the jobs page and a run's report —
//! each compared with what the store holds.

use crate::helpers::{fixtures, TestApp, TEST_CONFIG};
use crate::web_client::{add_user, number, Visitor};
use std::time::Duration;
use vitrine::jobs::oai_output_validator::{run, JobReport, Options};
use vitrine::users::Role;

/// zmets and zmods on in `ulb` and `zd`, with the institution data the repairs need.
pub fn config() -> String {
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
             [domains.ulb.institution]\nname = \"Example Library\"\nlogo = \"https://example.org/logo.png\"\n\
             site_url = \"https://example.org\"\ncontact = \"digital@example.org\"\n\
             [domains.zd.oai.formats.zmets]\non = true\n\
             [domains.zd.oai.formats.zmods]\non = true\n\
             [domains.zd]",
        )
}

/// The demo collection with one record made invalid (no DEFAULT image group, which no
/// repair can supply), validated once.
pub async fn validated_app() -> (TestApp, JobReport) {
    let app = TestApp::spawn_with(&config()).await;
    app.import_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixtures().join("main/demo_mono_0002.xml")).unwrap();
    std::fs::write(
        dir.path().join("broken.xml"),
        text.replace("USE=\"DEFAULT\"", "USE=\"ORIGINAL\""),
    )
    .unwrap();
    let r = app
        .import("ulb", &[dir.path().join("broken.xml")], true)
        .await;
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    let report = run_job(&app, false).await;
    (app, report)
}

/// Runs the validator on `ulb`.
pub async fn run_job(app: &TestApp, full: bool) -> JobReport {
    let options = Options {
        full,
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
    .expect("job run")
}

async fn scope(app: &TestApp) -> Vec<i64> {
    let tree = app.tree().await;
    tree.zmets_scope(app.domain("ulb").await.id)
}

#[tokio::test]
async fn the_qa_page_shows_the_stored_counts_per_state_and_per_rule() {
    let (app, _) = validated_app().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    let page = anna.get("/ulb/qa/oaivalidator").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.content_type.starts_with("text/html"));
    let html = page.html();
    let scope = scope(&app).await;
    let stored = app.store.qa_state_counts(&scope).await.unwrap();
    assert!(stored
        .iter()
        .any(|s| s.state != "undefined" && s.records > 0));
    for s in &stored {
        let row = format!("//table[@id='state-counts']//tr[@data-state='{}']", s.state);
        assert_eq!(
            number(&html.s(&format!("string({row}/td[contains(@class,'records')])"))),
            s.records,
            "{}",
            s.state
        );
        assert_eq!(
            number(&html.s(&format!("string({row}/td[contains(@class,'exported')])"))),
            s.exported,
            "{}",
            s.state
        );
    }
    let rules = app.store.qa_rule_stats(&scope, None).await.unwrap();
    assert!(!rules.is_empty(), "the demo collection has findings");
    assert_eq!(
        html.count("//table[@id='rule-table']/tbody/tr"),
        rules.len().min(50)
    );
    for r in &rules {
        let row = format!(
            "//table[@id='rule-table']/tbody/tr[@data-rule='{}']",
            r.rule_id
        );
        assert_eq!(
            number(&html.s(&format!("string({row}/td[contains(@class,'findings')])"))),
            r.findings
        );
        assert_eq!(
            html.s(&format!(
                "string({row}/td[contains(@class,'fixed')]/span[@class='ratio'])"
            )),
            format!("[{}/{}]", r.fixed, r.findings)
        );
    }
    // A chart with the numbers written on it.
    assert!(html.count("//svg[contains(@class,'chart')]//*[local-name()='text']") >= 8);
}

#[tokio::test]
async fn example_links_say_whether_the_finding_was_repaired_and_lead_to_the_record_page() {
    let (app, _) = validated_app().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    let html = anna.get("/ulb/qa/oaivalidator").await.html();
    let repaired = html.all("//a[@class='repaired' and contains(@href,'/qa/records/')]/@href");
    let unrepaired = html.all("//a[@class='unrepaired' and contains(@href,'/qa/records/')]/@href");
    assert!(
        !repaired.is_empty() && !unrepaired.is_empty(),
        "both kinds of examples"
    );
    assert!(html
        .all("//a[@class='repaired']")
        .iter()
        .all(|t| t.starts_with('✓')));
    assert!(html
        .all("//a[@class='unrepaired']")
        .iter()
        .all(|t| t.starts_with('✗')));
    // The red example's rule is not repaired on its record page; the green one's is.
    let rule_of = |href: &str, class: &str| {
        html.s(&format!(
            "string(//a[@class='{class}' and @href='{href}']/ancestor::tr[1]/@data-rule)"
        ))
    };
    let (red, green) = (&unrepaired[0], &repaired[0]);
    let red_rule = rule_of(red, "unrepaired");
    let record = anna.get(red).await;
    assert_eq!(record.status, 200, "{}", record.body);
    let page = record.html();
    assert!(
        page.count(&format!(
            "//section[@id='before']//tr[@data-rule='{red_rule}' and @data-repaired='false']"
        )) > 0
    );
    assert!(
        page.count(&format!(
            "//section[@id='after']//tr[@data-rule='{red_rule}']"
        )) > 0
    );
    let green_rule = rule_of(green, "repaired");
    let page = anna.get(green).await.html();
    assert!(
        page.count(&format!(
            "//section[@id='before']//tr[@data-rule='{green_rule}' and @data-repaired='true']"
        )) > 0
    );
    assert!(page.count("//section[@id='repairs']//tr[@class='repair']") > 0);
}

#[tokio::test]
async fn filters_by_class_rule_and_state_are_links_and_narrow_the_table() {
    let (app, _) = validated_app().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    let scope = scope(&app).await;
    let rules = app.store.qa_rule_stats(&scope, None).await.unwrap();
    let errors = rules.iter().filter(|r| r.class == "error").count();
    let html = anna.get("/ulb/qa/oaivalidator?class=error").await.html();
    assert_eq!(
        html.count("//table[@id='rule-table']/tbody/tr"),
        errors.min(50)
    );
    let one = &rules[0].rule_id;
    let html = anna
        .get(&format!("/ulb/qa/oaivalidator?rule={one}"))
        .await
        .html();
    assert_eq!(
        html.all("//table[@id='rule-table']/tbody/tr/@data-rule"),
        vec![one.clone()]
    );
    let invalid = app
        .store
        .qa_rule_stats(&scope, Some("invalid"))
        .await
        .unwrap();
    let html = anna.get("/ulb/qa/oaivalidator?state=invalid").await.html();
    assert_eq!(
        html.count("//table[@id='rule-table']/tbody/tr"),
        invalid.len().min(50)
    );
    let wrong = anna.get("/ulb/qa/oaivalidator?state=broken").await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("state=broken"));
}

#[tokio::test]
async fn the_json_and_csv_hold_one_entry_per_rule_with_its_counts() {
    let (app, _) = validated_app().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    let scope = scope(&app).await;
    let rules = app.store.qa_rule_stats(&scope, None).await.unwrap();
    let json = anna.get("/ulb/qa/oaivalidator.json").await;
    assert_eq!(json.status, 200);
    assert_eq!(json.content_type, "application/json");
    let value: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    let listed = value["rules"].as_array().unwrap();
    assert_eq!(listed.len(), rules.len());
    for r in &rules {
        let entry = listed
            .iter()
            .find(|e| e["id"] == r.rule_id.as_str())
            .unwrap();
        assert_eq!(entry["total"], r.findings);
        assert_eq!(entry["fixed"], r.fixed);
        assert_eq!(entry["class"], r.class.as_str());
    }
    let csv = anna.get("/ulb/qa/oaivalidator.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "class,role,rule_set,id,title,total,fixed,records,example_ids"
    );
    assert_eq!(lines.len(), rules.len() + 1);
    // The root domain's QA page is also at /qa/oaivalidator.
    assert_eq!(anna.get("/qa/oaivalidator.json").await.body, json.body);
}

#[tokio::test]
async fn an_invalid_record_that_is_not_exported_has_its_validation_page() {
    let (app, _) = validated_app().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    let scope = scope(&app).await;
    let invalid = app.store.qa_samples(&scope, "invalid", 1).await.unwrap();
    let record = invalid
        .first()
        .expect("the demo collection has an invalid record");
    assert!(!record.exported);
    let page = anna
        .get(&format!("/ulb/qa/records/{}", record.local_id))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = page.html();
    assert_eq!(html.s("string(//dd[@id='state']/span)"), "invalid");
    let diag = app
        .store
        .diagnostics(&[record.record_id])
        .await
        .unwrap()
        .remove(0);
    let before = diag.findings.iter().filter(|f| f.stage == "before").count();
    assert_eq!(
        html.count("//section[@id='before']//tr[@class='finding']"),
        before
    );
    assert_eq!(
        html.count("//section[@id='repairs']//tr[@class='repair']"),
        diag.repairs.len()
    );
    assert_eq!(
        html.count("//a[@class='diag']"),
        0,
        "no diag=true link for an unexported record"
    );
}

#[tokio::test]
async fn an_exported_sample_links_to_its_diagnostics_with_the_same_findings() {
    let (app, _) = validated_app().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    let html = anna.get("/ulb/qa/oaivalidator").await.html();
    let diag = html.all("//ul[contains(@class,'samples')]//a[@class='diag']/@href");
    assert!(!diag.is_empty(), "an exported sample links to diag=true");
    let response = anna.get(&diag[0]).await;
    assert_eq!(response.status, 200);
    let xml = crate::helpers::Xml::parse(response.body.as_bytes());
    let local = html.s(&format!(
        "string(//a[@class='diag' and @href='{}']/preceding-sibling::a[@class='record'][1])",
        diag[0]
    ));
    let record = anna.get(&format!("/ulb/qa/records/{local}")).await.html();
    let on_page = record.all("//section[@id='before']//tr[@class='finding']/@data-rule");
    let mut ctx = libxml::xpath::Context::new(&xml.doc).unwrap();
    ctx.register_namespace("vd", "urn:vitrine:diagnostics:1")
        .unwrap();
    let mut in_oai: Vec<String> = ctx
        .findnodes("//vd:before/vd:finding/@rule", None)
        .unwrap()
        .iter()
        .map(|n| n.get_content())
        .collect();
    let mut on_page = on_page;
    in_oai.sort();
    on_page.sort();
    assert_eq!(on_page, in_oai);
}

#[tokio::test]
async fn a_title_with_markup_is_shown_as_text() {
    let app = TestApp::spawn_with(&config()).await;
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixtures().join("main/demo_mono_0001.xml")).unwrap();
    let title = "<script>alert(1)</script>";
    let escaped = title.replace('<', "&lt;").replace('>', "&gt;");
    let start = text.find("<mods:title>").expect("a mods:title") + "<mods:title>".len();
    let end = start + text[start..].find("</mods:title>").unwrap();
    let changed = format!("{}{escaped}{}", &text[..start], &text[end..]);
    std::fs::write(dir.path().join("x.xml"), changed).unwrap();
    let r = app.import("ulb", &[dir.path().to_path_buf()], true).await;
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    run_job(&app, false).await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    let page = anna.get("/ulb/qa/records/demo_mono_0001").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains(title), "the markup is escaped");
    assert_eq!(page.html().s("string(//p[@class='lead'])"), title);
    assert_eq!(page.html().count("//script"), 0);
}

#[tokio::test]
async fn the_job_report_shows_states_before_and_after_and_the_rules_of_the_run() {
    let (app, report) = validated_app().await;
    add_user(&app, "root", Role::Admin, None).await;
    let mut admin = Visitor::logged_in(&app, "root").await;
    let page = admin
        .get(&format!("/ulb/admin/jobreport/{}", report.run_id))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = page.html();
    assert_eq!(html.s("string(//*[@id='status'])"), "finished");
    assert_eq!(html.s("string(//*[@id='started-by'])"), "test");
    assert_eq!(
        number(&html.s("string(//*[@id='validated'])")),
        report.validated as i64
    );
    assert_eq!(
        html.count("//table[@id='report-rules']/tbody/tr"),
        report.rules.len()
    );
    for (id, stat) in &report.rules {
        assert_eq!(
            html.s(&format!(
                "string(//table[@id='report-rules']//tr[@data-rule='{id}']//span[@class='ratio'])"
            )),
            format!("[{}/{}]", stat.repaired, stat.occurrences)
        );
    }
    assert!(html.count("//svg[contains(@class,'chart')]") >= 1);
    assert_eq!(html.count("//table[@id='instances']/tbody/tr"), 1);
}

#[tokio::test]
async fn the_trend_follows_the_runs_and_the_page_names_the_last_run() {
    let (app, first) = validated_app().await;
    let second = run_job(&app, true).await;
    add_user(&app, "root", Role::Admin, None).await;
    let mut admin = Visitor::logged_in(&app, "root").await;
    let html = admin.get("/ulb/qa/oaivalidator").await.html();
    assert!(
        html.count(&format!(
            "//a[@href='/ulb/admin/jobreport/{}']",
            second.run_id
        )) > 0
    );
    let trend = app.store.qa_trend(&scope(&app).await, 12).await.unwrap();
    assert_eq!(
        trend.iter().map(|p| p.run_id).collect::<Vec<_>>(),
        vec![first.run_id, second.run_id]
    );
    assert_eq!(
        html.count("//svg[contains(@class,'chart')]"),
        2,
        "states and trend"
    );
}

#[tokio::test]
async fn an_admin_starts_a_run_and_a_second_start_while_it_runs_changes_nothing() {
    let (app, _) = validated_app().await;
    add_user(&app, "root", Role::Admin, None).await;
    let mut admin = Visitor::logged_in(&app, "root").await;
    let csrf = admin.csrf("/ulb/admin/jobs").await;
    let runs_before = app.store.job_runs(None).await.unwrap().len();
    // While a run holds the job, a start from the page is refused.
    let running = app
        .store
        .start_job_run(
            "OaiOutputValidator",
            "zmets",
            app.domain("ulb").await.id,
            "elsewhere",
            false,
            1,
        )
        .await
        .unwrap();
    let refused = admin
        .post(
            "/ulb/admin/jobs",
            &[("csrf", &csrf), ("mode", "zmets"), ("full", "true")],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused
        .html()
        .s("string(//*[@id='notice'])")
        .contains(&format!("#{running}")));
    assert_eq!(
        app.store.job_runs(None).await.unwrap().len(),
        runs_before + 1
    );
    app.store
        .finish_job_run(running, vitrine::domain::JobStatus::Killed, "{}", 2)
        .await
        .unwrap();
    let started = admin
        .post(
            "/ulb/admin/jobs",
            &[("csrf", &csrf), ("mode", "zmets"), ("full", "true")],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let location = started.location.unwrap();
    assert!(
        location.starts_with("/ulb/admin/jobs?started="),
        "{location}"
    );
    let id: i64 = location.rsplit('=').next().unwrap().parse().unwrap();
    let run = loop {
        let run = app.store.job_run(id).await.unwrap().unwrap();
        if run.status != vitrine::domain::JobStatus::Running {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(run.status, vitrine::domain::JobStatus::Finished);
    assert_eq!(run.started_by, "user:root");
    assert!(run.full_run);
    let page = admin.get("/ulb/admin/jobs").await.html();
    assert!(page.count(&format!("//table[@id='runs']//tr[@data-run='{id}']")) == 1);
    assert!(!page.s("string(//*[@id='next-run'])").trim().is_empty());
}

#[tokio::test]
async fn the_start_page_lists_each_domain_with_its_records_and_links() {
    let (app, _) = validated_app().await;
    let mut visitor = Visitor::new(&app);
    let html = visitor.get("/").await.html();
    let counts = app.store.domain_record_counts().await.unwrap();
    let ulb = app.domain("ulb").await.id;
    let records = counts.iter().find(|c| c.domain_id == ulb).unwrap().records;
    assert_eq!(
        number(&html.s("string(//tr[td/span/code='ulb']/td[3])")),
        records
    );
    assert_eq!(html.count("//a[@href='/ulb/qa/oaivalidator']"), 1);
    assert_eq!(html.count("//a[@href='/zd/admin/jobs']"), 1);
    let css = visitor.get("/static/vitrine.css").await;
    assert_eq!(css.status, 200);
    assert!(css.content_type.starts_with("text/css"));
}

#[tokio::test]
async fn pages_speak_german_by_default_and_english_when_asked() {
    let (app, _) = validated_app().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    anna.language = "de-DE,de;q=0.9";
    let html = anna.get("/ulb/qa/oaivalidator").await.html();
    assert_eq!(html.s("string(/html/@lang)"), "de");
    assert!(html.s("string(//h1)").contains("QA-Statistik"));
    anna.language = "en-GB,en;q=0.8";
    let html = anna.get("/ulb/qa/oaivalidator").await.html();
    assert_eq!(html.s("string(/html/@lang)"), "en");
    assert!(html.s("string(//h1)").contains("QA statistics"));
}
