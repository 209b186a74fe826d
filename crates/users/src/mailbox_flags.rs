//! The one-switch mailbox settings the user pages toggle (`CippExchangeActions`): each is one
//! Exchange `Set-Mailbox` with CIPP's texts. Offboarding's "Hide from Global Address List"
//! step calls [`set_hidden_from_gal`] too.

use cipp_graph::GraphClient;
use serde_json::{Value, json};

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// One Exchange cmdlet anchored on `anchor`'s mailbox, for actions whose answer is a text;
/// `Err` carries `failed(Exchange's reason)` and the cause.
pub async fn exchange_call(
    graph: &GraphClient,
    tenant: &str,
    anchor: &str,
    cmdlet: &str,
    parameters: Value,
    failed: impl FnOnce(String) -> String,
) -> Result<(), UserError> {
    graph
        .exchange(tenant, cmdlet, parameters, Some(anchor))
        .await
        .map(|_| ())
        .map_err(|error| UserError::Failed {
            message: failed(normalize_graph_error(&error)),
            source: Some(Box::new(error)),
        })
}

/// `Set-Mailbox` on `identity` with `settings`.
async fn set_mailbox(
    graph: &GraphClient,
    tenant: &str,
    identity: &str,
    settings: Value,
    failed: impl FnOnce(String) -> String,
) -> Result<(), UserError> {
    let mut parameters = json!({"Identity": identity});
    if let (Value::Object(p), Value::Object(s)) = (&mut parameters, settings) {
        p.extend(s);
    }
    exchange_call(graph, tenant, identity, "Set-Mailbox", parameters, failed).await
}

/// PowerShell's text for a Boolean, as CIPP's messages print it.
pub fn ps_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// CIPP's `Set-CIPPHideFromGAL` (newest): hidden or unhidden from the address lists.
pub async fn set_hidden_from_gal(
    graph: &GraphClient,
    tenant: &str,
    user: &str,
    hidden: bool,
) -> Result<String, UserError> {
    let text = if hidden { "hidden" } else { "unhidden" };
    set_mailbox(
        graph,
        tenant,
        user,
        json!({"HiddenFromAddressListsEnabled": hidden}),
        |reason| format!("Failed to set {user} to {text} in GAL. Error: {reason}"),
    )
    .await?;
    let message = format!("Successfully {text} {user} from GAL.");
    tracing::info!(tenant, user, "{message}");
    Ok(message)
}

/// Which hold [`set_hold`] sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    Litigation,
    Retention,
}

/// CIPP's ExecSetLitigationHold / ExecSetRetentionHold: the hold on or off (a litigation hold
/// for `days` when given and turned on).
pub async fn set_hold(
    graph: &GraphClient,
    tenant: &str,
    identity: &str,
    upn: &str,
    hold: Hold,
    on: bool,
    days: Option<u32>,
) -> Result<String, UserError> {
    let (name, mut settings) = match hold {
        Hold::Litigation => ("Litigation", json!({"LitigationHoldEnabled": on})),
        Hold::Retention => ("Retention", json!({"RetentionHoldEnabled": on})),
    };
    let days = days.filter(|d| *d != 0 && on && hold == Hold::Litigation);
    if let (Some(days), Value::Object(s)) = (days, &mut settings) {
        s.insert("LitigationHoldDuration".to_owned(), json!(days));
    }
    let state = ps_bool(on);
    set_mailbox(graph, tenant, identity, settings, |reason| {
        format!(
            "Could not set {} hold for {upn} with Id {identity} to {state}. Error: {reason}",
            name.to_lowercase()
        )
    })
    .await?;
    let mut message = format!("{name} hold for {upn} with Id {identity} has been set to {state}");
    if let Some(days) = days {
        message.push_str(&format!(" for {days} days"));
    }
    tracing::info!(tenant, user = identity, "{message}");
    Ok(message)
}

/// CIPP's `Set-CIPPMessageCopy` (as ExecCopyForSent calls it): a copy of mail sent as, and on
/// behalf of, the mailbox kept in its Sent Items, both on or both off.
pub async fn set_message_copy(
    graph: &GraphClient,
    tenant: &str,
    user: &str,
    on: bool,
) -> Result<String, UserError> {
    let state = ps_bool(on);
    set_mailbox(
        graph,
        tenant,
        user,
        json!({"MessageCopyForSentAsEnabled": on, "MessageCopyForSendOnBehalfEnabled": on}),
        |reason| {
            format!(
                "Failed to set message copy for 'Send as' as {state} and 'Sent on behalf' as {state} - {reason}"
            )
        },
    )
    .await?;
    let message = format!(
        "Successfully set message copy for 'Send as' as {state} and 'Sent on behalf' as {state} on {user}."
    );
    tracing::info!(tenant, user, "{message}");
    Ok(message)
}
