//! Claiming records for validation, batch by batch (storing the results is in
//! `results.rs`).
//!
//! A claim takes undefined records in id order. On PostgreSQL it runs in a transaction
//! that locks them (`FOR NO KEY UPDATE OF r SKIP LOCKED`): other instances skip them, and the
//! transaction stays open while they are validated and commits with the results — so a
//! record is validated by one instance, and an instance that dies frees its records by
//! its transaction aborting. On SQLite one process does the whole run and no transaction
//! stays open while validating.

use super::compression::decompress;
use super::error::StoreError;
use super::sql::{in_list, Backend, SqlStore};
use crate::domain::ValidationTask;
use crate::domain::{JobPhase, JobStatus, ValidationState};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// Which records a claim takes.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    /// Domains in scope.
    pub domain_ids: &'a [i64],
    /// The run claiming: records it took already (`validation_run`) are not taken again.
    pub run_id: i64,
    /// Only records with a greater id (the claimant's position).
    pub after: i64,
    /// At most this many.
    pub limit: i64,
    /// PostgreSQL: wait for records other transactions hold instead of skipping them.
    pub wait: bool,
    /// Only while the run is `validating` (a worker stops when the coordinator sweeps).
    pub worker: bool,
}

/// A record claimed for validation, as stored (compressed): it is decompressed on the
/// validating thread, not on the one talking to the database.
#[derive(Debug, Clone)]
pub struct ClaimedTask {
    /// Record id.
    pub record_id: i64,
    /// Local id.
    pub local_id: String,
    pub(super) domain_id: i64,
    pub(super) revision: i64,
    /// The stored METS (compressed).
    pub(super) mets: Vec<u8>,
    pub(super) parent_title: Option<String>,
    /// The stored zmets (compressed), if any.
    pub(super) previous_zmets: Option<Vec<u8>>,
    /// The stored `mods` payload (compressed): the zmods when no repair changes the METS.
    pub(super) mods: Option<Vec<u8>>,
}

impl ClaimedTask {
    /// The task with its METS decompressed.
    pub fn task(&self) -> Result<ValidationTask, StoreError> {
        Ok(ValidationTask {
            record_id: self.record_id,
            domain_id: self.domain_id,
            local_id: self.local_id.clone(),
            revision: self.revision,
            mets: decompress(&self.mets)?,
            parent_title: self.parent_title.clone(),
        })
    }
}

/// Records claimed and not yet stored. On PostgreSQL it holds the transaction whose row
/// locks (`FOR NO KEY UPDATE`) keep other instances off these records; dropping it rolls back
/// and frees them for others — as does the death of the process.
pub struct HeldRecords {
    ids: Vec<i64>,
    transaction: Option<sqlx::Transaction<'static, sqlx::Any>>,
}

impl HeldRecords {
    /// Records held by `transaction`, or by nobody (SQLite; results stored outside a
    /// claim).
    pub(super) fn new(
        ids: Vec<i64>,
        transaction: Option<sqlx::Transaction<'static, sqlx::Any>>,
    ) -> HeldRecords {
        HeldRecords { ids, transaction }
    }

    /// The ids and the transaction holding them.
    pub(super) fn into_parts(self) -> (Vec<i64>, Option<sqlx::Transaction<'static, sqlx::Any>>) {
        (self.ids, self.transaction)
    }

    /// Records no transaction holds: results worked out outside a claim, stored (as
    /// any) only where the record did not change since it was read.
    pub fn unheld(ids: Vec<i64>) -> HeldRecords {
        HeldRecords {
            ids,
            transaction: None,
        }
    }

    /// The ids held.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }
}

/// A batch of claimed records.
pub struct Claim {
    /// The records to validate.
    pub tasks: Vec<ClaimedTask>,
    /// Their hold, given back with the results.
    pub held: HeldRecords,
}

/// Claiming records for validation.
#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Whether several instances share a run's records (PostgreSQL: row locks, `FOR NO
    /// KEY UPDATE SKIP LOCKED`); on SQLite one process does the whole run.
    fn shares_work(&self) -> bool;
    /// Claims up to `limit` undefined records in id order. On PostgreSQL they stay
    /// locked until [`ValidationStore::save_claimed`] commits (or the claim is dropped);
    /// records other instances hold are skipped, or waited for with `wait`.
    async fn claim(&self, request: &ClaimRequest<'_>) -> Result<Claim, StoreError>;
}

#[async_trait]
impl ClaimStore for SqlStore {
    fn shares_work(&self) -> bool {
        self.backend() == Backend::Postgres
    }

    /// Claims up to `limit` undefined records in id order (see the module documentation).
    async fn claim(&self, request: &ClaimRequest<'_>) -> Result<Claim, StoreError> {
        let postgres = self.backend() == Backend::Postgres;
        let sql = claim_sql(request, postgres);
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(request.after)
            .bind(request.run_id);
        for id in request.domain_ids {
            q = q.bind(id);
        }
        let (rows, transaction) = if postgres {
            let mut tx = self.pool.begin().await?;
            let rows = q.fetch_all(&mut *tx).await?;
            if rows.is_empty() {
                tx.rollback().await?;
                (rows, None)
            } else {
                (rows, Some(tx))
            }
        } else {
            (q.fetch_all(&self.pool).await?, None)
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
}

/// The claim query: `$1` the position, `$2` the run, `$3…` the domains. The position
/// bounds the payload joins too, so that the planner's index scans on payload (keyed by
/// prefix, then record) start there rather than at the first record.
fn claim_sql(request: &ClaimRequest<'_>, postgres: bool) -> String {
    let mut sql = format!(
        "SELECT r.id AS id, r.domain_id AS domain_id, r.local_id AS local_id, \
         r.revision AS revision, p.body AS body, parent.title AS parent_title, \
         z.body AS zmets, m.body AS mods \
         FROM record r \
         JOIN payload p ON p.record_id = r.id AND p.prefix = 'mets' AND p.record_id > $1 \
         LEFT JOIN record parent ON parent.id = r.parent_id \
         LEFT JOIN payload z ON z.record_id = r.id AND z.prefix = 'zmets' AND z.record_id > $1 \
         LEFT JOIN payload m ON m.record_id = r.id AND m.prefix = 'mods' AND m.record_id > $1 \
         WHERE r.zmods_validation = '{}' AND r.deleted = 0 AND r.id > $1 \
         AND (r.validation_run IS NULL OR r.validation_run <> $2) AND {}",
        ValidationState::Undefined.as_str(),
        in_list("r.domain_id", request.domain_ids, 3)
    );
    if request.worker {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM job_run j WHERE j.id = $2 \
                 AND j.status = '{}' AND j.phase = '{}')",
            JobStatus::Running.as_str(),
            JobPhase::Validating.as_str()
        ));
    }
    sql.push_str(&format!(" ORDER BY r.id LIMIT {}", request.limit.max(1)));
    if postgres {
        // NO KEY UPDATE, not UPDATE: storing a volume checks its parent reference (a KEY
        // SHARE lock on the anchor), which must not wait for an instance holding the
        // anchor in its own batch — two instances holding each other's anchors would
        // deadlock.
        sql.push_str(if request.wait {
            " FOR NO KEY UPDATE OF r"
        } else {
            " FOR NO KEY UPDATE OF r SKIP LOCKED"
        });
    }
    sql
}

fn claimed_from_row(row: &AnyRow) -> Result<ClaimedTask, StoreError> {
    Ok(ClaimedTask {
        record_id: row.try_get("id")?,
        domain_id: row.try_get("domain_id")?,
        local_id: row.try_get("local_id")?,
        revision: row.try_get("revision")?,
        mets: row.try_get("body")?,
        parent_title: row.try_get("parent_title")?,
        previous_zmets: row.try_get("zmets")?,
        mods: row.try_get("mods")?,
    })
}
