//! `ListPerUserMFA` (CIPP-API `Invoke-ListPerUserMFA.ps1` → `Get-CIPPPerUserMFA.ps1`): the
//! legacy per-user MFA state (`disabled`, `enabled`, `enforced`) from Graph's `perUserMfaState`.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::{Value, json};

use crate::read_support::{failed_or_not_found, required};
use crate::{UserError, path_segment};

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

/// One user's `[{PerUserMFAState, UserPrincipalName}]`; `UserPrincipalName` is the id as given.
pub async fn user_mfa_state(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
) -> Result<Vec<Value>, UserError> {
    let user_id = required("userId", user_id)?;
    let user = graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!(
                "users/{}?$select=UserPrincipalName,Id,perUserMfaState",
                path_segment(user_id)
            ),
            &[],
        )
        .await
        .map_err(|e| {
            failed_or_not_found(&format!("Failed to get MFA State for {user_id} : "), e)
        })?;
    Ok(vec![json!({
        "PerUserMFAState": user.get("perUserMfaState").cloned().unwrap_or(Value::Null),
        "UserPrincipalName": user_id,
    })])
}
