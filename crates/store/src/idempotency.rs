//! `Idempotency-Key`: the first answer to a write, kept for a day under the caller and the key,
//! so that a repeat (a retry after a timeout, two replicas given the same request) gets that
//! answer instead of a second change. The answer is sealed with the encryption key: it may hold
//! a generated password or a temporary access pass.

use std::time::Duration;

use crate::time_col::DbTime;
use crate::{EncryptionKey, Store, StoreError, on_pool};

/// What the store holds for a key when a request arrives with it.
#[derive(Debug)]
pub enum IdempotencyClaim {
    /// The key was free: this request runs, then calls [`Store::idempotency_finish`] (or
    /// [`Store::idempotency_release`] when its answer must not be kept).
    Claimed,
    /// An earlier request holds the key and has not answered yet.
    Running { fingerprint: String },
    /// An earlier request answered. `answer` is `Err` when it cannot be opened with this key
    /// (sealed by a replica with another key).
    Done {
        fingerprint: String,
        status: u16,
        answer: Result<Vec<u8>, StoreError>,
    },
}

/// The associated data a kept answer is sealed under: an answer copied to another key does not open.
fn sealed_name(principal: &str, key: &str) -> String {
    format!("idempotency:{principal}:{key}")
}

impl Store {
    /// Claims `key` for `principal`, or says who has it. Keys older than `ttl` are forgotten first.
    pub async fn idempotency_claim(
        &self,
        principal: &str,
        key: &str,
        fingerprint: &str,
        ttl: Duration,
        seal: &EncryptionKey,
    ) -> Result<IdempotencyClaim, StoreError> {
        let now = DbTime::now();
        let cutoff = DbTime::new(now.get() - ttl);
        let inserted = on_pool!(self, p => {
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(cutoff)
                .execute(p)
                .await?;
            sqlx::query(
                "INSERT INTO idempotency_keys (principal, idem_key, fingerprint, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (principal, idem_key) DO NOTHING",
            )
            .bind(principal)
            .bind(key)
            .bind(fingerprint)
            .bind(now)
            .execute(p)
            .await
            .map(|done| done.rows_affected())
        })?;
        if inserted == 1 {
            return Ok(IdempotencyClaim::Claimed);
        }
        let row: Option<(String, Option<i32>, Option<Vec<u8>>)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT fingerprint, status, answer FROM idempotency_keys \
                 WHERE principal = $1 AND idem_key = $2",
            )
            .bind(principal)
            .bind(key)
            .fetch_optional(p)
            .await
        })?;
        Ok(match row {
            // Forgotten between the insert and the read (expired at that instant): claim again.
            None => {
                Box::pin(self.idempotency_claim(principal, key, fingerprint, ttl, seal)).await?
            }
            Some((fingerprint, Some(status), Some(sealed))) => IdempotencyClaim::Done {
                fingerprint,
                status: u16::try_from(status).unwrap_or(500),
                answer: seal.open(&sealed_name(principal, key), &sealed),
            },
            Some((fingerprint, _, _)) => IdempotencyClaim::Running { fingerprint },
        })
    }

    /// Keeps the first answer (status and body bytes), sealed.
    pub async fn idempotency_finish(
        &self,
        principal: &str,
        key: &str,
        status: u16,
        answer: &[u8],
        seal: &EncryptionKey,
    ) -> Result<(), StoreError> {
        let sealed = seal.seal(&sealed_name(principal, key), answer)?;
        on_pool!(self, p => {
            sqlx::query(
                "UPDATE idempotency_keys SET status = $1, answer = $2 \
                 WHERE principal = $3 AND idem_key = $4",
            )
            .bind(i32::from(status))
            .bind(&sealed)
            .bind(principal)
            .bind(key)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Frees the key (the request failed before changing anything), so a retry runs.
    pub async fn idempotency_release(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2")
                .bind(principal)
                .bind(key)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// The kept answer's stored bytes as they are (sealed), for tests that check no secret is
    /// readable in the store.
    pub async fn idempotency_stored_answer(
        &self,
        principal: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let answer: Option<Option<Vec<u8>>> = on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT answer FROM idempotency_keys WHERE principal = $1 AND idem_key = $2",
            )
            .bind(principal)
            .bind(key)
            .fetch_optional(p)
            .await
        })?;
        Ok(answer.flatten())
    }
}
