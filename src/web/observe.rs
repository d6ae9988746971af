//! Counting every request for `/metrics`: its endpoint, OAI verb and status, the time
//! until its response started, and the bytes of its body as they are sent (after
//! compression). The OAI handler names its endpoint and verb in the request's
//! extensions ([`OaiRequest`]); for requests that never reach it (turned away by the
//! overload limit, unknown domains) the route pattern and the query string tell.

use crate::metrics::{EndpointStats, Metrics, VerbLabel};
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use pin_project_lite::pin_project;
use std::future::{ready, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// What the OAI handler knows of a request: the endpoint of the domain it addressed and
/// its verb; whether the response carries a new resumption token.
#[derive(Debug, Clone)]
pub struct OaiRequest {
    /// The domain's endpoint path (`/oai`, `/zd/oai`).
    pub endpoint: String,
    /// The verb.
    pub verb: VerbLabel,
    /// A resumption token was issued.
    pub issued_token: bool,
}

/// Marks a request as addressed to a domain's OAI endpoint.
pub fn note_oai(req: &HttpRequest, endpoint: String, verb: VerbLabel) {
    req.extensions_mut().insert(OaiRequest {
        endpoint,
        verb,
        issued_token: false,
    });
}

/// Notes that the response to an OAI request issues a resumption token.
pub fn note_token(req: &HttpRequest) {
    if let Some(oai) = req.extensions_mut().get_mut::<OaiRequest>() {
        oai.issued_token = true;
    }
}

/// The middleware factory.
#[derive(Clone)]
pub struct Observe {
    metrics: Arc<Metrics>,
}

impl Observe {
    /// Counts into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Observe { metrics }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Observe
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<Counted<B>>;
    type Error = actix_web::Error;
    type Transform = ObserveService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ObserveService {
            service,
            metrics: self.metrics.clone(),
        }))
    }
}

/// The middleware.
pub struct ObserveService<S> {
    service: S,
    metrics: Arc<Metrics>,
}

impl<S, B> Service<ServiceRequest> for ObserveService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<Counted<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let metrics = self.metrics.clone();
        let fut = self.service.call(req);
        Box::pin(async move {
            match fut.await {
                Ok(res) => {
                    let (stats, verb) = labels(&metrics, res.request());
                    stats
                        .verb(verb)
                        .answered(res.status().as_u16(), started.elapsed());
                    Ok(res.map_body(|_, body| Counted {
                        body,
                        tally: Tally {
                            stats,
                            verb,
                            bytes: 0,
                        },
                    }))
                }
                Err(e) => {
                    // Handlers turn their errors into responses; an error here comes
                    // from a middleware, before any route was known.
                    let status = e.as_response_error().status_code().as_u16();
                    metrics
                        .endpoint("other")
                        .verb(VerbLabel::NOT_OAI)
                        .answered(status, started.elapsed());
                    Err(e)
                }
            }
        })
    }
}

/// The series a request is counted in: its endpoint's and verb's.
fn labels(metrics: &Metrics, req: &HttpRequest) -> (Arc<EndpointStats>, VerbLabel) {
    if let Some(oai) = req.extensions().get::<OaiRequest>() {
        let stats = metrics.endpoint(&oai.endpoint);
        if oai.issued_token {
            stats.verb(oai.verb).issued_token();
        }
        return (stats, oai.verb);
    }
    let pattern = req.match_pattern();
    match pattern.as_deref() {
        Some(oai @ ("/oai" | "/{dname}/oai")) => {
            let verb = VerbLabel::of_query(req.query_string());
            // A domain endpoint counted before keeps its name; any other path stays
            // under the pattern, so that unknown names add no series.
            let stats = metrics
                .known(req.path())
                .unwrap_or_else(|| metrics.endpoint(oai));
            (stats, verb)
        }
        Some(route) => (metrics.endpoint(route), VerbLabel::NOT_OAI),
        None => (metrics.endpoint("other"), VerbLabel::NOT_OAI),
    }
}

/// Bytes of one body sent so far, added to the series when the body is dropped (sent,
/// or the client went away).
struct Tally {
    stats: Arc<EndpointStats>,
    verb: VerbLabel,
    bytes: u64,
}

impl Drop for Tally {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.stats.verb(self.verb).sent(self.bytes);
        }
    }
}

pin_project! {
    /// A response body whose bytes are counted as they go out.
    pub struct Counted<B> {
        #[pin]
        body: B,
        tally: Tally,
    }
}

impl<B: MessageBody> MessageBody for Counted<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let next = this.body.poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            this.tally.bytes += chunk.len() as u64;
        }
        next
    }

    fn try_into_bytes(self) -> Result<Bytes, Self> {
        let Counted { body, mut tally } = self;
        match body.try_into_bytes() {
            Ok(bytes) => {
                tally.bytes += bytes.len() as u64;
                Ok(bytes)
            }
            Err(body) => Err(Counted { body, tally }),
        }
    }
}
