//! `ExecClrImmId` (CIPP-API `Invoke-ExecClrImmId.ps1` → `Clear-CIPPImmutableId.ps1`): clears
//! `onPremisesImmutableId`, restoring the user from deleted items first when it is there.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// Reads the user (beta); when that fails, looks in deleted items and restores it; then sets
/// `onPremisesImmutableId` to null. All delegated, as CIPP does.
pub async fn clear_immutable_id(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
) -> Result<String, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to clear immutable ID for {user_id}. Error: {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    let segment = path_segment(user_id);
    if graph
        .get(tenant, GraphVersion::Beta, &format!("users/{segment}"), &[])
        .await
        .is_err()
    {
        // Not a live user: CIPP restores it from deleted items when it is there, and otherwise
        // lets the PATCH below fail with Graph's text.
        if graph
            .get(
                tenant,
                GraphVersion::Beta,
                &format!("directory/deletedItems/{segment}"),
                &[],
            )
            .await
            .is_ok()
        {
            graph
                .post(
                    tenant,
                    GraphVersion::Beta,
                    &format!("directory/deletedItems/{segment}/restore"),
                    &json!({}),
                )
                .await
                .map_err(failed)?;
            tracing::info!(
                tenant,
                "Restored deleted user {user_id} to clear immutable ID"
            );
        }
    }
    graph
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!("users/{segment}"),
            &json!({ "onPremisesImmutableId": null }),
        )
        .await
        .map_err(failed)?;
    let message = format!("Successfully cleared immutable ID for user {user_id}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}
