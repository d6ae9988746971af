//! Who may call the ingest API: a bearer token (`vitrine token create`) valid for the
//! requested domain or one above it, with the scope the operation needs, within its rate
//! limit. The token text is never logged.

use super::problem::Problem;
use crate::domain::{Domain, DomainTree};
use crate::store::{ApiToken, TokenScope, TokenVerifyError};
use crate::web::AppState;
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use std::sync::Arc;

/// An authorised request: the token, the domain tree and the requested domain.
pub struct Authorized {
    /// The token presented.
    pub token: ApiToken,
    /// The domain tree at the time of the request.
    pub tree: Arc<DomainTree>,
    /// The domain of the URL.
    pub domain: Domain,
}

/// Checks the request's token for `dname` and `scope`: 401 (no or invalid token), 429
/// (rate limit), 404 (unknown domain), 403 (another domain, or a read-only token).
pub async fn authorize(
    req: &HttpRequest,
    state: &AppState,
    dname: &str,
    scope: TokenScope,
) -> Result<Authorized, Problem> {
    let text = bearer(req)?.ok_or_else(|| {
        Problem::unauthorized(
            "this API needs a bearer token: send 'Authorization: Bearer vit_…' \
             (create one with `vitrine token create --domain D --scope ingest`)",
        )
    })?;
    authorize_token(state, text, dname, scope).await
}

/// The token of the `Authorization: Bearer …` header, if the request has the header.
pub fn bearer(req: &HttpRequest) -> Result<Option<&str>, Problem> {
    let Some(header) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let header = header
        .to_str()
        .map_err(|_| Problem::unauthorized("the Authorization header is not readable text"))?;
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(|t| Some(t.trim()))
        .ok_or_else(|| Problem::unauthorized("the Authorization header must read 'Bearer vit_…'"))
}

/// As [`authorize`], for a token presented in another way (an export call's body).
pub async fn authorize_token(
    state: &AppState,
    text: &str,
    dname: &str,
    scope: TokenScope,
) -> Result<Authorized, Problem> {
    let now = state.clock.now();
    let token = match state.store.verify_token(text, now).await {
        Ok(token) => token,
        Err(TokenVerifyError::Refused(refusal)) => {
            return Err(Problem::unauthorized(format!(
                "{refusal}; ask the vitrine administrator for a new one"
            )))
        }
        Err(TokenVerifyError::Store(e)) => return Err(Problem::internal(&e)),
    };
    if let Err(seconds) = state.api.limiter.take(token.id) {
        return Err(Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!(
                "token {} ({}) made more requests than api.rate_limit_per_second allows; \
                 retry in {seconds} s",
                token.id, token.name
            ),
        )
        .retry_after(seconds));
    }
    let tree = state.tree().await.map_err(|e| Problem::internal(&e))?;
    let domain = tree
        .by_name(dname)
        .cloned()
        .ok_or_else(|| Problem::not_found(format!("there is no domain {dname:?}")))?;
    if !tree
        .lineage(domain.id)
        .iter()
        .any(|d| d.id == token.domain_id)
    {
        let own = tree.by_id(token.domain_id).map_or_else(
            || "another domain".to_string(),
            |d| format!("domain {}", d.name),
        );
        return Err(Problem::forbidden(format!(
            "token {} ({}) is valid for {own} and the domains below it, not for {dname}",
            token.id, token.name
        )));
    }
    if scope == TokenScope::Ingest && token.scope != TokenScope::Ingest {
        return Err(Problem::forbidden(format!(
            "token {} ({}) has the scope {}; this operation needs a token with the scope ingest",
            token.id,
            token.name,
            token.scope.as_str()
        )));
    }
    Ok(Authorized {
        token,
        tree,
        domain,
    })
}
