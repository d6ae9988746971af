//! `vitrine print-config`: the annotated default configuration.

use super::{Context, Run};
use crate::config::EXAMPLE;
use std::process::ExitCode;

/// `vitrine print-config`.
#[derive(clap::Args)]
pub struct PrintConfig {}

#[async_trait::async_trait(?Send)]
impl Run for PrintConfig {
    async fn run(self, _: Context) -> anyhow::Result<ExitCode> {
        print!("{EXAMPLE}");
        Ok(ExitCode::SUCCESS)
    }
}
