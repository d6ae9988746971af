//! `vitrine release|withdraw|delete`: changing the state of stored records.

use super::{Context, Run};
use crate::domain::DomainTree;
use crate::store::{StateChange, Store};
use std::process::ExitCode;

/// The records a state change applies to.
#[derive(clap::Args)]
pub struct RecordArgs {
    /// Domain of the records.
    #[arg(long)]
    domain: String,
    /// Local ids.
    #[arg(required = true)]
    local_ids: Vec<String>,
}

/// `vitrine release`.
#[derive(clap::Args)]
pub struct Release {
    #[command(flatten)]
    records: RecordArgs,
}

/// `vitrine withdraw`.
#[derive(clap::Args)]
pub struct Withdraw {
    #[command(flatten)]
    records: RecordArgs,
}

/// `vitrine delete`.
#[derive(clap::Args)]
pub struct Delete {
    #[command(flatten)]
    records: RecordArgs,
}

#[async_trait::async_trait(?Send)]
impl Run for Release {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        change(context, self.records, StateChange::Release).await
    }
}

#[async_trait::async_trait(?Send)]
impl Run for Withdraw {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        change(context, self.records, StateChange::Withdraw).await
    }
}

#[async_trait::async_trait(?Send)]
impl Run for Delete {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        change(context, self.records, StateChange::Delete).await
    }
}

/// Applies `change` to each record, saying per record what changed (`released X (was
/// unreleased)`), or why nothing did; exit 1 if any record was not found or failed.
async fn change(
    context: Context,
    args: RecordArgs,
    change: StateChange,
) -> anyhow::Result<ExitCode> {
    let opened = context.open().await?;
    let tree = opened.tree().await?;
    let store = opened.store.as_ref();
    let domain = tree.require(&args.domain)?;
    let now = opened.clock.now();
    let (verb, state) = match change {
        StateChange::Release => ("released", "released"),
        StateChange::Withdraw => ("withdrew", "unreleased"),
        StateChange::Delete => ("deleted", "deleted"),
    };
    let mut failed = false;
    for id in &args.local_ids {
        let Some(before) = store.record_status(domain.id, id).await? else {
            eprintln!("{}", not_found(store, &tree, &args.domain, id).await?);
            failed = true;
            continue;
        };
        let was = if before.deleted {
            "deleted"
        } else if before.released {
            "released"
        } else {
            "unreleased"
        };
        match store.change_state(domain.id, id, change, now).await {
            Ok(true) => println!("{verb} {id} (was {was})"),
            Ok(false) => println!("{id}: already {state}, nothing changed"),
            Err(e) => {
                eprintln!("{id}: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(super::exit::NEEDS_A_PERSON)
    } else {
        ExitCode::SUCCESS
    })
}

/// Why `local_id` is not in domain `dname`: nowhere, or in which other domains.
pub(super) async fn not_found(
    store: &dyn Store,
    tree: &DomainTree,
    dname: &str,
    local_id: &str,
) -> anyhow::Result<String> {
    let elsewhere: Vec<String> = store
        .domains_with_local_id(local_id)
        .await?
        .into_iter()
        .filter_map(|id| tree.by_id(id).map(|d| d.name.to_string()))
        .filter(|name| name != dname)
        .collect();
    Ok(if elsewhere.is_empty() {
        format!("{local_id}: no such record in domain {dname}")
    } else {
        format!(
            "{local_id}: not in domain {dname}; it is a record of domain {} (use --domain {})",
            elsewhere.join(", "),
            elsewhere[0]
        )
    })
}
