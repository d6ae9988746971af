//! `vitrine completions SHELL` and `vitrine man`: shell completions and the manual page,
//! generated from the command definitions, so they never disagree with `--help`.

use super::{Cli, Context, Run};
use clap::CommandFactory;
use std::io::Write;
use std::process::ExitCode;

/// `vitrine completions`.
#[derive(clap::Args)]
pub struct Completions {
    /// The shell, e.g. `vitrine completions bash > /etc/bash_completion.d/vitrine`.
    shell: clap_complete::Shell,
}

#[async_trait::async_trait(?Send)]
impl Run for Completions {
    async fn run(self, _: Context) -> anyhow::Result<ExitCode> {
        let mut out = std::io::stdout().lock();
        clap_complete::generate(self.shell, &mut Cli::command(), "vitrine", &mut out);
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `vitrine man`.
#[derive(clap::Args)]
pub struct Man {}

#[async_trait::async_trait(?Send)]
impl Run for Man {
    async fn run(self, _: Context) -> anyhow::Result<ExitCode> {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command()).render(&mut page)?;
        let mut out = std::io::stdout().lock();
        out.write_all(&page)?;
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}
