//! The write paths of [`SqlStore`]: storing a record with its payloads, sets and parent
//! links, release/withdraw/delete, and keeping the per-format dissemination state (the
//! datestamps and `deleted` markers harvesters see) right after every change.

use super::sql::{Backend, SqlStore};
use super::{PutOutcome, PutRecord, RecordStatus, StateChange, StoreError};
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::{AnyConnection, Row};

/// The formats every stored record offers when public and when it has the payload.
const BASE_FORMATS: [&str; 3] = ["oai_dc", "mets", "mods"];
/// The ZVDD channel, disseminated only for records whose zmods_export is `export`.
pub(super) const ZVDD_FORMATS: [&str; 2] = ["zmets", "zmods"];

pub(super) async fn put_record(
    store: &SqlStore,
    record: &PutRecord,
    now: i64,
) -> Result<PutOutcome, StoreError> {
    let mut conn = store.pool.acquire().await?;
    let result = put_record_on(store, &mut conn, record, now).await;
    finish_write(conn, &result).await;
    result
}

async fn put_record_on(
    store: &SqlStore,
    conn: &mut AnyConnection,
    record: &PutRecord,
    now: i64,
) -> Result<PutOutcome, StoreError> {
    let mut tx = begin_on(store, conn).await?;
    let outcome = match put_in(&mut tx, record, now).await {
        Ok(outcome) => outcome,
        Err(e) => {
            roll_back(tx).await;
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
pub(super) async fn put_records(
    store: &SqlStore,
    records: &[PutRecord],
    now: i64,
) -> Vec<Result<PutOutcome, StoreError>> {
    let batch = match store.pool.acquire().await {
        Ok(mut conn) => {
            let result = put_batch(store, &mut conn, records, now).await;
            finish_write(conn, &result).await;
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
    let mut tx = begin_on(store, conn).await?;
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        match put_in(&mut tx, record, now).await {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                roll_back(tx).await;
                return Err(e);
            }
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Starts a write transaction on `conn`; SQLite takes the write lock at once, so a
/// transaction that reads before it writes never fails on lock upgrade.
async fn begin_on<'c>(
    store: &SqlStore,
    conn: &'c mut AnyConnection,
) -> Result<sqlx::Transaction<'c, sqlx::Any>, StoreError> {
    use sqlx::Connection;
    Ok(match store.backend {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => conn.begin().await?,
    })
}

/// Rolls a failed transaction back now rather than when the connection is next used.
async fn roll_back(tx: sqlx::Transaction<'_, sqlx::Any>) {
    if let Err(e) = tx.rollback().await {
        tracing::debug!("rolling back a failed write failed too: {e}");
    }
}

/// Returns a connection used for a write to the pool, unless the database failed on it:
/// such a connection may be broken or still inside the failed transaction (SQLite after
/// an I/O error), so it is closed and the pool opens a fresh one when it needs one.
async fn finish_write<T>(conn: PoolConnection<sqlx::Any>, result: &Result<T, StoreError>) {
    if let Err(StoreError::Other(e)) = result {
        // The caller reports the error itself; this is only the connection's fate.
        tracing::debug!("closing a database connection after a failed write: {e}");
        if let Err(close) = conn.close().await {
            tracing::debug!("the connection did not close cleanly: {close}");
        }
    }
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
                    "UPDATE record SET released = 1, updated_at = $2, \
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
                 released = $6, deleted = 0, updated_at = $7, zmods_validation = 'undefined', \
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
            sqlx::query("UPDATE record_set SET current = 0 WHERE record_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            for table in ["payload", "parent_ref"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE record_id = $1"
                )))
                .bind(id)
                .execute(&mut *conn)
                .await?;
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
            .map(|i| format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO payload (record_id, prefix, body) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
        for payload in &record.payloads {
            q = q.bind(&payload.prefix).bind(&payload.compressed);
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

/// The dissemination rows of a record stored for the first time: one per base format it
/// has, in one statement.
async fn insert_disseminations(
    conn: &mut AnyConnection,
    id: i64,
    domain_id: i64,
    formats: &[&str],
    now: i64,
) -> Result<(), StoreError> {
    let formats: Vec<&str> = formats
        .iter()
        .copied()
        .filter(|f| BASE_FORMATS.contains(f))
        .collect();
    if formats.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..formats.len())
        .map(|i| format!("($1, ${}, $2, $3, 0)", i + 4))
        .collect();
    let sql = format!(
        "INSERT INTO dissemination (record_id, prefix, domain_id, datestamp, deleted) VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(domain_id)
        .bind(now);
    for f in formats {
        q = q.bind(f);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Brings the dissemination rows of a record in line with its state: a public record is
/// disseminated in every base format it has a payload for (new datestamp when its content
/// changed or it re-enters); a format it no longer has, or a record no longer public, is
/// marked deleted with a new datestamp — but only where it had been disseminated.
async fn sync_disseminations(
    conn: &mut AnyConnection,
    id: i64,
    domain_id: i64,
    public: bool,
    content_changed: bool,
    now: i64,
) -> Result<(), StoreError> {
    let available: Vec<String> = if public {
        sqlx::query("SELECT prefix FROM payload WHERE record_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("prefix"))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|p| BASE_FORMATS.contains(&p.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    let rows = sqlx::query("SELECT prefix, deleted FROM dissemination WHERE record_id = $1")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let mut existing = Vec::with_capacity(rows.len());
    for row in rows {
        existing.push((
            row.try_get::<String, _>("prefix")?,
            row.try_get::<i64, _>("deleted")? != 0,
        ));
    }
    for prefix in &available {
        match existing.iter().find(|(p, _)| p == prefix) {
            Some((_, deleted)) if *deleted || content_changed => {
                sqlx::query(
                    "UPDATE dissemination SET datestamp = $3, deleted = 0, domain_id = $4 \
                     WHERE record_id = $1 AND prefix = $2",
                )
                .bind(id)
                .bind(prefix)
                .bind(now)
                .bind(domain_id)
                .execute(&mut *conn)
                .await?;
            }
            Some(_) => {}
            None => {
                sqlx::query(
                    "INSERT INTO dissemination (record_id, prefix, domain_id, datestamp, deleted) \
                     VALUES ($1, $2, $3, $4, 0)",
                )
                .bind(id)
                .bind(prefix)
                .bind(domain_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    for (prefix, deleted) in &existing {
        // zmets/zmods leave with every change: the record is `undefined` until the
        // validator has checked its new state (zmods_export needs valid or valid_warn).
        let zvdd = ZVDD_FORMATS.contains(&prefix.as_str());
        if !deleted
            && (zvdd || (BASE_FORMATS.contains(&prefix.as_str()) && !available.contains(prefix)))
        {
            sqlx::query(
                "UPDATE dissemination SET datestamp = $3, deleted = 1 WHERE record_id = $1 AND prefix = $2",
            )
            .bind(id)
            .bind(prefix)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

pub(super) async fn change_state(
    store: &SqlStore,
    domain_id: i64,
    local_id: &str,
    change: StateChange,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = store.begin_write().await?;
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
         zmods_validation = 'undefined', relatives_marked = 0 WHERE id = $1",
    )
    .bind(id)
    .bind(new_released as i64)
    .bind(new_deleted as i64)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if new_deleted {
        sqlx::query("DELETE FROM payload WHERE record_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Force the next import of the same file to store it again.
        sqlx::query("UPDATE record SET content_hash = '' WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
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

pub(super) async fn record_status(
    store: &SqlStore,
    domain_id: i64,
    local_id: &str,
) -> Result<Option<RecordStatus>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT id, domain_id, local_id, oai_identifier, parent_id, title, released, deleted, \
         updated_at FROM record WHERE domain_id = $1 AND local_id = $2",
    )
    .bind(domain_id)
    .bind(local_id)
    .fetch_optional(&store.pool)
    .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.try_get("id")?;
    let rows = sqlx::query(
        "SELECT prefix, datestamp, deleted FROM dissemination WHERE record_id = $1 ORDER BY prefix",
    )
    .bind(id)
    .fetch_all(&store.pool)
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
