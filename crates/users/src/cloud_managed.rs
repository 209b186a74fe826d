//! `ExecSetCloudManaged` (CIPP-API `Invoke-ExecSetCloudManaged.ps1` → `Set-CIPPCloudManaged.ps1`):
//! switches an object's source of authority between on-premises AD and the cloud.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// The object kinds CIPP's ValidateSet allows, as spelled in messages, and their Graph paths.
pub const KINDS: &[(&str, &str)] = &[
    ("User", "users"),
    ("Group", "groups"),
    ("Contact", "contacts"),
];

/// `PATCH beta/{users|groups|contacts}/{id}/onPremisesSyncBehavior` with `{"isCloudManaged"}`,
/// app-only, as CIPP does. `kind` is compared ignoring case and shown as given.
pub async fn set_cloud_managed(
    graph: &GraphClient,
    tenant: &str,
    object_id: &str,
    display_name: &str,
    kind: &str,
    cloud_managed: bool,
) -> Result<String, UserError> {
    let object_id = object_id.trim();
    if object_id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let collection = KINDS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(kind))
        .map(|(_, path)| *path)
        .ok_or_else(|| {
            UserError::invalid(
                "type",
                format!("type must be User, Group or Contact, got '{kind}'"),
            )
        })?;
    let status = if cloud_managed {
        "cloud-managed"
    } else {
        "on-premises managed"
    };
    graph
        .app_only()
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!(
                "{collection}/{}/onPremisesSyncBehavior",
                path_segment(object_id)
            ),
            &json!({ "isCloudManaged": cloud_managed }),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to set {kind} {display_name} ({object_id}) source of authority to {status}: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!(
        "Successfully set {kind} {display_name} ({object_id}) source of authority to {status}"
    );
    tracing::info!(tenant, "{message}");
    Ok(message)
}
