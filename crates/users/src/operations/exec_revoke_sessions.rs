//! `ExecRevokeSessions` (CIPP-API `Invoke-ExecRevokeSessions.ps1` → `Revoke-CIPPSessions.ps1`):
//! invalidates every refresh token of a user, so each session must sign in again.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecRevokeSessions;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose sessions end.
    #[serde(rename = "id")]
    pub id: UserId,
    /// The user's principal name, only to name the user in the answer.
    #[serde(rename = "Username")]
    pub username: Option<String>,
}

impl Operation for ExecRevokeSessions {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecRevokeSessions";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecRevokeSessions.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `id`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP sends Graph an empty id). An answer without Graph's confirmation (`value: true`) is CIPP's failure text, not a success.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "id": crate::demo::USER_ID,
            "Username": crate::demo::USER,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = revoke_sessions(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            params.username.as_deref(),
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// `POST beta/users/{id}/invalidateAllRefreshTokens`; `username` only names the user in the
/// message. Graph answers `{"value": true}`; anything else confirms nothing.
pub async fn revoke_sessions(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    username: Option<&str>,
) -> Result<String, UserError> {
    let username = username.unwrap_or_default();
    let failed = |detail: String, source| UserError::Failed {
        message: format!("Failed to revoke sessions for {username}. Error: {detail}"),
        source,
    };
    let answer = graph
        .post(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}/invalidateAllRefreshTokens", user.segment()),
            &json!({}),
        )
        .await
        .map_err(|error| failed(normalize_graph_error(&error), Some(Box::new(error))))?;
    if !confirmed(answer.as_ref()) {
        return Err(failed(
            "Graph did not confirm that the sessions were revoked".to_owned(),
            None,
        ));
    }
    let message = format!("Successfully revoked sessions for {username}");
    tracing::info!(tenant, user = user.as_str(), "{message}");
    Ok(message)
}

/// Whether Graph's Boolean answer says the tokens were invalidated.
fn confirmed(answer: Option<&Value>) -> bool {
    answer.and_then(|a| a.get("value")).and_then(Value::as_bool) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_graphs_value_true_confirms_a_revocation() {
        assert!(confirmed(Some(&json!({"value": true}))));
        assert!(!confirmed(None));
        assert!(!confirmed(Some(&json!({"value": false}))));
        assert!(!confirmed(Some(&json!({"error": {"code": "x"}}))));
    }
}
