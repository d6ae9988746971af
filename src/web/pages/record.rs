//! `GET /{dname}/qa/records/{localId}`: one record's validation, exported or not — state,
//! reason, time, rule-set version; every finding before repairs with its location and
//! whether a repair fixed it; every repair (before → after); the findings left after
//! repairs; links to its OAI-PMH formats.

use super::layout::{page as frame, respond, Chrome};
use super::{endpoint, segment, Lang};
use crate::store::{RecordDiagnostics, RecordStatus, StoredFinding};
use crate::users::Role;
use crate::validation::rule_info;
use crate::validation::rule_sets::qualified_rule;
use crate::web::session::{require, Audience};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use std::sync::OnceLock;

/// Groups of findings longer than this are shown folded.
const FOLD_AFTER: usize = 10;

/// The usual prefixes of the namespaces in METS/MODS locations.
const PREFIXES: [(&str, &str); 6] = [
    ("http://www.loc.gov/METS/", "mets"),
    ("http://www.loc.gov/mods/v3", "mods"),
    ("http://www.w3.org/1999/xlink", "xlink"),
    ("http://dfg-viewer.de/", "dv"),
    ("http://www.w3.org/2001/XMLSchema-instance", "xsi"),
    ("http://www.openarchives.org/OAI/2.0/", "oai"),
];

/// A location as people read it: `/mets:mets/mets:dmdSec[2]/…` instead of the
/// skeleton's `/*[local-name()='mets' and namespace-uri()='…']/…`.
pub fn short_path(location: &str) -> String {
    static STEP: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let Some(step) = STEP
        .get_or_init(|| {
            regex::Regex::new(r"\*\[local-name\(\)='([^']+)' and namespace-uri\(\)='([^']*)'\]")
                .ok()
        })
        .as_ref()
    else {
        return location.to_string();
    };
    step.replace_all(location, |c: &regex::Captures<'_>| {
        let prefix = PREFIXES.iter().find(|(uri, _)| *uri == &c[2]).map(|p| p.1);
        match prefix {
            Some(p) => format!("{p}:{}", &c[1]),
            None => c[1].to_string(),
        }
    })
    .into_owned()
}

/// `GET /{dname}/qa/records/{localId}`.
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (dname, local_id) = path.into_inner();
    let access = match require(&state, &req, Some(&dname), Role::Qa, Audience::Page).await {
        Ok(access) => access,
        Err(response) => return response,
    };
    let lang = access.lang;
    let not_found = || {
        super::not_found(
            &access,
            "Diesen Datensatz gibt es in dieser Domain nicht.",
            "There is no such record in this domain.",
        )
    };
    let subtree = access.tree.subtree(access.domain.id);
    let store = state.store.as_ref();
    let found = async {
        let Some(domain_id) = store.find_record(&subtree, &local_id).await? else {
            return Ok(None);
        };
        let Some(status) = store.record_status(domain_id, &local_id).await? else {
            return Ok(None);
        };
        let diag = store.diagnostics(&[status.id]).await?.into_iter().next();
        Ok::<_, crate::store::StoreError>(diag.map(|d| (status, d)))
    };
    let (status, diag) = match found.await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => return crate::web::home::unavailable(&state, &e),
    };
    let title = format!(
        "{} — {}",
        status.local_id,
        lang.t("Validierung", "validation")
    );
    let chrome = Chrome {
        lang,
        session: Some(&access.session),
        domain: Some(&access.domain),
        title: &title,
        refresh: None,
    };
    let body = html! {
        h1 { (lang.t("Datensatz ", "Record ")) code { (status.local_id) } }
        @if let Some(t) = &status.title { p.lead { (t) } }
        div.grid {
            (facts(lang, &status, &diag))
            (links(lang, &access.domain, &status))
        }
        (findings_before(lang, &diag))
        (repairs(lang, &diag))
        (findings_after(lang, &diag))
    };
    respond(StatusCode::OK, frame(&chrome, body))
}

fn live(status: &RecordStatus, prefix: &str) -> bool {
    status
        .disseminations
        .iter()
        .any(|(p, _, deleted)| p == prefix && !deleted)
}

fn facts(lang: Lang, status: &RecordStatus, diag: &RecordDiagnostics) -> Markup {
    html! {
        section.panel aria-labelledby="facts" {
            h2 #facts { (lang.t("Validierung", "Validation")) }
            dl.facts {
                dt { "zmods_validation" }
                dd #state { span.badge.(diag.state.as_str()) { (diag.state.as_str()) } " " span.muted { (lang.state(diag.state.as_str())) } }
                dt { (lang.t("Begründung", "Reason")) }
                dd #reason { @if diag.reason.is_empty() { "—" } @else { (diag.reason) } }
                dt { (lang.t("validiert am", "validated at")) }
                dd { @match diag.validated_at { Some(t) => (super::utc(t)), None => "—" } }
                dt { (lang.t("Regelwerk-Version", "Rule set version")) }
                dd { code { (diag.rule_set_version.as_deref().unwrap_or("—")) } }
                dt { (lang.t("OAI-Identifier", "OAI identifier")) }
                dd { code { (status.oai_identifier) } }
                dt { (lang.t("Status", "Status")) }
                dd { @if status.deleted { (lang.t("gelöscht", "deleted")) }
                     @else if status.released { (lang.t("freigegeben", "released")) }
                     @else { (lang.t("nicht freigegeben", "not released")) }
                     " · " @if live(status, "zmets") { (lang.t("als zmets exportiert", "exported as zmets")) }
                           @else { (lang.t("nicht in zmets", "not in zmets")) } }
            }
        }
    }
}

fn links(lang: Lang, domain: &crate::domain::Domain, status: &RecordStatus) -> Markup {
    let oai = endpoint(domain);
    let id = segment(&status.oai_identifier);
    let get =
        |prefix: &str| format!("{oai}?verb=GetRecord&metadataPrefix={prefix}&identifier={id}");
    html! {
        section.panel aria-labelledby="links" {
            h2 #links { (lang.t("Auf der OAI-Schnittstelle", "On the OAI-PMH endpoint")) }
            ul.plain {
                @if live(status, "mets") { li { a.mets href=(get("mets")) { "mets" } } }
                @else { li.muted { "mets — " (lang.t("nicht öffentlich", "not public")) } }
                @if live(status, "zmets") {
                    li { a.zmets href=(get("zmets")) { "zmets" } }
                    @if live(status, "zmods") { li { a.zmods href=(get("zmods")) { "zmods" } } }
                    li { a.diag href={ (get("zmets")) "&diag=true" } { "zmets diag=true" } }
                } @else {
                    li.muted { "zmets, zmods, diag=true — " (lang.t(
                        "nicht exportiert; diese Seite zeigt die Validierung trotzdem",
                        "not exported; this page shows the validation all the same")) }
                }
            }
        }
    }
}

/// Findings grouped by rule (in the order the rules first occur), each group folded
/// away when it is long, so that a record with hundreds of findings stays readable.
fn finding_rows(lang: Lang, findings: &[&StoredFinding], with_repaired: bool) -> Markup {
    let mut groups: Vec<(&str, &str, Vec<&StoredFinding>)> = Vec::new();
    for f in findings {
        match groups
            .iter_mut()
            .find(|g| g.0 == f.rule_set && g.1 == f.rule_id)
        {
            Some(group) => group.2.push(f),
            None => groups.push((&f.rule_set, &f.rule_id, vec![f])),
        }
    }
    html! {
        @for (rule_set, rule, group) in &groups {
            @let repaired = group.iter().filter(|f| f.repaired).count();
            @let bundled = *rule_set == crate::domain::DEFAULT_RULE_SET;
            @let role = group[0].role.as_deref().filter(|role| *role != group[0].class);
            details.findings open[group.len() <= FOLD_AFTER] data-rule=(qualified_rule(rule_set, rule)) data-rule-set=(rule_set) {
                summary {
                    code { (rule) } " "
                    span.badge.(group[0].class) { (group[0].class) } " "
                    @if let Some(role) = role { span.role.muted { (role) } " " }
                    @if !bundled { span.rule-set { "[" (rule_set) "]" } " " }
                    @if let Some(info) = bundled.then(|| rule_info(rule)).flatten() { (info.title) " " }
                    span.muted { "(" (group.len()) @if with_repaired { ", " (lang.t("repariert", "repaired")) " " (repaired) "/" (group.len()) } ")" }
                }
                div.scroll { table {
                    thead { tr {
                        th scope="col" { (lang.t("Ort", "Location")) }
                        th scope="col" { (lang.t("Meldung", "Message")) }
                        @if with_repaired { th scope="col" { (lang.t("repariert", "repaired")) } }
                    } }
                    tbody {
                        @for f in group {
                            tr.finding data-rule=(f.rule_id) data-rule-set=(f.rule_set) data-repaired=(f.repaired) {
                                td { code.path title=(f.location) { (short_path(&f.location)) } }
                                td { (f.message) }
                                @if with_repaired {
                                    td { @if f.repaired { span.badge.valid { "✓ " (lang.t("repariert", "repaired")) } }
                                         @else { span.badge.invalid { "✗ " (lang.t("nicht repariert", "not repaired")) } } }
                                }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn findings_before(lang: Lang, diag: &RecordDiagnostics) -> Markup {
    let before: Vec<&StoredFinding> = diag
        .findings
        .iter()
        .filter(|f| f.stage == "before")
        .collect();
    html! {
        section #before {
            h2 { (lang.t("Funde vor den Reparaturen", "Findings before repairs")) " " small.status { "(" (before.len()) ")" } }
            @if before.is_empty() { p.muted { (lang.t("keine", "none")) } }
            @else { (finding_rows(lang, &before, true)) }
        }
    }
}

fn repairs(lang: Lang, diag: &RecordDiagnostics) -> Markup {
    html! {
        section #repairs {
            h2 { (lang.t("Reparaturen", "Repairs")) " " small.status { "(" (diag.repairs.len()) ")" } }
            @if diag.repairs.is_empty() { p.muted { (lang.t("keine", "none")) } }
            @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { (lang.t("Regel", "Rule")) }
                        th scope="col" { "XPath" }
                        th scope="col" { (lang.t("vorher → nachher", "before → after")) }
                    } }
                    tbody {
                        @for r in &diag.repairs {
                            tr.repair data-rule=(r.rule_id) {
                                td { code { (r.rule_id) } }
                                td { code.path title=(r.xpath) { (short_path(&r.xpath)) } }
                                td.change { del { (r.before) } " → " ins { (r.after) } }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn findings_after(lang: Lang, diag: &RecordDiagnostics) -> Markup {
    let after: Vec<&StoredFinding> = diag
        .findings
        .iter()
        .filter(|f| f.stage == "after" || !f.repaired)
        .collect();
    html! {
        section #after {
            h2 { (lang.t("Funde nach den Reparaturen", "Findings after repairs")) " " small.status { "(" (after.len()) ")" } }
            @if after.is_empty() { p.muted { (lang.t("keine — zmets ist sauber", "none — the zmets is clean")) } }
            @else { (finding_rows(lang, &after, false)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_with_the_usual_prefixes() {
        let loc = "/*[local-name()='mets' and namespace-uri()='http://www.loc.gov/METS/']/*[local-name()='dmdSec' and namespace-uri()='http://www.loc.gov/METS/'][2]";
        assert_eq!(short_path(loc), "/mets:mets/mets:dmdSec[2]");
        assert_eq!(
            short_path(
                "/@*[local-name()='href' and namespace-uri()='http://www.w3.org/1999/xlink']"
            ),
            "/@xlink:href"
        );
    }
}
