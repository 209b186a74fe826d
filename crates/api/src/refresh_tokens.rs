//! The partner's refresh token, kept across restarts: Entra rotates it on every use, so the
//! newest one is sealed (AES-256-GCM, key from `CIPP_ENCRYPTION_KEY`) into the store.

use cipp_store::{EncryptionKey, Store};
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};

const SECRET_NAME: &str = "partner-refresh-token";

pub struct StoredRefreshToken {
    store: Store,
    key: EncryptionKey,
    /// The newest token this process has seen.
    current: Mutex<Option<SecretString>>,
    /// Used when neither this process nor the store has one.
    configured: Option<SecretString>,
}

impl StoredRefreshToken {
    /// `start_with_configured`: begin from the configured token rather than a stored one (demo
    /// mode, whose simulator issues fresh tokens at every start).
    pub fn new(
        store: Store,
        key: EncryptionKey,
        configured: Option<SecretString>,
        start_with_configured: bool,
    ) -> Self {
        let current = if start_with_configured {
            configured.clone()
        } else {
            None
        };
        Self {
            store,
            key,
            current: Mutex::new(current),
            configured,
        }
    }
}

#[async_trait::async_trait]
impl cipp_graph::RefreshTokenStore for StoredRefreshToken {
    async fn load(&self) -> Option<SecretString> {
        if let Some(token) = self.current.lock().clone() {
            return Some(token);
        }
        match self.store.get_secret(SECRET_NAME, &self.key).await {
            Ok(Some(token)) => Some(token),
            Ok(None) => self.configured.clone(),
            Err(error) => {
                tracing::error!(%error, "the stored partner refresh token cannot be read; using the configured one");
                self.configured.clone()
            }
        }
    }

    async fn save(&self, token: SecretString) {
        if token.expose_secret().is_empty() {
            return;
        }
        *self.current.lock() = Some(token.clone());
        if let Err(error) = self.store.put_secret(SECRET_NAME, &token, &self.key).await {
            tracing::error!(%error, "the rotated partner refresh token could not be stored; a restart will fall back to the configured one");
        }
    }
}
