//! `ExecSetRecipientLimits` (CIPP-API `Invoke-ExecSetRecipientLimits.ps1`): the most recipients
//! one message from a mailbox may have, with Exchange `Set-Mailbox -RecipientLimits`. The
//! mailbox is read back afterwards: success is only claimed when Exchange shows the new limit.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetRecipientLimits;

/// Exchange Online takes 1 to 1000 recipients per message.
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox (the frontend sends `Get-Mailbox`'s `Identity`; an alias, UPN, address or
    /// object id all work).
    #[serde(rename = "Identity")]
    pub identity: Option<String>,
    /// The new limit, 1 to 1000 (the form sends it as text).
    #[serde(rename = "recipientLimit")]
    #[schema(minimum = 1, maximum = 1000)]
    pub recipient_limit: Option<i64>,
    /// The user principal name, only to name the mailbox in the answer (`Identity` when absent).
    #[serde(rename = "userid")]
    pub userid: Option<String>,
}

/// Exchange shows the limit as a number or as text (`"500"`, `"Unlimited"`).
fn shown_limit(mailbox: &Value) -> Option<String> {
    let value = mailbox
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("RecipientLimits"))
        .map(|(_, v)| v)?;
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// Whether what Exchange shows is the limit that was set.
pub fn confirmed(requested: u32, shown: Option<&str>) -> bool {
    shown.and_then(|s| s.parse::<u32>().ok()) == Some(requested)
}

impl Operation for ExecSetRecipientLimits {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetRecipientLimits";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetRecipientLimits.ps1",
        frontend: Some("src/components/CippFormPages/CippExchangeSettingsForm.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The mailbox is read back after `Set-Mailbox`; when Exchange does not show the new limit (or cannot be read), the answer is a 500 saying so instead of CIPP's success text. A missing `Identity`, or a `recipientLimit` that is not a whole number from 1 to 1000, is a 400 naming it (CIPP sends it to Exchange). A failure keeps Exchange's status (404 for an unknown mailbox) rather than always 500.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "Identity": crate::demo::USER,
            "userid": crate::demo::USER,
            "recipientLimit": "300",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let identity = params
            .identity
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty())
            .ok_or_else(|| UserError::missing("Identity"))?;
        let limit = params
            .recipient_limit
            .ok_or_else(|| UserError::missing("recipientLimit"))?;
        let limit = u32::try_from(limit)
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                UserError::invalid(
                    "recipientLimit",
                    format!("recipientLimit must be a whole number from 1 to {MAX_LIMIT}, got {limit}"),
                )
            })?;
        let upn = params
            .userid
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| identity.clone());
        let failed = |reason: String, source: Option<cipp_graph::GraphError>| UserError::Failed {
            message: format!(
                "Could not set recipient limit for {upn} to {limit}. Error: {reason}"
            ),
            source: source.map(Box::new),
        };
        let graph = &ctx.graph;
        graph
            .exchange(
                &tenant.customer_id,
                "Set-Mailbox",
                json!({"Identity": identity, "RecipientLimits": limit}),
                None,
            )
            .await
            .map_err(|e| failed(normalize_graph_error(&e), Some(e)))?;
        // A dry run recorded the write instead of making it: there is nothing to read back.
        if ctx.dry_run.is_some() {
            return Ok(Outcome::json(TextResults::new(format!(
                "Recipient limit for {upn} has been set to {limit}"
            ))));
        }
        // Read back: Exchange has acknowledged writes it did not keep.
        let read = graph
            .exchange(
                &tenant.customer_id,
                "Get-Mailbox",
                json!({"Identity": identity}),
                None,
            )
            .await
            .map_err(|e| {
                failed(
                    format!(
                        "the mailbox could not be read back to confirm the change: {}",
                        normalize_graph_error(&e)
                    ),
                    Some(e),
                )
            })?;
        let shown = read.first().and_then(shown_limit);
        if !confirmed(limit, shown.as_deref()) {
            return Err(failed(
                format!(
                    "Exchange accepted the change, but the mailbox still shows a recipient limit of {}",
                    shown.as_deref().unwrap_or("(none)")
                ),
                None,
            ));
        }
        let message = format!("Recipient limit for {upn} has been set to {limit}");
        tracing::info!(tenant = %tenant.default_domain_name, mailbox = %identity, "{message}");
        Ok(Outcome::json(TextResults::new(message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_confirmed_only_when_exchange_shows_that_number() {
        assert!(confirmed(300, Some("300")));
        assert!(!confirmed(300, Some("500")));
        assert!(!confirmed(300, Some("Unlimited")));
        assert!(!confirmed(300, None));
        assert_eq!(shown_limit(&json!({"RecipientLimits": 300})).as_deref(), Some("300"));
        assert_eq!(shown_limit(&json!({"recipientlimits": "Unlimited"})).as_deref(), Some("Unlimited"));
    }
}
