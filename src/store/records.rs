//! Records as stored: a record with its payloads, sets and parent links, written whole or
//! not at all, and release/withdraw/delete (each keeping its disseminations right).

use super::compression::compress;
use super::disseminations::{insert_disseminations, sync_disseminations};
use super::error::StoreError;
use super::sql::{Backend, SqlStore};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

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
    /// The compressed body (a deflate piece, see `store::compression`).
    pub compressed: Vec<u8>,
    /// SHA-256 of the uncompressed body.
    pub digest: [u8; 32],
    /// The body holds no character illegal in XML 1.0: it is sent as stored.
    pub clean: bool,
}

impl Payload {
    /// Compresses and fingerprints a body.
    pub fn new(prefix: &str, body: &[u8]) -> Payload {
        use sha2::Digest;
        Payload {
            prefix: prefix.to_string(),
            compressed: compress(body),
            digest: sha2::Sha256::digest(body).into(),
            clean: crate::xml::text::is_clean(body),
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

/// Storing records and changing their state.
#[async_trait]
pub trait RecordStore: Send + Sync {
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
    /// Refreshes the query planner's statistics (after large imports and validator runs):
    /// `ANALYZE` on PostgreSQL (whose autovacuum may be off or late), `PRAGMA optimize` on
    /// SQLite.
    async fn refresh_statistics(&self) -> Result<(), StoreError>;
}

/// After a write of this many records (an import, a validator run), the planner's
/// statistics are refreshed ([`RecordStore::refresh_statistics`]).
pub const REFRESH_STATISTICS_AFTER: u64 = 1000;

#[async_trait]
impl RecordStore for SqlStore {
    async fn put_record(&self, record: &PutRecord, now: i64) -> Result<PutOutcome, StoreError> {
        put_record(self, record, now).await
    }

    async fn put_records(
        &self,
        records: &[PutRecord],
        now: i64,
    ) -> Vec<Result<PutOutcome, StoreError>> {
        put_records(self, records, now).await
    }

    async fn record_status(
        &self,
        domain_id: i64,
        local_id: &str,
    ) -> Result<Option<RecordStatus>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, domain_id, local_id, oai_identifier, parent_id, title, released, deleted, \
             updated_at FROM record WHERE domain_id = $1 AND local_id = $2",
        )
        .bind(domain_id)
        .bind(local_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let rows = sqlx::query(
            "SELECT prefix, datestamp, deleted FROM dissemination WHERE record_id = $1 ORDER BY prefix",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut disseminations = Vec::new();
        for r in rows {
            disseminations.push((
                r.try_get::<String, _>("prefix")?,
                r.try_get::<i64, _>("datestamp")?,
                r.try_get::<i64, _>("deleted")? != 0,
            ));
        }
        Ok(Some(RecordStatus {
            id,
            domain_id: row.try_get("domain_id")?,
            local_id: row.try_get("local_id")?,
            oai_identifier: row.try_get("oai_identifier")?,
            parent_id: row.try_get("parent_id")?,
            title: row.try_get("title")?,
            released: row.try_get::<i64, _>("released")? != 0,
            deleted: row.try_get::<i64, _>("deleted")? != 0,
            updated_at: row.try_get("updated_at")?,
            disseminations,
        }))
    }

    async fn change_state(
        &self,
        domain_id: i64,
        local_id: &str,
        change: StateChange,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT id, released, deleted FROM record WHERE domain_id = $1 AND local_id = $2",
        )
        .bind(domain_id)
        .bind(local_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("record {local_id}")))?;
        let id: i64 = row.try_get("id")?;
        let released = row.try_get::<i64, _>("released")? != 0;
        let deleted = row.try_get::<i64, _>("deleted")? != 0;
        let (new_released, new_deleted) = match change {
            StateChange::Release if deleted => {
                return Err(StoreError::Conflict(format!(
                    "record {local_id} is deleted; import it again to restore it"
                )))
            }
            StateChange::Release => (true, false),
            StateChange::Withdraw if deleted => (false, true),
            StateChange::Withdraw => (false, false),
            StateChange::Delete => (false, true),
        };
        if (new_released, new_deleted) == (released, deleted) {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE record SET released = $2, deleted = $3, updated_at = $4, \
             revision = revision + 1, zmods_validation = 'undefined', relatives_marked = 0 WHERE id = $1",
        )
        .bind(id)
        .bind(new_released as i64)
        .bind(new_deleted as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if new_deleted {
            for_record(&mut tx, "DELETE FROM payload WHERE record_id = $1", id).await?;
            // Force the next import of the same file to store it again.
            for_record(
                &mut tx,
                "UPDATE record SET content_hash = '' WHERE id = $1",
                id,
            )
            .await?;
        }
        sync_disseminations(
            &mut tx,
            id,
            domain_id,
            new_released && !new_deleted,
            false,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        let sql = match self.backend {
            Backend::Postgres => {
                "ANALYZE record, dissemination, payload, parent_ref, record_set, finding, repair"
            }
            Backend::Sqlite => "PRAGMA optimize",
        };
        sqlx::raw_sql(sql).execute(&self.pool).await?;
        Ok(())
    }
}

async fn put_record(
    store: &SqlStore,
    record: &PutRecord,
    now: i64,
) -> Result<PutOutcome, StoreError> {
    let mut conn = store.pool.acquire().await?;
    let result = put_record_on(store, &mut conn, record, now).await;
    super::sql::finish_write(conn, &result).await;
    result
}

async fn put_record_on(
    store: &SqlStore,
    conn: &mut AnyConnection,
    record: &PutRecord,
    now: i64,
) -> Result<PutOutcome, StoreError> {
    let mut tx = store.begin_write_on(conn).await?;
    let outcome = match put_in(&mut tx, record, now).await {
        Ok(outcome) => outcome,
        Err(e) => {
            super::sql::roll_back(tx).await;
            return Err(e);
        }
    };
    if outcome == PutOutcome::Unchanged {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// One transaction for the whole batch; if any record fails, the batch is rolled back
/// and every record is stored in a transaction of its own, so each is stored whole or not
/// at all and one bad record costs only its own failure. When the database itself fails
/// (an error other than a conflict), the records after the failing one are not tried:
/// each gets an error saying so.
async fn put_records(
    store: &SqlStore,
    records: &[PutRecord],
    now: i64,
) -> Vec<Result<PutOutcome, StoreError>> {
    let batch = match store.pool.acquire().await {
        Ok(mut conn) => {
            let result = put_batch(store, &mut conn, records, now).await;
            super::sql::finish_write(conn, &result).await;
            result
        }
        Err(e) => Err(e.into()),
    };
    if let Ok(outcomes) = batch {
        return outcomes.into_iter().map(Ok).collect();
    }
    let mut results = Vec::with_capacity(records.len());
    for record in records {
        let result = put_record(store, record, now).await;
        let failed = matches!(result, Err(StoreError::Other(_)));
        results.push(result);
        if failed {
            break;
        }
    }
    while results.len() < records.len() {
        results.push(Err(StoreError::Other(anyhow::anyhow!(
            "not stored: the database failed on an earlier record of the batch"
        ))));
    }
    results
}

async fn put_batch(
    store: &SqlStore,
    conn: &mut AnyConnection,
    records: &[PutRecord],
    now: i64,
) -> Result<Vec<PutOutcome>, StoreError> {
    let mut tx = store.begin_write_on(conn).await?;
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        match put_in(&mut tx, record, now).await {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                super::sql::roll_back(tx).await;
                return Err(e);
            }
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

fn content_hash(record: &PutRecord) -> String {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(record.local_id.as_bytes());
    field(record.title.as_deref().unwrap_or("").as_bytes());
    for r in &record.parent_refs {
        field(r.as_bytes());
    }
    for (owner, spec) in &record.sets {
        field(format!("{owner}:{spec}").as_bytes());
    }
    for payload in &record.payloads {
        field(payload.prefix.as_bytes());
        field(&payload.digest);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn put_in(
    conn: &mut AnyConnection,
    record: &PutRecord,
    now: i64,
) -> Result<PutOutcome, StoreError> {
    let hash = content_hash(record);
    let existing = sqlx::query(
        "SELECT id, domain_id, content_hash, released, deleted FROM record WHERE oai_identifier = $1",
    )
    .bind(&record.oai_identifier)
    .fetch_optional(&mut *conn)
    .await?;
    let set_specs: String = record
        .sets
        .iter()
        .map(|(owner, spec)| format!("{owner}:{spec}\n"))
        .collect();

    let (id, outcome, released) = match existing {
        Some(row) => {
            let id: i64 = row.try_get("id")?;
            let domain_id: i64 = row.try_get("domain_id")?;
            if domain_id != record.domain_id {
                return Err(StoreError::Conflict(format!(
                    "record {} is stored in another domain; delete it there first",
                    record.local_id
                )));
            }
            let was_released = row.try_get::<i64, _>("released")? != 0;
            let was_deleted = row.try_get::<i64, _>("deleted")? != 0;
            let same = row.try_get::<String, _>("content_hash")? == hash && !was_deleted;
            let released = (was_released && !was_deleted) || record.release;
            if same && released == was_released {
                return Ok(PutOutcome::Unchanged);
            }
            if same {
                // Only the release changes.
                sqlx::query(
                    "UPDATE record SET released = 1, updated_at = $2, revision = revision + 1, \
                     zmods_validation = 'undefined', relatives_marked = 0 WHERE id = $1",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                sync_disseminations(conn, id, record.domain_id, true, false, now).await?;
                return Ok(PutOutcome::Replaced);
            }
            sqlx::query(
                "UPDATE record SET local_id = $2, title = $3, content_hash = $4, set_specs = $5, \
                 released = $6, deleted = 0, updated_at = $7, revision = revision + 1, \
                 zmods_validation = 'undefined', \
                 relatives_marked = 0 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(&record.local_id)
            .bind(record.title.as_deref())
            .bind(&hash)
            .bind(&set_specs)
            .bind(released as i64)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            for sql in [
                "UPDATE record_set SET current = 0 WHERE record_id = $1",
                "DELETE FROM payload WHERE record_id = $1",
                "DELETE FROM parent_ref WHERE record_id = $1",
            ] {
                for_record(conn, sql, id).await?;
            }
            (id, PutOutcome::Replaced, released)
        }
        None => {
            let row = sqlx::query(
                "INSERT INTO record (domain_id, local_id, oai_identifier, title, released, deleted, \
                 content_hash, set_specs, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $8) RETURNING id",
            )
            .bind(record.domain_id)
            .bind(&record.local_id)
            .bind(&record.oai_identifier)
            .bind(record.title.as_deref())
            .bind(record.release as i64)
            .bind(&hash)
            .bind(&set_specs)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            (row.try_get("id")?, PutOutcome::Created, record.release)
        }
    };

    if !record.payloads.is_empty() {
        // One statement for all payloads of the record.
        let values: Vec<String> = (0..record.payloads.len())
            .map(|i| format!("($1, ${}, ${}, ${})", 3 * i + 2, 3 * i + 3, 3 * i + 4))
            .collect();
        let sql = format!(
            "INSERT INTO payload (record_id, prefix, body, clean) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
        for payload in &record.payloads {
            q = q
                .bind(&payload.prefix)
                .bind(&payload.compressed)
                .bind(i64::from(payload.clean));
        }
        q.execute(&mut *conn).await?;
    }
    for (owner, spec) in &record.sets {
        sqlx::query(
            "INSERT INTO record_set (record_id, owner_domain_id, spec, current) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (owner_domain_id, spec, record_id) DO UPDATE SET current = 1",
        )
        .bind(id)
        .bind(owner)
        .bind(spec)
        .execute(&mut *conn)
        .await?;
    }
    for r in &record.parent_refs {
        sqlx::query(
            "INSERT INTO parent_ref (record_id, ref) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(r)
        .execute(&mut *conn)
        .await?;
    }
    link_relatives(conn, id, record, outcome == PutOutcome::Created).await?;
    let formats: Vec<&str> = record.payloads.iter().map(|p| p.prefix.as_str()).collect();
    if outcome == PutOutcome::Created {
        insert_disseminations(
            conn,
            id,
            record.domain_id,
            if released { &formats } else { &[] },
            now,
        )
        .await?;
    } else {
        sync_disseminations(conn, id, record.domain_id, released, true, now).await?;
    }
    Ok(outcome)
}

/// Resolves this record's parent from its references, and adopts the children that
/// arrived before it and name it as their parent.
async fn link_relatives(
    conn: &mut AnyConnection,
    id: i64,
    record: &PutRecord,
    created: bool,
) -> Result<(), StoreError> {
    let mut parent: Option<i64> = None;
    for r in &record.parent_refs {
        let row = sqlx::query(
            "SELECT id FROM record WHERE local_id = $1 AND id <> $2 AND deleted = 0 \
             ORDER BY CASE WHEN domain_id = $3 THEN 0 ELSE 1 END, id LIMIT 1",
        )
        .bind(r)
        .bind(id)
        .bind(record.domain_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            parent = Some(row.try_get("id")?);
            break;
        }
    }
    // A new row's parent_id is NULL already.
    if parent.is_some() || !created {
        sqlx::query("UPDATE record SET parent_id = $2 WHERE id = $1")
            .bind(id)
            .bind(parent)
            .execute(&mut *conn)
            .await?;
    }
    // Children that arrived first: found through the parent_ref index, then linked one by
    // one (most records have none, so this is a single indexed lookup).
    let waiting =
        sqlx::query("SELECT record_id FROM parent_ref WHERE ref = $1 AND record_id <> $2")
            .bind(&record.local_id)
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    for row in waiting {
        let child: i64 = row.try_get("record_id")?;
        sqlx::query("UPDATE record SET parent_id = $1 WHERE id = $2 AND parent_id IS NULL")
            .bind(id)
            .bind(child)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Runs one statement whose only parameter, `$1`, is the record's id.
async fn for_record(
    conn: &mut AnyConnection,
    sql: &'static str,
    id: i64,
) -> Result<(), StoreError> {
    sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    Ok(())
}
