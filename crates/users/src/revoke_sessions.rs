//! `ExecRevokeSessions` (CIPP-API `Invoke-ExecRevokeSessions.ps1` → `Revoke-CIPPSessions.ps1`).

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// Invalidates every refresh token of a user; `username` only names the user in the message.
pub async fn revoke_sessions(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    username: Option<&str>,
) -> Result<String, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("id"));
    }
    let username = username.unwrap_or_default();
    graph
        .post(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}/invalidateAllRefreshTokens", path_segment(user_id)),
            &json!({}),
        )
        .await
        .map_err(|error| UserError::Failed {
            message: format!(
                "Failed to revoke sessions for {username}. Error: {}",
                normalize_graph_error(&error)
            ),
            source: Some(Box::new(error)),
        })?;
    let message = format!("Successfully revoked sessions for {username}");
    tracing::info!(tenant, user = user_id, "{message}");
    Ok(message)
}
