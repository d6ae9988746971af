//! `vitrine domain …`: creating domains and changing their settings.

use super::{Context, Run};
use crate::domain::DomainName;
use anyhow::Context as _;
use std::process::ExitCode;

/// `vitrine domain`.
#[derive(clap::Args)]
pub struct DomainArgs {
    #[command(subcommand)]
    command: DomainCommand,
}

#[derive(clap::Subcommand)]
enum DomainCommand {
    /// Create a domain.
    Add {
        /// Short name (a-z, 0-9, '-', '_').
        dname: String,
        /// Parent domain (none: the root domain).
        #[arg(long)]
        parent: Option<String>,
        /// Human title.
        #[arg(long)]
        name: Option<String>,
    },
    /// List domains.
    List,
    /// Change a setting of a domain (takes precedence over the configuration file),
    /// e.g. `vitrine domain set ulb oai.formats.zmets.on true`.
    Set {
        /// Domain.
        dname: String,
        /// Dotted setting name as in `[domains.DNAME]` of the configuration.
        key: String,
        /// New value (TOML: true, 50, "text", ["a", "b"]; a bare word is text).
        value: String,
    },
    /// Remove a setting made with `domain set` (the file's value applies again).
    Unset {
        /// Domain.
        dname: String,
        /// Dotted setting name.
        key: String,
    },
    /// Show a domain's effective configuration and where each changed setting comes from.
    Show {
        /// Domain.
        dname: String,
    },
}

#[async_trait::async_trait(?Send)]
impl Run for DomainArgs {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        // Only `domain add` creates a database; the others need an existing one.
        let opened = if matches!(self.command, DomainCommand::Add { .. }) {
            context.open_or_create().await?
        } else {
            context.open().await?
        };
        let store = opened.store.as_ref();
        let tree = opened.tree().await?;
        match self.command {
            DomainCommand::Add {
                dname,
                parent,
                name,
            } => {
                let name_parsed = DomainName::parse(&dname)?;
                let parent_id = match parent {
                    None => None,
                    Some(p) => Some(tree.require(&p)?.id),
                };
                let domain = store
                    .add_domain(
                        &name_parsed,
                        parent_id,
                        name.as_deref().unwrap_or(&dname),
                        opened.clock.now(),
                    )
                    .await?;
                println!("created domain {} (id {})", domain.name, domain.id);
            }
            DomainCommand::List => {
                for d in tree.all() {
                    let depth = tree.lineage(d.id).len() - 1;
                    println!(
                        "{}{}\t{}\t{}",
                        "  ".repeat(depth),
                        d.name,
                        d.title,
                        d.endpoint_path()
                    );
                }
            }
            DomainCommand::Set { dname, key, value } => {
                let domain = tree.require(&dname)?;
                // Refuse what would not load: unknown key, wrong type, invalid value.
                let changed = tree
                    .config(domain.id)
                    .with_setting(&key, &value)
                    .with_context(|| format!("domain {dname}"))?;
                // A rule set the validator could not run is refused before it is stored.
                if let Some(rules) = &changed.jobs.oai_output_validator.rules {
                    crate::validation::RuleSets::load(rules)
                        .with_context(|| format!("domain {dname}: {key}"))?;
                }
                store
                    .set_domain_setting(domain.id, &key, Some(&value))
                    .await?;
                println!("{dname}: {key} = {value}");
            }
            DomainCommand::Unset { dname, key } => {
                let domain = tree.require(&dname)?;
                let stored = store.domain_settings().await?;
                if !stored.iter().any(|(d, k, _)| *d == domain.id && *k == key) {
                    let set: Vec<&str> = stored
                        .iter()
                        .filter(|(d, _, _)| *d == domain.id)
                        .map(|(_, k, _)| k.as_str())
                        .collect();
                    println!(
                        "{dname}: {key} is not set with `vitrine domain set`; nothing changed \
                         (set that way: {})",
                        if set.is_empty() {
                            "nothing".to_string()
                        } else {
                            set.join(", ")
                        }
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                store.set_domain_setting(domain.id, &key, None).await?;
                println!("{dname}: {key} removed; the configuration file's value applies");
            }
            DomainCommand::Show { dname } => {
                let domain = tree.require(&dname)?;
                let parent = domain
                    .parent_id
                    .and_then(|p| tree.by_id(p))
                    .map_or("(root)".to_string(), |p| p.name.to_string());
                println!("# domain {dname}: {} (parent {parent})", domain.title);
                println!(
                    "# endpoint {}, repository identifier {}",
                    domain.endpoint_path(),
                    tree.repository_identifier(domain.id)
                );
                let stored = store.domain_settings().await?;
                let rows =
                    super::settings::rows(&tree, domain, context.config_path.as_deref(), &stored);
                let width = rows.iter().map(|r| r.key.len()).max().unwrap_or(0);
                let value_width = rows
                    .iter()
                    .map(|r| r.value.chars().count())
                    .max()
                    .unwrap_or(0)
                    .min(48);
                println!("{:<width$}  {:<value_width$}  source", "setting", "value");
                for row in rows {
                    println!(
                        "{:<width$}  {:<value_width$}  {}",
                        row.key, row.value, row.source
                    );
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
