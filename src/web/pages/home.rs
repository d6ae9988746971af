//! `GET /`: every domain (protected ones only for clients holding their credentials)
//! with its record counts and links to its OAI-PMH endpoint, its
//! QA statistics and its jobs.

use super::layout::{page, respond, Chrome};
use super::{base, endpoint, Lang};
use crate::web::session::current;
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use std::collections::HashMap;

/// `GET /`.
pub async fn index(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let lang = Lang::of(&req);
    let session = match current(&state, &req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let tree = match state.tree().await {
        Ok(tree) => tree,
        Err(e) => return crate::web::home::unavailable(&state, &e),
    };
    let counts: HashMap<i64, (i64, i64)> = match state.store.domain_record_counts().await {
        Ok(counts) => counts
            .into_iter()
            .map(|c| (c.domain_id, (c.records, c.released)))
            .collect(),
        Err(e) => return crate::web::home::unavailable(&state, &e),
    };
    let base_url = crate::web::origin::origin(&req, &state.proxies);
    // Protected domains are listed only to clients that sent their credentials.
    let visible = match tree.root() {
        Some(root) => {
            tree.visible_subtree(root.id, &crate::web::auth::unlocked(&req, &tree, root.id))
        }
        None => Vec::new(),
    };
    let chrome = Chrome {
        lang,
        session: session.as_ref(),
        domain: None,
        title: "vitrine",
        refresh: None,
    };
    let body = html! {
        h1 { "vitrine" }
        p.lead { (lang.t("OAI-PMH-2.0-Datenprovider für digitalisierte Sammlungen, mit ZVDD-Validierung.",
                         "OAI-PMH 2.0 data provider for digitised collections, with ZVDD validation.")) }
        @if session.is_none() {
            p { a.button href="/login" { (lang.t("Anmelden", "Log in")) } " "
                span.muted { (lang.t("für QA-Statistiken und Jobverwaltung", "for QA statistics and job administration")) } }
        }
        div.scroll {
            table {
                caption { (lang.t("Domains", "Domains")) }
                thead { tr {
                    th scope="col" { (lang.t("Domain", "Domain")) }
                    th scope="col" { (lang.t("Titel", "Title")) }
                    th.num scope="col" { (lang.t("Datensätze", "Records")) }
                    th.num scope="col" { (lang.t("freigegeben", "released")) }
                    th scope="col" { (lang.t("OAI-PMH-Schnittstelle", "OAI-PMH endpoint")) }
                    th scope="col" { (lang.t("Seiten", "Pages")) }
                } }
                tbody {
                    @for domain in tree.all().iter().filter(|d| visible.contains(&d.id)) {
                        @let depth = tree.lineage(domain.id).len().saturating_sub(1);
                        @let (records, released) = counts.get(&domain.id).copied().unwrap_or((0, 0));
                        @let url = format!("{base_url}{}", endpoint(domain));
                        tr {
                            td { span style={ "padding-left:" (depth * 18) "px" } {
                                @if depth > 0 { "└ " } code { (domain.name.as_str()) } } }
                            td { (domain.title) }
                            td.num { (lang.number(records)) }
                            td.num { (lang.number(released)) }
                            td { a href={ (url) "?verb=Identify" } { (url) } }
                            td {
                                a href={ (base(domain)) "/qa/oaivalidator" } { (lang.t("QA", "QA")) }
                                " · "
                                a href={ (base(domain)) "/admin/jobs" } { (lang.t("Jobs", "Jobs")) }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&chrome, body))
}
