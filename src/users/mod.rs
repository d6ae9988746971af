//! People who use the QA and administration pages: their roles, what a domain grant
//! covers, and their passwords (argon2id, PHC strings; a password is never stored,
//! logged or echoed).

use crate::domain::DomainTree;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use std::fmt;
use std::str::FromStr;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads the QA pages of the granted domains.
    Qa,
    /// Also the administration pages; may start job runs.
    Admin,
}

impl Role {
    /// The name stored and typed (`qa`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Qa => "qa",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UserError;
    fn from_str(s: &str) -> Result<Role, UserError> {
        match s {
            "qa" => Ok(Role::Qa),
            "admin" => Ok(Role::Admin),
            other => Err(UserError::UnknownRole(other.to_string())),
        }
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Granted domain (`None`: the root, i.e. every domain).
    pub domain_id: Option<i64>,
    /// When created (Unix seconds).
    pub created_at: i64,
}

impl User {
    /// Whether the grant covers `domain_id`: the granted domain or one of its descendants.
    pub fn covers(&self, tree: &DomainTree, domain_id: i64) -> bool {
        match self.domain_id {
            None => true,
            Some(granted) => tree.lineage(domain_id).iter().any(|d| d.id == granted),
        }
    }
}

/// Why a user could not be created or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// Roles are `qa` and `admin`.
    #[error("unknown role {0:?}: use qa or admin")]
    UnknownRole(String),
    /// Names are what people type at the login form.
    #[error("invalid user name {0:?}: use 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    InvalidName(String),
    /// A password must not be trivially guessable.
    #[error("the password is too short: use at least {MIN_PASSWORD} characters")]
    ShortPassword,
    /// The hash could not be computed.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 8;

/// Checks a login name: 1–64 of `A-Z a-z 0-9 . _ - @`.
pub fn check_name(name: &str) -> Result<(), UserError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(UserError::InvalidName(name.to_string()))
    }
}

/// The argon2id hash of a password (PHC string, random salt, the crate's default cost).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(UserError::ShortPassword);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches a stored hash. A damaged hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash no password matches, verified for unknown users so that a login takes as long
/// whether the name exists or not.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        hash_password("no user has this password, it only costs time")
            .unwrap_or_else(|_| String::from("$argon2id$v=19$m=19456,t=2,p=1$invalid"))
    })
}

/// Reads a password from the first line of `input` (as `--password-stdin` does),
/// without the line break.
pub fn read_password(input: &mut dyn std::io::BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_and_no_other() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct hors", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn short_passwords_and_odd_names_are_refused() {
        assert_eq!(hash_password("short"), Err(UserError::ShortPassword));
        assert!(check_name("qa.librarian@ulb").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("<script>").is_err());
    }

    #[test]
    fn roles_parse_from_their_names() {
        assert_eq!("qa".parse::<Role>(), Ok(Role::Qa));
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
