//! `ExecPerUserMFA` (CIPP-API `Invoke-ExecPerUserMFA.ps1` → `Set-CIPPPerUserMFA.ps1`): sets the
//! legacy per-user MFA state through `authentication/requirements`. `Results` is an array of
//! strings, failures included.

use cipp_graph::{BatchRequest, GraphClient, GraphVersion, Method as HttpMethod};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::{normalize_graph_error, normalize_message};
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecPerUserMFA;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user's object id; the user is addressed by it when there is no user principal name
    /// or it is a guest's (`#EXT#`).
    #[serde(rename = "userId")]
    pub user_id: Option<UserId>,
    /// The user's principal name; the user is addressed by it unless it is a guest's.
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<UserId>,
    /// The state to set.
    #[serde(rename = "State")]
    pub state: ExecPerUserMFAState,
}

/// The per-user MFA states Graph knows (CIPP's ValidateSet); any case is accepted, as the CIPP
/// frontend sends `Enforced`, `Enabled` and `Disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ExecPerUserMFAState {
    #[serde(rename = "enabled", alias = "Enabled")]
    Enabled,
    #[serde(rename = "disabled", alias = "Disabled")]
    Disabled,
    #[serde(rename = "enforced", alias = "Enforced")]
    Enforced,
}

impl ExecPerUserMFAState {
    /// Graph's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::Enforced => "enforced",
        }
    }
}

impl Operation for ExecPerUserMFA {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecPerUserMFA";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecPerUserMFA.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing user or `State`, a `State` outside enabled, disabled and enforced, or a user id that is neither an object id nor a user principal name is a 400 naming the field (CIPP: 500 with PowerShell's binding message). The state is sent to Graph in Graph's spelling whatever case the caller used. A PATCH Graph refuses inside the `$batch` is a 500 with CIPP's failure text (CIPP reports success).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userId": crate::demo::USER_ID,
            "userPrincipalName": crate::demo::USER,
            "State": {"label": "Enforced", "value": "Enforced"},
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let user = target_id(
            params.user_principal_name.as_ref(),
            params.user_id.as_ref(),
        )
        .ok_or_else(|| UserError::missing("userId"))?;
        let tenant = ctx.tenant()?;
        let message = set_per_user_mfa(&ctx.graph, &tenant.customer_id, user, params.state)
            .await
            .map_err(UserError::into_list)?;
        Ok(Outcome::json(TextListResults::one(message)))
    }
}

/// Which id CIPP addresses the user by: the UPN, unless it is a guest's `#EXT#` UPN.
pub fn target_id<'a>(
    user_principal_name: Option<&'a UserId>,
    user_id: Option<&'a UserId>,
) -> Option<&'a UserId> {
    match user_principal_name {
        Some(upn) if !upn.as_str().contains("#EXT#") => Some(upn),
        _ => user_id.or(user_principal_name),
    }
}

/// Sends the PATCH in a `$batch` (app-only, beta, as CIPP does) and, unlike CIPP, reads the
/// item's answer: a refused PATCH is a failure, not a success.
pub async fn set_per_user_mfa(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    state: ExecPerUserMFAState,
) -> Result<String, UserError> {
    let (user_text, state) = (user.as_str(), state.as_str());
    let failed = |detail: String, source| UserError::Failed {
        message: format!("Failed to set MFA State to {state} for {user_text}. Error: {detail}"),
        source,
    };
    let request = BatchRequest::new(
        HttpMethod::PATCH,
        format!("users/{}/authentication/requirements", user.segment()),
    )
    .with_body(json!({ "perUserMfaState": state }));
    let answers = graph
        .app_only()
        .batch(tenant, GraphVersion::Beta, vec![request])
        .await
        .map_err(|e| failed(normalize_graph_error(&e), Some(Box::new(e))))?;
    // No answer for the one item is no confirmation either.
    if answers.is_empty() {
        return Err(failed(
            "Graph answered the batch without its item".to_owned(),
            None,
        ));
    }
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
        "Successfully set Per user MFA State to {state} for {user_text}"
    );
    Ok(format!("Successfully set Per user MFA State for {user_text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> UserId {
        UserId::parse(text).unwrap()
    }

    #[test]
    fn a_guest_is_addressed_by_id_and_a_member_by_upn() {
        let object = id("6a3b7c1e-0000-4000-8000-00000000beef");
        let member = id("ada@contoso.example");
        let guest = id("ada_x.example#EXT#@contoso.example");
        assert_eq!(target_id(Some(&member), Some(&object)), Some(&member));
        assert_eq!(target_id(Some(&guest), Some(&object)), Some(&object));
        assert_eq!(target_id(Some(&guest), None), Some(&guest));
        assert_eq!(target_id(None, Some(&object)), Some(&object));
        assert_eq!(target_id(None, None), None);
    }
}
