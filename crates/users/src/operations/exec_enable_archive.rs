//! `ExecEnableArchive` (CIPP-API `Invoke-ExecEnableArchive.ps1` → `Set-CIPPMailboxArchive.ps1`):
//! one Exchange `Enable-Mailbox -Archive`, routed through the tenant's system mailbox as CIPP
//! does (no user anchor).

use cipp_graph::GraphClient;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecEnableArchive;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "id")]
    pub id: UserId,
    /// The name the answer uses for the mailbox (default: `id`).
    #[serde(rename = "username")]
    pub username: Option<String>,
}

impl Operation for ExecEnableArchive {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecEnableArchive";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecEnableArchive.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `id`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP: Exchange's error as a 500).",
    );

    fn example() -> Value {
        // The other demo user has no archive yet (the first one has).
        json!({"tenantFilter": crate::demo::TENANT, "id": crate::demo::OTHER_USER, "username": crate::demo::OTHER_USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = enable_archive(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            params.username.as_deref(),
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// Enables the online archive of `id`; `username` (blank: `id`) is the name the texts use.
pub async fn enable_archive(
    graph: &GraphClient,
    tenant_id: &str,
    id: &UserId,
    username: Option<&str>,
) -> Result<String, UserError> {
    let id = id.as_str();
    let name = username
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(id);
    graph
        .exchange(
            tenant_id,
            "Enable-Mailbox",
            json!({"Identity": id, "Archive": true}),
            None,
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to set archive for {name}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!("Successfully set archive for {name} to True");
    tracing::info!(tenant = tenant_id, user = id, "{message}");
    Ok(message)
}
