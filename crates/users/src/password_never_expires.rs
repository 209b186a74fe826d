//! `ExecPasswordNeverExpires` (CIPP-API `Invoke-ExecPasswordNeverExpires.ps1`): sets a user's
//! `passwordPolicies` (e.g. `DisablePasswordExpiration`, or `None`).

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// The values Graph accepts for `passwordPolicies` (one policy, both, or `None`).
const POLICIES: &[&str] = &["None", "DisablePasswordExpiration", "DisableStrongPassword"];

/// Whether `value` is a `passwordPolicies` value Graph accepts: `None`, or a comma list of
/// the two policies (any case).
pub fn is_valid_policy(value: &str) -> bool {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    if parts.len() == 1 && parts[0].eq_ignore_ascii_case("None") {
        return true;
    }
    !parts.is_empty()
        && parts.iter().all(|p| {
            POLICIES[1..]
                .iter()
                .any(|known| known.eq_ignore_ascii_case(p))
        })
}

/// `PATCH beta/users/{userId}` with `{"passwordPolicies": policy}`, delegated as CIPP does.
/// `label` is what the message shows (CIPP: the `{label, value}`'s label, else its value).
pub async fn set_password_policy(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    user_principal_name: &str,
    policy: &str,
    label: &str,
) -> Result<String, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("userId"));
    }
    if !is_valid_policy(policy) {
        return Err(UserError::invalid(
            "PasswordPolicy",
            format!(
                "PasswordPolicy must be None, DisablePasswordExpiration or DisableStrongPassword, got '{policy}'"
            ),
        ));
    }
    graph
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}", path_segment(user_id)),
            &json!({ "passwordPolicies": policy }),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to set PasswordPolicy for user {user_principal_name} to {label}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message =
        format!("Successfully set PasswordPolicy for user {user_principal_name} to {label}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_policy_values_are_accepted_and_others_are_not() {
        assert!(is_valid_policy("None"));
        assert!(is_valid_policy("DisablePasswordExpiration"));
        assert!(is_valid_policy(
            "DisablePasswordExpiration, DisableStrongPassword"
        ));
        assert!(!is_valid_policy("Forever"));
        assert!(!is_valid_policy("None, DisableStrongPassword"));
    }
}
