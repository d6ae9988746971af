//! `vitrine serve` and `vitrine demo`: the running application.

use super::{open_store, Context, Run};
use crate::config::Config;
use crate::preflight;
use crate::startup::Application;
use anyhow::{bail, Context as _};
use std::process::ExitCode;
use std::sync::Arc;

/// `vitrine serve`.
#[derive(clap::Args)]
pub struct Serve {
    /// Address to listen on (default from the configuration, 127.0.0.1:8080).
    #[arg(long)]
    bind: Option<String>,
}

#[async_trait::async_trait(?Send)]
impl Run for Serve {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        crate::xml::alloc::return_freed_memory_sooner();
        let opened = context.open().await?;
        let bind = self
            .bind
            .unwrap_or_else(|| opened.config.server.bind.clone());
        let tree = opened.tree().await?;
        // Every rule set compiles before anything is served or scheduled.
        let broken = preflight::rule_sets(&opened.config, &tree);
        if !broken.is_empty() {
            for problem in &broken {
                eprintln!("{problem}");
            }
            bail!(
                "refusing to start: {} of the validator cannot be run (see above)",
                if broken.len() == 1 {
                    "a rule set"
                } else {
                    "rule sets"
                }
            );
        }
        let defaults = preflight::publishing_defaults(&opened.config, &tree);
        if !defaults.is_empty() {
            if !preflight::is_loopback(&bind) {
                for problem in &defaults {
                    eprintln!("{problem}");
                }
                bail!(
                    "refusing to serve on {bind}, which others can reach, while {} still \
                     the default: harvesters keep these values. Set them (see above; \
                     `vitrine check-config` checks), or serve on 127.0.0.1 to try things out",
                    if defaults.len() == 1 {
                        "a published setting is"
                    } else {
                        "published settings are"
                    }
                );
            }
            for problem in &defaults {
                tracing::warn!("{problem}");
            }
        }
        let _schedule = crate::jobs::schedule::start(
            opened.store.clone(),
            opened.config.clone(),
            opened.clock.clone(),
            crate::jobs::schedule::FOLLOW_EVERY,
        )
        .await?;
        let _hotfolders = crate::ingest::hotfolder::spawn(
            opened.store.clone(),
            opened.config.clone(),
            opened.clock.clone(),
        );
        let metrics_bind = opened.config.server.metrics_bind.clone();
        let app = Application::build(opened.config, opened.store, &bind, opened.clock).await?;
        if let Some(port) = app.metrics_port() {
            tracing::info!("metrics on http://{}:{port}/metrics", host(&metrics_bind));
        }
        // The one line on stdout: scripts starting `serve --bind 127.0.0.1:0` read the port here.
        println!("listening on http://{}:{}", host(&bind), app.port());
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `vitrine demo`.
#[derive(clap::Args)]
pub struct Demo {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
}

#[async_trait::async_trait(?Send)]
impl Run for Demo {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        let mut config = context.config()?;
        if context.config_path.is_none() {
            let table: toml::Table = crate::demo::DEMO_CONFIG.parse()?;
            config.domains = toml::Value::Table(table).try_into::<Config>()?.domains;
        }
        // The port first: a demo that cannot listen should not import anything.
        drop(
            std::net::TcpListener::bind(&self.bind)
                .with_context(|| format!("cannot listen on {}", self.bind))?,
        );
        let dir = DemoFolder::new()?;
        let url = context
            .database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/demo.db", dir.0.display()));
        let config = Arc::new(config);
        let store = open_store(Some(&url), &config).await?;
        if !store.domains().await?.is_empty() {
            bail!("the demo needs an empty database; {url} has domains already");
        }
        let clock = context.clock.clone();
        let fixtures = crate::demo::fixtures_dir();
        for line in crate::demo::seed(store.clone(), config.clone(), &clock, &fixtures).await? {
            println!("{line}");
        }
        let (lines, password) =
            crate::demo::prepare_qa(store.clone(), config.clone(), &clock).await?;
        for line in lines {
            println!("{line}");
        }
        let app = Application::build(config, store, &self.bind, clock).await?;
        let base = format!("http://{}:{}", host(&self.bind), app.port());
        println!("\nvitrine demo is running (database {url})");
        println!("  start page        {base}/");
        println!("  OAI-PMH (root)    {base}/oai?verb=Identify");
        println!("  OAI-PMH (zd)      {base}/zd/oai?verb=Identify");
        println!("  all records       {base}/oai?verb=ListRecords&metadataPrefix=oai_dc");
        println!("  newspaper set     {base}/oai?verb=ListIdentifiers&metadataPrefix=mets&set=zd");
        println!("  QA statistics     {base}/demo/qa/oaivalidator");
        println!("  jobs              {base}/demo/admin/jobs");
        println!(
            "  log in as         {} / {password}",
            crate::demo::DEMO_ADMIN
        );
        // Ctrl-C (or a stop) from the moment the line below is printed ends the demo
        // here, so that the temporary folder goes with it.
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        println!("Stop with Ctrl-C.");
        tokio::select! {
            served = app.run_until_stopped() => served?,
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        drop(dir);
        Ok(ExitCode::SUCCESS)
    }
}

/// The demo's temporary folder, removed when the demo ends.
struct DemoFolder(std::path::PathBuf);

impl DemoFolder {
    fn new() -> anyhow::Result<DemoFolder> {
        let dir = std::env::temp_dir().join(format!("vitrine-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(DemoFolder(dir))
    }
}

impl Drop for DemoFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The host part of a bind address, for the URLs printed.
fn host(bind: &str) -> &str {
    bind.rsplit_once(':').map_or("127.0.0.1", |b| b.0)
}
