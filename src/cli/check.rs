//! `vitrine check-config`: every problem of an installation at once — settings harvesters
//! would keep while still at their defaults, unknown keys, invalid values, settings stored
//! with `domain set` that no longer fit, rule sets that do not compile, an unreachable
//! database. Exit 1 if any.

use super::{Context, Run};
use crate::config::Config;
use crate::preflight::{self, Problem};
use crate::store::DomainStore;
use std::process::ExitCode;
use std::sync::Arc;

/// `vitrine check-config`.
#[derive(clap::Args)]
pub struct CheckConfig {}

#[async_trait::async_trait(?Send)]
impl Run for CheckConfig {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        let problems = problems(&context).await;
        for problem in &problems {
            println!("{problem}");
        }
        if problems.is_empty() {
            println!("no problems found");
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!(
                "{} found",
                crate::validation::text::count(problems.len(), "problem")
            );
            Ok(ExitCode::from(super::exit::NEEDS_A_PERSON))
        }
    }
}

async fn problems(context: &Context) -> Vec<Problem> {
    let problem = |key: &str, message: String| Problem {
        key: key.to_string(),
        message,
    };
    let table = match Config::load_table(context.config_path.as_deref()) {
        Ok(table) => table,
        Err(e) => return vec![problem("configuration", format!("{e:#}"))],
    };
    let mut problems = preflight::configuration(&table);
    let Some(config) = preflight::usable(&table) else {
        // Reported above; without a configuration there is no database to check.
        return problems;
    };
    let config = Arc::new(config);
    let url = context.database.as_deref().unwrap_or(&config.database.url);
    let store = match crate::store::open_existing(url, 2).await {
        Ok(store) => store,
        Err(e) => {
            problems.push(problem("database", format!("{e:#}")));
            return problems;
        }
    };
    let tree = match crate::store::load_tree(&store, config.clone()).await {
        Ok(tree) => tree,
        Err(e) => {
            problems.push(problem("database", format!("{e:#}")));
            return problems;
        }
    };
    if tree.all().is_empty() {
        problems.push(problem(
            "domains",
            "the database has no domain yet; create the root with `vitrine domain add DNAME`"
                .to_string(),
        ));
    }
    if let Ok(settings) = store.domain_settings().await {
        for (id, key, value) in settings {
            let Some(domain) = tree.by_id(id) else {
                continue;
            };
            if let Err(e) = config
                .domain(domain.name.as_str())
                .with_setting(&key, &value)
            {
                problems.push(problem(
                    &format!("domains.{}.{key}", domain.name),
                    format!(
                        "the value {value:?} stored with `vitrine domain set` is ignored: {e:#}"
                    ),
                ));
            }
        }
    }
    problems.extend(preflight::rule_sets(&config, &tree));
    problems.extend(preflight::publishing_defaults(&config, &tree));
    store.close().await;
    problems
}
