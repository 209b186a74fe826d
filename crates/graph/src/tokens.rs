//! Access tokens: the provider trait, a single-flight cache, and the azure_identity client-credentials provider.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{
    AsyncRawResponse, ClientOptions, HttpClient, RawResponse, Request, RetryOptions, Transport,
};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use moka::Expiry;
use moka::future::Cache;
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::GraphError;
use crate::settings::GraphSettings;
use crate::tls::{Purpose, build_http_client, error_chain};

/// A cached token is dropped this long before Entra says it expires, so no request leaves with a dying token.
pub const EARLY_EXPIRY: Duration = Duration::from_secs(120);

/// A bearer token and the moment it stops working.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub secret: SecretString,
    pub expires_at: SystemTime,
}

impl AccessToken {
    pub fn new(secret: impl Into<String>, expires_at: SystemTime) -> Self {
        Self {
            secret: SecretString::from(secret.into()),
            expires_at,
        }
    }

    /// How long the token may still be handed out, keeping the early-expiry margin.
    pub fn usable_for(&self, now: SystemTime) -> Duration {
        self.expires_at
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
            .saturating_sub(EARLY_EXPIRY)
    }
}

/// Source of access tokens for a tenant and scope (e.g. `https://graph.microsoft.com/.default`).
#[async_trait::async_trait]
pub trait TokenProvider: Send + Sync {
    async fn token(&self, tenant: &str, scope: &str) -> Result<AccessToken, GraphError>;

    /// Which kind of grant this provider uses; part of the cache key so app-only and
    /// delegated tokens for one tenant never mix.
    fn mode(&self) -> &'static str {
        "app"
    }

    /// Drops any cached token for the tenant and scope (Graph said 401). No-op for uncached providers.
    async fn invalidate(&self, _tenant: &str, _scope: &str) {}
}

#[async_trait::async_trait]
impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    async fn token(&self, tenant: &str, scope: &str) -> Result<AccessToken, GraphError> {
        (**self).token(tenant, scope).await
    }

    fn mode(&self) -> &'static str {
        (**self).mode()
    }

    async fn invalidate(&self, tenant: &str, scope: &str) {
        (**self).invalidate(tenant, scope).await;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TokenKey {
    tenant: String,
    scope: String,
    mode: &'static str,
}

/// Each entry lives until its own token's expiry minus [`EARLY_EXPIRY`].
struct UntilTokenExpiry;

impl Expiry<TokenKey, AccessToken> for UntilTokenExpiry {
    fn expire_after_create(
        &self,
        _key: &TokenKey,
        value: &AccessToken,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.usable_for(SystemTime::now()))
    }
}

/// A caching wrapper around any provider.
///
/// Keyed by (tenant lower-cased, scope, mode). Concurrent misses for one key share a single
/// fetch (moka's `try_get_with`), so a burst of first calls makes one token request.
/// Failures are handed to every waiter but not cached: the next call tries again.
pub struct CachedTokens<P> {
    inner: P,
    cache: Cache<TokenKey, AccessToken>,
}

impl<P: TokenProvider> CachedTokens<P> {
    pub fn new(inner: P) -> Self {
        let cache = Cache::builder()
            .max_capacity(10_000)
            .expire_after(UntilTokenExpiry)
            .build();
        Self { inner, cache }
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }

    fn key(&self, tenant: &str, scope: &str) -> TokenKey {
        TokenKey {
            tenant: tenant.trim().to_lowercase(),
            scope: scope.trim().to_owned(),
            mode: self.inner.mode(),
        }
    }
}

impl<P> fmt::Debug for CachedTokens<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedTokens")
            .field("entries", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl<P: TokenProvider> TokenProvider for CachedTokens<P> {
    async fn token(&self, tenant: &str, scope: &str) -> Result<AccessToken, GraphError> {
        let key = self.key(tenant, scope);
        let fetch_tenant = key.tenant.clone();
        let fetch_scope = key.scope.clone();
        self.cache
            .try_get_with(key, async move {
                tracing::debug!(tenant = %fetch_tenant, scope = %fetch_scope, "fetching access token");
                self.inner.token(&fetch_tenant, &fetch_scope).await
            })
            .await
            .map_err(|shared| (*shared).clone())
    }

    fn mode(&self) -> &'static str {
        self.inner.mode()
    }

    async fn invalidate(&self, tenant: &str, scope: &str) {
        self.cache.invalidate(&self.key(tenant, scope)).await;
        self.inner.invalidate(tenant, scope).await;
    }
}

/// Which grant a call's token comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenMode {
    /// Delegated: the partner's refresh token against the customer tenant (CIPP's default).
    Partner,
    /// App-only: client credentials (CIPP's `AsApp`).
    App,
}

impl TokenMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenMode::Partner => "delegated",
            TokenMode::App => "app",
        }
    }
}

impl fmt::Display for TokenMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The client's one token cache for both modes, keyed by (tenant, scope, mode), with a
/// single fetch per key in flight and failures handed to the waiters but not kept.
pub(crate) struct TokenCache {
    cache: Cache<TokenKey, AccessToken>,
    app: Arc<dyn TokenProvider>,
    partner: Option<Arc<dyn TokenProvider>>,
}

impl TokenCache {
    pub(crate) fn new(
        app: Arc<dyn TokenProvider>,
        partner: Option<Arc<dyn TokenProvider>>,
    ) -> Self {
        let cache = Cache::builder()
            .max_capacity(10_000)
            .expire_after(UntilTokenExpiry)
            .build();
        Self {
            cache,
            app,
            partner,
        }
    }

    pub(crate) fn has_partner(&self) -> bool {
        self.partner.is_some()
    }

    fn provider(
        &self,
        mode: TokenMode,
        tenant: &str,
    ) -> Result<&Arc<dyn TokenProvider>, GraphError> {
        match mode {
            TokenMode::App => Ok(&self.app),
            TokenMode::Partner => self.partner.as_ref().ok_or_else(|| GraphError::Token {
                tenant: tenant.to_owned(),
                status: None,
                code: None,
                message:
                    "partner (delegated) mode needs a partner refresh token; none is configured"
                        .to_owned(),
            }),
        }
    }

    fn key(mode: TokenMode, tenant: &str, scope: &str) -> TokenKey {
        TokenKey {
            tenant: tenant.trim().to_lowercase(),
            scope: scope.trim().to_owned(),
            mode: mode.as_str(),
        }
    }

    pub(crate) async fn token(
        &self,
        mode: TokenMode,
        tenant: &str,
        scope: &str,
    ) -> Result<AccessToken, GraphError> {
        let provider = self.provider(mode, tenant)?;
        let key = Self::key(mode, tenant, scope);
        let fetch_tenant = key.tenant.clone();
        let fetch_scope = key.scope.clone();
        // Set only by the caller whose fetch ran: a miss is a token request to Entra; callers
        // that waited for it, as those served from the cache, count as hits.
        let fetched = std::sync::atomic::AtomicBool::new(false);
        let token = self
            .cache
            .try_get_with(key, async {
                fetched.store(true, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(tenant = %fetch_tenant, scope = %fetch_scope, mode = %mode, "fetching access token");
                // A token request changes nothing, so one that got no answer at all (a reset
                // or dropped connection) is asked again, twice at most, before failing the call.
                let mut attempt = 0u64;
                loop {
                    match provider.token(&fetch_tenant, &fetch_scope).await {
                        Err(GraphError::Token {
                            status: None,
                            code: None,
                            message,
                            ..
                        }) if attempt < 2 => {
                            attempt += 1;
                            tracing::info!(tenant = %fetch_tenant, attempt, %message, "token request got no answer; asking again");
                            tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                        }
                        other => break other,
                    }
                }
            })
            .await
            .map_err(|shared| (*shared).clone());
        let result = if fetched.load(std::sync::atomic::Ordering::Relaxed) {
            "miss"
        } else {
            "hit"
        };
        metrics::counter!("cipp_token_cache_total", "result" => result).increment(1);
        token
    }

    pub(crate) async fn invalidate(&self, mode: TokenMode, tenant: &str, scope: &str) {
        self.cache.invalidate(&Self::key(mode, tenant, scope)).await;
        if let Ok(provider) = self.provider(mode, tenant) {
            provider.invalidate(tenant, scope).await;
        }
    }
}

/// App-only tokens from Entra's client-credentials grant, through azure_identity, uncached
/// here (wrap it in [`CachedTokens`], or use [`ClientCredentialsTokens`]).
///
/// One `ClientSecretCredential` per tenant, created on first use.
pub struct ClientSecretProvider {
    client_id: String,
    secret: SecretString,
    authority_host: String,
    http: reqwest::Client,
    credentials: Mutex<HashMap<String, Arc<ClientSecretCredential>>>,
}

impl ClientSecretProvider {
    /// Uses `authority_host`, `client_id`, `client_secret` and the TLS trust from the settings.
    pub fn new(settings: &GraphSettings) -> Result<Self, GraphError> {
        let http = build_http_client(settings, Purpose::Token)?;
        Ok(Self::with_http_client(settings, http))
    }

    /// Like [`ClientSecretProvider::new`] with a caller-built transport.
    pub fn with_http_client(settings: &GraphSettings, http: reqwest::Client) -> Self {
        Self {
            client_id: settings.client_id.clone(),
            secret: settings.client_secret.clone(),
            authority_host: settings.authority_host.as_str().to_owned(),
            http,
            credentials: Mutex::new(HashMap::new()),
        }
    }

    fn credential(&self, tenant: &str) -> Result<Arc<ClientSecretCredential>, GraphError> {
        let key = tenant.trim().to_lowercase();
        let mut map = self.credentials.lock();
        if let Some(found) = map.get(&key) {
            return Ok(found.clone());
        }
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = self.authority_host.clone();
        let client_options = ClientOptions {
            cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
            transport: Some(Transport::new(Arc::new(EntraTransport {
                http: self.http.clone(),
            }))),
            // Our retry policy is the only one: a failed token request is one request.
            retry: RetryOptions::none(),
            ..Default::default()
        };
        let credential = ClientSecretCredential::new(
            &key,
            self.client_id.clone(),
            Secret::new(self.secret.expose_secret().to_owned()),
            Some(ClientSecretCredentialOptions { client_options }),
        )
        .map_err(|e| GraphError::Token {
            tenant: tenant.to_owned(),
            status: None,
            code: None,
            message: error_chain(&e),
        })?;
        map.insert(key, credential.clone());
        Ok(credential)
    }
}

impl fmt::Debug for ClientSecretProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretProvider")
            .field("client_id", &self.client_id)
            .field("authority_host", &self.authority_host)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl TokenProvider for ClientSecretProvider {
    async fn token(&self, tenant: &str, scope: &str) -> Result<AccessToken, GraphError> {
        let credential = self.credential(tenant)?;
        let token = credential
            .get_token(&[scope], None)
            .await
            .map_err(|e| token_error(tenant, &e))?;
        Ok(AccessToken {
            secret: SecretString::from(token.token.secret().to_owned()),
            expires_at: SystemTime::from(token.expires_on),
        })
    }

    async fn invalidate(&self, tenant: &str, _scope: &str) {
        // The credential keeps its own token cache; a fresh credential starts empty.
        self.credentials
            .lock()
            .remove(&tenant.trim().to_lowercase());
    }
}

/// The production token source: [`ClientSecretProvider`] behind a [`CachedTokens`].
#[derive(Debug)]
pub struct ClientCredentialsTokens {
    inner: CachedTokens<ClientSecretProvider>,
}

impl ClientCredentialsTokens {
    pub fn new(settings: &GraphSettings) -> Result<Self, GraphError> {
        Ok(Self {
            inner: CachedTokens::new(ClientSecretProvider::new(settings)?),
        })
    }
}

#[async_trait::async_trait]
impl TokenProvider for ClientCredentialsTokens {
    async fn token(&self, tenant: &str, scope: &str) -> Result<AccessToken, GraphError> {
        self.inner.token(tenant, scope).await
    }

    async fn invalidate(&self, tenant: &str, scope: &str) {
        self.inner.invalidate(tenant, scope).await;
    }
}

/// The token request transport: our reqwest client (with our TLS trust), plus Entra error capture.
///
/// azure_identity 1.0.0 parses Entra's error body into borrowed `&str` fields, which fails on
/// any JSON escape, and real `error_description`s always carry `\r\n` before their trace
/// trailer. The HTTP status and AADSTS code would then be lost. So non-success answers are
/// turned into an `HttpResponse` error here, with the raw response attached, before
/// azure_identity sees them; [`token_error`] reads it back.
#[derive(Debug)]
struct EntraTransport {
    http: reqwest::Client,
}

#[async_trait::async_trait]
impl HttpClient for EntraTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let response = self.http.execute_request(request).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let (status, headers, body) = response.deconstruct();
        let bytes = body.collect().await?;
        let parsed = serde_json::from_slice::<EntraErrorBody>(&bytes).ok();
        let error_code = parsed
            .as_ref()
            .and_then(|p| p.error_codes.first())
            .map(i64::to_string);
        let message = parsed
            .and_then(|p| p.error_description.or(p.error))
            .unwrap_or_else(|| format!("token endpoint answered {}", u16::from(status)));
        let raw = RawResponse::from_bytes(status, headers, bytes);
        Err(azure_core::Error::with_message(
            azure_core::error::ErrorKind::HttpResponse {
                status,
                error_code,
                raw_response: Some(Box::new(raw)),
            },
            message,
        ))
    }
}

#[derive(Deserialize)]
struct EntraErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<i64>,
}

/// Turns an azure_identity failure into [`GraphError::Token`], recovering Entra's error body.
///
/// azure_identity wraps the HTTP failure (`ErrorKind::HttpResponse` carrying the raw
/// response) inside an `ErrorKind::Credential` error; we walk the source chain to find it.
pub(crate) fn token_error(tenant: &str, err: &azure_core::Error) -> GraphError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(az) = e.downcast_ref::<azure_core::Error>()
            && let azure_core::error::ErrorKind::HttpResponse {
                status,
                error_code,
                raw_response,
            } = az.kind()
        {
            return entra_error(
                tenant,
                u16::from(*status),
                error_code.as_deref(),
                raw_response.as_deref(),
                az,
            );
        }
        cur = e.source();
    }
    GraphError::Token {
        tenant: tenant.to_owned(),
        status: None,
        code: None,
        message: error_chain(err),
    }
}

fn entra_error(
    tenant: &str,
    status: u16,
    error_code: Option<&str>,
    raw: Option<&RawResponse>,
    az: &azure_core::Error,
) -> GraphError {
    let body = raw.map(|r| String::from_utf8_lossy(r.body()).into_owned());
    let parsed = body
        .as_deref()
        .and_then(|b| serde_json::from_str::<EntraErrorBody>(b).ok());
    let (code, message) = match parsed {
        Some(p) => {
            let code = p
                .error_codes
                .first()
                .map(|c| format!("AADSTS{c}"))
                .or_else(|| p.error.clone());
            let message = p
                .error_description
                .or(p.error)
                .unwrap_or_else(|| az.to_string());
            (code, message)
        }
        None => {
            // azure_identity puts the codes comma-joined in error_code; keep the first.
            let code = error_code
                .and_then(|c| c.split(',').next())
                .filter(|c| c.chars().all(|ch| ch.is_ascii_digit()) && !c.is_empty())
                .map(|c| format!("AADSTS{c}"));
            let message = body
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| az.to_string());
            (code, message)
        }
    };
    GraphError::Token {
        tenant: tenant.to_owned(),
        status: Some(status),
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use azure_core::error::ErrorKind;
    use azure_core::http::StatusCode;
    use azure_core::http::headers::Headers;

    #[test]
    fn a_token_is_usable_until_two_minutes_before_it_expires() {
        let now = SystemTime::now();
        let t = AccessToken::new("x", now + Duration::from_secs(3600));
        assert_eq!(t.usable_for(now), Duration::from_secs(3600 - 120));
        let dying = AccessToken::new("x", now + Duration::from_secs(60));
        assert_eq!(dying.usable_for(now), Duration::ZERO);
    }

    #[test]
    fn token_debug_output_hides_the_secret() {
        let t = AccessToken::new("eyJ-very-secret", SystemTime::now());
        assert!(!format!("{t:?}").contains("eyJ-very-secret"));
    }

    #[test]
    fn entra_error_bodies_become_token_errors_with_the_aadsts_code() {
        let body = r#"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented.","error_codes":[65001]}"#;
        let raw = RawResponse::from_bytes(StatusCode::BadRequest, Headers::new(), body);
        let inner = azure_core::Error::new(
            ErrorKind::HttpResponse {
                status: StatusCode::BadRequest,
                error_code: Some("65001".to_owned()),
                raw_response: Some(Box::new(raw)),
            },
            "AADSTS65001: The user or administrator has not consented.",
        );
        // The shape azure_identity returns: a Credential error wrapping the HTTP one.
        let outer = azure_core::Error::with_error(ErrorKind::Credential, inner, "auth failed");
        match token_error("contoso.onmicrosoft.com", &outer) {
            GraphError::Token {
                tenant,
                status,
                code,
                message,
            } => {
                assert_eq!(tenant, "contoso.onmicrosoft.com");
                assert_eq!(status, Some(400));
                assert_eq!(code.as_deref(), Some("AADSTS65001"));
                assert!(message.starts_with("AADSTS65001: The user"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn entra_errors_without_codes_fall_back_to_the_oauth_error() {
        let body = r#"{"error":"temporarily_unavailable","error_description":"busy"}"#;
        let raw = RawResponse::from_bytes(StatusCode::ServiceUnavailable, Headers::new(), body);
        let inner = azure_core::Error::new(
            ErrorKind::HttpResponse {
                status: StatusCode::ServiceUnavailable,
                error_code: None,
                raw_response: Some(Box::new(raw)),
            },
            "busy",
        );
        let err = token_error("t", &inner);
        assert_eq!(err.graph_code(), Some("temporarily_unavailable"));
        assert_eq!(err.status(), Some(503));
    }
}
