//! The liveness and readiness checks, the diagnostics schema, and the 503 answer used
//! when the database fails. (The start page is one of the pages, `pages::home`.)

use super::AppState;
use actix_web::http::header::{ContentType, RETRY_AFTER};
use actix_web::{web, HttpResponse};
use std::time::Duration;

/// `GET /schemas/diagnostics.xsd`: the schema of `diag=true` diagnostics.
pub async fn diagnostics_schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=UTF-8")
        .body(include_str!("../../xsd/diagnostics.xsd"))
}

/// How long the readiness check waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health`, liveness: 200 while the process serves HTTP. It does not ask the
/// database, so that an outage of the database does not get healthy instances
/// restarted; `/ready` tells whether the database answers.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body("ok\n")
}

/// `GET /ready`, readiness: 200 when the database answers a read within
/// [`READY_TIMEOUT`], else 503 with Retry-After.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping(READY_TIMEOUT).await {
        Ok(()) => HttpResponse::Ok()
            .content_type(ContentType::plaintext())
            .body("ready\n"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            HttpResponse::ServiceUnavailable()
                .insert_header((
                    RETRY_AFTER,
                    state.config.server.retry_after_seconds.to_string(),
                ))
                .content_type(ContentType::plaintext())
                .body("not ready: the database does not answer\n")
        }
    }
}

/// 503 with Retry-After for a failing database; the cause goes to the log only.
pub fn unavailable(state: &AppState, error: &crate::store::StoreError) -> HttpResponse {
    tracing::error!(error = %error, "database failure");
    HttpResponse::ServiceUnavailable()
        .insert_header((
            RETRY_AFTER,
            state.config.server.retry_after_seconds.to_string(),
        ))
        .body("the database is not available; retry later\n")
}
