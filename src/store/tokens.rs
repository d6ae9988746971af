//! Bearer tokens of the ingest API: created by `vitrine token create`, kept only as a
//! SHA-256 hash, each bound to one domain (covering its sub-domains) and one scope.
//!
//! A token reads `vit_{id}_{secret}`: the id finds the stored hash, which is compared
//! with the hash of the secret in constant time, so neither the lookup nor the
//! comparison tells an attacker how much of a guess was right.

use super::error::StoreError;
use super::sql::SqlStore;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// Store, release, withdraw and delete records, and read their status.
    Ingest,
    /// Read record status only.
    Read,
}

impl TokenScope {
    /// Parses `ingest` or `read`.
    pub fn parse(text: &str) -> Option<TokenScope> {
        match text {
            "ingest" => Some(TokenScope::Ingest),
            "read" => Some(TokenScope::Read),
            _ => None,
        }
    }

    /// `ingest` or `read`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Ingest => "ingest",
            TokenScope::Read => "read",
        }
    }
}

/// A stored token (without its secret, which is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Token id (the number in `vit_{id}_…`).
    pub id: i64,
    /// A name for people (`goobi-export`).
    pub name: String,
    /// The domain it is valid for (and every domain below it).
    pub domain_id: i64,
    /// What it allows.
    pub scope: TokenScope,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Expires (Unix seconds), if ever.
    pub expires_at: Option<i64>,
    /// Revoked (Unix seconds), if so.
    pub revoked_at: Option<i64>,
}

impl ApiToken {
    /// Whether the token may be used at `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A freshly created token: the only time its full text exists.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The stored part.
    pub token: ApiToken,
    /// `vit_{id}_{secret}`: shown once, never stored.
    pub text: String,
}

/// Why a presented token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// Not of the form `vit_{id}_{secret}`, unknown id, or wrong secret.
    #[error("the token is not valid")]
    Invalid,
    /// Revoked with `vitrine token revoke`.
    #[error("the token has been revoked")]
    Revoked,
    /// Past its expiry date.
    #[error("the token has expired")]
    Expired,
}

/// Storage of API tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Creates a token for a domain; `expires_at` in Unix seconds.
    async fn create_token(
        &self,
        domain_id: i64,
        scope: TokenScope,
        name: &str,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<NewToken, StoreError>;
    /// Every token, newest first.
    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;
    /// Revokes a token; `Ok(false)` when it was revoked already.
    async fn revoke_token(&self, id: i64, now: i64) -> Result<bool, StoreError>;
    /// The token a request presents, when it is valid at `now`.
    async fn verify_token(&self, text: &str, now: i64) -> Result<ApiToken, TokenVerifyError>;
}

/// A refused token, or a storage failure while checking it.
#[derive(Debug, thiserror::Error)]
pub enum TokenVerifyError {
    /// The token was refused.
    #[error(transparent)]
    Refused(#[from] TokenRefusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Splits `vit_{id}_{secret}`.
fn split_token(text: &str) -> Option<(i64, &str)> {
    let rest = text.strip_prefix("vit_")?;
    let (id, secret) = rest.split_once('_')?;
    let id = id.parse::<i64>().ok().filter(|i| *i > 0)?;
    (!secret.is_empty()).then_some((id, secret))
}

fn token_from_row(row: &sqlx::any::AnyRow) -> Result<ApiToken, StoreError> {
    let scope: String = row.try_get("scope")?;
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        domain_id: row.try_get("domain_id")?,
        scope: TokenScope::parse(&scope)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown token scope {scope:?}")))?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const COLUMNS: &str = "id, name, domain_id, scope, created_at, expires_at, revoked_at";

#[async_trait]
impl TokenStore for SqlStore {
    #[tracing::instrument(skip(self))]
    async fn create_token(
        &self,
        domain_id: i64,
        scope: TokenScope,
        name: &str,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<NewToken, StoreError> {
        use base64::Engine;
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO api_token (name, domain_id, scope, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        )))
        .bind(name)
        .bind(domain_id)
        .bind(scope.as_str())
        .bind(secret_hash(&secret))
        .bind(now)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await?;
        let token = token_from_row(&row)?;
        let text = format!("vit_{}_{secret}", token.id);
        Ok(NewToken { token, text })
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_token ORDER BY id DESC"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    #[tracing::instrument(skip(self))]
    async fn revoke_token(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT revoked_at FROM api_token WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token {id}")))?;
        if found.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
            return Ok(false);
        }
        sqlx::query("UPDATE api_token SET revoked_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    // The token text is never logged: no instrument span here.
    async fn verify_token(&self, text: &str, now: i64) -> Result<ApiToken, TokenVerifyError> {
        let (id, secret) = split_token(text).ok_or(TokenRefusal::Invalid)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, token_hash FROM api_token WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from)?;
        // An unknown id costs the same hash and comparison as a known one.
        let stored: String = match &row {
            Some(row) => row.try_get("token_hash").map_err(StoreError::from)?,
            None => "0".repeat(64),
        };
        let matches = constant_eq(secret_hash(secret).as_bytes(), stored.as_bytes());
        let (Some(row), true) = (row, matches) else {
            return Err(TokenRefusal::Invalid.into());
        };
        let token = token_from_row(&row)?;
        if token.revoked_at.is_some() {
            return Err(TokenRefusal::Revoked.into());
        }
        if !token.is_active(now) {
            return Err(TokenRefusal::Expired.into());
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_text_splits_into_id_and_secret() {
        assert_eq!(split_token("vit_12_abc_d"), Some((12, "abc_d")));
        assert_eq!(split_token("vit_0_abc"), None);
        assert_eq!(split_token("vit_12_"), None);
        assert_eq!(split_token("Bearer vit_1_x"), None);
        assert_eq!(split_token("vit_x_abc"), None);
    }

    #[test]
    fn hashes_are_compared_whole() {
        assert!(constant_eq(b"abc", b"abc"));
        assert!(!constant_eq(b"abc", b"abd"));
        assert!(!constant_eq(b"abc", b"ab"));
    }
}
