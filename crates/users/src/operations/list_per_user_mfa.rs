//! `ListPerUserMFA` (CIPP-API `Invoke-ListPerUserMFA.ps1` → `Get-CIPPPerUserMFA.ps1`): the
//! legacy per-user MFA state (`disabled`, `enabled`, `enforced`) from Graph's `perUserMfaState`,
//! for one user (`userId`) or, with `allUsers=true`, for every user.

use cipp_graph::{GraphClient, GraphVersion};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::{GraphRows, failed_or_not_found, graph_rows};

pub struct ListPerUserMFA;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose state is read; required unless `allUsers` is true.
    #[serde(rename = "userId")]
    pub user_id: Option<UserId>,
    /// Every user's state instead of one user's. As in CIPP, a value that is not a boolean
    /// means false.
    #[serde(rename = "allUsers", default, deserialize_with = "true_or_false")]
    #[schema(value_type = bool)]
    pub all_users: bool,
}

/// CIPP catches `Convert.ToBoolean`'s failure and reads it as false: only a true boolean (the
/// parameter layer has already read `"true"` in any case as one) is true.
fn true_or_false<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(matches!(Value::deserialize(deserializer)?, Value::Bool(true)))
}

/// One user's state as CIPP answers it for `userId`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListPerUserMfaState {
    /// `disabled`, `enabled` or `enforced`.
    #[serde(rename = "PerUserMFAState")]
    pub per_user_mfa_state: Option<String>,
    /// The id as the caller gave it (object id or UPN).
    #[serde(rename = "UserPrincipalName")]
    pub user_principal_name: String,
}

/// Every user's `{userPrincipalName, id, perUserMfaState}` as Graph returns them (`allUsers`),
/// or one user's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListPerUserMfaAnswer {
    AllUsers(GraphRows),
    OneUser(Vec<ListPerUserMfaState>),
}

impl Operation for ListPerUserMFA {
    type Params = Params;
    type Answer = ListPerUserMfaAnswer;
    const NAME: &'static str = "ListPerUserMFA";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListPerUserMFA.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Failures keep CIPP's 500 and `Failed to get MFA State for …` text (once, where CIPP \
         repeats the prefix). Unlike CIPP, a missing `userId` without `allUsers` is a 400 and an \
         unknown user a 404 with Graph's text. As in CIPP, an `allUsers` that is not a boolean \
         means false.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userId": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ListPerUserMfaAnswer>, UserError> {
        let user = match (params.all_users, params.user_id) {
            (true, _) => None,
            (false, Some(user)) => Some(user),
            (false, None) => return Err(UserError::missing("userId")),
        };
        let tenant = ctx.tenant()?;
        let answer = match user {
            None => ListPerUserMfaAnswer::AllUsers(graph_rows(
                all_users_mfa_state(&ctx.graph, &tenant.customer_id).await?,
            )),
            Some(user) => ListPerUserMfaAnswer::OneUser(vec![
                user_mfa_state(&ctx.graph, &tenant.customer_id, &user).await?,
            ]),
        };
        Ok(Outcome::json(answer))
    }
}

/// Every user's `{userPrincipalName, id, perUserMfaState}` as Graph returns them.
pub async fn all_users_mfa_state(
    graph: &GraphClient,
    tenant: &str,
) -> Result<Vec<Value>, UserError> {
    graph
        .get_all(
            tenant,
            GraphVersion::V1,
            "users?$top=999&$select=UserPrincipalName,Id,perUserMfaState",
            &[],
        )
        .await
        .map_err(|e| failed_or_not_found("Failed to get MFA State for all users : ", e))
}

/// One user's state; `UserPrincipalName` is the id as given.
pub async fn user_mfa_state(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
) -> Result<ListPerUserMfaState, UserError> {
    let found = graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!(
                "users/{}?$select=UserPrincipalName,Id,perUserMfaState",
                user.segment()
            ),
            &[],
        )
        .await
        .map_err(|e| failed_or_not_found(&format!("Failed to get MFA State for {user} : "), e))?;
    Ok(ListPerUserMfaState {
        per_user_mfa_state: found
            .get("perUserMfaState")
            .and_then(Value::as_str)
            .map(str::to_owned),
        user_principal_name: user.as_str().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::params::{ParamsSchema, RawParams, deserialize};

    fn read(query: &str) -> Params {
        let raw = RawParams::new(query, b"").unwrap();
        deserialize(ParamsSchema::of::<Params>().prepare(&raw)).unwrap()
    }

    #[test]
    fn all_users_is_true_only_for_a_true_boolean_as_in_cipp() {
        assert!(read("allUsers=TRUE").all_users);
        assert!(!read("allUsers=false").all_users);
        assert!(!read("allUsers=perhaps").all_users);
        assert!(!read("").all_users);
    }
}
