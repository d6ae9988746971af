//! `GET /{dname}/admin/jobreport/{jobid}`: one run, visually — records per state before
//! and after (chart), per rule the findings and how many a repair fixed, repairs,
//! throughput and duration, the instances that took part, errors, who started it.

use super::chart;
use super::layout::{page as frame, respond, Chrome};
use super::{duration, Lang};
use crate::jobs::oai_output_validator::JobReport;
use crate::store::JobRun;
use crate::users::Role;
use crate::validation::rule_info;
use crate::web::session::{require, Audience};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

/// `GET /{dname}/admin/jobreport/{jobid}`.
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (dname, jobid) = path.into_inner();
    let access = match require(&state, &req, Some(&dname), Role::Admin, Audience::Page).await {
        Ok(access) => access,
        Err(response) => return response,
    };
    let lang = access.lang;
    let not_found = || {
        super::not_found(
            &access,
            "Diesen Lauf gibt es für diese Domain nicht.",
            "There is no such run for this domain.",
        )
    };
    let Ok(id) = jobid.parse::<i64>() else {
        return not_found();
    };
    let run = match state.store.job_run(id).await {
        Ok(Some(run)) => run,
        Ok(None) => return not_found(),
        Err(e) => return crate::web::home::unavailable(&state, &e),
    };
    // A run of this domain, of one below it, or of one above it that covered it.
    let related = access
        .tree
        .subtree(access.domain.id)
        .contains(&run.domain_id)
        || access
            .tree
            .lineage(access.domain.id)
            .iter()
            .any(|d| d.id == run.domain_id);
    if !related {
        return not_found();
    }
    let instances = match state.store.job_run_instances(run.id).await {
        Ok(i) => i,
        Err(e) => return crate::web::home::unavailable(&state, &e),
    };
    let report: Option<JobReport> = serde_json::from_str(&run.report).ok();
    let title = format!("{} #{}", lang.t("Jobbericht", "Job report"), run.id);
    let chrome = Chrome {
        lang,
        session: Some(&access.session),
        domain: Some(&access.domain),
        title: &title,
        refresh: (run.status == crate::domain::JobStatus::Running).then_some(3),
    };
    let domain_name = access
        .tree
        .by_id(run.domain_id)
        .map_or_else(|| "?".to_string(), |d| d.name.to_string());
    let body = html! {
        h1 { (lang.t("Jobbericht ", "Job report ")) "#" (run.id) " " span.badge.(run.status) #status { (run.status) } }
        p.lead { (run.job) " · " (lang.t("Modus ", "mode ")) (run.mode) " · " (lang.t("Domain ", "domain ")) code { (domain_name) } }
        (facts(lang, &run, report.as_ref()))
        div {
            section.panel.chart-panel aria-labelledby="states" {
                h2 #states { (lang.t("Zustände vorher und nachher", "States before and after")) }
                @match &report {
                    Some(r) => (chart::before_after(lang, lang.t("Datensätze je Zustand vor und nach dem Lauf", "Records per state before and after the run"), &r.before, &r.after)),
                    None => p.muted { (lang.t("Der Lauf ist noch nicht fertig.", "The run has not finished yet.")) },
                }
            }
        }
        @if let Some(r) = &report { (rules(lang, r)) }
        h2 { (lang.t("Beteiligte Instanzen", "Instances that took part")) }
        div.scroll { table #instances {
            thead { tr {
                th scope="col" { (lang.t("Instanz", "Instance")) }
                th scope="col" { (lang.t("Rolle", "Role")) }
                th.num scope="col" { (lang.t("validiert", "validated")) }
                th.num scope="col" { (lang.t("unterdessen geändert", "changed meanwhile")) }
                th scope="col" { (lang.t("von – bis", "from – to")) }
            } }
            tbody { @for i in &instances { tr {
                td { code { (i.instance) } }
                td { (i.role) }
                td.num { (lang.number(i.validated)) }
                td.num { (lang.number(i.changed_meanwhile)) }
                td { (super::utc(i.started_at)) " – " @match i.finished_at { Some(f) => (super::utc(f)), None => (lang.t("nicht beendet", "not finished")) } }
            } } }
        } }
        h2 { (lang.t("Fehler", "Errors")) }
        @match &report {
            Some(r) if !r.errors.is_empty() => ul #errors { @for e in &r.errors { li { (e) } } },
            _ => p.muted #errors { (lang.t("keine", "none")) },
        }
    };
    respond(StatusCode::OK, frame(&chrome, body))
}

fn facts(lang: Lang, run: &JobRun, report: Option<&JobReport>) -> Markup {
    let seconds = report
        .map(|r| r.seconds)
        .or_else(|| run.finished_at.map(|f| (f - run.started_at) as f64));
    html! {
        section.panel aria-labelledby="facts" {
            h2 #facts { (lang.t("Überblick", "Overview")) }
            dl.facts {
                dt { (lang.t("gestartet von", "started by")) } dd #started-by { (run.started_by) }
                dt { (lang.t("gestartet", "started")) } dd { (super::utc(run.started_at)) }
                dt { (lang.t("beendet", "finished")) } dd { @match run.finished_at { Some(f) => (super::utc(f)), None => "—" } }
                dt { (lang.t("Dauer", "Duration")) } dd { @match seconds { Some(s) => (duration(s)), None => "—" } }
                dt { (lang.t("Umfang", "Scope")) } dd { @if run.full_run { (lang.t("vollständig", "full")) } @else { (lang.t("inkrementell", "incremental")) }
                    @if let Some(r) = report { " · " (r.scope.join(", ")) } }
                dt { (lang.t("validiert", "validated")) } dd #validated { (lang.number(run.validated)) }
                @if let Some(r) = report {
                    dt { (lang.t("Durchsatz", "Throughput")) } dd #throughput { (format!("{:.1}", r.records_per_second)) (lang.t(" Datensätze/s", " records/s")) }
                    dt { (lang.t("davon Validierung", "of which validating")) } dd { (duration(r.validate_seconds)) " · " (lang.t("Laden ", "loading ")) (duration(r.load_seconds)) " · " (lang.t("Speichern ", "storing ")) (duration(r.save_seconds)) }
                    dt { (lang.t("unterdessen geändert", "changed meanwhile")) } dd { (lang.number(r.changed_meanwhile as i64)) }
                    @if r.stale > 0 {
                        dt { (lang.t("mit anderen Regelwerken validiert", "validated with other rule sets")) } dd #stale { (lang.number(r.stale as i64)) }
                    }
                    @if !r.killed_runs.is_empty() {
                        dt { (lang.t("als abgebrochen markiert", "marked killed")) } dd { (r.killed_runs.iter().map(|k| format!("#{k}")).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        }
    }
}

fn rules(lang: Lang, report: &JobReport) -> Markup {
    let mut rules: Vec<(&String, &crate::jobs::oai_output_validator::RuleStats)> =
        report.rules.iter().collect();
    rules.sort_by(|a, b| b.1.occurrences.cmp(&a.1.occurrences).then(a.0.cmp(b.0)));
    html! {
        h2 { (lang.t("Regeln in diesem Lauf", "Rules in this run")) }
        @if rules.is_empty() { p.muted { (lang.t("Keine Regel hat angeschlagen.", "No rule fired.")) } }
        @else {
            div.scroll { table #report-rules {
                thead { tr {
                    th scope="col" { (lang.t("Klasse", "Class")) }
                    th scope="col" { (lang.t("Regel", "Rule")) }
                    th scope="col" { (lang.t("Regelwerk", "Rule set")) }
                    th scope="col" { (lang.t("Beschreibung", "Description")) }
                    th.num scope="col" { (lang.t("Funde", "Findings")) }
                    th.num scope="col" { (lang.t("repariert", "fixed")) }
                    th.num scope="col" { (lang.t("Reparaturen", "Repairs")) }
                } }
                tbody { @for (id, stat) in rules {
                    @let rule_id = if stat.rule_id.is_empty() { id.as_str() } else { stat.rule_id.as_str() };
                    @let bundled = stat.rule_set == crate::domain::DEFAULT_RULE_SET;
                    tr data-rule=(id) data-rule-set=(stat.rule_set) {
                        td { span.badge.(stat.class) { (stat.class) }
                             @if let Some(role) = stat.role.as_deref().filter(|role| *role != stat.class) {
                                 " " span.role.muted { (role) } } }
                        td { code { (rule_id) } }
                        td.rule-set { (stat.rule_set) }
                        td { @if bundled { (rule_info(rule_id).map_or("", |i| i.title.as_str())) }
                             @else { (stat.message) } }
                        td.num { (lang.number(stat.occurrences as i64)) }
                        td.num { span.ratio { "[" (stat.repaired) "/" (stat.occurrences) "]" }
                                 span.meter aria-hidden="true" { span style={ "width:" ((stat.repaired * 100) / stat.occurrences.max(1)) "%" } {} } }
                        td.num { (lang.number(report.repairs.get(id.as_str()).copied().unwrap_or(0) as i64)) }
                    }
                } }
            } }
        }
    }
}
