//! `GET|POST /{dname}/oai` and `/oai`: decode the arguments (query string or form body,
//! repeated arguments kept), check credentials, call `oai::respond`, and stream the
//! document within the memory budget for responses.

use super::{auth, origin, AppState};
use crate::metrics::{Overload, VerbLabel};
use crate::oai::document::Document;
use crate::oai::{respond, Endpoint};
use actix_web::body::SizedStream;
use actix_web::http::header::{ContentType, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use tokio::sync::OwnedSemaphorePermit;

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
        return redirect_to_root_endpoint(state, req, &domain.endpoint_path());
    }
    super::observe::note_oai(
        req,
        domain.endpoint_path(),
        VerbLabel::of(args.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    );
    if let Some(guard) = tree.guard(domain.id) {
        if let Some(denied) = auth::check(req, &tree.config(guard), domain.name.as_str()) {
            return denied;
        }
    }
    let unlocked = auth::unlocked(req, &tree, domain.id);
    let base_url = base_url(state, req);
    let endpoint = Endpoint {
        domain,
        tree: &tree,
        store: state.store.as_ref(),
        base_url: &base_url,
        tokens: &state.tokens,
        token_lifetime: i64::from(state.config.oai.token_lifetime_hours) * 3600,
        response_date,
        unlocked: &unlocked,
        max_page_bytes: state.config.oai.max_page_bytes,
    };
    // A ListRecords page is read into memory before it is sent: its budget is taken
    // first, so that concurrent pages cannot together read more than the memory allows.
    let lists_records = args.iter().any(|(k, v)| k == "verb" && v == "ListRecords");
    let reserved = if lists_records {
        let page = super::kib(state.config.oai.max_page_bytes).min(capacity(state));
        match state.in_flight.clone().try_acquire_many_owned(page) {
            Ok(permit) => Some(permit),
            Err(_) => return busy(state, u64::from(page) * 1024),
        }
    } else {
        None
    };
    match respond(&endpoint, &args).await {
        Ok(document) => {
            if document.issued_token() {
                super::observe::note_token(req);
            }
            send(state, document, reserved)
        }
        Err(e) => super::home::unavailable(state, &e),
    }
}

/// `server.max_response_bytes` in KiB.
fn capacity(state: &AppState) -> u32 {
    super::kib(state.config.server.max_response_bytes)
}

/// 503 with Retry-After: the memory for responses is taken by others.
fn busy(state: &AppState, bytes: u64) -> HttpResponse {
    tracing::warn!(bytes, "response memory exhausted; answering 503");
    state.metrics.overloaded(Overload::ResponseMemory);
    HttpResponse::ServiceUnavailable()
        .insert_header((
            RETRY_AFTER,
            state.config.server.retry_after_seconds.to_string(),
        ))
        .content_type(ContentType::plaintext())
        .body("vitrine is busy sending other large responses; retry later\n")
}

/// Bytes handed to the connection at a time: a large record goes out in slices of its
/// buffer, never copied whole into the connection's write buffer.
const SLICE: usize = 64 * 1024;

/// Sends a response document as a stream of its chunks, holding its share of
/// `server.max_response_bytes` until it is sent (or the client goes away); when that
/// share is not free, 503 with Retry-After. `reserved` is memory taken before the
/// document was made; it is adjusted to the document's size.
fn send(
    state: &AppState,
    document: Document,
    reserved: Option<OwnedSemaphorePermit>,
) -> HttpResponse {
    let len = document.len() as u64;
    let wanted = super::kib(len).min(capacity(state)) as usize;
    let permit = match reserved {
        Some(mut permit) if permit.num_permits() >= wanted => {
            // Give back what the document does not need.
            drop(permit.split(permit.num_permits() - wanted));
            permit
        }
        Some(mut permit) => {
            let more = (wanted - permit.num_permits()) as u32;
            match state.in_flight.clone().try_acquire_many_owned(more) {
                Ok(extra) => {
                    permit.merge(extra);
                    permit
                }
                Err(_) => return busy(state, len),
            }
        }
        None => match state
            .in_flight
            .clone()
            .try_acquire_many_owned(wanted as u32)
        {
            Ok(permit) => permit,
            Err(_) => return busy(state, len),
        },
    };
    let slices = document.into_chunks().into_iter().flat_map(|chunk| {
        let chunk = Bytes::from(chunk);
        let len = chunk.len();
        (0..len)
            .step_by(SLICE)
            .map(move |at| chunk.slice(at..(at + SLICE).min(len)))
    });
    let stream = futures_util::stream::iter(slices).map(move |slice| {
        // The permit is released when the stream is dropped: sent, or the client left.
        let _held = &permit;
        Ok::<_, std::convert::Infallible>(slice)
    });
    HttpResponse::Ok()
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=UTF-8"),
        ))
        .body(SizedStream::new(len, stream))
}

/// The root domain has one endpoint, `/oai`: `/{root}/oai` answers with a permanent
/// redirect there (308 for POST, which keeps the method and body), so that harvesters
/// register one baseURL.
fn redirect_to_root_endpoint(state: &AppState, req: &HttpRequest, path: &str) -> HttpResponse {
    let mut location = format!("{}{path}", public_prefix(state).unwrap_or_default());
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
        None => format!("{}{}", origin::origin(req, &state.proxies), req.path()),
    }
}

/// `server.public_url` without a trailing slash, unless it is the default.
fn public_prefix(state: &AppState) -> Option<String> {
    let url = state.config.server.public_url.trim_end_matches('/');
    (url != crate::config::ServerConfig::default().public_url).then(|| url.to_string())
}
