//! Storage of users, their sessions and failed logins (`app_user`, `app_session`,
//! `login_failure`). Sessions are kept in the database so that every instance sharing
//! it knows them; only the SHA-256 of a session cookie is stored.

use super::error::StoreError;
use super::sql::SqlStore;
use crate::users::{Role, User};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A live session: its user and the CSRF token of its forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who is logged in.
    pub user: User,
    /// The token every form of this session carries.
    pub csrf: String,
    /// When it ends (Unix seconds).
    pub expires_at: i64,
}

/// Storage of users and sessions.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; `Conflict` when the name is taken.
    async fn add_user(
        &self,
        name: &str,
        role: Role,
        domain_id: Option<i64>,
        password_hash: &str,
        now: i64,
    ) -> Result<User, StoreError>;
    /// Every user, by name.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Removes a user and its sessions; `Ok(false)` when there is none of that name.
    async fn remove_user(&self, name: &str) -> Result<bool, StoreError>;
    /// Replaces a user's password hash and ends its sessions; `Ok(false)`: no such user.
    async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError>;
    /// A user with its password hash, by name.
    async fn user_with_hash(&self, name: &str) -> Result<Option<(User, String)>, StoreError>;
    /// Stores a new session.
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The session of a cookie hash, unless it has expired.
    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Notes a failed login under each key (`user:NAME`, `addr:IP`) and forgets failures
    /// older than a day.
    async fn note_login_failure(&self, keys: &[String], now: i64) -> Result<(), StoreError>;
    /// Failed logins under `key` since `since`.
    async fn login_failures(&self, key: &str, since: i64) -> Result<i64, StoreError>;
    /// Forgets the failed logins under `key` (after a successful login).
    async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError>;
}

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: role
            .parse()
            .map_err(|e| StoreError::Other(anyhow::anyhow!("stored user: {e}")))?,
        domain_id: row.try_get("domain_id")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl UserStore for SqlStore {
    async fn add_user(
        &self,
        name: &str,
        role: Role,
        domain_id: Option<i64>,
        password_hash: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query("SELECT id FROM app_user WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("user {name} exists already")));
        }
        let row = sqlx::query(
            "INSERT INTO app_user (name, role, domain_id, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(domain_id)
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(User {
            id: row.try_get("id")?,
            name: name.to_string(),
            role,
            domain_id,
            created_at: now,
        })
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        sqlx::query("SELECT id, name, role, domain_id, created_at FROM app_user ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM app_session WHERE user_id IN (SELECT id FROM app_user WHERE name = $1)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        let removed = sqlx::query("DELETE FROM app_user WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(removed > 0)
    }

    async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query("UPDATE app_user SET password_hash = $2 WHERE name = $1")
            .bind(name)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(
            "DELETE FROM app_session WHERE user_id IN (SELECT id FROM app_user WHERE name = $1)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(changed > 0)
    }

    async fn user_with_hash(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, domain_id, created_at, password_hash FROM app_user \
             WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM app_session WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO app_session (token_hash, user_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id AS id, u.name AS name, u.role AS role, u.domain_id AS domain_id, \
             u.created_at AS created_at, s.csrf AS csrf, s.expires_at AS expires_at \
             FROM app_session s JOIN app_user u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Session {
                user: user_from_row(&row)?,
                csrf: row.try_get("csrf")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM app_session WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn note_login_failure(&self, keys: &[String], now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_failure WHERE at < $1")
            .bind(now - 86_400)
            .execute(&mut *tx)
            .await?;
        for key in keys {
            sqlx::query("INSERT INTO login_failure (key, at) VALUES ($1, $2)")
                .bind(key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn login_failures(&self, key: &str, since: i64) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM login_failure WHERE key = $1 AND at >= $2")
                .bind(key)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get("n")?)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failure WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
