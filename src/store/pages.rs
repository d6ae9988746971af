//! ListRecords pages bounded by bytes as well as by items. The keyset query first reads
//! the headers with the stored size of each body; the page is cut where the stored bytes
//! reach the budget (stored bodies are compressed, so the uncompressed budget is never
//! reached later than that), then only the bodies of that prefix are read, and the page is
//! cut again where the uncompressed bytes reach the budget. Both reads run in one
//! snapshot, so headers and bodies agree.

use super::compression::{decompress, decompressed_size};
use super::disseminations::{bind_all, item_from_row, list_filter, Item, ListQuery};
use super::error::StoreError;
use super::sql::{in_list, Backend, SqlStore};
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};

/// One page of a list with metadata (ListRecords).
#[derive(Debug, Clone)]
pub struct Page {
    /// The items of the page, in keyset order.
    pub items: Vec<Item>,
    /// Whether items follow the page.
    pub more: bool,
}

/// ListRecords pages bounded by bytes.
#[async_trait]
pub trait PageStore: Send + Sync {
    /// One page of a list with metadata, bounded by `query.limit` items and by
    /// `max_bytes` of (uncompressed) metadata: the page ends with the item whose metadata
    /// reaches the budget, so a first item larger than the budget comes alone. Only the
    /// metadata of the items on the page is read.
    async fn page(&self, query: &ListQuery, max_bytes: u64) -> Result<Page, StoreError>;
}

#[async_trait]
impl PageStore for SqlStore {
    #[tracing::instrument(skip(self), fields(prefix = %query.prefix))]
    async fn page(&self, query: &ListQuery, max_bytes: u64) -> Result<Page, StoreError> {
        page(self, query, max_bytes).await
    }
}

async fn page(store: &SqlStore, query: &ListQuery, max_bytes: u64) -> Result<Page, StoreError> {
    let limit = query.limit.max(1);
    let (filter, values) = list_filter(query, true);
    let sql = format!(
        "SELECT d.record_id AS record_id, d.datestamp AS datestamp, d.deleted AS deleted, \
         r.oai_identifier AS oai_identifier, r.domain_id AS domain_id, \
         r.set_specs AS set_specs, NULL AS body, \
         CAST(COALESCE(LENGTH(p.body), 0) AS BIGINT) AS stored \
         FROM dissemination d JOIN record r ON r.id = d.record_id \
         LEFT JOIN payload p ON p.record_id = d.record_id AND p.prefix = d.prefix{filter} \
         ORDER BY d.datestamp, d.record_id LIMIT {}",
        limit + 1
    );
    let mut tx = store.pool.begin().await?;
    if store.backend == Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), values)
        .fetch_all(&mut *tx)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut stored_total: u64 = 0;
    for row in &rows {
        if items.len() as i64 == limit || stored_total >= max_bytes {
            break;
        }
        stored_total += row.try_get::<i64, _>("stored")?.max(0) as u64;
        items.push(item_from_row(row, false)?);
    }
    let wanted: Vec<i64> = items
        .iter()
        .filter(|i| !i.deleted)
        .map(|i| i.record_id)
        .collect();
    let mut bodies: Vec<(i64, Vec<u8>)> = Vec::with_capacity(wanted.len());
    if !wanted.is_empty() {
        let sql = format!(
            "SELECT record_id, body FROM payload WHERE prefix = $1 AND {}",
            in_list("record_id", &wanted, 2)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(&query.prefix);
        for id in &wanted {
            q = q.bind(id);
        }
        for row in q.fetch_all(&mut *tx).await? {
            bodies.push((row.try_get("record_id")?, row.try_get("body")?));
        }
    }
    tx.commit().await?;
    let mut total: u64 = 0;
    let mut cut = items.len();
    for (i, item) in items.iter_mut().enumerate() {
        if total >= max_bytes {
            cut = i;
            break;
        }
        if let Some(at) = bodies.iter().position(|(id, _)| *id == item.record_id) {
            let (_, compressed) = bodies.swap_remove(at);
            total += decompressed_size(&compressed);
            item.body = Some(decompress(&compressed)?);
        }
    }
    items.truncate(cut);
    let more = rows.len() > items.len();
    Ok(Page { items, more })
}
