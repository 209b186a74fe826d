//! Secrets sealed at rest (the partner's rotated refresh token): AES-256-GCM with a fresh
//! random 96-bit nonce per write, stored as nonce || ciphertext-and-tag. The secret's name is
//! the associated data, so a sealed value copied under another name fails to open.
//!
//! aws-lc-rs does the work: the crypto backend the rest of the service (TLS, tokens) already
//! uses. The layout is the one values were first sealed in (with the `aes-gcm` crate), so they
//! still open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use secrecy::{ExposeSecret, SecretString};

use crate::time_col::DbTime;
use crate::{Store, StoreError, on_pool};

const KEY_LEN: usize = 32;

/// The 256-bit key from configuration. Its `Debug` prints nothing of the key.
#[derive(Clone)]
pub struct EncryptionKey([u8; KEY_LEN]);

impl EncryptionKey {
    /// A random key, for what only this process reads back (kept answers when no key is
    /// configured).
    pub fn generate() -> Result<Self, StoreError> {
        let mut key = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| StoreError::InvalidKey("no random bytes for a new key".into()))?;
        Ok(Self(key))
    }

    /// Reads a base64 (standard or URL-safe, padded or not) encoding of exactly 32 bytes,
    /// e.g. the output of `openssl rand -base64 32`.
    pub fn from_base64(encoded: &str) -> Result<Self, StoreError> {
        let trimmed = encoded.trim();
        if trimmed.is_empty() {
            return Err(StoreError::InvalidKey("the key is empty".into()));
        }
        let unpadded = trimmed.trim_end_matches('=');
        let bytes = STANDARD
            .decode(pad(unpadded))
            .or_else(|_| URL_SAFE.decode(pad(unpadded)))
            .map_err(|_| StoreError::InvalidKey("the key is not valid base64".into()))?;
        Self::from_bytes(&bytes)
    }

    /// Uses 32 raw bytes as the key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        if bytes.len() != KEY_LEN {
            return Err(StoreError::InvalidKey(format!(
                "the key must be {KEY_LEN} bytes (AES-256), got {}",
                bytes.len()
            )));
        }
        <[u8; KEY_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| StoreError::InvalidKey(format!("the key must be {KEY_LEN} bytes")))
    }

    fn cipher(&self) -> Option<LessSafeKey> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .ok()
            .map(LessSafeKey::new)
    }

    /// nonce (12 random bytes) || ciphertext || tag (16 bytes).
    pub(crate) fn seal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let failed = || StoreError::Encrypt { name: name.into() };
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| failed())?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
        sealed.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.cipher()
            .ok_or_else(failed)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut body,
            )
            .map_err(|_| failed())?;
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    pub(crate) fn open(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        let failed = || StoreError::Decrypt { name: name.into() };
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN).ok_or_else(failed)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| failed())?;
        let mut body = ciphertext.to_vec();
        let plaintext = self
            .cipher()
            .ok_or_else(failed)?
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut body)
            .map_err(|_| failed())?;
        Ok(plaintext.to_vec())
    }
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(***)")
    }
}

fn pad(unpadded: &str) -> String {
    let mut s = unpadded.to_string();
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

impl Store {
    /// Seals `plaintext` with `key` and stores it under `name`, replacing any earlier value.
    pub async fn put_secret(
        &self,
        name: &str,
        plaintext: &SecretString,
        key: &EncryptionKey,
    ) -> Result<(), StoreError> {
        let sealed = key.seal(name, plaintext.expose_secret().as_bytes())?;
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO secrets (name, sealed, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, \
                 updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(&sealed)
            .bind(DbTime::now())
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The secret stored under `name`, opened with `key`; `None` if there is none.
    /// A wrong key or altered bytes give [`StoreError::Decrypt`].
    pub async fn get_secret(
        &self,
        name: &str,
        key: &EncryptionKey,
    ) -> Result<Option<SecretString>, StoreError> {
        let Some(sealed) = self.get_sealed_secret(name).await? else {
            return Ok(None);
        };
        let plaintext = key.open(name, &sealed)?;
        let text = String::from_utf8(plaintext).map_err(|_| StoreError::Corrupt {
            what: "secret",
            detail: format!("{name:?} is not UTF-8"),
        })?;
        Ok(Some(SecretString::from(text)))
    }

    /// The raw stored bytes (nonce || ciphertext), for tests and key-rotation tools.
    pub async fn get_sealed_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let sealed: Option<Vec<u8>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT sealed FROM secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(p)
                .await
        })?;
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn keys_parse_from_standard_or_url_safe_base64_of_32_bytes() {
        assert!(EncryptionKey::from_base64(KEY_B64).is_ok());
        assert!(EncryptionKey::from_base64(KEY_B64.trim_end_matches('=')).is_ok());
        let url_safe = URL_SAFE.encode([0xfbu8; 32]);
        assert!(EncryptionKey::from_base64(&url_safe).is_ok());
    }

    #[test]
    fn key_errors_say_what_is_wrong() {
        let short = EncryptionKey::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err();
        assert!(short.to_string().contains("32 bytes"), "{short}");
        assert!(short.to_string().contains("got 16"), "{short}");
        let garbage = EncryptionKey::from_base64("not base64 at all!").unwrap_err();
        assert!(garbage.to_string().contains("base64"), "{garbage}");
        let empty = EncryptionKey::from_base64("  ").unwrap_err();
        assert!(empty.to_string().contains("empty"), "{empty}");
    }

    #[test]
    fn a_sealed_value_opens_only_with_the_same_key_and_name() {
        let key = EncryptionKey::from_base64(KEY_B64).unwrap();
        let other = EncryptionKey::from_bytes(&[9u8; 32]).unwrap();
        let sealed = key.seal("refresh", b"token").unwrap();
        assert_eq!(key.open("refresh", &sealed).unwrap(), b"token");
        assert!(other.open("refresh", &sealed).is_err());
        assert!(key.open("other-name", &sealed).is_err());
        assert!(key.open("refresh", &sealed[..5]).is_err());
        // A fresh nonce per write: sealing twice gives different bytes.
        assert_ne!(sealed, key.seal("refresh", b"token").unwrap());
    }

    #[test]
    fn a_value_sealed_by_the_earlier_aes_gcm_code_still_opens() {
        // Sealed with the `aes-gcm` 0.11 implementation this replaced: nonce || ciphertext || tag.
        let sealed = STANDARD
            .decode("OOujSg6OIj26gqR90X2xsQQ6iDZj35bhsJGT9eSY3JxE2gYNzHSoNYQzaCFZatcGVIw=")
            .unwrap();
        let key = EncryptionKey::from_base64(KEY_B64).unwrap();
        assert_eq!(
            key.open("partner_refresh_token", &sealed).unwrap(),
            b"sealed by aes-gcm 0.11"
        );
        assert!(key.open("another_name", &sealed).is_err());
        // And what is sealed now has the same layout: 12 + plaintext + 16 bytes.
        let now = key
            .seal("partner_refresh_token", b"sealed by aes-gcm 0.11")
            .unwrap();
        assert_eq!(now.len(), sealed.len());
    }

    #[test]
    fn the_key_is_not_printed_by_debug() {
        let key = EncryptionKey::from_base64(KEY_B64).unwrap();
        assert_eq!(format!("{key:?}"), "EncryptionKey(***)");
    }
}
