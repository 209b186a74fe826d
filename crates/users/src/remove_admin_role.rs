//! `ExecRemoveAdminRole` (CIPP-API `Invoke-ExecRemoveAdminRole.ps1`): removes users from an
//! Entra directory role, one `DELETE …/members/{id}/$ref` per user, in order.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::Value;

use crate::normalize::normalize_graph_error;
use crate::path_segment;

/// CIPP's 400 text when the tenant, the role or the users are missing.
pub const REQUIRED: &str = "TenantFilter, RoleId or RoleTemplateId, and Users are required to remove an admin role assignment.";

/// Which role: a template id wins over an instance id, as in CIPP.
pub enum RoleRef<'a> {
    Template(&'a str),
    Instance(&'a str),
}

/// One entry of `Users`: the id (blank when none was given) and the name used in texts.
pub struct RoleMember {
    pub id: String,
    pub name: String,
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn field<'v>(item: &'v Value, name: &str) -> Option<&'v Value> {
    item.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

impl RoleMember {
    /// CIPP's reading of a `Users` item: a string, a `{label, value}`, or a user object
    /// (`id`/`UserId`, names from `addedFields`, `userPrincipalName`, `displayName`, …).
    pub fn from_value(item: &Value) -> Self {
        let id = ["value", "id", "UserId"]
            .iter()
            .find_map(|k| text_of(field(item, k)))
            .or_else(|| text_of(Some(item)))
            .unwrap_or_default();
        let added = field(item, "addedFields");
        let name = ["userPrincipalName", "displayName"]
            .iter()
            .find_map(|k| text_of(added.and_then(|a| field(a, k))))
            .or_else(|| {
                ["userPrincipalName", "displayName", "label", "UserName"]
                    .iter()
                    .find_map(|k| text_of(field(item, k)))
            })
            .unwrap_or_else(|| id.clone());
        Self { id, name }
    }
}

/// Each user's outcome text, and how many failed.
pub struct RemovalOutcome {
    pub results: Vec<String>,
    pub failed: usize,
}

/// Removes every user from the role, sequentially, delegated, v1.0.
pub async fn remove_admin_role(
    graph: &GraphClient,
    tenant: &str,
    role: &RoleRef<'_>,
    role_name: &str,
    users: &[RoleMember],
) -> RemovalOutcome {
    let mut outcome = RemovalOutcome {
        results: Vec::new(),
        failed: 0,
    };
    for user in users {
        if user.id.trim().is_empty() {
            outcome.failed += 1;
            outcome.results.push(format!(
                "Skipped a {role_name} role removal request because UserId was empty."
            ));
            continue;
        }
        let member = path_segment(&user.id);
        let path = match role {
            RoleRef::Template(t) => format!(
                "directoryRoles(roleTemplateId='{}')/members/{member}/$ref",
                path_segment(t)
            ),
            RoleRef::Instance(id) => {
                format!("directoryRoles/{}/members/{member}/$ref", path_segment(id))
            }
        };
        match graph.delete(tenant, GraphVersion::V1, &path).await {
            Ok(()) => {
                let text = format!(
                    "Successfully removed {} from admin role {role_name}.",
                    user.name
                );
                tracing::info!(tenant, "{text}");
                outcome.results.push(text);
            }
            Err(e) => {
                outcome.failed += 1;
                let normalized = normalize_graph_error(&e);
                let mut text = format!(
                    "Failed to remove {} from admin role {role_name}. {normalized}",
                    user.name
                );
                let lower = normalized.to_ascii_lowercase();
                if matches!(role, RoleRef::Template(_))
                    && (lower.contains("does not exist")
                        || lower.contains("not found")
                        || lower.contains("404"))
                {
                    text.push_str(" The role may not be activated in this tenant.");
                }
                tracing::warn!(tenant, detail = ?e, "{text}");
                outcome.results.push(text);
            }
        }
    }
    outcome
}
