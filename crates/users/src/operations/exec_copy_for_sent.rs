//! `ExecCopyForSent` (CIPP-API `Invoke-ExecCopyForSent.ps1` → `Set-CIPPMessageCopy.ps1`): keeps
//! a copy of mail sent as, or on behalf of, a mailbox in its Sent Items, or stops keeping it.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_flags::set_message_copy;
use crate::mailbox_readback::{Expect, ReadBack};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecCopyForSent;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// `true` keeps the copies, `false` (or absent) stops.
    #[serde(rename = "messageCopyState", default)]
    pub message_copy_state: bool,
}

impl Operation for ExecCopyForSent {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecCopyForSent";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecCopyForSent.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "An `ID` that is neither an object id nor a user principal name, or a `messageCopyState` that is not a boolean, is a 400 naming it. A failure is Exchange's status (404 for an unknown mailbox) rather than always 500. The mailbox is read back after the change: a change Exchange does not show (yet) is a 500 saying what it shows instead of CIPP's success text.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::USER, "messageCopyState": true})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = set_message_copy(
            &ctx.graph,
            &tenant.customer_id,
            params.id.as_str(),
            params.message_copy_state,
        )
        .await?;
        let id = params.id.as_str();
        let on = params.message_copy_state;
        ReadBack::mailbox(id, Some(id))
            .expect("MessageCopyForSentAsEnabled", Expect::Bool(on))
            .expect("MessageCopyForSendOnBehalfEnabled", Expect::Bool(on))
            .confirm(
                &ctx.graph,
                &tenant.customer_id,
                &format!("the sent items copy of {id}"),
            )
            .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}
