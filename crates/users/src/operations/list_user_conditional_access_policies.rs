//! `ListUserConditionalAccessPolicies` (CIPP-API `Invoke-ListUserConditionalAccessPolicies.ps1`):
//! Conditional Access what-if evaluation for one user against CIPP's fixed application.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::{GraphRows, ensure_user_exists, failed, graph_rows};

pub struct ListUserConditionalAccessPolicies;

/// The application CIPP evaluates against (Microsoft's "Office 365" app id as CIPP sends it).
const WHAT_IF_APPLICATION: &str = "67ad5377-2d78-4ac2-a867-6300cda00e85";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user the tenant's Conditional Access policies are evaluated for.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
}

impl Operation for ListUserConditionalAccessPolicies {
    type Params = Params;
    /// Graph's what-if results, one per policy (`displayName`, `state`, `policyApplies`,
    /// `analysisReasons`, …).
    type Answer = GraphRows;
    const NAME: &'static str = "ListUserConditionalAccessPolicies";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserConditionalAccessPolicies.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "CIPP answers any failure with `200 [{}]`; here a missing `UserID` is a 400, an unknown \
         user a 404 with Graph's text, and a failed evaluation a 500 \
         `Failed to retrieve Conditional Access policies for user …`.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserID": crate::demo::USER_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<GraphRows>, UserError> {
        let tenant = ctx.tenant()?;
        let rows =
            list_user_ca_policies(&ctx.graph, &tenant.customer_id, &params.user_id).await?;
        Ok(Outcome::json(graph_rows(rows)))
    }
}

/// The what-if results (`value`) for the user, evaluated app-only as CIPP does.
pub async fn list_user_ca_policies(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
) -> Result<Vec<Value>, UserError> {
    let user_id = user.as_str();
    let body = json!({
        "conditionalAccessWhatIfSubject": {
            "@odata.type": "#microsoft.graph.userSubject",
            "userId": user_id,
        },
        "conditionalAccessContext": {
            "@odata.type": "#microsoft.graph.whatIfApplicationContext",
            "includeApplications": [WHAT_IF_APPLICATION],
        },
        "conditionalAccessWhatIfConditions": {},
    });
    let prefix = format!("Failed to retrieve Conditional Access policies for user {user_id}: ");
    match graph
        .app_only()
        .post(
            tenant,
            GraphVersion::Beta,
            "identity/conditionalAccess/evaluate",
            &body,
        )
        .await
    {
        Ok(answer) => Ok(answer
            .as_ref()
            .and_then(|a| a.get("value"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()),
        Err(e) => {
            // The evaluation refuses an unknown user with a 400; say 404 when that is why.
            if matches!(e.status(), Some(400 | 404)) {
                ensure_user_exists(graph, tenant, user_id, &prefix).await?;
            }
            Err(failed(&prefix, e))
        }
    }
}
