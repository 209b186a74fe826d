//! `ExecSetDefaultMFAMethod` (CIPP-API `Invoke-ExecSetDefaultMFAMethod.ps1`): the user's
//! preferred second factor, through beta `authentication/signInPreferences`.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// The values CIPP accepts (compared ignoring case; the value is sent as given).
pub const METHODS: &[&str] = &[
    "push",
    "oath",
    "voiceMobile",
    "voiceAlternateMobile",
    "voiceOffice",
    "sms",
];

/// CIPP's own 400 text for a value outside [`METHODS`].
pub fn invalid_method_text(method: &str) -> String {
    format!(
        "'{method}' is not a valid default MFA method. Valid values are: {}",
        METHODS.join(", ")
    )
}

/// `PATCH beta/users/{id}/authentication/signInPreferences`, app-only, as CIPP does.
pub async fn set_default_mfa_method(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    method: &str,
) -> Result<String, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    if !METHODS.iter().any(|m| m.eq_ignore_ascii_case(method)) {
        return Err(UserError::invalid(
            "MethodType",
            invalid_method_text(method),
        ));
    }
    graph
        .app_only()
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!(
                "users/{}/authentication/signInPreferences",
                path_segment(user_id)
            ),
            &json!({ "userPreferredMethodForSecondaryAuthentication": method }),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to set the default MFA method for user {user_id}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!("Successfully set the default MFA method to {method} for user {user_id}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}
