//! Logins to the QA and administration pages: the session cookie (its SHA-256 is what the
//! database keeps), the CSRF token every state-changing form carries, and the access
//! decision of each page — anonymous HTML requests go to the login form, anonymous
//! `.json`/`.csv` requests get 401, a grant that does not cover the domain or a role that
//! does not suffice gets 403, an unknown domain 404.

use super::pages::{self, Lang};
use super::AppState;
use crate::domain::{Domain, DomainTree};
use crate::store::Session;
use crate::users::Role;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use sha2::Digest;
use std::sync::Arc;

/// The session cookie.
pub const SESSION_COOKIE: &str = "vitrine_session";
/// The cookie holding the login form's CSRF token (before there is a session).
pub const LOGIN_CSRF_COOKIE: &str = "vitrine_login";

/// A fresh random token: 32 bytes, hex.
pub fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the database keeps of a session cookie.
pub fn token_hash(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value of a request cookie.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` over https;
/// `max_age` 0 removes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.web.https {
        "; Secure"
    } else {
        ""
    };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Whether two tokens are equal, in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && crate::web::auth::constant_eq(a, b)
}

/// The session of the request, if it carries a live one.
pub async fn current(state: &AppState, req: &HttpRequest) -> Result<Option<Session>, HttpResponse> {
    let Some(token) = cookie(req, SESSION_COOKIE) else {
        return Ok(None);
    };
    let now = state.clock.now();
    state
        .store
        .session(&token_hash(&token), now)
        .await
        .map_err(|e| super::home::unavailable(state, &e))
}

/// What a page answers: people get HTML, scripts `.json`/`.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// An HTML page: anonymous requests are sent to the login form.
    Page,
    /// Data for scripts: anonymous requests get 401.
    Data,
}

/// A request allowed in: who, on which domain, with the tree it was decided on.
pub struct Access {
    /// The session.
    pub session: Session,
    /// The domain of the page.
    pub domain: Domain,
    /// The domain tree.
    pub tree: Arc<DomainTree>,
    /// The language of the answer.
    pub lang: Lang,
}

/// Decides whether the request may see the page of `dname` (`None`: the root domain)
/// that needs `role`; the `Err` is the answer to send instead.
pub async fn require(
    state: &AppState,
    req: &HttpRequest,
    dname: Option<&str>,
    role: Role,
    audience: Audience,
) -> Result<Access, HttpResponse> {
    let lang = Lang::of(req);
    let Some(session) = current(state, req).await? else {
        return Err(match audience {
            Audience::Page => to_login(req),
            Audience::Data => HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Cookie realm=\"vitrine\""))
                .content_type("text/plain; charset=utf-8")
                .body("log in at /login first\n"),
        });
    };
    let tree = state
        .tree()
        .await
        .map_err(|e| super::home::unavailable(state, &e))?;
    let domain = match dname {
        Some(name) => tree.by_name(name),
        None => tree.root(),
    }
    .cloned();
    let Some(domain) = domain else {
        return Err(pages::error_page(
            StatusCode::NOT_FOUND,
            lang,
            Some(&session),
            lang.t("Diese Domain gibt es nicht.", "There is no such domain."),
        ));
    };
    if !session.user.covers(&tree, domain.id) || session.user.role < role {
        let text = if session.user.role < role {
            lang.t(
                "Diese Seite ist Administratoren vorbehalten.",
                "This page is for administrators only.",
            )
        } else {
            lang.t(
                "Ihr Zugang umfasst diese Domain nicht.",
                "Your account does not cover this domain.",
            )
        };
        return Err(pages::error_page(
            StatusCode::FORBIDDEN,
            lang,
            Some(&session),
            text,
        ));
    }
    Ok(Access {
        session,
        domain,
        tree,
        lang,
    })
}

/// 303 to the login form, which sends the user back here afterwards.
pub fn to_login(req: &HttpRequest) -> HttpResponse {
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/login?next={next}")))
        .finish()
}

/// `next` if it is a path on this site, else `/`.
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if local {
        next.to_string()
    } else {
        "/".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(
            safe_next("/ulb/qa/oaivalidator?state=invalid"),
            "/ulb/qa/oaivalidator?state=invalid"
        );
        assert_eq!(safe_next("//evil.example.org/"), "/");
        assert_eq!(safe_next("https://evil.example.org/"), "/");
        assert_eq!(safe_next("/\\evil.example.org"), "/");
    }

    #[test]
    fn tokens_compare_equal_only_when_equal_and_present() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("", ""));
    }
}
