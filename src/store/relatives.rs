//! The parent and children of a record by local id, for the record status the ingest API
//! answers with (`GET /api/v1/domains/{dname}/records/{localId}`).

use super::error::StoreError;
use super::sql::SqlStore;
use async_trait::async_trait;
use sqlx::Row;

/// A record's resolved parent/child links (`mets:mptr`), as local ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relatives {
    /// The parent's local id, when the parent is stored and linked.
    pub parent: Option<String>,
    /// The children's local ids, sorted (deleted ones left out).
    pub children: Vec<String>,
}

/// Reading record links.
#[async_trait]
pub trait RelativesStore: Send + Sync {
    /// The parent and children of a record.
    async fn relatives(&self, record_id: i64) -> Result<Relatives, StoreError>;
}

#[async_trait]
impl RelativesStore for SqlStore {
    #[tracing::instrument(skip(self))]
    async fn relatives(&self, record_id: i64) -> Result<Relatives, StoreError> {
        let parent = sqlx::query(
            "SELECT p.local_id AS local_id FROM record r JOIN record p ON p.id = r.parent_id \
             WHERE r.id = $1",
        )
        .bind(record_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| row.try_get::<String, _>("local_id"))
        .transpose()?;
        let children = sqlx::query(
            "SELECT local_id FROM record WHERE parent_id = $1 AND deleted = 0 ORDER BY local_id",
        )
        .bind(record_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>("local_id"))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(Relatives { parent, children })
    }
}
