//! The command line: the clap types of the `vitrine` command and its dispatcher.
//!
//! One file per command group. A group is a type that parses its own arguments (clap's
//! `Args`) and implements [`Run`]; adding one takes its file, a `mod` line below and one
//! line in the `commands!` list, which declares the subcommand and dispatches to it.

use crate::config::Config;
use crate::domain::{Clock, DomainTree};
use crate::store::{self, Store};
use anyhow::Context as _;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod check;
mod config;
mod domain;
mod exit;
mod import;
mod job;
mod manual;
mod record;
mod records;
mod serve;
mod settings;
mod token;
mod user;
mod validate;

pub use exit::{exit_code, TRANSIENT};

/// vitrine: OAI-PMH 2.0 data provider for digitised collections with ZVDD METS/MODS validation.
#[derive(Parser)]
#[command(name = "vitrine", version, about)]
pub struct Cli {
    /// Configuration file (TOML); see `vitrine print-config`.
    #[arg(long, global = true, env = "VITRINE_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… (given before the command).
    #[arg(long)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// What a command group does once its arguments are parsed.
#[async_trait::async_trait(?Send)]
pub trait Run {
    /// Runs the command; the exit code says how it went (errors are printed by the caller).
    async fn run(self, context: Context) -> anyhow::Result<ExitCode>;
}

/// Declares the subcommands and dispatches each to its group's [`Run`].
macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($group:ty),)*) => {
        /// The subcommands of `vitrine`.
        #[derive(clap::Subcommand)]
        pub enum Command {
            $($(#[$doc])* $variant($group),)*
        }

        impl Command {
            async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
                match self {
                    $(Command::$variant(group) => group.run(context).await,)*
                }
            }
        }
    };
}

commands! {
    /// Serve the OAI-PMH endpoints.
    Serve(serve::Serve),
    /// Start a demo: fresh SQLite database, bundled sample collection, prints the URLs.
    Demo(serve::Demo),
    /// Manage domains.
    Domain(domain::DomainArgs),
    /// Import METS files or folders of them into a domain.
    Import(import::Import),
    /// Release records (make them public).
    Release(records::Release),
    /// Withdraw records (no longer public; harvesters see them as deleted).
    Withdraw(records::Withdraw),
    /// Delete records (tombstones; harvesters see them as deleted).
    Delete(records::Delete),
    /// Validate METS files against the ZVDD rules (or other ISO Schematron files).
    ///
    /// Exit codes (Goobi script-step conventions): 0 every file is valid or valid_warn,
    /// 1 a file is invalid or unreadable (needs a person), 2 usage error, 98 a transient
    /// failure (storage full writing --out): Goobi should run the step again.
    Validate(validate::Validate),
    /// Show the stored records of a domain: validation state, findings, repairs.
    Record(record::RecordArgs),
    /// Run and inspect jobs.
    Job(job::JobArgs),
    /// Manage the bearer tokens of the ingest API (/api/v1).
    Token(token::TokenArgs),
    /// Manage the users of the QA and administration pages.
    User(user::UserArgs),
    /// Print the annotated default configuration.
    PrintConfig(config::PrintConfig),
    /// Check the configuration and the database; print every problem (exit 1 if any).
    CheckConfig(check::CheckConfig),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(manual::Completions),
    /// Print the manual page (roff), e.g. `vitrine man > /usr/local/share/man/man1/vitrine.1`.
    Man(manual::Man),
}

/// What every command is given: where the configuration and the database are, and the
/// clock every time it stores or compares is read from.
pub struct Context {
    /// `--config` (or `VITRINE_CONFIG`).
    pub config_path: Option<PathBuf>,
    /// `--database`, overriding the configuration's URL.
    pub database: Option<String>,
    /// The system clock for the `vitrine` command.
    pub clock: Clock,
}

impl Context {
    /// Loads the configuration file (or the defaults).
    pub fn config(&self) -> anyhow::Result<Config> {
        Config::load(self.config_path.as_deref())
    }

    /// Loads the configuration and opens the database it (or `--database`) names, which
    /// must exist: commands that only read or change what is stored create nothing.
    pub async fn open(&self) -> anyhow::Result<Opened> {
        self.open_with(false).await
    }

    /// As [`Context::open`], creating a missing SQLite database (`domain add`, `import`).
    pub async fn open_or_create(&self) -> anyhow::Result<Opened> {
        self.open_with(true).await
    }

    async fn open_with(&self, create: bool) -> anyhow::Result<Opened> {
        let config = Arc::new(self.config()?);
        let url = self.database.as_deref().unwrap_or(&config.database.url);
        let max = config.database.pool_size(url);
        let store: Arc<dyn Store> = if create {
            Arc::new(store::open(url, max).await?)
        } else {
            Arc::new(store::open_existing(url, max).await?)
        };
        Ok(Opened {
            config,
            store,
            clock: self.clock.clone(),
        })
    }
}

/// The configuration and the opened store, as most commands need them.
pub struct Opened {
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// The opened database.
    pub store: Arc<dyn Store>,
    /// The command's clock.
    pub clock: Clock,
}

impl Opened {
    /// The domain tree as stored now, with its effective settings.
    pub async fn tree(&self) -> anyhow::Result<DomainTree> {
        store::load_tree(self.store.as_ref(), self.config.clone())
            .await
            .context("cannot read the domains")
    }
}

/// Opens the database `url` names, or the configured one.
async fn open_store(url: Option<&str>, config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = url.unwrap_or(&config.database.url);
    Ok(Arc::new(
        store::open(url, config.database.pool_size(url)).await?,
    ))
}

/// Parses the command line, runs the command and turns an error into its exit code: 98
/// for a transient failure (database unreachable or locked, storage full), else 1.
pub async fn main() -> ExitCode {
    exit::end_quietly_on_closed_stdout();
    let cli = Cli::parse();
    let context = Context {
        config_path: cli.config,
        database: cli.database,
        clock: Clock::system(),
    };
    match cli.command.run(context).await {
        Ok(code) => code,
        Err(e) if exit::is_closed_pipe(&e) => ExitCode::from(exit::CLOSED_PIPE),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}
