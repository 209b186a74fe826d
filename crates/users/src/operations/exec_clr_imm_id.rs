//! `ExecClrImmId` (CIPP-API `Invoke-ExecClrImmId.ps1` → `Clear-CIPPImmutableId.ps1`): clears
//! `onPremisesImmutableId`, restoring the user from deleted items first when it is there.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecClrImmId;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose immutable id is cleared (live or in deleted items).
    #[serde(rename = "ID")]
    pub id: UserId,
}

impl Operation for ExecClrImmId {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecClrImmId";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecClrImmId.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP sends Graph an empty id).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::USER_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = clear_immutable_id(&ctx.graph, &tenant.customer_id, &params.id).await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// Reads the user (beta); when that fails, looks in deleted items and restores it; then sets
/// `onPremisesImmutableId` to null. All delegated, as CIPP does.
pub async fn clear_immutable_id(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
) -> Result<String, UserError> {
    let user_id = user.as_str();
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to clear immutable ID for {user_id}. Error: {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    let segment = user.segment();
    if graph
        .get(tenant, GraphVersion::Beta, &format!("users/{segment}"), &[])
        .await
        .is_err()
    {
        // Not a live user: CIPP restores it from deleted items when it is there, and otherwise
        // lets the PATCH below fail with Graph's text.
        if graph
            .get(
                tenant,
                GraphVersion::Beta,
                &format!("directory/deletedItems/{segment}"),
                &[],
            )
            .await
            .is_ok()
        {
            graph
                .post(
                    tenant,
                    GraphVersion::Beta,
                    &format!("directory/deletedItems/{segment}/restore"),
                    &json!({}),
                )
                .await
                .map_err(failed)?;
            tracing::info!(
                tenant,
                "Restored deleted user {user_id} to clear immutable ID"
            );
        }
    }
    graph
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!("users/{segment}"),
            &json!({ "onPremisesImmutableId": null }),
        )
        .await
        .map_err(failed)?;
    let message = format!("Successfully cleared immutable ID for user {user_id}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}
