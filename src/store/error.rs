//! [`StoreError`]: how a storage operation fails, mapped at the edges (HTTP status, exit
//! code).

/// A storage failure, mapped at the edges (HTTP status, exit code).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change contradicts what is stored (e.g. the record belongs to another domain).
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached or failed.
    #[error("database error: {0}")]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Other(anyhow::Error::new(e))
    }
}

impl From<crate::domain::InvalidValue> for StoreError {
    fn from(e: crate::domain::InvalidValue) -> Self {
        StoreError::Other(anyhow::Error::new(e).context("a stored value is not one vitrine writes"))
    }
}
