//! Claiming records for validation and storing the results, batch by batch.
//!
//! A claim takes undefined records in id order. On PostgreSQL it runs in a transaction
//! that locks them (`FOR UPDATE OF r SKIP LOCKED`): other instances skip them, and the
//! transaction stays open while they are validated and commits with the results — so a
//! record is validated by one instance, and an instance that dies frees its records by
//! its transaction aborting. On SQLite one process does the whole run and no transaction
//! stays open while validating.
//!
//! Results are stored with set-based statements (a handful per batch, whatever its size):
//! one `UPDATE … FROM (VALUES …)` for the states, `DELETE … IN (…)` and multi-row
//! `INSERT`s for findings, repairs and renderings, and the ZVDD dissemination in three
//! statements. A record that changed since it was claimed keeps its `undefined` state.

use super::records::ZVDD_FORMATS;
use super::sql::{Backend, SqlStore};
use super::validation::{
    in_list, Claim, ClaimRequest, ClaimedTask, HeldRecords, Participant, PreparedResult,
    RecordFailure, SaveOutcome,
};
use super::{StoreError, ValidationResult};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};

/// Bind parameters per statement at most (SQLite allows 32766, PostgreSQL 65535).
const MAX_PARAMS: usize = 32_000;

/// Claims up to `limit` undefined records in id order (see the module documentation).
pub(super) async fn claim(
    store: &SqlStore,
    request: &ClaimRequest<'_>,
) -> Result<Claim, StoreError> {
    let postgres = store.backend() == Backend::Postgres;
    let sql = claim_sql(request, postgres);
    let mut q = sqlx::query(AssertSqlSafe(sql))
        .bind(request.after)
        .bind(request.run_id);
    for id in request.domain_ids {
        q = q.bind(id);
    }
    let (rows, transaction) = if postgres {
        let mut tx = store.pool.begin().await?;
        let rows = q.fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            tx.rollback().await?;
            (rows, None)
        } else {
            (rows, Some(tx))
        }
    } else {
        (q.fetch_all(&store.pool).await?, None)
    };
    let tasks = rows
        .iter()
        .map(claimed_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let ids = tasks.iter().map(|t| t.record_id).collect();
    Ok(Claim {
        tasks,
        held: HeldRecords::new(ids, transaction),
    })
}

/// The claim query: `$1` the position, `$2` the run, `$3…` the domains. The position
/// bounds the payload joins too, so that the planner's index scans on payload (keyed by
/// prefix, then record) start there rather than at the first record.
fn claim_sql(request: &ClaimRequest<'_>, postgres: bool) -> String {
    let mut sql = format!(
        "SELECT r.id AS id, r.domain_id AS domain_id, r.local_id AS local_id, \
         r.updated_at AS updated_at, p.body AS body, parent.title AS parent_title, \
         z.body AS zmets, m.body AS mods \
         FROM record r \
         JOIN payload p ON p.record_id = r.id AND p.prefix = 'mets' AND p.record_id > $1 \
         LEFT JOIN record parent ON parent.id = r.parent_id \
         LEFT JOIN payload z ON z.record_id = r.id AND z.prefix = 'zmets' AND z.record_id > $1 \
         LEFT JOIN payload m ON m.record_id = r.id AND m.prefix = 'mods' AND m.record_id > $1 \
         WHERE r.zmods_validation = 'undefined' AND r.deleted = 0 AND r.id > $1 \
         AND (r.validation_run IS NULL OR r.validation_run <> $2) AND {}",
        in_list("r.domain_id", request.domain_ids, 3)
    );
    if request.worker {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM job_run j WHERE j.id = $2 \
             AND j.status = 'running' AND j.phase = 'validating')",
        );
    }
    sql.push_str(&format!(" ORDER BY r.id LIMIT {}", request.limit.max(1)));
    if postgres {
        sql.push_str(if request.wait {
            " FOR UPDATE OF r"
        } else {
            " FOR UPDATE OF r SKIP LOCKED"
        });
    }
    sql
}

fn claimed_from_row(row: &AnyRow) -> Result<ClaimedTask, StoreError> {
    Ok(ClaimedTask {
        record_id: row.try_get("id")?,
        domain_id: row.try_get("domain_id")?,
        local_id: row.try_get("local_id")?,
        updated_at: row.try_get("updated_at")?,
        mets: row.try_get("body")?,
        parent_title: row.try_get("parent_title")?,
        previous_zmets: row.try_get("zmets")?,
        mods: row.try_get("mods")?,
    })
}

/// Stores the results of a claim in one transaction (see the module documentation).
pub(super) async fn save_claimed(
    store: &SqlStore,
    held: HeldRecords,
    results: &[PreparedResult],
    failures: &[RecordFailure],
    by: Option<Participant>,
    now: i64,
) -> Result<SaveOutcome, StoreError> {
    let (ids, transaction) = held.into_parts();
    let mut tx = match transaction {
        Some(tx) => tx,
        None => store.begin_write().await?,
    };
    if let Some(by) = by {
        mark_taken(&mut tx, &ids, by.run_id).await?;
    }
    let stored = update_states(&mut tx, results, by, now).await?;
    replace_details(&mut tx, &stored).await?;
    export_zvdd(&mut tx, &stored, now).await?;
    let outcome = SaveOutcome {
        saved: stored.len() as u64,
        changed_meanwhile: (results.len() - stored.len()) as u64,
        run_validated: None,
    };
    let outcome = match by {
        Some(by) => {
            insert_failures(&mut tx, failures, by.run_id).await?;
            SaveOutcome {
                run_validated: Some(count_batch(&mut tx, by, &outcome).await?),
                ..outcome
            }
        }
        None => outcome,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Stores results outside a run: the zmets stored before are read for the whole batch
/// at once, to keep the datestamps of unchanged ones.
pub(super) async fn save_validations(
    store: &SqlStore,
    results: &[ValidationResult],
    now: i64,
) -> Result<u64, StoreError> {
    let ids: Vec<i64> = results.iter().map(|r| r.outcome.record_id).collect();
    let mut previous: HashMap<i64, Vec<u8>> = HashMap::new();
    for chunk in ids.chunks(MAX_PARAMS) {
        let sql = format!(
            "SELECT record_id, body FROM payload WHERE prefix = 'zmets' AND {}",
            in_list("record_id", chunk, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for row in q.fetch_all(&store.pool).await? {
            previous.insert(row.try_get("record_id")?, row.try_get("body")?);
        }
    }
    let prepared: Vec<PreparedResult> = results
        .iter()
        .map(|r| {
            PreparedResult::new(
                r.clone(),
                previous.get(&r.outcome.record_id).map(Vec::as_slice),
            )
        })
        .collect();
    let held = HeldRecords::new(ids, None);
    Ok(save_claimed(store, held, &prepared, &[], None, now)
        .await?
        .saved)
}

/// A stored result with what the dissemination needs of its record.
struct Stored<'a> {
    result: &'a PreparedResult,
    released: bool,
    domain_id: i64,
}

/// Notes that `run` took the records, whatever came of them, so it does not take them
/// again (a record that failed or changed meanwhile waits for the next run).
async fn mark_taken(conn: &mut AnyConnection, ids: &[i64], run: i64) -> Result<(), StoreError> {
    for chunk in ids.chunks(MAX_PARAMS) {
        let sql = format!(
            "UPDATE record SET validation_run = $1 WHERE {}",
            in_list("id", chunk, 2)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(run);
        for id in chunk {
            q = q.bind(id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets the states of the records that did not change since they were claimed, in one
/// statement per chunk; returns those records.
async fn update_states<'a>(
    conn: &mut AnyConnection,
    results: &'a [PreparedResult],
    by: Option<Participant>,
    now: i64,
) -> Result<Vec<Stored<'a>>, StoreError> {
    const WIDTH: usize = 5;
    let by_id: HashMap<i64, &PreparedResult> =
        results.iter().map(|r| (r.outcome.record_id, r)).collect();
    let mut stored = Vec::with_capacity(results.len());
    for chunk in results.chunks(MAX_PARAMS / WIDTH) {
        let sql = format!(
            "WITH v (v_id, v_stamp, v_state, v_reason, v_version) AS (VALUES {}) \
             UPDATE record SET zmods_validation = v.v_state, validation_reason = v.v_reason, \
             validated_at = $1, rule_set_version = v.v_version, \
             validation_run = COALESCE($2, validation_run), validated_by = $3, \
             validation_count = validation_count + 1 \
             FROM v WHERE record.id = v.v_id AND record.updated_at = v.v_stamp \
             AND record.deleted = 0 \
             RETURNING record.id AS id, record.released AS released, record.domain_id AS domain_id",
            placeholders(chunk.len(), WIDTH, 4)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(now)
            .bind(by.map(|b| b.run_id))
            .bind(by.map(|b| b.id));
        for r in chunk {
            q = q
                .bind(r.outcome.record_id)
                .bind(r.outcome.updated_at)
                .bind(&r.outcome.state)
                .bind(&r.outcome.reason)
                .bind(&r.outcome.rule_set_version);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let id: i64 = row.try_get("id")?;
            if let Some(result) = by_id.get(&id) {
                stored.push(Stored {
                    result,
                    released: row.try_get::<i64, _>("released")? != 0,
                    domain_id: row.try_get("domain_id")?,
                });
            }
        }
    }
    Ok(stored)
}

/// Replaces the findings, repairs and zmets/zmods renderings of the stored records.
async fn replace_details(
    conn: &mut AnyConnection,
    stored: &[Stored<'_>],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = stored.iter().map(|s| s.result.outcome.record_id).collect();
    for (table, extra) in [
        ("finding", ""),
        ("repair", ""),
        ("payload", " AND prefix IN ('zmets', 'zmods')"),
    ] {
        for chunk in ids.chunks(MAX_PARAMS) {
            let sql = format!(
                "DELETE FROM {table} WHERE {}{extra}",
                in_list("record_id", chunk, 1)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut *conn).await?;
        }
    }
    insert_findings(conn, stored).await?;
    insert_repairs(conn, stored).await?;
    insert_renderings(conn, stored).await
}

async fn insert_findings(
    conn: &mut AnyConnection,
    stored: &[Stored<'_>],
) -> Result<(), StoreError> {
    const WIDTH: usize = 7;
    let rows: Vec<_> = stored
        .iter()
        .flat_map(|s| {
            s.result
                .outcome
                .findings
                .iter()
                .map(|f| (s.result.outcome.record_id, f))
        })
        .collect();
    for chunk in rows.chunks(MAX_PARAMS / WIDTH) {
        let sql = format!(
            "INSERT INTO finding (record_id, stage, rule_id, class, message, location, repaired) \
             VALUES {}",
            placeholders(chunk.len(), WIDTH, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, f) in chunk {
            q = q
                .bind(*id)
                .bind(&f.stage)
                .bind(&f.rule_id)
                .bind(&f.class)
                .bind(&f.message)
                .bind(&f.location)
                .bind(f.repaired as i64);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_repairs(conn: &mut AnyConnection, stored: &[Stored<'_>]) -> Result<(), StoreError> {
    const WIDTH: usize = 5;
    let rows: Vec<_> = stored
        .iter()
        .flat_map(|s| {
            s.result
                .outcome
                .repairs
                .iter()
                .map(|r| (s.result.outcome.record_id, r))
        })
        .collect();
    for chunk in rows.chunks(MAX_PARAMS / WIDTH) {
        let sql = format!(
            "INSERT INTO repair (record_id, rule_id, xpath, before, after) VALUES {}",
            placeholders(chunk.len(), WIDTH, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, r) in chunk {
            q = q
                .bind(*id)
                .bind(&r.rule_id)
                .bind(&r.xpath)
                .bind(&r.before)
                .bind(&r.after);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_renderings(
    conn: &mut AnyConnection,
    stored: &[Stored<'_>],
) -> Result<(), StoreError> {
    const WIDTH: usize = 3;
    let rows: Vec<(i64, &str, &[u8])> = stored
        .iter()
        .flat_map(|s| {
            let r = s.result;
            std::iter::once((r.outcome.record_id, "zmets", r.zmets()))
                .chain(r.zmods().map(|zmods| (r.outcome.record_id, "zmods", zmods)))
        })
        .collect();
    for chunk in rows.chunks(MAX_PARAMS / WIDTH) {
        let sql = format!(
            "INSERT INTO payload (record_id, prefix, body) VALUES {}",
            placeholders(chunk.len(), WIDTH, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, prefix, body) in chunk {
            q = q.bind(*id).bind(*prefix).bind(*body);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Enters or leaves the zmets/zmods channel after a validation: a released record that
/// is valid or valid_warn is disseminated there (new datestamp: its zmets is new); any
/// other record that was disseminated there is marked deleted with a new datestamp.
/// An unchanged zmets that is disseminated already keeps its datestamp.
async fn export_zvdd(
    conn: &mut AnyConnection,
    stored: &[Stored<'_>],
    now: i64,
) -> Result<(), StoreError> {
    let live = live_zvdd(conn, stored).await?;
    let mut enter: Vec<(i64, &str, i64)> = Vec::new();
    let mut leave: HashMap<&str, Vec<i64>> = HashMap::new();
    for s in stored {
        let r = s.result;
        let export = s.released && matches!(r.outcome.state.as_str(), "valid" | "valid_warn");
        for prefix in ZVDD_FORMATS {
            let available = export && (prefix == "zmets" || r.zmods().is_some());
            if !available {
                leave.entry(prefix).or_default().push(r.outcome.record_id);
            } else if !(r.same_zmets() && live.contains(&(r.outcome.record_id, prefix))) {
                enter.push((r.outcome.record_id, prefix, s.domain_id));
            }
        }
    }
    for (prefix, ids) in &leave {
        for chunk in ids.chunks(MAX_PARAMS) {
            let sql = format!(
                "UPDATE dissemination SET deleted = 1, datestamp = $1 \
                 WHERE prefix = $2 AND deleted = 0 AND {}",
                in_list("record_id", chunk, 3)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now).bind(*prefix);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut *conn).await?;
        }
    }
    const WIDTH: usize = 3;
    for chunk in enter.chunks(MAX_PARAMS / WIDTH) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = 2 + i * WIDTH;
                format!("(${n}, ${}, ${}, $1, 0)", n + 1, n + 2)
            })
            .collect();
        let sql = format!(
            "INSERT INTO dissemination (record_id, prefix, domain_id, datestamp, deleted) \
             VALUES {} ON CONFLICT (record_id, prefix) DO UPDATE SET \
             datestamp = excluded.datestamp, deleted = 0, domain_id = excluded.domain_id",
            values.join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now);
        for (id, prefix, domain_id) in chunk {
            q = q.bind(*id).bind(*prefix).bind(*domain_id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The (record, prefix) pairs of the stored records that are live in the ZVDD channel.
async fn live_zvdd(
    conn: &mut AnyConnection,
    stored: &[Stored<'_>],
) -> Result<HashSet<(i64, &'static str)>, StoreError> {
    let ids: Vec<i64> = stored
        .iter()
        .filter(|s| s.result.same_zmets())
        .map(|s| s.result.outcome.record_id)
        .collect();
    let mut live = HashSet::new();
    for chunk in ids.chunks(MAX_PARAMS) {
        let sql = format!(
            "SELECT record_id, prefix FROM dissemination WHERE deleted = 0 \
             AND prefix IN ('zmets', 'zmods') AND {}",
            in_list("record_id", chunk, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let prefix: String = row.try_get("prefix")?;
            if let Some(known) = ZVDD_FORMATS.into_iter().find(|p| *p == prefix) {
                live.insert((row.try_get("record_id")?, known));
            }
        }
    }
    Ok(live)
}

async fn insert_failures(
    conn: &mut AnyConnection,
    failures: &[RecordFailure],
    run: i64,
) -> Result<(), StoreError> {
    const WIDTH: usize = 2;
    for chunk in failures.chunks(MAX_PARAMS / WIDTH) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${}, ${})", 2 + i * WIDTH, 3 + i * WIDTH))
            .collect();
        let sql = format!(
            "INSERT INTO job_run_error (run_id, record_id, message) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(run);
        for f in chunk {
            q = q.bind(f.record_id).bind(&f.message);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds a batch to the counters of the instance and the run (last in the transaction:
/// the run's row is shared by every instance); returns the run's new total.
async fn count_batch(
    conn: &mut AnyConnection,
    by: Participant,
    outcome: &SaveOutcome,
) -> Result<i64, StoreError> {
    sqlx::query(
        "UPDATE job_run_instance SET validated = validated + $2, \
         changed_meanwhile = changed_meanwhile + $3 WHERE id = $1",
    )
    .bind(by.id)
    .bind(outcome.saved as i64)
    .bind(outcome.changed_meanwhile as i64)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(
        "UPDATE job_run SET validated = validated + $2 WHERE id = $1 RETURNING validated",
    )
    .bind(by.run_id)
    .bind(outcome.saved as i64)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("validated")?)
}

/// `($first, …), (…)`: `rows` groups of `width` numbered parameters.
fn placeholders(rows: usize, width: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * width * 6);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..width {
            if column > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", first + row * width + column));
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_rows_and_columns() {
        assert_eq!(placeholders(2, 3, 4), "($4, $5, $6), ($7, $8, $9)");
        assert_eq!(placeholders(1, 1, 1), "($1)");
    }
}
