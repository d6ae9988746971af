//! `GET /{dname}/qa/oaivalidator` (and `/qa/oaivalidator` for the root domain): the QA
//! statistics of a domain and its sub-domains with zmets on — records per state with a
//! chart, samples, the trend over the last runs, and every rule that fired with its
//! `[fixed/total]` and example records (green: repaired, red: not).

use super::chart;
use super::layout::{page as frame, respond, Chrome};
use super::qa_data::{bad_query, gather, record_link, QaData, QaQuery, Sort, RULES_PER_PAGE};
use super::{endpoint, segment, Lang};
use crate::store::STATES;
use crate::users::Role;
use crate::web::session::{require, Access, Audience};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

/// `GET /{dname}/qa/oaivalidator`.
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    dname: web::Path<String>,
) -> HttpResponse {
    render(&state, &req, Some(&dname)).await
}

/// `GET /qa/oaivalidator`: the root domain's.
pub async fn root_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    render(&state, &req, None).await
}

async fn render(state: &AppState, req: &HttpRequest, dname: Option<&str>) -> HttpResponse {
    let access = match require(state, req, dname, Role::Qa, Audience::Page).await {
        Ok(access) => access,
        Err(response) => return response,
    };
    let lang = access.lang;
    let query = match QaQuery::parse(req.query_string()) {
        Ok(query) => query,
        Err(message) => return bad_query(lang, &access, &message),
    };
    let data = match gather(state, &access, &query, true).await {
        Ok(data) => data,
        Err(e) => return crate::web::home::unavailable(state, &e),
    };
    let title = format!(
        "{} — {}",
        lang.t("QA-Statistik", "QA statistics"),
        access.domain.title
    );
    let chrome = Chrome {
        lang,
        session: Some(&access.session),
        domain: Some(&access.domain),
        title: &title,
        refresh: None,
    };
    let body = html! {
        h1 { (lang.t("OaiOutputValidator: QA-Statistik", "OaiOutputValidator: QA statistics")) }
        (intro(lang, &access, &data))
        @if data.scope.is_empty() {
            p.notice.bad { (lang.t(
                "In dieser Domain und ihren Unterdomains ist zmets nicht eingeschaltet; es gibt nichts zu validieren.",
                "zmets is switched on neither in this domain nor in its sub-domains; there is nothing to validate.")) }
        } @else {
            div.grid {
                (states(lang, &data))
                (samples(lang, &access, &data))
            }
            @if data.trend.len() > 1 {
                h2 { (lang.t("Verlauf der letzten Läufe", "Trend over the last runs")) }
                (chart::trend(lang, lang.t("Datensätze je Zustand am Ende der letzten Läufe",
                    "Records per state at the end of the last runs"), &data.trend))
            }
            (rules(lang, &access, &query, &data))
        }
    };
    respond(StatusCode::OK, frame(&chrome, body))
}

fn intro(lang: Lang, access: &Access, data: &QaData) -> Markup {
    let names: Vec<&str> = data
        .scope
        .iter()
        .filter_map(|id| access.tree.by_id(*id).map(|d| d.name.as_str()))
        .collect();
    let base = format!("/{}", access.domain.name.as_str());
    html! {
        p.lead {
            (lang.t("Domains mit zmets: ", "Domains with zmets: "))
            @if names.is_empty() { "—" } @else { (names.join(", ")) }
            " · "
            @match &data.last_run {
                Some(run) => {
                    (lang.t("letzter Lauf ", "last run "))
                    @if access.session.user.role == Role::Admin {
                        a href={ (base) "/admin/jobreport/" (run.id) } { "#" (run.id) }
                    } @else { "#" (run.id) }
                    ", " (super::utc(run.finished_at.unwrap_or(run.started_at)))
                    " (" span.badge.(run.status) { (run.status) } ")"
                }
                None => { (lang.t("noch kein Lauf", "no run yet")) }
            }
            " · "
            a href={ (base) "/qa/oaivalidator.csv" } { "CSV" } " · "
            a href={ (base) "/qa/oaivalidator.json" } { "JSON" }
        }
    }
}

fn states(lang: Lang, data: &QaData) -> Markup {
    let exported = lang.t("exportiert", "exported");
    let rows: Vec<(String, i64, String)> = data
        .states
        .iter()
        .map(|s| {
            let note = if s.exported > 0 || s.state.starts_with("valid") {
                format!("({} {exported})", lang.number(s.exported))
            } else {
                String::new()
            };
            (s.state.clone(), s.records, note)
        })
        .collect();
    let total: i64 = data.states.iter().map(|s| s.records).sum();
    let total_exported: i64 = data.states.iter().map(|s| s.exported).sum();
    html! {
        section.panel aria-labelledby="states" {
            h2 #states { "zmods_validation" }
            (chart::state_bars(lang, lang.t("Datensätze je Validierungszustand", "Records per validation state"), &rows))
            table #state-counts {
                thead { tr {
                    th scope="col" { (lang.t("Zustand", "State")) }
                    th.num scope="col" { (lang.t("Datensätze", "Records")) }
                    th.num scope="col" { (exported) }
                } }
                tbody {
                    @for s in &data.states {
                        tr data-state=(s.state) {
                            td { span.badge.(s.state) { (s.state) } " " span.muted { (lang.state(&s.state)) } }
                            td.num.records { (lang.number(s.records)) }
                            td.num.exported { (lang.number(s.exported)) }
                        }
                    }
                    tr { th scope="row" { (lang.t("gesamt", "total")) }
                         td.num { strong { (lang.number(total)) } }
                         td.num { strong { (lang.number(total_exported)) } } }
                }
            }
        }
    }
}

fn samples(lang: Lang, access: &Access, data: &QaData) -> Markup {
    let oai = endpoint(&access.domain);
    html! {
        section.panel aria-labelledby="samples" {
            h2 #samples { (lang.t("Beispieldatensätze", "Sample records")) }
            @for (state, records) in &data.samples {
                h3 { span.badge.(state) { (state) } }
                @if records.is_empty() {
                    p.muted { (lang.t("keine", "none")) }
                } @else {
                    ul.plain.samples data-state=(state) {
                        @for r in records {
                            li {
                                a.record href=(record_link(access, r.domain_id, &r.local_id)) { (r.local_id) }
                                @if let Some(title) = &r.title { " " span.muted { (shorten(title, 90)) } }
                                @if r.exported {
                                    " · "
                                    a.diag href={ (oai) "?verb=GetRecord&metadataPrefix=zmets&identifier="
                                        (segment(&r.oai_identifier)) "&diag=true" } { "zmets diag=true" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// At most `max` characters of `text`, with "…" where it was cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

fn rules(lang: Lang, access: &Access, query: &QaQuery, data: &QaData) -> Markup {
    let pages = data.matching_rules.div_ceil(RULES_PER_PAGE).max(1);
    let sort_link = |sort: Sort| query.link(&[("sort", Some(sort.as_str())), ("page", None)]);
    html! {
        h2 #rules { (lang.t("Regeln, die anschlagen", "Rules that fired")) }
        form.filters method="get" action="#rules" {
            label { (lang.t("Klasse", "Class"))
                select name="class" {
                    option value="" { (lang.t("alle", "all")) }
                    @for c in ["error", "warn", "info"] {
                        option value=(c) selected[query.class.as_deref() == Some(c)] { (c) }
                    }
                }
            }
            label { (lang.t("Regel", "Rule"))
                select name="rule" {
                    option value="" { (lang.t("alle", "all")) }
                    @for id in &data.all_rule_ids {
                        option value=(id) selected[query.rule.as_deref() == Some(id.as_str())] { (id) }
                    }
                }
            }
            label { (lang.t("Zustand", "State"))
                select name="state" {
                    option value="" { (lang.t("alle", "all")) }
                    @for s in STATES {
                        option value=(s) selected[query.state.as_deref() == Some(s)] { (s) }
                    }
                }
            }
            label { (lang.t("Sortierung", "Sort by"))
                select name="sort" {
                    @for (s, text) in [(Sort::Count, lang.t("Funde", "findings")), (Sort::Records, lang.t("Datensätze", "records")),
                                       (Sort::Fixed, lang.t("Anteil repariert", "share fixed")), (Sort::Rule, lang.t("Regel-ID", "rule id"))] {
                        option value=(s.as_str()) selected[query.sort == s] { (text) }
                    }
                }
            }
            button type="submit" { (lang.t("Anzeigen", "Show")) }
            a.button.secondary href={ "?" } { (lang.t("Zurücksetzen", "Reset")) }
        }
        p.muted #rule-summary {
            (lang.number(data.matching_rules as i64)) (lang.t(" Regeln · ", " rules · "))
            (lang.number(data.totals.0)) (lang.t(" Funde, davon ", " findings, of which "))
            (lang.number(data.totals.1)) (lang.t(" repariert · Beispiele: ", " fixed · examples: "))
            span.legend { a.repaired href="#rules" tabindex="-1" { "✓ " (lang.t("repariert", "repaired")) } " "
                          a.unrepaired href="#rules" tabindex="-1" { "✗ " (lang.t("nicht repariert", "not repaired")) } }
        }
        @if data.rules.is_empty() {
            p.notice { (lang.t("Keine Regel schlägt an (in dieser Auswahl).", "No rule fired (in this selection).")) }
        } @else {
            div.scroll {
                table #rule-table {
                    thead { tr {
                        th scope="col" { (lang.t("Klasse", "Class")) }
                        th scope="col" { a href=(sort_link(Sort::Rule)) { (lang.t("Regel", "Rule")) } }
                        th scope="col" { (lang.t("Regelwerk", "Rule set")) }
                        th scope="col" { (lang.t("Beschreibung", "Description")) }
                        th.num scope="col" { a href=(sort_link(Sort::Records)) { (lang.t("Datensätze", "Records")) } }
                        th.num scope="col" { a href=(sort_link(Sort::Count)) { (lang.t("Funde", "Findings")) } }
                        th.num scope="col" { a href=(sort_link(Sort::Fixed)) { (lang.t("repariert", "fixed")) } }
                        th scope="col" { (lang.t("Beispiele", "Examples")) }
                    } }
                    tbody {
                        @for r in &data.rules {
                            tr.rule data-rule=(r.key) data-rule-set=(r.stat.rule_set) {
                                td { span.badge.(r.stat.class) { (r.stat.class) }
                                     @if let Some(role) = r.stat.role.as_deref().filter(|role| *role != r.stat.class) {
                                         " " span.role.muted { (role) } } }
                                td { a href=(query.link(&[("rule", Some(&r.key)), ("page", None)])) {
                                        code { (r.stat.rule_id) } } }
                                td.rule-set { (r.stat.rule_set) }
                                td { (r.title)
                                     @if let Some(see) = &r.see { " " a.muted href=(see) rel="noopener" { "↗" } } }
                                td.num.records { (lang.number(r.stat.records)) }
                                td.num.findings { (lang.number(r.stat.findings)) }
                                td.num.fixed {
                                    span.ratio { "[" (r.stat.fixed) "/" (r.stat.findings) "]" }
                                    span.meter aria-hidden="true" { span style={ "width:" ((r.stat.fixed * 100) / r.stat.findings.max(1)) "%" } {} }
                                }
                                td { div.examples {
                                    @for e in &r.examples {
                                        @if e.repaired {
                                            a.repaired href=(record_link(access, e.domain_id, &e.local_id))
                                              title=(lang.t("repariert", "repaired")) { "✓ " (e.local_id) }
                                        } @else {
                                            a.unrepaired href=(record_link(access, e.domain_id, &e.local_id))
                                              title=(lang.t("nicht repariert", "not repaired")) { "✗ " (e.local_id) }
                                        }
                                    }
                                } }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pager aria-label=(lang.t("Seiten", "Pages")) {
                    @if query.page > 1 {
                        a href={ (query.link(&[("page", Some(&(query.page - 1).to_string()))])) "#rules" } { "← " (lang.t("zurück", "previous")) }
                    }
                    span { (lang.t("Seite ", "Page ")) (query.page) " / " (pages) }
                    @if query.page < pages {
                        a href={ (query.link(&[("page", Some(&(query.page + 1).to_string()))])) "#rules" } { (lang.t("weiter", "next")) " →" }
                    }
                }
            }
        }
    }
}
