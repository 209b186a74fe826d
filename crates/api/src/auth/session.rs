//! Cookie sessions of same-origin hosting (`sign_in`): the cookie, the session row behind it,
//! and the caller it makes. A request with a bearer token never looks at the cookie.

use actix_web::HttpRequest;
use actix_web::http::header::ORIGIN;
use std::time::Duration;

use super::caller::{CIPP_VERSION_HEADER, Caller, Identity};
use super::roles::RoleSet;
use crate::error::{ApiError, CODE_CROSS_SITE};
use crate::settings::Mode;
use crate::state::AppState;

/// The session cookie: a random id (32 bytes, base64url); the store keeps only its SHA-256.
pub const SESSION_COOKIE: &str = "cipp_session";
/// The sign-in in progress: its `state`, so the callback is tied to the browser that started it.
pub const LOGIN_COOKIE: &str = "cipp_sign_in";

pub fn hash_hex(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The origin browsers reach this service at: `CIPP_PUBLIC_URL`, or (demo mode, where it may
/// be unset) `http://<Host>` of the request itself.
pub fn public_origin(request: &HttpRequest, state: &AppState) -> String {
    match &state.settings.sign_in.public_url {
        Some(url) => url.origin().ascii_serialization(),
        // The Host header itself, not `connection_info`, which believes X-Forwarded-Host.
        None => format!(
            "http://{}",
            request
                .headers()
                .get(actix_web::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1")
        ),
    }
}

/// Cookies are `Secure` except in demo mode served at `http://127.0.0.1`: browsers refuse to
/// keep a `Secure` cookie from plain http there, and the demo's published credentials make it
/// unfit for anything but loopback anyway. Production always sets `Secure`.
fn secure(request: &HttpRequest, state: &AppState) -> bool {
    let origin = public_origin(request, state);
    let loopback_http = origin == "http://127.0.0.1" || origin.starts_with("http://127.0.0.1:");
    !(state.settings.mode == Mode::Demo && loopback_http)
}

/// A cookie of this service: `HttpOnly` (no script reads it), `SameSite=Lax`, path `/`, as a
/// `Set-Cookie` value. Lax rather than Strict: the sign-in's callback arrives by a cross-site
/// redirect from Entra, and a Strict cookie would not be sent with it. Cross-site requests to
/// `/api` are refused by [`check_same_origin`] instead. `max_age` zero deletes the cookie.
/// Values are base64url (or empty), so nothing needs quoting.
pub fn cookie(
    request: &HttpRequest,
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: Option<Duration>,
) -> (actix_web::http::header::HeaderName, String) {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure(request, state) {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={}", age.as_secs()));
    }
    (actix_web::http::header::SET_COOKIE, text)
}

/// The value of the request's cookie `name` (the first, if the browser sent several).
pub fn cookie_value(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// The live session the request's cookie names, if any.
pub async fn session_of(
    request: &HttpRequest,
    state: &AppState,
) -> Option<cipp_store::SignInSession> {
    let cookie = cookie_value(request, SESSION_COOKIE)?;
    if cookie.is_empty() {
        return None;
    }
    match state.store.session_get(&hash_hex(&cookie)).await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "a session could not be read");
            None
        }
    }
}

/// The caller of a request signed in by cookie: `None` when sign-in is off or no session
/// cookie came; a 401 for an unknown or expired session; a 403 for a cross-site request or a
/// user holding no CIPP role.
pub async fn cookie_caller(
    request: &HttpRequest,
    state: &AppState,
) -> Option<Result<Caller, ApiError>> {
    if !state.settings.sign_in.enabled() {
        return None;
    }
    let cookie = cookie_value(request, SESSION_COOKIE)?;
    if cookie.is_empty() {
        return None;
    }
    Some(caller_of(request, state).await)
}

async fn caller_of(request: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let session = session_of(request, state)
        .await
        .ok_or_else(|| ApiError::unauthorized("the session cookie names no live session"))?;
    check_same_origin(request, state)?;
    let roles = RoleSet::resolve(&session.roles, &state.settings.custom_roles);
    if roles.names().is_empty() {
        return Err(ApiError::forbidden(format!(
            "{} is signed in but holds no CIPP role (assign an app role, or map the user in CIPP_LOGIN_ROLE_MAP)",
            session.user_principal_name
        )));
    }
    Ok(Caller {
        identity: Identity::User {
            user_principal_name: session.user_principal_name,
            object_id: session.user_id,
        },
        roles,
    })
}

/// Cross-site request refusal for cookie callers. The browser attaches the `SameSite=Lax`
/// cookie to a cross-site top-level navigation, and every operation answers every verb, so
/// every request is checked, not only POSTs. Allowed: `Sec-Fetch-Site: same-origin` (or `none`,
/// a URL the user typed, for GET); without `Sec-Fetch-Site` (older browsers), an `Origin` of
/// this service, or the `X-CIPP-Version` header the CIPP frontend sends (a cross-site page
/// cannot send it without a CORS preflight this API never grants).
pub fn check_same_origin(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let refuse = |message: String| ApiError {
        code: CODE_CROSS_SITE,
        ..ApiError::forbidden(message)
    };
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let safe_verb = matches!(request.method().as_str(), "GET" | "HEAD");
    match header("sec-fetch-site").as_deref() {
        Some("same-origin") => return Ok(()),
        Some("none") if safe_verb => return Ok(()),
        Some(other) => {
            return Err(refuse(format!(
                "Refused: a request signed in by cookie must come from this site's own pages (Sec-Fetch-Site: {other})"
            )));
        }
        None => {}
    }
    let own = public_origin(request, state).to_ascii_lowercase();
    match request.headers().get(ORIGIN).map(|o| {
        o.to_str()
            .unwrap_or_default()
            .trim()
            .trim_end_matches('/')
            .to_ascii_lowercase()
    }) {
        Some(origin) if origin == own => Ok(()),
        Some(origin) => Err(refuse(format!(
            "Refused: a request signed in by cookie comes from origin '{origin}', not this site"
        ))),
        None if request.headers().contains_key(CIPP_VERSION_HEADER) => Ok(()),
        None => Err(refuse(
            "Refused: a request signed in by cookie must show it comes from this site (Origin, Sec-Fetch-Site or X-CIPP-Version)".into(),
        )),
    }
}
