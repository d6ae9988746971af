//! `vitrine job …`: running the OAI output validator now and reading past runs.

use super::{Context, Run};
use crate::domain::{Datestamp, JobStatus, ValidationState};
use crate::jobs::oai_output_validator::{self as validator, JobReport};
use anyhow::Context as _;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

/// `vitrine job`.
#[derive(clap::Args)]
pub struct JobArgs {
    #[command(subcommand)]
    command: JobCommand,
}

#[async_trait::async_trait(?Send)]
impl Run for JobArgs {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        let opened = context.open().await?;
        let store = opened.store.clone();
        match self.command {
            JobCommand::Run {
                domain,
                full,
                batch_size,
                ..
            } => {
                let tree = Arc::new(opened.tree().await?);
                let bar = crate::progress::records_bar(0, std::io::stderr().is_terminal());
                let options = validator::Options {
                    full,
                    batch_size,
                    ..validator::Options::new(&domain, "cli", opened.clock.clone())
                };
                let progress = |done: u64, total: u64| {
                    bar.set_length(total);
                    bar.set_position(done);
                };
                let outcome =
                    validator::run(store, tree, &opened.config, &options, &progress).await;
                bar.finish_and_clear();
                let report = outcome?;
                print_report(&report);
                if !report.errors.is_empty() {
                    for e in &report.errors {
                        eprintln!("{e}");
                    }
                    return Ok(ExitCode::from(1));
                }
            }
            JobCommand::List { domain } => {
                let tree = opened.tree().await?;
                let domain_id = match domain {
                    Some(d) => Some(tree.require(&d)?.id),
                    None => None,
                };
                println!("id\tjob\tmode\tdomain\tstatus\tstarted\tvalidated\tstarted by");
                for run in store.job_runs(domain_id).await? {
                    let name = tree
                        .by_id(run.domain_id)
                        .map_or("?".to_string(), |d| d.name.to_string());
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        run.id,
                        run.job,
                        run.mode,
                        name,
                        run.status,
                        Datestamp::from_seconds(run.started_at),
                        run.validated,
                        run.started_by
                    );
                }
            }
            JobCommand::Show { id } => {
                let run = store
                    .job_run(id)
                    .await?
                    .with_context(|| format!("no job run {id}"))?;
                println!(
                    "run {} of {} (mode {}), {}",
                    run.id, run.job, run.mode, run.status
                );
                println!(
                    "started {} by {}",
                    Datestamp::from_seconds(run.started_at),
                    run.started_by
                );
                if let Some(end) = run.finished_at {
                    let what = if run.status == JobStatus::Killed {
                        "found dead"
                    } else {
                        "finished"
                    };
                    println!("{what} {}", Datestamp::from_seconds(end));
                }
                println!("validated {} records (phase {})", run.validated, run.phase);
                for i in store.job_run_instances(run.id).await? {
                    println!(
                        "  {} {}: {} validated, {} changed meanwhile{}",
                        i.role,
                        i.instance,
                        i.validated,
                        i.changed_meanwhile,
                        if i.finished_at.is_some() {
                            ""
                        } else {
                            " (did not finish)"
                        }
                    );
                }
                let examples = store.job_run_examples(run.id, EXAMPLES_PER_RULE).await?;
                match serde_json::from_str::<JobReport>(&run.report) {
                    Ok(report) => {
                        print_report(&report);
                        print_examples(&examples);
                    }
                    Err(_) => println!("{}", run.report),
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(clap::Subcommand)]
enum JobCommand {
    /// Run a job now. Exit code 1 when the run failed.
    Run {
        /// The job: oai-output-validator.
        #[arg(value_parser = ["oai-output-validator"])]
        job: String,
        /// Mode: zmets (validate exactly the zmets harvesters receive).
        #[arg(long, default_value = "zmets", value_parser = ["zmets"])]
        mode: String,
        /// Domain to start on (covers its sub-domains with zmets switched on).
        #[arg(long)]
        domain: String,
        /// Revalidate every record in scope, not only what changed.
        #[arg(long)]
        full: bool,
        /// Records per batch (one transaction each; on PostgreSQL the unit of work
        /// shared between instances).
        #[arg(long, default_value_t = validator::BATCH)]
        batch_size: usize,
    },
    /// List job runs, newest first.
    List {
        /// Only runs started on this domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Show one job run.
    Show {
        /// Run id.
        id: i64,
    },
}

/// Example records `job show` names per rule.
const EXAMPLES_PER_RULE: usize = 3;

/// Prints, per rule, a few of the records the run found it in (`vitrine record show`
/// tells the rest).
fn print_examples(examples: &std::collections::BTreeMap<String, Vec<String>>) {
    if examples.is_empty() {
        return;
    }
    println!(
        "records per rule (first {EXAMPLES_PER_RULE}; `vitrine record list --rule RULE` lists all)"
    );
    for (rule, ids) in examples {
        println!("{rule:<33} {}", ids.join(", "));
    }
}

/// Prints a run's report: counts before and after, timings, instances and rules.
fn print_report(report: &JobReport) {
    if report.joined() {
        if report.run_id == 0 {
            println!(
                "{} was running on {}; it ended before this instance could join it",
                validator::JOB,
                report.domain
            );
        } else {
            println!(
                "joined run {} on {} as worker {}: validated {} records in {:.1} s \
                 ({:.0} records/s); {} changed meanwhile",
                report.run_id,
                report.domain,
                report.instance,
                report.validated,
                report.seconds,
                report.records_per_second,
                report.changed_meanwhile
            );
        }
        return;
    }
    println!(
        "run {}: domain {} (scope: {}), {} run",
        report.run_id,
        report.domain,
        report.scope.join(", "),
        if report.full { "full" } else { "incremental" }
    );
    for id in &report.killed_runs {
        println!("run {id} was found dead and is marked killed");
    }
    if report.stale > 0 {
        println!(
            "{} validated with other rule sets before: validated again",
            crate::validation::text::count(report.stale as usize, "record")
        );
    }
    println!("state        before    after");
    for state in ValidationState::ALL.iter().map(|s| s.as_str()) {
        println!(
            "{state:<12} {:>6} {:>8}",
            report.before.get(state).copied().unwrap_or(0),
            report.after.get(state).copied().unwrap_or(0)
        );
    }
    println!(
        "validated {} records in {:.1} s ({:.0} records/s); {} changed meanwhile",
        report.validated, report.seconds, report.records_per_second, report.changed_meanwhile
    );
    println!(
        "time: validating {:.1} s, database only {:.1} s ({:.0} %); claims {:.1} s and \
         stores {:.1} s, mostly during validation",
        report.validate_seconds,
        report.database_only_seconds(),
        100.0 * report.database_only_seconds() / report.seconds.max(1e-9),
        report.load_seconds,
        report.save_seconds
    );
    if report.instances.len() > 1 {
        for i in &report.instances {
            println!(
                "  {} {}: {} validated{}",
                i.role,
                i.instance,
                i.validated,
                if i.finished { "" } else { " (did not finish)" }
            );
        }
    }
    if !report.rules.is_empty() {
        println!("rule                              class  found  repaired");
        for (rule, stats) in &report.rules {
            println!(
                "{rule:<33} {:<6} {:>5}  [{}/{}]",
                stats.class, stats.occurrences, stats.repaired, stats.occurrences
            );
        }
    }
}
