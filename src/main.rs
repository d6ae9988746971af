//! The `vitrine` command: parses the command line and dispatches.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vitrine::config::{Config, EXAMPLE};
use vitrine::domain::DomainName;
use vitrine::startup::Application;
use vitrine::store::{self, StateChange, Store};

/// vitrine: OAI-PMH 2.0 data provider for digitised collections with ZVDD METS/MODS validation.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (TOML); see `vitrine print-config`.
    #[arg(long, global = true, env = "VITRINE_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the OAI-PMH endpoints.
    Serve {
        /// Address to listen on (default from the configuration, 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Start a demo: fresh SQLite database, bundled sample collection, prints the URLs.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
    },
    /// Manage domains.
    Domain {
        #[command(subcommand)]
        command: DomainCommand,
    },
    /// Import METS files or folders of them into a domain.
    Import {
        /// Target domain.
        #[arg(long)]
        domain: String,
        /// Release the imported records (make them public).
        #[arg(long)]
        release: bool,
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Release records (make them public).
    Release(StateArgs),
    /// Withdraw records (no longer public; harvesters see them as deleted).
    Withdraw(StateArgs),
    /// Delete records (tombstones; harvesters see them as deleted).
    Delete(StateArgs),
    /// Validate METS files against the ZVDD rules (or other ISO Schematron files).
    ///
    /// Exit code 0 when every file is valid or valid_warn, 1 when any is invalid, 2 on
    /// usage errors or unreadable input — usable as a Goobi script step.
    Validate {
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
    },
    /// Run and inspect jobs.
    Job {
        #[command(subcommand)]
        command: JobCommand,
    },
    /// Print the annotated default configuration.
    PrintConfig,
}

#[derive(Subcommand)]
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
        #[arg(long, default_value_t = vitrine::jobs::oai_output_validator::BATCH)]
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

#[derive(Subcommand)]
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

#[derive(clap::Args)]
struct StateArgs {
    /// Domain of the records.
    #[arg(long)]
    domain: String,
    /// Local ids.
    #[arg(required = true)]
    local_ids: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VITRINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Command::Validate {
        rules,
        phase,
        json,
        svrl,
        files,
    } = &cli.command
    {
        return validate(rules, phase.as_deref(), *json, *svrl, files);
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn open(cli_db: Option<&str>, config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = cli_db.unwrap_or(&config.database.url);
    Ok(Arc::new(
        store::open(url, config.database.max_connections).await?,
    ))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::PrintConfig = cli.command {
        print!("{EXAMPLE}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = Config::load(cli.config.as_deref())?;
    if let Command::Demo { bind } = &cli.command {
        if cli.config.is_none() {
            let table: toml::Table = vitrine::demo::DEMO_CONFIG.parse()?;
            config.domains = toml::Value::Table(table).try_into::<Config>()?.domains;
        }
        let dir = std::env::temp_dir().join(format!("vitrine-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let url = cli
            .database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/demo.db", dir.display()));
        let config = Arc::new(config);
        let store = open(Some(&url), &config).await?;
        if !store.domains().await?.is_empty() {
            bail!("the demo needs an empty database; {url} has domains already");
        }
        for line in vitrine::demo::seed(
            store.clone(),
            config.clone(),
            &vitrine::demo::fixtures_dir(),
        )
        .await?
        {
            println!("{line}");
        }
        let app = Application::build(config, store, bind).await?;
        let base = format!(
            "http://{}:{}",
            bind.rsplit_once(':').map_or("127.0.0.1", |b| b.0),
            app.port()
        );
        println!("\nvitrine demo is running (database {url})");
        println!("  start page        {base}/");
        println!("  OAI-PMH (root)    {base}/oai?verb=Identify");
        println!("  OAI-PMH (zd)      {base}/zd/oai?verb=Identify");
        println!("  all records       {base}/oai?verb=ListRecords&metadataPrefix=oai_dc");
        println!("  newspaper set     {base}/oai?verb=ListIdentifiers&metadataPrefix=mets&set=zd");
        println!("Stop with Ctrl-C.");
        app.run_until_stopped().await?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = Arc::new(config);
    let store = open(cli.database.as_deref(), &config).await?;
    match cli.command {
        Command::Serve { bind } => {
            let bind = bind.unwrap_or_else(|| config.server.bind.clone());
            let _schedule = vitrine::jobs::schedule::start(store.clone(), config.clone()).await?;
            let app = Application::build(config, store, &bind).await?;
            let host = bind.rsplit_once(':').map_or("127.0.0.1", |b| b.0);
            // The one line on stdout: scripts starting `serve --bind 127.0.0.1:0` read the port here.
            println!("listening on http://{host}:{}", app.port());
            app.run_until_stopped().await?;
        }
        Command::Domain {
            command:
                DomainCommand::Add {
                    dname,
                    parent,
                    name,
                },
        } => {
            let name_parsed = DomainName::parse(&dname)?;
            let parent_id = match parent {
                None => None,
                Some(p) => Some(
                    store
                        .domains()
                        .await?
                        .into_iter()
                        .find(|d| d.name.as_str() == p)
                        .with_context(|| format!("no domain {p}"))?
                        .id,
                ),
            };
            let domain = store
                .add_domain(&name_parsed, parent_id, name.as_deref().unwrap_or(&dname))
                .await?;
            println!("created domain {} (id {})", domain.name, domain.id);
        }
        Command::Domain {
            command: DomainCommand::List,
        } => {
            let tree = vitrine::store::load_tree(store.as_ref(), config.clone()).await?;
            for d in tree.all() {
                let depth = tree.lineage(d.id).len() - 1;
                let endpoint = if d.parent_id.is_none() {
                    "/oai".to_string()
                } else {
                    format!("/{}/oai", d.name)
                };
                println!(
                    "{}{}\t{}\t{}",
                    "  ".repeat(depth),
                    d.name,
                    d.title,
                    endpoint
                );
            }
        }
        Command::Domain {
            command: DomainCommand::Set { dname, key, value },
        } => {
            let tree = vitrine::store::load_tree(store.as_ref(), config.clone()).await?;
            let domain = tree
                .by_name(&dname)
                .with_context(|| format!("no domain {dname}"))?;
            // Refuse what would not load: unknown key, wrong type, invalid value.
            tree.config(domain.id)
                .with_setting(&key, &value)
                .with_context(|| format!("domain {dname}"))?;
            store
                .set_domain_setting(domain.id, &key, Some(&value))
                .await?;
            println!("{dname}: {key} = {value}");
        }
        Command::Domain {
            command: DomainCommand::Unset { dname, key },
        } => {
            let tree = vitrine::store::load_tree(store.as_ref(), config.clone()).await?;
            let domain = tree
                .by_name(&dname)
                .with_context(|| format!("no domain {dname}"))?;
            store.set_domain_setting(domain.id, &key, None).await?;
            println!("{dname}: {key} removed; the configuration file's value applies");
        }
        Command::Domain {
            command: DomainCommand::Show { dname },
        } => {
            let tree = vitrine::store::load_tree(store.as_ref(), config.clone()).await?;
            let domain = tree
                .by_name(&dname)
                .with_context(|| format!("no domain {dname}"))?;
            let parent = domain
                .parent_id
                .and_then(|p| tree.by_id(p))
                .map_or("(root)".to_string(), |p| p.name.to_string());
            println!("# domain {dname}: {} (parent {parent})", domain.title);
            let endpoint = if domain.parent_id.is_none() {
                "/oai".to_string()
            } else {
                format!("/{dname}/oai")
            };
            println!(
                "# endpoint {endpoint}, repository identifier {}",
                tree.repository_identifier(domain.id)
            );
            for (_, key, value) in store
                .domain_settings()
                .await?
                .iter()
                .filter(|(d, _, _)| *d == domain.id)
            {
                println!("# set on the command line: {key} = {value}");
            }
            let mut table = toml::Table::new();
            table.insert(
                dname.clone(),
                toml::Value::try_from(tree.config(domain.id))?,
            );
            let mut outer = toml::Table::new();
            outer.insert("domains".into(), toml::Value::Table(table));
            print!("{}", toml::to_string_pretty(&outer)?);
        }
        Command::Job {
            command:
                JobCommand::Run {
                    domain,
                    full,
                    batch_size,
                    ..
                },
        } => {
            let tree = Arc::new(vitrine::store::load_tree(store.as_ref(), config.clone()).await?);
            let bar = indicatif::ProgressBar::new(0);
            if std::io::stderr().is_terminal() {
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} records {per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
            } else {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let options = vitrine::jobs::oai_output_validator::Options {
                full,
                batch_size,
                ..vitrine::jobs::oai_output_validator::Options::new(&domain, "cli")
            };
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let outcome = vitrine::jobs::oai_output_validator::run(
                store.clone(),
                tree,
                &config,
                &options,
                &progress,
            )
            .await;
            bar.finish_and_clear();
            let report = outcome?;
            print_job_report(&report);
            if !report.errors.is_empty() {
                for e in &report.errors {
                    eprintln!("{e}");
                }
                return Ok(ExitCode::from(1));
            }
        }
        Command::Job {
            command: JobCommand::List { domain },
        } => {
            let tree = vitrine::store::load_tree(store.as_ref(), config.clone()).await?;
            let domain_id = match domain {
                Some(d) => Some(
                    tree.by_name(&d)
                        .with_context(|| format!("no domain {d}"))?
                        .id,
                ),
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
                    vitrine::domain::Datestamp::from_seconds(run.started_at),
                    run.validated,
                    run.started_by
                );
            }
        }
        Command::Job {
            command: JobCommand::Show { id },
        } => {
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
                vitrine::domain::Datestamp::from_seconds(run.started_at),
                run.started_by
            );
            if let Some(end) = run.finished_at {
                let what = if run.status == "killed" {
                    "found dead"
                } else {
                    "finished"
                };
                println!("{what} {}", vitrine::domain::Datestamp::from_seconds(end));
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
            match serde_json::from_str::<vitrine::jobs::oai_output_validator::JobReport>(
                &run.report,
            ) {
                Ok(report) => print_job_report(&report),
                Err(_) => println!("{}", run.report),
            }
        }
        Command::Import {
            domain,
            release,
            paths,
        } => {
            let tree = Arc::new(vitrine::store::load_tree(store.as_ref(), config.clone()).await?);
            let target = tree
                .by_name(&domain)
                .with_context(|| {
                    format!("no domain {domain}; create it with `vitrine domain add`")
                })?
                .clone();
            let files = vitrine::ingest::collect_files(&paths).map_err(anyhow::Error::msg)?;
            let limits =
                vitrine::xml::ParseLimits::with_max_bytes(config.ingest.max_document_bytes);
            let started = std::time::Instant::now();
            let report = vitrine::ingest::import(
                store.clone(),
                tree,
                &target,
                files,
                release,
                limits,
                std::io::stderr().is_terminal(),
            )
            .await;
            for (file, reason) in &report.failed {
                eprintln!("{}: {reason}", file.display());
            }
            if let Some(stopped) = &report.stopped {
                eprintln!("import stopped: storage failure: {}", stopped.cause);
                eprintln!(
                    "{} files were not imported because of it:",
                    stopped.not_imported.len()
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
            if !report.failed.is_empty() || report.stopped.is_some() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Release(args) => return change(store.as_ref(), &args, StateChange::Release).await,
        Command::Withdraw(args) => {
            return change(store.as_ref(), &args, StateChange::Withdraw).await
        }
        Command::Delete(args) => return change(store.as_ref(), &args, StateChange::Delete).await,
        Command::Demo { .. } | Command::PrintConfig | Command::Validate { .. } => {
            unreachable!("handled above")
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn change(
    store: &dyn Store,
    args: &StateArgs,
    change: StateChange,
) -> anyhow::Result<ExitCode> {
    let domain = store
        .domains()
        .await?
        .into_iter()
        .find(|d| d.name.as_str() == args.domain)
        .with_context(|| format!("no domain {}", args.domain))?;
    let now = chrono::Utc::now().timestamp();
    let mut failed = false;
    for id in &args.local_ids {
        match store.change_state(domain.id, id, change, now).await {
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

/// `vitrine validate`: exit 0 (all valid or valid_warn), 1 (any invalid), 2 (usage or input).
fn validate(
    rules: &[PathBuf],
    phase: Option<&str>,
    json: bool,
    svrl: bool,
    files: &[PathBuf],
) -> ExitCode {
    use vitrine::schematron::{output, CompileOptions, Schema, Verdict};
    let options = CompileOptions {
        phase: phase.map(str::to_string),
        ..CompileOptions::default()
    };
    let schemas: Vec<Schema> = if rules.is_empty() {
        let compiled = match phase {
            None => vitrine::validation::zvdd().cloned(),
            Some(_) => Schema::compile(vitrine::validation::ZVDD_RULES.as_bytes(), &options),
        };
        match compiled {
            Ok(schema) => vec![schema],
            Err(e) => {
                eprintln!("error: the ZVDD rules do not compile: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        let mut out = Vec::new();
        for path in rules {
            match Schema::compile_file(path, &options) {
                Ok(schema) => out.push(schema),
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
        out
    };
    let mut any_invalid = false;
    let mut unreadable = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in files {
        let name = file.display().to_string();
        let limit = vitrine::xml::ParseLimits::default().max_bytes;
        let bytes = match vitrine::ingest::read_document(file, limit) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{name}: {e}");
                unreadable = true;
                continue;
            }
        };
        let report = match vitrine::validation::validate(&bytes, &schemas, Default::default()) {
            Ok(report) => report,
            Err(e) => {
                eprintln!("{name}: {e}");
                unreadable = true;
                continue;
            }
        };
        any_invalid |= report.verdict() == Verdict::Invalid;
        use std::io::Write;
        let written = if json {
            writeln!(out, "{}", output::to_json(&name, &report))
        } else if svrl {
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
            return ExitCode::from(2);
        }
    }
    if unreadable {
        ExitCode::from(2)
    } else if any_invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_job_report(report: &vitrine::jobs::oai_output_validator::JobReport) {
    if report.joined() {
        if report.run_id == 0 {
            println!(
                "{} was running on {}; it ended before this instance could join it",
                vitrine::jobs::oai_output_validator::JOB,
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
    println!("state        before    after");
    for state in ["undefined", "invalid", "valid_warn", "valid"] {
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
