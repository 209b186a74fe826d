//! `AddGuest` (CIPP-API `Invoke-AddGuest.ps1`): one B2B invitation through Graph. `Results` is a
//! one-item array; a failure is CIPP's text in the same shape with 400, as CIPP answers it.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::TextListResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{ErrorKind, UserError};

pub struct AddGuest;

/// Where an invited guest lands when the caller names no page (CIPP's default).
pub const DEFAULT_REDIRECT: &str = "https://myapps.microsoft.com";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The guest's display name (PowerShell interpolates a missing one as nothing).
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    /// The address the invitation is for.
    #[serde(rename = "mail")]
    pub mail: String,
    /// A message added to the invitation e-mail.
    #[serde(rename = "message")]
    pub message: Option<String>,
    /// Where the guest lands after accepting; `https://myapps.microsoft.com` when absent.
    #[serde(rename = "redirectUri")]
    pub redirect_uri: Option<String>,
    /// Whether Microsoft sends the invitation e-mail (default `false`).
    #[serde(rename = "sendInvite", default)]
    pub send_invite: bool,
}

impl Operation for AddGuest {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "AddGuest";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-AddGuest.ps1",
        frontend: Some("src/components/CippComponents/CippInviteGuestDrawer.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or malformed `mail` and a non-boolean `sendInvite` are a 400 naming the field (CIPP: Graph's failure text, or a plain-text 500).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "displayName": "Grace Guest",
            "mail": "grace.guest@partner.example",
            "message": "Welcome to Contoso",
            "sendInvite": true,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        if !plausible_address(&params.mail) {
            return Err(UserError::invalid(
                "mail",
                format!("mail: '{}' is not an e-mail address", params.mail),
            ));
        }
        let tenant = ctx.tenant()?;
        let text = add_guest(&ctx.graph, &tenant.customer_id, &params).await?;
        Ok(Outcome::json(TextListResults::one(text)))
    }
}

/// Invites the guest; CIPP's text either way (`Invited Guest … with Email Invite` / `with no
/// Email Invite`, or `Failed to Invite Guest. <normalised>` as `["…"]` with 400).
pub async fn add_guest(
    graph: &GraphClient,
    tenant: &str,
    guest: &Params,
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
            tracing::warn!(tenant, detail = ?error, "{message}");
            // CIPP answers every failed invitation with 400.
            Err(UserError::Answered {
                kind: ErrorKind::UpstreamRejected,
                results: json!([message]),
                message,
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
