//! Reading request bodies and query strings of the ingest API: the content type first
//! (415), the declared length before anything is read (413), then the body in chunks,
//! stopping at the limit (413) — a body is never read whole before its size is known to
//! fit.

use super::problem::Problem;
use crate::ingest::ValidateMode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

/// The media type of a request, lower case, without parameters.
fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase())
}

/// Refuses a body that is not XML (`application/xml`, `text/xml`, `application/*+xml`).
pub fn require_xml(req: &HttpRequest) -> Result<(), Problem> {
    match media_type(req) {
        Some(t)
            if t == "application/xml"
                || t == "text/xml"
                || (t.starts_with("application/") && t.ends_with("+xml")) =>
        {
            Ok(())
        }
        other => Err(unsupported(other, "a METS document as application/xml")),
    }
}

/// Refuses a body that is not JSON.
pub fn require_json(req: &HttpRequest) -> Result<(), Problem> {
    match media_type(req) {
        Some(t) if t == "application/json" => Ok(()),
        other => Err(unsupported(other, "a JSON object as application/json")),
    }
}

fn unsupported(found: Option<String>, expected: &str) -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        format!(
            "the body must be {expected}; the request says {}",
            found.map_or_else(
                || "no Content-Type".to_string(),
                |t| format!("Content-Type {t}")
            )
        ),
    )
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        "Document too large",
        format!("the body exceeds the limit of {limit} bytes (ingest.max_document_bytes); nothing was stored"),
    )
    .with("limit", limit)
}

/// Reads the body, refusing it (413) as soon as it is known to exceed `limit` bytes.
pub async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, Problem> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let mut body = Vec::with_capacity(declared.map_or(8192, |n| n as usize));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            Problem::bad_request(
                "unreadable-body",
                format!("the request body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The query arguments of an ingest: `validate`, `reject_invalid`, `release`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestQuery {
    /// `validate=sync|background`.
    pub validate: ValidateMode,
    /// `reject_invalid=true|false`.
    pub reject_invalid: bool,
    /// `release=true|false`.
    pub release: bool,
}

/// Parses the query string of a PUT or POST of a record (400 on anything unknown).
pub fn ingest_query(req: &HttpRequest) -> Result<IngestQuery, Problem> {
    let mut query = IngestQuery::default();
    let mut seen = Vec::new();
    for (key, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if seen.contains(&key) {
            return Err(Problem::bad_request(
                "bad-argument",
                format!("the argument {key} is given twice"),
            ));
        }
        seen.push(key.clone());
        match &*key {
            "validate" => {
                query.validate = ValidateMode::parse(&value).ok_or_else(|| {
                    Problem::bad_request(
                        "bad-argument",
                        format!("validate={value}: use sync or background"),
                    )
                })?
            }
            "reject_invalid" => query.reject_invalid = boolean(&key, &value)?,
            "release" => query.release = boolean(&key, &value)?,
            _ => {
                return Err(Problem::bad_request(
                    "bad-argument",
                    format!(
                        "unknown argument {key}; known are validate, reject_invalid and release"
                    ),
                ))
            }
        }
    }
    Ok(query)
}

/// Refuses any query argument (operations that take none).
pub fn no_query(req: &HttpRequest) -> Result<(), Problem> {
    match form_urlencoded::parse(req.query_string().as_bytes()).next() {
        None => Ok(()),
        Some((key, _)) => Err(Problem::bad_request(
            "bad-argument",
            format!("unknown argument {key}; this operation takes none"),
        )),
    }
}

fn boolean(key: &str, value: &str) -> Result<bool, Problem> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Problem::bad_request(
            "bad-argument",
            format!("{key}={value}: use true or false"),
        )),
    }
}
