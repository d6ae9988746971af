//! ListRecords pages bounded by bytes as well as by items, read with one statement (one
//! round trip, one snapshot). The keyset query reads the headers with the stored size of
//! each body and the stored bytes before each; bodies are read only for the items whose
//! stored bytes before them are within the budget (stored bodies are compressed, so the
//! uncompressed budget is never reached later than that). The page is cut where the
//! stored or the uncompressed bytes (from each frame's header) reach the budget. The
//! bodies stay compressed: the response decompresses each when it reaches it.

use super::compression::{decompressed_size, StoredBody};
use super::disseminations::{bind_all, item_from_row, list_filter, FilterValue, Item, ListQuery};
use super::error::StoreError;
use super::sql::SqlStore;
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};

/// One page of a list with metadata (ListRecords).
#[derive(Debug, Clone)]
pub struct Page {
    /// The items of the page, in keyset order, each with its stored metadata (none
    /// for a deleted item). `Item::body` stays empty.
    pub items: Vec<(Item, Option<StoredBody>)>,
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
    let (filter, mut values) = list_filter(query, true);
    let budget = values.len() + 1;
    values.push(FilterValue::Int(
        i64::try_from(max_bytes).unwrap_or(i64::MAX),
    ));
    values.push(FilterValue::Int(limit));
    // `head`: the next limit + 1 headers with the stored size of each body; `sized`: the
    // stored bytes before each; the body is read only for the first `limit` items whose
    // stored bytes before them are still within the budget, and never for a deleted one.
    let sql = format!(
        "WITH head AS (SELECT d.record_id AS record_id, d.datestamp AS datestamp, \
         d.deleted AS deleted, r.oai_identifier AS oai_identifier, r.domain_id AS domain_id, \
         r.set_specs AS set_specs, CAST(COALESCE(LENGTH(p.body), 0) AS BIGINT) AS stored \
         FROM dissemination d JOIN record r ON r.id = d.record_id \
         LEFT JOIN payload p ON p.record_id = d.record_id AND p.prefix = d.prefix{filter} \
         ORDER BY d.datestamp, d.record_id LIMIT {}), \
         sized AS (SELECT head.*, CAST(COALESCE(SUM(stored) OVER (ORDER BY datestamp, record_id \
         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT) AS before, \
         ROW_NUMBER() OVER (ORDER BY datestamp, record_id) AS position FROM head) \
         SELECT s.record_id AS record_id, s.datestamp AS datestamp, s.deleted AS deleted, \
         s.oai_identifier AS oai_identifier, s.domain_id AS domain_id, s.set_specs AS set_specs, \
         s.stored AS stored, \
         CASE WHEN s.deleted = 0 AND s.before < ${budget} AND s.position <= ${} THEN p.body END AS body, \
         CAST(COALESCE(p.clean, 0) AS BIGINT) AS clean \
         FROM sized s LEFT JOIN payload p ON p.record_id = s.record_id AND p.prefix = $1 \
         ORDER BY s.datestamp, s.record_id",
        limit + 1,
        budget + 1
    );
    // One statement: headers and bodies come from one snapshot.
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), values)
        .fetch_all(&store.pool)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    let (mut stored_total, mut total) = (0u64, 0u64);
    for row in &rows {
        // The page ends at the item count, or once the stored or the uncompressed
        // bytes before the next item reach the budget.
        if items.len() as i64 == limit || stored_total >= max_bytes || total >= max_bytes {
            break;
        }
        stored_total += row.try_get::<i64, _>("stored")?.max(0) as u64;
        let item = item_from_row(row, false)?;
        let body = match row.try_get::<Option<Vec<u8>>, _>("body")? {
            Some(frame) if !item.deleted => Some(StoredBody {
                frame,
                clean: row.try_get::<i64, _>("clean")? != 0,
            }),
            _ => None,
        };
        if let Some(body) = &body {
            total += decompressed_size(&body.frame);
        }
        items.push((item, body));
    }
    let more = rows.len() > items.len();
    Ok(Page { items, more })
}
