//! Storage of domains and records behind one [`Store`] trait. The rest of vitrine sees
//! only the trait; [`open`] picks the backend from the database URL.
//!
//! Both backends — SQLite (the embedded default, WAL) and PostgreSQL (several instances
//! sharing one database) — run the same SQL through sqlx's `Any` driver, each with its own
//! migrations (`migrations/sqlite`, `migrations/postgres`). Times are stored as Unix
//! seconds, so nothing depends on driver-specific date types, and the one storage test
//! story runs unchanged against both.

mod claims;
mod job_runs;
mod qa;
mod records;
mod sql;
mod users;
mod validation;

pub use qa::{
    DomainCounts, QaStore, RuleExample, RuleStat, SampleRecord, StateCount, TrendPoint, STATES,
};
pub use sql::SqlStore;
pub use users::{Session, UserStore};
pub use validation::{
    Claim, ClaimRequest, ClaimedTask, HeldRecords, JobLock, JobRun, JobRunInstance, Participant,
    PreparedResult, RecordDiagnostics, RecordFailure, RuleCount, SaveOutcome, StoredFinding,
    StoredRepair, ValidationMark, ValidationOutcome, ValidationResult, ValidationStore,
    ValidationTask,
};

use crate::config::Config;
pub use crate::domain::Domain;
use crate::domain::{DomainName, DomainSetting, DomainTree};
use async_trait::async_trait;
use std::sync::Arc;

/// A storage failure, mapped at the edges (HTTP status, exit code).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change contradicts what is stored (e.g. the record belongs to another domain).
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached or failed.
    #[error("database error: {0}")]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Other(anyhow::Error::new(e))
    }
}

/// A METS record ready to be stored: everything derived from the METS is computed before
/// the database is touched, so a record is committed whole or not at all.
#[derive(Debug, Clone)]
pub struct PutRecord {
    /// Domain the record belongs to.
    pub domain_id: i64,
    /// Local identifier.
    pub local_id: String,
    /// OAI identifier, stable forever.
    pub oai_identifier: String,
    /// Candidate local ids of the parent.
    pub parent_refs: Vec<String>,
    /// Title for people.
    pub title: Option<String>,
    /// Configured sets the record belongs to: (owner domain id, spec).
    pub sets: Vec<(i64, String)>,
    /// Rendered formats, compressed.
    pub payloads: Vec<Payload>,
    /// Release the record (a re-import keeps an earlier release otherwise).
    pub release: bool,
}

/// One rendered format of a record, compressed and fingerprinted when it is made (on
/// the preparing thread), so that the database transaction only moves bytes.
#[derive(Debug, Clone)]
pub struct Payload {
    /// metadataPrefix.
    pub prefix: String,
    /// zstd-compressed body.
    pub compressed: Vec<u8>,
    /// SHA-256 of the uncompressed body.
    pub digest: [u8; 32],
}

impl Payload {
    /// Compresses and fingerprints a body.
    pub fn new(prefix: &str, body: &[u8]) -> Payload {
        use sha2::Digest;
        Payload {
            prefix: prefix.to_string(),
            compressed: compress(body),
            digest: sha2::Sha256::digest(body).into(),
        }
    }
}

/// What storing a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new record.
    Created,
    /// An existing record got new content.
    Replaced,
    /// Identical content was already stored; nothing changed.
    Unchanged,
}

/// The stored state of a record, for status output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordStatus {
    /// Database id.
    pub id: i64,
    /// Domain id.
    pub domain_id: i64,
    /// Local identifier.
    pub local_id: String,
    /// OAI identifier.
    pub oai_identifier: String,
    /// Parent record's id, when resolved.
    pub parent_id: Option<i64>,
    /// Title.
    pub title: Option<String>,
    /// Released (public).
    pub released: bool,
    /// Deleted (tombstone).
    pub deleted: bool,
    /// Last change of the stored METS or state (Unix seconds).
    pub updated_at: i64,
    /// Per format: (prefix, datestamp, deleted).
    pub disseminations: Vec<(String, i64, bool)>,
}

/// A release-state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    /// Make public.
    Release,
    /// Make non-public again.
    Withdraw,
    /// Delete (tombstone).
    Delete,
}

/// Which records an OAI list request selects, and where a page starts.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// metadataPrefix.
    pub prefix: String,
    /// Domains in scope (`None`: every domain).
    pub domain_ids: Option<Vec<i64>>,
    /// Configured set (owner domain id, spec), when the set is not a domain set.
    pub configured_set: Option<(i64, String)>,
    /// Inclusive lower bound (Unix seconds).
    pub from: Option<i64>,
    /// Inclusive upper bound (Unix seconds).
    pub until: i64,
    /// Keyset position of the last item already sent: (datestamp, record id).
    pub after: Option<(i64, i64)>,
    /// Items to return at most.
    pub limit: i64,
    /// Whether to load the metadata bodies (ListRecords) or headers only.
    pub with_body: bool,
}

/// One record in one format, as a list or GetRecord returns it.
#[derive(Debug, Clone)]
pub struct Item {
    /// Record id (keyset tiebreaker).
    pub record_id: i64,
    /// OAI identifier.
    pub oai_identifier: String,
    /// Datestamp in this format (Unix seconds).
    pub datestamp: i64,
    /// `status="deleted"` in this format.
    pub deleted: bool,
    /// Domain of the record.
    pub domain_id: i64,
    /// Configured sets: (owner domain id, spec).
    pub sets: Vec<(i64, String)>,
    /// Uncompressed metadata, when asked for and not deleted.
    pub body: Option<Vec<u8>>,
}

/// The storage interface.
#[async_trait]
pub trait Store: ValidationStore + QaStore + UserStore + Send + Sync {
    /// Every domain.
    async fn domains(&self) -> Result<Vec<Domain>, StoreError>;
    /// Creates a domain.
    async fn add_domain(
        &self,
        name: &DomainName,
        parent_id: Option<i64>,
        title: &str,
    ) -> Result<Domain, StoreError>;
    /// Stores a record in one transaction.
    async fn put_record(&self, record: &PutRecord, now: i64) -> Result<PutOutcome, StoreError>;
    /// Stores several records, each whole or not at all; one result per record.
    async fn put_records(
        &self,
        records: &[PutRecord],
        now: i64,
    ) -> Vec<Result<PutOutcome, StoreError>>;
    /// The status of a record, by domain and local id.
    async fn record_status(
        &self,
        domain_id: i64,
        local_id: &str,
    ) -> Result<Option<RecordStatus>, StoreError>;
    /// Releases, withdraws or deletes a record; `Ok(false)` when it was already so.
    async fn change_state(
        &self,
        domain_id: i64,
        local_id: &str,
        change: StateChange,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// One page of a list.
    async fn list(&self, query: &ListQuery) -> Result<Vec<Item>, StoreError>;
    /// How many items the list selects in all (ignores `after` and `limit`).
    async fn count(&self, query: &ListQuery) -> Result<u64, StoreError>;
    /// One record in one format, within the domains in scope.
    async fn get(
        &self,
        oai_identifier: &str,
        prefix: &str,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<Item>, StoreError>;
    /// Formats a record is or was disseminated in: (prefix, deleted). `None`: unknown id.
    async fn formats_of(
        &self,
        oai_identifier: &str,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<Vec<(String, bool)>>, StoreError>;
    /// The smallest datestamp among the domains in scope.
    async fn earliest_datestamp(
        &self,
        domain_ids: Option<&[i64]>,
    ) -> Result<Option<i64>, StoreError>;
    /// Settings made with `vitrine domain set`: (domain id, key, value).
    async fn domain_settings(&self) -> Result<Vec<DomainSetting>, StoreError>;
    /// Stores (`Some`) or removes (`None`) a domain setting.
    async fn set_domain_setting(
        &self,
        domain_id: i64,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Refreshes the query planner's statistics (after large imports): `ANALYZE` on
    /// PostgreSQL (whose autovacuum may be off or late), `PRAGMA optimize` on SQLite.
    async fn refresh_statistics(&self) -> Result<(), StoreError>;
    /// Reads a setting, or stores `default` if absent, atomically; returns the stored value.
    async fn setting_or_insert(&self, key: &str, default: &str) -> Result<String, StoreError>;
}

/// Opens the store named by `url` (`sqlite://PATH`, `postgres://…`), creating the SQLite
/// file and its folder when missing, and applies the migrations.
pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<SqlStore> {
    SqlStore::open(url, max_connections).await
}

/// The domain tree with its effective configuration: the file's, overlaid by the
/// settings stored with `vitrine domain set`.
pub async fn load_tree(store: &dyn Store, config: Arc<Config>) -> Result<DomainTree, StoreError> {
    let domains = store.domains().await?;
    let settings = store.domain_settings().await?;
    Ok(DomainTree::new(domains, config, &settings))
}

/// zstd-compresses a payload for storage, with one reusable compressor per thread.
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(3).ok();
        }
        match slot.as_mut().map(|c| c.compress(bytes)) {
            Some(Ok(out)) => out,
            // Level 0 frames always decode; this only happens if zstd cannot allocate.
            _ => zstd::bulk::compress(bytes, 0).unwrap_or_default(),
        }
    })
}

/// Decompresses a stored payload, with one reusable decompressor per thread.
pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let damaged = |e: &dyn std::fmt::Display| {
        StoreError::Other(anyhow::anyhow!("stored payload is damaged: {e}"))
    };
    let size = match zstd::zstd_safe::get_frame_content_size(bytes) {
        Ok(Some(size)) => usize::try_from(size).map_err(|e| damaged(&e))?,
        // Frames without a recorded size (never written by vitrine) take the slow path.
        _ => return zstd::stream::decode_all(bytes).map_err(|e| damaged(&e)),
    };
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new().map_err(|e| damaged(&e))?);
        }
        let decompressor = slot.as_mut().expect("set above");
        decompressor
            .decompress(bytes, size)
            .map_err(|e| damaged(&e))
    })
}
