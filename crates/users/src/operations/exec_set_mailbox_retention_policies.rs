//! `ExecSetMailboxRetentionPolicies` (CIPP-API `Invoke-ExecSetMailboxRetentionPolicies.ps1`):
//! one retention policy applied to several mailboxes, one Exchange `Set-Mailbox
//! -RetentionPolicy` and one read-back each, one line each.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_readback::{Expect, ReadBack};
use crate::normalize::normalize_graph_error;
use crate::op::types::TextListResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetMailboxRetentionPolicies;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The retention policy's name.
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
    /// The mailboxes (user principal names or other Exchange identities).
    #[serde(rename = "Mailboxes")]
    pub mailboxes: Vec<String>,
}

impl Operation for ExecSetMailboxRetentionPolicies {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecSetMailboxRetentionPolicies";
    const TAG: &'static str = "Email-Exchange > Administration > Mailbox Retention";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const PARTIAL: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetMailboxRetentionPolicies.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `PolicyName` or `Mailboxes` is a 400 naming it with CIPP's text in `Results` (CIPP: the text as the whole body). The mailboxes are changed one call each rather than in one Exchange batch. All failing is Exchange's status when every line names the same cause (CIPP: 500). Each mailbox is read back after the change: a policy Exchange does not show (yet) is that mailbox's line saying what it shows, counted as not done.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "PolicyName": "Default MRM Policy",
               "Mailboxes": [crate::demo::USER]})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let tenant = ctx.tenant()?;
        let policy = params.policy_name.trim();
        if policy.is_empty() {
            return Err(UserError::invalid("PolicyName", "PolicyName is required"));
        }
        if params.mailboxes.is_empty() {
            return Err(UserError::invalid("Mailboxes", "Mailboxes array is required"));
        }
        let mut lines = Vec::new();
        let mut failed = 0;
        for mailbox in &params.mailboxes {
            let mailbox = mailbox.trim();
            if mailbox.is_empty() {
                lines.push("Failed to apply retention policy to empty mailbox identity".to_owned());
                failed += 1;
                continue;
            }
            // CIPP's bulk request runs through the system mailbox (no anchor).
            let set = ctx
                .graph
                .exchange(
                    &tenant.customer_id,
                    "Set-Mailbox",
                    json!({"Identity": mailbox, "RetentionPolicy": policy}),
                    None,
                )
                .await;
            let line = match set {
                Err(error) => Err(format!(
                    "Failed to apply retention policy '{policy}' to {mailbox}: {}",
                    normalize_graph_error(&error)
                )),
                Ok(_) => ReadBack::mailbox(mailbox, None)
                    .expect("RetentionPolicy", Expect::Text(policy.to_owned()))
                    .verify(
                        &ctx.graph,
                        &tenant.customer_id,
                        &format!("retention policy '{policy}' for {mailbox}"),
                    )
                    .await
                    .map(|()| format!("Successfully applied retention policy '{policy}' to {mailbox}")),
            };
            match line {
                Ok(text) => lines.push(text),
                Err(text) => {
                    failed += 1;
                    lines.push(text);
                }
            }
        }
        tracing::info!(tenant = %tenant.customer_id, "{}", lines.join(" | "));
        if failed == lines.len() {
            return Err(UserError::Answered {
                kind: crate::mailbox_readback::kind_of_lines(&lines),
                message: lines.join(" | "),
                results: json!(lines),
            });
        }
        Ok(Outcome::json(TextListResults::new(lines)).partial(failed > 0))
    }
}
