//! Whether the database answers now (the readiness check) and how the connection pool
//! is used (for `/metrics`).

use super::error::StoreError;
use super::sql::SqlStore;
use anyhow::anyhow;
use async_trait::async_trait;
use std::path::Path;
use std::time::Duration;

/// Connections of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// At most this many (`database.max_connections`, at least 2).
    pub max: u32,
    /// Open now.
    pub open: u32,
    /// Of those, idle.
    pub idle: u32,
}

/// The state of the connection to the database.
#[async_trait]
pub trait StatusStore: Send + Sync {
    /// Succeeds when the database answers a read within `within`. For SQLite the
    /// database file must also still be where it was opened: connections open on a
    /// removed file go on answering from it while any new connection would start an
    /// empty database.
    async fn ping(&self, within: Duration) -> Result<(), StoreError>;
    /// Connections of the pool now.
    fn pool_use(&self) -> PoolUse;
}

#[async_trait]
impl StatusStore for SqlStore {
    async fn ping(&self, within: Duration) -> Result<(), StoreError> {
        if let Some(file) = sqlite_file(&self.url) {
            if !Path::new(file).is_file() {
                return Err(anyhow!("the database file {file} is gone").into());
            }
        }
        let read = sqlx::query("SELECT COUNT(*) AS n FROM domain").fetch_one(&self.pool);
        match tokio::time::timeout(within, read).await {
            Ok(answer) => answer.map(|_| ()).map_err(StoreError::from),
            Err(_) => Err(anyhow!(
                "the database did not answer within {} ms",
                within.as_millis()
            )
            .into()),
        }
    }

    fn pool_use(&self) -> PoolUse {
        PoolUse {
            max: self.pool.options().get_max_connections(),
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }
}

/// The file of a SQLite URL (`sqlite://FILE?…`); `None` for PostgreSQL or a database in
/// memory.
fn sqlite_file(url: &str) -> Option<&str> {
    let path = url.strip_prefix("sqlite://")?;
    let file = path.split_once('?').map_or(path, |(file, _)| file);
    (!file.is_empty() && file != ":memory:").then_some(file)
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn the_sqlite_file_comes_from_the_url() {
        assert_eq!(sqlite_file("sqlite:///v/a.db?mode=rwc"), Some("/v/a.db"));
        assert_eq!(sqlite_file("sqlite://:memory:?mode=rwc"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
