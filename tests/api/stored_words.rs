//! The state columns hold only the words vitrine writes: the database itself refuses any
//! other value (CHECK constraints on PostgreSQL, triggers on SQLite), and accepts every
//! word of the enums that code uses in their place.

use crate::helpers::TestApp;
use sqlx::AnyConnection;
use sqlx::{AssertSqlSafe, Connection};
use vitrine::domain::{InstanceRole, JobPhase, JobStatus, ValidationState};

async fn connect(app: &TestApp) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(&app.url).await.expect("connect")
}

/// Runs one statement; `Err` carries the database's message.
async fn run(conn: &mut AnyConnection, sql: String) -> Result<u64, String> {
    sqlx::query(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        .map_err(|e| e.to_string())
}

/// A job run and an instance in it, to update their words.
async fn a_run(app: &TestApp) -> i64 {
    let ulb = app.domain("ulb").await;
    let id = app
        .store
        .start_job_run("OaiOutputValidator", "zmets", ulb.id, "test", true, 1000)
        .await
        .expect("start run");
    app.store
        .join_job_run(id, "host:1", InstanceRole::Coordinator, 1000)
        .await
        .expect("join run");
    id
}

/// An application with the demo records, and the id of one of them.
async fn a_record() -> (TestApp, i64) {
    let app = TestApp::spawn().await;
    app.import_demo().await;
    let id = app.status("ulb", "demo_mono_0001").await.id;
    (app, id)
}

#[tokio::test]
async fn a_validation_state_outside_the_list_is_refused_by_the_database() {
    let (app, id) = a_record().await;
    let mut conn = connect(&app).await;
    for state in ValidationState::ALL {
        let sql = format!(
            "UPDATE record SET zmods_validation = '{}' WHERE id = {id}",
            state.as_str()
        );
        assert_eq!(run(&mut conn, sql).await, Ok(1), "{state}");
    }
    let refused = run(
        &mut conn,
        format!("UPDATE record SET zmods_validation = 'Valid' WHERE id = {id}"),
    )
    .await
    .expect_err("a word in the wrong case is refused");
    assert!(refused.to_lowercase().contains("check"), "{refused}");
    assert_eq!(
        app.store.validation_state(id).await.expect("state").0,
        ValidationState::Valid,
        "the refused update left the stored state alone"
    );
}

#[tokio::test]
async fn job_words_outside_their_lists_are_refused_by_the_database() {
    let app = TestApp::spawn().await;
    let mut conn = connect(&app).await;
    let id = a_run(&app).await;
    for status in JobStatus::ALL {
        let sql = format!("UPDATE job_run SET status = '{status}' WHERE id = {id}");
        assert_eq!(run(&mut conn, sql).await, Ok(1), "{status}");
    }
    for phase in JobPhase::ALL {
        let sql = format!("UPDATE job_run SET phase = '{phase}' WHERE id = {id}");
        assert_eq!(run(&mut conn, sql).await, Ok(1), "{phase}");
    }
    for role in InstanceRole::ALL {
        let sql = format!("UPDATE job_run_instance SET role = '{role}' WHERE run_id = {id}");
        assert_eq!(run(&mut conn, sql).await, Ok(1), "{role}");
    }
    for sql in [
        format!("UPDATE job_run SET status = 'done' WHERE id = {id}"),
        format!("UPDATE job_run SET phase = 'running' WHERE id = {id}"),
        format!("UPDATE job_run_instance SET role = 'leader' WHERE run_id = {id}"),
    ] {
        let refused = run(&mut conn, sql.clone()).await.expect_err(&sql);
        assert!(refused.to_lowercase().contains("check"), "{sql}: {refused}");
    }
    let stored = app.store.job_run(id).await.expect("read").expect("run");
    assert_eq!(
        (stored.status, stored.phase),
        (JobStatus::Killed, JobPhase::Done)
    );
}

#[tokio::test]
async fn a_finding_class_or_stage_outside_the_list_is_refused_by_the_database() {
    let (app, id) = a_record().await;
    let mut conn = connect(&app).await;
    let insert = |stage: &str, class: &str| {
        format!(
            "INSERT INTO finding (record_id, stage, rule_id, class, message, location, repaired) \
             VALUES ({id}, '{stage}', 'r', '{class}', 'm', '/', 0)"
        )
    };
    for class in ["error", "warn", "info"] {
        let parsed = vitrine::schematron::Class::parse(class).expect("a stored class");
        assert_eq!(parsed.as_str(), class);
        assert_eq!(run(&mut conn, insert("before", class)).await, Ok(1));
    }
    assert_eq!(run(&mut conn, insert("after", "warn")).await, Ok(1));
    for (stage, class) in [("before", "warning"), ("during", "error")] {
        let refused = run(&mut conn, insert(stage, class))
            .await
            .expect_err("refused");
        assert!(refused.to_lowercase().contains("check"), "{refused}");
    }
}
