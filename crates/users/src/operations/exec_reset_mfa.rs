//! `ExecResetMFA` (CIPP-API `Invoke-ExecResetMFA.ps1` → `Remove-CIPPUserMFA.ps1`): removes a
//! user's MFA methods, all of them or the one `MethodId`, so the user must register again.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{UserError, path_segment};

pub struct ExecResetMFA;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose methods are removed (the CIPP frontend sends the user principal name).
    #[serde(rename = "ID")]
    pub id: UserId,
    /// Only this method (an id from the user's authentication methods); all removable methods
    /// when absent. The password is never removed.
    #[serde(rename = "MethodId")]
    pub method_id: Option<String>,
}

impl Operation for ExecResetMFA {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecResetMFA";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecResetMFA.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP: a 500 with PowerShell's binding message).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::OTHER_USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = remove_user_mfa(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            params.method_id.as_deref(),
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

const PASSWORD_TYPE: &str = "#microsoft.graph.passwordAuthenticationMethod";

/// The singular method name CIPP reports and builds the DELETE path from:
/// `#microsoft.graph.phoneAuthenticationMethod` → `phoneMethod`.
fn method_type(odata_type: &str) -> String {
    odata_type
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .replace("Authentication", "")
}

/// Lists the user's methods (app-only, as CIPP does) and deletes each removable one in turn.
/// Returns CIPP's success text; a partial or total failure is CIPP's failure text.
pub async fn remove_user_mfa(
    graph: &GraphClient,
    tenant: &str,
    user_id: &UserId,
    method_id: Option<&str>,
) -> Result<String, UserError> {
    let user = user_id.as_str();
    let app = graph.app_only();
    // Guest UPNs carry `#EXT#`, which must not end the path.
    let segment = user_id.segment();
    let methods = app
        .get_all(
            tenant,
            GraphVersion::V1,
            &format!("users/{segment}/authentication/methods"),
            &[],
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to get MFA methods for user {user}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let removable: Vec<(String, String)> = methods
        .iter()
        .filter_map(|m| {
            let odata_type = m.get("@odata.type").and_then(Value::as_str)?;
            let id = m.get("id").and_then(Value::as_str).unwrap_or_default();
            (odata_type != PASSWORD_TYPE).then(|| (method_type(odata_type), id.to_owned()))
        })
        .filter(|(_, id)| method_id.is_none_or(|wanted| wanted.eq_ignore_ascii_case(id)))
        .collect();
    if removable.is_empty() {
        let message = match method_id {
            Some(id) => format!("No removable MFA method with id {id} found for user {user}"),
            None => format!("No MFA methods found for user {user}"),
        };
        tracing::info!(tenant, "{message}");
        return Ok(message);
    }
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    for (kind, id) in removable {
        let (version, path) = if kind == "qrCodePinMethod" {
            (
                GraphVersion::Beta,
                format!("users/{segment}/authentication/{kind}"),
            )
        } else {
            (
                GraphVersion::V1,
                format!(
                    "users/{segment}/authentication/{kind}s/{}",
                    path_segment(&id)
                ),
            )
        };
        match app.delete(tenant, version, &path).await {
            Ok(()) => succeeded.push(kind),
            Err(error) => {
                tracing::error!(
                    tenant,
                    "Failed to remove {kind} for {user}. Error: {}",
                    normalize_graph_error(&error)
                );
                failed.push(kind);
            }
        }
    }
    if !failed.is_empty() {
        let message = if succeeded.is_empty() {
            format!(
                "Failed to remove MFA methods ({}) for user {user}",
                failed.join(", ")
            )
        } else {
            format!(
                "Successfully removed MFA methods ({}) for user {user}. However, failed to remove ({}). User may still have MFA methods assigned.",
                succeeded.join(", "),
                failed.join(", ")
            )
        };
        return Err(UserError::Failed {
            message,
            source: None,
        });
    }
    let message = if method_id.is_some() {
        format!(
            "Successfully removed MFA method ({}) for user {user}",
            succeeded.join(", ")
        )
    } else {
        format!(
            "Successfully removed MFA methods ({}) for user {user}. User must supply MFA at next logon",
            succeeded.join(", ")
        )
    };
    tracing::info!(tenant, "{message}");
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_type_loses_its_namespace_and_the_word_authentication() {
        assert_eq!(
            method_type("#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"),
            "microsoftAuthenticatorMethod"
        );
        assert_eq!(
            method_type("#microsoft.graph.phoneAuthenticationMethod"),
            "phoneMethod"
        );
        assert_eq!(
            method_type("#microsoft.graph.qrCodePinAuthenticationMethod"),
            "qrCodePinMethod"
        );
    }
}
