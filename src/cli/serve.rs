//! `vitrine serve` and `vitrine demo`: the running application.

use super::{open_store, Context, Run};
use crate::config::Config;
use crate::startup::Application;
use anyhow::bail;
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
        let opened = context.open().await?;
        let bind = self
            .bind
            .unwrap_or_else(|| opened.config.server.bind.clone());
        let _schedule = crate::jobs::schedule::start(
            opened.store.clone(),
            opened.config.clone(),
            crate::jobs::schedule::FOLLOW_EVERY,
        )
        .await?;
        let app = Application::build(opened.config, opened.store, &bind).await?;
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
        let dir = std::env::temp_dir().join(format!("vitrine-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let url = context
            .database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/demo.db", dir.display()));
        let config = Arc::new(config);
        let store = open_store(Some(&url), &config).await?;
        if !store.domains().await?.is_empty() {
            bail!("the demo needs an empty database; {url} has domains already");
        }
        for line in
            crate::demo::seed(store.clone(), config.clone(), &crate::demo::fixtures_dir()).await?
        {
            println!("{line}");
        }
        let (lines, password) = crate::demo::prepare_qa(store.clone(), config.clone()).await?;
        for line in lines {
            println!("{line}");
        }
        let app = Application::build(config, store, &self.bind).await?;
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
        println!("Stop with Ctrl-C.");
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    }
}

/// The host part of a bind address, for the URLs printed.
fn host(bind: &str) -> &str {
    bind.rsplit_once(':').map_or("127.0.0.1", |b| b.0)
}
