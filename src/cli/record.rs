//! `vitrine record show|list`: what is stored about records and why the validator job
//! decided what it did — for the QA librarian who asks why a record is invalid. Findings
//! show short readable locations (`/mets:mets/mets:dmdSec[2]/…`); `--json` keeps the
//! long form SVRL uses.

use super::{Context, Run};
use crate::domain::{Datestamp, DomainTree, ValidationState};
use crate::store::{RecordDiagnostics, RecordFilter, RecordStatus, Store, StoredFinding};
use crate::validation::location::short;
use anyhow::Context as _;
use serde_json::json;
use std::process::ExitCode;

/// `vitrine record`.
#[derive(clap::Args)]
pub struct RecordArgs {
    #[command(subcommand)]
    command: RecordCommand,
}

#[derive(clap::Subcommand)]
enum RecordCommand {
    /// One record: release, datestamps per format, validation state and reason, findings
    /// before and after repairs with their locations, repairs.
    Show {
        /// Domain of the record.
        #[arg(long)]
        domain: String,
        /// Local id.
        local_id: String,
        /// JSON instead of text (locations in the long form).
        #[arg(long)]
        json: bool,
    },
    /// The records of a domain and its sub-domains, by local id, with their validation
    /// state.
    List {
        /// Domain (its sub-domains are included).
        #[arg(long)]
        domain: String,
        /// Only records in this validation state.
        #[arg(long, value_parser = ValidationState::parse)]
        state: Option<ValidationState>,
        /// Only records with a finding of this rule (e.g. METS-AP-Kap-2.6.2.1-a).
        #[arg(long)]
        rule: Option<String>,
        /// Deleted records too.
        #[arg(long)]
        deleted: bool,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[async_trait::async_trait(?Send)]
impl Run for RecordArgs {
    async fn run(self, context: Context) -> anyhow::Result<ExitCode> {
        let opened = context.open().await?;
        let tree = opened.tree().await?;
        let store = opened.store.as_ref();
        match self.command {
            RecordCommand::Show {
                domain,
                local_id,
                json,
            } => show(store, &tree, &domain, &local_id, json).await,
            RecordCommand::List {
                domain,
                state,
                rule,
                deleted,
                json,
            } => {
                let domain = tree.require(&domain)?;
                let filter = RecordFilter {
                    state,
                    rule: rule.as_deref(),
                    with_deleted: deleted,
                };
                let records = store
                    .record_summaries(&tree.subtree(domain.id), &filter)
                    .await?;
                if !json {
                    println!("local id\tdomain\tstate\trelease\tvalidated\ttitle");
                }
                for r in &records {
                    let dname = tree
                        .by_id(r.domain_id)
                        .map_or(String::new(), |d| d.name.to_string());
                    let release = release_word(r.released, r.deleted);
                    let validated = r
                        .validated_at
                        .map_or("-".to_string(), |t| Datestamp::from_seconds(t).to_string());
                    if json {
                        let mut value = serde_json::to_value(r)?;
                        value["domain"] = json!(dname);
                        println!("{value}");
                    } else {
                        println!(
                            "{}\t{dname}\t{}\t{release}\t{validated}\t{}",
                            r.local_id,
                            r.state,
                            r.title.as_deref().unwrap_or("")
                        );
                    }
                }
                if !json {
                    eprintln!(
                        "{}",
                        crate::validation::text::count(records.len(), "record")
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// `record show`.
async fn show(
    store: &dyn Store,
    tree: &DomainTree,
    dname: &str,
    local_id: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let domain = tree.require(dname)?;
    let Some(status) = store.record_status(domain.id, local_id).await? else {
        anyhow::bail!(
            "{}",
            super::records::not_found(store, tree, dname, local_id).await?
        );
    };
    let diagnostics = store
        .diagnostics(&[status.id])
        .await?
        .into_iter()
        .next()
        .context("the record's validation state could not be read")?;
    if json {
        println!("{}", to_json(dname, &status, &diagnostics));
    } else {
        print_text(tree, &status, &diagnostics);
    }
    Ok(ExitCode::SUCCESS)
}

fn release_word(released: bool, deleted: bool) -> &'static str {
    match (released, deleted) {
        (_, true) => "deleted",
        (true, false) => "released",
        (false, false) => "unreleased",
    }
}

fn print_text(tree: &DomainTree, status: &RecordStatus, d: &RecordDiagnostics) {
    let dname = tree
        .by_id(status.domain_id)
        .map_or(String::new(), |d| d.name.to_string());
    println!("record {} in domain {dname}", status.local_id);
    println!("  identifier  {}", status.oai_identifier);
    if let Some(title) = &status.title {
        println!("  title       {title}");
    }
    println!(
        "  release     {} (changed {})",
        release_word(status.released, status.deleted),
        Datestamp::from_seconds(status.updated_at)
    );
    println!("  datestamps  (what harvesters see per format)");
    for (prefix, datestamp, deleted) in &status.disseminations {
        println!(
            "    {prefix:<8} {}{}",
            Datestamp::from_seconds(*datestamp),
            if *deleted { "  deleted" } else { "" }
        );
    }
    if status.disseminations.is_empty() {
        println!("    none: never disseminated");
    }
    let validated = d.validated_at.map_or("never".to_string(), |t| {
        format!(
            "{} with rules {}",
            Datestamp::from_seconds(t),
            d.rule_set_version.as_deref().unwrap_or("?")
        )
    });
    println!("  validation  {} ({validated})", d.state);
    if !d.reason.is_empty() {
        println!("  reason      {}", d.reason);
    }
    let before: Vec<&StoredFinding> = d.findings.iter().filter(|f| f.stage == "before").collect();
    let after: Vec<&StoredFinding> = d.findings.iter().filter(|f| f.stage == "after").collect();
    println!(
        "findings before repairs: {}",
        crate::validation::text::count(before.len(), "finding")
    );
    for f in before {
        print_finding(f);
    }
    println!(
        "repairs: {}",
        crate::validation::text::count(d.repairs.len(), "repair")
    );
    for r in &d.repairs {
        println!("  [{}] {}", r.rule_id, short(&r.xpath));
        println!("      {:?} -> {:?}", r.before, r.after);
    }
    println!(
        "findings after repairs: {}",
        crate::validation::text::count(after.len(), "finding")
    );
    for f in after {
        print_finding(f);
    }
}

fn print_finding(f: &StoredFinding) {
    println!(
        "  {:<5} [{}] {}{}",
        f.class,
        crate::validation::rule_sets::qualified_rule(&f.rule_set, &f.rule_id),
        f.message,
        if f.repaired { "  (repaired)" } else { "" }
    );
    if !f.location.is_empty() {
        println!("        at {}", short(&f.location));
    }
}

fn to_json(dname: &str, status: &RecordStatus, d: &RecordDiagnostics) -> serde_json::Value {
    let findings = |stage: &str| -> Vec<serde_json::Value> {
        d.findings
            .iter()
            .filter(|f| f.stage == stage)
            .map(|f| {
                json!({
                    "rule": f.rule_id, "rule_set": f.rule_set, "class": f.class,
                    "role": f.role, "message": f.message,
                    "location": f.location, "repaired": f.repaired,
                })
            })
            .collect()
    };
    json!({
        "domain": dname,
        "local_id": status.local_id,
        "oai_identifier": status.oai_identifier,
        "title": status.title,
        "released": status.released,
        "deleted": status.deleted,
        "updated_at": Datestamp::from_seconds(status.updated_at).to_string(),
        "datestamps": status.disseminations.iter().map(|(prefix, datestamp, deleted)| json!({
            "prefix": prefix,
            "datestamp": Datestamp::from_seconds(*datestamp).to_string(),
            "deleted": deleted,
        })).collect::<Vec<_>>(),
        "state": d.state,
        "reason": d.reason,
        "validated_at": d.validated_at.map(|t| Datestamp::from_seconds(t).to_string()),
        "rule_set_version": d.rule_set_version,
        "findings_before_repairs": findings("before"),
        "repairs": d.repairs.iter().map(|r| json!({
            "rule": r.rule_id, "xpath": r.xpath, "before": r.before, "after": r.after,
        })).collect::<Vec<_>>(),
        "findings_after_repairs": findings("after"),
    })
}
