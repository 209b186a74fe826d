//! Same-origin hosting's browser sign-in, in Azure Static Web Apps' shape so the CIPP frontend
//! needs no change: `/.auth/login/aad` (to Entra's authorize endpoint: authorization code with
//! PKCE S256, `state` and `nonce`), `/.auth/login/aad/callback` (code → tokens, the ID token
//! validated as bearer tokens are, a server-side session and its cookie), `/.auth/logout` and
//! `/.auth/me`. The session is a random id in a cookie; the row (`sign_in_sessions`) holds who
//! it is and their roles. On with `CIPP_FRONTEND_DIR`.

use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

use super::roles::is_base_role;
use super::session::{self, LOGIN_COOKIE, SESSION_COOKIE};
use crate::error::ApiError;
use crate::settings::{Mode, SettingsError, invalid};
use crate::state::AppState;

/// How long a started sign-in may take (authorize page, back to the callback).
const LOGIN_LIFETIME: Duration = Duration::from_secs(600);
/// The path Entra sends the browser back to; the app registration's redirect URI.
pub const CALLBACK_PATH: &str = "/.auth/login/aad/callback";

/// A role map entry: one role or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RoleNames {
    One(String),
    Many(Vec<String>),
}

/// `CIPP_LOGIN_ROLE_MAP`: a TOML table, or JSON text from the environment.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RoleMapSource {
    Map(BTreeMap<String, RoleNames>),
    Json(String),
}

/// The raw sign-in settings, as read.
#[derive(Debug, Default)]
pub struct RawSignIn {
    pub frontend_dir: Option<String>,
    pub public_url: Option<String>,
    pub login_client_id: Option<String>,
    pub login_client_secret: Option<String>,
    pub login_role_map: Option<RoleMapSource>,
    pub session_hours: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// The frontend's static build, served beside `/api`; sign-in is on only with it.
    pub frontend_dir: Option<PathBuf>,
    /// The origin browsers use (`https://cipp.example.com`): the redirect URI is built on it and
    /// cookie callers' requests must come from it. Required in production with a frontend;
    /// demo mode uses the request's own `http://<Host>`.
    pub public_url: Option<Url>,
    /// The app registration users sign in to (its app roles are the CIPP roles); unset: the
    /// API's own (`CIPP_API_APP_ID`).
    pub client_id: Option<String>,
    /// That registration's client secret (a web app's code redemption needs it; unset: a public
    /// client with PKCE only).
    pub client_secret: Option<SecretString>,
    /// Roles by UPN (lower case), added to the ID token's `roles`.
    pub role_map: BTreeMap<String, Vec<String>>,
    pub session_lifetime: Duration,
}

impl SignInSettings {
    pub fn enabled(&self) -> bool {
        self.frontend_dir.is_some()
    }

    pub fn from_raw(mode: Mode, raw: RawSignIn) -> Result<Self, SettingsError> {
        let frontend_dir = raw
            .frontend_dir
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        if let Some(dir) = &frontend_dir
            && !dir.join("index.html").is_file()
        {
            return Err(invalid(
                "CIPP_FRONTEND_DIR",
                format!(
                    "{} holds no index.html (point it at the frontend's static build)",
                    dir.display()
                ),
            ));
        }
        let public_url = match raw.public_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let url = Url::parse(text).map_err(|e| {
                    invalid("CIPP_PUBLIC_URL", format!("'{text}' is not a URL: {e}"))
                })?;
                if !matches!(url.scheme(), "https" | "http") || url.path() != "/" {
                    return Err(invalid(
                        "CIPP_PUBLIC_URL",
                        format!("'{text}' must be an origin like https://cipp.example.com"),
                    ));
                }
                if mode == Mode::Production && url.scheme() != "https" {
                    return Err(invalid(
                        "CIPP_PUBLIC_URL",
                        format!("'{text}' must use https"),
                    ));
                }
                Some(url)
            }
        };
        if mode == Mode::Production && frontend_dir.is_some() && public_url.is_none() {
            return Err(invalid(
                "CIPP_PUBLIC_URL",
                "same-origin hosting (CIPP_FRONTEND_DIR) needs the origin browsers use, e.g. https://cipp.example.com",
            ));
        }
        let role_map = match raw.login_role_map {
            None => BTreeMap::new(),
            Some(RoleMapSource::Map(map)) => map,
            Some(RoleMapSource::Json(text)) => serde_json::from_str(&text).map_err(|e| {
                invalid(
                    "CIPP_LOGIN_ROLE_MAP",
                    format!("not a JSON object of UPN to role (or list of roles): {e}"),
                )
            })?,
        }
        .into_iter()
        .map(|(upn, roles)| {
            let roles = match roles {
                RoleNames::One(role) => vec![role],
                RoleNames::Many(roles) => roles,
            };
            (upn.trim().to_ascii_lowercase(), roles)
        })
        .collect();
        Ok(Self {
            frontend_dir,
            public_url,
            client_id: raw.login_client_id.filter(|c| !c.trim().is_empty()),
            client_secret: raw
                .login_client_secret
                .filter(|s| !s.trim().is_empty())
                .map(SecretString::from),
            role_map,
            session_lifetime: Duration::from_secs(
                u64::from(raw.session_hours.unwrap_or(8).clamp(1, 24 * 30)) * 3600,
            ),
        })
    }
}

/// What a started sign-in keeps until its callback (in the store, by the state's hash).
#[derive(serde::Serialize, Deserialize)]
struct PendingLogin {
    verifier: String,
    nonce: String,
    return_to: String,
}

fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| {
        ApiError::new(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "no randomness available",
        )
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn pkce_challenge(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn login_key(state_value: &str) -> String {
    format!("sign-in:{}", session::hash_hex(state_value))
}

/// Only a path of this origin: a sign-in link must not send the browser elsewhere.
fn local_path(candidate: Option<&str>) -> String {
    match candidate {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn query_of(request: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(request.query_string().as_bytes())
        .into_owned()
        .collect()
}

fn param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn disabled() -> ApiError {
    ApiError::not_found_endpoint()
}

fn client_id(state: &AppState) -> String {
    state
        .settings
        .sign_in
        .client_id
        .clone()
        .unwrap_or_else(|| state.settings.api_app_id.clone())
}

fn redirect_uri(request: &HttpRequest, state: &AppState) -> String {
    format!("{}{CALLBACK_PATH}", session::public_origin(request, state))
}

fn no_store(response: &mut actix_web::HttpResponseBuilder) -> &mut actix_web::HttpResponseBuilder {
    response.insert_header((CACHE_CONTROL, "no-store"))
}

/// `GET /.auth/login/aad[?post_login_redirect_uri=/path][&login_hint=upn]`.
pub async fn login(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.settings.sign_in.enabled() {
        return Err(disabled());
    }
    let query = query_of(&request);
    let state_value = random_token()?;
    let pending = PendingLogin {
        verifier: random_token()?,
        nonce: random_token()?,
        return_to: local_path(param(&query, "post_login_redirect_uri")),
    };
    let expires = time::OffsetDateTime::now_utc() + LOGIN_LIFETIME;
    let value = serde_json::to_value(&pending).unwrap_or(Value::Null);
    state
        .store
        .kv_put(&login_key(&state_value), &value, Some(expires))
        .await
        .map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                format!("the sign-in could not be recorded: {e}"),
            )
        })?;
    let authority = state.settings.authority_host.as_str().trim_end_matches('/');
    let mut authorize = Url::parse(&format!(
        "{authority}/{}/oauth2/v2.0/authorize",
        state.settings.partner_tenant_id
    ))
    .map_err(|e| ApiError::bad_request(format!("the authority URL is not usable: {e}")))?;
    {
        let mut pairs = authorize.query_pairs_mut();
        pairs
            .append_pair("client_id", &client_id(&state))
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &redirect_uri(&request, &state))
            .append_pair("response_mode", "query")
            .append_pair("scope", "openid profile")
            .append_pair("state", &state_value)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &pkce_challenge(&pending.verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = param(&query, "login_hint") {
            pairs.append_pair("login_hint", hint);
        }
    }
    // The state is bound to this browser too: a callback in another browser (a sign-in
    // link planted by someone else) finds no matching cookie and is refused.
    let cookie = session::cookie(
        &request,
        &state,
        LOGIN_COOKIE,
        state_value,
        Some(LOGIN_LIFETIME),
    );
    Ok(no_store(&mut HttpResponse::Found())
        .insert_header((LOCATION, authorize.as_str()))
        .append_header(cookie)
        .finish())
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

/// A 401 whose detail goes to the log and whose message says what failed, not why.
fn failed(detail: String, message: String) -> ApiError {
    ApiError {
        log_detail: Some(detail),
        ..ApiError::new(actix_web::http::StatusCode::UNAUTHORIZED, message)
    }
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// `GET /.auth/login/aad/callback?code=…&state=…` (or `error=…`).
pub async fn callback(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.settings.sign_in.enabled() {
        return Err(disabled());
    }
    let query = query_of(&request);
    if let Some(error) = param(&query, "error") {
        let description = param(&query, "error_description").unwrap_or_default();
        return Err(failed(
            format!("Entra refused the sign-in: {error}: {description}"),
            format!("Sign-in failed: {error}"),
        ));
    }
    let state_value = param(&query, "state")
        .ok_or_else(|| refused("Sign-in refused: the callback carries no state"))?;
    let cookie_state = session::cookie_value(&request, LOGIN_COOKIE);
    if cookie_state.as_deref() != Some(state_value) {
        return Err(refused(
            "Sign-in refused: the state does not match this browser's sign-in",
        ));
    }
    let key = login_key(state_value);
    let pending = state
        .store
        .kv_get(&key)
        .await
        .ok()
        .flatten()
        .and_then(|v| serde_json::from_value::<PendingLogin>(v).ok())
        .ok_or_else(|| {
            refused("Sign-in refused: the sign-in has expired or was already completed")
        })?;
    // Single use, whatever follows.
    if let Err(error) = state.store.kv_delete(&key).await {
        tracing::warn!(%error, "a completed sign-in could not be removed");
    }
    let code = param(&query, "code")
        .ok_or_else(|| refused("Sign-in refused: the callback carries no code"))?;
    let client_id = client_id(&state);
    let authority = state.settings.authority_host.as_str().trim_end_matches('/');
    let token_url = format!(
        "{authority}/{}/oauth2/v2.0/token",
        state.settings.partner_tenant_id
    );
    let redirect = redirect_uri(&request, &state);
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("client_id", client_id.clone()),
        ("code", code.to_owned()),
        ("redirect_uri", redirect),
        ("code_verifier", pending.verifier.clone()),
        ("scope", "openid profile".to_owned()),
    ];
    if let Some(secret) = &state.settings.sign_in.client_secret {
        form.push(("client_secret", secret.expose_secret().to_owned()));
    }
    let answer = state
        .tokens
        .http()
        .post(&token_url)
        .form(&form)
        .send()
        .await
        .map_err(|e| {
            ApiError::unauthorized(format!("the token endpoint could not be reached: {e}"))
        })?;
    let status = answer.status();
    let body = answer.text().await.unwrap_or_default();
    if !status.is_success() {
        // Entra's error text names the AADSTS code; it goes to the log, not the browser.
        return Err(failed(
            format!("the code was not redeemed ({status}): {body}"),
            "Sign-in failed: the authorization code was not accepted".into(),
        ));
    }
    let id_token = serde_json::from_str::<TokenAnswer>(&body)
        .ok()
        .and_then(|a| a.id_token)
        .ok_or_else(|| ApiError::unauthorized("the token endpoint answered no id_token"))?;
    let claims = state
        .tokens
        .validate_id_token(&id_token, &client_id, &pending.nonce)
        .await
        .map_err(|e| ApiError::unauthorized(format!("the ID token was refused: {e}")))?;
    let upn = claims
        .preferred_username
        .clone()
        .or(claims.upn.clone())
        .or(claims.email.clone())
        .unwrap_or_default();
    if upn.is_empty() {
        return Err(ApiError::unauthorized("the ID token names no user"));
    }
    let roles = roles_of(&state, &upn, &claims.roles);
    let session_id = random_token()?;
    let now = time::OffsetDateTime::now_utc();
    let lifetime = state.settings.sign_in.session_lifetime;
    let record = cipp_store::SignInSession {
        session_key: session::hash_hex(&session_id),
        user_id: claims
            .oid
            .clone()
            .or(claims.sub.clone())
            .unwrap_or_default(),
        user_principal_name: upn.clone(),
        roles: roles.clone(),
        created_at: now,
        expires_at: now + lifetime,
    };
    state.store.session_put(&record).await.map_err(|e| {
        ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("the session could not be recorded: {e}"),
        )
    })?;
    tracing::info!(user = %upn, roles = ?roles, "signed in");
    let name = SESSION_COOKIE;
    let cookie = session::cookie(&request, &state, name, session_id, Some(lifetime));
    let clear_login = session::cookie(
        &request,
        &state,
        LOGIN_COOKIE,
        String::new(),
        Some(Duration::ZERO),
    );
    Ok(no_store(&mut HttpResponse::Found())
        .insert_header((LOCATION, pending.return_to))
        .append_header(cookie)
        .append_header(clear_login)
        .finish())
}

/// The ID token's app roles and the configured map's, keeping only roles CIPP knows.
fn roles_of(state: &AppState, upn: &str, token_roles: &[String]) -> Vec<String> {
    let mapped = state
        .settings
        .sign_in
        .role_map
        .get(&upn.to_ascii_lowercase())
        .cloned()
        .unwrap_or_default();
    let mut roles: Vec<String> = Vec::new();
    for role in token_roles.iter().chain(mapped.iter()) {
        let known = is_base_role(role)
            || state
                .settings
                .custom_roles
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(role));
        if known && !roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
            roles.push(role.to_ascii_lowercase());
        }
    }
    roles
}

/// `GET /.auth/logout[?post_logout_redirect_uri=/path]`: the session row is deleted and the
/// cookie cleared. Only this service's session ends (as Static Web Apps' logout does); the
/// browser's Entra session stays, so signing in again needs no password.
pub async fn logout(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.settings.sign_in.enabled() {
        return Err(disabled());
    }
    let name = SESSION_COOKIE;
    if let Some(cookie) = session::cookie_value(&request, name)
        && let Err(error) = state
            .store
            .session_delete(&session::hash_hex(&cookie))
            .await
    {
        tracing::warn!(%error, "a session could not be deleted at sign-out");
    }
    let query = query_of(&request);
    let clear = session::cookie(&request, &state, name, String::new(), Some(Duration::ZERO));
    Ok(no_store(&mut HttpResponse::Found())
        .insert_header((
            LOCATION,
            local_path(param(&query, "post_logout_redirect_uri")),
        ))
        .append_header(clear)
        .finish())
}

/// `GET /.auth/me`: Static Web Apps' answer, `{"clientPrincipal": {...}}` or `null` inside.
pub async fn me(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.settings.sign_in.enabled() {
        return Err(disabled());
    }
    let principal = match session::session_of(&request, &state).await {
        Some(found) => {
            let mut user_roles = vec!["anonymous".to_owned(), "authenticated".to_owned()];
            user_roles.extend(found.roles);
            json!({
                "identityProvider": "aad",
                "userId": found.user_id,
                "userDetails": found.user_principal_name,
                "userRoles": user_roles,
            })
        }
        None => Value::Null,
    };
    Ok(no_store(&mut HttpResponse::Ok()).json(json!({ "clientPrincipal": principal })))
}

/// Deletes expired sessions hourly (an expired one is refused anyway; this keeps the table
/// small). Only when sign-in is on.
pub fn spawn_session_cleanup(store: cipp_store::Store, settings: &SignInSettings) {
    if !settings.enabled() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match store
                .sessions_delete_expired(time::OffsetDateTime::now_utc())
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "deleted expired sign-in sessions"),
                Err(error) => tracing::warn!(%error, "deleting expired sign-in sessions failed"),
            }
        }
    });
}

/// The `/.auth/*` routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/.auth/login/aad", web::get().to(login))
        .route(CALLBACK_PATH, web::get().to(callback))
        .route("/.auth/logout", web::get().to(logout))
        .route("/.auth/me", web::get().to(me));
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn folder_with_index() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cipp-frontend-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
        dir
    }

    fn error_of(mode: Mode, raw: RawSignIn) -> String {
        SignInSettings::from_raw(mode, raw)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn production_hosting_needs_an_https_public_url() {
        let dir = folder_with_index();
        let raw = || RawSignIn {
            frontend_dir: Some(dir.display().to_string()),
            ..RawSignIn::default()
        };
        assert!(error_of(Mode::Production, raw()).contains("CIPP_PUBLIC_URL"));
        let plain = RawSignIn {
            public_url: Some("http://cipp.example.com".into()),
            ..raw()
        };
        assert!(error_of(Mode::Production, plain).contains("must use https"));
        let ok = RawSignIn {
            public_url: Some("https://cipp.example.com".into()),
            ..raw()
        };
        assert!(
            SignInSettings::from_raw(Mode::Production, ok)
                .unwrap()
                .enabled()
        );
        // Demo mode may leave it unset (the request's own origin is used).
        assert!(SignInSettings::from_raw(Mode::Demo, raw()).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_frontend_folder_without_an_index_is_refused_by_name() {
        let raw = RawSignIn {
            frontend_dir: Some("/nonexistent/cipp-frontend".into()),
            ..RawSignIn::default()
        };
        assert!(error_of(Mode::Demo, raw).contains("CIPP_FRONTEND_DIR"));
    }

    #[test]
    fn the_role_map_takes_one_role_or_several_and_matches_upns_in_any_case() {
        let raw = RawSignIn {
            login_role_map: Some(RoleMapSource::Json(
                r#"{"Ann@Example.com": "admin", "bob@example.com": ["readonly", "custom"]}"#.into(),
            )),
            ..RawSignIn::default()
        };
        let settings = SignInSettings::from_raw(Mode::Demo, raw).unwrap();
        assert_eq!(settings.role_map["ann@example.com"], vec!["admin"]);
        assert_eq!(
            settings.role_map["bob@example.com"],
            vec!["readonly", "custom"]
        );
        let bad = RawSignIn {
            login_role_map: Some(RoleMapSource::Json("[1]".into())),
            ..RawSignIn::default()
        };
        assert!(error_of(Mode::Demo, bad).contains("CIPP_LOGIN_ROLE_MAP"));
    }

    #[test]
    fn return_addresses_stay_on_this_origin() {
        assert_eq!(
            local_path(Some("/identity/users?x=1")),
            "/identity/users?x=1"
        );
        for outside in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "evil",
            "/a\r\nSet-Cookie: x=y",
        ] {
            assert_eq!(local_path(Some(outside)), "/", "{outside:?}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn the_pkce_challenge_is_the_base64url_sha256_of_the_verifier() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
