//! `Idempotency-Key` on every write: the first answer is kept for 24 hours in the state store
//! (so it holds across replicas), sealed with the encryption key, under the caller and the key.
//! A repeat with the same parameters gets that answer, marked `Idempotent-Replayed: true`,
//! without calling Microsoft again; a repeat that arrives while the first still runs waits for
//! it; the same key with other parameters or another operation is a 422.
//!
//! What is kept: every answer of a call that got as far as running, errors included (a 5xx
//! may follow a change, so running it again is not safe). Not kept, so a corrected retry may
//! use the key: refusals before anything ran (400 bad input, 401, 403, 422).

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use serde_json::Value;
use std::time::Duration;

use crate::error::ApiError;

pub const HEADER: &str = "Idempotency-Key";
/// Set on an answer that is a kept first answer, not a new run.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// How long a key and its answer are kept.
pub const TIME_TO_LIVE: Duration = Duration::from_secs(24 * 3600);
/// How long a repeat waits for the first request before answering 409.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);
const MAX_KEY_LENGTH: usize = 255;

/// The request's key: `None` without the header; a 400 when it is empty, too long or not text.
pub fn key_of(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map(str::trim)
        .map_err(|_| invalid_key("must be printable ASCII"))?;
    if key.is_empty() {
        return Err(invalid_key("must not be empty"));
    }
    if key.len() > MAX_KEY_LENGTH {
        return Err(invalid_key("must be at most 255 characters"));
    }
    Ok(Some(key.to_owned()))
}

fn invalid_key(problem: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("{HEADER}: the header {problem}"),
    )
}

/// Whose key it is: keys are per caller, so two integrations cannot collide on a key. Built from
/// the caller's stable id (an app's client id, a user's object id), never a display name.
pub fn principal(caller: &dyn cipp_users_domain::op::CallerInfo) -> String {
    match caller.identity() {
        cipp_users_domain::op::CallerIdentity::ApiClient { client_id, .. } => {
            format!("app:{client_id}")
        }
        cipp_users_domain::op::CallerIdentity::User {
            object_id,
            user_principal_name,
        } => {
            if object_id.is_empty() {
                format!("user:{user_principal_name}")
            } else {
                format!("user:{object_id}")
            }
        }
    }
}

/// What identifies the request a key was first used with: the operation and its parameters,
/// with object keys sorted so the order a client writes them in does not matter.
pub fn fingerprint(operation: &str, parameters: &Value) -> String {
    let canonical = format!(
        "{}\n{}",
        operation.to_ascii_lowercase(),
        canonical_json(parameters)
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String(k.clone()),
                        canonical_json(&fields[k])
                    )
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// The 422 for a key reused with other parameters.
pub fn reused_with_other_parameters() -> ApiError {
    let mut error = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "{HEADER}: this key was used with a different request (another operation or other parameters) in the last 24 hours; use a new key for a new request"
        ),
    );
    error.code = crate::error::CODE_IDEMPOTENCY_KEY_REUSED;
    error
}

/// The 409 for a repeat whose first request is still running after the wait.
pub fn still_running() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!(
            "{HEADER}: the first request with this key is still running; retry with the same key later to get its answer"
        ),
    )
}

/// The 409 for a kept answer this replica cannot open (sealed with another key).
pub fn unreadable_answer() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!(
            "{HEADER}: the first request with this key has answered, but its answer was sealed with another encryption key (set the same CIPP_ENCRYPTION_KEY on every replica); it was not run again"
        ),
    )
}

/// Whether an error answer is kept: refusals before anything ran are not.
pub fn keeps_error(status: StatusCode) -> bool {
    !matches!(status.as_u16(), 400 | 401 | 403 | 422)
}

/// Waits for the first request's answer: `Some((fingerprint, status, answer))` once it is
/// there, `None` when the key was freed meanwhile (the first was refused), an error after the wait.
pub async fn wait_for_first(
    store: &cipp_store::Store,
    principal: &str,
    key: &str,
    fingerprint: &str,
    seal: &cipp_store::EncryptionKey,
) -> Result<cipp_store::IdempotencyClaim, ApiError> {
    let started = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(POLL).await;
        let claim = store
            .idempotency_claim(principal, key, fingerprint, TIME_TO_LIVE, seal)
            .await
            .map_err(store_error)?;
        match claim {
            cipp_store::IdempotencyClaim::Running { .. } if started.elapsed() < WAIT_FOR_FIRST => {}
            cipp_store::IdempotencyClaim::Running { .. } => return Err(still_running()),
            other => return Ok(other),
        }
    }
}

pub fn store_error(error: cipp_store::StoreError) -> ApiError {
    tracing::error!(%error, "the idempotency record could not be read or written");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{HEADER}: the state store is unavailable, so the request was not run"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fingerprint_ignores_key_order_but_not_values_or_the_operation() {
        let a = fingerprint("ExecDisableUser", &json!({"ID": "a", "tenantFilter": "t"}));
        let b = fingerprint("execdisableuser", &json!({"tenantFilter": "t", "ID": "a"}));
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint("ExecDisableUser", &json!({"ID": "b", "tenantFilter": "t"}))
        );
        assert_ne!(
            a,
            fingerprint(
                "ExecRevokeSessions",
                &json!({"ID": "a", "tenantFilter": "t"})
            )
        );
    }

    #[test]
    fn only_refusals_before_anything_ran_free_the_key() {
        assert!(!keeps_error(StatusCode::BAD_REQUEST));
        assert!(!keeps_error(StatusCode::FORBIDDEN));
        assert!(keeps_error(StatusCode::NOT_FOUND));
        assert!(keeps_error(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(keeps_error(StatusCode::SERVICE_UNAVAILABLE));
    }
}
