//! `ExecEnableArchive` (CIPP-API `Invoke-ExecEnableArchive.ps1` → `Set-CIPPMailboxArchive.ps1`):
//! one Exchange `Enable-Mailbox -Archive`, routed through the tenant's system mailbox as CIPP
//! does (no user anchor).

use cipp_graph::GraphClient;
use serde_json::json;

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// Enables the online archive of `id`; `username` (blank: `id`) is the name the texts use.
pub async fn enable_archive(
    graph: &GraphClient,
    tenant_id: &str,
    id: &str,
    username: Option<&str>,
) -> Result<String, UserError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(UserError::missing("id"));
    }
    let name = username
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(id);
    graph
        .exchange(
            tenant_id,
            "Enable-Mailbox",
            json!({"Identity": id, "Archive": true}),
            None,
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to set archive for {name}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!("Successfully set archive for {name} to True");
    tracing::info!(tenant = tenant_id, user = id, "{message}");
    Ok(message)
}
