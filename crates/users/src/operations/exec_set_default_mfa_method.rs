//! `ExecSetDefaultMFAMethod` (CIPP-API `Invoke-ExecSetDefaultMFAMethod.ps1`): the user's
//! preferred second factor, through beta `authentication/signInPreferences`. `Results` is an
//! array of strings, failures included.

use cipp_graph::{GraphClient, GraphVersion};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{ErrorKind, UserError};

pub struct ExecSetDefaultMFAMethod;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose default method is set.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// The method to prefer. Read as text and checked by the operation, so a value outside the
    /// set gets CIPP's own 400 text listing the valid ones.
    #[serde(rename = "MethodType")]
    #[schema(value_type = ExecSetDefaultMFAMethodType)]
    pub method_type: String,
}

/// The default second factors CIPP accepts (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ExecSetDefaultMFAMethodType {
    #[serde(rename = "push")]
    Push,
    #[serde(rename = "oath")]
    Oath,
    #[serde(rename = "voiceMobile")]
    VoiceMobile,
    #[serde(rename = "voiceAlternateMobile")]
    VoiceAlternateMobile,
    #[serde(rename = "voiceOffice")]
    VoiceOffice,
    #[serde(rename = "sms")]
    Sms,
}

impl ExecSetDefaultMFAMethodType {
    /// CIPP's list, in its order.
    pub const ALL: [Self; 6] = [
        Self::Push,
        Self::Oath,
        Self::VoiceMobile,
        Self::VoiceAlternateMobile,
        Self::VoiceOffice,
        Self::Sms,
    ];

    /// Graph's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Push => "push",
            Self::Oath => "oath",
            Self::VoiceMobile => "voiceMobile",
            Self::VoiceAlternateMobile => "voiceAlternateMobile",
            Self::VoiceOffice => "voiceOffice",
            Self::Sms => "sms",
        }
    }

    /// The method named `text` in any case; otherwise CIPP's own 400 with its text as a list.
    pub fn parse(text: &str) -> Result<Self, UserError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                let message = invalid_method_text(text);
                UserError::Answered {
                    kind: ErrorKind::InvalidInput,
                    results: json!([message]),
                    message,
                }
            })
    }
}

/// CIPP's own 400 text for a value outside the set.
pub fn invalid_method_text(method: &str) -> String {
    let valid: Vec<&str> = ExecSetDefaultMFAMethodType::ALL
        .iter()
        .map(|m| m.as_str())
        .collect();
    format!(
        "'{method}' is not a valid default MFA method. Valid values are: {}",
        valid.join(", ")
    )
}

impl Operation for ExecSetDefaultMFAMethod {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecSetDefaultMFAMethod";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetDefaultMFAMethod.ps1",
        frontend: Some("src/pages/identity/administration/users/user/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "CIPP answers a missing input with one 400 naming all three; here the 400 names the missing field, and an `ID` that is neither an object id nor a user principal name is a 400 naming it. An unknown `MethodType` is CIPP's own 400 with its text. The method is sent to Graph in Graph's spelling whatever case the caller used.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "ID": crate::demo::USER,
            "MethodType": {"label": "SMS", "value": "sms"},
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let method = ExecSetDefaultMFAMethodType::parse(&params.method_type)?;
        let tenant = ctx.tenant()?;
        let message = set_default_mfa_method(&ctx.graph, &tenant.customer_id, &params.id, method)
            .await
            .map_err(UserError::into_list)?;
        Ok(Outcome::json(TextListResults::one(message)))
    }
}

/// `PATCH beta/users/{id}/authentication/signInPreferences`, app-only, as CIPP does.
pub async fn set_default_mfa_method(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    method: ExecSetDefaultMFAMethodType,
) -> Result<String, UserError> {
    let (user_id, method) = (user.as_str(), method.as_str());
    graph
        .app_only()
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}/authentication/signInPreferences", user.segment()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_in_any_case_is_read_in_graphs_spelling() {
        assert_eq!(
            ExecSetDefaultMFAMethodType::parse("VOICEMOBILE").unwrap(),
            ExecSetDefaultMFAMethodType::VoiceMobile
        );
    }

    #[test]
    fn an_unknown_method_is_cipps_own_400_as_a_list() {
        let error = ExecSetDefaultMFAMethodType::parse("pigeon").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            error.results(),
            json!(["'pigeon' is not a valid default MFA method. Valid values are: push, oath, voiceMobile, voiceAlternateMobile, voiceOffice, sms"])
        );
    }
}
