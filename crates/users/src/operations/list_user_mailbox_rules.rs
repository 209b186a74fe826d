//! `ListUserMailboxRules` (CIPP-API `Invoke-ListUserMailboxRules.ps1`): the mailbox's inbox
//! rules, hidden ones included, without Exchange's own junk-mail and out-of-office rules.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_reads::failed;
use crate::op::types::{GraphRow, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListUserMailboxRules;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
    /// The mailbox's address, only to name it in a failure.
    #[serde(rename = "userEmail")]
    pub user_email: Option<String>,
}

/// The rules as Exchange's `Get-InboxRule` returns them, less `RuleIdentity` (a bare
/// `Vec<GraphRow>` has no schema of its own to refer to).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub struct ListUserMailboxRulesRows(pub Vec<GraphRow>);

impl Operation for ListUserMailboxRules {
    type Params = Params;
    type Answer = ListUserMailboxRulesRows;
    const NAME: &'static str = "ListUserMailboxRules";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserMailboxRules.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A mailbox whose rules cannot be read is a 500 with CIPP's failure text (CIPP: 200 with nothing). A missing `UserID`, or one that is neither an object id nor a user principal name, is a 400 naming it.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserID": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ListUserMailboxRulesRows>, UserError> {
        let tenant = ctx.tenant()?;
        let user_id = params.user_id.as_str();
        let shown = params
            .user_email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or(user_id);
        let rules = ctx
            .graph
            .exchange(
                &tenant.customer_id,
                "Get-InboxRule",
                json!({"mailbox": user_id, "IncludeHidden": true}),
                Some(user_id),
            )
            .await
            .map_err(|e| failed(format!("Failed to retrieve mailbox rules for {shown}"), e))?;
        Ok(Outcome::json(visible_rules(rules)))
    }
}

/// The rules a person made: Exchange's junk-mail rule and out-of-office rules left out, and
/// `RuleIdentity` (an internal number) dropped.
fn visible_rules(rules: Vec<Value>) -> ListUserMailboxRulesRows {
    ListUserMailboxRulesRows(rules
        .into_iter()
        .filter_map(|rule| match rule {
            Value::Object(fields) => Some(fields),
            _ => None,
        })
        .filter(|rule| {
            let name = rule.get("Name").and_then(Value::as_str).unwrap_or_default();
            name != "Junk E-Mail Rule" && !name.starts_with("Microsoft.Exchange.OOF.")
        })
        .map(|mut rule| {
            rule.remove("RuleIdentity");
            GraphRow(rule)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_own_rules_and_rule_identities_are_left_out() {
        let rows = visible_rules(vec![
            json!({"Name": "Junk E-Mail Rule"}),
            json!({"Name": "Microsoft.Exchange.OOF.KnownSenders"}),
            json!({"Name": "To the archive", "RuleIdentity": "1234"}),
        ]);
        assert_eq!(
            serde_json::to_value(&rows).unwrap(),
            json!([{"Name": "To the archive"}])
        );
    }
}
