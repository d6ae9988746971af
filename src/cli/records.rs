//! `vitrine release|withdraw|delete`: changing the state of stored records.

use super::{Context, Run};
use crate::store::StateChange;
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

/// Applies `change` to each record, reporting one line per record; exit 1 if any failed.
async fn change(
    context: Context,
    args: RecordArgs,
    change: StateChange,
) -> anyhow::Result<ExitCode> {
    let opened = context.open().await?;
    let tree = opened.tree().await?;
    let domain = tree.require(&args.domain)?;
    let now = chrono::Utc::now().timestamp();
    let mut failed = false;
    for id in &args.local_ids {
        match opened.store.change_state(domain.id, id, change, now).await {
            Ok(true) => println!("{id}: done"),
            Ok(false) => println!("{id}: unchanged (already so)"),
            Err(e) => {
                eprintln!("{id}: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
