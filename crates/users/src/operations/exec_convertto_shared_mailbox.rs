//! `ExecConverttoSharedMailbox`: the legacy name of `ExecConvertMailbox` that the CIPP Users
//! documentation still lists (upstream renamed it): to a shared mailbox, or back to a user
//! mailbox with `ConvertToUser=true`, as CIPP's last version of it did.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::convert_mailbox::{MailboxType, convert_mailbox};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecConverttoSharedMailbox;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// `true` converts to a user (Regular) mailbox instead of a shared one.
    #[serde(rename = "ConvertToUser", default)]
    pub convert_to_user: bool,
}

impl Operation for ExecConverttoSharedMailbox {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecConverttoSharedMailbox";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Get;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecConverttoSharedMailbox.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Upstream renamed this operation `ExecConvertMailbox`; it is served as an alias converting to a shared mailbox (a user mailbox with `ConvertToUser=true`), with `ExecConvertMailbox`'s role and texts. A missing `ID`, or one that is neither an object id nor a user principal name, is a 400 naming it.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = convert_mailbox(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            &if params.convert_to_user {
                MailboxType::regular()
            } else {
                MailboxType::shared()
            },
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}
