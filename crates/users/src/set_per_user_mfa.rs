//! `ExecPerUserMFA` (CIPP-API `Invoke-ExecPerUserMFA.ps1` → `Set-CIPPPerUserMFA.ps1`): sets the
//! legacy per-user MFA state through `authentication/requirements`.

use cipp_graph::{BatchRequest, GraphClient, GraphVersion, Method};
use serde_json::json;

use crate::normalize::{normalize_graph_error, normalize_message};
use crate::{UserError, path_segment};

/// The states Graph knows, as CIPP's ValidateSet lists them (compared ignoring case).
pub const STATES: &[&str] = &["enabled", "disabled", "enforced"];

/// Which id CIPP addresses the user by: the UPN, unless it is a guest's `#EXT#` UPN.
pub fn target_id<'a>(
    user_principal_name: Option<&'a str>,
    user_id: Option<&'a str>,
) -> Option<&'a str> {
    match user_principal_name {
        Some(upn) if !upn.contains("#EXT#") => Some(upn),
        _ => user_id.or(user_principal_name),
    }
}

/// Sends the PATCH in a `$batch` (app-only, beta, as CIPP does) and, unlike CIPP, reads the
/// item's answer: a refused PATCH is a failure, not a success. `state` is sent as given.
pub async fn set_per_user_mfa(
    graph: &GraphClient,
    tenant: &str,
    user: &str,
    state: &str,
) -> Result<String, UserError> {
    let user = user.trim();
    if user.is_empty() {
        return Err(UserError::missing("userId"));
    }
    if !STATES.iter().any(|s| s.eq_ignore_ascii_case(state)) {
        return Err(UserError::invalid(
            "State",
            format!("State must be one of enabled, disabled, enforced, got '{state}'"),
        ));
    }
    let failed = |detail: String, source| UserError::Failed {
        message: format!("Failed to set MFA State to {state} for {user}. Error: {detail}"),
        source,
    };
    let request = BatchRequest::new(
        Method::PATCH,
        format!("users/{}/authentication/requirements", path_segment(user)),
    )
    .with_body(json!({ "perUserMfaState": state }));
    let answers = graph
        .app_only()
        .batch(tenant, GraphVersion::Beta, vec![request])
        .await
        .map_err(|e| failed(normalize_graph_error(&e), Some(Box::new(e))))?;
    if let Some(item) = answers.iter().find(|a| !a.is_success()) {
        let detail = item
            .body
            .as_ref()
            .map(|b| normalize_message(&b.to_string()))
            .unwrap_or_else(|| format!("status {}", item.status));
        return Err(failed(detail, None));
    }
    tracing::info!(
        tenant,
        "Successfully set Per user MFA State to {state} for {user}"
    );
    Ok(format!("Successfully set Per user MFA State for {user}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_is_addressed_by_id_and_a_member_by_upn() {
        assert_eq!(
            target_id(Some("ada@contoso.example"), Some("1")),
            Some("ada@contoso.example")
        );
        assert_eq!(
            target_id(Some("ada_x.example#EXT#@contoso.example"), Some("1")),
            Some("1")
        );
        assert_eq!(target_id(None, Some("1")), Some("1"));
    }
}
