//! The OaiOutputValidator job: states, scope, incremental runs, changes during a run.

use crate::helpers::{fixtures, open_store, TestApp, TEST_CONFIG};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vitrine::domain::{InstanceRole, JobPhase, JobStatus, ValidationState};
use vitrine::jobs::oai_output_validator::{prepare, run, JobReport, Options, JOB};
use vitrine::jobs::schedule::Schedule;
use vitrine::store::{ClaimRequest, HeldRecords, PreparedResult, StateChange, Store};
use vitrine::validation::record::validate_record;

pub(crate) fn config() -> String {
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
             [domains.zd]",
        )
}

async fn try_run(app: &TestApp, domain: &str, full: bool) -> anyhow::Result<JobReport> {
    let options = Options {
        full,
        join_wait: Duration::from_millis(300),
        ..Options::new(domain, "test", app.time())
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

pub(crate) async fn run_job(app: &TestApp, domain: &str, full: bool) -> JobReport {
    try_run(app, domain, full).await.expect("job run")
}

/// Imports, released, two demo records whose defects the repairs fix
/// (`demo_mono_0001`, `demo_mono_0003`).
pub(crate) async fn import_repairable(app: &TestApp) {
    let main = fixtures().join("main");
    app.import(
        "ulb",
        &[
            main.join("demo_mono_0001.xml"),
            main.join("demo_mono_0003.xml"),
        ],
        true,
    )
    .await;
}

/// Writes a copy of the demo record `file` into `dir` with a defect no repair fixes (no
/// DEFAULT image group), and returns its path.
pub(crate) fn without_default_images(file: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixtures().join("main").join(file)).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, text.replace("USE=\"DEFAULT\"", "USE=\"ORIGINAL\"")).unwrap();
    path
}

pub(crate) async fn state(app: &TestApp, domain: &str, local: &str) -> ValidationState {
    let id = app.status(domain, local).await.id;
    app.store.validation_state(id).await.unwrap().0
}

#[tokio::test]
async fn a_first_run_validates_every_record_in_scope_and_repairs_what_it_can() {
    let app = TestApp::spawn_with(&config()).await;
    app.import_demo().await;
    assert_eq!(
        state(&app, "ulb", "demo_mono_0003").await,
        ValidationState::Undefined
    );
    let report = run_job(&app, "ulb", false).await;
    assert!(report.full, "the first run is a full run");
    assert_eq!(report.scope, vec!["ulb"], "zd has zmets switched off");
    assert_eq!(report.validated, 26);
    assert_eq!(report.after["undefined"], 0);
    assert_eq!(
        state(&app, "zd", "demo_zd_0001").await,
        ValidationState::Undefined,
        "out of scope"
    );
    // The language defect (MODS-AP-Kap-2.4-b) is repaired in zmets: valid, finding kept.
    assert_eq!(
        state(&app, "ulb", "demo_mono_0003").await,
        ValidationState::Valid
    );
    let id = app.status("ulb", "demo_mono_0003").await.id;
    let findings = app.store.findings(id).await.unwrap();
    let language = findings
        .iter()
        .find(|f| f.rule_id == "MODS-AP-Kap-2.4-b")
        .unwrap();
    assert!(language.repaired && language.class == "error" && language.stage == "before");
    // "[1795?]" cannot be repaired without inventing precision: it stays a warning.
    assert_eq!(
        state(&app, "ulb", "demo_mono_0009").await,
        ValidationState::ValidWarn
    );
    let id = app.status("ulb", "demo_mono_0009").await.id;
    let (_, reason, validated_at) = app.store.validation_state(id).await.unwrap();
    assert!(reason.starts_with("warn: MODS-AP-Kap-2.3.1-f"), "{reason}");
    assert!(validated_at.is_some());
    assert!(app
        .store
        .findings(id)
        .await
        .unwrap()
        .iter()
        .any(|f| !f.repaired));
    assert_eq!(report.rules["MODS-AP-Kap-2.4-b"].repaired, 1);
    let runs = app.store.job_runs(None).await.unwrap();
    assert_eq!(
        (runs.len(), runs[0].job.as_str(), runs[0].status.as_str()),
        (1, JOB, "finished")
    );
}

#[tokio::test]
async fn changes_and_releases_make_records_undefined_and_a_later_run_takes_them_and_their_relatives(
) {
    let app = TestApp::spawn_with(&config()).await;
    app.import_demo().await;
    run_job(&app, "ulb", false).await;
    // A changed volume: the volume and its anchor are revalidated, not the others.
    let dir = tempfile::tempdir().unwrap();
    let file = fixtures().join("main/demo_mvw_0001_03.xml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        dir.path().join("v.xml"),
        text.replacen("</mods:mods>", "<mods:note>neu</mods:note></mods:mods>", 1),
    )
    .unwrap();
    assert_eq!(
        app.import("ulb", &[dir.path().join("v.xml")], true)
            .await
            .replaced,
        1
    );
    assert_eq!(
        state(&app, "ulb", "demo_mvw_0001_03").await,
        ValidationState::Undefined
    );
    app.change("ulb", "demo_mono_0002", StateChange::Withdraw)
        .await;
    assert_eq!(
        state(&app, "ulb", "demo_mono_0002").await,
        ValidationState::Undefined
    );
    let report = run_job(&app, "ulb", false).await;
    assert!(!report.full);
    assert_eq!(
        report.validated, 3,
        "the volume, its anchor and the withdrawn record"
    );
    assert_eq!(
        state(&app, "ulb", "demo_mvw_0001").await,
        ValidationState::Valid
    );
    // A changed anchor revalidates its volumes.
    let anchor = fixtures().join("main/demo_mvw_0001.xml");
    let text = std::fs::read_to_string(&anchor).unwrap();
    std::fs::write(
        dir.path().join("a.xml"),
        text.replacen("</mods:mods>", "<mods:note>neu</mods:note></mods:mods>", 1),
    )
    .unwrap();
    app.import("ulb", &[dir.path().join("a.xml")], true).await;
    let report = run_job(&app, "ulb", false).await;
    assert_eq!(report.validated, 5, "the anchor and its four volumes");
    let full = run_job(&app, "ulb", true).await;
    assert_eq!(full.validated, 26);
}

#[tokio::test]
async fn a_record_that_changes_while_it_is_validated_stays_undefined_for_the_next_run() {
    a_change_after_the_claim_drops_the_result(1).await;
}

#[tokio::test]
async fn a_change_within_the_second_of_the_claim_also_drops_the_result() {
    // The datestamp cannot tell a change in the same second from none: the record's
    // revision can.
    a_change_after_the_claim_drops_the_result(0).await;
}

/// Claims and validates a record, changes it `seconds_later`, then stores the result:
/// nothing is stored, and the next run validates the changed record.
async fn a_change_after_the_claim_drops_the_result(seconds_later: i64) {
    let app = TestApp::spawn_with(&config()).await;
    app.import("ulb", &[fixtures().join("main/demo_mono_0001.xml")], true)
        .await;
    let ulb = app.domain("ulb").await;
    let claim = app
        .store
        .claim(&ClaimRequest {
            domain_ids: &[ulb.id],
            run_id: 0,
            after: 0,
            limit: 10,
            wait: false,
            worker: false,
        })
        .await
        .unwrap();
    assert_eq!(claim.tasks.len(), 1);
    let tree = app.tree().await;
    let task = claim.tasks[0].task().unwrap();
    let result = validate_record(&task, &tree, "http://127.0.0.1:8080").unwrap();
    let prepared = prepare(result, &claim.tasks[0], &task);
    // Let go of the records (on PostgreSQL the claim's transaction locks them) and store
    // the result later, as a run restarted elsewhere would.
    let ids = claim.held.ids().to_vec();
    drop(claim.held);
    // The record changes before the result is stored (a run killed and restarted, or an
    // export arriving meanwhile): the stale result must not be stored.
    app.clock.advance(seconds_later);
    app.change("ulb", "demo_mono_0001", StateChange::Withdraw)
        .await;
    let saved = app
        .store
        .save_claimed(
            HeldRecords::unheld(ids),
            &[prepared],
            &[],
            None,
            app.clock.now(),
        )
        .await
        .unwrap()
        .saved;
    assert_eq!(saved, 0);
    assert_eq!(
        state(&app, "ulb", "demo_mono_0001").await,
        ValidationState::Undefined
    );
    let report = run_job(&app, "ulb", false).await;
    assert_eq!(report.validated, 1);
    assert_eq!(
        state(&app, "ulb", "demo_mono_0001").await,
        ValidationState::Valid
    );
}

#[tokio::test]
async fn a_domain_without_zmets_cannot_be_validated() {
    let app = TestApp::spawn().await;
    let err = try_run(&app, "zd", false).await.unwrap_err();
    assert!(err.to_string().contains("oai.formats.zmets.on"), "{err}");
}

#[tokio::test]
async fn zmets_harvesters_see_records_enter_and_leave_with_diagnostics_on_request() {
    let app = TestApp::spawn_with(&config()).await;
    let formats = app.oai(&[("verb", "ListMetadataFormats")]).await;
    assert_eq!(
        formats.all("//o:metadataPrefix"),
        vec!["oai_dc", "mets", "mods", "zmets", "zmods"]
    );
    import_repairable(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let broken = without_default_images("demo_mono_0002.xml", dir.path());
    app.import("ulb", &[broken], true).await;
    let none = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "zmets")])
        .await;
    assert_eq!(
        none.errors(),
        vec!["noRecordsMatch"],
        "nothing is exported before validation"
    );

    run_job(&app, "ulb", false).await;
    assert_eq!(
        state(&app, "ulb", "demo_mono_0002").await,
        ValidationState::Invalid
    );
    let listed = app
        .oai(&[("verb", "ListIdentifiers"), ("metadataPrefix", "zmets")])
        .await;
    let ids = listed.all("//o:header/o:identifier");
    assert_eq!(
        ids,
        vec![
            "oai:digital.ulb.example.org:demo_mono_0001".to_string(),
            "oai:digital.ulb.example.org:demo_mono_0003".to_string(),
        ]
    );
    // zmets is the repaired METS: the language code is fixed there, not in mets.
    let id = "oai:digital.ulb.example.org:demo_mono_0003";
    let zmets = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", id),
            ("metadataPrefix", "zmets"),
        ])
        .await;
    assert_eq!(
        zmets.s("string((//o:metadata//mods:languageTerm)[1])"),
        "ger"
    );
    let mets = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", id),
            ("metadataPrefix", "mets"),
        ])
        .await;
    assert_eq!(
        mets.s("string((//o:metadata//mods:languageTerm)[1])"),
        "Deutsch"
    );
    let zmods = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", id),
            ("metadataPrefix", "zmods"),
        ])
        .await;
    assert_eq!(zmods.count("//o:metadata/mods:mods"), 1);

    // diag=true: findings before, repairs, findings after, final class; valid by schema.
    let diag = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", id),
            ("metadataPrefix", "zmets"),
            ("diag", "true"),
        ])
        .await;
    let d = "//o:about/*[local-name()='diagnostics']";
    assert_eq!(diag.s(&format!("string({d}/@class)")), "valid");
    assert!(
        diag.count(&format!(
            "{d}/*[local-name()='before']/*[@rule='MODS-AP-Kap-2.4-b'][@repaired='true']"
        )) == 1
    );
    assert!(
        diag.count(&format!(
            "{d}/*[local-name()='repairs']/*[@rule='MODS-AP-Kap-2.4-b']"
        )) >= 1
    );
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/diagnostics.xsd");
    diag.assert_valid_part(d, &schema);
    let served = app.get("/schemas/diagnostics.xsd", &[]).await;
    assert_eq!(served.status(), 200);
    let bad = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", id),
            ("metadataPrefix", "mets"),
            ("diag", "true"),
        ])
        .await;
    assert_eq!(bad.errors(), vec!["badArgument"]);

    // Leaving: a withdrawal takes the record out of zmets at once, as deleted.
    let stamp = listed.s("string((//o:header/o:datestamp)[1])");
    app.clock.advance(1);
    app.change("ulb", "demo_mono_0001", StateChange::Withdraw)
        .await;
    let after = crate::helpers::second_after(&stamp);
    let incremental = app
        .oai(&[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "zmets"),
            ("from", &after),
        ])
        .await;
    assert_eq!(
        incremental.all("//o:header[@status='deleted']/o:identifier"),
        vec!["oai:digital.ulb.example.org:demo_mono_0001".to_string()]
    );
    assert_eq!(incremental.count("//o:header"), 1, "the withdrawal alone");
    // Entering: the repaired record, released again and revalidated, comes back.
    app.change("ulb", "demo_mono_0001", StateChange::Release)
        .await;
    run_job(&app, "ulb", false).await;
    let back = app
        .oai(&[
            ("verb", "GetRecord"),
            ("identifier", "oai:digital.ulb.example.org:demo_mono_0001"),
            ("metadataPrefix", "zmets"),
        ])
        .await;
    assert_eq!(back.count("//o:header[@status='deleted']"), 0);
    assert_eq!(back.s("string(//o:header/o:datestamp)"), after);
}

/// On SQLite a second run is refused; on PostgreSQL it waits (a bounded time) for a run
/// to join, and there is none while only the lock is held.
#[tokio::test]
async fn a_run_is_refused_while_another_holds_the_job() {
    let app = TestApp::spawn_with(&config()).await;
    let lock = app
        .store
        .try_job_lock(&format!("{JOB}:zmets:ulb"))
        .await
        .unwrap()
        .expect("free at first");
    let err = try_run(&app, "ulb", false).await.unwrap_err();
    assert!(err.to_string().contains("running on ulb already"), "{err}");
    drop(lock);
    assert!(try_run(&app, "ulb", false).await.is_ok());
}

/// The ids of the domains in a run's scope.
async fn scope(app: &TestApp, domain: &str) -> Vec<i64> {
    let tree = app.tree().await;
    tree.zmets_scope(tree.by_name(domain).unwrap().id)
}

/// A run of instance `instance` on its own store, in batches of `batch`.
async fn run_as(
    store: Arc<dyn Store>,
    app: &TestApp,
    instance: &str,
    batch: usize,
) -> anyhow::Result<JobReport> {
    let options = Options {
        instance: instance.into(),
        batch_size: batch,
        ..Options::new("ulb", "test", app.time())
    };
    run(store, app.tree().await, &app.config, &options, &|_, _| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only (one process does a whole run on SQLite): \
            VITRINE_TEST_POSTGRES_URL=… cargo test -- --include-ignored"]
async fn two_instances_share_the_records_of_a_run_on_postgresql() {
    let app = TestApp::spawn_with(&config()).await;
    assert!(app.store.shares_work(), "set VITRINE_TEST_POSTGRES_URL");
    app.import_demo().await;
    app.import_copies("ulb", 300).await;
    let scope = scope(&app, "ulb").await;
    let in_scope = app.store.validation_marks(&scope).await.unwrap().len();
    assert_eq!(in_scope, 326);
    // Two instances: two connection pools on one database, started together.
    let other = open_store(&app.url).await;
    let (a, b) = tokio::join!(
        run_as(app.store.clone(), &app, "instance-a", 2),
        run_as(other, &app, "instance-b", 2)
    );
    let (a, b) = (a.expect("instance a"), b.expect("instance b"));
    let (coordinator, worker) = if a.joined() { (b, a) } else { (a, b) };
    assert!(!coordinator.joined() && worker.joined());
    assert_eq!(
        worker.run_id, coordinator.run_id,
        "the worker joined the run"
    );
    assert_eq!(coordinator.validated, in_scope as u64);
    assert_eq!(coordinator.after["undefined"], 0);

    // What is stored: both instances took part and each stored a share.
    let instances = app
        .store
        .job_run_instances(coordinator.run_id)
        .await
        .unwrap();
    let roles: Vec<&str> = instances.iter().map(|i| i.role.as_str()).collect();
    assert_eq!(roles, vec!["coordinator", "worker"]);
    assert!(
        instances.iter().all(|i| i.validated > 0),
        "both instances validated records: {instances:?}"
    );
    assert!(instances.iter().all(|i| i.finished_at.is_some()));
    let run = app
        .store
        .job_run(coordinator.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((run.status.as_str(), run.validated), ("finished", 326));
    // Every record in scope was validated once, by one of the two, and each instance's
    // count is the number of records whose stored result is its own.
    let marks = app.store.validation_marks(&scope).await.unwrap();
    let mut by_instance: HashMap<i64, i64> = HashMap::new();
    for mark in &marks {
        assert_ne!(mark.state, ValidationState::Undefined, "{}", mark.local_id);
        assert_eq!(mark.count, 1, "{} validated once", mark.local_id);
        assert_eq!(mark.run_id, Some(coordinator.run_id));
        *by_instance
            .entry(mark.validated_by.expect("validated by an instance"))
            .or_default() += 1;
    }
    let expected: HashMap<i64, i64> = instances.iter().map(|i| (i.id, i.validated)).collect();
    assert_eq!(by_instance, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only (one process does a whole run on SQLite): \
            VITRINE_TEST_POSTGRES_URL=… cargo test -- --include-ignored"]
async fn an_instance_stores_volumes_while_another_holds_their_anchor_on_postgresql() {
    let app = TestApp::spawn_with(&config()).await;
    assert!(app.store.shares_work(), "set VITRINE_TEST_POSTGRES_URL");
    let files: Vec<_> = ["", "_01", "_02", "_03", "_04"]
        .iter()
        .map(|v| fixtures().join(format!("main/demo_mvw_0001{v}.xml")))
        .collect();
    let r = app.import("ulb", &files, true).await;
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    let ulb = app.domain("ulb").await;
    let scope = scope(&app, "ulb").await;
    let marks = app.store.validation_marks(&scope).await.unwrap();
    let mut parents = Vec::new();
    for mark in &marks {
        let status = app.store.record_status(ulb.id, &mark.local_id).await;
        parents.push(status.unwrap().unwrap().parent_id);
    }
    let anchor = parents.iter().flatten().next().copied().expect("volumes");
    assert!(parents.iter().flatten().all(|p| *p == anchor));
    let volumes = parents.iter().flatten().count();
    assert_eq!(volumes, 4);

    let now = chrono::Utc::now().timestamp();
    let run_id = app
        .store
        .start_job_run(JOB, "zmets", ulb.id, "test", true, now)
        .await
        .unwrap();
    app.store
        .set_job_phase(run_id, JobPhase::Validating)
        .await
        .unwrap();
    let request = |after: i64, limit: i64| ClaimRequest {
        domain_ids: &scope,
        run_id,
        after,
        limit,
        wait: false,
        worker: false,
    };
    // Instance a holds the anchor in its batch; instance b claims the volumes.
    let a = app.store.clone();
    let held_anchor = a.claim(&request(anchor - 1, 1)).await.unwrap();
    assert_eq!(held_anchor.held.ids(), &[anchor]);
    let b = open_store(&app.url).await;
    let me = b
        .join_job_run(run_id, "instance-b", InstanceRole::Worker, now)
        .await
        .unwrap();
    let claim = b.claim(&request(0, 10)).await.unwrap();
    assert_eq!(claim.tasks.len(), volumes, "every volume, not the anchor");
    let tree = app.tree().await;
    let results: Vec<PreparedResult> = claim
        .tasks
        .iter()
        .map(|claimed| {
            let task = claimed.task().unwrap();
            let result = validate_record(&task, &tree, "http://127.0.0.1:8080").unwrap();
            prepare(result, claimed, &task)
        })
        .collect();
    // Storing the volumes checks their reference to the anchor: that must not wait for
    // instance a, which may itself be waiting to store a volume of another anchor that b
    // holds (two instances that each hold the other's anchor deadlock).
    let saved = tokio::time::timeout(
        Duration::from_secs(20),
        b.save_claimed(claim.held, &results, &[], Some(me), now),
    )
    .await
    .expect("the volumes are stored while another instance holds their anchor")
    .unwrap();
    assert_eq!(saved.saved, volumes as u64);
    drop(held_anchor);
    for mark in app.store.validation_marks(&scope).await.unwrap() {
        if mark.record_id != anchor {
            assert_ne!(mark.state, ValidationState::Undefined, "{}", mark.local_id);
            assert_eq!(mark.run_id, Some(run_id));
        }
    }
}

/// Polls the stored run until it reaches `phase` (the coordinator's own signal).
async fn wait_for_phase(app: &TestApp, phase: JobPhase) -> vitrine::store::JobRun {
    let ulb = app.domain("ulb").await;
    let started = Instant::now();
    loop {
        let runs = app.store.job_runs(Some(ulb.id)).await.unwrap();
        if let Some(run) = runs.into_iter().find(|r| r.phase == phase) {
            return run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no run reached {phase}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only (there are no workers on SQLite): \
            VITRINE_TEST_POSTGRES_URL=… cargo test -- --include-ignored"]
async fn the_coordinator_takes_over_the_records_of_a_worker_that_died_on_postgresql() {
    let app = TestApp::spawn_with(&config()).await;
    assert!(app.store.shares_work(), "set VITRINE_TEST_POSTGRES_URL");
    app.import_demo().await;
    app.import_copies("ulb", 100).await;
    let scope = scope(&app, "ulb").await;
    let coordinator = tokio::spawn({
        let store = app.store.clone();
        let tree = app.tree().await;
        let config = app.config.clone();
        let clock = app.time();
        async move {
            let options = Options {
                batch_size: 2,
                ..Options::new("ulb", "test", clock)
            };
            run(store, tree, &config, &options, &|_, _| {}).await
        }
    });
    // A worker claims records while the coordinator validates, and dies holding them:
    // the coordinator must wait for them and then validate them itself.
    let run_id = wait_for_phase(&app, JobPhase::Validating).await.id;
    let worker = open_store(&app.url).await;
    let claim = worker
        .claim(&ClaimRequest {
            domain_ids: &scope,
            run_id,
            after: 0,
            limit: 5,
            wait: false,
            worker: true,
        })
        .await
        .unwrap();
    let held = claim.held.ids().to_vec();
    assert_eq!(held.len(), 5);
    wait_for_phase(&app, JobPhase::Sweeping).await;
    drop(claim);
    let report = coordinator.await.unwrap().expect("the run finishes");
    assert_eq!(report.validated, 126);
    assert_eq!(report.after["undefined"], 0);
    let marks = app.store.validation_marks(&scope).await.unwrap();
    for mark in marks.iter().filter(|m| held.contains(&m.record_id)) {
        assert_ne!(mark.state, ValidationState::Undefined, "{}", mark.local_id);
        assert_eq!(mark.count, 1, "{} validated once", mark.local_id);
        assert_eq!(mark.run_id, Some(run_id));
    }
}

#[tokio::test]
async fn a_killed_run_is_marked_and_the_next_run_validates_what_is_left_once() {
    let app = TestApp::spawn_with(&config()).await;
    app.import_demo().await;
    app.import_copies("ulb", 300).await;
    let ulb = app.domain("ulb").await;
    let scope = scope(&app, "ulb").await;
    let in_scope = app.store.validation_marks(&scope).await.unwrap().len() as i64;
    // A real vitrine process, killed (SIGKILL) once it has stored a batch.
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("vitrine.toml");
    std::fs::write(&config_file, config()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .arg("--config")
        .arg(&config_file)
        .args(["--database", &app.url])
        .args(["job", "run", "oai-output-validator", "--domain", "ulb"])
        .args(["--batch-size", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .env_remove("VITRINE_LOG")
        .spawn()
        .expect("start vitrine");
    let started = Instant::now();
    let first_batch = loop {
        let runs = app.store.job_runs(Some(ulb.id)).await.unwrap();
        let stored = runs.into_iter().find(|r| r.validated > 0);
        if stored.is_some() || started.elapsed() > Duration::from_secs(60) {
            break stored;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("vitrine job run ended ({status}) before storing a batch: {stderr}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = first_batch
        .expect("the run stored a batch within a minute")
        .id;
    let dead = app.store.job_run(killed).await.unwrap().unwrap();
    assert_eq!(
        dead.status,
        JobStatus::Running,
        "the run must be killed before it ends (make it longer if it was not)"
    );
    assert!(dead.validated > 0 && dead.validated < in_scope);
    // On PostgreSQL the dead session's advisory lock goes with its connection.
    let started = Instant::now();
    while app
        .store
        .try_job_lock(&format!("{JOB}:zmets:ulb"))
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "lock not freed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let next = run_job(&app, "ulb", false).await;
    assert!(
        !next.full,
        "the killed run marked the scope; the next one continues"
    );
    assert_eq!(next.killed_runs, vec![killed]);
    let dead = app.store.job_run(killed).await.unwrap().unwrap();
    assert_eq!(dead.status, JobStatus::Killed);
    assert!(dead.finished_at.is_some());
    let listed = app.store.job_runs(Some(ulb.id)).await.unwrap();
    assert!(listed.iter().all(|r| r.status != JobStatus::Running));
    // Each record validated exactly once: by the killed run or by the next one.
    assert_eq!(dead.validated + next.validated as i64, in_scope);
    assert_eq!(next.after["undefined"], 0);
    let marks = app.store.validation_marks(&scope).await.unwrap();
    let by_killed = marks.iter().filter(|m| m.run_id == Some(killed)).count() as i64;
    assert_eq!(by_killed, dead.validated);
    for mark in &marks {
        assert_ne!(mark.state, ValidationState::Undefined, "{}", mark.local_id);
        assert_eq!(mark.count, 1, "{} validated once", mark.local_id);
    }
}

#[tokio::test]
async fn a_run_continuing_a_killed_one_leaves_alone_the_relatives_that_one_validated() {
    let app = TestApp::spawn_with(&config()).await;
    app.import_demo().await;
    let ulb = app.domain("ulb").await;
    let scope = scope(&app, "ulb").await;
    // A first run marked its scope, validated the anchor of a multivolume work, and died
    // before its volumes.
    let now = app.clock.now();
    let store = &app.store;
    let run_id = store
        .start_job_run(JOB, "zmets", ulb.id, "test", true, now)
        .await
        .unwrap();
    let dead = store
        .join_job_run(run_id, "dead", InstanceRole::Coordinator, now)
        .await
        .unwrap();
    store.mark_undefined(&scope, true).await.unwrap();
    store
        .set_job_phase(run_id, JobPhase::Validating)
        .await
        .unwrap();
    let anchor = app.status("ulb", "demo_mvw_0001").await.id;
    let claim = store
        .claim(&ClaimRequest {
            domain_ids: &scope,
            run_id,
            after: anchor - 1,
            limit: 1,
            wait: false,
            worker: false,
        })
        .await
        .unwrap();
    assert_eq!(claim.held.ids(), &[anchor]);
    let tree = app.tree().await;
    let results: Vec<PreparedResult> = claim
        .tasks
        .iter()
        .map(|claimed| {
            let task = claimed.task().unwrap();
            let result = validate_record(&task, &tree, "http://127.0.0.1:8080").unwrap();
            prepare(result, claimed, &task)
        })
        .collect();
    let saved = store
        .save_claimed(claim.held, &results, &[], Some(dead), now)
        .await
        .unwrap();
    assert_eq!(saved.run_validated, Some(1));

    // The next run takes what is left: the volumes, not their anchor again.
    let next = run_job(&app, "ulb", false).await;
    assert!(!next.full);
    assert_eq!(next.killed_runs, vec![run_id]);
    assert_eq!(next.validated, 25, "every record but the anchor");
    for mark in app.store.validation_marks(&scope).await.unwrap() {
        assert_ne!(mark.state, ValidationState::Undefined, "{}", mark.local_id);
        assert_eq!(mark.count, 1, "{} validated once", mark.local_id);
    }
}

#[tokio::test]
async fn a_record_no_repair_changes_serves_its_stored_mets_and_mods_as_zmets_and_zmods() {
    let app = TestApp::spawn_with(&config()).await;
    app.import_demo().await;
    run_job(&app, "ulb", false).await;
    let mut ids = Vec::new();
    for local in [
        "demo_mono_0001",
        "demo_mono_0002",
        "demo_mono_0003",
        "demo_mono_0004",
    ] {
        ids.push((local, app.status("ulb", local).await.id));
    }
    let diagnostics = app
        .store
        .diagnostics(&ids.iter().map(|(_, id)| *id).collect::<Vec<_>>())
        .await
        .unwrap();
    let unrepaired: Vec<&str> = ids
        .iter()
        .filter(|(_, id)| {
            diagnostics.iter().any(|d| {
                d.record_id == *id && d.repairs.is_empty() && d.state != ValidationState::Invalid
            })
        })
        .map(|(local, _)| *local)
        .collect();
    let repaired = ids.len() - unrepaired.len();
    assert!(
        !unrepaired.is_empty() && repaired > 0,
        "the demo has exported records with and without repairs ({unrepaired:?})"
    );
    for local in unrepaired {
        let id = format!("oai:digital.ulb.example.org:{local}");
        let get = |prefix: &'static str| {
            let id = id.clone();
            let app = &app;
            async move {
                app.oai(&[
                    ("verb", "GetRecord"),
                    ("identifier", id.as_str()),
                    ("metadataPrefix", prefix),
                ])
                .await
            }
        };
        for (plain, z) in [("mets", "zmets"), ("mods", "zmods")] {
            let (a, b) = (get(plain).await, get(z).await);
            assert_eq!(b.errors(), Vec::<String>::new(), "{local} {z}");
            for xpath in [
                "string(//o:metadata)",
                "count(//o:metadata//*)",
                "count(//o:metadata//@*)",
            ] {
                assert_eq!(a.s(xpath), b.s(xpath), "{local}: {plain} vs {z}, {xpath}");
            }
            assert!(
                a.count("//o:metadata//*") > 10,
                "{local} {plain} has content"
            );
        }
    }
}

#[tokio::test]
async fn a_job_run_in_another_process_does_not_start_while_this_one_holds_the_job() {
    let app = TestApp::spawn_with(&config()).await;
    app.import("ulb", &[fixtures().join("main/demo_mono_0001.xml")], true)
        .await;
    let ulb = app.domain("ulb").await;
    // This process holds the job of ulb, as a running `serve` does during its run.
    let lock = app
        .store
        .try_job_lock(&format!("{JOB}:zmets:ulb"))
        .await
        .unwrap()
        .expect("the job is free");
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("vitrine.toml");
    std::fs::write(&config_file, config()).unwrap();
    // Run on a blocking thread: the runtime stays free to close this process's lock.
    let cli = || {
        let (config_file, url) = (config_file.clone(), app.url.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
                .arg("--config")
                .arg(&config_file)
                .args(["--database", &url])
                .args(["job", "run", "oai-output-validator", "--domain", "ulb"])
                .env_remove("VITRINE_LOG")
                .output()
                .expect("run vitrine")
        })
    };
    let refused = cli().await.unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is running on ulb already"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(app.store.job_runs(Some(ulb.id)).await.unwrap().is_empty());
    // Once the job is free again, the other process runs it.
    drop(lock);
    let ran = cli().await.unwrap();
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let runs = app.store.job_runs(Some(ulb.id)).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].validated),
        ("finished", 1)
    );
}

/// Polls the schedule until it is `expected`, for at most ten seconds.
async fn wait_for_schedule(schedule: &Schedule, expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(d, c)| (d.to_string(), c.to_string()))
        .collect();
    let started = Instant::now();
    while schedule.scheduled() != expected {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the schedule is {:?}, not {expected:?}",
            schedule.scheduled()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_schedule_follows_the_domain_settings_while_serving() {
    let app = TestApp::spawn().await;
    let ulb = app.domain("ulb").await;
    let schedule = vitrine::jobs::schedule::start(
        app.store.clone(),
        app.config.clone(),
        app.time(),
        Duration::from_millis(50),
    )
    .await
    .unwrap();
    assert!(schedule.scheduled().is_empty(), "zmets is off everywhere");
    // `vitrine domain set ulb oai.formats.zmets.on true` while serving.
    let set = |key: &'static str, value: Option<&'static str>| {
        let store = app.store.clone();
        async move { store.set_domain_setting(ulb.id, key, value).await.unwrap() }
    };
    set("oai.formats.zmets.on", Some("true")).await;
    wait_for_schedule(&schedule, &[("ulb", "0 0 2 * * *")]).await;
    set(
        "jobs.oai_output_validator.schedule",
        Some("\"0 30 3 * * *\""),
    )
    .await;
    wait_for_schedule(&schedule, &[("ulb", "0 30 3 * * *")]).await;
    set("oai.formats.zmets.on", None).await;
    wait_for_schedule(&schedule, &[]).await;
}
