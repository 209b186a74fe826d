//! `AddGuest` (CIPP-API `Invoke-AddGuest.ps1`): one B2B invitation through Graph.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// Where an invited guest lands when the caller names no page (CIPP's default).
pub const DEFAULT_REDIRECT: &str = "https://myapps.microsoft.com";

pub struct NewGuest {
    pub display_name: Option<String>,
    pub mail: String,
    pub message: Option<String>,
    pub redirect_uri: Option<String>,
    pub send_invite: bool,
}

/// Invites the guest; CIPP's text either way (`Invited Guest … with Email Invite` / `with no
/// Email Invite`, or `Failed to Invite Guest. <normalised>`).
pub async fn add_guest(
    graph: &GraphClient,
    tenant: &str,
    guest: &NewGuest,
) -> Result<String, UserError> {
    let mut body = json!({
        "invitedUserDisplayName": guest.display_name,
        "invitedUserEmailAddress": guest.mail,
        "inviteRedirectUrl": guest.redirect_uri.as_deref().unwrap_or(DEFAULT_REDIRECT),
        "sendInvitationMessage": guest.send_invite,
    });
    if let Some(message) = &guest.message {
        body["invitedUserMessageInfo"] = json!({"customizedMessageBody": message});
    }
    match graph
        .post(tenant, GraphVersion::Beta, "invitations", &body)
        .await
    {
        Ok(_) => {
            let how = if guest.send_invite {
                "with Email Invite"
            } else {
                "with no Email Invite"
            };
            // PowerShell interpolates a missing name as nothing.
            let name = guest.display_name.as_deref().unwrap_or_default();
            let text = format!("Invited Guest {name} {how}");
            tracing::info!(tenant, "{text}");
            Ok(text)
        }
        Err(error) => {
            let message = format!("Failed to Invite Guest. {}", normalize_graph_error(&error));
            tracing::warn!(tenant, "{message}");
            Err(UserError::Failed {
                message,
                source: Some(Box::new(error)),
            })
        }
    }
}

/// Whether a value looks like an e-mail address Graph could invite (checked before the call
/// so a typo is a 400 naming `mail`).
pub fn plausible_address(mail: &str) -> bool {
    let Some((local, domain)) = mail.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !mail.chars().any(|c| c.is_whitespace() || c.is_control())
}
