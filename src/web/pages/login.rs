//! `GET /login` (the form), `POST /login` (checks the CSRF token, the throttle and the
//! password; sets the session cookie and goes back to the page asked for) and
//! `POST /logout`.

use super::layout::{page, respond, Chrome};
use super::Lang;
use crate::web::session::{
    cookie, current, random_token, safe_next, same_token, set_cookie, token_hash,
    LOGIN_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::web::AppState;
use actix_web::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

/// The window in which failed logins count.
const THROTTLE_WINDOW: i64 = 15 * 60;

fn form_fields(body: &[u8]) -> impl Fn(&str) -> String + '_ {
    move |name: &str| {
        form_urlencoded::parse(body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }
}

fn login_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    next: &str,
    username: &str,
    message: Option<&str>,
) -> HttpResponse {
    let lang = Lang::of(req);
    let csrf = cookie(req, LOGIN_CSRF_COOKIE).unwrap_or_else(random_token);
    let chrome = Chrome {
        lang,
        session: None,
        domain: None,
        title: lang.t("Anmelden", "Log in"),
        refresh: None,
    };
    let body = html! {
        div.login.panel {
            h1 { (lang.t("Anmelden", "Log in")) }
            p.muted { (lang.t("QA-Statistiken und Jobverwaltung von vitrine.",
                              "vitrine's QA statistics and job administration.")) }
            @if let Some(message) = message {
                p.notice.bad role="alert" { (message) }
            }
            form.stack method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label { (lang.t("Benutzername", "User name"))
                    input type="text" name="username" value=(username) autocomplete="username"
                        required autofocus;
                }
                label { (lang.t("Passwort", "Password"))
                    input type="password" name="password" autocomplete="current-password" required;
                }
                div { button type="submit" { (lang.t("Anmelden", "Log in")) } }
            }
        }
    };
    let mut response = respond(status, page(&chrome, body));
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    response
}

/// `GET /login`.
pub async fn form(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let next = form_fields(req.query_string().as_bytes())("next");
    login_page(&state, &req, StatusCode::OK, &safe_next(&next), "", None)
}

/// `POST /login`.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let lang = Lang::of(&req);
    let field = form_fields(&body);
    let (username, password, next) = (
        field("username"),
        field("password"),
        safe_next(&field("next")),
    );
    let expected = cookie(&req, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_token(&expected, &field("csrf")) {
        return login_page(
            &state,
            &req,
            StatusCode::FORBIDDEN,
            &next,
            &username,
            Some(lang.t(
                "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Bitte erneut anmelden.",
                "The form has expired or did not come from this site. Please log in again.",
            )),
        );
    }
    let now = state.clock.now();
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string());
    let keys = [format!("user:{username}"), format!("addr:{address}")];
    let limits = [
        i64::from(state.config.web.max_failed_logins_per_user),
        i64::from(state.config.web.max_failed_logins_per_address),
    ];
    for (key, limit) in keys.iter().zip(limits) {
        match state.store.login_failures(key, now - THROTTLE_WINDOW).await {
            Ok(n) if n >= limit => {
                tracing::warn!(key = %key, "login refused: too many failed attempts");
                let mut response = login_page(
                    &state,
                    &req,
                    StatusCode::TOO_MANY_REQUESTS,
                    &next,
                    &username,
                    Some(lang.t(
                        "Zu viele fehlgeschlagene Anmeldungen. Bitte in 15 Minuten erneut versuchen.",
                        "Too many failed logins. Please try again in 15 minutes.",
                    )),
                );
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, THROTTLE_WINDOW.into());
                return response;
            }
            Ok(_) => {}
            Err(e) => return crate::web::home::unavailable(&state, &e),
        }
    }
    let stored = match state.store.user_with_hash(&username).await {
        Ok(stored) => stored,
        Err(e) => return crate::web::home::unavailable(&state, &e),
    };
    let hash = stored.as_ref().map_or_else(
        || crate::users::dummy_hash().to_string(),
        |(_, h)| h.clone(),
    );
    let verified = web::block(move || crate::users::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let user = match stored {
        Some((user, _)) if verified => user,
        _ => {
            tracing::info!(user = %username, address = %address, "failed login");
            if let Err(e) = state.store.note_login_failure(&keys, now).await {
                return crate::web::home::unavailable(&state, &e);
            }
            return login_page(
                &state,
                &req,
                StatusCode::UNAUTHORIZED,
                &next,
                &username,
                Some(lang.t(
                    "Benutzername oder Passwort ist falsch.",
                    "The user name or the password is wrong.",
                )),
            );
        }
    };
    let token = random_token();
    let lifetime = i64::from(state.config.web.session_hours.max(1)) * 3600;
    let stored = async {
        state.store.clear_login_failures(&keys[0]).await?;
        state
            .store
            .create_session(
                &token_hash(&token),
                user.id,
                &random_token(),
                now,
                now + lifetime,
            )
            .await
    };
    if let Err(e) = stored.await {
        return crate::web::home::unavailable(&state, &e);
    }
    tracing::info!(user = %user.name, "logged in");
    HttpResponse::SeeOther()
        .insert_header((LOCATION, next))
        .append_header((
            SET_COOKIE,
            set_cookie(&state, SESSION_COOKIE, &token, lifetime),
        ))
        .append_header((SET_COOKIE, set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0)))
        .finish()
}

/// `POST /logout`: ends the session when the form carries its CSRF token.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let lang = Lang::of(&req);
    let session = match current(&state, &req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Some(session) = session else {
        return HttpResponse::SeeOther()
            .insert_header((LOCATION, "/login"))
            .finish();
    };
    if !same_token(&session.csrf, &form_fields(&body)("csrf")) {
        return super::error_page(
            StatusCode::FORBIDDEN,
            lang,
            Some(&session),
            lang.t(
                "Abmelden abgelehnt: Das Formular stammt nicht von dieser Seite.",
                "Logout refused: the form did not come from this site.",
            ),
        );
    }
    if let Some(token) = cookie(&req, SESSION_COOKIE) {
        if let Err(e) = state.store.delete_session(&token_hash(&token)).await {
            return crate::web::home::unavailable(&state, &e);
        }
    }
    tracing::info!(user = %session.user.name, "logged out");
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/login"))
        .append_header((SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0)))
        .finish()
}
