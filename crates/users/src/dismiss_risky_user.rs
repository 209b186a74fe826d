//! `ExecDismissRiskyUser` (CIPP-API `Invoke-ExecDismissRiskyUser.ps1`): dismisses the risk
//! Identity Protection holds against a user.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::{Value, json};

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// `POST beta/riskyUsers/dismiss` with the one id, delegated as CIPP does. CIPP appends Graph's
/// answer (empty for the usual 204) to its success text.
pub async fn dismiss_risky_user(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    display_name: &str,
) -> Result<String, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("userId"));
    }
    let answer = graph
        .post(
            tenant,
            GraphVersion::Beta,
            "riskyUsers/dismiss",
            &json!({ "userIds": [user_id] }),
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
