//! The HTTP adapter (actix-web): routes, shared state, and the edges where protocol
//! answers, credentials and overload become HTTP. Only this module knows actix.

mod auth;
mod home;
mod oai;
mod overload;
pub mod pages;
pub mod session;

use crate::config::Config;
use crate::domain::DomainTree;
use crate::oai::resumption_token::TokenKey;
use crate::store::Store;
use actix_web::web;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// State shared by all workers.
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Resumption token key.
    pub tokens: TokenKey,
    tree: RwLock<(Instant, Arc<DomainTree>)>,
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
    ) -> anyhow::Result<AppState> {
        let tree = Arc::new(crate::store::load_tree(store.as_ref(), config.clone()).await?);
        Ok(AppState {
            store,
            config,
            tokens,
            tree: RwLock::new((Instant::now(), tree)),
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

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(home::health))
        .route(
            "/schemas/diagnostics.xsd",
            web::get().to(home::diagnostics_schema),
        )
        .route("/oai", web::get().to(oai::root_endpoint))
        .route("/oai", web::post().to(oai::root_endpoint_post))
        .route("/{dname}/oai", web::get().to(oai::endpoint))
        .route("/{dname}/oai", web::post().to(oai::endpoint_post));
    pages::routes(cfg);
}

pub use overload::Overload;
