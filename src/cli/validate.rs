//! `vitrine validate`: METS files against the ZVDD rules or other ISO Schematron files,
//! usable as a Goobi script step. It works offline: no database.

use super::exit::{NEEDS_A_PERSON, TRANSIENT};
use super::{Context, Run};
use crate::schematron::{output, CompileOptions, Report, Schema, Verdict};
use crate::validation::text;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `vitrine validate`.
#[derive(clap::Args)]
#[command(
    after_help = "Output: findings on stderr (Goobi's journal), one verdict line per file \
on stdout (and on stderr too unless both are the same terminal).

Exit codes (Goobi script-step conventions):
  0   every file is valid or valid_warn
  1   a file is invalid, unreadable or not METS: a person has to look
  2   usage error (unknown option, rules that do not compile)
  98  a transient failure (storage full writing --out): run the step again later"
)]
pub struct Validate {
    /// ISO Schematron file(s) to use instead of the bundled ZVDD rules; `zvdd` names the
    /// bundled rules, so that `--rules zvdd --rules FILE` validates as a domain with
    /// `rules = ["zvdd", "FILE"]` does (findings of every set; invalid when any set
    /// reports an error).
    #[arg(long = "rules")]
    rules: Vec<PathBuf>,
    /// Phase to run (default: the schema's default phase).
    #[arg(long)]
    phase: Option<String>,
    /// JSON output, one object per file and line (unreadable files: {"file", "error"}).
    #[arg(long, conflicts_with = "svrl")]
    json: bool,
    /// SVRL output; several files are wrapped in one vitrine:validation document.
    #[arg(long)]
    svrl: bool,
    /// Write one SVRL file per input into this folder (NAME.svrl) instead of stdout.
    #[arg(long, requires = "svrl", value_name = "DIR")]
    out: Option<PathBuf>,
    /// METS files (or OAI-PMH GetRecord responses holding METS).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Exit code on usage errors.
const USAGE: u8 = 2;
/// The namespace of the document wrapping the SVRL of several files.
const WRAPPER_NS: &str = "urn:vitrine:validation:1";

/// The outcome of one file.
enum Outcome {
    Report(Box<Report>),
    Unusable(String),
}

#[async_trait::async_trait(?Send)]
impl Run for Validate {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        if context.database.is_some() {
            eprintln!("error: validate works offline; --database does not apply to it");
            return Ok(ExitCode::from(USAGE));
        }
        let Some(schemas) = self.schemas() else {
            return Ok(ExitCode::from(USAGE));
        };
        if let Some(dir) = &self.out {
            std::fs::create_dir_all(dir)?;
        }
        let wrap = self.svrl && self.out.is_none() && self.files.len() > 1;
        // On one terminal a verdict on stderr would repeat the one on stdout.
        let verdict_to_stderr =
            !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal());
        let mut out = std::io::stdout().lock();
        if wrap {
            writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
            writeln!(out, r#"<vitrine:validation xmlns:vitrine="{WRAPPER_NS}">"#)?;
        }
        let (mut any_invalid, mut unusable, mut storage_full) = (false, false, false);
        for file in &self.files {
            let name = file.display().to_string();
            let limit = crate::xml::ParseLimits::default().max_bytes;
            let outcome = match crate::ingest::read_document(file, limit) {
                Err(reason) => Outcome::Unusable(reason),
                Ok(bytes) => {
                    match crate::validation::validate(&bytes, &schemas, Default::default()) {
                        Ok(report) => Outcome::Report(Box::new(report)),
                        Err(e) => Outcome::Unusable(e.to_string()),
                    }
                }
            };
            let report = match outcome {
                Outcome::Unusable(reason) => {
                    unusable = true;
                    eprintln!("{name}: {reason}");
                    if self.json {
                        writeln!(
                            out,
                            "{}",
                            serde_json::json!({"file": name, "error": reason})
                        )?;
                    } else if wrap {
                        writeln!(out, "{}", wrapper_element(&name, None, Some(&reason))?)?;
                    }
                    continue;
                }
                Outcome::Report(report) => report,
            };
            any_invalid |= report.verdict() == Verdict::Invalid;
            let verdict = text::verdict_line(&name, &report);
            if self.json {
                writeln!(out, "{}", output::to_json(&name, &report))?;
            } else if let Some(dir) = &self.out {
                let target = dir.join(format!("{}.svrl", file_name(file)));
                if let Err(e) = std::fs::write(&target, output::to_svrl(&report)) {
                    eprintln!("{}: cannot write: {e}", target.display());
                    storage_full |= e.kind() == std::io::ErrorKind::StorageFull;
                    unusable = true;
                }
                writeln!(out, "{verdict}")?;
            } else if wrap {
                let svrl = output::to_svrl(&report);
                writeln!(out, "{}", wrapper_element(&name, Some(&svrl), None)?)?;
            } else if self.svrl {
                writeln!(out, "{}", output::to_svrl(&report))?;
            } else {
                let mut findings = Vec::new();
                text::write_findings(&mut findings, &name, &report)?;
                std::io::stderr().write_all(&findings)?;
                writeln!(out, "{verdict}")?;
                out.flush()?;
                if verdict_to_stderr {
                    eprintln!("{verdict}");
                }
            }
        }
        if wrap {
            writeln!(out, "</vitrine:validation>")?;
        }
        out.flush()?;
        Ok(if storage_full {
            ExitCode::from(TRANSIENT)
        } else if unusable || any_invalid {
            ExitCode::from(NEEDS_A_PERSON)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// `<vitrine:file name="…">SVRL</vitrine:file>`, or with `error="…"` for a file that
/// could not be validated.
fn wrapper_element(name: &str, svrl: Option<&str>, error: Option<&str>) -> std::io::Result<String> {
    let mut w = quick_xml::Writer::new(Vec::new());
    let mut element = w
        .create_element("vitrine:file")
        .with_attribute(("name", name));
    if let Some(error) = error {
        element = element.with_attribute(("error", error));
    }
    match svrl {
        Some(svrl) => {
            element.write_inner_content(|w| {
                w.get_mut().extend_from_slice(b"\n");
                w.get_mut().extend_from_slice(svrl.trim().as_bytes());
                w.get_mut().extend_from_slice(b"\n");
                Ok::<_, std::io::Error>(())
            })?;
        }
        None => {
            element.write_empty()?;
        }
    }
    Ok(String::from_utf8_lossy(&w.into_inner()).into_owned())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "input".to_string(), |n| n.to_string_lossy().into_owned())
}

impl Validate {
    /// The schemas to run, or `None` after printing why they cannot be compiled.
    fn schemas(&self) -> Option<Vec<Schema>> {
        let options = CompileOptions {
            phase: self.phase.clone(),
            ..CompileOptions::default()
        };
        let bundled = || {
            let compiled = match self.phase {
                None => crate::validation::zvdd().cloned(),
                Some(_) => Schema::compile(crate::validation::ZVDD_RULES.as_bytes(), &options),
            };
            compiled
                .map_err(|e| eprintln!("error: the ZVDD rules do not compile: {e}"))
                .ok()
        };
        if self.rules.is_empty() {
            return bundled().map(|schema| vec![schema]);
        }
        let mut out = Vec::new();
        for path in &self.rules {
            if path.as_os_str() == crate::domain::DEFAULT_RULE_SET {
                out.push(bundled()?);
                continue;
            }
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
