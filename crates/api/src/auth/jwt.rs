//! Bearer-token validation against the configured Entra authority: RS256 signature with keys
//! from the authority's JWKS (cached, refetched when a token names an unknown key id), issuer
//! (v1 `https://sts.windows.net/<tid>/` and v2 `<authority>/<tid>/v2.0`, partner tenant only),
//! audience (`api://<app id>` or the bare app id), `exp` and `nbf`.
//!
//! A token that passed is remembered (by its SHA-256) until it expires, at most
//! [`VERIFIED_TTL`]: a client sends the same token for an hour, and the RSA check was 15% of the
//! CPU of a small read (benches/RESULTS.md, P1). A cached token is still refused after its `exp`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use moka::sync::Cache;
use parking_lot::RwLock;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use url::Url;

/// A token naming an unknown key refetches the key set at most this often, so a flood of
/// forged key ids cannot turn into a flood of requests to Entra.
const MIN_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// Clock skew tolerated on `exp` and `nbf`, as Microsoft's own middleware does.
const LEEWAY_SECONDS: u64 = 60;
/// How long a verified token is remembered at most (its own `exp` ends it sooner).
const VERIFIED_TTL: Duration = Duration::from_secs(300);
/// How many verified tokens are remembered: far more than the clients of one deployment.
const VERIFIED_CAPACITY: u64 = 10_000;

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
    /// Seconds since the epoch; required by the validation.
    #[serde(default)]
    pub exp: u64,
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

/// The claims this API reads from an Entra ID token (browser sign-in, `auth::sign_in`).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct IdClaims {
    #[serde(default)]
    pub tid: String,
    pub oid: Option<String>,
    pub sub: Option<String>,
    pub nonce: Option<String>,
    pub preferred_username: Option<String>,
    pub upn: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The app roles assigned to the user (or to a group the user is in).
    #[serde(default)]
    pub roles: Vec<String>,
}

pub struct TokenValidator {
    /// `<authority>/<partner tenant>/v2.0`: the issuer of v2 tokens, ID tokens included.
    v2_issuer: String,
    jwks_url: Url,
    http: reqwest::Client,
    validation: Validation,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
    verified: Cache<[u8; 32], Arc<Claims>>,
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
        let v2_issuer = format!("{authority}/{partner_tenant_id}/v2.0");
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Ok(Self {
            v2_issuer,
            jwks_url,
            http,
            validation,
            keys: RwLock::new(HashMap::new()),
            last_refresh: tokio::sync::Mutex::new(None),
            verified: Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(VERIFIED_TTL)
                .build(),
        })
    }

    pub async fn validate(&self, token: &str) -> Result<Claims, TokenError> {
        let fingerprint = fingerprint(token);
        if let Some(claims) = self.verified.get(&fingerprint) {
            if now_seconds() <= claims.exp.saturating_add(LEEWAY_SECONDS) {
                return Ok(Claims::clone(&claims));
            }
            self.verified.invalidate(&fingerprint);
        }
        let claims = self.verify(token).await?;
        self.verified.insert(fingerprint, Arc::new(claims.clone()));
        Ok(claims)
    }

    /// The HTTP client the validator reads keys with (it trusts the configured extra CA).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Validates an ID token from the sign-in's code redemption: RS256 with the authority's
    /// keys (the same as bearer tokens), issuer `<authority>/<partner tenant>/v2.0`, audience
    /// the signing-in app's client id, `exp`/`nbf`, and the `nonce` the sign-in sent.
    pub async fn validate_id_token(
        &self,
        token: &str,
        client_id: &str,
        nonce: &str,
    ) -> Result<IdClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[client_id]);
        validation.set_issuer(&[self.v2_issuer.as_str()]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims: IdClaims = self.verify_as(token, &validation).await?;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(TokenError::Invalid(
                "the ID token's nonce is not the one this sign-in sent".into(),
            ));
        }
        Ok(claims)
    }

    async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let validation = self.validation.clone();
        self.verify_as(token, &validation).await
    }

    async fn verify_as<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<C, TokenError> {
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
        decode::<C>(token, key, validation)
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

fn fingerprint(token: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn validator() -> TokenValidator {
        let authority = Url::parse("https://127.0.0.1:9").unwrap();
        TokenValidator::new(&authority, "partner", "app", reqwest::Client::new()).unwrap()
    }

    fn remember(validator: &TokenValidator, token: &str, exp: u64) {
        let claims = Claims {
            exp,
            tid: "partner".into(),
            ..Claims::default()
        };
        validator
            .verified
            .insert(fingerprint(token), Arc::new(claims));
    }

    #[tokio::test]
    async fn a_remembered_token_is_accepted_without_checking_its_signature_again() {
        let validator = validator();
        remember(&validator, "remembered", now_seconds() + 600);
        let claims = validator.validate("remembered").await.unwrap();
        assert_eq!(claims.tid, "partner");
    }

    #[tokio::test]
    async fn a_remembered_token_is_refused_once_it_has_expired() {
        let validator = validator();
        remember(&validator, "expired", now_seconds() - LEEWAY_SECONDS - 1);
        let refused = validator.validate("expired").await.unwrap_err();
        assert!(matches!(refused, TokenError::Malformed(_)), "{refused:?}");
        assert!(validator.verified.get(&fingerprint("expired")).is_none());
    }

    #[tokio::test]
    async fn a_token_that_fails_is_not_remembered() {
        let validator = validator();
        assert!(validator.validate("not-a-jwt").await.is_err());
        assert!(validator.verified.get(&fingerprint("not-a-jwt")).is_none());
    }
}
