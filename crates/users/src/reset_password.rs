//! `ExecResetPass` (CIPP-API `Invoke-ExecResetPass.ps1` → `Set-CIPPResetPassword.ps1`).

use cipp_graph::{GraphClient, GraphVersion};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::password::{PasswordSettings, generate_password};
use crate::{UserError, is_synced, path_segment};

/// The password-writeback method Graph resets synced users' passwords through.
const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// What CIPP answers: a result text that contains the password, and the password to copy.
/// Both are secrets: the caller sends them to the requester and nowhere else.
pub struct ResetOutcome {
    pub result_text: SecretString,
    pub copy_field: SecretString,
    /// The same outcome without the password, for logs and audit rows.
    pub log_text: String,
}

/// Generates a password and sets it: by PATCH for cloud users, through password writeback for
/// users synced from on-premises AD (who must then change it at next logon regardless).
pub async fn reset_password(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    display_name: Option<&str>,
    must_change: bool,
    settings: &PasswordSettings,
) -> Result<ResetOutcome, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let display_name = display_name
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(user_id);
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to reset password for {display_name}, {user_id}. Error: {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    let password = generate_password(settings);
    let segment = path_segment(user_id);
    let synced = is_synced(graph, tenant, &segment).await.map_err(failed)?;
    let pw = password.expose_secret();
    let must = if must_change { "True" } else { "False" };
    if synced {
        graph
            .post(
                tenant,
                GraphVersion::Beta,
                &format!(
                    "users/{segment}/authentication/methods/{PASSWORD_METHOD_ID}/resetPassword"
                ),
                &json!({ "newPassword": pw }),
            )
            .await
            .map_err(failed)?;
        let log_text = format!(
            "Submitted a password writeback reset for {display_name}, {user_id}. This user is directory synced, so the reset was sent via password writeback and the user must change password at next logon regardless of the requested setting ({must})."
        );
        tracing::info!(tenant, "{log_text}");
        Ok(ResetOutcome {
            result_text: SecretString::from(format!(
                "Password reset accepted for {display_name}, {user_id}. The new password is {pw}. This user is directory synced, so the reset was submitted via password writeback and is applied asynchronously - it is not confirmed yet, and will fail if writeback is not enabled or if the on-premises password policy rejects the password. This user must change their password at next logon; that is enforced by this method and cannot be turned off."
            )),
            copy_field: password.clone(),
            log_text,
        })
    } else {
        graph
            .patch(
                tenant,
                GraphVersion::V1,
                &format!("users/{segment}"),
                &json!({ "passwordProfile": { "forceChangePasswordNextSignIn": must_change, "password": pw } }),
            )
            .await
            .map_err(failed)?;
        let log_text = format!(
            "Successfully reset the password for {display_name}, {user_id}. User must change password is set to {must}"
        );
        tracing::info!(tenant, "{log_text}");
        Ok(ResetOutcome {
            result_text: SecretString::from(format!("{log_text}. The new password is {pw}")),
            copy_field: password.clone(),
            log_text,
        })
    }
}
