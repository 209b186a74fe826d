//! Partner (delegated) tokens: the `refresh_token` grant against each customer tenant, as CIPP
//! runs, with the rotated refresh token kept through an injected [`RefreshTokenStore`].
//!
//! The grant goes through the `oauth2` crate with our own HTTP function (reqwest 0.13 with our
//! TLS trust and timeouts), so its default reqwest 0.12 never enters the dependency tree.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, SystemTime};

use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse,
};
use oauth2::{
    AuthType, ClientId, ClientSecret, RefreshToken, RequestTokenError, Scope,
    StandardRevocableToken, TokenResponse, TokenUrl,
};
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::GraphError;
use crate::settings::GraphSettings;
use crate::tls::{Purpose, build_http_client, error_chain};
use crate::tokens::{AccessToken, TokenProvider};

/// Lifetime assumed when Entra's answer carries no `expires_in` (it always does in v2).
const FALLBACK_LIFETIME: Duration = Duration::from_secs(3599);

/// Where the partner's refresh token lives. Entra rotates it on every grant; each new one is
/// handed to [`RefreshTokenStore::save`] so a restart picks up the newest.
///
/// Implementations must keep the token out of logs.
#[async_trait::async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// The current refresh token, if the store has one.
    async fn load(&self) -> Option<SecretString>;
    /// Keeps a newly issued refresh token. Failing to persist is the store's to report
    /// (log it); the token request that produced it has succeeded either way.
    async fn save(&self, token: SecretString);
}

/// A [`RefreshTokenStore`] in process memory, for tests and for deployments that re-read the
/// configured token on every start.
#[derive(Default)]
pub struct InMemoryRefreshTokenStore {
    token: Mutex<Option<SecretString>>,
}

impl InMemoryRefreshTokenStore {
    pub fn new(initial: Option<SecretString>) -> Self {
        Self {
            token: Mutex::new(initial),
        }
    }

    /// The token currently held (for tests and diagnostics; never log it).
    pub fn current(&self) -> Option<SecretString> {
        self.token.lock().clone()
    }
}

impl fmt::Debug for InMemoryRefreshTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryRefreshTokenStore")
            .field("has_token", &self.token.lock().is_some())
            .finish()
    }
}

#[async_trait::async_trait]
impl RefreshTokenStore for InMemoryRefreshTokenStore {
    async fn load(&self) -> Option<SecretString> {
        self.token.lock().clone()
    }

    async fn save(&self, token: SecretString) {
        *self.token.lock() = Some(token);
    }
}

/// Entra's token error body; `error_codes` carries the AADSTS number the OAuth fields lack.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct EntraTokenError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<i64>,
}

impl fmt::Display for EntraTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self
            .error_description
            .as_deref()
            .or(self.error.as_deref())
            .unwrap_or("token request failed");
        f.write_str(text)
    }
}

impl oauth2::ErrorResponse for EntraTokenError {}

type EntraClient = oauth2::Client<
    EntraTokenError,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// Delegated tokens from the partner's refresh token, one grant per customer tenant and scope
/// (uncached here; the client's token cache sits in front).
///
/// POSTs `grant_type=refresh_token` with `client_id`, `client_secret`, `scope` and the refresh
/// token to `{authority_host}/{tenant}/oauth2/v2.0/token`. The refresh token used is the store's,
/// else the configured seed; a rotated one in the answer is saved to the store.
///
/// Grants are serialized by default (load, grant, save as one step), so a token endpoint that
/// accepts each refresh token only once (the simulator can; Entra keeps an old refresh token
/// valid after rotation) never sees a consumed one. [`PartnerTokens::parallel_grants`] lifts
/// that for Entra, where grants for many tenants may then overlap. Either way the client's
/// token cache makes one grant per tenant and scope per token lifetime.
pub struct PartnerTokens {
    client_id: String,
    secret: SecretString,
    authority_host: Url,
    http: reqwest::Client,
    store: Arc<dyn RefreshTokenStore>,
    seed: Option<SecretString>,
    /// Held across a grant unless grants may run in parallel.
    serial: Option<tokio::sync::Mutex<()>>,
}

impl PartnerTokens {
    /// Uses `authority_host`, `client_id`, `client_secret` and the TLS trust and timeouts from
    /// the settings. `seed` is used while the store holds nothing.
    pub fn new(
        settings: &GraphSettings,
        store: Arc<dyn RefreshTokenStore>,
        seed: Option<SecretString>,
    ) -> Result<Self, GraphError> {
        let http = build_http_client(settings, Purpose::Token)?;
        Ok(Self {
            client_id: settings.client_id.clone(),
            secret: settings.client_secret.clone(),
            authority_host: settings.authority_host.clone(),
            http,
            store,
            seed,
            serial: Some(tokio::sync::Mutex::new(())),
        })
    }

    /// Lets grants for different tenants and scopes run at the same time with the same
    /// refresh token (fine with Entra, which does not revoke a refresh token when it rotates it).
    pub fn parallel_grants(mut self, parallel: bool) -> Self {
        self.serial = (!parallel).then(|| tokio::sync::Mutex::new(()));
        self
    }

    fn token_url(&self, tenant: &str) -> Result<TokenUrl, GraphError> {
        let mut url = self.authority_host.clone();
        url.path_segments_mut()
            .map_err(|()| GraphError::Config {
                setting: "authority_host",
                message: "cannot carry a path".to_owned(),
            })?
            .pop_if_empty()
            .extend([tenant, "oauth2", "v2.0", "token"]);
        Ok(TokenUrl::from_url(url))
    }

    async fn refresh_token(&self, tenant: &str) -> Result<SecretString, GraphError> {
        match self.store.load().await {
            Some(t) => Ok(t),
            None => self.seed.clone().ok_or_else(|| GraphError::Token {
                tenant: tenant.to_owned(),
                status: None,
                code: None,
                message: "no partner refresh token is configured".to_owned(),
            }),
        }
    }
}

impl fmt::Debug for PartnerTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerTokens")
            .field("client_id", &self.client_id)
            .field("authority_host", &self.authority_host.as_str())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl TokenProvider for PartnerTokens {
    async fn token(&self, tenant: &str, scope: &str) -> Result<AccessToken, GraphError> {
        let _turn = match &self.serial {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let refresh = self.refresh_token(tenant).await?;
        let client: EntraClient = oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.secret.expose_secret().to_owned()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(self.token_url(tenant)?);
        let refresh = RefreshToken::new(refresh.expose_secret().to_owned());
        // The status of the last answer, for errors oauth2 reports without it.
        let last_status = Arc::new(AtomicU16::new(0));
        let http = OAuthHttp {
            http: self.http.clone(),
            last_status: last_status.clone(),
        };
        let sent_at = SystemTime::now();
        let answer = client
            .exchange_refresh_token(&refresh)
            .add_scope(Scope::new(scope.to_owned()))
            .request_async(&http)
            .await;
        let status = match last_status.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        };
        let response = answer.map_err(|e| grant_error(tenant, status, e))?;
        if let Some(rotated) = response.refresh_token() {
            self.store
                .save(SecretString::from(rotated.secret().to_owned()))
                .await;
        }
        let lifetime = response.expires_in().unwrap_or(FALLBACK_LIFETIME);
        tracing::debug!(
            tenant,
            scope,
            lifetime_s = lifetime.as_secs(),
            rotated = response.refresh_token().is_some(),
            "partner token issued"
        );
        Ok(AccessToken {
            secret: SecretString::from(response.access_token().secret().to_owned()),
            expires_at: sent_at + lifetime,
        })
    }

    fn mode(&self) -> &'static str {
        "delegated"
    }
}

/// oauth2's HTTP function: our reqwest client, no redirects (set on the token client), the
/// answer's status remembered.
#[derive(Clone)]
struct OAuthHttp {
    http: reqwest::Client,
    last_status: Arc<AtomicU16>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpFailure;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpFailure>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

impl OAuthHttp {
    async fn send(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, HttpFailure> {
        let request =
            reqwest::Request::try_from(request).map_err(|e| HttpFailure(error_chain(&e)))?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| HttpFailure(error_chain(&e)))?;
        let status = response.status();
        self.last_status.store(status.as_u16(), Ordering::SeqCst);
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| HttpFailure(error_chain(&e)))?;
        let mut out = oauth2::http::Response::new(body.to_vec());
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

#[derive(Debug)]
struct HttpFailure(String);

impl fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpFailure {}

fn grant_error(
    tenant: &str,
    status: Option<u16>,
    err: RequestTokenError<HttpFailure, EntraTokenError>,
) -> GraphError {
    let (code, message) = match err {
        RequestTokenError::ServerResponse(body) => {
            let code = body
                .error_codes
                .first()
                .map(|c| format!("AADSTS{c}"))
                .or_else(|| body.error.clone());
            (code, body.to_string())
        }
        RequestTokenError::Request(e) => (None, e.0),
        RequestTokenError::Parse(e, body) => {
            let text = String::from_utf8_lossy(&body).trim().to_owned();
            let message = if text.is_empty() || status == Some(200) {
                format!("token endpoint answer not understood: {e}")
            } else {
                text
            };
            (None, message)
        }
        RequestTokenError::Other(m) => (None, m),
    };
    GraphError::Token {
        tenant: tenant.to_owned(),
        status,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn entra_error_bodies_keep_the_aadsts_code_and_description() {
        let body: EntraTokenError = serde_json::from_str(
            r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired.\r\nTrace ID: t","error_codes":[700082]}"#,
        )
        .unwrap();
        match grant_error("t", Some(400), RequestTokenError::ServerResponse(body)) {
            GraphError::Token {
                status,
                code,
                message,
                ..
            } => {
                assert_eq!(status, Some(400));
                assert_eq!(code.as_deref(), Some("AADSTS700082"));
                assert!(message.starts_with("AADSTS700082: The refresh token has expired."));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_store_debug_output_hides_the_token() {
        let store = InMemoryRefreshTokenStore::new(Some(SecretString::from("1.AQ-secret")));
        let printed = format!("{store:?}");
        assert!(!printed.contains("1.AQ-secret"));
        assert!(printed.contains("has_token: true"));
    }
}
