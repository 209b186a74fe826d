//! `RemoveTrustedBlockedSender` (CIPP-API `Invoke-RemoveTrustedBlockedSender.ps1` →
//! `Remove-CIPPTrustedBlockedSender.ps1`): removes one entry from a mailbox's junk-mail lists with
//! one Exchange `Set-MailboxJunkEmailConfiguration`.

use cipp_graph::GraphClient;
use serde_json::{Map, Value, json};

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// The list properties of `Set-MailboxJunkEmailConfiguration`. CIPP sends whatever name it is
/// given (Exchange then refuses an unknown one with a 500); a name outside these is a 400 here.
pub const JUNK_LISTS: [&str; 3] = [
    "TrustedSendersAndDomains",
    "BlockedSendersAndDomains",
    "TrustedRecipientsAndDomains",
];

/// Removes `value` from the list `type_property` of the mailbox `user_principal_name`.
pub async fn remove_trusted_blocked_sender(
    graph: &GraphClient,
    tenant_id: &str,
    user_principal_name: &str,
    type_property: &str,
    value: &str,
) -> Result<String, UserError> {
    let upn = user_principal_name.trim();
    if upn.is_empty() {
        return Err(UserError::missing("userPrincipalName"));
    }
    let type_property = type_property.trim();
    if type_property.is_empty() {
        return Err(UserError::missing("typeProperty"));
    }
    let Some(list) = JUNK_LISTS
        .iter()
        .find(|l| l.eq_ignore_ascii_case(type_property))
    else {
        return Err(UserError::invalid(
            "typeProperty",
            format!(
                "typeProperty must be one of {}, got '{type_property}'",
                JUNK_LISTS.join(", ")
            ),
        ));
    };
    if value.trim().is_empty() {
        return Err(UserError::missing("value"));
    }
    let mut params = Map::new();
    params.insert("Identity".into(), json!(upn));
    // A hashtable edit removes the one entry and keeps the rest of the list.
    params.insert(
        (*list).into(),
        json!({"@odata.type": "#Exchange.GenericHashTable", "Remove": value}),
    );
    graph
        .exchange(
            tenant_id,
            "Set-MailboxJunkEmailConfiguration",
            Value::Object(params),
            Some(upn),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to remove junk email configuration entry for {upn}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!("Successfully removed '{value}' from {type_property} for {upn}");
    tracing::info!(tenant = tenant_id, user = upn, "{message}");
    Ok(message)
}
