//! `ExecConvertMailbox` (CIPP-API `Invoke-ExecConvertMailbox.ps1` → `Set-CIPPMailboxType.ps1`):
//! changes a mailbox's type with one Exchange `Set-Mailbox -Type`.
//!
//! CIPP appends a size warning for a conversion to Shared when its reporting cache holds the
//! mailbox at 49 GiB or more; there is no reporting cache here, so the answer is always the one
//! CIPP gives when the cache has no row for the mailbox.

use cipp_graph::GraphClient;
use serde_json::json;

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// The types CIPP's `ValidateSet` allows (case-insensitive).
pub const MAILBOX_TYPES: [&str; 4] = ["Shared", "Regular", "Room", "Equipment"];

/// Converts the mailbox of `id` (UPN or object id) to `mailbox_type`, echoed as sent.
pub async fn convert_mailbox(
    graph: &GraphClient,
    tenant_id: &str,
    id: &str,
    mailbox_type: &str,
) -> Result<String, UserError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let mailbox_type = mailbox_type.trim();
    if mailbox_type.is_empty() {
        return Err(UserError::missing("MailboxType"));
    }
    if !MAILBOX_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(mailbox_type))
    {
        return Err(UserError::invalid(
            "MailboxType",
            format!("MailboxType must be Shared, Regular, Room or Equipment, got '{mailbox_type}'"),
        ));
    }
    graph
        .exchange(
            tenant_id,
            "Set-Mailbox",
            json!({"Identity": id, "Type": mailbox_type}),
            Some(id),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to convert {id} to a {mailbox_type} mailbox. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!("Successfully converted {id} to a {mailbox_type} mailbox");
    tracing::info!(tenant = tenant_id, user = id, "{message}");
    Ok(message)
}
