//! `vitrine import`: METS files or folders of them into a domain, following Goobi's
//! script-step conventions for the exit code.

use super::exit::{INTERRUPTED, NEEDS_A_PERSON, TRANSIENT};
use super::{Context, Run};
use crate::ingest::ImportOptions;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// `vitrine import`.
#[derive(clap::Args)]
#[command(after_help = "Exit codes (Goobi script-step conventions):
  0   every file was imported (or was unchanged)
  1   a file was refused (not METS, no local id, the same local id as another file of
      this import, …) or the domain does not exist: a person has to look
  98  a transient failure (database unreachable or locked, storage full): run the
      step again later
  130 interrupted (Ctrl-C); the files committed until then stay")]
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
        let opened = context.open_or_create().await?;
        let tree = Arc::new(opened.tree().await?);
        let target = tree.require(&self.domain)?.clone();
        let files = crate::ingest::collect_files(&self.paths).map_err(anyhow::Error::msg)?;
        let options = ImportOptions {
            release: self.release,
            limits: crate::xml::ParseLimits::with_max_bytes(
                opened.config.ingest.max_document_bytes,
            ),
            show_progress: std::io::stderr().is_terminal(),
            clock: opened.clock.clone(),
        };
        let started = std::time::Instant::now();
        let stop = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let report =
            crate::ingest::import_until(opened.store.clone(), tree, &target, files, options, stop)
                .await;
        for (file, reason) in &report.failed {
            eprintln!("{}: {reason}", file.display());
        }
        if let Some(stopped) = &report.stopped {
            eprintln!("import stopped: storage failure: {}", stopped.cause);
            eprintln!(
                "{} not imported because of it:",
                crate::validation::text::count(stopped.not_imported.len(), "file")
            );
            for file in &stopped.not_imported {
                eprintln!("  {}", file.display());
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{} files: {} created, {} replaced, {} unchanged, {} failed, {} not imported ({:.1} s, {:.0} records/s)",
            report.total(),
            report.created,
            report.replaced,
            report.unchanged,
            report.failed.len(),
            report.stopped.as_ref().map_or(0, |s| s.not_imported.len()),
            seconds,
            report.total() as f64 / seconds.max(1e-9)
        );
        if report.interrupted {
            eprintln!(
                "interrupted after {} of {} files, {} committed",
                report.total(),
                report.files,
                report.committed()
            );
            return Ok(ExitCode::from(INTERRUPTED));
        }
        if let Some(stopped) = &report.stopped {
            return Ok(ExitCode::from(if stopped.transient {
                TRANSIENT
            } else {
                NEEDS_A_PERSON
            }));
        }
        Ok(if report.transient > 0 {
            eprintln!(
                "{} could not be stored for a transient reason; run the import again later",
                crate::validation::text::count(report.transient, "file")
            );
            ExitCode::from(TRANSIENT)
        } else if report.failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(NEEDS_A_PERSON)
        })
    }
}
