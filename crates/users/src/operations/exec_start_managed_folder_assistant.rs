//! `ExecStartManagedFolderAssistant` (CIPP-API `Invoke-ExecStartManagedFolderAssistant.ps1`):
//! one Exchange `Start-ManagedFolderAssistant -FullCrawl` on a mailbox.
//!
//! Nothing is read back: Exchange only queues the run, and nothing a client can read changes
//! when it is queued (the assistant's own diagnostics appear hours later), so the answer is
//! CIPP's "started" text, which claims no more than that.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecStartManagedFolderAssistant;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox as Exchange knows it: its `ExchangeGuid` (as the page sends it), user
    /// principal name, object id or address.
    #[serde(rename = "Id")]
    pub id: Option<String>,
    /// The mailbox's user principal name: the answer names it, and it is the identity when `Id`
    /// is absent.
    #[serde(rename = "UserPrincipalName")]
    pub user_principal_name: Option<String>,
}

impl Operation for ExecStartManagedFolderAssistant {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecStartManagedFolderAssistant";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecStartManagedFolderAssistant.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Neither `Id` nor `UserPrincipalName` is a 400 naming `Id` (CIPP sends Exchange an empty identity). A failure is Exchange's status (404 for an unknown mailbox) rather than always 500.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "Id": crate::demo::USER, "UserPrincipalName": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let clean = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (id, upn) = (clean(&params.id), clean(&params.user_principal_name));
        let identity = id
            .clone()
            .or_else(|| upn.clone())
            .ok_or_else(|| UserError::invalid("Id", "Id or UserPrincipalName is required"))?;
        let shown = upn.or(id).unwrap_or_else(|| identity.clone());
        ctx.graph
            .exchange(
                &tenant.customer_id,
                "Start-ManagedFolderAssistant",
                json!({"Identity": identity, "FullCrawl": true}),
                None,
            )
            .await
            .map_err(|e| UserError::Failed {
                message: format!(
                    "Failed to start Managed Folder Assistant for mailbox {shown}. Error: {}",
                    normalize_graph_error(&e)
                ),
                source: Some(Box::new(e)),
            })?;
        let message = format!("Successfully started Managed Folder Assistant for mailbox {shown}.");
        tracing::info!(tenant = %tenant.customer_id, user = %shown, "{message}");
        Ok(Outcome::json(TextResults::new(message)))
    }
}
