//! `/api/v1/domains/{dname}/records…`: storing a METS (PUT with the id in the URL, POST
//! with the id from the METS), reading a record's status, deleting, releasing and
//! withdrawing. Each request commits whole or not at all.

use super::auth::authorize;
use super::body::{ingest_query, no_query, read_limited, require_xml};
use super::json;
use super::problem::Problem;
use crate::ingest::{ingest_document, IngestOptions};
use crate::store::{PutOutcome, StateChange, TokenScope};
use crate::web::AppState;
use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};

/// The API path of a record (percent-encoded local id).
pub fn record_path(dname: &str, local_id: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(local_id.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("/api/v1/domains/{dname}/records/{encoded}")
}

/// `PUT /api/v1/domains/{dname}/records/{localId}`: 201 created, 200 replaced, 204
/// unchanged.
#[tracing::instrument(skip_all, fields(dname = %path.0, local_id = %path.1))]
pub async fn put(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let (dname, local_id) = path.into_inner();
    store(req, dname, Some(local_id), payload, state).await
}

/// `POST /api/v1/domains/{dname}/records`: the id comes from the METS; 201 + Location.
#[tracing::instrument(skip_all, fields(dname = %path))]
pub async fn post(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    store(req, path.into_inner(), None, payload, state).await
}

async fn store(
    req: HttpRequest,
    dname: String,
    local_id: Option<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let auth = authorize(&req, &state, &dname, TokenScope::Ingest).await?;
    let query = ingest_query(&req)?;
    require_xml(&req)?;
    let limit = state.config.ingest.max_document_bytes;
    let body = read_limited(&req, payload, limit).await?;
    let options = IngestOptions {
        release: query.release,
        validate: query.validate,
        reject_invalid: query.reject_invalid,
        limits: crate::xml::ParseLimits::with_max_bytes(limit),
        public_url: state.config.server.public_url.clone(),
        clock: state.clock.clone(),
    };
    let ingested = ingest_document(
        state.store.clone(),
        auth.tree.clone(),
        auth.domain.id,
        body,
        local_id,
        &options,
    )
    .await
    .map_err(|e| json::refused(&e))?;
    tracing::info!(
        local_id = %ingested.local_id,
        outcome = json::outcome_name(ingested.outcome),
        token = auth.token.id,
        "record stored through the API"
    );
    let body = json::ingested(&dname, &ingested).to_string();
    Ok(match ingested.outcome {
        PutOutcome::Created => HttpResponse::Created()
            .insert_header((LOCATION, record_path(&dname, &ingested.local_id)))
            .content_type("application/json")
            .body(body),
        PutOutcome::Replaced => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        PutOutcome::Unchanged => HttpResponse::NoContent().finish(),
    })
}

/// `GET /api/v1/domains/{dname}/records/{localId}`: the record's status.
#[tracing::instrument(skip_all, fields(dname = %path.0, local_id = %path.1))]
pub async fn get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let (dname, local_id) = path.into_inner();
    let auth = authorize(&req, &state, &dname, TokenScope::Read).await?;
    no_query(&req)?;
    status_response(&state, &dname, auth.domain.id, &local_id).await
}

/// `DELETE /api/v1/domains/{dname}/records/{localId}`: a tombstone.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    change(req, path, state, StateChange::Delete).await
}

/// `POST …/records/{localId}/release`.
pub async fn release(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    change(req, path, state, StateChange::Release).await
}

/// `POST …/records/{localId}/withdraw`.
pub async fn withdraw(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    change(req, path, state, StateChange::Withdraw).await
}

#[tracing::instrument(skip(req, path, state), fields(dname = %path.0, local_id = %path.1))]
async fn change(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    change: StateChange,
) -> Result<HttpResponse, Problem> {
    let (dname, local_id) = path.into_inner();
    let auth = authorize(&req, &state, &dname, TokenScope::Ingest).await?;
    no_query(&req)?;
    let now = state.clock.now();
    state
        .store
        .change_state(auth.domain.id, &local_id, change, now)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => {
                Problem::not_found(format!("domain {dname} has no record {local_id:?}"))
            }
            other => json::store_problem(&other),
        })?;
    status_response(&state, &dname, auth.domain.id, &local_id).await
}

async fn status_response(
    state: &AppState,
    dname: &str,
    domain_id: i64,
    local_id: &str,
) -> Result<HttpResponse, Problem> {
    let internal = |e: crate::store::StoreError| Problem::internal(&e);
    let status = state
        .store
        .record_status(domain_id, local_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| Problem::not_found(format!("domain {dname} has no record {local_id:?}")))?;
    let validation = state
        .store
        .validation_state(status.id)
        .await
        .map_err(internal)?;
    let findings = state.store.findings(status.id).await.map_err(internal)?;
    let relatives = state.store.relatives(status.id).await.map_err(internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(json::status(dname, &status, &validation, &findings, &relatives).to_string()))
}
