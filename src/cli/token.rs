//! `vitrine token create|list|revoke`: the bearer tokens of the ingest API. A token is
//! printed once when it is created (alone on stdout, so scripts can capture it) and kept
//! only as a hash.

use super::{Context, Run};
use crate::domain::{Datestamp, DomainTree};
use crate::store::{Store, TokenScope};
use anyhow::bail;
use std::process::ExitCode;

/// `vitrine token`.
#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(clap::Subcommand)]
enum TokenCommand {
    /// Create a token and print it (once; only a hash is kept).
    Create {
        /// Domain the token is valid for (and every domain below it).
        #[arg(long)]
        domain: String,
        /// ingest: store, release, withdraw, delete and read records; read: read only.
        #[arg(long, value_parser = ["ingest", "read"])]
        scope: String,
        /// A name saying who uses it (e.g. goobi-export).
        #[arg(long)]
        name: Option<String>,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token: requests presenting it are refused from now on.
    Revoke {
        /// Token id (the number in `vit_{id}_…`, see `token list`).
        id: i64,
    },
}

#[async_trait::async_trait(?Send)]
impl Run for TokenArgs {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        let opened = context.open().await?;
        let tree = opened.tree().await?;
        run(
            opened.store.as_ref(),
            &tree,
            self.command,
            opened.clock.now(),
        )
        .await
    }
}

async fn run(
    store: &dyn Store,
    tree: &DomainTree,
    command: TokenCommand,
    now: i64,
) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            domain,
            scope,
            name,
            expires,
        } => {
            let target = tree.require(&domain)?;
            let Some(scope) = TokenScope::parse(&scope) else {
                bail!("scope {scope:?}: use ingest or read");
            };
            let expires_at = expires.map(|days| now + i64::from(days) * 86_400);
            let name = name.unwrap_or_else(|| format!("{domain}-{}", scope.as_str()));
            let created = store
                .create_token(target.id, scope, &name, expires_at, now)
                .await?;
            eprintln!(
                "token {} ({name}) for domain {domain} and the domains below it, scope {}, {}; \
                 it is shown only now — store it in the workflow system's configuration",
                created.token.id,
                scope.as_str(),
                expires_at.map_or("no expiry".to_string(), |t| format!(
                    "expires {}",
                    Datestamp::from_seconds(t)
                ))
            );
            println!("{}", created.text);
        }
        TokenCommand::List => {
            println!("id\tname\tdomain\tscope\tcreated\texpires\tstate");
            for token in store.tokens().await? {
                let domain = tree
                    .by_id(token.domain_id)
                    .map_or("?".to_string(), |d| d.name.to_string());
                let state = if token.revoked_at.is_some() {
                    "revoked"
                } else if token.is_active(now) {
                    "active"
                } else {
                    "expired"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    token.id,
                    token.name,
                    domain,
                    token.scope.as_str(),
                    Datestamp::from_seconds(token.created_at),
                    token
                        .expires_at
                        .map_or("never".to_string(), |t| Datestamp::from_seconds(t)
                            .to_string()),
                    state
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if store.revoke_token(id, now).await? {
                println!("token {id} revoked");
            } else {
                println!("token {id} was revoked already");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
