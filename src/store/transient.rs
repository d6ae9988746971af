//! Which storage failures are transient: the database could not be reached, was locked
//! or busy, or ran out of space. A Goobi script step that fails this way exits 98, so that
//! Goobi runs the step again later instead of waiting for a person.

use super::StoreError;

impl StoreError {
    /// Whether trying again later may succeed without anybody changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::NotFound(_) | StoreError::Conflict(_) => false,
            StoreError::Other(e) => e.chain().any(|cause| {
                cause
                    .downcast_ref::<sqlx::Error>()
                    .is_some_and(sqlx_is_transient)
                    || cause
                        .downcast_ref::<std::io::Error>()
                        .is_some_and(io_is_transient)
            }),
        }
    }
}

/// sqlx errors that say the database is away, busy or full.
pub(crate) fn sqlx_is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(io) => io_is_transient(io),
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code_is_transient(&code)),
        _ => false,
    }
}

/// SQLite result codes (primary code in the low byte) and PostgreSQL SQLSTATEs of
/// transient failures.
fn code_is_transient(code: &str) -> bool {
    // SQLSTATEs have five characters; SQLite's extended codes stay below 10000.
    if let Some(n) = code.parse::<i64>().ok().filter(|_| code.len() < 5) {
        // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_NOMEM 7, SQLITE_IOERR 10, SQLITE_FULL 13,
        // SQLITE_CANTOPEN 14, SQLITE_PROTOCOL 15.
        return matches!(n & 0xff, 5 | 6 | 7 | 10 | 13 | 14 | 15);
    }
    // 08: connection exception; 53: insufficient resources (disk full, out of memory, too
    // many connections); 57P01-57P03: the server shuts down or cannot connect now; 40001,
    // 40P01: serialization failure, deadlock; 55P03: lock not available.
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "55P03"
        )
}

fn io_is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused
            | ConnectionReset
            | ConnectionAborted
            | NotConnected
            | TimedOut
            | BrokenPipe
            | StorageFull
            | HostUnreachable
            | NetworkUnreachable
            | NetworkDown
            | ResourceBusy
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_full_and_unreachable_databases_are_transient() {
        for code in ["5", "517", "13", "08006", "53100", "57P03", "40P01"] {
            assert!(code_is_transient(code), "{code}");
        }
        for code in ["19", "2067", "23505", "42P01", "3D000"] {
            assert!(!code_is_transient(code), "{code}");
        }
        let refused = StoreError::from(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(refused.is_transient());
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_transient());
        assert!(!StoreError::Conflict("x".into()).is_transient());
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_transient());
    }
}
