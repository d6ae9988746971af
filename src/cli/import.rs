//! `vitrine import`: METS files or folders of them into a domain.

use super::{Context, Run};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// `vitrine import`.
#[derive(clap::Args)]
pub struct Import {
    /// Target domain.
    #[arg(long)]
    domain: String,
    /// Release the imported records (make them public).
    #[arg(long)]
    release: bool,
    /// Files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[async_trait::async_trait(?Send)]
impl Run for Import {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        let opened = context.open().await?;
        let tree = Arc::new(opened.tree().await?);
        let target = tree.require(&self.domain)?.clone();
        let files = crate::ingest::collect_files(&self.paths).map_err(anyhow::Error::msg)?;
        let limits = crate::xml::ParseLimits {
            max_bytes: opened.config.ingest.max_document_bytes,
        };
        let started = std::time::Instant::now();
        let report = crate::ingest::import(
            opened.store.clone(),
            tree,
            &target,
            files,
            self.release,
            limits,
            std::io::stderr().is_terminal(),
        )
        .await;
        for (file, reason) in &report.failed {
            eprintln!("{}: {reason}", file.display());
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{} files: {} created, {} replaced, {} unchanged, {} failed ({:.1} s, {:.0} records/s)",
            report.total(),
            report.created,
            report.replaced,
            report.unchanged,
            report.failed.len(),
            seconds,
            report.total() as f64 / seconds.max(1e-9)
        );
        Ok(if report.failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}
