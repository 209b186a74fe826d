//! `ExecEnableAutoExpandingArchive` (CIPP-API `Invoke-ExecEnableAutoExpandingArchive.ps1` →
//! `Set-CIPPMailboxArchive.ps1 -AutoExpandingArchive`): one Exchange `Enable-Mailbox
//! -AutoExpandingArchive` through the tenant's system mailbox, then the mailbox read back.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_readback::{Expect, ReadBack};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecEnableAutoExpandingArchive;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id. Its archive must be enabled already.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// The name the answer uses for the mailbox (default: `ID`).
    #[serde(rename = "username")]
    pub username: Option<String>,
}

impl Operation for ExecEnableAutoExpandingArchive {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecEnableAutoExpandingArchive";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecEnableAutoExpandingArchive.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP: Exchange's error as a 500). A failure is Exchange's status (400 for a mailbox without an archive, 404 for an unknown one) rather than always 500. The mailbox is read back after the change: `AutoExpandingArchiveEnabled` not showing (yet) is a 500 saying so instead of CIPP's success text.",
    );

    fn example() -> Value {
        // The first demo user has an archive.
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::USER, "username": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let id = params.id.as_str();
        let name = params
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(id)
            .to_owned();
        let graph = &ctx.graph;
        // CIPP routes it through the system mailbox (no anchor), as for the archive itself.
        graph
            .exchange(
                &tenant.customer_id,
                "Enable-Mailbox",
                json!({"Identity": id, "AutoExpandingArchive": true}),
                None,
            )
            .await
            .map_err(|e| UserError::Failed {
                message: format!(
                    "Failed to set auto-expanding archive for {name}. Error: {}",
                    crate::normalize::normalize_graph_error(&e)
                ),
                source: Some(Box::new(e)),
            })?;
        ReadBack::mailbox(id, None)
            .expect("AutoExpandingArchiveEnabled", Expect::Bool(true))
            .confirm(
                graph,
                &tenant.customer_id,
                &format!("the auto-expanding archive of {name}"),
            )
            .await?;
        let message = format!("Successfully enabled auto-expanding archive for {name}");
        tracing::info!(tenant = %tenant.customer_id, user = id, "{message}");
        Ok(Outcome::json(TextResults::new(message)))
    }
}

