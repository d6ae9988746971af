//! Job runs as stored: the run (`job_run`), the instances that took part in it
//! (`job_run_instance`), the records it could not validate (`job_run_error`), and what
//! its instances found, per rule. The counters are updated by every stored batch (in
//! `claims.rs`), so a killed run still shows what it did.

use super::sql::SqlStore;
use super::validation::{JobRun, JobRunInstance, Participant, RuleCount};
use super::StoreError;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeMap;

/// Records a run as started: `running`, phase `preparing`.
pub(super) async fn start(
    store: &SqlStore,
    job: &str,
    mode: &str,
    domain_id: i64,
    started_by: &str,
    full_run: bool,
    now: i64,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO job_run (job, mode, domain_id, started_by, full_run, status, phase, started_at) \
         VALUES ($1, $2, $3, $4, $5, 'running', 'preparing', $6) RETURNING id",
    )
    .bind(job)
    .bind(mode)
    .bind(domain_id)
    .bind(started_by)
    .bind(full_run as i64)
    .bind(now)
    .fetch_one(&store.pool)
    .await?;
    Ok(row.try_get("id")?)
}

/// Moves a run to another phase.
pub(super) async fn set_phase(store: &SqlStore, id: i64, phase: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE job_run SET phase = $2 WHERE id = $1")
        .bind(id)
        .bind(phase)
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// Records the end of a run; a finished run's phase becomes `done`, a failed one keeps
/// the phase it failed in.
pub(super) async fn finish(
    store: &SqlStore,
    id: i64,
    status: &str,
    report: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE job_run SET status = $2, report = $3, finished_at = $4, \
         phase = CASE WHEN $2 = 'finished' THEN 'done' ELSE phase END WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(report)
    .bind(now)
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// Marks the `running` runs of a job and domain as `killed`; returns their ids.
pub(super) async fn kill_stale(
    store: &SqlStore,
    job: &str,
    domain_id: i64,
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    let rows = sqlx::query(
        "UPDATE job_run SET status = 'killed', finished_at = $3 \
         WHERE job = $1 AND domain_id = $2 AND status = 'running' RETURNING id",
    )
    .bind(job)
    .bind(domain_id)
    .bind(now)
    .fetch_all(&store.pool)
    .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<i64, _>("id")?))
        .collect()
}

/// The newest `running` run of a job and domain.
pub(super) async fn running(
    store: &SqlStore,
    job: &str,
    domain_id: i64,
) -> Result<Option<JobRun>, StoreError> {
    let row = sqlx::query(
        "SELECT * FROM job_run WHERE job = $1 AND domain_id = $2 AND status = 'running' \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(job)
    .bind(domain_id)
    .fetch_optional(&store.pool)
    .await?;
    row.as_ref().map(job_run_from_row).transpose()
}

/// Records an instance as taking part in a run.
pub(super) async fn join(
    store: &SqlStore,
    run_id: i64,
    instance: &str,
    role: &str,
    now: i64,
) -> Result<Participant, StoreError> {
    let row = sqlx::query(
        "INSERT INTO job_run_instance (run_id, instance, role, started_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(run_id)
    .bind(instance)
    .bind(role)
    .bind(now)
    .fetch_one(&store.pool)
    .await?;
    Ok(Participant {
        run_id,
        id: row.try_get("id")?,
    })
}

/// Records that an instance is done with a run.
pub(super) async fn leave(
    store: &SqlStore,
    participant: Participant,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE job_run_instance SET finished_at = $2 WHERE id = $1")
        .bind(participant.id)
        .bind(now)
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// The instances of a run, in the order they joined.
pub(super) async fn instances(
    store: &SqlStore,
    run_id: i64,
) -> Result<Vec<JobRunInstance>, StoreError> {
    let rows = sqlx::query("SELECT * FROM job_run_instance WHERE run_id = $1 ORDER BY id")
        .bind(run_id)
        .fetch_all(&store.pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(JobRunInstance {
                id: row.try_get("id")?,
                run_id: row.try_get("run_id")?,
                instance: row.try_get("instance")?,
                role: row.try_get("role")?,
                validated: row.try_get("validated")?,
                changed_meanwhile: row.try_get("changed_meanwhile")?,
                started_at: row.try_get("started_at")?,
                finished_at: row.try_get("finished_at")?,
            })
        })
        .collect()
}

/// The records a run could not validate, as `local_id: reason`.
pub(super) async fn errors(store: &SqlStore, run_id: i64) -> Result<Vec<String>, StoreError> {
    let rows =
        sqlx::query("SELECT message FROM job_run_error WHERE run_id = $1 ORDER BY record_id")
            .bind(run_id)
            .fetch_all(&store.pool)
            .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("message")?))
        .collect()
}

/// Per rule: the findings (in the METS as stored) and repairs whose results a run's
/// instances stored.
pub(super) async fn rules(
    store: &SqlStore,
    run_id: i64,
) -> Result<(Vec<RuleCount>, BTreeMap<String, i64>), StoreError> {
    let findings = sqlx::query(
        "SELECT f.rule_id AS rule_id, MIN(f.class) AS class, COUNT(*) AS n, \
         CAST(SUM(f.repaired) AS BIGINT) AS repaired \
         FROM finding f JOIN record r ON r.id = f.record_id \
         JOIN job_run_instance i ON i.id = r.validated_by \
         WHERE i.run_id = $1 AND f.stage = 'before' GROUP BY f.rule_id ORDER BY f.rule_id",
    )
    .bind(run_id)
    .fetch_all(&store.pool)
    .await?
    .iter()
    .map(|row| {
        Ok(RuleCount {
            rule_id: row.try_get("rule_id")?,
            class: row.try_get("class")?,
            occurrences: row.try_get("n")?,
            repaired: row.try_get("repaired")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let repairs = sqlx::query(
        "SELECT p.rule_id AS rule_id, COUNT(*) AS n FROM repair p \
         JOIN record r ON r.id = p.record_id JOIN job_run_instance i ON i.id = r.validated_by \
         WHERE i.run_id = $1 GROUP BY p.rule_id",
    )
    .bind(run_id)
    .fetch_all(&store.pool)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("rule_id")?, row.try_get("n")?)))
    .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
    Ok((findings, repairs))
}

/// Runs, newest first, of one domain or all.
pub(super) async fn list(
    store: &SqlStore,
    domain_id: Option<i64>,
) -> Result<Vec<JobRun>, StoreError> {
    let rows = match domain_id {
        Some(d) => {
            sqlx::query("SELECT * FROM job_run WHERE domain_id = $1 ORDER BY id DESC")
                .bind(d)
                .fetch_all(&store.pool)
                .await?
        }
        None => {
            sqlx::query("SELECT * FROM job_run ORDER BY id DESC")
                .fetch_all(&store.pool)
                .await?
        }
    };
    rows.iter().map(job_run_from_row).collect()
}

/// One run.
pub(super) async fn get(store: &SqlStore, id: i64) -> Result<Option<JobRun>, StoreError> {
    let row = sqlx::query("SELECT * FROM job_run WHERE id = $1")
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    row.as_ref().map(job_run_from_row).transpose()
}

fn job_run_from_row(row: &AnyRow) -> Result<JobRun, StoreError> {
    Ok(JobRun {
        id: row.try_get("id")?,
        job: row.try_get("job")?,
        mode: row.try_get("mode")?,
        domain_id: row.try_get("domain_id")?,
        started_by: row.try_get("started_by")?,
        full_run: row.try_get::<i64, _>("full_run")? != 0,
        status: row.try_get("status")?,
        phase: row.try_get("phase")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        validated: row.try_get("validated")?,
        report: row.try_get("report")?,
    })
}
