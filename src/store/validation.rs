//! Storage of ZVDD validation: record states, findings, repairs, the zmets/zmods
//! renderings, and job runs. The OaiOutputValidator job drives these.

use super::records::ZVDD_FORMATS;
use super::sql::SqlStore;
use super::{compress, decompress, StoreError};
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;

/// A record waiting for validation, with what the repairs need.
#[derive(Debug, Clone)]
pub struct ValidationTask {
    /// Record id.
    pub record_id: i64,
    /// Domain id.
    pub domain_id: i64,
    /// Local id.
    pub local_id: String,
    /// `updated_at` when claimed: a result is stored only if the record did not change since.
    pub updated_at: i64,
    /// The METS as stored (uncompressed).
    pub mets: Vec<u8>,
    /// Title of the parent record, when linked.
    pub parent_title: Option<String>,
}

/// One stored finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    /// `before` (in the METS as stored) or `after` (only in the repaired zmets).
    pub stage: String,
    /// Rule id.
    pub rule_id: String,
    /// `error`, `warn` or `info`.
    pub class: String,
    /// Message.
    pub message: String,
    /// XPath of the node.
    pub location: String,
    /// Whether a repair of the zmets fixed it.
    pub repaired: bool,
}

/// One stored repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRepair {
    /// Rule answered.
    pub rule_id: String,
    /// XPath of the changed node.
    pub xpath: String,
    /// Before.
    pub before: String,
    /// After.
    pub after: String,
}

/// The outcome of validating one record.
#[derive(Debug, Clone)]
pub struct ValidationResult {
    /// Record id.
    pub record_id: i64,
    /// `updated_at` seen when claimed.
    pub updated_at: i64,
    /// `invalid`, `valid_warn` or `valid`.
    pub state: String,
    /// Classes and rule ids that decided the state.
    pub reason: String,
    /// Rule set version.
    pub rule_set_version: String,
    /// Every finding.
    pub findings: Vec<StoredFinding>,
    /// Every repair.
    pub repairs: Vec<StoredRepair>,
    /// The repaired METS (zmets) and its MODS (zmods), uncompressed.
    pub zmets: Vec<u8>,
    /// The MODS of zmets.
    pub zmods: Option<Vec<u8>>,
}

/// What a record's last validation found, for `diag=true`.
#[derive(Debug, Clone)]
pub struct RecordDiagnostics {
    /// Record id.
    pub record_id: i64,
    /// zmods_validation.
    pub state: String,
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

/// A job held by this process: on PostgreSQL a session advisory lock on a dedicated
/// connection (closed on drop, which releases the lock — also when the process dies); on
/// SQLite, one vitrine process owns the database, so a lock within the process suffices.
pub struct JobLock {
    _connection: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
    local_key: Option<String>,
}

fn local_locks() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static LOCKS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    LOCKS.get_or_init(Default::default)
}

impl Drop for JobLock {
    fn drop(&mut self) {
        if let Some(key) = &self.local_key {
            if let Ok(mut held) = local_locks().lock() {
                held.remove(key);
            }
        }
    }
}

/// A recorded job run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    /// Id.
    pub id: i64,
    /// Job name, e.g. `OaiOutputValidator`.
    pub job: String,
    /// Mode, e.g. `zmets`.
    pub mode: String,
    /// Domain it was started on.
    pub domain_id: i64,
    /// Who or what started it (`cli`, `schedule`, a user).
    pub started_by: String,
    /// Whether every record in scope was revalidated.
    pub full_run: bool,
    /// `running`, `finished` or `failed`.
    pub status: String,
    /// Start (Unix seconds).
    pub started_at: i64,
    /// End.
    pub finished_at: Option<i64>,
    /// Records validated.
    pub validated: i64,
    /// The run's report as JSON.
    pub report: String,
}

fn in_list(column: &str, ids: &[i64], first: usize) -> String {
    if ids.is_empty() {
        return format!("{column} IN (NULL)");
    }
    let params: Vec<String> = (0..ids.len()).map(|i| format!("${}", first + i)).collect();
    format!("{column} IN ({})", params.join(", "))
}

/// Storage of ZVDD validation results and job runs.
#[async_trait]
pub trait ValidationStore: Send + Sync {
    /// Records per zmods_validation state among the non-deleted records of the domains.
    async fn validation_counts(
        &self,
        domain_ids: &[i64],
    ) -> Result<BTreeMap<String, i64>, StoreError>;
    /// Sets records of the domains to `undefined`: all of them (`all`), or the parents and
    /// children of those that are `undefined` already (the incremental scope). Returns how
    /// many changed.
    async fn mark_undefined(&self, domain_ids: &[i64], all: bool) -> Result<u64, StoreError>;
    /// Up to `limit` undefined, non-deleted records of the domains with id > `after`.
    async fn undefined_records(
        &self,
        domain_ids: &[i64],
        after: i64,
        limit: i64,
    ) -> Result<Vec<ValidationTask>, StoreError>;
    /// Stores results in one transaction. A record that changed since it was claimed keeps
    /// its `undefined` state (its result is dropped). Returns how many were stored.
    async fn save_validations(
        &self,
        results: &[ValidationResult],
        now: i64,
    ) -> Result<u64, StoreError>;
    /// The stored findings of a record.
    async fn findings(&self, record_id: i64) -> Result<Vec<StoredFinding>, StoreError>;
    /// Takes the cluster-wide lock of a job (`None`: another run holds it).
    async fn try_job_lock(&self, key: &str) -> Result<Option<JobLock>, StoreError>;
    /// Diagnostics of several records (in no particular order).
    async fn diagnostics(&self, record_ids: &[i64]) -> Result<Vec<RecordDiagnostics>, StoreError>;
    /// The validation state of a record: (state, reason, validated_at).
    async fn validation_state(
        &self,
        record_id: i64,
    ) -> Result<(String, String, Option<i64>), StoreError>;
    /// Records a job run as started; returns its id.
    async fn start_job_run(
        &self,
        job: &str,
        mode: &str,
        domain_id: i64,
        started_by: &str,
        full_run: bool,
        now: i64,
    ) -> Result<i64, StoreError>;
    /// Records the end of a job run.
    async fn finish_job_run(
        &self,
        id: i64,
        status: &str,
        validated: i64,
        report: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Job runs, newest first, of one domain or all.
    async fn job_runs(&self, domain_id: Option<i64>) -> Result<Vec<JobRun>, StoreError>;
    /// One job run.
    async fn job_run(&self, id: i64) -> Result<Option<JobRun>, StoreError>;
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
        let mut out: BTreeMap<String, i64> = ["undefined", "invalid", "valid_warn", "valid"]
            .into_iter()
            .map(|s| (s.to_string(), 0))
            .collect();
        for row in q.fetch_all(&self.pool).await? {
            out.insert(row.try_get("state")?, row.try_get("n")?);
        }
        Ok(out)
    }

    /// Sets records of the domains to `undefined`: all of them (`all`), or the parents and
    /// children of those that are `undefined` already (the incremental scope). Returns how
    /// many changed.
    async fn mark_undefined(&self, domain_ids: &[i64], all: bool) -> Result<u64, StoreError> {
        let scope = in_list("domain_id", domain_ids, 1);
        let sql = if all {
            format!(
                "UPDATE record SET zmods_validation = 'undefined' \
                 WHERE deleted = 0 AND zmods_validation <> 'undefined' AND {scope}"
            )
        } else {
            let inner = in_list("u.domain_id", domain_ids, 1);
            format!(
                "UPDATE record SET zmods_validation = 'undefined' \
                 WHERE deleted = 0 AND zmods_validation <> 'undefined' AND {scope} AND ( \
                   id IN (SELECT u.parent_id FROM record u WHERE u.zmods_validation = 'undefined' \
                          AND u.deleted = 0 AND u.parent_id IS NOT NULL AND {inner}) \
                   OR parent_id IN (SELECT u.id FROM record u WHERE u.zmods_validation = 'undefined' \
                          AND u.deleted = 0 AND {inner}))"
            )
        };
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in domain_ids {
            q = q.bind(id);
        }
        Ok(q.execute(&self.pool).await?.rows_affected())
    }

    /// Up to `limit` undefined, non-deleted records of the domains with id > `after`.
    async fn undefined_records(
        &self,
        domain_ids: &[i64],
        after: i64,
        limit: i64,
    ) -> Result<Vec<ValidationTask>, StoreError> {
        let sql = format!(
            "SELECT r.id AS id, r.domain_id AS domain_id, r.local_id AS local_id, \
             r.updated_at AS updated_at, p.body AS body, parent.title AS parent_title \
             FROM record r JOIN payload p ON p.record_id = r.id AND p.prefix = 'mets' \
             LEFT JOIN record parent ON parent.id = r.parent_id \
             WHERE r.zmods_validation = 'undefined' AND r.deleted = 0 AND r.id > $1 AND {} \
             ORDER BY r.id LIMIT {}",
            in_list("r.domain_id", domain_ids, 2),
            limit.max(1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(after);
        for id in domain_ids {
            q = q.bind(id);
        }
        let mut out = Vec::new();
        for row in q.fetch_all(&self.pool).await? {
            let body: Vec<u8> = row.try_get("body")?;
            out.push(ValidationTask {
                record_id: row.try_get("id")?,
                domain_id: row.try_get("domain_id")?,
                local_id: row.try_get("local_id")?,
                updated_at: row.try_get("updated_at")?,
                mets: decompress(&body)?,
                parent_title: row.try_get("parent_title")?,
            });
        }
        Ok(out)
    }

    /// Stores results in one transaction. A record that changed since it was claimed keeps
    /// its `undefined` state (its result is dropped). Returns how many were stored.
    async fn save_validations(
        &self,
        results: &[ValidationResult],
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut saved = 0;
        for r in results {
            let done = sqlx::query(
                "UPDATE record SET zmods_validation = $3, validation_reason = $4, validated_at = $5, \
                 rule_set_version = $6 WHERE id = $1 AND updated_at = $2 AND deleted = 0",
            )
            .bind(r.record_id)
            .bind(r.updated_at)
            .bind(&r.state)
            .bind(&r.reason)
            .bind(now)
            .bind(&r.rule_set_version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                continue;
            }
            saved += 1;
            for table in ["finding", "repair"] {
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE record_id = $1"
                )))
                .bind(r.record_id)
                .execute(&mut *tx)
                .await?;
            }
            let previous =
                sqlx::query("SELECT body FROM payload WHERE record_id = $1 AND prefix = 'zmets'")
                    .bind(r.record_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let same_zmets = match previous {
                Some(row) => decompress(&row.try_get::<Vec<u8>, _>("body")?)? == r.zmets,
                None => false,
            };
            sqlx::query(
                "DELETE FROM payload WHERE record_id = $1 AND prefix IN ('zmets', 'zmods')",
            )
            .bind(r.record_id)
            .execute(&mut *tx)
            .await?;
            for f in &r.findings {
                sqlx::query(
                    "INSERT INTO finding (record_id, stage, rule_id, class, message, location, repaired) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(r.record_id)
                .bind(&f.stage)
                .bind(&f.rule_id)
                .bind(&f.class)
                .bind(&f.message)
                .bind(&f.location)
                .bind(f.repaired as i64)
                .execute(&mut *tx)
                .await?;
            }
            for rep in &r.repairs {
                sqlx::query(
                    "INSERT INTO repair (record_id, rule_id, xpath, before, after) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(r.record_id)
                .bind(&rep.rule_id)
                .bind(&rep.xpath)
                .bind(&rep.before)
                .bind(&rep.after)
                .execute(&mut *tx)
                .await?;
            }
            export_zvdd(&mut tx, r, same_zmets, now).await?;
            let mut payloads = vec![("zmets", &r.zmets)];
            if let Some(zmods) = &r.zmods {
                payloads.push(("zmods", zmods));
            }
            for (prefix, body) in payloads {
                sqlx::query("INSERT INTO payload (record_id, prefix, body) VALUES ($1, $2, $3)")
                    .bind(r.record_id)
                    .bind(prefix)
                    .bind(compress(body))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(saved)
    }

    /// The stored findings of a record.
    async fn findings(&self, record_id: i64) -> Result<Vec<StoredFinding>, StoreError> {
        let rows = sqlx::query(
            "SELECT stage, rule_id, class, message, location, repaired FROM finding \
             WHERE record_id = $1 ORDER BY rule_id, location",
        )
        .bind(record_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredFinding {
                    stage: row.try_get("stage")?,
                    rule_id: row.try_get("rule_id")?,
                    class: row.try_get("class")?,
                    message: row.try_get("message")?,
                    location: row.try_get("location")?,
                    repaired: row.try_get::<i64, _>("repaired")? != 0,
                })
            })
            .collect()
    }

    /// The validation state of a record: (state, reason, validated_at).
    async fn try_job_lock(&self, key: &str) -> Result<Option<JobLock>, StoreError> {
        match self.backend() {
            super::sql::Backend::Postgres => {
                let mut connection = self.pool.acquire().await?;
                connection.close_on_drop();
                let row =
                    sqlx::query("SELECT pg_try_advisory_lock(hashtext($1)::bigint) AS locked")
                        .bind(key)
                        .fetch_one(&mut *connection)
                        .await?;
                let locked: bool = row.try_get("locked")?;
                Ok(locked.then_some(JobLock {
                    _connection: Some(connection),
                    local_key: None,
                }))
            }
            super::sql::Backend::Sqlite => {
                let mut held = local_locks()
                    .lock()
                    .map_err(|_| StoreError::Other(anyhow::anyhow!("job lock poisoned")))?;
                let key = format!("{}#{key}", self.url);
                Ok(held.insert(key.clone()).then(|| JobLock {
                    _connection: None,
                    local_key: Some(key),
                }))
            }
        }
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
                state: row.try_get(0)?,
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
    ) -> Result<(String, String, Option<i64>), StoreError> {
        let row = sqlx::query(
            "SELECT zmods_validation, validation_reason, validated_at FROM record WHERE id = $1",
        )
        .bind(record_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }

    /// Records a job run as started; returns its id.
    async fn start_job_run(
        &self,
        job: &str,
        mode: &str,
        domain_id: i64,
        started_by: &str,
        full_run: bool,
        now: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO job_run (job, mode, domain_id, started_by, full_run, status, started_at) \
             VALUES ($1, $2, $3, $4, $5, 'running', $6) RETURNING id",
        )
        .bind(job)
        .bind(mode)
        .bind(domain_id)
        .bind(started_by)
        .bind(full_run as i64)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Records the end of a job run.
    async fn finish_job_run(
        &self,
        id: i64,
        status: &str,
        validated: i64,
        report: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE job_run SET status = $2, validated = $3, report = $4, finished_at = $5 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(validated)
            .bind(report)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Job runs, newest first, of one domain or all.
    async fn job_runs(&self, domain_id: Option<i64>) -> Result<Vec<JobRun>, StoreError> {
        let rows = match domain_id {
            Some(d) => {
                sqlx::query("SELECT * FROM job_run WHERE domain_id = $1 ORDER BY id DESC")
                    .bind(d)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM job_run ORDER BY id DESC")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(job_run_from_row).collect()
    }

    /// One job run.
    async fn job_run(&self, id: i64) -> Result<Option<JobRun>, StoreError> {
        let row = sqlx::query("SELECT * FROM job_run WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_run_from_row).transpose()
    }
}

/// Enters or leaves the zmets/zmods channel after a validation: a released record that
/// is valid or valid_warn is disseminated there (new datestamp: its zmets is new); any
/// other record that was disseminated there is marked deleted with a new datestamp.
/// An unchanged zmets keeps its datestamp.
async fn export_zvdd(
    conn: &mut sqlx::AnyConnection,
    result: &ValidationResult,
    same_zmets: bool,
    now: i64,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT released, domain_id FROM record WHERE id = $1")
        .bind(result.record_id)
        .fetch_one(&mut *conn)
        .await?;
    let released = row.try_get::<i64, _>("released")? != 0;
    let domain_id: i64 = row.try_get("domain_id")?;
    let export = released && matches!(result.state.as_str(), "valid" | "valid_warn");
    for prefix in ZVDD_FORMATS {
        let available = export && (prefix == "zmets" || result.zmods.is_some());
        if available {
            // An unchanged zmets that is disseminated already keeps its datestamp.
            let current = sqlx::query(
                "SELECT deleted FROM dissemination WHERE record_id = $1 AND prefix = $2",
            )
            .bind(result.record_id)
            .bind(prefix)
            .fetch_optional(&mut *conn)
            .await?;
            let live = match current {
                Some(row) => row.try_get::<i64, _>("deleted")? == 0,
                None => false,
            };
            if same_zmets && live {
                continue;
            }
            sqlx::query(
                "INSERT INTO dissemination (record_id, prefix, domain_id, datestamp, deleted) \
                 VALUES ($1, $2, $3, $4, 0) \
                 ON CONFLICT (record_id, prefix) DO UPDATE SET datestamp = $4, deleted = 0, domain_id = $3",
            )
            .bind(result.record_id)
            .bind(prefix)
            .bind(domain_id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        } else {
            sqlx::query(
                "UPDATE dissemination SET deleted = 1, datestamp = $3 \
                 WHERE record_id = $1 AND prefix = $2 AND deleted = 0",
            )
            .bind(result.record_id)
            .bind(prefix)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

fn job_run_from_row(row: &sqlx::any::AnyRow) -> Result<JobRun, StoreError> {
    Ok(JobRun {
        id: row.try_get("id")?,
        job: row.try_get("job")?,
        mode: row.try_get("mode")?,
        domain_id: row.try_get("domain_id")?,
        started_by: row.try_get("started_by")?,
        full_run: row.try_get::<i64, _>("full_run")? != 0,
        status: row.try_get("status")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        validated: row.try_get("validated")?,
        report: row.try_get("report")?,
    })
}
