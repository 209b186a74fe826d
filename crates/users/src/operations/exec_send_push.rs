//! `ExecSendPush` (CIPP-API `Invoke-ExecSendPush.ps1`, `New-CIPPMFAConnectorToken.ps1`): sends
//! a test MFA push to the user's Authenticator app and says whether they approved it, or, given
//! `OTP`, checks a code the user read out without sending a push. The user actions menu offers
//! it as "Send MFA Push".
//!
//! The connector token comes from the tenant's kept connector secret (`crate::mfa_connector`);
//! the push and the code check go to the Azure MFA connector (`cipp_graph::mfa_connector`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use cipp_graph::GraphVersion;
use cipp_graph::mfa_connector::{TwoWayAnswer, TwoWayKind};

use crate::UserError;
use crate::mfa_connector::{connector_token, failure};
use crate::normalize::normalize_graph_error;
use crate::op::types::{ItemState, ResultItem, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSendPush;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user to prompt: a user principal name (an object id is looked up).
    #[serde(rename = "UserEmail")]
    pub user_email: UserId,
    /// A code from the user's authenticator to check instead of sending a push (6 to 8
    /// digits). Refused for users with the Microsoft Authenticator app, who must approve a push.
    #[serde(rename = "OTP", default)]
    pub otp: Option<String>,
}

/// `{"Results": {"resultText", "state"}}`: one result, not a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecSendPushResults {
    #[serde(rename = "Results")]
    pub results: ResultItem,
}

impl Operation for ExecSendPush {
    type Params = Params;
    type Answer = ExecSendPushResults;
    const NAME: &'static str = "ExecSendPush";
    const TAG: &'static str = "Identity > Administration > Users";
    // Upstream's role, though it prompts a real person.
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Post;
    // A push reaches a phone and the set-up may add a credential: a repeat is not harmless.
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSendPush.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or malformed `UserEmail`, or an `OTP` that is not 6 to 8 digits, is a 400 naming the field; an object id in `UserEmail` is looked up to its user principal name (the connector takes only names). The tenant's app-management policy is not adjusted before the connector secret is added (upstream exempts the app from password-lifetime limits and ignores failures); when adding it fails, expired connector secrets are removed and it is tried once more (upstream: up to five times, four seconds apart). The connector secret is kept sealed in the state store (upstream: Key Vault). A failure to reach the connector is a 500 with `{\"Results\": {resultText, state: \"error\"}}` (upstream: a plain-text 500). With `WhatIf=true` the set-up writes and the push are listed and nobody is prompted.",
    );

    fn example() -> Value {
        json!({"TenantFilter": crate::demo::TENANT, "UserEmail": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ExecSendPushResults>, UserError> {
        let otp = otp_code(params.otp.as_deref())?;
        let tenant = ctx.tenant()?.clone();
        let tid = tenant.customer_id.as_str();
        let upn = user_principal_name(&ctx, tid, &params.user_email).await?;
        let token = connector_token(&ctx, &tenant).await?;

        let (answer, text, state) = match &otp {
            Some(code) => check_code(&ctx, tid, &token, &upn, code).await?,
            None => {
                let answer = ctx
                    .graph
                    .mfa_begin_two_way(tid, &token, &upn, TwoWayKind::Push)
                    .await
                    .map_err(|e| unreachable_connector(&upn, &e))?;
                let value = answer.result_value.clone().unwrap_or_default();
                // Upstream pipes the value through Out-String: the newline is part of its text.
                if answer.authenticated {
                    (
                        Some(answer),
                        format!("Received an MFA confirmation: {value}\n"),
                        ItemState::Success,
                    )
                } else {
                    (
                        Some(answer),
                        format!(
                            "Authentication Failed! Does the user have Push/Phone call MFA configured? ErrorCode: {value}\n"
                        ),
                        ItemState::Error,
                    )
                }
            }
        };
        let value = answer
            .and_then(|a| a.result_value)
            .unwrap_or_default();
        let action = if otp.is_some() {
            "Verified MFA code"
        } else {
            "Sent push request"
        };
        Ok(Outcome::json(ExecSendPushResults {
            results: ResultItem {
                result_text: text,
                state,
                copy_field: None,
            },
        })
        .audit_target(upn.clone())
        .audit_message(format!("{action} for {upn} - Result: {value}")))
    }
}

/// Upstream's OTP path: refused for Authenticator users; otherwise a session opened without a
/// push, then the code checked against it.
async fn check_code(
    ctx: &Ctx,
    tid: &str,
    token: &secrecy::SecretString,
    upn: &str,
    code: &str,
) -> Result<(Option<TwoWayAnswer>, String, ItemState), UserError> {
    let methods = ctx
        .graph
        .get_all(
            tid,
            GraphVersion::Beta,
            &format!("users/{}/authentication/methods", crate::path_segment(upn)),
            &[],
        )
        .await
        .map_err(|e| {
            let text = format!(
                "Failed to read the authentication methods of {upn}: {}",
                normalize_graph_error(&e)
            );
            let kind = crate::error::upstream_kind(&e)
                .unwrap_or(crate::error::ErrorKind::UpstreamFailed);
            UserError::Answered {
                kind,
                results: json!({ "resultText": text, "state": "error" }),
                message: text,
            }
        })?;
    let has_authenticator = methods.iter().any(|m| {
        m.get("@odata.type").and_then(Value::as_str)
            == Some("#microsoft.graph.microsoftAuthenticatorAuthenticationMethod")
    });
    if has_authenticator {
        return Ok((
            None,
            "This user has Microsoft Authenticator registered, so a push notification is required instead of a typed code.".to_owned(),
            ItemState::Error,
        ));
    }
    let begun = ctx
        .graph
        .mfa_begin_two_way(tid, token, upn, TwoWayKind::OtpSession)
        .await
        .map_err(|e| unreachable_connector(upn, &e))?;
    let Some(session) = begun.session_id.clone() else {
        let text = if ctx.graph.dry_run_log().is_some() {
            // WhatIf: the session was listed, not opened, so there is no code to check.
            "The MFA code would be checked against a new verification session.".to_owned()
        } else {
            "Could not start an MFA verification session. Does the user have an authenticator (OTP) method registered?".to_owned()
        };
        return Ok((Some(begun), text, ItemState::Error));
    };
    let ended = ctx
        .graph
        .mfa_end_two_way(tid, token, &session, code)
        .await
        .map_err(|e| unreachable_connector(upn, &e))?;
    let value = ended.result_value.clone().unwrap_or_default();
    let (text, state) = if ended.authenticated && value == "Success" {
        (
            "The MFA code was verified successfully.".to_owned(),
            ItemState::Success,
        )
    } else if value == "OathCodeIncorrect" {
        (
            "The MFA code was incorrect. Please check the code and try again.".to_owned(),
            ItemState::Error,
        )
    } else {
        (
            format!("MFA code verification failed: {value}"),
            ItemState::Error,
        )
    };
    Ok((Some(ended), text, state))
}

/// A code of 6 to 8 digits, or none; blank counts as none, as upstream reads it.
fn otp_code(raw: Option<&str>) -> Result<Option<String>, UserError> {
    let Some(code) = raw.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if (6..=8).contains(&code.len()) && code.chars().all(|c| c.is_ascii_digit()) {
        Ok(Some(code.to_owned()))
    } else {
        Err(UserError::invalid(
            "OTP",
            "OTP: expected the 6 to 8 digits the user's authenticator shows",
        ))
    }
}

/// The connector addresses users by name; an object id is looked up.
async fn user_principal_name(ctx: &Ctx, tid: &str, user: &UserId) -> Result<String, UserError> {
    if !user.is_object_id() {
        return Ok(user.as_str().to_owned());
    }
    let found = ctx
        .graph
        .get(
            tid,
            GraphVersion::V1,
            &format!("users/{}?$select=userPrincipalName", user.segment()),
            &[],
        )
        .await
        .map_err(|e| {
            let text = format!(
                "Failed to look up {}: {}",
                user.as_str(),
                normalize_graph_error(&e)
            );
            match crate::error::upstream_kind(&e) {
                Some(crate::error::ErrorKind::NotFound) => UserError::not_found(text),
                _ => failure(text),
            }
        })?;
    found
        .get("userPrincipalName")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| failure(format!("Graph returned no userPrincipalName for {}", user.as_str())))
}

fn unreachable_connector(upn: &str, e: &cipp_graph::GraphError) -> UserError {
    failure(format!(
        "Failed MFA request for {upn} - {}",
        normalize_graph_error(e)
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn codes_are_six_to_eight_digits_and_blank_means_none() {
        assert_eq!(otp_code(None).unwrap(), None);
        assert_eq!(otp_code(Some("  ")).unwrap(), None);
        assert_eq!(otp_code(Some(" 123456 ")).unwrap().as_deref(), Some("123456"));
        assert_eq!(otp_code(Some("12345678")).unwrap().as_deref(), Some("12345678"));
        for bad in ["12345", "123456789", "12a456", "１２３４５６"] {
            let err = otp_code(Some(bad)).unwrap_err();
            assert!(matches!(err, UserError::InvalidInput { ref field, .. } if field == "OTP"), "{bad}: {err:?}");
        }
    }
}
