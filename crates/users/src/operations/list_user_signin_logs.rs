//! `ListUserSigninLogs` (CIPP-API `Invoke-ListUserSigninLogs.ps1`): a user's most recent
//! sign-ins, newest first, one Graph page.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::{GraphRows, ensure_user_exists, failed, graph_rows, odata_literal};

pub struct ListUserSigninLogs;

/// CIPP's page size when `top` is not given.
pub const DEFAULT_TOP: u32 = 50;

fn default_top() -> u32 {
    DEFAULT_TOP
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose sign-ins are read (Graph's sign-in log is keyed by the object id).
    #[serde(rename = "UserID")]
    pub user_id: UserId,
    /// How many sign-ins, newest first: 1 to 1000 (default 50).
    #[serde(rename = "top", default = "default_top")]
    #[schema(minimum = 1, maximum = 1000, default = 50)]
    pub top: u32,
}

impl Operation for ListUserSigninLogs {
    type Params = Params;
    type Answer = GraphRows;
    const NAME: &'static str = "ListUserSigninLogs";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserSigninLogs.ps1",
        frontend: Some("src/pages/identity/administration/users/user/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Failures keep CIPP's 500 and text (`Failed to retrieve Sign In report for user …`) in \
         `Results`. Unlike CIPP, a missing `UserID` or a `top` that is not 1 to 1000 is a 400, and \
         an unknown user is a 404 with Graph's text (CIPP: `200 []`), checked only when no \
         sign-ins come back.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserID": crate::demo::USER_ID, "top": 5})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<GraphRows>, UserError> {
        let tenant = ctx.tenant()?;
        let rows =
            list_user_sign_ins(&ctx.graph, &tenant.customer_id, &params.user_id, params.top)
                .await?;
        Ok(Outcome::json(graph_rows(rows)))
    }
}

/// The raw Graph sign-in records of one user, at most `top` (1 to 1000).
pub async fn list_user_sign_ins(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    top: u32,
) -> Result<Vec<Value>, UserError> {
    if !(1..=1000).contains(&top) {
        return Err(UserError::invalid(
            "top",
            format!("top must be a whole number from 1 to 1000, got '{top}'"),
        ));
    }
    let user_id = user.as_str();
    let prefix = format!("Failed to retrieve Sign In report for user {user_id} : Error: ");
    let page = graph
        .get(
            tenant,
            GraphVersion::Beta,
            &format!(
                "auditLogs/signIns?$filter=(userId eq '{}')&$top={top}&$orderby=createdDateTime desc",
                odata_literal(user_id)
            ),
            &[],
        )
        .await
        .map_err(|e| failed(&prefix, e))?;
    let records = page
        .get("value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if records.is_empty() {
        // The log cannot tell "no sign-ins" from "no such user"; one look at the user can.
        ensure_user_exists(graph, tenant, user_id, &prefix).await?;
    }
    Ok(records)
}
