//! `ExecSetLitigationHold` (CIPP-API `Invoke-ExecSetLitigationHold.ps1`): turns a mailbox's
//! litigation hold on (or off with `disable`) with one Exchange `Set-Mailbox`.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_flags::{Hold, set_hold};
use crate::mailbox_readback::{Expect, ReadBack};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetLitigationHold;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its object id or user principal name.
    #[serde(rename = "Identity")]
    pub identity: UserId,
    /// The user principal name, only to name the mailbox in the answer.
    #[serde(rename = "UPN")]
    pub upn: Option<String>,
    /// `true` turns the hold off; absent or `false` turns it on.
    #[serde(rename = "disable", default)]
    pub disable: bool,
    /// With the hold turned on: how many days it holds (0 or absent: indefinitely).
    #[serde(rename = "days")]
    pub days: Option<u32>,
}

impl Operation for ExecSetLitigationHold {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetLitigationHold";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetLitigationHold.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `Identity`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP sends Exchange an empty identity); `disable` must be a boolean (CIPP's cast reads the text `\"false\"` as true). A failure is Exchange's status (404 for an unknown mailbox) rather than always 500. The mailbox is read back after the change: a change Exchange does not show (yet) is a 500 saying what it shows instead of CIPP's success text.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "Identity": crate::demo::USER_ID, "UPN": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = set_hold(
            &ctx.graph,
            &tenant.customer_id,
            params.identity.as_str(),
            params.upn.as_deref().unwrap_or_default(),
            Hold::Litigation,
            !params.disable,
            params.days,
        )
        .await?;
        let id = params.identity.as_str();
        ReadBack::mailbox(id, Some(id))
            .expect("LitigationHoldEnabled", Expect::Bool(!params.disable))
            .confirm(
                &ctx.graph,
                &tenant.customer_id,
                &format!("the litigation hold of {id}"),
            )
            .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}
