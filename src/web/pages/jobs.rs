//! `GET /{dname}/admin/jobs`: the OaiOutputValidator of a domain — its schedule (next run
//! in local time and UTC), the run going on with its progress (the page reloads itself
//! meanwhile), the last runs, and the form that starts a run; `POST` starts one (with
//! the session's CSRF token). Starting a run while one runs says so and changes nothing.

use super::layout::{page as frame, respond, Chrome};
use super::{duration, Lang};
use crate::jobs::oai_output_validator::{run, Options, JOB};
use crate::store::{JobRun, StoreError};
use crate::users::Role;
use crate::web::session::{require, same_token, Access, Audience};
use crate::web::AppState;
use actix_web::http::header::LOCATION;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// Runs shown.
const LAST_RUNS: usize = 20;

/// Domains whose run this process is starting (between the request and the run's record).
fn starting() -> &'static Mutex<HashSet<i64>> {
    static STARTING: std::sync::OnceLock<Mutex<HashSet<i64>>> = std::sync::OnceLock::new();
    STARTING.get_or_init(Default::default)
}

/// The next time after `now` a 6-field cron expression (UTC) fires.
pub fn next_run(
    cron: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let parsed = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(cron)
        .ok()?;
    parsed.find_next_occurrence(&now, false).ok()
}

/// Progress of a running run: (done, total, records per second, seconds left).
async fn progress(
    state: &AppState,
    access: &Access,
    run: &JobRun,
) -> Result<(i64, i64, f64, Option<f64>), StoreError> {
    let scope = access.tree.zmets_scope(access.domain.id);
    let waiting = state
        .store
        .validation_counts(&scope)
        .await?
        .get("undefined")
        .copied()
        .unwrap_or(0);
    let done = run.validated.max(0);
    let elapsed = (state.clock.now() - run.started_at).max(1) as f64;
    let rate = done as f64 / elapsed;
    let eta = (rate > 0.0).then(|| waiting as f64 / rate);
    Ok((done, done + waiting, rate, eta))
}

/// `GET /{dname}/admin/jobs`.
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    dname: web::Path<String>,
) -> HttpResponse {
    let access = match require(&state, &req, Some(&dname), Role::Admin, Audience::Page).await {
        Ok(access) => access,
        Err(response) => return response,
    };
    let notice = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "started")
        .map(|(_, v)| v.into_owned());
    render(
        &state,
        &access,
        StatusCode::OK,
        notice.map(|id| (false, id)),
    )
    .await
}

async fn render(
    state: &AppState,
    access: &Access,
    status: StatusCode,
    notice: Option<(bool, String)>,
) -> HttpResponse {
    let lang = access.lang;
    let runs = match state.store.job_runs(Some(access.domain.id)).await {
        Ok(runs) => runs,
        Err(e) => return crate::web::home::unavailable(state, &e),
    };
    let running = runs
        .iter()
        .find(|r| r.status == crate::domain::JobStatus::Running && r.job == JOB);
    let live = match running {
        Some(run) => match progress(state, access, run).await {
            Ok(p) => Some((run, p)),
            Err(e) => return crate::web::home::unavailable(state, &e),
        },
        None => None,
    };
    let title = format!("{} — {}", lang.t("Jobs", "Jobs"), access.domain.title);
    let chrome = Chrome {
        lang,
        session: Some(&access.session),
        domain: Some(&access.domain),
        title: &title,
        refresh: live.is_some().then_some(3),
    };
    let body = html! {
        h1 { (lang.t("Jobs: OaiOutputValidator", "Jobs: OaiOutputValidator")) }
        @if let Some((conflict, text)) = &notice {
            @if *conflict {
                p.notice.bad role="status" #notice { (text) }
            } @else {
                p.notice.ok role="status" #notice {
                    (lang.t("Lauf gestartet: ", "Run started: "))
                    a href={ "/" (access.domain.name.as_str()) "/admin/jobreport/" (text) } { "#" (text) }
                }
            }
        }
        div.grid {
            (schedule(lang, access, state.clock.now_utc()))
            (start_form(lang, access, live.is_some()))
        }
        @if let Some((run, (done, total, rate, eta))) = live {
            section.panel #running aria-live="polite" {
                h2 { (lang.t("Läuft gerade: ", "Running now: ")) a href={ "/" (access.domain.name.as_str()) "/admin/jobreport/" (run.id) } { "#" (run.id) } }
                progress.progress max=(total.max(1)) value=(done) { (done) " / " (total) }
                p {
                    strong #progress-count { (lang.number(done)) " / " (lang.number(total)) } (lang.t(" Datensätze · ", " records · "))
                    (format!("{rate:.1}")) (lang.t(" Datensätze/s · noch ", " records/s · ETA "))
                    @match eta { Some(s) => (duration(s)), None => "—" }
                    " · " (lang.t("Phase ", "phase ")) (run.phase)
                    " · " (lang.t("gestartet von ", "started by ")) (run.started_by)
                }
                p.muted { (lang.t("Diese Seite lädt sich alle 3 Sekunden neu.", "This page reloads itself every 3 seconds.")) }
            }
        }
        h2 { (lang.t("Letzte Läufe", "Last runs")) }
        (last_runs(lang, access, &runs))
    };
    respond(status, frame(&chrome, body))
}

fn schedule(lang: Lang, access: &Access, now: chrono::DateTime<chrono::Utc>) -> Markup {
    let tree = &access.tree;
    let id = access.domain.id;
    let zmets = |d: i64| tree.config(d).oai.formats.zmets.on;
    let scope = tree.zmets_scope(id);
    let parent = access
        .domain
        .parent_id
        .filter(|p| zmets(*p))
        .and_then(|p| tree.by_id(p));
    let cron = tree.config(id).jobs.oai_output_validator.schedule;
    let next = next_run(&cron, now);
    html! {
        section.panel aria-labelledby="schedule" {
            h2 #schedule { (lang.t("Zeitplan", "Schedule")) }
            dl.facts {
                dt { (lang.t("Umfang", "Scope")) }
                dd { @if scope.is_empty() { (lang.t("zmets ist hier nirgends eingeschaltet", "zmets is switched on nowhere here")) }
                     @else { (scope.iter().filter_map(|d| tree.by_id(*d).map(|d| d.name.to_string())).collect::<Vec<_>>().join(", ")) } }
                dt { "cron (UTC)" }
                dd { code #cron { (cron) } }
                dt { (lang.t("nächster Lauf", "next run")) }
                dd #next-run {
                    @if let Some(p) = parent {
                        (lang.t("mit der übergeordneten Domain ", "with the parent domain ")) code { (p.name.as_str()) }
                    } @else if scope.is_empty() { "—" }
                    @else {
                        @match next {
                            Some(t) => {
                                (t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M %Z")) " " span.muted { "(" (lang.t("Ortszeit", "local time")) ")" }
                                br; (t.format("%Y-%m-%d %H:%M UTC"))
                            }
                            None => { (lang.t("ungültiger cron-Ausdruck", "invalid cron expression")) }
                        }
                    }
                }
                dt { (lang.t("außerdem", "also")) }
                dd { (lang.t("jede Minute, wenn Datensätze auf Validierung warten", "every minute when records wait for validation")) }
            }
        }
    }
}

fn start_form(lang: Lang, access: &Access, running: bool) -> Markup {
    html! {
        section.panel aria-labelledby="start" {
            h2 #start { (lang.t("Lauf starten", "Start a run")) }
            form.stack method="post" action={ "/" (access.domain.name.as_str()) "/admin/jobs" } {
                input type="hidden" name="csrf" value=(access.session.csrf);
                label { (lang.t("Modus", "Mode"))
                    select name="mode" { option value="zmets" selected { "zmets" } } }
                fieldset {
                    legend { (lang.t("Umfang", "Scope")) }
                    label.inline { input type="radio" name="full" value="false" checked; " " (lang.t("inkrementell (Geändertes samt Über- und Unterordnungen)", "incremental (what changed, with parents and children)")) }
                    label.inline { input type="radio" name="full" value="true"; " " (lang.t("vollständig (alles neu validieren)", "full (revalidate everything)")) }
                }
                div { button type="submit" #start-run { (lang.t("OaiOutputValidator starten", "Start OaiOutputValidator")) } }
                @if running { p.muted { (lang.t("Ein Lauf ist im Gang; ein weiterer wird nicht gestartet.", "A run is going on; another will not be started.")) } }
            }
        }
    }
}

fn last_runs(lang: Lang, access: &Access, runs: &[JobRun]) -> Markup {
    html! {
        @if runs.is_empty() { p.muted { (lang.t("Noch kein Lauf.", "No run yet.")) } }
        @else {
            div.scroll { table #runs {
                thead { tr {
                    th.num scope="col" { "#" }
                    th scope="col" { (lang.t("Status", "Status")) }
                    th scope="col" { (lang.t("gestartet", "started")) }
                    th.num scope="col" { (lang.t("Dauer", "Duration")) }
                    th.num scope="col" { (lang.t("validiert", "validated")) }
                    th scope="col" { (lang.t("Umfang", "Scope")) }
                    th scope="col" { (lang.t("gestartet von", "started by")) }
                } }
                tbody {
                    @for r in runs.iter().take(LAST_RUNS) {
                        tr data-run=(r.id) {
                            td.num { a href={ "/" (access.domain.name.as_str()) "/admin/jobreport/" (r.id) } { "#" (r.id) } }
                            td { span.badge.(r.status) { (r.status) } }
                            td { (super::utc(r.started_at)) }
                            td.num { @match r.finished_at { Some(f) => (duration((f - r.started_at) as f64)), None => "…" } }
                            td.num { (lang.number(r.validated)) }
                            td { @if r.full_run { (lang.t("vollständig", "full")) } @else { (lang.t("inkrementell", "incremental")) } }
                            td { (r.started_by) }
                        }
                    }
                }
            } }
        }
    }
}

/// `POST /{dname}/admin/jobs`: starts a run (fields `csrf`, `mode`, `full`).
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    dname: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let access = match require(&state, &req, Some(&dname), Role::Admin, Audience::Page).await {
        Ok(access) => access,
        Err(response) => return response,
    };
    let lang = access.lang;
    let field = |name: &str| {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    if !same_token(&access.session.csrf, &field("csrf")) {
        return super::error_page(
            StatusCode::FORBIDDEN,
            lang,
            Some(&access.session),
            lang.t(
                "Abgelehnt: Das Formular stammt nicht von dieser Seite.",
                "Refused: the form did not come from this site.",
            ),
        );
    }
    let mode = field("mode");
    if !mode.is_empty() && mode != "zmets" {
        return super::error_page(
            StatusCode::BAD_REQUEST,
            lang,
            Some(&access.session),
            lang.t(
                "Unbekannter Modus; es gibt nur zmets.",
                "Unknown mode; there is only zmets.",
            ),
        );
    }
    if access.tree.zmets_scope(access.domain.id).is_empty() {
        return render(&state, &access, StatusCode::CONFLICT, Some((true, lang.t(
            "zmets ist in dieser Domain und ihren Unterdomains nicht eingeschaltet; es gibt nichts zu validieren.",
            "zmets is switched on neither in this domain nor in its sub-domains; there is nothing to validate.").to_string()))).await;
    }
    let domain_id = access.domain.id;
    let claimed = starting()
        .lock()
        .map(|mut s| s.insert(domain_id))
        .unwrap_or(false);
    let already = match state.store.running_job_run(JOB, domain_id).await {
        Ok(running) => running,
        Err(e) => {
            release(domain_id);
            return crate::web::home::unavailable(&state, &e);
        }
    };
    let newest = match state.store.job_runs(Some(domain_id)).await {
        Ok(runs) => runs.first().map_or(0, |r| r.id),
        Err(e) => {
            release(domain_id);
            return crate::web::home::unavailable(&state, &e);
        }
    };
    if !claimed || already.is_some() {
        if claimed {
            release(domain_id);
        }
        let text = match &already {
            Some(run) => format!(
                "{} #{}",
                lang.t(
                    "Abgelehnt: Es läuft bereits ein Lauf:",
                    "Refused: a run is going on already:"
                ),
                run.id
            ),
            None => lang
                .t(
                    "Abgelehnt: Ein Lauf wird gerade gestartet.",
                    "Refused: a run is being started.",
                )
                .to_string(),
        };
        return render(&state, &access, StatusCode::CONFLICT, Some((true, text))).await;
    }
    let options = Options {
        full: field("full") == "true",
        ..Options::new(
            access.domain.name.as_str(),
            &format!("user:{}", access.session.user.name),
            state.clock.clone(),
        )
    };
    let (store, config, tree) = (
        state.store.clone(),
        state.config.clone(),
        access.tree.clone(),
    );
    tracing::info!(user = %access.session.user.name, domain = %access.domain.name, full = options.full, "run started from the jobs page");
    tokio::spawn(async move {
        match run(store, tree, &config, &options, &|_, _| {}).await {
            Ok(report) => tracing::info!(
                run = report.run_id,
                validated = report.validated,
                "OaiOutputValidator run finished"
            ),
            Err(e) => tracing::error!("OaiOutputValidator run failed: {e:#}"),
        }
    });
    // Wait (briefly) for the run's record, so that the page shows it.
    let mut started = None;
    for _ in 0..100 {
        match state.store.job_runs(Some(domain_id)).await {
            Ok(runs) if runs.first().is_some_and(|r| r.id > newest) => {
                started = runs.first().map(|r| r.id);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    release(domain_id);
    let location = match started {
        Some(id) => format!("/{}/admin/jobs?started={id}", access.domain.name.as_str()),
        None => format!("/{}/admin/jobs", access.domain.name.as_str()),
    };
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

fn release(domain_id: i64) {
    if let Ok(mut s) = starting().lock() {
        s.remove(&domain_id);
    }
}
