//! Checks of an installation before it serves harvesters, as library functions: the
//! settings that must not stay at their defaults once harvesters see the repository
//! (`vitrine serve` refuses a public address with them), unknown keys and invalid values
//! in the configuration, and whether the database answers. `vitrine check-config` prints
//! every [`Problem`] these find.

use crate::config::{
    BasicAuth, Config, ConfiguredSet, DomainConfig, DomainJobs, DomainOaiConfig, FormatSwitches,
    Institution, ServerConfig, ValidatorJob,
};
use crate::domain::{DomainTree, DEFAULT_REPOSITORY_IDENTIFIER};
use std::fmt;

/// One problem with an installation, named by the setting it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The setting as a dotted configuration key (`server.public_url`,
    /// `domains.ulb.repository_identifier`), or `database` for the connection itself.
    pub key: String,
    /// What is wrong and how to put it right.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl Problem {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// The settings that harvesters copy into their databases and that are still defaults:
/// `server.public_url` (zmets `mptr` links, Identify's baseURL behind a proxy) and, per
/// domain that does not inherit its own value, `repository_identifier` (part of every OAI
/// identifier, never to change once harvested) and `admin_emails` (Identify's adminEmail).
pub fn publishing_defaults(config: &Config, tree: &DomainTree) -> Vec<Problem> {
    let mut problems = Vec::new();
    let default_url = ServerConfig::default().public_url;
    if config.server.public_url == default_url {
        problems.push(Problem::new(
            "server.public_url",
            format!(
                "is the default {default_url}; harvesters would store it in zmets mptr links. \
                 Set `public_url` in [server] (or VITRINE_SERVER__PUBLIC_URL) to the URL \
                 harvesters reach this installation at"
            ),
        ));
    }
    for domain in tree.all() {
        let own = tree.config(domain.id);
        let parent_default_id = domain
            .parent_id
            .is_some_and(|p| tree.repository_identifier(p) == DEFAULT_REPOSITORY_IDENTIFIER);
        if tree.repository_identifier(domain.id) == DEFAULT_REPOSITORY_IDENTIFIER
            && own.repository_identifier.is_none()
            && !parent_default_id
        {
            problems.push(Problem::new(
                format!("domains.{}.repository_identifier", domain.name),
                format!(
                    "is the default {DEFAULT_REPOSITORY_IDENTIFIER:?}, so OAI identifiers read \
                     oai:{DEFAULT_REPOSITORY_IDENTIFIER}:… and harvesters keep them forever. Set \
                     `repository_identifier` in [domains.{0}] (or `vitrine domain set {0} \
                     repository_identifier HOST`) before the first harvest",
                    domain.name
                ),
            ));
        }
        let parent_default_mail = domain.parent_id.is_some_and(|p| !has_admin_emails(tree, p));
        if !has_admin_emails(tree, domain.id) && !parent_default_mail {
            problems.push(Problem::new(
                format!("domains.{}.admin_emails", domain.name),
                format!(
                    "is not set, so Identify announces {:?}. Set `admin_emails` in \
                     [domains.{1}] (or `vitrine domain set {1} admin_emails \
                     '[\"digital@example.org\"]'`)",
                    tree.admin_emails(domain.id).join(", "),
                    domain.name
                ),
            ));
        }
    }
    problems
}

/// Every rule set the validator would run that cannot be read or compiled: per domain
/// that sets `jobs.oai_output_validator.rules` (in the file or with `vitrine domain set`,
/// whether or not it exists in the database yet), the first entry that fails, with its
/// file and line. `vitrine serve` refuses to start with any; sub-domains inheriting a
/// list are covered by the domain that sets it.
pub fn rule_sets(config: &Config, tree: &DomainTree) -> Vec<Problem> {
    let mut lists: Vec<(String, Vec<String>)> = tree
        .all()
        .iter()
        .filter_map(|d| {
            let rules = tree.config(d.id).jobs.oai_output_validator.rules?;
            Some((d.name.to_string(), rules))
        })
        .collect();
    for (name, domain) in &config.domains {
        if tree.by_name(name).is_none() {
            if let Some(rules) = &domain.jobs.oai_output_validator.rules {
                lists.push((name.clone(), rules.clone()));
            }
        }
    }
    lists
        .into_iter()
        .filter_map(|(name, rules)| {
            let e = crate::validation::RuleSets::load(&rules).err()?;
            Some(Problem::new(
                format!("domains.{name}.jobs.oai_output_validator.rules"),
                e.to_string(),
            ))
        })
        .collect()
}

/// Whether `admin_emails` is set on the domain or one of its ancestors.
fn has_admin_emails(tree: &DomainTree, id: i64) -> bool {
    tree.lineage(id)
        .iter()
        .any(|d| !tree.config(d.id).admin_emails.is_empty())
}

/// Whether every address `bind` resolves to is a loopback address (`127.0.0.1:8080`,
/// `localhost:8080`, `[::1]:8080`): nobody else can reach a server listening there.
pub fn is_loopback(bind: &str) -> bool {
    use std::net::ToSocketAddrs;
    match bind.to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

/// Every unknown key and every invalid value in a configuration table (the file with the
/// environment applied, [`Config::load_table`]), each on its own; empty when the table
/// loads.
pub fn configuration(table: &toml::Table) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut known = table.clone();
    strip_unknown("", &mut known, &schema(), &mut problems);
    let domains = known.remove("domains");
    match toml::Value::Table(known).try_into::<Config>() {
        Ok(config) => {
            if let Err(e) = config.check() {
                problems.push(Problem::new("configuration", format!("{e:#}")));
            }
        }
        Err(e) => problems.push(Problem::new("configuration", e.to_string())),
    }
    if let Some(toml::Value::Table(domains)) = domains {
        for (name, value) in domains {
            let key = format!("domains.{name}");
            match value.try_into::<DomainConfig>() {
                Ok(domain) => {
                    if let Err(e) = domain.check() {
                        problems.push(Problem::new(key, format!("{e:#}")));
                    }
                }
                Err(e) => problems.push(Problem::new(key, e.to_string().trim().to_string())),
            }
        }
    } else if let Some(other) = domains {
        problems.push(Problem::new(
            "domains",
            format!("must be a table of domains, not {}", other.type_str()),
        ));
    }
    problems
}

/// The configuration `table` describes as far as it is usable: unknown keys left out,
/// domains whose settings do not load left out; `None` when even that does not load. What
/// `check-config` checks the database and the publishing defaults with, after reporting
/// what [`configuration`] found.
pub fn usable(table: &toml::Table) -> Option<Config> {
    let mut known = table.clone();
    strip_unknown("", &mut known, &schema(), &mut Vec::new());
    if let Some(toml::Value::Table(domains)) = known.get_mut("domains") {
        domains.retain(|_, value| value.clone().try_into::<DomainConfig>().is_ok());
    }
    toml::Value::Table(known).try_into().ok()
}

/// Removes the keys of `table` that `schema` does not have, reporting each.
fn strip_unknown(
    path: &str,
    table: &mut toml::Table,
    schema: &toml::Table,
    out: &mut Vec<Problem>,
) {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let Some(expected) = schema.get(&key) else {
            let known: Vec<&str> = schema.keys().map(String::as_str).collect();
            out.push(Problem::new(
                full,
                format!("unknown setting (known here: {})", known.join(", ")),
            ));
            table.remove(&key);
            continue;
        };
        let domain_schema = domain_schema();
        match (table.get_mut(&key), expected) {
            (Some(toml::Value::Table(inner)), _) if full == "domains" => {
                for (name, domain) in inner.iter_mut() {
                    if let toml::Value::Table(domain) = domain {
                        strip_unknown(&format!("domains.{name}"), domain, &domain_schema, out);
                    }
                }
            }
            (Some(toml::Value::Table(inner)), toml::Value::Table(expected)) => {
                strip_unknown(&full, inner, expected, out);
            }
            (Some(toml::Value::Array(items)), toml::Value::Array(expected)) => {
                if let Some(toml::Value::Table(first)) = expected.first() {
                    for (i, item) in items.iter_mut().enumerate() {
                        if let toml::Value::Table(item) = item {
                            strip_unknown(&format!("{full}[{i}]"), item, first, out);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Every key the configuration knows, as a table (domains empty; see [`domain_schema`]).
fn schema() -> toml::Table {
    toml::Table::try_from(Config::default()).unwrap_or_default()
}

/// The dotted names of every setting of `[domains.NAME]` (`page_size`,
/// `oai.formats.zmets.on`, …); lists of tables (`sets`) and `oai.auth` count as one.
pub fn domain_keys() -> Vec<String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
        for (key, value) in table {
            let full = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) if full != "oai.auth" => walk(&full, inner, out),
                _ => out.push(full),
            }
        }
    }
    let mut out = Vec::new();
    walk("", &domain_schema(), &mut out);
    out
}

/// Every key of `[domains.NAME]`: a domain configuration with every optional part present.
/// Written out field by field, so that a new setting cannot be forgotten here.
fn domain_schema() -> toml::Table {
    let text = Some(String::new());
    let full = DomainConfig {
        repository_name: text.clone(),
        admin_emails: vec![String::new()],
        repository_identifier: text.clone(),
        page_size: Some(1),
        oai: DomainOaiConfig {
            formats: FormatSwitches::default(),
            auth: Some(BasicAuth {
                user: String::new(),
                password: String::new(),
            }),
        },
        sets: vec![ConfiguredSet {
            spec: String::new(),
            name: String::new(),
            description: text.clone(),
            classifications: vec![String::new()],
        }],
        institution: Institution {
            name: text.clone(),
            logo: text.clone(),
            site_url: text.clone(),
            contact: text.clone(),
        },
        record_identifier_source: text.clone(),
        presentation_url: text.clone(),
        reference_url: text,
        jobs: DomainJobs {
            oai_output_validator: ValidatorJob {
                rules: Some(vec![String::new()]),
                ..ValidatorJob::default()
            },
        },
    };
    toml::Table::try_from(full).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        configuration(&text.parse::<toml::Table>().unwrap())
            .iter()
            .map(|p| p.key.clone())
            .collect()
    }

    #[test]
    fn every_unknown_key_is_reported_with_its_full_name() {
        let keys = problems(
            "[server]\nbnd = \"x\"\nport = 1\n[domains.ulb]\npage_sise = 5\n\
             [domains.ulb.oai.formats.zmetz]\non = true\n[[domains.ulb.sets]]\nspec = \"a\"\n\
             name = \"A\"\nclassifications = []\ncolour = \"red\"\n[extra]\nx = 1",
        );
        assert_eq!(
            keys,
            [
                "domains.ulb.oai.formats.zmetz",
                "domains.ulb.page_sise",
                "domains.ulb.sets[0].colour",
                "extra",
                "server.bnd",
                "server.port",
            ]
        );
    }

    #[test]
    fn invalid_values_are_reported_per_domain_after_unknown_keys() {
        let found = configuration(
            &"[oai]\ntoken_lifetime_hours = 1\n[domains.a.jobs.oai_output_validator]\n\
              schedule = \"every night\"\n[domains.b]\npage_size = \"many\"\n[domains.c]\nx = 1"
                .parse::<toml::Table>()
                .unwrap(),
        );
        let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["domains.c.x", "configuration", "domains.a", "domains.b"]
        );
        assert!(found[1].message.contains("token_lifetime_hours"));
        assert!(found[2].message.contains("cron"), "{}", found[2].message);
    }

    #[test]
    fn the_example_configuration_has_no_problems() {
        assert_eq!(problems(crate::config::EXAMPLE), Vec::<String>::new());
    }

    #[test]
    fn loopback_addresses_are_recognised_by_name_and_number() {
        assert!(is_loopback("127.0.0.1:8080"));
        assert!(is_loopback("localhost:8080"));
        assert!(is_loopback("[::1]:0"));
        assert!(!is_loopback("0.0.0.0:8080"));
        assert!(!is_loopback("[::]:8080"));
        assert!(!is_loopback("no port"));
    }
}
