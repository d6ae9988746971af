//! Validation results as stored: each record's `zmods_validation` state with its reason,
//! findings and repairs, what `diag=true` shows of them, and the marking of the records
//! a run has to validate (`undefined`).

use super::error::StoreError;
use super::sql::{in_list, SqlStore};
use crate::domain::ValidationState;
use crate::domain::{StoredFinding, StoredRepair};
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;

/// What a record's last validation found, for `diag=true`.
#[derive(Debug, Clone)]
pub struct RecordDiagnostics {
    /// Record id.
    pub record_id: i64,
    /// zmods_validation.
    pub state: ValidationState,
    /// Reason.
    pub reason: String,
    /// When validated.
    pub validated_at: Option<i64>,
    /// Rule set version.
    pub rule_set_version: Option<String>,
    /// Every finding.
    pub findings: Vec<StoredFinding>,
    /// Every repair.
    pub repairs: Vec<StoredRepair>,
}

/// Where a record stands with respect to validation runs (what tests and `job show`
/// look at to see that each record was validated once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationMark {
    /// Record id.
    pub record_id: i64,
    /// Local id.
    pub local_id: String,
    /// zmods_validation.
    pub state: ValidationState,
    /// The last run that took it.
    pub run_id: Option<i64>,
    /// The `job_run_instance` whose result is stored.
    pub validated_by: Option<i64>,
    /// How many results were ever stored for it.
    pub count: i64,
}

/// Validation states, findings and repairs of records.
#[async_trait]
pub trait ValidationStore: Send + Sync {
    /// Records per zmods_validation state among the non-deleted records of the domains.
    async fn validation_counts(
        &self,
        domain_ids: &[i64],
    ) -> Result<BTreeMap<String, i64>, StoreError>;
    /// Sets records of the domains to `undefined`: all of them (`all`), or the parents and
    /// children of those that became `undefined` by a change whose relatives no run has
    /// marked yet (the incremental scope). Returns how many changed.
    async fn mark_undefined(&self, domain_ids: &[i64], all: bool) -> Result<u64, StoreError>;
    /// Sets the validated records of a domain whose results were stored under another
    /// rule set version than `version` (other rule sets, or other versions of them) to
    /// `undefined`: they are stale. Returns how many changed.
    async fn mark_stale(&self, domain_id: i64, version: &str) -> Result<u64, StoreError>;
    /// The stored findings of a record.
    async fn findings(&self, record_id: i64) -> Result<Vec<StoredFinding>, StoreError>;
    /// Diagnostics of several records (in no particular order).
    async fn diagnostics(&self, record_ids: &[i64]) -> Result<Vec<RecordDiagnostics>, StoreError>;
    /// The validation state of a record: (state, reason, validated_at).
    async fn validation_state(
        &self,
        record_id: i64,
    ) -> Result<(ValidationState, String, Option<i64>), StoreError>;
    /// Where each non-deleted record of the domains stands, in id order.
    async fn validation_marks(&self, domain_ids: &[i64])
        -> Result<Vec<ValidationMark>, StoreError>;
}

#[async_trait]
impl ValidationStore for SqlStore {
    /// Records per zmods_validation state among the non-deleted records of the domains.
    async fn validation_counts(
        &self,
        domain_ids: &[i64],
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let sql = format!(
            "SELECT zmods_validation AS state, COUNT(*) AS n FROM record WHERE deleted = 0 AND {} \
             GROUP BY zmods_validation",
            in_list("domain_id", domain_ids, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in domain_ids {
            q = q.bind(id);
        }
        let mut out: BTreeMap<String, i64> = ValidationState::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 0))
            .collect();
        for row in q.fetch_all(&self.pool).await? {
            out.insert(row.try_get("state")?, row.try_get("n")?);
        }
        Ok(out)
    }

    /// Sets records of the domains to `undefined`: all of them (`all`), or the parents and
    /// children of those that became `undefined` by a change whose relatives no run has
    /// marked yet (the incremental scope). The undefined records then note that their
    /// relatives are marked (`relatives_marked`), so that a run continuing a killed one
    /// does not mark — and validate — again what that one validated. Returns how many
    /// changed.
    async fn mark_undefined(&self, domain_ids: &[i64], all: bool) -> Result<u64, StoreError> {
        let scope = in_list("domain_id", domain_ids, 1);
        let sql = if all {
            format!(
                "UPDATE record SET zmods_validation = 'undefined' \
                 WHERE deleted = 0 AND zmods_validation <> 'undefined' AND {scope}"
            )
        } else {
            let inner = in_list("u.domain_id", domain_ids, 1);
            let changed =
                "u.zmods_validation = 'undefined' AND u.deleted = 0 AND u.relatives_marked = 0";
            format!(
                "UPDATE record SET zmods_validation = 'undefined' \
                 WHERE deleted = 0 AND zmods_validation <> 'undefined' AND {scope} AND ( \
                   id IN (SELECT u.parent_id FROM record u WHERE {changed} \
                          AND u.parent_id IS NOT NULL AND {inner}) \
                   OR parent_id IN (SELECT u.id FROM record u WHERE {changed} AND {inner}))"
            )
        };
        let noted = format!(
            "UPDATE record SET relatives_marked = 1 \
             WHERE deleted = 0 AND zmods_validation = 'undefined' AND relatives_marked = 0 \
             AND {scope}"
        );
        let with_scope = |sql: String| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in domain_ids {
                q = q.bind(*id);
            }
            q
        };
        let mut tx = self.begin_write().await?;
        let changed = with_scope(sql).execute(&mut *tx).await?.rows_affected();
        with_scope(noted).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn mark_stale(&self, domain_id: i64, version: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE record SET zmods_validation = 'undefined' \
             WHERE domain_id = $1 AND deleted = 0 AND zmods_validation <> 'undefined' \
             AND (rule_set_version IS NULL OR rule_set_version <> $2)",
        )
        .bind(domain_id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(changed)
    }

    /// The stored findings of a record.
    async fn findings(&self, record_id: i64) -> Result<Vec<StoredFinding>, StoreError> {
        let rows = sqlx::query(
            "SELECT stage, rule_set, rule_id, class, role, message, location, repaired \
             FROM finding WHERE record_id = $1 ORDER BY rule_set <> 'zvdd', rule_set, rule_id, \
             location",
        )
        .bind(record_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredFinding {
                    stage: row.try_get("stage")?,
                    rule_set: row.try_get("rule_set")?,
                    rule_id: row.try_get("rule_id")?,
                    class: row.try_get("class")?,
                    role: row.try_get("role")?,
                    message: row.try_get("message")?,
                    location: row.try_get("location")?,
                    repaired: row.try_get::<i64, _>("repaired")? != 0,
                })
            })
            .collect()
    }

    async fn diagnostics(&self, record_ids: &[i64]) -> Result<Vec<RecordDiagnostics>, StoreError> {
        let mut out = Vec::with_capacity(record_ids.len());
        for id in record_ids {
            let row = sqlx::query(
                "SELECT zmods_validation, validation_reason, validated_at, rule_set_version \
                 FROM record WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
            let repairs = sqlx::query(
                "SELECT rule_id, xpath, before, after FROM repair WHERE record_id = $1 \
                 ORDER BY rule_id, xpath",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(StoredRepair {
                    rule_id: r.try_get("rule_id")?,
                    xpath: r.try_get("xpath")?,
                    before: r.try_get("before")?,
                    after: r.try_get("after")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
            out.push(RecordDiagnostics {
                record_id: *id,
                state: ValidationState::parse(&row.try_get::<String, _>(0)?)?,
                reason: row.try_get(1)?,
                validated_at: row.try_get(2)?,
                rule_set_version: row.try_get(3)?,
                findings: self.findings(*id).await?,
                repairs,
            });
        }
        Ok(out)
    }

    async fn validation_state(
        &self,
        record_id: i64,
    ) -> Result<(ValidationState, String, Option<i64>), StoreError> {
        let row = sqlx::query(
            "SELECT zmods_validation, validation_reason, validated_at FROM record WHERE id = $1",
        )
        .bind(record_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((
            ValidationState::parse(&row.try_get::<String, _>(0)?)?,
            row.try_get(1)?,
            row.try_get(2)?,
        ))
    }

    async fn validation_marks(
        &self,
        domain_ids: &[i64],
    ) -> Result<Vec<ValidationMark>, StoreError> {
        let sql = format!(
            "SELECT id, local_id, zmods_validation, validation_run, validated_by, validation_count \
             FROM record WHERE deleted = 0 AND {} ORDER BY id",
            in_list("domain_id", domain_ids, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in domain_ids {
            q = q.bind(id);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ValidationMark {
                    record_id: row.try_get("id")?,
                    local_id: row.try_get("local_id")?,
                    state: ValidationState::parse(&row.try_get::<String, _>("zmods_validation")?)?,
                    run_id: row.try_get("validation_run")?,
                    validated_by: row.try_get("validated_by")?,
                    count: row.try_get("validation_count")?,
                })
            })
            .collect()
    }
}
