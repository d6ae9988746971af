//! The HTTP adapter (actix-web): routes, shared state, and the edges where protocol
//! answers, credentials and overload become HTTP. Only this module knows actix.

pub mod api;
mod auth;
mod gzip;
mod home;
mod oai;
mod observe;
mod origin;
mod overload;
pub mod pages;
mod prometheus;
pub mod session;

use crate::config::Config;
use crate::domain::{Clock, DomainTree};
use crate::metrics::Metrics;
use crate::oai::resumption_token::TokenKey;
use crate::store::Store;
use actix_web::http::header::{ContentType, ALLOW};
use actix_web::{guard, web, HttpResponse};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{RwLock, Semaphore};

/// State shared by all workers.
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Resumption token key.
    pub tokens: TokenKey,
    /// The ingest API's rate limits.
    pub api: api::ApiState,
    /// Where every time of day is read (responseDate, tokens, sessions, datestamps).
    pub clock: Clock,
    /// The request counters `/metrics` reports.
    pub metrics: Arc<Metrics>,
    figures: prometheus::FigureCache,
    tree: RwLock<(Instant, Arc<DomainTree>)>,
    proxies: origin::TrustedProxies,
    /// Bytes of responses in memory, in KiB (`server.max_response_bytes`).
    in_flight: Arc<Semaphore>,
}

/// How long the domain tree is cached before it is read again (domains added by
/// `vitrine domain add` while the server runs appear after this).
const TREE_TTL: Duration = Duration::from_secs(5);

impl AppState {
    /// New state; reads the domains once.
    pub async fn new(
        store: Arc<dyn Store>,
        config: Arc<Config>,
        tokens: TokenKey,
        clock: Clock,
    ) -> anyhow::Result<AppState> {
        let tree = Arc::new(crate::store::load_tree(store.as_ref(), config.clone()).await?);
        let proxies = origin::TrustedProxies::new(config.server.trusted_proxy_networks()?);
        let in_flight = Arc::new(Semaphore::new(
            kib(config.server.max_response_bytes) as usize
        ));
        Ok(AppState {
            api: api::ApiState::new(&config),
            metrics: Arc::new(Metrics::default()),
            figures: prometheus::FigureCache::default(),
            store,
            config,
            tokens,
            clock,
            tree: RwLock::new((Instant::now(), tree)),
            proxies,
            in_flight,
        })
    }

    /// The domain tree, re-read from the store when older than a few seconds.
    pub async fn tree(&self) -> Result<Arc<DomainTree>, crate::store::StoreError> {
        {
            let cached = self.tree.read().await;
            if cached.0.elapsed() < TREE_TTL {
                return Ok(cached.1.clone());
            }
        }
        let tree =
            Arc::new(crate::store::load_tree(self.store.as_ref(), self.config.clone()).await?);
        *self.tree.write().await = (Instant::now(), tree.clone());
        Ok(tree)
    }
}

/// Bytes in KiB, rounded up, as semaphore permits.
fn kib(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

/// Registers every route. Every GET route answers HEAD too (RFC 9110 §9.3.2: the same
/// status and headers, no body); any other method gets 405 with `Allow`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(readable("/", web::to(pages::home_index)))
        .service(readable("/health", web::to(home::health)))
        .service(readable("/ready", web::to(home::ready)))
        .service(readable(
            "/schemas/diagnostics.xsd",
            web::to(home::diagnostics_schema),
        ))
        .service(
            readable("/oai", web::to(oai::root_endpoint))
                .route(web::post().to(oai::root_endpoint_post))
                .default_service(web::to(method_not_allowed::<true>)),
        )
        .service(
            readable("/{dname}/oai", web::to(oai::endpoint))
                .route(web::post().to(oai::endpoint_post))
                .default_service(web::to(method_not_allowed::<true>)),
        )
        .configure(api::routes);
    pages::routes(cfg);
}

/// The routes of the metrics listener (`server.metrics_bind`): `/metrics` beside the
/// liveness and readiness checks.
pub fn metrics_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(readable("/metrics", web::to(prometheus::metrics)))
        .service(readable("/health", web::to(home::health)))
        .service(readable("/ready", web::to(home::ready)));
}

/// A resource answering GET and HEAD with `handler`, and 405 to anything else.
fn readable(path: &str, handler: actix_web::Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler.guard(guard::Any(guard::Get()).or(guard::Head())))
        .default_service(web::to(method_not_allowed::<false>))
}

/// 405 Method Not Allowed, with the methods the resource does allow.
async fn method_not_allowed<const POST: bool>() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, if POST { "GET, HEAD, POST" } else { "GET, HEAD" }))
        .content_type(ContentType::plaintext())
        .body("method not allowed here\n")
}

pub use observe::Observe;
pub use overload::Overload;
