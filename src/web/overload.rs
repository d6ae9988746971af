//! Overload protection: at most `server.max_concurrent_requests` requests are served at
//! once; beyond that the answer is 503 with Retry-After at once — never a hang. The
//! liveness and readiness checks (`/health`, `/ready`) are answered whatever the load:
//! a busy instance is neither dead nor unready.

use crate::metrics::Metrics;
use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::RETRY_AFTER;
use actix_web::HttpResponse;
use futures_util::future::LocalBoxFuture;
use std::future::{ready, Ready};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The middleware factory.
#[derive(Clone)]
pub struct Overload {
    permits: Arc<Semaphore>,
    retry_after: u32,
    metrics: Arc<Metrics>,
}

impl Overload {
    /// Allows `limit` concurrent requests; counts those turned away into `metrics`.
    pub fn new(limit: usize, retry_after: u32, metrics: Arc<Metrics>) -> Self {
        Overload {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            retry_after,
            metrics,
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Overload
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = OverloadService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(OverloadService {
            service,
            limit: self.clone(),
        }))
    }
}

/// The middleware.
pub struct OverloadService<S> {
    service: S,
    limit: Overload,
}

impl<S, B> Service<ServiceRequest> for OverloadService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if matches!(req.path(), "/health" | "/ready") {
            let fut = self.service.call(req);
            return Box::pin(async move { Ok(fut.await?.map_into_left_body()) });
        }
        match self.limit.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let fut = self.service.call(req);
                Box::pin(async move {
                    let res = fut.await?;
                    drop(permit);
                    Ok(res.map_into_left_body())
                })
            }
            Err(_) => {
                self.limit
                    .metrics
                    .overloaded(crate::metrics::Overload::Requests);
                let retry = self.limit.retry_after;
                Box::pin(async move {
                    let response = HttpResponse::ServiceUnavailable()
                        .insert_header((RETRY_AFTER, retry.to_string()))
                        .body("vitrine is busy; retry later\n");
                    Ok(req.into_response(response).map_into_right_body())
                })
            }
        }
    }
}
