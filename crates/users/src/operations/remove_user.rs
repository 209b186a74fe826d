//! `RemoveUser` (CIPP-API `Invoke-RemoveUser.ps1` → `Remove-CIPPUser.ps1`): a soft delete; the
//! user goes to deleted items and can be restored for 30 days.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct RemoveUser;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user to delete.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// The user's principal name, only to name the user in the answer.
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
}

impl Operation for RemoveUser {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "RemoveUser";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-RemoveUser.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID` is a 400 naming it (CIPP exits without any answer); an `ID` that is neither an object id nor a user principal name is a 400 naming it.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "ID": crate::demo::OTHER_USER_ID,
            "userPrincipalName": crate::demo::OTHER_USER,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = remove_user(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            params.user_principal_name.as_deref(),
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// `DELETE beta/users/{id}`; `user_principal_name` only names the user in the texts.
pub async fn remove_user(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    user_principal_name: Option<&str>,
) -> Result<String, UserError> {
    let user_id = user.as_str();
    let username = user_principal_name
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| format!(" and Username: '{u}'"))
        .unwrap_or_default();
    graph
        .delete(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}", user.segment()),
        )
        .await
        .map_err(|error| UserError::Failed {
            message: format!(
                "Failed to delete user with ID: '{user_id}'. Error: {}{username}",
                normalize_graph_error(&error)
            ),
            source: Some(Box::new(error)),
        })?;
    let message = format!("Successfully deleted user with ID: '{user_id}'{username}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}
