//! `vitrine domain show`: every setting of a domain with its effective value — defaults
//! included — and where that value comes from: the default, the configuration file, an
//! environment variable, the database (`vitrine domain set`) or an ancestor domain.

use crate::domain::{Domain, DomainSetting, DomainTree};
use std::path::Path;

/// One row of `domain show`.
pub struct Row {
    /// Dotted setting name.
    pub key: String,
    /// Effective value as TOML (`(not set)` when absent).
    pub value: String,
    /// `default`, `file`, `environment`, `database`, `inherited from DNAME`.
    pub source: String,
}

/// The rows for `domain`, in the order of the configuration's keys.
pub fn rows(
    tree: &DomainTree,
    domain: &Domain,
    file: Option<&Path>,
    stored: &[DomainSetting],
) -> Vec<Row> {
    let name = domain.name.as_str();
    let file_table = file
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| text.parse::<toml::Table>().ok())
        .unwrap_or_default();
    let file_domain = file_table
        .get("domains")
        .and_then(|d| d.get(name))
        .cloned()
        .unwrap_or(toml::Value::Table(toml::Table::new()));
    let effective = toml::Table::try_from(tree.config(domain.id)).unwrap_or_default();
    let mut rows = Vec::new();
    for key in crate::preflight::domain_keys() {
        let own = lookup(&effective, &key).filter(|v| !is_empty(v));
        let source = if stored
            .iter()
            .any(|(id, k, _)| *id == domain.id && *k == key)
        {
            "database".to_string()
        } else if environment_sets(name, &key) {
            "environment".to_string()
        } else if lookup_value(&file_domain, &key).is_some() {
            "file".to_string()
        } else {
            String::new()
        };
        let (value, source) = match (own, source.is_empty()) {
            (Some(value), false) => (show(&key, &value), source),
            (Some(value), true) => (show(&key, &value), "default".to_string()),
            (None, _) => inherited(tree, domain, &key),
        };
        rows.push(Row { key, value, source });
    }
    rows
}

/// The value of a setting a domain does not set itself: its ancestors' or the default.
fn inherited(tree: &DomainTree, domain: &Domain, key: &str) -> (String, String) {
    let from_ancestor = |pick: &dyn Fn(&crate::config::DomainConfig) -> bool| {
        tree.lineage(domain.id)
            .into_iter()
            .rev()
            .skip(1)
            .find(|d| pick(&tree.config(d.id)))
            .map(|d| format!("inherited from {}", d.name))
    };
    let quote = |s: String| toml::Value::String(s).to_string();
    match key {
        "repository_identifier" => (
            quote(tree.repository_identifier(domain.id)),
            from_ancestor(&|c| c.repository_identifier.is_some())
                .unwrap_or_else(|| "default".into()),
        ),
        "admin_emails" => (
            toml::Value::Array(
                tree.admin_emails(domain.id)
                    .into_iter()
                    .map(toml::Value::String)
                    .collect(),
            )
            .to_string(),
            from_ancestor(&|c| !c.admin_emails.is_empty())
                .unwrap_or_else(|| "default (from the repository identifier)".into()),
        ),
        "page_size" => (
            tree.page_size(domain.id).to_string(),
            from_ancestor(&|c| c.page_size.is_some()).unwrap_or_else(|| "default".into()),
        ),
        "repository_name" => (
            quote(tree.repository_name(domain.id)),
            "default (the domain's title)".into(),
        ),
        "jobs.oai_output_validator.rules" => (
            toml::Value::Array(
                tree.validation_rules(domain.id)
                    .into_iter()
                    .map(toml::Value::String)
                    .collect(),
            )
            .to_string(),
            from_ancestor(&|c| c.jobs.oai_output_validator.rules.is_some())
                .unwrap_or_else(|| "default".into()),
        ),
        _ => ("(not set)".into(), "default".into()),
    }
}

/// Whether a `VITRINE_DOMAINS__NAME__…` variable sets `key` (or a table holding it).
fn environment_sets(domain: &str, key: &str) -> bool {
    let wanted = format!("domains.{domain}.{key}");
    std::env::vars().any(|(var, _)| {
        var.strip_prefix("VITRINE_").is_some_and(|path| {
            let dotted = path.to_ascii_lowercase().replace("__", ".");
            dotted == wanted || wanted.starts_with(&format!("{dotted}."))
        })
    })
}

fn lookup(table: &toml::Table, key: &str) -> Option<toml::Value> {
    lookup_value(&toml::Value::Table(table.clone()), key)
}

fn lookup_value(value: &toml::Value, key: &str) -> Option<toml::Value> {
    let mut node = value;
    for part in key.split('.') {
        node = node.as_table()?.get(part)?;
    }
    Some(node.clone())
}

fn is_empty(value: &toml::Value) -> bool {
    matches!(value, toml::Value::Array(a) if a.is_empty())
}

/// A value for display; passwords are not shown.
fn show(key: &str, value: &toml::Value) -> String {
    match (key, value) {
        ("oai.auth", toml::Value::Table(t)) => format!(
            "user {}, password ********",
            t.get("user").map_or(String::new(), ToString::to_string)
        ),
        ("sets", toml::Value::Array(sets)) => {
            let specs: Vec<String> = sets
                .iter()
                .filter_map(|s| s.get("spec").and_then(|v| v.as_str()).map(str::to_string))
                .collect();
            format!("{} ({})", specs.len(), specs.join(", "))
        }
        _ => value.to_string(),
    }
}
