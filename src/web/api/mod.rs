//! The ingest API under `/api/v1` (SPEC §4): the export to the DMS over HTTP for Goobi
//! workflow and Kitodo.Production. METS in by PUT or POST, folder exports by path,
//! status, release, withdrawal and deletion; bearer tokens with a domain and a scope,
//! a rate limit per token, errors as `application/problem+json`, and the OpenAPI 3.1
//! document at `/api/v1/openapi.json`.

mod auth;
mod body;
mod exports;
mod json;
mod problem;
mod rate_limit;
mod records;

pub use problem::Problem;
pub use rate_limit::RateLimiter;

use crate::config::Config;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// What the API keeps between requests.
#[derive(Debug)]
pub struct ApiState {
    /// Token buckets.
    pub limiter: RateLimiter,
}

impl ApiState {
    /// From the `[api]` settings.
    pub fn new(config: &Config) -> Self {
        ApiState {
            limiter: RateLimiter::new(
                config.api.rate_limit_per_second,
                config.api.rate_limit_burst,
            ),
        }
    }
}

/// Registers the API's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const RECORD: &str = "/domains/{dname}/records/{local_id}";
    cfg.service(
        web::scope("/api/v1")
            .route("/openapi.json", web::get().to(openapi))
            .route(RECORD, web::put().to(records::put))
            .route(RECORD, web::get().to(records::get))
            .route(RECORD, web::delete().to(records::delete))
            .route(
                "/domains/{dname}/records/{local_id}/release",
                web::post().to(records::release),
            )
            .route(
                "/domains/{dname}/records/{local_id}/withdraw",
                web::post().to(records::withdraw),
            )
            .route("/domains/{dname}/records", web::post().to(records::post))
            .route("/domains/{dname}/exports", web::post().to(exports::post))
            .default_service(web::to(unknown)),
    );
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

/// Anything under `/api/v1` that is not an operation: 405 for a known path with another
/// method, else 404 — as problem+json, like every other error of the API.
async fn unknown(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let path = req.path();
    let segments: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
    let allowed = match segments.as_slice() {
        ["openapi.json"] => Some("GET"),
        ["domains", _, "records", _] => Some("GET, PUT, DELETE"),
        ["domains", _, "records", _, "release" | "withdraw"] => Some("POST"),
        ["domains", _, "records" | "exports"] => Some("POST"),
        _ => None,
    };
    match allowed {
        Some(methods) => {
            let mut response = Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                format!("{} is not allowed on {path}; use {methods}", req.method()),
            )
            .with("allow", methods)
            .error_response();
            response.headers_mut().insert(
                actix_web::http::header::ALLOW,
                actix_web::http::header::HeaderValue::from_static(methods),
            );
            response
        }
        None => Problem::not_found(format!(
            "{path} is not an operation of the vitrine API; see /api/v1/openapi.json"
        ))
        .error_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_openapi_document_is_json_of_version_3_1() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/api/v1/domains/{dname}/exports"]["post"].is_object());
    }
}
