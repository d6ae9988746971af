//! `vitrine validate`: METS files against the ZVDD rules or other ISO Schematron files,
//! usable as a Goobi script step.

use super::{Context, Run};
use crate::schematron::{output, CompileOptions, Schema, Verdict};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `vitrine validate`.
#[derive(clap::Args)]
pub struct Validate {
    /// ISO Schematron file(s) to use instead of the bundled ZVDD rules.
    #[arg(long = "rules")]
    rules: Vec<PathBuf>,
    /// Phase to run (default: the schema's default phase).
    #[arg(long)]
    phase: Option<String>,
    /// JSON output, one object per line.
    #[arg(long, conflicts_with = "svrl")]
    json: bool,
    /// SVRL output.
    #[arg(long)]
    svrl: bool,
    /// METS files (or OAI-PMH GetRecord responses holding METS).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Exit code when a file is invalid.
const INVALID: u8 = 1;
/// Exit code on usage errors or unreadable input.
const UNUSABLE: u8 = 2;

#[async_trait::async_trait(?Send)]
impl Run for Validate {
    /// Exit 0 (all valid or valid_warn), 1 (any invalid), 2 (usage or input).
    async fn run(self, _: Context) -> anyhow::Result<ExitCode> {
        let Some(schemas) = self.schemas() else {
            return Ok(ExitCode::from(UNUSABLE));
        };
        let mut any_invalid = false;
        let mut unreadable = false;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for file in &self.files {
            let name = file.display().to_string();
            let bytes = match std::fs::read(file) {
                Ok(bytes) => bytes,
                Err(e) => {
                    eprintln!("{name}: cannot read: {e}");
                    unreadable = true;
                    continue;
                }
            };
            let report = match crate::validation::validate(&bytes, &schemas, Default::default()) {
                Ok(report) => report,
                Err(e) => {
                    eprintln!("{name}: {e}");
                    unreadable = true;
                    continue;
                }
            };
            any_invalid |= report.verdict() == Verdict::Invalid;
            let written = if self.json {
                writeln!(out, "{}", output::to_json(&name, &report))
            } else if self.svrl {
                writeln!(out, "{}", output::to_svrl(&report))
            } else {
                // Findings go to stderr (Goobi's journal), the verdict line to both.
                let mut text = Vec::new();
                let _ = output::write_text(&mut text, &name, &report);
                let text = String::from_utf8_lossy(&text);
                eprint!("{text}");
                writeln!(out, "{}", text.lines().last().unwrap_or_default())
            };
            if written.is_err() {
                return Ok(ExitCode::from(UNUSABLE));
            }
        }
        Ok(if unreadable {
            ExitCode::from(UNUSABLE)
        } else if any_invalid {
            ExitCode::from(INVALID)
        } else {
            ExitCode::SUCCESS
        })
    }
}

impl Validate {
    /// The schemas to run, or `None` after printing why they cannot be compiled.
    fn schemas(&self) -> Option<Vec<Schema>> {
        let options = CompileOptions {
            phase: self.phase.clone(),
            ..CompileOptions::default()
        };
        if self.rules.is_empty() {
            let compiled = match self.phase {
                None => crate::validation::zvdd().cloned(),
                Some(_) => Schema::compile(crate::validation::ZVDD_RULES.as_bytes(), &options),
            };
            return match compiled {
                Ok(schema) => Some(vec![schema]),
                Err(e) => {
                    eprintln!("error: the ZVDD rules do not compile: {e}");
                    None
                }
            };
        }
        let mut out = Vec::new();
        for path in &self.rules {
            match Schema::compile_file(path, &options) {
                Ok(schema) => out.push(schema),
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return None;
                }
            }
        }
        Some(out)
    }
}
