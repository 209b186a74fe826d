//! `ExecDisableUser` (CIPP-API `Invoke-ExecDisableUser.ps1` → `Set-CIPPSignInState.ps1`).

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::{UserError, is_synced, path_segment};

/// Sets `accountEnabled` on one user. Returns CIPP's success text.
///
/// For a user synced from on-premises AD the change is still made in Entra (as CIPP does), but the
/// answer is CIPP's failure text, because the next sync will undo it.
pub async fn set_sign_in_state(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    enabled: bool,
) -> Result<String, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let state = if enabled { "True" } else { "False" };
    let failed = |detail: String, source| UserError::Failed {
        message: format!("Failed to set sign-in state for {user_id}. Error: {detail}"),
        source,
    };
    let segment = path_segment(user_id);
    let synced = is_synced(graph, tenant, &segment)
        .await
        .map_err(|e| failed(normalize_graph_error(&e), Some(Box::new(e))))?;
    graph
        .patch(
            tenant,
            GraphVersion::V1,
            &format!("users/{segment}"),
            &json!({ "accountEnabled": enabled }),
        )
        .await
        .map_err(|e| failed(normalize_graph_error(&e), Some(Box::new(e))))?;
    let message = format!("Successfully set account enabled state to {state} for {user_id}");
    tracing::info!(tenant, user = user_id, "{message}");
    if synced {
        return Err(failed(
            format!(
                "WARNING: User {user_id} is AD Sync enabled. Please enable/disable in the local AD."
            ),
            None,
        ));
    }
    Ok(message)
}
