//! `vitrine demo`: a fresh SQLite database with a root domain and a newspaper sub-domain,
//! seeded with the bundled sample collection (`fixtures/demo`), then the server.

use crate::config::Config;
use crate::domain::{Clock, DomainName};
use crate::ingest::{collect_files, import, ImportOptions};
use crate::store::{StateChange, Store};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The configuration the demo runs with unless `--config` is given.
pub const DEMO_CONFIG: &str = r#"
[domains.demo]
repository_name = "vitrine demo collection"
admin_emails = ["digital@example-library.de"]
repository_identifier = "demo.vitrine.localhost"
page_size = 10
record_identifier_source = "DE-3"

[domains.demo.institution]
name = "Example Library"
logo = "https://digital.example-library.de/logo.png"
site_url = "https://www.example-library.de"
contact = "digital@example-library.de"

[[domains.demo.sets]]
spec = "geschichte"
name = "Geschichte"
description = "Digitale Sammlung Geschichte"
classifications = ["Geschichte"]

[[domains.demo.sets]]
spec = "theologie"
name = "Theologie"
classifications = ["Theologie"]

[[domains.demo.sets]]
spec = "naturwissenschaften"
name = "Naturwissenschaften"
classifications = ["Naturwissenschaften"]

[domains.demo.oai.formats.zmets]
on = true

[domains.demo.oai.formats.zmods]
on = true

[domains.zd]
repository_name = "vitrine demo: Zeitungen"
record_identifier_source = "DE-3-zd"

[domains.zd.oai.formats.zmets]
on = true

[domains.zd.oai.formats.zmods]
on = true
"#;

/// The demo's administrator (its password is made up at every start).
pub const DEMO_ADMIN: &str = "demo-admin";

/// Which demo records end up withdrawn and deleted.
#[derive(Debug, serde::Deserialize)]
struct Manifest {
    withdrawn: Vec<String>,
    deleted: Vec<String>,
}

/// The bundled fixtures: beside the sources, or `./fixtures/demo`.
pub fn fixtures_dir() -> PathBuf {
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    if built_in.is_dir() {
        built_in
    } else {
        PathBuf::from("fixtures/demo")
    }
}

/// Creates the demo domains and imports the collection into `store`, dated by `clock`.
/// Returns a line per step for the console.
pub async fn seed(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    clock: &Clock,
    fixtures: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    let root = store
        .add_domain(
            &DomainName::parse("demo")?,
            None,
            "vitrine Demo",
            clock.now(),
        )
        .await?;
    let zd = store
        .add_domain(
            &DomainName::parse("zd")?,
            Some(root.id),
            "Zeitungen",
            clock.now(),
        )
        .await?;
    let tree = Arc::new(crate::store::load_tree(store.as_ref(), config.clone()).await?);
    for (domain, folder) in [(&root, "main"), (&zd, "zd")] {
        let files = collect_files(&[fixtures.join(folder)]).map_err(anyhow::Error::msg)?;
        let report = import(
            store.clone(),
            tree.clone(),
            domain,
            files,
            ImportOptions::new(true, clock.clone()),
        )
        .await;
        if let Some((file, reason)) = report.failed.first() {
            anyhow::bail!("demo record {} was refused: {reason}", file.display());
        }
        lines.push(format!(
            "imported {} records into {}",
            report.created, domain.name
        ));
    }
    let manifest: Manifest = toml::from_str(
        &std::fs::read_to_string(fixtures.join("manifest.toml")).context("demo manifest.toml")?,
    )?;
    let now = clock.now();
    for id in &manifest.withdrawn {
        store
            .change_state(root.id, id, StateChange::Withdraw, now)
            .await?;
        lines.push(format!("withdrew {id}"));
    }
    for id in &manifest.deleted {
        store
            .change_state(root.id, id, StateChange::Delete, now)
            .await?;
        lines.push(format!("deleted {id}"));
    }
    Ok(lines)
}

/// Validates the demo collection once (so that the QA pages have data) and creates the
/// demo administrator with a random password. Returns a line per step and the password.
pub async fn prepare_qa(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    clock: &Clock,
) -> anyhow::Result<(Vec<String>, String)> {
    let tree = Arc::new(crate::store::load_tree(store.as_ref(), config.clone()).await?);
    let options = crate::jobs::oai_output_validator::Options::new("demo", "demo", clock.clone());
    let report =
        crate::jobs::oai_output_validator::run(store.clone(), tree, &config, &options, &|_, _| {})
            .await
            .context("the demo's first validator run")?;
    let mut lines = vec![format!(
        "validated {} records (run #{}): {} valid, {} valid_warn, {} invalid",
        report.validated,
        report.run_id,
        report.after.get("valid").copied().unwrap_or(0),
        report.after.get("valid_warn").copied().unwrap_or(0),
        report.after.get("invalid").copied().unwrap_or(0),
    )];
    let password: String = {
        use rand::Rng;
        const LETTERS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rng();
        (0..16)
            .map(|_| LETTERS[rng.random_range(0..LETTERS.len())] as char)
            .collect()
    };
    let hash = crate::users::hash_password(&password)?;
    store
        .add_user(
            DEMO_ADMIN,
            crate::users::Role::Admin,
            None,
            &hash,
            clock.now(),
        )
        .await?;
    lines.push(format!("created user {DEMO_ADMIN} (role admin)"));
    Ok((lines, password))
}
