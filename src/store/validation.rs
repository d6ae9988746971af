//! Storage of ZVDD validation: record states, findings, repairs, the zmets/zmods
//! renderings, and job runs. The OaiOutputValidator job drives these.

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

/// What validating one record decided: its state and why, every finding and repair.
#[derive(Debug, Clone)]
pub struct ValidationOutcome {
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
}

/// The outcome of validating one record, with its zmets/zmods renderings.
#[derive(Debug, Clone)]
pub struct ValidationResult {
    /// State, reason, findings and repairs.
    pub outcome: ValidationOutcome,
    /// The repaired METS (zmets) and its MODS (zmods), uncompressed.
    pub zmets: Vec<u8>,
    /// The MODS of zmets; `None` when it has none, or when `zmets_is_stored`.
    pub zmods: Option<Vec<u8>>,
    /// No repair changed the METS: the zmets is the METS as stored, and the zmods the
    /// MODS stored with it (left out of `zmods`; taken from the stored payload).
    pub zmets_is_stored: bool,
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
    /// `running`, `finished`, `failed` or `killed` (found still running when a later run
    /// of its job and domain started: its process died).
    pub status: String,
    /// How far it got: `preparing`, `validating` (others may join), `sweeping` (the
    /// coordinator takes over what is left), `done`.
    pub phase: String,
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
        self.phase != "preparing"
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
    pub role: String,
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
    pub(super) updated_at: i64,
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
            updated_at: self.updated_at,
            mets: decompress(&self.mets)?,
            parent_title: self.parent_title.clone(),
        })
    }
}

/// Records claimed and not yet stored. On PostgreSQL it holds the transaction whose row
/// locks (`FOR UPDATE`) keep other instances off these records; dropping it rolls back
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

/// A result ready to be stored: compressed, and compared with the zmets stored before,
/// on the validating thread.
#[derive(Debug, Clone)]
pub struct PreparedResult {
    /// State, reason, findings and repairs.
    pub outcome: ValidationOutcome,
    zmets: Vec<u8>,
    zmods: Option<Vec<u8>>,
    same_zmets: bool,
}

impl PreparedResult {
    /// Compresses the renderings and compares the zmets with `previous_zmets`
    /// (compressed, as stored): an unchanged zmets keeps its datestamp.
    pub fn new(result: ValidationResult, previous_zmets: Option<&[u8]>) -> PreparedResult {
        let zmods = match (&result.zmods, result.zmets_is_stored) {
            (Some(zmods), _) => Some(compress(zmods)),
            (None, true) => crate::formats::mets::primary_mods(&result.zmets, Default::default())
                .ok()
                .flatten()
                .map(|m| compress(m.as_bytes())),
            (None, false) => None,
        };
        let zmets = compress(&result.zmets);
        Self::prepared(result, zmets, zmods, previous_zmets)
    }

    /// As [`PreparedResult::new`], with the zmets stored before of a claimed task. A
    /// zmets that is the stored METS takes the stored payloads as they are, compressed.
    pub fn for_claimed(result: ValidationResult, claimed: &ClaimedTask) -> PreparedResult {
        if !result.zmets_is_stored {
            return Self::new(result, claimed.previous_zmets.as_deref());
        }
        let (zmets, zmods) = (claimed.mets.clone(), claimed.mods.clone());
        Self::prepared(result, zmets, zmods, claimed.previous_zmets.as_deref())
    }

    fn prepared(
        result: ValidationResult,
        zmets: Vec<u8>,
        zmods: Option<Vec<u8>>,
        previous_zmets: Option<&[u8]>,
    ) -> PreparedResult {
        // Compressed bytes that are equal hold equal text; only unequal ones are compared
        // as text (a zmets compressed by another version of the compressor).
        let same_zmets = previous_zmets.is_some_and(|stored| {
            stored == zmets.as_slice()
                || decompress(stored).is_ok_and(|previous| previous == result.zmets)
        });
        PreparedResult {
            outcome: result.outcome,
            zmets,
            zmods,
            same_zmets,
        }
    }

    /// The zmets, compressed.
    pub(super) fn zmets(&self) -> &[u8] {
        &self.zmets
    }

    /// The zmods, compressed, when the zmets has one.
    pub(super) fn zmods(&self) -> Option<&[u8]> {
        self.zmods.as_deref()
    }

    /// Whether the zmets is the one stored before.
    pub(super) fn same_zmets(&self) -> bool {
        self.same_zmets
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

/// Per rule over a run: findings in the METS as stored, and how many a repair fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    /// Rule id.
    pub rule_id: String,
    /// error, warn or info.
    pub class: String,
    /// Findings.
    pub occurrences: i64,
    /// Of those, repaired.
    pub repaired: i64,
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
    pub state: String,
    /// The last run that took it.
    pub run_id: Option<i64>,
    /// The `job_run_instance` whose result is stored.
    pub validated_by: Option<i64>,
    /// How many results were ever stored for it.
    pub count: i64,
}

/// `column IN ($first, …)` for `ids` (`IN (NULL)` when empty).
pub(super) fn in_list(column: &str, ids: &[i64], first: usize) -> String {
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
    /// children of those that became `undefined` by a change whose relatives no run has
    /// marked yet (the incremental scope). Returns how many changed.
    async fn mark_undefined(&self, domain_ids: &[i64], all: bool) -> Result<u64, StoreError>;
    /// Up to `limit` undefined, non-deleted records of the domains with id > `after`.
    async fn undefined_records(
        &self,
        domain_ids: &[i64],
        after: i64,
        limit: i64,
    ) -> Result<Vec<ValidationTask>, StoreError>;
    /// Whether several instances share a run's records (PostgreSQL: row locks, `FOR
    /// UPDATE SKIP LOCKED`); on SQLite one process does the whole run.
    fn shares_work(&self) -> bool;
    /// Claims up to `limit` undefined records in id order. On PostgreSQL they stay
    /// locked until [`ValidationStore::save_claimed`] commits (or the claim is dropped);
    /// records other instances hold are skipped, or waited for with `wait`.
    async fn claim(&self, request: &ClaimRequest<'_>) -> Result<Claim, StoreError>;
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
    /// Stores results outside a run in one transaction (as
    /// [`ValidationStore::save_claimed`]). Returns how many were stored.
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
    /// Where each non-deleted record of the domains stands, in id order.
    async fn validation_marks(&self, domain_ids: &[i64])
        -> Result<Vec<ValidationMark>, StoreError>;
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
    async fn set_job_phase(&self, id: i64, phase: &str) -> Result<(), StoreError>;
    /// Records the end of a job run (its counters are kept as the batches left them).
    async fn finish_job_run(
        &self,
        id: i64,
        status: &str,
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
        role: &str,
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
             FROM record r \
             JOIN payload p ON p.record_id = r.id AND p.prefix = 'mets' AND p.record_id > $1 \
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

    /// Takes the cluster-wide lock of a job (`None`: another run holds it).
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

    fn shares_work(&self) -> bool {
        self.backend() == super::sql::Backend::Postgres
    }

    async fn claim(&self, request: &ClaimRequest<'_>) -> Result<Claim, StoreError> {
        super::claims::claim(self, request).await
    }

    async fn save_claimed(
        &self,
        held: HeldRecords,
        results: &[PreparedResult],
        failures: &[RecordFailure],
        by: Option<Participant>,
        now: i64,
    ) -> Result<SaveOutcome, StoreError> {
        super::claims::save_claimed(self, held, results, failures, by, now).await
    }

    async fn save_validations(
        &self,
        results: &[ValidationResult],
        now: i64,
    ) -> Result<u64, StoreError> {
        super::claims::save_validations(self, results, now).await
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
                    state: row.try_get("zmods_validation")?,
                    run_id: row.try_get("validation_run")?,
                    validated_by: row.try_get("validated_by")?,
                    count: row.try_get("validation_count")?,
                })
            })
            .collect()
    }

    async fn start_job_run(
        &self,
        job: &str,
        mode: &str,
        domain_id: i64,
        started_by: &str,
        full_run: bool,
        now: i64,
    ) -> Result<i64, StoreError> {
        super::job_runs::start(self, job, mode, domain_id, started_by, full_run, now).await
    }

    async fn set_job_phase(&self, id: i64, phase: &str) -> Result<(), StoreError> {
        super::job_runs::set_phase(self, id, phase).await
    }

    async fn finish_job_run(
        &self,
        id: i64,
        status: &str,
        report: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        super::job_runs::finish(self, id, status, report, now).await
    }

    async fn kill_stale_job_runs(
        &self,
        job: &str,
        domain_id: i64,
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        super::job_runs::kill_stale(self, job, domain_id, now).await
    }

    async fn running_job_run(
        &self,
        job: &str,
        domain_id: i64,
    ) -> Result<Option<JobRun>, StoreError> {
        super::job_runs::running(self, job, domain_id).await
    }

    async fn join_job_run(
        &self,
        run_id: i64,
        instance: &str,
        role: &str,
        now: i64,
    ) -> Result<Participant, StoreError> {
        super::job_runs::join(self, run_id, instance, role, now).await
    }

    async fn leave_job_run(&self, participant: Participant, now: i64) -> Result<(), StoreError> {
        super::job_runs::leave(self, participant, now).await
    }

    async fn job_run_instances(&self, run_id: i64) -> Result<Vec<JobRunInstance>, StoreError> {
        super::job_runs::instances(self, run_id).await
    }

    async fn job_run_errors(&self, run_id: i64) -> Result<Vec<String>, StoreError> {
        super::job_runs::errors(self, run_id).await
    }

    async fn job_run_rules(
        &self,
        run_id: i64,
    ) -> Result<(Vec<RuleCount>, BTreeMap<String, i64>), StoreError> {
        super::job_runs::rules(self, run_id).await
    }

    async fn job_runs(&self, domain_id: Option<i64>) -> Result<Vec<JobRun>, StoreError> {
        super::job_runs::list(self, domain_id).await
    }

    async fn job_run(&self, id: i64) -> Result<Option<JobRun>, StoreError> {
        super::job_runs::get(self, id).await
    }
}
