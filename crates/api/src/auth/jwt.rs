//! Bearer-token validation against the configured Entra authority: RS256 signature with keys
//! from the authority's JWKS (cached, refetched when a token names an unknown key id), issuer
//! (v1 `https://sts.windows.net/<tid>/` and v2 `<authority>/<tid>/v2.0`, partner tenant only),
//! audience (`api://<app id>` or the bare app id), `exp` and `nbf`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use parking_lot::RwLock;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use url::Url;

/// A token naming an unknown key refetches the key set at most this often, so a flood of
/// forged key ids cannot turn into a flood of requests to Entra.
const MIN_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// Clock skew tolerated on `exp` and `nbf`, as Microsoft's own middleware does.
const LEEWAY_SECONDS: u64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token is signed with key id {0:?}, which the authority does not publish")]
    UnknownKey(Option<String>),
    #[error("the token failed validation: {0}")]
    Invalid(String),
    #[error("the authority's signing keys could not be read: {0}")]
    Jwks(String),
}

/// The claims this API reads from an Entra access token.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Claims {
    #[serde(default)]
    pub tid: String,
    /// v1 tokens name the calling app in `appid`, v2 tokens in `azp`.
    pub appid: Option<String>,
    pub azp: Option<String>,
    pub oid: Option<String>,
    pub upn: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub idtyp: Option<String>,
    pub ver: Option<String>,
}

impl Claims {
    pub fn client_id(&self) -> Option<&str> {
        self.appid.as_deref().or(self.azp.as_deref())
    }

    /// The signed-in user's name, when this is a delegated (user) token.
    pub fn user_principal_name(&self) -> Option<&str> {
        if self.idtyp.as_deref() == Some("app") {
            return None;
        }
        self.upn.as_deref().or(self.preferred_username.as_deref())
    }
}

pub struct TokenValidator {
    jwks_url: Url,
    http: reqwest::Client,
    validation: Validation,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
}

impl TokenValidator {
    pub fn new(
        authority_host: &Url,
        partner_tenant_id: &str,
        api_app_id: &str,
        http: reqwest::Client,
    ) -> Result<Self, TokenError> {
        let authority = authority_host.as_str().trim_end_matches('/');
        let jwks_url = Url::parse(&format!(
            "{authority}/{partner_tenant_id}/discovery/v2.0/keys"
        ))
        .map_err(|e| TokenError::Jwks(e.to_string()))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[format!("api://{api_app_id}"), api_app_id.to_owned()]);
        validation.set_issuer(&[
            format!("https://sts.windows.net/{partner_tenant_id}/"),
            format!("{authority}/{partner_tenant_id}/v2.0"),
        ]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Ok(Self {
            jwks_url,
            http,
            validation,
            keys: RwLock::new(HashMap::new()),
            last_refresh: tokio::sync::Mutex::new(None),
        })
    }

    pub async fn validate(&self, token: &str) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} is not RS256",
                header.alg
            )));
        }
        let kid = header.kid.clone().ok_or(TokenError::UnknownKey(None))?;
        if !self.keys.read().contains_key(&kid) {
            self.refresh_keys().await?;
        }
        let keys = self.keys.read();
        let key = keys
            .get(&kid)
            .ok_or(TokenError::UnknownKey(Some(kid.clone())))?;
        decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }

    /// Whether the signing keys can be read: a readiness check.
    pub async fn ready(&self) -> Result<(), TokenError> {
        if self.keys.read().is_empty() {
            self.refresh_keys().await?;
        }
        Ok(())
    }

    async fn refresh_keys(&self) -> Result<(), TokenError> {
        let mut last = self.last_refresh.lock().await;
        if last.is_some_and(|t| t.elapsed() < MIN_JWKS_REFRESH_INTERVAL) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let set: JwkSet = self
            .http
            .get(self.jwks_url.clone())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| TokenError::Jwks(e.to_string()))?
            .json()
            .await
            .map_err(|e| TokenError::Jwks(e.to_string()))?;
        let mut fresh = HashMap::new();
        for jwk in &set.keys {
            if let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) {
                fresh.insert(kid, key);
            }
        }
        tracing::debug!(keys = fresh.len(), "refreshed the authority's signing keys");
        *self.keys.write() = fresh;
        Ok(())
    }
}
