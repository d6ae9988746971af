//! Job runs as stored: the run (`job_run`), the instances that took part in it
//! (`job_run_instance`), the records it could not validate (`job_run_error`), what its
//! instances found, per rule, and the lock that lets one run per job and domain start.
//! The counters are updated by every stored batch (see `results.rs`), so a killed run
//! still shows what it did.

use super::error::StoreError;
use super::sql::{Backend, SqlStore};
use crate::domain::{InstanceRole, JobPhase, JobStatus};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeMap;

/// A job held by this process: on PostgreSQL a session advisory lock on a dedicated
/// connection (closed on drop, which releases the lock — also when the process dies); on
/// SQLite an exclusive lock on a file beside the database (`DB.lock-KEY`), which every
/// process opening that database sees — `vitrine job run` beside a running `serve` —
/// and which the system releases on drop or when the process dies. A database in
/// memory belongs to one process, so a lock within the process suffices there.
pub struct JobLock {
    _connection: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
    _file: Option<std::fs::File>,
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

/// The lock file of `key` beside the SQLite database `url` names; `None` for a
/// database in memory.
fn lock_file_path(url: &str, key: &str) -> Option<std::path::PathBuf> {
    let path = url.strip_prefix("sqlite://")?;
    let file = path.split_once('?').map_or(path, |(file, _)| file);
    if file.is_empty() || file == ":memory:" {
        return None;
    }
    let key: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(std::path::PathBuf::from(format!("{file}.lock-{key}")))
}

/// Takes the lock of `key` within this process (a database in memory).
fn local_lock(key: String) -> Result<Option<JobLock>, StoreError> {
    let mut held = local_locks()
        .lock()
        .map_err(|_| StoreError::Other(anyhow::anyhow!("job lock poisoned")))?;
    Ok(held.insert(key.clone()).then(|| JobLock {
        _connection: None,
        _file: None,
        local_key: Some(key),
    }))
}

/// Takes the lock file at `path` (created when missing) without waiting.
fn file_lock(path: &std::path::Path) -> Result<Option<JobLock>, StoreError> {
    use anyhow::Context as _;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open the job lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(JobLock {
            _connection: None,
            _file: Some(file),
            local_key: None,
        })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Other(
            anyhow::Error::new(e).context(format!("cannot lock {}", path.display())),
        )),
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
    /// `running`, `finished`, `failed` or `killed` (found still running when a later run
    /// of its job and domain started: its process died).
    pub status: JobStatus,
    /// How far it got: `preparing`, `validating` (others may join), `sweeping` (the
    /// coordinator takes over what is left), `done`.
    pub phase: JobPhase,
    /// Start (Unix seconds).
    pub started_at: i64,
    /// End.
    pub finished_at: Option<i64>,
    /// Records validated, by every instance, updated with each stored batch.
    pub validated: i64,
    /// The run's report as JSON.
    pub report: String,
}

impl JobRun {
    /// Whether the run got past preparing, i.e. marked its scope `undefined`: a later
    /// run need not start from scratch, it picks up what is left.
    pub fn prepared_scope(&self) -> bool {
        self.phase != JobPhase::Preparing
    }
}

/// An instance that took part in a run (`job_run_instance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunInstance {
    /// Id (what `validated_by` of a record names).
    pub id: i64,
    /// Run.
    pub run_id: i64,
    /// Host and process, e.g. `web-2:4711`.
    pub instance: String,
    /// `coordinator` or `worker`.
    pub role: InstanceRole,
    /// Results it stored.
    pub validated: i64,
    /// Results it dropped because the record changed meanwhile.
    pub changed_meanwhile: i64,
    /// When it joined.
    pub started_at: i64,
    /// When it left (`None`: still at work, or died).
    pub finished_at: Option<i64>,
}

/// One instance's part in a run: whose counters a stored batch adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Participant {
    /// The run.
    pub run_id: i64,
    /// Its `job_run_instance` row.
    pub id: i64,
}

/// Per rule over a run: findings in the METS as stored, and how many a repair fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
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
    /// Findings.
    pub occurrences: i64,
    /// Of those, repaired.
    pub repaired: i64,
}

/// Job runs and their lock.
#[async_trait]
pub trait JobRunStore: Send + Sync {
    /// Takes the cluster-wide lock of a job (`None`: another run holds it).
    async fn try_job_lock(&self, key: &str) -> Result<Option<JobLock>, StoreError>;
    /// Records a job run as started (`running`, phase `preparing`); returns its id.
    async fn start_job_run(
        &self,
        job: &str,
        mode: &str,
        domain_id: i64,
        started_by: &str,
        full_run: bool,
        now: i64,
    ) -> Result<i64, StoreError>;
    /// Moves a run to another phase.
    async fn set_job_phase(&self, id: i64, phase: JobPhase) -> Result<(), StoreError>;
    /// Records the end of a job run (its counters are kept as the batches left them).
    async fn finish_job_run(
        &self,
        id: i64,
        status: JobStatus,
        report: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Marks the runs of a job and domain that are still `running` as `killed`: called by
    /// the holder of the job's lock, for whom such a run can only be a dead one. Returns
    /// their ids.
    async fn kill_stale_job_runs(
        &self,
        job: &str,
        domain_id: i64,
        now: i64,
    ) -> Result<Vec<i64>, StoreError>;
    /// The newest `running` run of a job and domain.
    async fn running_job_run(
        &self,
        job: &str,
        domain_id: i64,
    ) -> Result<Option<JobRun>, StoreError>;
    /// Records an instance as taking part in a run.
    async fn join_job_run(
        &self,
        run_id: i64,
        instance: &str,
        role: InstanceRole,
        now: i64,
    ) -> Result<Participant, StoreError>;
    /// Records that an instance is done with a run.
    async fn leave_job_run(&self, participant: Participant, now: i64) -> Result<(), StoreError>;
    /// The instances that took part in a run, in the order they joined.
    async fn job_run_instances(&self, run_id: i64) -> Result<Vec<JobRunInstance>, StoreError>;
    /// Records a run could not validate, with the reason.
    async fn job_run_errors(&self, run_id: i64) -> Result<Vec<String>, StoreError>;
    /// Per rule: findings and repairs stored by a run's instances.
    async fn job_run_rules(
        &self,
        run_id: i64,
    ) -> Result<(Vec<RuleCount>, BTreeMap<String, i64>), StoreError>;
    /// Job runs, newest first, of one domain or all.
    async fn job_runs(&self, domain_id: Option<i64>) -> Result<Vec<JobRun>, StoreError>;
    /// One job run.
    async fn job_run(&self, id: i64) -> Result<Option<JobRun>, StoreError>;
    /// The newest run of a job on each domain it ever ran on, without its report.
    async fn latest_job_runs(&self, job: &str) -> Result<Vec<JobRun>, StoreError>;
}

#[async_trait]
impl JobRunStore for SqlStore {
    /// Takes the cluster-wide lock of a job (`None`: another run holds it).
    async fn try_job_lock(&self, key: &str) -> Result<Option<JobLock>, StoreError> {
        match self.backend() {
            Backend::Postgres => {
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
                    _file: None,
                    local_key: None,
                }))
            }
            Backend::Sqlite => match lock_file_path(&self.url, key) {
                Some(path) => file_lock(&path),
                None => local_lock(format!("{}#{key}", self.url)),
            },
        }
    }

    /// Records a run as started: `running`, phase `preparing`.
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
            "INSERT INTO job_run (job, mode, domain_id, started_by, full_run, status, phase, started_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(job)
        .bind(mode)
        .bind(domain_id)
        .bind(started_by)
        .bind(full_run as i64)
        .bind(JobStatus::Running.as_str())
        .bind(JobPhase::Preparing.as_str())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Moves a run to another phase.
    async fn set_job_phase(&self, id: i64, phase: JobPhase) -> Result<(), StoreError> {
        sqlx::query("UPDATE job_run SET phase = $2 WHERE id = $1")
            .bind(id)
            .bind(phase.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the end of a run; a finished run's phase becomes `done`, a failed one keeps
    /// the phase it failed in.
    async fn finish_job_run(
        &self,
        id: i64,
        status: JobStatus,
        report: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE job_run SET status = $2, report = $3, finished_at = $4, \
             phase = CASE WHEN $5 = 1 THEN $6 ELSE phase END WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(report)
        .bind(now)
        .bind((status == JobStatus::Finished) as i64)
        .bind(JobPhase::Done.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks the `running` runs of a job and domain as `killed`; returns their ids.
    async fn kill_stale_job_runs(
        &self,
        job: &str,
        domain_id: i64,
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "UPDATE job_run SET status = $4, finished_at = $3 \
             WHERE job = $1 AND domain_id = $2 AND status = $5 RETURNING id",
        )
        .bind(job)
        .bind(domain_id)
        .bind(now)
        .bind(JobStatus::Killed.as_str())
        .bind(JobStatus::Running.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<i64, _>("id")?))
            .collect()
    }

    /// The newest `running` run of a job and domain.
    async fn running_job_run(
        &self,
        job: &str,
        domain_id: i64,
    ) -> Result<Option<JobRun>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM job_run WHERE job = $1 AND domain_id = $2 AND status = $3 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(job)
        .bind(domain_id)
        .bind(JobStatus::Running.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_run_from_row).transpose()
    }

    /// Records an instance as taking part in a run.
    async fn join_job_run(
        &self,
        run_id: i64,
        instance: &str,
        role: InstanceRole,
        now: i64,
    ) -> Result<Participant, StoreError> {
        let row = sqlx::query(
            "INSERT INTO job_run_instance (run_id, instance, role, started_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(run_id)
        .bind(instance)
        .bind(role.as_str())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(Participant {
            run_id,
            id: row.try_get("id")?,
        })
    }

    /// Records that an instance is done with a run.
    async fn leave_job_run(&self, participant: Participant, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE job_run_instance SET finished_at = $2 WHERE id = $1")
            .bind(participant.id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The instances of a run, in the order they joined.
    async fn job_run_instances(&self, run_id: i64) -> Result<Vec<JobRunInstance>, StoreError> {
        let rows = sqlx::query("SELECT * FROM job_run_instance WHERE run_id = $1 ORDER BY id")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(JobRunInstance {
                    id: row.try_get("id")?,
                    run_id: row.try_get("run_id")?,
                    instance: row.try_get("instance")?,
                    role: InstanceRole::parse(&row.try_get::<String, _>("role")?)?,
                    validated: row.try_get("validated")?,
                    changed_meanwhile: row.try_get("changed_meanwhile")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                })
            })
            .collect()
    }

    /// The records a run could not validate, as `local_id: reason`.
    async fn job_run_errors(&self, run_id: i64) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT message FROM job_run_error WHERE run_id = $1 ORDER BY record_id")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String, _>("message")?))
            .collect()
    }

    /// Per rule: the findings (in the METS as stored) and repairs whose results a run's
    /// instances stored.
    async fn job_run_rules(
        &self,
        run_id: i64,
    ) -> Result<(Vec<RuleCount>, BTreeMap<String, i64>), StoreError> {
        let findings = sqlx::query(
            "SELECT f.rule_set AS rule_set, f.rule_id AS rule_id, MIN(f.class) AS class, \
             MIN(f.role) AS role, MIN(f.message) AS message, COUNT(*) AS n, \
             CAST(SUM(f.repaired) AS BIGINT) AS repaired \
             FROM finding f JOIN record r ON r.id = f.record_id \
             JOIN job_run_instance i ON i.id = r.validated_by \
             WHERE i.run_id = $1 AND f.stage = 'before' GROUP BY f.rule_set, f.rule_id \
             ORDER BY f.rule_set, f.rule_id",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(RuleCount {
                rule_set: row.try_get("rule_set")?,
                rule_id: row.try_get("rule_id")?,
                class: row.try_get("class")?,
                role: row.try_get("role")?,
                message: row.try_get("message")?,
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
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("rule_id")?, row.try_get("n")?)))
        .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
        Ok((findings, repairs))
    }

    /// Runs, newest first, of one domain or all.
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

    /// One run.
    async fn job_run(&self, id: i64) -> Result<Option<JobRun>, StoreError> {
        let row = sqlx::query("SELECT * FROM job_run WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_run_from_row).transpose()
    }

    /// The newest run per domain; the report (which may be large) is left out.
    async fn latest_job_runs(&self, job: &str) -> Result<Vec<JobRun>, StoreError> {
        sqlx::query(
            "SELECT id, job, mode, domain_id, started_by, full_run, status, phase, \
             started_at, finished_at, validated, '{}' AS report FROM job_run \
             WHERE id IN (SELECT MAX(id) FROM job_run WHERE job = $1 GROUP BY domain_id) \
             ORDER BY domain_id",
        )
        .bind(job)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(job_run_from_row)
        .collect()
    }
}

fn job_run_from_row(row: &AnyRow) -> Result<JobRun, StoreError> {
    Ok(JobRun {
        id: row.try_get("id")?,
        job: row.try_get("job")?,
        mode: row.try_get("mode")?,
        domain_id: row.try_get("domain_id")?,
        started_by: row.try_get("started_by")?,
        full_run: row.try_get::<i64, _>("full_run")? != 0,
        status: JobStatus::parse(&row.try_get::<String, _>("status")?)?,
        phase: JobPhase::parse(&row.try_get::<String, _>("phase")?)?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        validated: row.try_get("validated")?,
        report: row.try_get("report")?,
    })
}

#[cfg(test)]
mod tests {
    use super::lock_file_path;

    #[test]
    fn the_lock_file_lies_beside_the_database() {
        assert_eq!(
            lock_file_path("sqlite:///var/lib/v.db?mode=rwc", "Job:zmets:ulb"),
            Some("/var/lib/v.db.lock-Job_zmets_ulb".into())
        );
        assert_eq!(lock_file_path("sqlite://:memory:?mode=rwc", "k"), None);
        assert_eq!(lock_file_path("postgres://h/db", "k"), None);
    }
}
