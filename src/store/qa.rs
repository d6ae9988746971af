//! The QA aggregates the QA and administration pages read: kept per domain when a
//! validator run ends (rule counts, fixed counts, example records, state counts for the
//! trend), so that no page scans every finding per request; and the few live counts
//! that indexes answer cheaply (records per state, exported records, samples).

use super::error::StoreError;
use super::sql::in_list;
use super::sql::SqlStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;

/// The zmods_validation states, in the order pages show them.
pub const STATES: [&str; 4] = ["undefined", "invalid", "valid_warn", "valid"];

/// Records in one state now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    /// zmods_validation.
    pub state: String,
    /// Non-deleted records in the state.
    pub records: i64,
    /// Of those, disseminated as zmets.
    pub exported: i64,
}

/// One rule over the domains asked for, as the last runs left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStat {
    /// The rule set: `zvdd` (bundled) or another's name.
    pub rule_set: String,
    /// Rule id.
    pub rule_id: String,
    /// error, warn or info.
    pub class: String,
    /// The rule's `@role` as written, if any.
    pub role: Option<String>,
    /// One of its messages (the first in text order).
    pub message: String,
    /// Findings in the METS as stored.
    pub findings: i64,
    /// Of those, fixed by a repair of the zmets.
    pub fixed: i64,
    /// Records it fires on.
    pub records: i64,
}

/// A record a rule fires on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleExample {
    /// The rule set.
    pub rule_set: String,
    /// Rule id.
    pub rule_id: String,
    /// The record's state.
    pub state: String,
    /// Record id.
    pub record_id: i64,
    /// The record's domain.
    pub domain_id: i64,
    /// Local id.
    pub local_id: String,
    /// Every finding of the rule in this record was fixed by a repair.
    pub repaired: bool,
}

/// A record shown as a sample of its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRecord {
    /// Record id.
    pub record_id: i64,
    /// Domain.
    pub domain_id: i64,
    /// Local id.
    pub local_id: String,
    /// OAI identifier.
    pub oai_identifier: String,
    /// Title.
    pub title: Option<String>,
    /// Disseminated as zmets.
    pub exported: bool,
}

/// Records per state when a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPoint {
    /// The run.
    pub run_id: i64,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// Records per state.
    pub counts: BTreeMap<String, i64>,
}

/// Records of a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainCounts {
    /// Domain.
    pub domain_id: i64,
    /// Non-deleted records.
    pub records: i64,
    /// Of those, released.
    pub released: i64,
}

/// Records of a domain in one validation state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainStateCount {
    /// Domain.
    pub domain_id: i64,
    /// zmods_validation.
    pub state: String,
    /// Non-deleted records in the state.
    pub records: i64,
    /// Of those, released.
    pub released: i64,
}

/// Storage of the QA aggregates.
#[async_trait]
pub trait QaStore: Send + Sync {
    /// Replaces the aggregates of the domains with what their records show now, and
    /// keeps their state counts under `run_id` (called when a run ends).
    async fn record_qa_snapshot(&self, run_id: i64, domain_ids: &[i64]) -> Result<(), StoreError>;
    /// Records and exported records (released and valid or valid_warn) per state, every
    /// state included.
    async fn qa_state_counts(&self, domain_ids: &[i64]) -> Result<Vec<StateCount>, StoreError>;
    /// Up to `limit` records in a state (the first the index gives, without sorting the
    /// state's records).
    async fn qa_samples(
        &self,
        domain_ids: &[i64],
        state: &str,
        limit: i64,
    ) -> Result<Vec<SampleRecord>, StoreError>;
    /// Every rule that fired, summed over the domains (and over one state, if given).
    async fn qa_rule_stats(
        &self,
        domain_ids: &[i64],
        state: Option<&str>,
    ) -> Result<Vec<RuleStat>, StoreError>;
    /// The kept examples of the rules with these ids (of any rule set).
    async fn qa_rule_examples(
        &self,
        domain_ids: &[i64],
        rule_ids: &[String],
        state: Option<&str>,
    ) -> Result<Vec<RuleExample>, StoreError>;
    /// Records per state at the end of the last `runs` runs that covered the domains,
    /// oldest first.
    async fn qa_trend(&self, domain_ids: &[i64], runs: i64) -> Result<Vec<TrendPoint>, StoreError>;
    /// The last run whose results the aggregates of the domains hold.
    async fn qa_last_run(&self, domain_ids: &[i64]) -> Result<Option<i64>, StoreError>;
    /// The domain (among `domain_ids`, in that order of preference) holding a non-deleted
    /// or deleted record with this local id.
    async fn find_record(
        &self,
        domain_ids: &[i64],
        local_id: &str,
    ) -> Result<Option<i64>, StoreError>;
    /// Records per domain.
    async fn domain_record_counts(&self) -> Result<Vec<DomainCounts>, StoreError>;
    /// Non-deleted and released records per domain and validation state (the states
    /// with records only), read from one index (`record_qa`).
    async fn domain_state_counts(&self) -> Result<Vec<DomainStateCount>, StoreError>;
}

fn scoped(
    sql: String,
    domain_ids: &[i64],
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for id in domain_ids {
        q = q.bind(*id);
    }
    q
}

#[async_trait]
impl QaStore for SqlStore {
    async fn record_qa_snapshot(&self, run_id: i64, domain_ids: &[i64]) -> Result<(), StoreError> {
        let n = domain_ids.len();
        let scope = |column: &str| in_list(column, domain_ids, 1);
        let run = format!("${}", n + 1);
        let statements = [
            format!("DELETE FROM qa_rule_stat WHERE {}", scope("domain_id")),
            format!("DELETE FROM qa_rule_example WHERE {}", scope("domain_id")),
            format!(
                "INSERT INTO qa_rule_stat \
                 (domain_id, state, rule_set, rule_id, class, role, message, findings, fixed, \
                 records, run_id) \
                 SELECT r.domain_id, r.zmods_validation, f.rule_set, f.rule_id, MIN(f.class), \
                 MIN(f.role), MIN(f.message), COUNT(*), CAST(SUM(f.repaired) AS BIGINT), \
                 COUNT(DISTINCT r.id), {run} \
                 FROM finding f JOIN record r ON r.id = f.record_id \
                 WHERE f.stage = 'before' AND r.deleted = 0 AND {} \
                 GROUP BY r.domain_id, r.zmods_validation, f.rule_set, f.rule_id",
                scope("r.domain_id")
            ),
            // Up to three repaired and three unrepaired records per domain, state and rule.
            format!(
                "INSERT INTO qa_rule_example \
                 (domain_id, state, rule_set, rule_id, record_id, local_id, repaired) \
                 SELECT domain_id, state, rule_set, rule_id, record_id, local_id, repaired FROM ( \
                   SELECT x.*, ROW_NUMBER() OVER ( \
                     PARTITION BY domain_id, state, rule_set, rule_id, repaired \
                     ORDER BY record_id) AS n \
                   FROM (SELECT r.domain_id AS domain_id, r.zmods_validation AS state, \
                         f.rule_set AS rule_set, f.rule_id AS rule_id, r.id AS record_id, \
                         r.local_id AS local_id, MIN(f.repaired) AS repaired \
                         FROM finding f JOIN record r ON r.id = f.record_id \
                         WHERE f.stage = 'before' AND r.deleted = 0 AND {} \
                         GROUP BY r.domain_id, r.zmods_validation, f.rule_set, f.rule_id, r.id, \
                         r.local_id \
                   ) x \
                 ) y WHERE n <= 3",
                scope("r.domain_id")
            ),
            format!(
                "INSERT INTO qa_run_state (run_id, domain_id, state, records, exported) \
                 SELECT {run}, r.domain_id, r.zmods_validation, COUNT(*), \
                 CAST(SUM(CASE WHEN d.record_id IS NULL THEN 0 ELSE 1 END) AS BIGINT) \
                 FROM record r LEFT JOIN dissemination d ON d.record_id = r.id \
                 AND d.prefix = 'zmets' AND d.deleted = 0 \
                 WHERE r.deleted = 0 AND {} GROUP BY r.domain_id, r.zmods_validation",
                scope("r.domain_id")
            ),
        ];
        let mut tx = self.begin_write().await?;
        for sql in statements {
            let uses_run = sql.contains(&run);
            let mut q = scoped(sql, domain_ids);
            if uses_run {
                q = q.bind(run_id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn qa_state_counts(&self, domain_ids: &[i64]) -> Result<Vec<StateCount>, StoreError> {
        // Exported: released and valid or valid_warn, exactly what zmets disseminates;
        // counted with the records from one index (record_qa).
        let sql = format!(
            "SELECT zmods_validation AS state, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN released = 1 AND zmods_validation IN ('valid', 'valid_warn') \
             THEN 1 ELSE 0 END) AS BIGINT) AS exported \
             FROM record WHERE deleted = 0 AND {} GROUP BY zmods_validation",
            in_list("domain_id", domain_ids, 1)
        );
        let mut out: Vec<StateCount> = STATES
            .iter()
            .map(|s| StateCount {
                state: s.to_string(),
                records: 0,
                exported: 0,
            })
            .collect();
        for row in scoped(sql, domain_ids).fetch_all(&self.pool).await? {
            let state: String = row.try_get("state")?;
            if let Some(c) = out.iter_mut().find(|c| c.state == state) {
                c.records = row.try_get("n")?;
                c.exported = row.try_get("exported")?;
            }
        }
        Ok(out)
    }

    async fn qa_samples(
        &self,
        domain_ids: &[i64],
        state: &str,
        limit: i64,
    ) -> Result<Vec<SampleRecord>, StoreError> {
        let n = domain_ids.len();
        let sql = format!(
            "SELECT r.id AS id, r.domain_id AS domain_id, r.local_id AS local_id, \
             r.oai_identifier AS oai_identifier, r.title AS title, \
             CAST(CASE WHEN d.record_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS exported \
             FROM record r LEFT JOIN dissemination d ON d.record_id = r.id \
             AND d.prefix = 'zmets' AND d.deleted = 0 \
             WHERE r.deleted = 0 AND r.zmods_validation = ${} AND {} LIMIT {}",
            n + 1,
            in_list("r.domain_id", domain_ids, 1),
            limit.max(1)
        );
        scoped(sql, domain_ids)
            .bind(state.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(SampleRecord {
                    record_id: row.try_get("id")?,
                    domain_id: row.try_get("domain_id")?,
                    local_id: row.try_get("local_id")?,
                    oai_identifier: row.try_get("oai_identifier")?,
                    title: row.try_get("title")?,
                    exported: row.try_get::<i64, _>("exported")? != 0,
                })
            })
            .collect()
    }

    async fn qa_rule_stats(
        &self,
        domain_ids: &[i64],
        state: Option<&str>,
    ) -> Result<Vec<RuleStat>, StoreError> {
        let n = domain_ids.len();
        let state_clause = if state.is_some() {
            format!(" AND state = ${}", n + 1)
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT rule_set, rule_id, MIN(class) AS class, MIN(role) AS role, \
             MIN(message) AS message, CAST(SUM(findings) AS BIGINT) AS findings, \
             CAST(SUM(fixed) AS BIGINT) AS fixed, CAST(SUM(records) AS BIGINT) AS records \
             FROM qa_rule_stat WHERE {}{state_clause} GROUP BY rule_set, rule_id \
             ORDER BY rule_set <> 'zvdd', rule_set, rule_id",
            in_list("domain_id", domain_ids, 1)
        );
        let mut q = scoped(sql, domain_ids);
        if let Some(state) = state {
            q = q.bind(state.to_string());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(RuleStat {
                    rule_set: row.try_get("rule_set")?,
                    rule_id: row.try_get("rule_id")?,
                    class: row.try_get("class")?,
                    role: row.try_get("role")?,
                    message: row.try_get("message")?,
                    findings: row.try_get("findings")?,
                    fixed: row.try_get("fixed")?,
                    records: row.try_get("records")?,
                })
            })
            .collect()
    }

    async fn qa_rule_examples(
        &self,
        domain_ids: &[i64],
        rule_ids: &[String],
        state: Option<&str>,
    ) -> Result<Vec<RuleExample>, StoreError> {
        if rule_ids.is_empty() {
            return Ok(Vec::new());
        }
        let n = domain_ids.len();
        let rules: Vec<String> = (0..rule_ids.len())
            .map(|i| format!("${}", n + 1 + i))
            .collect();
        let state_clause = if state.is_some() {
            format!(" AND state = ${}", n + rule_ids.len() + 1)
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT rule_set, rule_id, state, record_id, domain_id, local_id, repaired \
             FROM qa_rule_example WHERE {} AND rule_id IN ({}){state_clause} \
             ORDER BY rule_set, rule_id, repaired, record_id",
            in_list("domain_id", domain_ids, 1),
            rules.join(", ")
        );
        let mut q = scoped(sql, domain_ids);
        for rule in rule_ids {
            q = q.bind(rule.clone());
        }
        if let Some(state) = state {
            q = q.bind(state.to_string());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(RuleExample {
                    rule_set: row.try_get("rule_set")?,
                    rule_id: row.try_get("rule_id")?,
                    state: row.try_get("state")?,
                    record_id: row.try_get("record_id")?,
                    domain_id: row.try_get("domain_id")?,
                    local_id: row.try_get("local_id")?,
                    repaired: row.try_get::<i64, _>("repaired")? != 0,
                })
            })
            .collect()
    }

    async fn qa_trend(&self, domain_ids: &[i64], runs: i64) -> Result<Vec<TrendPoint>, StoreError> {
        let scope = in_list("s.domain_id", domain_ids, 1);
        let sql = format!(
            "SELECT s.run_id AS run_id, j.started_at AS started_at, s.state AS state, \
             CAST(SUM(s.records) AS BIGINT) AS n \
             FROM qa_run_state s JOIN job_run j ON j.id = s.run_id \
             WHERE {scope} AND s.run_id IN ( \
               SELECT run_id FROM (SELECT DISTINCT s.run_id AS run_id FROM qa_run_state s \
               WHERE {scope} ORDER BY s.run_id DESC LIMIT {}) recent) \
             GROUP BY s.run_id, j.started_at, s.state ORDER BY s.run_id",
            runs.max(1)
        );
        let mut out: Vec<TrendPoint> = Vec::new();
        for row in scoped(sql, domain_ids).fetch_all(&self.pool).await? {
            let run_id: i64 = row.try_get("run_id")?;
            if out.last().is_none_or(|p| p.run_id != run_id) {
                out.push(TrendPoint {
                    run_id,
                    started_at: row.try_get("started_at")?,
                    counts: STATES.iter().map(|s| (s.to_string(), 0)).collect(),
                });
            }
            if let Some(point) = out.last_mut() {
                point
                    .counts
                    .insert(row.try_get("state")?, row.try_get("n")?);
            }
        }
        Ok(out)
    }

    async fn qa_last_run(&self, domain_ids: &[i64]) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT MAX(run_id) AS run_id FROM qa_run_state WHERE {}",
            in_list("domain_id", domain_ids, 1)
        );
        let row = scoped(sql, domain_ids).fetch_one(&self.pool).await?;
        Ok(row.try_get("run_id")?)
    }

    async fn find_record(
        &self,
        domain_ids: &[i64],
        local_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let n = domain_ids.len();
        let sql = format!(
            "SELECT domain_id FROM record WHERE local_id = ${} AND {}",
            n + 1,
            in_list("domain_id", domain_ids, 1)
        );
        let found: Vec<i64> = scoped(sql, domain_ids)
            .bind(local_id.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.try_get("domain_id"))
            .collect::<Result<_, _>>()?;
        Ok(domain_ids.iter().copied().find(|d| found.contains(d)))
    }

    async fn domain_record_counts(&self) -> Result<Vec<DomainCounts>, StoreError> {
        sqlx::query(
            "SELECT domain_id, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN released = 1 THEN 1 ELSE 0 END) AS BIGINT) AS released \
             FROM record WHERE deleted = 0 GROUP BY domain_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(DomainCounts {
                domain_id: row.try_get("domain_id")?,
                records: row.try_get("n")?,
                released: row.try_get("released")?,
            })
        })
        .collect()
    }

    async fn domain_state_counts(&self) -> Result<Vec<DomainStateCount>, StoreError> {
        sqlx::query(
            "SELECT domain_id, zmods_validation AS state, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN released = 1 THEN 1 ELSE 0 END) AS BIGINT) AS released \
             FROM record WHERE deleted = 0 GROUP BY domain_id, zmods_validation \
             ORDER BY domain_id, zmods_validation",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(DomainStateCount {
                domain_id: row.try_get("domain_id")?,
                state: row.try_get("state")?,
                records: row.try_get("n")?,
                released: row.try_get("released")?,
            })
        })
        .collect()
    }
}
