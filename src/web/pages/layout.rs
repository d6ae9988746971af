//! The frame every page shares (header with the domain's navigation and the logout
//! button, main, footer), the stylesheet, and the error pages (403, 404).

use super::Lang;
use crate::domain::Domain;
use crate::store::Session;
use crate::users::Role;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::{html, Markup, DOCTYPE};

/// The stylesheet: small, self-contained (no fonts or images from elsewhere).
const STYLESHEET: &str = include_str!("vitrine.css");

/// `GET /static/vitrine.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// What the frame shows around a page.
pub struct Chrome<'a> {
    /// Language.
    pub lang: Lang,
    /// The logged-in user, if any.
    pub session: Option<&'a Session>,
    /// The domain whose pages the navigation links.
    pub domain: Option<&'a Domain>,
    /// The page title.
    pub title: &'a str,
    /// Seconds after which the page reloads itself (a running job).
    pub refresh: Option<u32>,
}

/// A whole page around `body`.
pub fn page(chrome: &Chrome<'_>, body: Markup) -> Markup {
    let l = chrome.lang;
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = chrome.refresh {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (chrome.title) " · vitrine" }
                link rel="stylesheet" href="/static/vitrine.css";
            }
            body {
                a.skip href="#main" { (l.t("Zum Inhalt", "Skip to content")) }
                header.top {
                    a.brand href="/" { "vitrine" }
                    @if let Some(domain) = chrome.domain {
                        nav aria-label=(l.t("Domain", "Domain")) {
                            span.domain { (domain.title) " (" (domain.name.as_str()) ")" }
                            a href={ "/" (domain.name.as_str()) "/qa/oaivalidator" } {
                                (l.t("QA-Statistik", "QA statistics"))
                            }
                            @if chrome.session.is_some_and(|s| s.user.role == Role::Admin) {
                                a href={ "/" (domain.name.as_str()) "/admin/jobs" } {
                                    (l.t("Jobs", "Jobs"))
                                }
                            }
                        }
                    }
                    @if chrome.session.is_none() {
                        a.login-link href="/login" { (l.t("Anmelden", "Log in")) }
                    }
                    @if let Some(session) = chrome.session {
                        form.logout method="post" action="/logout" {
                            span.user { (session.user.name) " · " (session.user.role.as_str()) }
                            input type="hidden" name="csrf" value=(session.csrf);
                            button type="submit" { (l.t("Abmelden", "Log out")) }
                        }
                    }
                }
                main #main {
                    (body)
                }
                footer {
                    (l.t("vitrine — OAI-PMH-Datenprovider mit ZVDD-Validierung",
                         "vitrine — OAI-PMH data provider with ZVDD validation"))
                }
            }
        }
    }
}

/// An HTML response.
pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// The 404 page for something a signed-in user asked for that the domain does not hold,
/// in the user's language.
pub fn not_found(
    access: &crate::web::session::Access,
    de: &'static str,
    en: &'static str,
) -> HttpResponse {
    error_page(
        StatusCode::NOT_FOUND,
        access.lang,
        Some(&access.session),
        access.lang.t(de, en),
    )
}

/// An error page (403, 404, …) with a line of explanation.
pub fn error_page(
    status: StatusCode,
    lang: Lang,
    session: Option<&Session>,
    text: &str,
) -> HttpResponse {
    let title = match status {
        StatusCode::NOT_FOUND => lang.t("Nicht gefunden", "Not found"),
        StatusCode::FORBIDDEN => lang.t("Kein Zugriff", "Access denied"),
        StatusCode::CONFLICT => lang.t("Schon in Arbeit", "Already running"),
        StatusCode::TOO_MANY_REQUESTS => lang.t("Zu viele Versuche", "Too many attempts"),
        _ => lang.t("Fehler", "Error"),
    };
    let chrome = Chrome {
        lang,
        session,
        domain: None,
        title,
        refresh: None,
    };
    let body = html! {
        h1 { (title) " " small.status { "(" (status.as_u16()) ")" } }
        p.notice { (text) }
        p { a href="/" { (lang.t("Zur Startseite", "To the start page")) } }
    };
    respond(status, page(&chrome, body))
}
