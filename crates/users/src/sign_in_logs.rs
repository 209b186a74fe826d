//! `ListUserSigninLogs` (CIPP-API `Invoke-ListUserSigninLogs.ps1`): a user's most recent
//! sign-ins, newest first, one Graph page.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::Value;

use crate::UserError;
use crate::read_support::{ensure_user_exists, failed, odata_literal, required};

/// CIPP's page size when `top` is not given.
pub const DEFAULT_TOP: u32 = 50;

/// The raw Graph sign-in records of one user (object id), at most `top` (1 to 1000).
pub async fn list_user_sign_ins(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    top: u32,
) -> Result<Vec<Value>, UserError> {
    let user_id = required("UserID", user_id)?;
    if !(1..=1000).contains(&top) {
        return Err(UserError::invalid(
            "top",
            "top must be a whole number from 1 to 1000",
        ));
    }
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
