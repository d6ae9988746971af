//! `vitrine token create|list|revoke`: the token printed once and alone on stdout, a list
//! without secrets, and a revoked token refused by the API.

use crate::helpers::{fresh_database, open_store};
use std::process::Command;

fn vitrine(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .arg("--database")
        .arg(url)
        .args(args)
        .env("VITRINE_LOG", "warn")
        .env_remove("VITRINE_CONFIG")
        .output()
        .expect("run vitrine")
}

#[tokio::test]
async fn a_created_token_is_printed_once_listed_without_its_secret_and_revoked() {
    let (url, _dir) = fresh_database().await;
    assert!(vitrine(&url, &["domain", "add", "ulb"]).status.success());
    let created = vitrine(
        &url,
        &[
            "token",
            "create",
            "--domain",
            "ulb",
            "--scope",
            "ingest",
            "--name",
            "goobi",
            "--expires",
            "30",
        ],
    );
    assert!(created.status.success());
    let token = String::from_utf8(created.stdout).unwrap();
    let token = token.trim();
    assert!(
        token.starts_with("vit_1_") && !token.contains(char::is_whitespace),
        "{token}"
    );
    let list = String::from_utf8(vitrine(&url, &["token", "list"]).stdout).unwrap();
    assert!(
        list.contains("goobi\tulb\tingest") && list.contains("active"),
        "{list}"
    );
    assert!(
        !list.contains(&token[6..]),
        "the secret is never shown again"
    );
    let refused = vitrine(
        &url,
        &["token", "create", "--domain", "nosuch", "--scope", "read"],
    );
    assert_eq!(refused.status.code(), Some(1));

    // The API accepts it until it is revoked.
    let store = open_store(&url).await;
    // The tokens were made by `vitrine` processes, on the system clock.
    let now = vitrine::domain::Clock::system().now();
    assert!(store.verify_token(token, now).await.is_ok());
    assert!(vitrine(&url, &["token", "revoke", "1"]).status.success());
    assert!(store.verify_token(token, now).await.is_err());
    let list = String::from_utf8(vitrine(&url, &["token", "list"]).stdout).unwrap();
    assert!(list.contains("revoked"), "{list}");
}
