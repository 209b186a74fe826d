//! `ExecHideFromGAL` (CIPP-API `Invoke-ExecHideFromGAL.ps1` → `Set-CIPPHideFromGAL.ps1`): hides a
//! mailbox from the address lists, or shows it again.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_flags::set_hidden_from_gal;
use crate::mailbox_readback::{Expect, ReadBack};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecHideFromGAL;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// `true` hides it, `false` (or absent) shows it again.
    #[serde(rename = "HideFromGAL", default)]
    pub hide_from_gal: bool,
}

impl Operation for ExecHideFromGAL {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecHideFromGAL";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecHideFromGAL.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "An `ID` that is neither an object id nor a user principal name, or a `HideFromGAL` that is not a boolean, is a 400 naming it. A failure is Exchange's status (404 for an unknown mailbox) rather than always 500. The mailbox is read back after the change: a change Exchange does not show (yet) is a 500 saying what it shows instead of CIPP's success text.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::USER, "HideFromGAL": true})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = set_hidden_from_gal(
            &ctx.graph,
            &tenant.customer_id,
            params.id.as_str(),
            params.hide_from_gal,
        )
        .await?;
        let id = params.id.as_str();
        let what = if params.hide_from_gal { "hiding" } else { "unhiding" };
        ReadBack::mailbox(id, Some(id))
            .expect(
                "HiddenFromAddressListsEnabled",
                Expect::Bool(params.hide_from_gal),
            )
            .confirm(&ctx.graph, &tenant.customer_id, &format!("{what} {id} from the GAL"))
            .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}
