//! `ExecRequirePasswordChange` (CIPP-API `Invoke-ExecRequirePasswordChange.ps1` →
//! `Set-CIPPRequirePasswordChange.ps1`): the user must change the password at the next sign-in,
//! without a reset. Refused for users synced from on-premises AD, whose password change
//! requirement belongs to AD.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecRequirePasswordChange;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user: object id or user principal name.
    #[serde(rename = "ID")]
    pub id: UserId,
}

impl Operation for ExecRequirePasswordChange {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecRequirePasswordChange";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecRequirePasswordChange.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is neither an object id nor a user principal name, is a 400 naming it. A directory-synced user is a 409 with CIPP's text (CIPP: 500): nothing failed, the user's state forbids the change.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = require_password_change(&ctx.graph, &tenant.customer_id, &params.id).await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// Reads the user (sync state and names), refuses a synced one, then sets
/// `passwordProfile.forceChangePasswordNextSignIn`.
pub async fn require_password_change(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
) -> Result<String, UserError> {
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to set password change at next logon for {}. Error: {}",
            user.as_str(),
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    let segment = user.segment();
    let details = graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{segment}?$select=onPremisesSyncEnabled,displayName,userPrincipalName"),
            &[],
        )
        .await
        .map_err(failed)?;
    let label = ["userPrincipalName", "displayName"]
        .iter()
        .find_map(|field| details.get(*field).and_then(Value::as_str))
        .unwrap_or(user.as_str())
        .to_owned();
    if details.get("onPremisesSyncEnabled").and_then(Value::as_bool) == Some(true) {
        return Err(UserError::Conflict {
            message: format!(
                "Cannot set must-change-password for {label}. This user is directory synced; manage password change requirements in on-premises Active Directory."
            ),
        });
    }
    graph
        .patch(
            tenant,
            GraphVersion::V1,
            &format!("users/{segment}"),
            &json!({"passwordProfile": {"forceChangePasswordNextSignIn": true}}),
        )
        .await
        .map_err(failed)?;
    let message = format!("Successfully set password change at next logon to required for {label}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}
