//! `GET /metrics` on the metrics listener (`server.metrics_bind`): the request counters
//! of this process, the connection pool, and the figures read from the database —
//! records per domain and validation state, the newest validator run of each domain.
//! Those are read at most once per [`FIGURES_TTL`] whoever scrapes, with two grouped
//! queries on indexes, so that scrapes stay cheap at a million records.

use super::AppState;
use crate::domain::{DomainTree, JobStatus};
use crate::jobs::oai_output_validator::JOB;
use crate::metrics::text::{Exposition, Kind, CONTENT_TYPE};
use crate::store::{DomainStateCount, JobRun, PoolUse};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE as CONTENT_TYPE_HEADER};
use actix_web::{web, HttpResponse};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long figures read from the database are reused.
pub const FIGURES_TTL: Duration = Duration::from_secs(10);

/// The figures last read from the database, and when (`None`: the database failed).
#[derive(Default)]
pub struct FigureCache(Mutex<Option<(Instant, Option<Arc<StoredFigures>>)>>);

/// What `/metrics` reads from the database.
pub struct StoredFigures {
    tree: Arc<DomainTree>,
    counts: Vec<DomainStateCount>,
    runs: Vec<JobRun>,
}

/// `GET /metrics`.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut e = Exposition::default();
    e.family(
        "vitrine_build_info",
        "The running version of vitrine.",
        Kind::Gauge,
    );
    e.sample(
        "vitrine_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    state.metrics.write(&mut e);
    write_pool(&mut e, state.store.pool_use());
    let figures = stored_figures(&state).await;
    e.family(
        "vitrine_database_up",
        "1 when the figures below could be read from the database (at most 10 s ago), else 0.",
        Kind::Gauge,
    );
    e.sample(
        "vitrine_database_up",
        &[],
        if figures.is_some() { 1.0 } else { 0.0 },
    );
    if let Some(figures) = figures {
        write_records(&mut e, &figures);
        write_validator(&mut e, &figures, chrono::Utc::now().timestamp());
    }
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE_HEADER, HeaderValue::from_static(CONTENT_TYPE)))
        .body(e.finish())
}

/// The figures of the database, read again when older than [`FIGURES_TTL`]. Concurrent
/// scrapes wait for one read.
async fn stored_figures(state: &AppState) -> Option<Arc<StoredFigures>> {
    let mut cache = state.figures.0.lock().await;
    if let Some((read_at, figures)) = cache.as_ref() {
        if read_at.elapsed() < FIGURES_TTL {
            return figures.clone();
        }
    }
    let read = async {
        Ok::<_, crate::store::StoreError>(StoredFigures {
            tree: state.tree().await?,
            counts: state.store.domain_state_counts().await?,
            runs: state.store.latest_job_runs(JOB).await?,
        })
    };
    let figures = match read.await {
        Ok(figures) => Some(Arc::new(figures)),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the figures from the database");
            None
        }
    };
    *cache = Some((Instant::now(), figures.clone()));
    figures
}

fn write_pool(e: &mut Exposition, pool: PoolUse) {
    e.family(
        "vitrine_db_pool_connections",
        "Connections of the database pool, by state (in_use, idle).",
        Kind::Gauge,
    );
    let idle = pool.idle.min(pool.open);
    e.sample(
        "vitrine_db_pool_connections",
        &[("state", "in_use")],
        f64::from(pool.open - idle),
    );
    e.sample(
        "vitrine_db_pool_connections",
        &[("state", "idle")],
        f64::from(idle),
    );
    e.family(
        "vitrine_db_pool_max_connections",
        "Connections the database pool may open (database.max_connections).",
        Kind::Gauge,
    );
    e.sample("vitrine_db_pool_max_connections", &[], f64::from(pool.max));
}

fn write_records(e: &mut Exposition, figures: &StoredFigures) {
    let counts: Vec<(String, &DomainStateCount)> = figures
        .counts
        .iter()
        .filter_map(|c| Some((figures.tree.by_id(c.domain_id)?.name.to_string(), c)))
        .collect();
    e.family(
        "vitrine_records",
        "Records (not deleted) of each domain by validation state (undefined, invalid, valid_warn, valid).",
        Kind::Gauge,
    );
    for (domain, c) in &counts {
        e.sample(
            "vitrine_records",
            &[("domain", domain), ("state", &c.state)],
            c.records as f64,
        );
    }
    e.family(
        "vitrine_records_released",
        "Of vitrine_records, those released (public).",
        Kind::Gauge,
    );
    for (domain, c) in &counts {
        e.sample(
            "vitrine_records_released",
            &[("domain", domain), ("state", &c.state)],
            c.released as f64,
        );
    }
}

fn write_validator(e: &mut Exposition, figures: &StoredFigures, now: i64) {
    struct Run<'a> {
        domain: String,
        run: &'a JobRun,
        seconds: i64,
        waiting: i64,
    }
    let runs: Vec<Run> = figures
        .runs
        .iter()
        .filter_map(|run| {
            let domain = figures.tree.by_id(run.domain_id)?.name.to_string();
            let scope = figures.tree.zmets_scope(run.domain_id);
            let waiting = figures
                .counts
                .iter()
                .filter(|c| c.state == "undefined" && scope.contains(&c.domain_id))
                .map(|c| c.records)
                .sum();
            let end = run.finished_at.unwrap_or(now);
            Some(Run {
                domain,
                run,
                seconds: (end - run.started_at).max(0),
                waiting,
            })
        })
        .collect();
    /// A gauge per domain: name, help, value.
    type Gauge = (&'static str, &'static str, fn(&Run) -> f64);
    let gauges: [Gauge; 6] = [
        (
            "vitrine_validator_running",
            "1 while the newest OaiOutputValidator run of the domain is running, else 0.",
            |r| f64::from(u8::from(r.run.status == JobStatus::Running)),
        ),
        (
            "vitrine_validator_run_validated_records",
            "Records validated by the newest run of the domain (by every instance taking part).",
            |r| r.run.validated as f64,
        ),
        (
            "vitrine_validator_run_waiting_records",
            "Records in the run's scope still waiting for validation (state undefined): progress is validated / (validated + waiting).",
            |r| r.waiting as f64,
        ),
        (
            "vitrine_validator_run_started_timestamp_seconds",
            "When the newest run of the domain started (Unix time).",
            |r| r.run.started_at as f64,
        ),
        (
            "vitrine_validator_run_duration_seconds",
            "How long the newest run of the domain took, or has taken so far.",
            |r| r.seconds as f64,
        ),
        (
            "vitrine_validator_run_records_per_second",
            "Records the newest run of the domain validated per second (over its duration).",
            |r| r.run.validated as f64 / r.seconds.max(1) as f64,
        ),
    ];
    for (name, help, value) in gauges {
        e.family(name, help, Kind::Gauge);
        for r in &runs {
            e.sample(name, &[("domain", &r.domain)], value(r));
        }
    }
    e.family(
        "vitrine_validator_run_info",
        "The status (running, finished, failed, killed) and phase of the newest run of the domain; always 1.",
        Kind::Gauge,
    );
    for r in &runs {
        e.sample(
            "vitrine_validator_run_info",
            &[
                ("domain", &r.domain),
                ("status", r.run.status.as_str()),
                ("phase", r.run.phase.as_str()),
            ],
            1.0,
        );
    }
}
