//! `RemoveUser` (CIPP-API `Invoke-RemoveUser.ps1` → `Remove-CIPPUser.ps1`): a soft delete; the
//! user goes to deleted items and can be restored for 30 days.

use cipp_graph::{GraphClient, GraphVersion};

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

pub async fn remove_user(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    user_principal_name: Option<&str>,
) -> Result<String, UserError> {
    let user_id = user_id.trim();
    // CIPP exits without any response here; a clear 400 is what a caller can act on.
    if user_id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let username = user_principal_name
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| format!(" and Username: '{u}'"))
        .unwrap_or_default();
    graph
        .delete(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}", path_segment(user_id)),
        )
        .await
        .map_err(|error| UserError::Failed {
            message: format!(
                "Failed to delete user with ID: '{user_id}'. Error: {}{username}",
                normalize_graph_error(&error)
            ),
            source: Some(Box::new(error)),
        })?;
    let message = format!("Successfully deleted user with ID: '{user_id}'{username}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}
