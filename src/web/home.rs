//! The start page (which endpoints exist, protected ones only for clients holding their
//! credentials), the health check, and the 503 answer used when the database fails.

use super::AppState;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, DOCTYPE};

/// `GET /`: the domains and their OAI-PMH endpoints.
pub async fn index(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let tree = match state.tree().await {
        Ok(tree) => tree,
        Err(e) => return unavailable(&state, &e),
    };
    let base = super::origin::origin(&req, &state.proxies);
    // Protected domains are listed only to clients that sent their credentials.
    let visible = match tree.root() {
        Some(root) => tree.visible_subtree(root.id, &super::auth::unlocked(&req, &tree, root.id)),
        None => Vec::new(),
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "vitrine" } }
            body {
                h1 { "vitrine" }
                p { "OAI-PMH 2.0 data provider for digitised collections." }
                table {
                    thead { tr { th { "Domain" } th { "Title" } th { "OAI-PMH endpoint" } } }
                    tbody {
                        @for domain in tree.all().iter().filter(|d| visible.contains(&d.id)) {
                            @let url = format!("{base}{}", domain.endpoint_path());
                            tr {
                                td { (domain.name.as_str()) }
                                td { (domain.title) }
                                td { a href={ (url) "?verb=Identify" } { (url) } }
                            }
                        }
                    }
                }
            }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.into_string())
}

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
