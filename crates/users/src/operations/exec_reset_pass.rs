//! `ExecResetPass` (CIPP-API `Invoke-ExecResetPass.ps1` → `Set-CIPPResetPassword.ps1`): a new
//! password, shown once, to the caller only; the audit row and the logs get the outcome without it.

use cipp_graph::{GraphClient, GraphVersion};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::{ItemState, ResultItem, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::password::{PasswordSettings, generate_password};
use crate::{UserError, is_synced};

pub struct ExecResetPass;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose password is reset.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// Whether the user must change the password at next sign-in (default `false`; a user
    /// synced from on-premises AD must change it regardless).
    #[serde(rename = "MustChange", default)]
    pub must_change: bool,
    /// The user's display name, only to name the user in the answer (default: the id).
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
}

/// `{"Results": {resultText, copyField, state}}`: one result, not a list. `resultText` and
/// `copyField` hold the new password.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecResetPassResults {
    #[serde(rename = "Results")]
    pub results: ResultItem,
}

impl Operation for ExecResetPass {
    type Params = Params;
    type Answer = ExecResetPassResults;
    const NAME: &'static str = "ExecResetPass";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecResetPass.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, one that is neither an object id nor a user principal name, or a `MustChange` that is not a boolean is a 400 naming the field. For a user synced from on-premises AD the answer says the writeback reset was accepted, not confirmed (Graph applies it asynchronously). The password reaches the caller only: the audit row carries the outcome without it.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "ID": crate::demo::USER,
            "displayName": "Kenji Robbins",
            "MustChange": true,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ExecResetPassResults>, UserError> {
        let tenant = ctx.tenant()?;
        let settings = ctx.password_settings().await;
        let outcome = reset_password(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            params.display_name.as_deref(),
            params.must_change,
            &settings,
        )
        .await?;
        let answer = ExecResetPassResults {
            results: ResultItem {
                result_text: outcome.result_text.expose_secret().to_owned(),
                state: ItemState::Success,
                copy_field: Some(outcome.copy_field.expose_secret().to_owned()),
            },
        };
        // The audit row records the outcome without the password.
        Ok(Outcome::json(answer).audit_message(outcome.log_text))
    }
}

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
    user: &UserId,
    display_name: Option<&str>,
    must_change: bool,
    settings: &PasswordSettings,
) -> Result<ResetOutcome, UserError> {
    let user_id = user.as_str();
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
    let segment = user.segment();
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
