//! Browser sign-in sessions (same-origin hosting): one row per signed-in browser, found by the
//! SHA-256 of its cookie's random id, until it expires or the user signs out.

use sqlx::Row;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::time_col::DbTime;
use crate::{Store, StoreError, on_pool};

/// One signed-in browser.
#[derive(Clone, Debug, PartialEq)]
pub struct SignInSession {
    /// The SHA-256 (hex) of the cookie's id; the id itself is never stored.
    pub session_key: String,
    /// The user's object id.
    pub user_id: String,
    pub user_principal_name: String,
    /// The CIPP roles the user held at sign-in.
    pub roles: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// Records a new session (a key seen again replaces the old row).
    pub async fn session_put(&self, session: &SignInSession) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO sign_in_sessions (session_key, user_id, user_principal, roles, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (session_key) DO UPDATE SET user_id = excluded.user_id, \
                 user_principal = excluded.user_principal, roles = excluded.roles, \
                 created_at = excluded.created_at, expires_at = excluded.expires_at",
            )
            .bind(&session.session_key)
            .bind(&session.user_id)
            .bind(&session.user_principal_name)
            .bind(Json(&session.roles))
            .bind(DbTime::new(session.created_at))
            .bind(DbTime::new(session.expires_at))
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The session with this key, unless it has expired.
    pub async fn session_get(
        &self,
        session_key: &str,
    ) -> Result<Option<SignInSession>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT session_key, user_id, user_principal, roles, created_at, expires_at \
                 FROM sign_in_sessions WHERE session_key = $1 AND expires_at > $2",
            )
            .bind(session_key)
            .bind(DbTime::now())
            .fetch_optional(p)
            .await?;
            row.map(|row| -> Result<SignInSession, StoreError> {
                let roles: Json<Vec<String>> = row.try_get("roles")?;
                let created: DbTime = row.try_get("created_at")?;
                let expires: DbTime = row.try_get("expires_at")?;
                Ok(SignInSession {
                    session_key: row.try_get("session_key")?,
                    user_id: row.try_get("user_id")?,
                    user_principal_name: row.try_get("user_principal")?,
                    roles: roles.0,
                    created_at: created.get(),
                    expires_at: expires.get(),
                })
            })
            .transpose()
        })
    }

    /// Ends a session (sign-out); returns whether it existed.
    pub async fn session_delete(&self, session_key: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => {
            sqlx::query("DELETE FROM sign_in_sessions WHERE session_key = $1")
                .bind(session_key)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(deleted > 0)
    }

    /// Deletes the sessions that expired before `now`; returns how many.
    pub async fn sessions_delete_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, p => {
            sqlx::query("DELETE FROM sign_in_sessions WHERE expires_at <= $1")
                .bind(DbTime::new(now))
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(deleted)
    }
}
