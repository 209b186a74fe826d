//! `ExecDisableUser` (CIPP-API `Invoke-ExecDisableUser.ps1` → `Set-CIPPSignInState.ps1`): blocks
//! or allows a user's sign-in.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{UserError, is_synced};

pub struct ExecDisableUser;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user to block or allow.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// `true` allows sign-in, `false` (the default) blocks it.
    #[serde(rename = "Enable", default)]
    pub enable: bool,
}

impl Operation for ExecDisableUser {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecDisableUser";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecDisableUser.ps1",
        frontend: Some("src/pages/identity/administration/users/index.js"),
    };

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::USER, "Enable": true})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message =
            set_sign_in_state(&ctx.graph, &tenant.customer_id, &params.id, params.enable).await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// Sets `accountEnabled` on one user. Returns CIPP's success text.
///
/// For a user synced from on-premises AD the change is still made in Entra (as CIPP does), but the
/// answer is CIPP's failure text, because the next sync will undo it.
pub async fn set_sign_in_state(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    enabled: bool,
) -> Result<String, UserError> {
    let change = change_sign_in_state(graph, tenant, user, enabled).await?;
    if change.synced {
        let user_id = user.as_str();
        return Err(UserError::Failed {
            message: format!(
                "Failed to set sign-in state for {user_id}. Error: WARNING: User {user_id} is AD Sync enabled. Please enable/disable in the local AD."
            ),
            source: None,
        });
    }
    Ok(change.message)
}

/// A sign-in change made in Entra, and whether the user is synced from on-premises AD (whose
/// next sync undoes it): callers word that case themselves.
pub struct SignInChange {
    pub message: String,
    pub synced: bool,
}

/// Sets `accountEnabled`, synced user or not (CIPP's `Set-CIPPSignInState` calls).
pub async fn change_sign_in_state(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    enabled: bool,
) -> Result<SignInChange, UserError> {
    let user_id = user.as_str();
    let state = if enabled { "True" } else { "False" };
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to set sign-in state for {user_id}. Error: {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    let segment = user.segment();
    let synced = is_synced(graph, tenant, &segment).await.map_err(failed)?;
    graph
        .patch(
            tenant,
            GraphVersion::V1,
            &format!("users/{segment}"),
            &json!({ "accountEnabled": enabled }),
        )
        .await
        .map_err(failed)?;
    let message = format!("Successfully set account enabled state to {state} for {user_id}");
    tracing::info!(tenant, user = user_id, "{message}");
    Ok(SignInChange { message, synced })
}
