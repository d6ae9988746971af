//! `GET|POST /{dname}/oai` and `/oai`: decode the arguments (query string or form body,
//! repeated arguments kept), check credentials, call `oai::respond`.

use super::{auth, AppState};
use crate::oai::{respond, Endpoint};
use actix_web::http::header::{ContentType, HeaderValue, CONTENT_TYPE};
use actix_web::{web, HttpRequest, HttpResponse};

/// GET on the root domain's endpoint.
pub async fn root_endpoint(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let args = decode(req.query_string().as_bytes());
    serve(&state, &req, None, args).await
}

/// POST on the root domain's endpoint.
pub async fn root_endpoint_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match form_args(&req, &body) {
        Ok(args) => serve(&state, &req, None, args).await,
        Err(response) => *response,
    }
}

/// GET on a domain's endpoint.
pub async fn endpoint(
    state: web::Data<AppState>,
    req: HttpRequest,
    dname: web::Path<String>,
) -> HttpResponse {
    let args = decode(req.query_string().as_bytes());
    serve(&state, &req, Some(&dname), args).await
}

/// POST on a domain's endpoint.
pub async fn endpoint_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    dname: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    match form_args(&req, &body) {
        Ok(args) => serve(&state, &req, Some(&dname), args).await,
        Err(response) => *response,
    }
}

fn decode(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// POST bodies must be `application/x-www-form-urlencoded` (OAI-PMH §3.1.1.2).
fn form_args(req: &HttpRequest, body: &[u8]) -> Result<Vec<(String, String)>, Box<HttpResponse>> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(Box::new(
            HttpResponse::UnsupportedMediaType()
                .content_type(ContentType::plaintext())
                .body("OAI-PMH POST requests must be application/x-www-form-urlencoded\n"),
        ));
    }
    Ok(decode(body))
}

#[tracing::instrument(skip_all, fields(domain = dname.unwrap_or("(root)")))]
async fn serve(
    state: &AppState,
    req: &HttpRequest,
    dname: Option<&str>,
    args: Vec<(String, String)>,
) -> HttpResponse {
    let response_date = chrono::Utc::now().timestamp();
    let tree = match state.tree().await {
        Ok(tree) => tree,
        Err(e) => return super::home::unavailable(state, &e),
    };
    let domain = match dname {
        Some(name) => tree.by_name(name),
        None => tree.root(),
    };
    let Some(domain) = domain else {
        return HttpResponse::NotFound()
            .content_type(ContentType::plaintext())
            .body(format!(
                "no OAI-PMH endpoint here: unknown domain {}\n",
                dname.unwrap_or("(root)")
            ));
    };
    if dname.is_some() && domain.parent_id.is_none() {
        return redirect_to_root_endpoint(state, req);
    }
    if let Some(denied) = auth::check(req, &tree.config(domain.id), domain.name.as_str()) {
        return denied;
    }
    let base_url = base_url(state, req);
    let endpoint = Endpoint {
        domain,
        tree: &tree,
        store: state.store.as_ref(),
        base_url: &base_url,
        tokens: &state.tokens,
        token_lifetime: i64::from(state.config.oai.token_lifetime_hours) * 3600,
        response_date,
    };
    match respond(&endpoint, &args).await {
        Ok(body) => HttpResponse::Ok()
            .insert_header((
                CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=UTF-8"),
            ))
            .body(body),
        Err(e) => super::home::unavailable(state, &e),
    }
}

/// The root domain has one endpoint, `/oai`: `/{root}/oai` answers with a permanent
/// redirect there (308 for POST, which keeps the method and body), so that harvesters
/// register one baseURL.
fn redirect_to_root_endpoint(state: &AppState, req: &HttpRequest) -> HttpResponse {
    let mut location = format!("{}/oai", public_prefix(state).unwrap_or_default());
    if !req.query_string().is_empty() {
        location.push('?');
        location.push_str(req.query_string());
    }
    let mut response = if req.method() == actix_web::http::Method::POST {
        HttpResponse::PermanentRedirect()
    } else {
        HttpResponse::MovedPermanently()
    };
    response
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// Identify's baseURL: under the configured `server.public_url` when one is set (behind a
/// proxy the request's own host is the proxy's upstream), else as the request reached us.
fn base_url(state: &AppState, req: &HttpRequest) -> String {
    match public_prefix(state) {
        Some(prefix) => format!("{prefix}{}", req.path()),
        None => {
            let info = req.connection_info();
            format!("{}://{}{}", info.scheme(), info.host(), req.path())
        }
    }
}

/// `server.public_url` without a trailing slash, unless it is the default.
fn public_prefix(state: &AppState) -> Option<String> {
    let url = state.config.server.public_url.trim_end_matches('/');
    (url != crate::config::ServerConfig::default().public_url).then(|| url.to_string())
}
