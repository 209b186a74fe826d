//! CIPP's JIT admin approvals (newest upstream): when `JITAdminSettings.RequireApproval` is on
//! (and, if trigger roles are set, a requested role is one of them), ExecJITAdmin stores the
//! request instead of provisioning it; approvers decide with ExecJITAdminRequestDecision, and
//! the last required approval provisions it. Requests are kept in the store's template table
//! (kind `JITAdminRequest`), one row per request, its body CIPP's row columns.

use cipp_store::{Template, TemplateKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::UserError;
use crate::operations::exec_jit_admin::SETTINGS_KEY;

/// Who must approve, and how many.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub approver_roles: Vec<String>,
    pub required: i64,
}

/// A JSON value that CIPP stores as a JSON text (or sends as the value itself).
fn json_text(value: &Value) -> Value {
    match value {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// CIPP's `Get-CIPPJITAdminApprovalRequirement`: `None` when no approval is needed.
pub async fn requirement(store: &cipp_store::Store, roles: &[String]) -> Option<Requirement> {
    let settings = store.kv_get(SETTINGS_KEY).await.ok().flatten()?;
    if settings["RequireApproval"] != Value::Bool(true) {
        return None;
    }
    let triggers: Vec<String> = match json_text(&settings["ApprovalTriggerRoles"]) {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i["value"].as_str().or(i.as_str()).map(str::to_owned))
            .filter(|v| !v.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    if !triggers.is_empty()
        && !roles
            .iter()
            .any(|r| triggers.iter().any(|t| t.eq_ignore_ascii_case(r)))
    {
        return None;
    }
    let approver_roles = match json_text(&settings["ApproverRoles"]) {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().or(i["value"].as_str()).map(str::to_owned))
            .collect(),
        Value::String(one) => vec![one],
        _ => Vec::new(),
    };
    let required = match &settings["RequiredApprovals"] {
        Value::Number(n) => n.as_i64().unwrap_or(1),
        Value::String(s) => s.trim().parse().unwrap_or(1),
        _ => 1,
    }
    .max(1);
    Some(Requirement {
        approver_roles,
        required,
    })
}

/// One decision on a request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    #[serde(rename = "By")]
    pub by: String,
    #[serde(rename = "At")]
    pub at: String,
    /// `Approve` or `Reject`.
    #[serde(rename = "Decision")]
    pub decision: String,
    #[serde(rename = "Note")]
    pub note: String,
}

/// A stored request: CIPP's `JITAdminRequests` row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JitRequest {
    #[serde(rename = "RowKey")]
    pub id: String,
    /// `Pending`, `Approved`, `Rejected`, `Completed` or `Failed`.
    #[serde(rename = "State")]
    pub state: String,
    /// The tenant's default domain.
    #[serde(rename = "Tenant")]
    pub tenant: String,
    #[serde(rename = "TargetUser")]
    pub target_user: String,
    #[serde(rename = "RoleIds")]
    pub role_ids: Vec<String>,
    #[serde(rename = "RoleNames")]
    pub role_names: String,
    #[serde(rename = "GroupIds")]
    pub group_ids: Vec<String>,
    #[serde(rename = "GroupNames")]
    pub group_names: String,
    #[serde(rename = "Reason")]
    pub reason: String,
    #[serde(rename = "StartDate")]
    pub start_date: i64,
    #[serde(rename = "EndDate")]
    pub end_date: i64,
    #[serde(rename = "RequestedBy")]
    pub requested_by: String,
    #[serde(rename = "RequestedAt")]
    pub requested_at: String,
    /// The request as sent, provisioned as it is once approved.
    #[serde(rename = "RequestBody")]
    pub request_body: Value,
    #[serde(rename = "ApproverRoles")]
    pub approver_roles: Vec<String>,
    #[serde(rename = "RequiredApprovals")]
    pub required_approvals: i64,
    #[serde(rename = "Decisions")]
    pub decisions: Vec<Decision>,
    /// The provisioning's result lines, once approved.
    #[serde(rename = "Results", default)]
    pub results: Option<String>,
    /// The stored row exactly as it was read: what [`save_if_unchanged`] expects to replace.
    #[serde(skip)]
    pub read_as: Option<Value>,
}

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> UserError {
    UserError::internal("Failed to read or write JIT Admin requests", e)
}

pub async fn save(store: &cipp_store::Store, request: &JitRequest) -> Result<(), UserError> {
    let id = Uuid::parse_str(&request.id).map_err(failed)?;
    let body = serde_json::to_value(request).map_err(failed)?;
    store
        .put_template(
            TemplateKind::JitAdminRequest,
            &Template {
                id,
                tenant: request.tenant.clone(),
                name: request.id.clone(),
                body,
            },
        )
        .await
        .map_err(failed)
}

/// Upstream's text when its ETag check fails: another decision changed the request first.
pub const CHANGED_BY_SOMEONE_ELSE: &str =
    "This request was updated by someone else. Refresh and try again.";

/// Saves `request` only if the stored row is still the one it was read as (by [`find`]), as
/// upstream's ETag does; a 409 with upstream's text otherwise. Every change of a request's state
/// (a decision, the requester's claim) goes through it, so two decisions made at once, on one
/// replica or two, never both land and one approval never provisions twice.
pub async fn save_if_unchanged(
    store: &cipp_store::Store,
    request: &JitRequest,
) -> Result<(), UserError> {
    let id = Uuid::parse_str(&request.id).map_err(failed)?;
    let body = serde_json::to_value(request).map_err(failed)?;
    // A request never read from the store matches no row: it is told, never written.
    let expected = request.read_as.clone().unwrap_or(Value::Null);
    let replaced = store
        .replace_template_if(
            TemplateKind::JitAdminRequest,
            &Template {
                id,
                tenant: request.tenant.clone(),
                name: request.id.clone(),
                body,
            },
            &expected,
        )
        .await
        .map_err(failed)?;
    if replaced {
        Ok(())
    } else {
        Err(UserError::Answered {
            kind: crate::ErrorKind::Conflict,
            results: Value::Array(vec![Value::String(CHANGED_BY_SOMEONE_ELSE.to_owned())]),
            message: CHANGED_BY_SOMEONE_ELSE.to_owned(),
        })
    }
}

pub async fn all(store: &cipp_store::Store) -> Result<Vec<JitRequest>, UserError> {
    Ok(store
        .list_templates(TemplateKind::JitAdminRequest, None)
        .await
        .map_err(failed)?
        .into_iter()
        .filter_map(|t| {
            let mut request: JitRequest = serde_json::from_value(t.body.clone()).ok()?;
            request.read_as = Some(t.body);
            Some(request)
        })
        .collect())
}

pub async fn find(store: &cipp_store::Store, id: &str) -> Result<Option<JitRequest>, UserError> {
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return Ok(None);
    };
    Ok(all(store)
        .await?
        .into_iter()
        .find(|r| Uuid::parse_str(&r.id).is_ok_and(|r| r == id)))
}

/// Whether a completed request covers this elevation (CIPP's guard in `Set-CIPPUserJITAdmin`).
pub fn covers(
    request: Option<&JitRequest>,
    tenant: &str,
    user: &str,
    roles: &[String],
    groups: &[String],
) -> bool {
    let Some(r) = request else {
        return false;
    };
    let within = |asked: &[String], approved: &[String]| {
        asked
            .iter()
            .all(|a| approved.iter().any(|b| b.eq_ignore_ascii_case(a)))
    };
    r.state == "Completed"
        && r.tenant.eq_ignore_ascii_case(tenant)
        && r.target_user.eq_ignore_ascii_case(user)
        && within(roles, &r.role_ids)
        && within(groups, &r.group_ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(state: &str) -> JitRequest {
        JitRequest {
            id: "11111111-1111-4111-8111-111111111111".into(),
            state: state.into(),
            tenant: "contoso.example".into(),
            target_user: "jit@contoso.example".into(),
            role_ids: vec!["r1".into(), "r2".into()],
            role_names: String::new(),
            group_ids: vec!["g1".into()],
            group_names: String::new(),
            reason: String::new(),
            start_date: 0,
            end_date: 0,
            requested_by: "a".into(),
            requested_at: String::new(),
            request_body: Value::Null,
            approver_roles: vec![],
            required_approvals: 1,
            decisions: vec![],
            results: None,
            read_as: None,
        }
    }

    #[test]
    fn only_a_completed_request_for_the_same_grant_or_less_covers_an_elevation() {
        let roles = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let done = request("Completed");
        let covers_it = |r: Option<&JitRequest>, user: &str, asked: &[&str], groups: &[&str]| {
            covers(r, "contoso.example", user, &roles(asked), &roles(groups))
        };
        assert!(covers_it(
            Some(&done),
            "JIT@contoso.example",
            &["r1"],
            &["g1"]
        ));
        assert!(!covers_it(Some(&done), "jit@contoso.example", &["r3"], &[]));
        assert!(!covers_it(
            Some(&done),
            "jit@contoso.example",
            &["r1"],
            &["g2"]
        ));
        assert!(!covers_it(
            Some(&done),
            "other@contoso.example",
            &["r1"],
            &[]
        ));
        assert!(!covers_it(
            Some(&request("Approved")),
            "jit@contoso.example",
            &["r1"],
            &[]
        ));
        assert!(!covers_it(None, "jit@contoso.example", &["r1"], &[]));
    }
}
