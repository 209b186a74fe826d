//! `ExecSetMailboxRule` (CIPP-API `Invoke-ExecSetMailboxRule.ps1`): turns one inbox rule of a mailbox on or off.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_rules::{RuleChange, change_rule};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetMailboxRule;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The rule's `Identity` as ListUserMailboxRules lists it (`alias\id`).
    #[serde(rename = "ruleId")]
    pub rule_id: String,
    /// The rule's name, for the answer.
    #[serde(rename = "ruleName")]
    pub rule_name: Option<String>,
    /// The mailbox's user principal name.
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: UserId,
    /// `true` enables the rule.
    #[serde(rename = "Enable", default)]
    pub enable: bool,
    /// `true` disables the rule.
    #[serde(rename = "Disable", default)]
    pub disable: bool,
}

impl Operation for ExecSetMailboxRule {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetMailboxRule";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetMailboxRule.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ruleId` or `userPrincipalName` is a 400 naming it, as is neither `Enable` nor `Disable` (CIPP: 500 with its text). A failure is Exchange's status (404 for an unknown rule) rather than always 500.",
    );

    fn example() -> Value {
        // A rule the demo's simulator seeds (seed 365).
        json!({"tenantFilter": crate::demo::TENANT, "ruleId": "xavier.kowalski\\1885703018054483969",
            "ruleName": "Mark notifications as read",
            "userPrincipalName": "xavier.kowalski@contoso.example", "Disable": true})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let change = match (params.enable, params.disable) {
            (true, _) => RuleChange::Enable,
            (false, true) => RuleChange::Disable,
            (false, false) => {
                return Err(UserError::invalid(
                    "Enable",
                    "Enable or Disable: No state provided for mailbox rule",
                ));
            }
        };
        let tenant = ctx.tenant()?;
        let message = change_rule(
            &ctx.graph,
            &tenant.customer_id,
            params.user_principal_name.as_str(),
            params.rule_id.trim(),
            params.rule_name.as_deref().unwrap_or_default(),
            change,
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}
