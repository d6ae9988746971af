//! Configuration: a TOML file (see `config/vitrine.example.toml`) overlaid by environment
//! variables. `VITRINE_SECTION__KEY=value` sets `[section] key = value`; nested keys use
//! `__` as separator, e.g. `VITRINE_DOMAINS__ULB__PAGE_SIZE=50` or
//! `VITRINE_DATABASE__URL=postgres://…`. Values are read as TOML scalars when they parse
//! as such (`true`, `42`), else as strings.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub use crate::domain::settings::{
    BasicAuth, ConfiguredSet, DomainConfig, DomainJobs, DomainOaiConfig, FormatSwitches,
    Institution, Switch, ValidatorJob,
};
use crate::domain::{Domain, DomainSetting};

/// The annotated default configuration, printed by `vitrine print-config`.
pub const EXAMPLE: &str = include_str!("../config/vitrine.example.toml");

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP server settings.
    pub server: ServerConfig,
    /// Database connection.
    pub database: DatabaseConfig,
    /// OAI-PMH settings shared by every domain.
    pub oai: OaiConfig,
    /// Ingest limits, export directories and hotfolders.
    pub ingest: IngestConfig,
    /// The ingest API (`/api/v1`).
    pub api: ApiConfig,
    /// Logins to the QA and administration pages.
    pub web: WebConfig,
    /// Per-domain settings, keyed by domain name.
    pub domains: BTreeMap<String, DomainConfig>,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub bind: String,
    /// Requests served at once before answering 503 with Retry-After.
    pub max_concurrent_requests: usize,
    /// Seconds announced in Retry-After when overloaded.
    pub retry_after_seconds: u32,
    /// The public base URL of this installation (behind any proxy): zmets `mptr` links
    /// point to `{public_url}/{dname}/oai?verb=GetRecord…`.
    pub public_url: String,
    /// Addresses (`10.0.0.5`, `::1`) or networks (`10.0.0.0/8`) of reverse proxies whose
    /// `Forwarded`, `X-Forwarded-Host` and `X-Forwarded-Proto` headers are believed when
    /// the base URL of a response is derived. Empty (the default): no client is believed,
    /// the base URL comes from the `Host` header of the request.
    pub trusted_proxies: Vec<String>,
    /// Bytes of responses held in memory at once (metadata of pages being sent); a
    /// response that would exceed it is answered 503 with Retry-After.
    pub max_response_bytes: u64,
    /// Address of a second listener serving only `/metrics` (Prometheus), `/health` and
    /// `/ready`, for scrapes from inside the network. Empty (the default): no such
    /// listener, and `/metrics` is served nowhere.
    pub metrics_bind: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            max_concurrent_requests: 64,
            retry_after_seconds: 10,
            public_url: "http://127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
            max_response_bytes: 256 * 1024 * 1024,
            metrics_bind: String::new(),
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: String,
    /// Connections in the pool; unset: [`DatabaseConfig::DEFAULT_SQLITE_CONNECTIONS`] for
    /// SQLite, [`DatabaseConfig::DEFAULT_POSTGRES_CONNECTIONS`] for PostgreSQL.
    pub max_connections: Option<u32>,
}

impl DatabaseConfig {
    /// A SQLite connection is a thread of its own with its own page cache, and SQLite
    /// writes one at a time: four serve 32 concurrent harvesters as fast as eight, with
    /// about 15 MB less memory.
    pub const DEFAULT_SQLITE_CONNECTIONS: u32 = 4;
    /// PostgreSQL works on each connection's queries in a process of its own.
    pub const DEFAULT_POSTGRES_CONNECTIONS: u32 = 8;

    /// The pool size for the database `url` names: `max_connections`, or the default
    /// for its kind.
    pub fn pool_size(&self, url: &str) -> u32 {
        self.max_connections
            .unwrap_or(if url.starts_with("sqlite:") {
                Self::DEFAULT_SQLITE_CONNECTIONS
            } else {
                Self::DEFAULT_POSTGRES_CONNECTIONS
            })
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://./vitrine-data/vitrine.db".into(),
            max_connections: None,
        }
    }
}

/// `[oai]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OaiConfig {
    /// Secret that signs resumption tokens; empty: generated once and kept in the database,
    /// so every instance sharing the database shares it.
    pub token_secret: String,
    /// How long a resumption token stays valid, in hours (at least 24).
    pub token_lifetime_hours: u32,
    /// Metadata bytes per ListRecords page: a page ends early (with a resumption token)
    /// once its records reach this many bytes; a single larger record is sent alone.
    pub max_page_bytes: u64,
}

impl Default for OaiConfig {
    fn default() -> Self {
        OaiConfig {
            token_secret: String::new(),
            token_lifetime_hours: 168,
            max_page_bytes: 16 * 1024 * 1024,
        }
    }
}

/// `[ingest]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Largest METS document accepted, in bytes.
    pub max_document_bytes: usize,
    /// Folders from which `POST /api/v1/domains/{dname}/exports` may import (Goobi's and
    /// Kitodo's export folders); any path outside them is refused.
    pub export_dirs: Vec<std::path::PathBuf>,
    /// Hotfolders `vitrine serve` watches: complete files are imported (into the domain
    /// named by their sub-folder, else the root domain) and moved to `done/` or `failed/`.
    pub watch: Vec<std::path::PathBuf>,
    /// Release the records imported from hotfolders.
    pub watch_release: bool,
    /// Seconds between two looks at the hotfolders; a file is complete when its size and
    /// modification time stayed the same over one interval.
    pub watch_interval_seconds: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_document_bytes: 64 * 1024 * 1024,
            export_dirs: Vec::new(),
            watch: Vec::new(),
            watch_release: false,
            watch_interval_seconds: 5,
        }
    }
}

/// `[api]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Requests per second each token may make on average (HTTP 429 beyond).
    pub rate_limit_per_second: u32,
    /// Requests a token may make at once above the average (the bucket size).
    pub rate_limit_burst: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            rate_limit_per_second: 2000,
            rate_limit_burst: 4000,
        }
    }
}

/// `[web]`: logins to the QA and administration pages.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Hours a login lasts.
    pub session_hours: u32,
    /// Whether the pages are served over https (behind a proxy): session cookies get the
    /// `Secure` attribute.
    pub https: bool,
    /// Failed logins per user name within 15 minutes before further attempts are refused.
    pub max_failed_logins_per_user: u32,
    /// Failed logins per client address within 15 minutes before further attempts are
    /// refused.
    pub max_failed_logins_per_address: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_hours: 8,
            https: false,
            max_failed_logins_per_user: 5,
            max_failed_logins_per_address: 20,
        }
    }
}

/// What `vitrine domain show` prints for a Basic password.
pub const MASKED_PASSWORD: &str = "********";

/// A stored setting's value for display: masked when the setting is the Basic password.
pub fn shown_setting<'a>(key: &str, value: &'a str) -> &'a str {
    if key == "oai.auth.password" {
        MASKED_PASSWORD
    } else {
        value
    }
}

impl DomainConfig {
    /// This configuration for display: the Basic password replaced by
    /// [`MASKED_PASSWORD`], so that `domain show` output can be shared safely.
    pub fn masked(&self) -> DomainConfig {
        let mut shown = self.clone();
        if let Some(auth) = &mut shown.oai.auth {
            auth.password = MASKED_PASSWORD.to_string();
        }
        shown
    }
}

impl ServerConfig {
    /// The trusted proxies as (network address, prefix length) pairs; fails on an entry
    /// that is neither an IP address nor a network in CIDR notation.
    pub fn trusted_proxy_networks(&self) -> anyhow::Result<Vec<(std::net::IpAddr, u8)>> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                let bad = || {
                    anyhow::anyhow!(
                        "server.trusted_proxies: {entry:?} is not an IP address or a network \
                         such as 10.0.0.0/8"
                    )
                };
                let (addr, prefix) = match entry.split_once('/') {
                    Some((a, p)) => (a, Some(p)),
                    None => (entry.as_str(), None),
                };
                let addr: std::net::IpAddr = addr.trim().parse().map_err(|_| bad())?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let prefix = match prefix {
                    Some(p) => p
                        .trim()
                        .parse::<u8>()
                        .ok()
                        .filter(|p| *p <= max)
                        .ok_or_else(bad)?,
                    None => max,
                };
                Ok((addr.to_canonical(), prefix))
            })
            .collect()
    }
}

impl Config {
    /// The settings of each domain (`[domains.DNAME]`) with the settings made by `vitrine
    /// domain set` applied (they take precedence over the file), in the order of
    /// `domains`: what the domain tree is built from. A stored setting that no longer fits
    /// the configuration is skipped with a warning.
    pub fn domain_settings(
        &self,
        domains: &[Domain],
        stored: &[DomainSetting],
    ) -> Vec<(i64, DomainConfig)> {
        domains
            .iter()
            .map(|d| {
                let mut effective = self.domain(d.name.as_str());
                for (_, key, value) in stored.iter().filter(|(id, _, _)| *id == d.id) {
                    match effective.with_setting(key, value) {
                        Ok(changed) => effective = changed,
                        Err(e) => {
                            tracing::warn!(domain = %d.name, key, "stored setting ignored: {e:#}")
                        }
                    }
                }
                (d.id, effective)
            })
            .collect()
    }

    /// Loads the file (if given) and applies `VITRINE_*` environment overrides.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let value = Config::load_table(file)?;
        let config: Config = toml::Value::Table(value)
            .try_into()
            .context("configuration has an invalid setting")?;
        config.check()?;
        Ok(config)
    }

    /// The file (if given) with the `VITRINE_*` environment overrides applied, as a TOML
    /// table, before it is checked (`vitrine check-config` reports every problem in it).
    pub fn load_table(file: Option<&Path>) -> anyhow::Result<toml::Table> {
        let mut value = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read configuration {}", path.display()))?;
                text.parse::<toml::Table>().with_context(|| {
                    format!("configuration {} is not valid TOML", path.display())
                })?
            }
            None => toml::Table::new(),
        };
        apply_environment(&mut value, std::env::vars())?;
        Ok(value)
    }

    /// Settings of one domain (defaults when the file says nothing about it).
    pub fn domain(&self, name: &str) -> DomainConfig {
        self.domains.get(name).cloned().unwrap_or_default()
    }

    /// Checks values that TOML types alone do not constrain.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        if self.oai.token_lifetime_hours < 24 {
            bail!("oai.token_lifetime_hours must be at least 24");
        }
        if self.oai.max_page_bytes == 0 {
            bail!("oai.max_page_bytes must be at least 1");
        }
        if self.server.max_response_bytes < 1024 * 1024 {
            bail!("server.max_response_bytes must be at least 1 MiB (1048576)");
        }
        self.server.trusted_proxy_networks()?;
        for (name, domain) in &self.domains {
            domain.check().with_context(|| format!("domains.{name}"))?;
        }
        Ok(())
    }
}

impl DomainConfig {
    /// Checks values that TOML types alone do not constrain.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(id) = &self.repository_identifier {
            crate::domain::check_repository_identifier(id).context("repository_identifier")?;
        }
        if self.page_size == Some(0) {
            bail!("page_size must be at least 1");
        }
        let cron = &self.jobs.oai_output_validator.schedule;
        if !cron.trim().is_empty()
            && tokio_cron_scheduler::Job::new(cron.as_str(), |_, _| {}).is_err()
        {
            bail!(
                "jobs.oai_output_validator.schedule {cron:?} is not a 6-field cron expression \
                 (seconds minutes hours day-of-month month day-of-week, UTC)"
            );
        }
        if let Some(rules) = &self.jobs.oai_output_validator.rules {
            crate::validation::rule_sets::check_entries(rules)
                .context("jobs.oai_output_validator.rules")?;
        }
        for set in &self.sets {
            crate::domain::SetSpec::parse(&set.spec)
                .ok()
                .filter(|s| s.segments().count() == 1)
                .with_context(|| {
                    format!("sets: spec {:?} must be one setSpec segment", set.spec)
                })?;
        }
        Ok(())
    }

    /// This configuration with one setting changed, e.g. `oai.formats.zmets.on` = `true`
    /// (`vitrine domain set`). The value is read as a TOML value when it parses as one
    /// (`true`, `50`, `["a", "b"]`), else as a string. Fails with a precise message when
    /// the key does not exist or the value has the wrong type.
    pub fn with_setting(&self, key: &str, value: &str) -> anyhow::Result<DomainConfig> {
        let mut table =
            toml::Table::try_from(self).context("cannot represent the configuration")?;
        let parts: Vec<String> = key.split('.').map(str::to_string).collect();
        if parts.iter().any(String::is_empty) {
            bail!("{key:?} is not a setting name");
        }
        overlay(&mut table, &parts, parse_scalar(value)).context(key.to_string())?;
        let changed: DomainConfig = toml::Value::Table(table)
            .try_into()
            .with_context(|| format!("{key} = {value}: not a valid setting"))?;
        changed.check()?;
        Ok(changed)
    }
}

/// Applies `VITRINE_A__B=value` overrides onto the TOML table.
fn apply_environment(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<()> {
    for (key, raw) in vars {
        let Some(path) = key.strip_prefix("VITRINE_") else {
            continue;
        };
        // Variables that are not settings (`VITRINE_BIN`: the binary the test and
        // benchmark harnesses run).
        if path.starts_with("TEST_") || matches!(path, "CONFIG" | "LOG" | "BIN") {
            continue;
        }
        let parts: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        if parts.iter().any(String::is_empty) {
            bail!("environment variable {key} does not name a setting");
        }
        overlay(table, &parts, parse_scalar(&raw))
            .with_context(|| format!("environment variable {key}"))?;
    }
    Ok(())
}

/// Sets the setting at `path` (sections, then the key; not empty) in `table`, creating
/// missing sections: the one overlay of `vitrine domain set` and the environment.
fn overlay(table: &mut toml::Table, path: &[String], value: toml::Value) -> anyhow::Result<()> {
    let Some((key, sections)) = path.split_last() else {
        bail!("an empty setting name");
    };
    let mut node = table;
    for part in sections {
        let entry = node
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        node = entry
            .as_table_mut()
            .with_context(|| format!("{part} is not a section"))?;
    }
    node.insert(key.clone(), value);
    Ok(())
}

fn parse_scalar(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        // A bare word such as a URL stays a string.
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configuration_is_valid() {
        let table: toml::Table = EXAMPLE.parse().unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        config.check().unwrap();
    }

    #[test]
    fn the_pool_size_follows_the_database_unless_set() {
        let mut database = DatabaseConfig::default();
        assert_eq!(database.pool_size("sqlite://./v.db"), 4);
        assert_eq!(database.pool_size("postgres://db/vitrine"), 8);
        let table: toml::Table = "max_connections = 12".parse().unwrap();
        database = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(database.pool_size("sqlite://./v.db"), 12);
    }

    #[test]
    fn environment_variables_override_nested_settings() {
        let mut table: toml::Table = "[database]\nurl = \"sqlite://a.db\"".parse().unwrap();
        let vars = [
            (
                "VITRINE_DATABASE__URL".to_string(),
                "postgres://x/y".to_string(),
            ),
            (
                "VITRINE_DOMAINS__ULB__PAGE_SIZE".to_string(),
                "50".to_string(),
            ),
            (
                "VITRINE_DOMAINS__ULB__OAI__FORMATS__ZMETS__ON".to_string(),
                "true".to_string(),
            ),
            (
                "VITRINE_TEST_POSTGRES_URL".to_string(),
                "ignored".to_string(),
            ),
            ("VITRINE_BIN".to_string(), "ignored".to_string()),
        ];
        apply_environment(&mut table, vars.into_iter()).unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(config.database.url, "postgres://x/y");
        let ulb = config.domain("ulb");
        assert_eq!(ulb.page_size, Some(50));
        assert!(ulb.oai.formats.zmets.on);
    }

    #[test]
    fn a_domain_setting_is_changed_by_its_dotted_name() {
        let base = DomainConfig::default();
        let changed = base.with_setting("oai.formats.zmets.on", "true").unwrap();
        assert!(changed.oai.formats.zmets.on);
        let changed = changed.with_setting("page_size", "50").unwrap();
        assert_eq!(changed.page_size, Some(50));
        assert!(changed.oai.formats.zmets.on, "other settings stay");
        let named = base.with_setting("institution.name", "ULB Halle").unwrap();
        assert_eq!(named.institution.name.as_deref(), Some("ULB Halle"));
        assert!(base.with_setting("oai.formats.zmetz.on", "true").is_err());
        assert!(base.with_setting("page_size", "many").is_err());
        assert!(base.with_setting("page_size", "0").is_err());
        assert!(base
            .with_setting("repository_identifier", "not valid!")
            .is_err());
    }

    #[test]
    fn a_stored_domain_setting_wins_over_the_file_and_a_stale_one_is_skipped() {
        let config: Config =
            toml::from_str("[domains.ulb]\npage_size = 20\nrepository_identifier = \"a.de\"\n")
                .unwrap();
        let domain = |id, name: &str| Domain {
            id,
            name: crate::domain::DomainName::parse(name).unwrap(),
            parent_id: None,
            title: String::new(),
            created_at: 0,
        };
        let domains = [domain(1, "ulb"), domain(2, "zd")];
        let stored = [
            (1, "page_size".to_string(), "7".to_string()),
            (1, "no_such_setting".to_string(), "x".to_string()),
        ];
        let merged = config.domain_settings(&domains, &stored);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].0, 1);
        assert_eq!(merged[0].1.page_size, Some(7), "the stored setting wins");
        assert_eq!(merged[0].1.repository_identifier.as_deref(), Some("a.de"));
        assert_eq!((merged[1].0, merged[1].1.page_size), (2, None));
    }

    #[test]
    fn domain_show_masks_the_basic_password() {
        let config: Config =
            toml::from_str("[domains.zd.oai.auth]\nuser = \"rosetta\"\npassword = \"s3cret\"\n")
                .unwrap();
        let shown = toml::to_string(&config.domain("zd").masked()).unwrap();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("rosetta") && shown.contains(MASKED_PASSWORD));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let mut server = ServerConfig {
            trusted_proxies: vec!["127.0.0.1".into(), "10.0.0.0/8".into(), "::1".into()],
            ..ServerConfig::default()
        };
        let nets = server.trusted_proxy_networks().unwrap();
        assert_eq!(nets[1], ("10.0.0.0".parse().unwrap(), 8));
        assert_eq!(nets[2].1, 128);
        for bad in ["localhost", "10.0.0.0/33", "1.2.3"] {
            server.trusted_proxies = vec![bad.into()];
            assert!(server.trusted_proxy_networks().is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let table: toml::Table = "[server]\nbnd = \"x\"".parse().unwrap();
        assert!(toml::Value::Table(table).try_into::<Config>().is_err());
    }
}
