//! `GET|POST /{dname}/oai` and `/oai`: decode the arguments (query string or form body,
//! repeated arguments kept), check credentials, call `oai::respond`, and stream the
//! document within the memory budget for responses.

use super::{auth, origin, AppState};
use crate::metrics::{Overload, VerbLabel};
use crate::oai::document::Document;
use crate::oai::{respond, Endpoint};
use crate::store::StoreError;
use actix_web::body::SizedStream;
use actix_web::http::header::{
    ContentType, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, VARY,
};
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
    let response_date = state.clock.now();
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
            send(state, document, reserved, Encoding::of(req))
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

/// Bytes handed at a time to a compressed response: for deflate, the middleware's
/// compressor runs on a blocking thread for each chunk of 1 KiB or more; for gzip, the
/// short markup between stored pieces is passed on with them. Either way the records of a
/// page go out together rather than one by one.
const COMPRESSED_SLICE: usize = 256 * 1024;

/// `pieces` joined into chunks of at least `at_least` bytes (the last may be shorter).
fn joined(
    mut pieces: impl Iterator<Item = Result<Bytes, std::io::Error>>,
    at_least: usize,
) -> impl Iterator<Item = Result<Bytes, std::io::Error>> {
    let mut buffer: Vec<u8> = Vec::new();
    std::iter::from_fn(move || loop {
        match pieces.next() {
            Some(Ok(piece)) if buffer.is_empty() && piece.len() >= at_least => {
                return Some(Ok(piece));
            }
            Some(Ok(piece)) => {
                buffer.extend_from_slice(&piece);
                if buffer.len() >= at_least {
                    return Some(Ok(Bytes::from(std::mem::take(&mut buffer))));
                }
            }
            Some(Err(e)) => return Some(Err(e)),
            None if buffer.is_empty() => return None,
            None => return Some(Ok(Bytes::from(std::mem::take(&mut buffer)))),
        }
    })
}

/// How a response is encoded for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Sent as it is.
    Identity,
    /// gzip, made here from the stored deflate pieces (`web::gzip`).
    Gzip,
    /// Another compression the client asks for (deflate), left to the compression
    /// middleware: the body is handed on in larger chunks.
    Other,
}

impl Encoding {
    fn of(req: &HttpRequest) -> Encoding {
        use actix_web::http::header::Encoding as Accepted;
        match super::gzip::negotiated(req) {
            Some(e) if e == Accepted::gzip() => Encoding::Gzip,
            Some(e) if e == Accepted::deflate() => Encoding::Other,
            _ => Encoding::Identity,
        }
    }
}

/// Sends a response document as a stream of its chunks, holding its share of
/// `server.max_response_bytes` until it is sent (or the client goes away); when that
/// share is not free, 503 with Retry-After. `reserved` is memory taken before the
/// document was made; it is adjusted to the document's size.
fn send(
    state: &AppState,
    document: Document,
    reserved: Option<OwnedSemaphorePermit>,
    encoding: Encoding,
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
    let response = |encoding: Option<&'static str>| {
        let mut response = HttpResponse::Ok();
        response.insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=UTF-8"),
        ));
        if let Some(encoding) = encoding {
            response
                .insert_header((CONTENT_ENCODING, HeaderValue::from_static(encoding)))
                .insert_header((VARY, HeaderValue::from_static("accept-encoding")));
        }
        response
    };
    // The permit is released when the stream is dropped: sent, or the client left.
    let holding = move |slice| {
        let _held = &permit;
        slice
    };
    // The length is promised (or the gzip trailer is): end the connection rather than
    // send less.
    let failed = |e: StoreError| {
        tracing::error!(error = %e, "a stored record cannot be sent");
        std::io::Error::other(e.to_string())
    };
    if encoding == Encoding::Gzip {
        // Stored bodies go out as stored; only the markup around them is deflated.
        let chunks = super::gzip::encode(document).map(move |chunk| chunk.map_err(failed));
        let stream = futures_util::stream::iter(joined(chunks, COMPRESSED_SLICE)).map(holding);
        return response(Some("gzip")).streaming(stream);
    }
    // Each piece becomes bytes when the connection reaches it: a stored body is
    // decompressed then, so a response in flight holds its compressed pieces only.
    let pieces = document
        .into_pieces()
        .into_iter()
        .map(move |piece| piece.into_bytes().map(Bytes::from).map_err(failed));
    let slices: Box<dyn Iterator<Item = Result<Bytes, std::io::Error>> + Send> =
        if encoding == Encoding::Other {
            Box::new(joined(pieces, COMPRESSED_SLICE))
        } else {
            Box::new(pieces.flat_map(|piece| {
                let (chunk, error) = match piece {
                    Ok(chunk) => (chunk, None),
                    Err(e) => (Bytes::new(), Some(Err(e))),
                };
                let len = chunk.len();
                (0..len)
                    .step_by(SLICE)
                    .map(move |at| Ok(chunk.slice(at..(at + SLICE).min(len))))
                    .chain(error)
            }))
        };
    let stream = futures_util::stream::iter(slices).map(holding);
    response(None).body(SizedStream::new(len, stream))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_chunks_keep_every_byte_in_order_and_reach_the_size_asked() {
        let pieces = (0..10u8).map(|i| Ok(Bytes::from(vec![i; 300])));
        let chunks: Vec<Bytes> = joined(pieces, 1000).map(Result::unwrap).collect();
        assert_eq!(
            chunks.iter().map(Bytes::len).collect::<Vec<_>>(),
            [1200, 1200, 600]
        );
        let all: Vec<u8> = chunks.concat();
        assert_eq!(
            all,
            (0..10u8).flat_map(|i| vec![i; 300]).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_failing_piece_ends_the_joined_chunks_with_its_error() {
        let pieces = vec![
            Ok(Bytes::from_static(b"abc")),
            Err(std::io::Error::other("damaged")),
        ];
        let mut chunks = joined(pieces.into_iter(), 1000);
        assert!(chunks.next().unwrap().is_err());
    }
}
