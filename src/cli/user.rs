//! `vitrine user …`: the people who may log in to the QA and administration pages —
//! `add NAME --role qa|admin [--domain DNAME] --password-stdin`, `list`, `remove NAME`,
//! `passwd NAME --password-stdin`. Passwords are read from standard input only (never
//! from the command line, where other users of the machine could see them) and stored as
//! argon2id hashes.

use super::{Context, Run};
use crate::store::StoreError;
use crate::users::{check_name, hash_password, read_password, Role};
use anyhow::{bail, Context as _};
use std::io::BufRead;
use std::process::ExitCode;

/// `vitrine user`.
#[derive(clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(clap::Subcommand)]
enum UserCommand {
    /// Create a user; the password is the first line of standard input.
    Add {
        /// Login name.
        name: String,
        /// qa (reads the QA pages) or admin (also the administration pages; starts runs).
        #[arg(long, value_parser = ["qa", "admin"])]
        role: String,
        /// The domain the user may see, with its sub-domains (default: the root, i.e. all).
        #[arg(long)]
        domain: Option<String>,
        /// Read the password from standard input (required: never from the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Remove a user (and end its sessions).
    Remove {
        /// Login name.
        name: String,
    },
    /// Change a user's password (ends its sessions); the password is read from standard input.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn password_from_stdin() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let password = read_password(&mut lock as &mut dyn BufRead)
        .context("cannot read the password from standard input")?;
    if password.is_empty() {
        bail!("no password on standard input (give it as the first line)");
    }
    Ok(password)
}

#[async_trait::async_trait(?Send)]
impl Run for UserArgs {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        let opened = context.open().await?;
        run(self.command, &opened).await
    }
}

async fn run(command: UserCommand, opened: &super::Opened) -> anyhow::Result<ExitCode> {
    let store = &opened.store;
    let now = opened.clock.now();
    match command {
        UserCommand::Add {
            name, role, domain, ..
        } => {
            check_name(&name)?;
            let role: Role = role.parse()?;
            let tree = opened.tree().await?;
            let domain_id = match &domain {
                Some(d) => Some(
                    tree.by_name(d)
                        .with_context(|| format!("no domain {d}"))?
                        .id,
                ),
                None => None,
            };
            let hash = hash_password(&password_from_stdin()?)?;
            match store.add_user(&name, role, domain_id, &hash, now).await {
                Ok(_) => println!(
                    "user {name} added: role {role}, domain {}",
                    domain.as_deref().unwrap_or("(root: every domain)")
                ),
                Err(StoreError::Conflict(m)) => bail!(
                    "{m}; change the password with `vitrine user passwd {name} --password-stdin`"
                ),
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List => {
            let tree = opened.tree().await?;
            println!("name\trole\tdomain\tcreated");
            for user in store.users().await? {
                let domain = user.domain_id.map_or("(root)".to_string(), |id| {
                    tree.by_id(id).map_or("?".into(), |d| d.name.to_string())
                });
                println!(
                    "{}\t{}\t{}\t{}",
                    user.name,
                    user.role,
                    domain,
                    crate::domain::Datestamp::from_seconds(user.created_at)
                );
            }
        }
        UserCommand::Remove { name } => {
            if !store.remove_user(&name).await? {
                bail!("no user {name}");
            }
            println!("user {name} removed");
        }
        UserCommand::Passwd { name, .. } => {
            let hash = hash_password(&password_from_stdin()?)?;
            if !store.set_password(&name, &hash).await? {
                bail!("no user {name}");
            }
            println!("password of {name} changed; its sessions have ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}
