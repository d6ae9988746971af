//! [`SqlStore`]: the connection to SQLite or PostgreSQL — opening, migrations, write
//! transactions — and the SQL text helpers every part of the store shares. What is
//! stored lives in the files named after it (records, disseminations, validation, job
//! runs, claims, results), each implementing its part of the store for [`SqlStore`].

use super::error::StoreError;
use anyhow::Context as _;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::path::Path;

/// Bind parameters per statement at most (SQLite allows 32766, PostgreSQL 65535).
pub(super) const MAX_PARAMS: usize = 32_000;

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The SQL store.
#[derive(Clone)]
pub struct SqlStore {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    /// The database's URL: locks held within the process are per database.
    pub(super) url: String,
}

impl SqlStore {
    /// Connects and migrates, creating a missing SQLite file and its folder.
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<SqlStore> {
        Self::open_with(url, max_connections, true).await
    }

    /// Connects and migrates; a missing SQLite file is created only with `create`
    /// (otherwise [`super::OpenError::NoSqliteFile`]). PostgreSQL is probed once first, so
    /// that an unreachable server or a missing database fails within seconds with a
    /// precise [`super::OpenError`].
    pub async fn open_with(
        url: &str,
        max_connections: u32,
        create: bool,
    ) -> anyhow::Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let (file, query) = path.split_once('?').unwrap_or((path, ""));
            super::connect::check_sqlite_file(file, create)?;
            if file != ":memory:" {
                if let Some(dir) = Path::new(file)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
            }
            let query = if query.is_empty() { "mode=rwc" } else { query };
            (Backend::Sqlite, format!("sqlite://{file}?{query}"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            super::connect::probe_postgres(url).await?;
            (Backend::Postgres, url.to_string())
        } else {
            return Err(super::OpenError::BadUrl(url.to_string()).into());
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(std::time::Duration::from_secs(30))
            // A SQLite connection is a file handle that cannot go stale; pinging it before
            // each use only costs a round trip to its thread. PostgreSQL's are checked.
            .test_before_acquire(backend == Backend::Postgres)
            // SQLite: every connection has a page cache of its own (in the C library's heap).
            // At 4 MB each, a pool of 8 held up to 32 MB once harvests had touched enough of
            // the file; at 1 MB, harvests and imports run as fast, since what a connection
            // misses the operating system's cache of the file still holds.
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; \
                             PRAGMA cache_size = -1000;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("cannot open database {}", redact(&url)))?;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&pool)
            .await
            .context("cannot apply the database migrations")?;
        Ok(SqlStore { pool, backend, url })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. SQLite takes the write lock at once, so a transaction
    /// that reads before it writes never fails on lock upgrade.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Starts a write transaction on a connection the caller holds (so that it can close
    /// the connection should the database fail on it), locked at once as `begin_write`.
    pub(super) async fn begin_write_on<'c>(
        &self,
        conn: &'c mut sqlx::AnyConnection,
    ) -> Result<sqlx::Transaction<'c, sqlx::Any>, StoreError> {
        use sqlx::Connection;
        Ok(match self.backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => conn.begin().await?,
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// `column IN ($first, …)` for `ids` (`IN (NULL)` when empty): the one builder of
/// numbered `IN` lists.
pub(super) fn in_list(column: &str, ids: &[i64], first: usize) -> String {
    if ids.is_empty() {
        return format!("{column} IN (NULL)");
    }
    let params: Vec<String> = (0..ids.len()).map(|i| format!("${}", first + i)).collect();
    format!("{column} IN ({})", params.join(", "))
}

/// `($first, …), (…)`: `rows` groups of `width` numbered parameters.
pub(super) fn placeholders(rows: usize, width: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * width * 6);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..width {
            if column > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", first + row * width + column));
        }
        out.push(')');
    }
    out
}

/// Rolls a failed transaction back now rather than when the connection is next used.
pub(super) async fn roll_back(tx: sqlx::Transaction<'_, sqlx::Any>) {
    if let Err(e) = tx.rollback().await {
        tracing::debug!("rolling back a failed write failed too: {e}");
    }
}

/// Returns a connection used for a write to the pool, unless the database failed on it:
/// such a connection may be broken or still inside the failed transaction (SQLite after
/// an I/O error), so it is closed and the pool opens a fresh one when it needs one.
pub(super) async fn finish_write<T>(
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    result: &Result<T, StoreError>,
) {
    if let Err(StoreError::Other(e)) = result {
        // The caller reports the error itself; this is only the connection's fate.
        tracing::debug!("closing a database connection after a failed write: {e}");
        if let Err(close) = conn.close().await {
            tracing::debug!("the connection did not close cleanly: {close}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://./a.db"), "sqlite://./a.db");
    }

    #[test]
    fn placeholders_number_rows_and_columns() {
        assert_eq!(placeholders(2, 3, 4), "($4, $5, $6), ($7, $8, $9)");
        assert_eq!(placeholders(1, 1, 1), "($1)");
    }

    #[test]
    fn in_lists_number_their_parameters() {
        assert_eq!(in_list("id", &[7, 8], 3), "id IN ($3, $4)");
        assert_eq!(in_list("id", &[], 1), "id IN (NULL)");
    }
}
