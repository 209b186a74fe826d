//! `ExecDismissRiskyUser` (CIPP-API `Invoke-ExecDismissRiskyUser.ps1`): dismisses the risk
//! Identity Protection holds against a user.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecDismissRiskyUser;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The risky user's object id.
    #[serde(rename = "userId")]
    pub user_id: UserId,
    /// The user's display name, only to name the user in the answer (default: the id).
    #[serde(rename = "userDisplayName")]
    pub user_display_name: Option<String>,
}

impl Operation for ExecDismissRiskyUser {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecDismissRiskyUser";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecDismissRiskyUser.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `userId`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP sends Graph an empty id); without `userDisplayName` the messages name the user id (CIPP leaves a blank).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userId": crate::demo::USER_ID,
            "userDisplayName": "Kenji Robbins",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let display_name = params
            .user_display_name
            .unwrap_or_else(|| params.user_id.as_str().to_owned());
        let tenant = ctx.tenant()?;
        let message = dismiss_risky_user(
            &ctx.graph,
            &tenant.customer_id,
            &params.user_id,
            &display_name,
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// `POST beta/riskyUsers/dismiss` with the one id, delegated as CIPP does. CIPP appends Graph's
/// answer (empty for the usual 204) to its success text.
pub async fn dismiss_risky_user(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    display_name: &str,
) -> Result<String, UserError> {
    let answer = graph
        .post(
            tenant,
            GraphVersion::Beta,
            "riskyUsers/dismiss",
            &json!({ "userIds": [user.as_str()] }),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to dismiss user risk for {display_name}. {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let shown = match answer {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    };
    let message = format!("Successfully dismissed User Risk for user {display_name}. {shown}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}
