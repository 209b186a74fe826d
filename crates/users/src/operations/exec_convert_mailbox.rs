//! `ExecConvertMailbox` (CIPP-API `Invoke-ExecConvertMailbox.ps1` → `Set-CIPPMailboxType.ps1`):
//! changes a mailbox's type (Shared, Regular, Room, Equipment).

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::convert_mailbox::{MailboxType, convert_mailbox};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecConvertMailbox;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// The type to convert the mailbox to.
    #[serde(rename = "MailboxType")]
    pub mailbox_type: MailboxType,
}

impl Operation for ExecConvertMailbox {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecConvertMailbox";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecConvertMailbox.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID` (or one that is neither an object id nor a user principal name), or a missing or unknown `MailboxType`, is a 400 naming the field (CIPP: a 500 with PowerShell's `ValidateSet` text). CIPP reads the body only; the query is read too here. There is no reporting cache, so the size warning CIPP adds for large mailboxes converted to Shared is never given.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::USER, "MailboxType": "Shared"})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = convert_mailbox(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            &params.mailbox_type,
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}
