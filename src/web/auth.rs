//! Optional HTTP Basic authentication per domain (harvesters such as Rosetta send
//! credentials when configured): the gate of a protected domain's own endpoint, and which
//! protected sub-domains a request may see through an ancestor's endpoint.

use crate::config::{BasicAuth, DomainConfig};
use crate::domain::DomainTree;
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// `None` when the request may pass `config`'s credentials (those of the endpoint's
/// domain or of its nearest protected ancestor); else the 401 response.
pub fn check(req: &HttpRequest, config: &DomainConfig, dname: &str) -> Option<HttpResponse> {
    let expected = config.oai.auth.as_ref()?;
    if credentials(req).is_some_and(|given| opens(&given, expected)) {
        None
    } else {
        Some(
            HttpResponse::Unauthorized()
                .insert_header((WWW_AUTHENTICATE, format!("Basic realm=\"vitrine {dname}\"")))
                .body("this OAI-PMH endpoint requires credentials\n"),
        )
    }
}

/// The protected domains strictly below `endpoint` whose credentials the request carries:
/// their records (and those of their sub-domains) are visible through this endpoint.
pub fn unlocked(req: &HttpRequest, tree: &DomainTree, endpoint: i64) -> Vec<i64> {
    let protected = tree.protected_below(endpoint);
    if protected.is_empty() {
        return Vec::new();
    }
    let Some(given) = credentials(req) else {
        return Vec::new();
    };
    protected
        .into_iter()
        .filter(|id| {
            tree.config(*id)
                .oai
                .auth
                .as_ref()
                .is_some_and(|expected| opens(&given, expected))
        })
        .collect()
}

/// User and password of an `Authorization: Basic …` header. The scheme name is
/// case-insensitive (RFC 9110 §11.1), so `basic` and `BASIC` count too.
fn credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
    Some((user.to_string(), password.to_string()))
}

/// Whether the given credentials are the expected ones (compared in constant time).
fn opens(given: &(String, String), expected: &BasicAuth) -> bool {
    constant_eq(&given.0, &expected.user) & constant_eq(&given.1, &expected.password)
}

/// Whether `a` equals `b`, compared in time independent of where they differ.
pub fn constant_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}
