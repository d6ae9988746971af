//! Domains as stored, the settings made with `vitrine domain set`, and the key/value
//! settings of the installation (such as the resumption token secret).

use super::error::StoreError;
use super::sql::SqlStore;
use crate::domain::{Domain, DomainName, DomainSetting};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Domains and settings.
#[async_trait]
pub trait DomainStore: Send + Sync {
    /// Every domain.
    async fn domains(&self) -> Result<Vec<Domain>, StoreError>;
    /// Creates a domain, created at `now` (Unix seconds).
    async fn add_domain(
        &self,
        name: &DomainName,
        parent_id: Option<i64>,
        title: &str,
        now: i64,
    ) -> Result<Domain, StoreError>;
    /// Settings made with `vitrine domain set`: (domain id, key, value).
    async fn domain_settings(&self) -> Result<Vec<DomainSetting>, StoreError>;
    /// Stores (`Some`) or removes (`None`) a domain setting.
    async fn set_domain_setting(
        &self,
        domain_id: i64,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Reads a setting, or stores `default` if absent, atomically; returns the stored value.
    async fn setting_or_insert(&self, key: &str, default: &str) -> Result<String, StoreError>;
}

#[async_trait]
impl DomainStore for SqlStore {
    #[tracing::instrument(skip(self))]
    async fn domains(&self) -> Result<Vec<Domain>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, parent_id, title, created_at FROM domain ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(domain_from_row).collect()
    }

    #[tracing::instrument(skip(self))]
    async fn add_domain(
        &self,
        name: &DomainName,
        parent_id: Option<i64>,
        title: &str,
        now: i64,
    ) -> Result<Domain, StoreError> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM domain WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "domain {name} exists already"
            )));
        }
        match parent_id {
            None => {
                let root = sqlx::query("SELECT name FROM domain WHERE parent_id IS NULL")
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(root) = root {
                    let root: String = root.try_get("name")?;
                    return Err(StoreError::Conflict(format!(
                        "there is a root domain already ({root}); give --parent"
                    )));
                }
            }
            Some(parent) => {
                let found = sqlx::query("SELECT id FROM domain WHERE id = $1")
                    .bind(parent)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Err(StoreError::NotFound(format!("parent domain {parent}")));
                }
            }
        }
        let row = sqlx::query(
            "INSERT INTO domain (name, parent_id, title, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, parent_id, title, created_at",
        )
        .bind(name.as_str())
        .bind(parent_id)
        .bind(title)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let domain = domain_from_row(&row)?;
        tx.commit().await?;
        Ok(domain)
    }

    async fn domain_settings(&self) -> Result<Vec<DomainSetting>, StoreError> {
        let rows =
            sqlx::query("SELECT domain_id, key, value FROM domain_setting ORDER BY domain_id, key")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("domain_id")?,
                    row.try_get("key")?,
                    row.try_get("value")?,
                ))
            })
            .collect()
    }

    async fn set_domain_setting(
        &self,
        domain_id: i64,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        match value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO domain_setting (domain_id, key, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (domain_id, key) DO UPDATE SET value = $3",
                )
                .bind(domain_id)
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM domain_setting WHERE domain_id = $1 AND key = $2")
                    .bind(domain_id)
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn setting_or_insert(&self, key: &str, default: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(default)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT value FROM setting WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }
}

fn domain_from_row(row: &AnyRow) -> Result<Domain, StoreError> {
    let name: String = row.try_get("name")?;
    Ok(Domain {
        id: row.try_get("id")?,
        name: DomainName::parse(&name).map_err(|e| StoreError::Other(e.into()))?,
        parent_id: row.try_get("parent_id")?,
        title: row.try_get("title")?,
        created_at: row.try_get("created_at")?,
    })
}
