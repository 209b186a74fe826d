//! Token-signing keys and the JWKS that publishes them.
//!
//! RSA keygen goes through aws-lc (via rcgen) because the pure-Rust `rsa` crate is far too slow
//! in debug builds, and tests start many simulators.

use aws_lc_rs::digest;
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize};
use serde_json::{Value, json};

use std::sync::{Arc, Mutex, OnceLock};

use crate::SimError;

static SHARED: OnceLock<Arc<SigningKey>> = OnceLock::new();
static SHARED_INIT: Mutex<()> = Mutex::new(());

/// One signing key per process: RSA keygen costs ~100 ms in debug builds and tests start many
/// simulators. Sharing is harmless, as Entra too signs every tenant's tokens with the same keys.
pub(crate) fn shared_signing_key() -> Result<Arc<SigningKey>, SimError> {
    if let Some(key) = SHARED.get() {
        return Ok(Arc::clone(key));
    }
    // Serialise first-time generation so parallel starts do not each pay for a key.
    let _guard = SHARED_INIT
        .lock()
        .map_err(|_| SimError::Key("key lock poisoned".to_owned()))?;
    if let Some(key) = SHARED.get() {
        return Ok(Arc::clone(key));
    }
    let key = Arc::new(SigningKey::generate()?);
    Ok(Arc::clone(SHARED.get_or_init(|| key)))
}

pub(crate) struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
    pub decoding: DecodingKey,
    n: String,
    e: String,
    x5c: String,
}

fn key_err(e: impl std::fmt::Display) -> SimError {
    SimError::Key(e.to_string())
}

impl SigningKey {
    pub fn generate() -> Result<Self, SimError> {
        let key =
            KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).map_err(key_err)?;
        let pkcs8 = key.serialize_der();
        let parsed = aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8).map_err(key_err)?;
        let public = parsed.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();

        // Entra publishes each key with a self-signed certificate (x5c) whose SHA-1 thumbprint is
        // both the `x5t` and the `kid`; some validators check that.
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(key_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "accounts.accesscontrol.windows.net");
        params.distinguished_name = dn;
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let cert = params.self_signed(&key).map_err(key_err)?;
        let thumb = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert.der());
        let kid = URL_SAFE_NO_PAD.encode(thumb.as_ref());

        let encoding =
            EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes()).map_err(key_err)?;
        let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
        Ok(Self {
            kid,
            encoding,
            decoding,
            n: URL_SAFE_NO_PAD.encode(&n),
            e: URL_SAFE_NO_PAD.encode(&e),
            x5c: STANDARD.encode(cert.der()),
        })
    }

    pub fn sign(&self, claims: &Value) -> Result<String, SimError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.x5t = Some(self.kid.clone());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(key_err)
    }

    /// One JWKS entry; `issuer` is the literal Entra puts on keys served for a tenant.
    pub fn jwk(&self, issuer: &str) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": self.n,
            "e": self.e,
            "x5c": [self.x5c],
            "issuer": issuer,
        })
    }
}
