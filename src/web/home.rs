//! The health check, the diagnostics schema, and the 503 answer used when the database
//! fails. (The start page is one of the pages, `pages::home`.)

use super::AppState;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{web, HttpResponse};

/// `GET /schemas/diagnostics.xsd`: the schema of `diag=true` diagnostics.
pub async fn diagnostics_schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=UTF-8")
        .body(include_str!("../../xsd/diagnostics.xsd"))
}

/// `GET /health`: 200 when the database answers.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    match state.store.domains().await {
        Ok(_) => HttpResponse::Ok().body("ok\n"),
        Err(e) => unavailable(&state, &e),
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
