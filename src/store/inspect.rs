//! Looking into what is stored, for the people who answer for it: which records of a
//! domain stand in which validation state or carry a finding of a rule, where a local id
//! lives, and which records a job run found each rule in (`vitrine record list`,
//! `record show`, `job show`).

use super::sql::in_list;
use super::sql::SqlStore;
use super::StoreError;
use crate::domain::ValidationState;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;

/// One record in a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordSummary {
    /// Database id.
    pub id: i64,
    /// Domain id.
    pub domain_id: i64,
    /// Local identifier.
    pub local_id: String,
    /// Title.
    pub title: Option<String>,
    /// Released (public).
    pub released: bool,
    /// Deleted (tombstone).
    pub deleted: bool,
    /// zmods_validation state: `undefined`, `invalid`, `valid_warn`, `valid`.
    pub state: ValidationState,
    /// Why the state is what it is.
    pub reason: String,
    /// When it was validated last (Unix seconds).
    pub validated_at: Option<i64>,
}

/// Which records a listing selects.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter<'a> {
    /// Only this zmods_validation state.
    pub state: Option<ValidationState>,
    /// Only records with a stored finding of this rule (before or after repairs).
    pub rule: Option<&'a str>,
    /// Deleted records too.
    pub with_deleted: bool,
}

/// Read-only queries over records and job runs.
#[async_trait]
pub trait RecordInspection: Send + Sync {
    /// Records of the domains matching the filter, by local id.
    async fn record_summaries(
        &self,
        domain_ids: &[i64],
        filter: &RecordFilter<'_>,
    ) -> Result<Vec<RecordSummary>, StoreError>;
    /// The domains holding a record with this local id.
    async fn domains_with_local_id(&self, local_id: &str) -> Result<Vec<i64>, StoreError>;
    /// Per rule, the local ids (sorted, at most `per_rule`) of the records a job run
    /// found it in (before repairs).
    async fn job_run_examples(
        &self,
        run_id: i64,
        per_rule: usize,
    ) -> Result<BTreeMap<String, Vec<String>>, StoreError>;
}

#[async_trait]
impl RecordInspection for SqlStore {
    async fn record_summaries(
        &self,
        domain_ids: &[i64],
        filter: &RecordFilter<'_>,
    ) -> Result<Vec<RecordSummary>, StoreError> {
        let mut sql = format!(
            "SELECT r.id AS id, r.domain_id AS domain_id, r.local_id AS local_id, \
             r.title AS title, r.released AS released, r.deleted AS deleted, \
             r.zmods_validation AS state, r.validation_reason AS reason, \
             r.validated_at AS validated_at FROM record r WHERE {}",
            in_list("r.domain_id", domain_ids, 1)
        );
        let mut next = domain_ids.len() + 1;
        if !filter.with_deleted {
            sql.push_str(" AND r.deleted = 0");
        }
        if filter.state.is_some() {
            sql.push_str(&format!(" AND r.zmods_validation = ${next}"));
            next += 1;
        }
        if filter.rule.is_some() {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM finding f WHERE f.record_id = r.id AND f.rule_id = ${next})"
            ));
        }
        sql.push_str(" ORDER BY r.local_id, r.id");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in domain_ids {
            q = q.bind(id);
        }
        if let Some(state) = filter.state {
            q = q.bind(state.as_str());
        }
        if let Some(rule) = filter.rule {
            q = q.bind(rule);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(RecordSummary {
                    id: row.try_get("id")?,
                    domain_id: row.try_get("domain_id")?,
                    local_id: row.try_get("local_id")?,
                    title: row.try_get("title")?,
                    released: row.try_get::<i64, _>("released")? != 0,
                    deleted: row.try_get::<i64, _>("deleted")? != 0,
                    state: ValidationState::parse(&row.try_get::<String, _>("state")?)?,
                    reason: row.try_get("reason")?,
                    validated_at: row.try_get("validated_at")?,
                })
            })
            .collect()
    }

    async fn domains_with_local_id(&self, local_id: &str) -> Result<Vec<i64>, StoreError> {
        sqlx::query("SELECT domain_id FROM record WHERE local_id = $1 ORDER BY domain_id")
            .bind(local_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok(row.try_get("domain_id")?))
            .collect()
    }

    async fn job_run_examples(
        &self,
        run_id: i64,
        per_rule: usize,
    ) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
        let rows = sqlx::query(
            "SELECT rule_id, local_id FROM (SELECT rule_id, local_id, \
             ROW_NUMBER() OVER (PARTITION BY rule_id ORDER BY local_id) AS n FROM \
             (SELECT DISTINCT f.rule_id AS rule_id, r.local_id AS local_id \
             FROM finding f JOIN record r ON r.id = f.record_id \
             JOIN job_run_instance i ON i.id = r.validated_by \
             WHERE i.run_id = $1 AND f.stage = 'before') d) e \
             WHERE n <= $2 ORDER BY rule_id, local_id",
        )
        .bind(run_id)
        .bind(i64::try_from(per_rule).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in rows {
            out.entry(row.try_get("rule_id")?)
                .or_default()
                .push(row.try_get("local_id")?);
        }
        Ok(out)
    }
}
