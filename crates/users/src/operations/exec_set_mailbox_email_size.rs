//! `ExecSetMailboxEmailSize` (CIPP-API `Invoke-ExecSetMailboxEmailSize.ps1` →
//! `Set-CippMaxEmailSize.ps1`): the largest message a mailbox may send and receive, in MB, as
//! one Exchange `Set-Mailbox` (in bytes), then the mailbox read back.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_readback::{Expect, ReadBack};
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetMailboxEmailSize;

const MB: u64 = 1 << 20;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox's user principal name (the answer names it; the identity when `id` is absent).
    #[serde(rename = "UPN")]
    pub upn: Option<String>,
    /// The mailbox's object id (or user principal name); preferred over `UPN` as the identity.
    #[serde(rename = "id")]
    pub id: Option<UserId>,
    /// The largest message it may send, 1 to 150 MB.
    #[serde(rename = "maxSendSize")]
    pub max_send_size: Option<u32>,
    /// The largest message it may receive, 1 to 150 MB.
    #[serde(rename = "maxReceiveSize")]
    pub max_receive_size: Option<u32>,
}

fn in_range(field: &'static str, v: Option<u32>) -> Result<Option<u32>, UserError> {
    match v {
        Some(n) if !(1..=150).contains(&n) => Err(UserError::invalid(
            field,
            format!("{field} must be between 1 and 150 (MB); {n} is not"),
        )),
        other => Ok(other),
    }
}

impl Operation for ExecSetMailboxEmailSize {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetMailboxEmailSize";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetMailboxEmailSize.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "No identity, no size, or a size outside 1–150 is a 400 naming the field (CIPP: 500, the last with PowerShell's binding text). A failure carries Exchange's normalised reason and status (CIPP prints its exception object). The mailbox is read back after the change: a size Exchange does not show (yet) is a 500 saying what it shows instead of CIPP's success text.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UPN": crate::demo::USER, "id": crate::demo::USER_ID,
               "maxSendSize": 50, "maxReceiveSize": 60})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let upn = params
            .upn
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let identity = params
            .id
            .as_ref()
            .map(UserId::as_str)
            .or(upn)
            .ok_or_else(|| {
                UserError::invalid(
                    "id",
                    "id: No identity provided. Cannot set mailbox email max size.",
                )
            })?;
        let shown = upn.unwrap_or(identity);
        let send = in_range("maxSendSize", params.max_send_size)?;
        let receive = in_range("maxReceiveSize", params.max_receive_size)?;
        if send.is_none() && receive.is_none() {
            return Err(UserError::invalid(
                "maxSendSize",
                "maxSendSize: No max send or receive size provided. Cannot set mailbox email max size.",
            ));
        }
        let mut parameters = json!({"Identity": identity});
        let mut readback = ReadBack::mailbox(identity, None);
        let mut message = format!("Set mailbox email max size for {shown} to ");
        if let Some(n) = send {
            parameters["MaxSendSize"] = json!(u64::from(n) * MB);
            readback = readback.expect("MaxSendSize", Expect::Size(Some(u64::from(n) * MB)));
            message.push_str(&format!("Send: {n}MB "));
        }
        if let Some(n) = receive {
            parameters["MaxReceiveSize"] = json!(u64::from(n) * MB);
            readback = readback.expect("MaxReceiveSize", Expect::Size(Some(u64::from(n) * MB)));
            message.push_str(&format!("Receive: {n}MB"));
        }
        // CIPP sends it without an anchor (the system mailbox).
        ctx.graph
            .exchange(&tenant.customer_id, "Set-Mailbox", parameters, None)
            .await
            .map_err(|e| UserError::Failed {
                message: format!(
                    "Failed to set mailbox email max size for {shown}. Error: {}",
                    normalize_graph_error(&e)
                ),
                source: Some(Box::new(e)),
            })?;
        readback
            .confirm(
                &ctx.graph,
                &tenant.customer_id,
                &format!("the email max size for {shown}"),
            )
            .await?;
        tracing::info!(tenant = %tenant.customer_id, user = identity, "{message}");
        Ok(Outcome::json(TextResults::new(message)))
    }
}
