//! One inbox rule changed by the user page's rule list (CIPP's `Remove-CIPPMailboxRule` and
//! `Set-CIPPMailboxRule`, newest upstream): the rule's `Identity` (`alias\id`, as
//! ListUserMailboxRules lists it) is sent to Exchange anchored on the user's mailbox.

use cipp_graph::GraphClient;
use serde_json::json;

use crate::UserError;

/// What to do with the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleChange {
    Remove,
    Enable,
    Disable,
}

pub async fn change_rule(
    graph: &GraphClient,
    tenant: &str,
    user: &str,
    rule_id: &str,
    rule_name: &str,
    change: RuleChange,
) -> Result<String, UserError> {
    let cmdlet = match change {
        RuleChange::Remove => "Remove-InboxRule",
        RuleChange::Enable => "Enable-InboxRule",
        RuleChange::Disable => "Disable-InboxRule",
    };
    let state = match change {
        RuleChange::Enable => "Enabled",
        _ => "Disabled",
    };
    crate::mailbox_flags::exchange_call(
        graph,
        tenant,
        user,
        cmdlet,
        json!({"Identity": rule_id}),
        |reason| match change {
            RuleChange::Remove => format!("Failed to delete rule for {user}. Error: {reason}"),
            _ => format!(
                "Could not set mailbox rule {rule_name} for {user} to {state}. Error: {reason}"
            ),
        },
    )
    .await?;
    let message = match change {
        RuleChange::Remove => format!("Successfully deleted mailbox rule {rule_name} for {user}"),
        _ => format!("Successfully set mailbox rule {rule_name} for {user} to {state}"),
    };
    tracing::info!(tenant, user, "{message}");
    Ok(message)
}
