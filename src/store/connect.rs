//! Opening a database the way an admin expects it: a PostgreSQL server that does not
//! answer is reported within seconds with its address, a database that does not exist is
//! named once, and a SQLite file is created only by the commands that fill it.

use std::path::Path;
use std::time::Duration;

/// How long a first connection to PostgreSQL may take before the server counts as
/// unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL names no supported backend.
    #[error("database URL {0:?} must start with sqlite:// or postgres://")]
    BadUrl(String),
    /// Nothing listens at the address.
    #[error("cannot reach PostgreSQL: connection refused at {address}")]
    Refused {
        /// `HOST:PORT`.
        address: String,
    },
    /// The server did not answer in time, or the network failed.
    #[error("cannot reach PostgreSQL at {address}: {reason}")]
    Unreachable {
        /// `HOST:PORT`.
        address: String,
        /// What happened.
        reason: String,
    },
    /// The server answers but has no such database.
    #[error(
        "database {name:?} does not exist on the PostgreSQL server at {address}; \
         create it first (createdb {name})"
    )]
    NoDatabase {
        /// Database name.
        name: String,
        /// `HOST:PORT`.
        address: String,
    },
    /// A SQLite file that a command only reading the database does not create.
    #[error(
        "no database at {path} (only `vitrine domain add`, `import` and `demo` create one; \
         pass --database URL or set [database] url to use another)"
    )]
    NoSqliteFile {
        /// The file.
        path: String,
    },
}

impl OpenError {
    /// Whether trying again later may succeed (the server is away or busy).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            OpenError::Refused { .. } | OpenError::Unreachable { .. }
        )
    }
}

/// Fails unless the SQLite file exists (`create` false) — without creating its folder.
pub(super) fn check_sqlite_file(file: &str, create: bool) -> Result<(), OpenError> {
    if create || file == ":memory:" || Path::new(file).is_file() {
        return Ok(());
    }
    Err(OpenError::NoSqliteFile {
        path: file.to_string(),
    })
}

/// One connection attempt to PostgreSQL, bounded by [`CONNECT_TIMEOUT`], translated into
/// an [`OpenError`] where the cause is one an admin can act on. `Ok` when it connected
/// or failed for another reason (which the pool then reports).
pub(super) async fn probe_postgres(url: &str) -> Result<(), OpenError> {
    use sqlx::postgres::{PgConnectOptions, PgConnection};
    use sqlx::Connection;
    use std::str::FromStr;
    let Ok(options) = PgConnectOptions::from_str(url) else {
        return Ok(());
    };
    let address = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Err(_) => Err(OpenError::Unreachable {
            address,
            reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        }),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(OpenError::Refused { address })
        }
        Ok(Err(sqlx::Error::Io(e))) => Err(OpenError::Unreachable {
            address,
            reason: e.to_string(),
        }),
        Ok(Err(sqlx::Error::Database(e))) if e.code().as_deref() == Some("3D000") => {
            Err(OpenError::NoDatabase {
                name: options.get_database().unwrap_or("postgres").to_string(),
                address,
            })
        }
        Ok(Err(_)) => Ok(()),
    }
}
