//! `ExecPasswordNeverExpires` (CIPP-API `Invoke-ExecPasswordNeverExpires.ps1`): sets a user's
//! `passwordPolicies` (e.g. `DisablePasswordExpiration`, or `None`). `Results` is an array of
//! strings, failures included.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecPasswordNeverExpires;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose password policy is set.
    #[serde(rename = "userId")]
    pub user_id: UserId,
    /// The user's principal name, only to name the user in the answer.
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
    /// `None`, `DisablePasswordExpiration`, `DisableStrongPassword` or both policies separated
    /// by a comma; as text or as `{label, value}` (the answer shows the label). `None` when
    /// absent.
    #[serde(rename = "PasswordPolicy")]
    pub password_policy: Option<ExecPasswordNeverExpiresPolicy>,
}

/// The policy as the CIPP frontend sends it (`{label, value}`) or as plain text. The object form
/// comes first so the parameter layer keeps its label instead of reading only its value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ExecPasswordNeverExpiresPolicy {
    Labelled(ExecPasswordNeverExpiresLabelled),
    Plain(String),
}

/// A policy with the label the answer shows.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExecPasswordNeverExpiresLabelled {
    /// What the answer shows (default: the value).
    pub label: Option<String>,
    /// What is sent to Graph (default: `None`).
    pub value: Option<String>,
}

impl ExecPasswordNeverExpiresPolicy {
    /// The value sent and the label shown: a `{label, value}` gives both, text is both, and
    /// nothing sends `None` with an empty label, as CIPP does.
    fn policy_and_label(policy: Option<&Self>) -> (String, String) {
        let text = |v: Option<&String>| {
            v.map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        match policy {
            Some(Self::Labelled(choice)) => {
                let value = text(choice.value.as_ref()).unwrap_or_else(|| "None".to_owned());
                let label = text(choice.label.as_ref()).unwrap_or_else(|| value.clone());
                (value, label)
            }
            Some(Self::Plain(s)) if !s.trim().is_empty() => {
                (s.trim().to_owned(), s.trim().to_owned())
            }
            _ => ("None".to_owned(), String::new()),
        }
    }
}

impl Operation for ExecPasswordNeverExpires {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecPasswordNeverExpires";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecPasswordNeverExpires.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `userId`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP: a bare `exit`, no defined answer); a `PasswordPolicy` Graph would refuse is a 400 naming it.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userId": crate::demo::USER_ID,
            "userPrincipalName": crate::demo::USER,
            "PasswordPolicy": {"label": "Password never expires", "value": "DisablePasswordExpiration"},
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let (policy, label) =
            ExecPasswordNeverExpiresPolicy::policy_and_label(params.password_policy.as_ref());
        let tenant = ctx.tenant()?;
        let message = set_password_policy(
            &ctx.graph,
            &tenant.customer_id,
            &params.user_id,
            params.user_principal_name.as_deref().unwrap_or_default(),
            &policy,
            &label,
        )
        .await
        .map_err(UserError::into_list)?;
        Ok(Outcome::json(TextListResults::one(message)))
    }
}

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
    user: &UserId,
    user_principal_name: &str,
    policy: &str,
    label: &str,
) -> Result<String, UserError> {
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
            &format!("users/{}", user.segment()),
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

    #[test]
    fn a_labelled_policy_shows_its_label_and_nothing_is_none_without_one() {
        let labelled = ExecPasswordNeverExpiresPolicy::Labelled(ExecPasswordNeverExpiresLabelled {
            label: Some("Password never expires".into()),
            value: Some("DisablePasswordExpiration".into()),
        });
        assert_eq!(
            ExecPasswordNeverExpiresPolicy::policy_and_label(Some(&labelled)),
            (
                "DisablePasswordExpiration".to_owned(),
                "Password never expires".to_owned()
            )
        );
        let plain = ExecPasswordNeverExpiresPolicy::Plain(" None ".into());
        assert_eq!(
            ExecPasswordNeverExpiresPolicy::policy_and_label(Some(&plain)),
            ("None".to_owned(), "None".to_owned())
        );
        assert_eq!(
            ExecPasswordNeverExpiresPolicy::policy_and_label(None),
            ("None".to_owned(), String::new())
        );
    }
}
