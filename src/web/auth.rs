//! Optional HTTP Basic authentication per domain endpoint (harvesters such as Rosetta
//! send credentials when configured).

use crate::config::DomainConfig;
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// `None` when the request may pass; else the 401 response.
pub fn check(req: &HttpRequest, config: &DomainConfig, dname: &str) -> Option<HttpResponse> {
    let expected = config.oai.auth.as_ref()?;
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v.trim()).ok())
        .and_then(|v| String::from_utf8(v).ok());
    let ok = given.is_some_and(|g| {
        let (user, password) = g.split_once(':').unwrap_or((&g, ""));
        constant_eq(user, &expected.user) & constant_eq(password, &expected.password)
    });
    if ok {
        None
    } else {
        Some(
            HttpResponse::Unauthorized()
                .insert_header((WWW_AUTHENTICATE, format!("Basic realm=\"vitrine {dname}\"")))
                .body("this OAI-PMH endpoint requires credentials\n"),
        )
    }
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
