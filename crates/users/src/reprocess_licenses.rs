//! `ExecReprocessUserLicenses` (CIPP-API `Invoke-ExecReprocessUserLicenses.ps1`): asks Entra to
//! re-evaluate a user's licence assignments.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// `POST beta/users/{id}/reprocessLicenseAssignment` with `{}`, app-only as CIPP. `upn` is only
/// for the texts; without one the id is named (CIPP leaves a blank).
pub async fn reprocess_user_licenses(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    upn: Option<&str>,
) -> Result<String, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let name = upn
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(user_id);
    let path = format!("users/{}/reprocessLicenseAssignment", path_segment(user_id));
    match graph
        .app_only()
        .post(tenant, GraphVersion::Beta, &path, &json!({}))
        .await
    {
        Ok(_) => {
            let message = format!(
                "Successfully reprocessed license assignments for user {name}. License assignment states will be updated shortly."
            );
            tracing::info!(tenant, user = user_id, "{message}");
            Ok(message)
        }
        Err(e) => Err(UserError::Failed {
            message: format!(
                "Failed to reprocess license assignments for {name}. {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        }),
    }
}
