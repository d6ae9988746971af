//! Storage of domains and records behind one [`Store`] trait. The rest of vitrine sees
//! only the trait; [`open`] picks the backend from the database URL.
//!
//! Both backends — SQLite (the embedded default, WAL) and PostgreSQL (several instances
//! sharing one database) — run the same SQL through sqlx's `Any` driver, each with its own
//! migrations (`migrations/sqlite`, `migrations/postgres`). Times are stored as Unix
//! seconds, so nothing depends on driver-specific date types, and the one storage test
//! story runs unchanged against both.
//!
//! One file per thing stored, each with its types and its part of the store (a trait
//! implemented for [`SqlStore`]): `domains`, `records`, `disseminations`, `validation`
//! (results as stored), `job_runs`, `claims` (taking records for a run) and `results`
//! (storing a run's results), `tokens` (the ingest API's bearer tokens), `relatives`
//! (a record's parent and children by local id), `qa` (the QA pages' aggregates),
//! `users` (users, sessions, failed logins) and `status` (whether the database answers,
//! the pool's use). They share only the leaves: `error`, `compression` and
//! `sql` (the connection and the SQL text helpers); none imports another's parent.

mod claims;
mod compression;
mod connect;
mod disseminations;
mod domains;
mod error;
mod inspect;
mod job_runs;
mod pages;
mod qa;
mod records;
mod relatives;
mod results;
mod sql;
mod status;
mod tokens;
mod transient;
mod users;
mod validation;

pub use claims::{Claim, ClaimRequest, ClaimStore, ClaimedTask, HeldRecords};
pub use compression::{
    compress, decompress, decompressed_size, deflate_segment, stored_segment, StoredBody,
};
pub use connect::OpenError;
pub use disseminations::{DisseminationStore, Item, ListQuery};
pub use domains::DomainStore;
pub use error::StoreError;
pub use inspect::{RecordFilter, RecordInspection, RecordSummary};
pub use job_runs::{JobLock, JobRun, JobRunInstance, JobRunStore, Participant, RuleCount};
pub use pages::{Page, PageStore};
pub use qa::{
    DomainCounts, DomainStateCount, QaStore, RuleExample, RuleStat, SampleRecord, StateCount,
    TrendPoint, STATES,
};
pub use records::{
    Payload, PutOutcome, PutRecord, RecordStatus, RecordStore, StateChange,
    REFRESH_STATISTICS_AFTER,
};
pub use relatives::{Relatives, RelativesStore};
pub use results::{PreparedResult, RecordFailure, ResultStore, SaveOutcome};
pub use sql::{Backend, SqlStore};
pub use status::{PoolUse, StatusStore};
pub use tokens::{ApiToken, NewToken, TokenRefusal, TokenScope, TokenStore, TokenVerifyError};
pub use users::{Session, UserStore};
pub use validation::{RecordDiagnostics, ValidationMark, ValidationStore};

use crate::config::Config;
use crate::domain::DomainTree;
pub use crate::domain::{Domain, StoredFinding, StoredRepair, ValidationOutcome, ValidationTask};
use std::sync::Arc;

/// The storage interface: every part of the store, as one object.
pub trait Store:
    DomainStore
    + RecordStore
    + DisseminationStore
    + PageStore
    + ValidationStore
    + JobRunStore
    + ClaimStore
    + ResultStore
    + RecordInspection
    + TokenStore
    + RelativesStore
    + QaStore
    + UserStore
    + StatusStore
    + Send
    + Sync
{
}

impl Store for SqlStore {}

/// Opens the store named by `url` (`sqlite://PATH`, `postgres://…`), creating the SQLite
/// file and its folder when missing, and applies the migrations.
pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<SqlStore> {
    SqlStore::open(url, max_connections).await
}

/// Opens the store named by `url` only if it exists: a missing SQLite file is an
/// [`OpenError::NoSqliteFile`], not a new empty database (commands that only read).
pub async fn open_existing(url: &str, max_connections: u32) -> anyhow::Result<SqlStore> {
    SqlStore::open_with(url, max_connections, false).await
}

/// The domain tree with its effective configuration: the file's, overlaid by the
/// settings stored with `vitrine domain set`.
pub async fn load_tree(store: &dyn Store, config: Arc<Config>) -> Result<DomainTree, StoreError> {
    let domains = store.domains().await?;
    let settings = store.domain_settings().await?;
    let effective = config.domain_settings(&domains, &settings);
    Ok(DomainTree::new(domains, effective))
}
