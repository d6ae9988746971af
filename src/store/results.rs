//! Storing validation results, batch by batch, in one transaction per batch (the
//! claim's, on PostgreSQL).
//!
//! Results are stored with set-based statements (a handful per batch, whatever its size):
//! one `UPDATE … FROM (VALUES …)` for the states, `DELETE … IN (…)` and multi-row
//! `INSERT`s for findings, repairs and renderings, and the ZVDD dissemination in three
//! statements. A record that changed since it was claimed keeps its `undefined` state.

use super::claims::{ClaimedTask, HeldRecords};
use super::compression::{compress, decompress};
use super::disseminations::ZVDD_FORMATS;
use super::error::StoreError;
use super::job_runs::Participant;
use super::sql::{in_list, placeholders, SqlStore, MAX_PARAMS};
use crate::domain::ValidationOutcome;
use async_trait::async_trait;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};

/// A result ready to be stored: its renderings compressed, and compared with the zmets
/// stored before, on the validating thread.
#[derive(Debug, Clone)]
pub struct PreparedResult {
    /// State, reason, findings and repairs.
    pub outcome: ValidationOutcome,
    zmets: Vec<u8>,
    zmods: Option<Vec<u8>>,
    same_zmets: bool,
    /// The zmets holds no character illegal in XML 1.0 (sent as stored).
    zmets_clean: bool,
}

impl PreparedResult {
    /// The result of a record no repair changed: its zmets is the METS as stored
    /// (`mets`, uncompressed) and its zmods the MODS stored with it, both taken as they
    /// are stored, compressed.
    pub fn as_stored(claimed: &ClaimedTask, outcome: ValidationOutcome, mets: &[u8]) -> Self {
        let (zmets, zmods) = (claimed.mets.clone(), claimed.mods.clone());
        Self::prepared(
            outcome,
            mets,
            zmets,
            zmods,
            claimed.previous_zmets.as_deref(),
        )
    }

    /// The result of a repaired record: its zmets and the zmets's MODS, uncompressed.
    pub fn repaired(
        claimed: &ClaimedTask,
        outcome: ValidationOutcome,
        zmets: &[u8],
        zmods: Option<&[u8]>,
    ) -> Self {
        let compressed = compress(zmets);
        let zmods = zmods.map(compress);
        Self::prepared(
            outcome,
            zmets,
            compressed,
            zmods,
            claimed.previous_zmets.as_deref(),
        )
    }

    /// Compares the zmets with `previous_zmets` (compressed, as stored): an unchanged
    /// zmets keeps its datestamp.
    fn prepared(
        outcome: ValidationOutcome,
        text: &[u8],
        zmets: Vec<u8>,
        zmods: Option<Vec<u8>>,
        previous_zmets: Option<&[u8]>,
    ) -> PreparedResult {
        // Compressed bytes that are equal hold equal text; only unequal ones are compared
        // as text (a zmets compressed by another version of the compressor).
        let same_zmets = previous_zmets.is_some_and(|stored| {
            stored == zmets.as_slice() || decompress(stored).is_ok_and(|previous| previous == text)
        });
        PreparedResult {
            outcome,
            zmets,
            zmods,
            same_zmets,
            zmets_clean: crate::xml::text::is_clean(text),
        }
    }
}

/// A claimed record that could not be validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    /// Record id.
    pub record_id: i64,
    /// Why (with the local id).
    pub message: String,
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveOutcome {
    /// Results stored.
    pub saved: u64,
    /// Results dropped: the record changed (or was deleted) since it was claimed.
    pub changed_meanwhile: u64,
    /// The run's total after this batch, when stored for a run.
    pub run_validated: Option<i64>,
}

/// Storing the results of claimed records.
#[async_trait]
pub trait ResultStore: Send + Sync {
    /// Stores the results of a claim in one transaction (the claim's, on PostgreSQL),
    /// with set-based statements: states, findings, repairs, zmets/zmods, the ZVDD
    /// dissemination, the failures and, for a run, its counters. A record that changed
    /// since it was claimed keeps its `undefined` state (its result is dropped).
    async fn save_claimed(
        &self,
        held: HeldRecords,
        results: &[PreparedResult],
        failures: &[RecordFailure],
        by: Option<Participant>,
        now: i64,
    ) -> Result<SaveOutcome, StoreError>;
}

#[async_trait]
impl ResultStore for SqlStore {
    /// Stores the results of a claim in one transaction (see the module documentation).
    async fn save_claimed(
        &self,
        held: HeldRecords,
        results: &[PreparedResult],
        failures: &[RecordFailure],
        by: Option<Participant>,
        now: i64,
    ) -> Result<SaveOutcome, StoreError> {
        let (ids, transaction) = held.into_parts();
        let mut tx = match transaction {
            Some(tx) => tx,
            None => self.begin_write().await?,
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
            "WITH v (v_id, v_revision, v_state, v_reason, v_version) AS (VALUES {}) \
             UPDATE record SET zmods_validation = v.v_state, validation_reason = v.v_reason, \
             validated_at = $1, rule_set_version = v.v_version, \
             validation_run = COALESCE($2, validation_run), validated_by = $3, \
             validation_count = validation_count + 1 \
             FROM v WHERE record.id = v.v_id AND record.revision = v.v_revision \
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
                .bind(r.outcome.revision)
                .bind(r.outcome.state.as_str())
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
    const WIDTH: usize = 9;
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
            "INSERT INTO finding \
             (record_id, stage, rule_set, rule_id, class, role, message, location, repaired) \
             VALUES {}",
            placeholders(chunk.len(), WIDTH, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, f) in chunk {
            q = q
                .bind(*id)
                .bind(&f.stage)
                .bind(&f.rule_set)
                .bind(&f.rule_id)
                .bind(&f.class)
                .bind(&f.role)
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
    const WIDTH: usize = 4;
    // A zmods taken as stored is not checked here: it keeps `clean` 0 (checked when sent).
    let rows: Vec<(i64, &str, &[u8], bool)> = stored
        .iter()
        .flat_map(|s| {
            let r = s.result;
            std::iter::once((r.outcome.record_id, "zmets", &r.zmets[..], r.zmets_clean)).chain(
                r.zmods
                    .as_deref()
                    .map(|zmods| (r.outcome.record_id, "zmods", zmods, false)),
            )
        })
        .collect();
    for chunk in rows.chunks(MAX_PARAMS / WIDTH) {
        let sql = format!(
            "INSERT INTO payload (record_id, prefix, body, clean) VALUES {}",
            placeholders(chunk.len(), WIDTH, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, prefix, body, clean) in chunk {
            q = q
                .bind(*id)
                .bind(*prefix)
                .bind(*body)
                .bind(i64::from(*clean));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Enters or leaves the zmets/zmods channel after a validation: a released record that
/// is valid or valid_warn is disseminated there (new datestamp: its zmets is new); any
/// other record that was disseminated there is marked deleted with a new datestamp
/// (one that was not costs no statement). An unchanged zmets that is disseminated
/// already keeps its datestamp.
async fn export_zvdd(
    conn: &mut AnyConnection,
    stored: &[Stored<'_>],
    now: i64,
) -> Result<(), StoreError> {
    let available = |s: &Stored<'_>, prefix: &str| {
        s.released
            && s.result.outcome.state.exportable()
            && (prefix == "zmets" || s.result.zmods.as_deref().is_some())
    };
    // Whether a row is live matters to a record that may leave, and to one that keeps
    // its datestamp; a record with a new zmets that stays available enters either way.
    let asked: Vec<i64> = stored
        .iter()
        .filter(|s| s.result.same_zmets || ZVDD_FORMATS.iter().any(|p| !available(s, p)))
        .map(|s| s.result.outcome.record_id)
        .collect();
    let live = live_zvdd(conn, &asked).await?;
    let mut enter: Vec<(i64, &str, i64)> = Vec::new();
    let mut leave: HashMap<&str, Vec<i64>> = HashMap::new();
    for s in stored {
        let r = s.result;
        let id = r.outcome.record_id;
        for prefix in ZVDD_FORMATS {
            let available = available(s, prefix);
            let is_live = live.contains(&(id, prefix));
            if !available {
                if is_live {
                    leave.entry(prefix).or_default().push(id);
                }
            } else if !(r.same_zmets && is_live) {
                enter.push((id, prefix, s.domain_id));
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

/// The (record, prefix) pairs of these records that are live in the ZVDD channel.
///
/// The query names the records only, not the prefixes: a condition on the prefix lets
/// PostgreSQL's planner pick the index that leads with it, and while its statistics
/// still say the channel is empty (the first run fills it) that plan reads every
/// zmets and zmods row for each batch. By the records alone it reads their few rows.
async fn live_zvdd(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashSet<(i64, &'static str)>, StoreError> {
    let mut live = HashSet::new();
    for chunk in ids.chunks(MAX_PARAMS) {
        let sql = format!(
            "SELECT record_id, prefix FROM dissemination WHERE deleted = 0 AND {}",
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
