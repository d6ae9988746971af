//! Building and running the application: opens the store, derives the token key, binds
//! the listener (port 0 in tests) and, when `server.metrics_bind` names one, the metrics
//! listener, and serves until stopped.

use crate::config::Config;
use crate::domain::Clock;
use crate::oai::resumption_token::TokenKey;
use crate::store::Store;
use crate::web::{metrics_routes, routes, AppState, Observe, Overload};
use actix_web::dev::Server;
use actix_web::middleware::Compress;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;

/// A bound, not yet running application.
pub struct Application {
    server: Server,
    port: u16,
    metrics: Option<(Server, u16)>,
}

impl Application {
    /// Binds `bind` and prepares the server, which reads the time from `clock`.
    pub async fn build(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        bind: &str,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let tokens = token_key(&config, store.as_ref()).await?;
        let state = web::Data::new(AppState::new(store, config.clone(), tokens, clock).await?);
        let listener =
            TcpListener::bind(bind).with_context(|| format!("cannot listen on {bind}"))?;
        let port = listener.local_addr()?.port();
        let overload = Overload::new(
            config.server.max_concurrent_requests,
            config.server.retry_after_seconds,
            state.metrics.clone(),
        );
        let observe = Observe::new(state.metrics.clone());
        let metrics = match config.server.metrics_bind.trim() {
            "" => None,
            metrics_bind => Some(metrics_server(state.clone(), metrics_bind)?),
        };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(Compress::default())
                .wrap(overload.clone())
                .wrap(observe.clone())
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(1 << 20))
                .configure(routes)
        })
        // A response goes out in several writes (markup, then each record): without
        // this, Nagle's algorithm holds the last one back until the client's delayed
        // acknowledgement, some 40 ms on every keep-alive request.
        .tcp_nodelay(true)
        .listen(listener)?
        .run();
        Ok(Application {
            server,
            port,
            metrics,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// Serves until the process is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.metrics {
            None => self.server.await,
            Some((metrics, _)) => {
                let (main, metrics) = futures_util::future::join(self.server, metrics).await;
                main.and(metrics)
            }
        }
    }
}

/// The metrics listener: `/metrics`, `/health` and `/ready` only, on one worker, its own
/// requests not counted.
fn metrics_server(state: web::Data<AppState>, bind: &str) -> anyhow::Result<(Server, u16)> {
    let listener = TcpListener::bind(bind)
        .with_context(|| format!("cannot listen on {bind} (server.metrics_bind)"))?;
    let port = listener.local_addr()?.port();
    let server =
        HttpServer::new(move || App::new().app_data(state.clone()).configure(metrics_routes))
            .workers(1)
            .listen(listener)?
            .run();
    Ok((server, port))
}

/// The configured token secret, or the one kept in the database (generated once).
pub async fn token_key(config: &Config, store: &dyn Store) -> anyhow::Result<TokenKey> {
    if !config.oai.token_secret.is_empty() {
        return Ok(TokenKey::new(config.oai.token_secret.as_bytes()));
    }
    let fresh: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let secret = store
        .setting_or_insert("oai.token_secret", &fresh)
        .await
        .context("cannot read the resumption token secret")?;
    Ok(TokenKey::new(secret.as_bytes()))
}
