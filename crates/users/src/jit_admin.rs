//! JIT admin tasks: CIPP's `Set-CIPPUserJITAdmin` run by the scheduler. ExecJITAdmin queues one
//! task that grants the roles and groups (at the start, or now) and one that takes them away at
//! the end (the expire action); each is a one-step job on the job engine, listed by
//! ListScheduledItems as `JIT Admin (<action>): <upn>` with command `Set-CIPPUserJITAdmin`.
//!
//! The JIT values of CIPP's `…_cippUser` schema extension are written as CIPP's
//! `Set-CIPPUserJITAdminProperties` writes them, so ListJITAdmin reads them back.

use std::sync::Arc;

use cipp_graph::{GraphClient, GraphVersion};
use cipp_jobs::{JobKind, JobRow, NewStep, StepOutcome, StepRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::Ctx;
use crate::scheduled_task::{self, ScheduledTask};
use crate::task_notify::{self, TaskNotice, WebhookTarget};
use crate::tenants::Tenant;
use crate::{UserError, path_segment};

/// The job kind's name in the engine.
pub const KIND: &str = "jit-admin";
/// CIPP's command name, shown by ListScheduledItems.
pub const COMMAND: &str = "Set-CIPPUserJITAdmin";

/// `Set-CIPPUserJITAdmin`'s actions that a task runs (`Create` runs in the request itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum JitAction {
    AddRoles,
    AddGroups,
    AddRolesAndGroups,
    RemoveRoles,
    RemoveGroups,
    RemoveRolesAndGroups,
    DeleteUser,
    DisableUser,
}

impl JitAction {
    pub fn name(self) -> &'static str {
        match self {
            Self::AddRoles => "AddRoles",
            Self::AddGroups => "AddGroups",
            Self::AddRolesAndGroups => "AddRolesAndGroups",
            Self::RemoveRoles => "RemoveRoles",
            Self::RemoveGroups => "RemoveGroups",
            Self::RemoveRolesAndGroups => "RemoveRolesAndGroups",
            Self::DeleteUser => "DeleteUser",
            Self::DisableUser => "DisableUser",
        }
    }

    /// The enable action CIPP picks: roles and groups, groups only, or roles.
    pub fn enable_for(roles: bool, groups: bool) -> Self {
        match (roles, groups) {
            (true, true) => Self::AddRolesAndGroups,
            (false, true) => Self::AddGroups,
            _ => Self::AddRoles,
        }
    }

    /// Deleting a user twice fails the second time; every other action has the same effect
    /// when repeated (a duplicate membership or a missing one is only logged).
    fn idempotent(self) -> bool {
        self != Self::DeleteUser
    }
}

/// What a JIT admin task carries: CIPP's task `Parameters`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JitTaskPayload {
    #[serde(rename = "Command")]
    pub command: String,
    #[serde(rename = "TenantId")]
    pub tenant_id: String,
    #[serde(rename = "Parameters")]
    pub parameters: JitTaskParameters,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JitTaskParameters {
    #[serde(rename = "TenantFilter")]
    pub tenant_filter: String,
    /// CIPP's `User.UserPrincipalName`: a UPN, or a guest's object id.
    #[serde(rename = "UserPrincipalName")]
    pub user: String,
    #[serde(rename = "Roles")]
    pub roles: Vec<String>,
    #[serde(rename = "Groups")]
    pub groups: Vec<String>,
    #[serde(rename = "Action")]
    pub action: JitAction,
    #[serde(rename = "Reason")]
    pub reason: Option<String>,
    /// Unix seconds; only the enable task carries the dates (CIPP's expire task has none).
    #[serde(rename = "Expiration", skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    #[serde(rename = "StartDate", skip_serializing_if = "Option::is_none")]
    pub start_date: Option<i64>,
    /// Who asked (CIPP decodes it from the caller's principal header): `jitAdminCreatedBy`.
    #[serde(rename = "CreatedBy")]
    pub created_by: String,
    /// The id of CIPP's `…_cippUser` extension, looked up when the task was queued; `None`
    /// when the partner app owns none, and no JIT values are written.
    #[serde(rename = "Extension")]
    pub extension: Option<String>,
    /// The approved request this grant provisions, when approvals are required.
    #[serde(rename = "ApprovalRequestId", default)]
    pub approval_request_id: Option<String>,
}

/// Queues the task `name` to run `parameters` at `at`; returns the job's id.
pub async fn schedule(
    ctx: &Ctx,
    tenant: &Tenant,
    name: String,
    parameters: JitTaskParameters,
    at: OffsetDateTime,
    webhook: bool,
) -> Result<String, UserError> {
    let action = parameters.action;
    let payload = JitTaskPayload {
        command: COMMAND.to_owned(),
        tenant_id: tenant.customer_id.clone(),
        parameters,
    };
    scheduled_task::enqueue(
        ctx,
        tenant,
        ScheduledTask {
            kind: KIND,
            title: name,
            reference: None,
            payload: scheduled_task::payload(&payload)?,
            step: NewStep {
                name: action.name().to_owned(),
                idempotent: action.idempotent(),
            },
            at,
            webhook,
        },
    )
    .await
}

/// A UTC time as CIPP writes the extension's dates: `yyyy-MM-ddTHH:mm:ssZ`.
pub fn extension_time(unix: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// The JIT values CIPP writes: enabled or not, the dates, the reason and who asked.
pub fn jit_values(
    enabled: bool,
    expiration: i64,
    start: Option<i64>,
    reason: &str,
    created_by: &str,
) -> Value {
    json!({
        "jitAdminEnabled": enabled,
        "jitAdminExpiration": extension_time(expiration),
        "jitAdminStartDate": start.map(extension_time),
        "jitAdminReason": reason,
        "jitAdminCreatedBy": created_by,
    })
}

/// The values a finished JIT grant leaves: every one cleared.
fn cleared_values() -> Value {
    json!({
        "jitAdminEnabled": null,
        "jitAdminExpiration": null,
        "jitAdminStartDate": null,
        "jitAdminReason": null,
        "jitAdminCreatedBy": null,
    })
}

/// CIPP's `Set-CIPPUserJITAdminProperties`: `PATCH beta/users/{user}` with the extension's
/// values. Its failure is only logged, as in CIPP.
pub async fn write_jit_values(
    graph: &GraphClient,
    tenant: &str,
    user: &str,
    extension: Option<&str>,
    values: Value,
) {
    let Some(extension) = extension else {
        tracing::warn!(
            tenant,
            "no CIPP schema extension: JIT admin values not written"
        );
        return;
    };
    let body = json!({ extension: values });
    let path = format!("users/{}", path_segment(user));
    if let Err(error) = graph.patch(tenant, GraphVersion::Beta, &path, &body).await {
        tracing::warn!(tenant, %error, "Error setting JIT Admin properties");
    }
}

/// Runs the tasks with Graph, as `Set-CIPPUserJITAdmin` does.
pub struct JitAdminJob {
    pub graph: GraphClient,
    pub store: cipp_store::Store,
    /// Where `postExecution` webhooks go.
    pub webhook: Option<WebhookTarget>,
}

impl JitAdminJob {
    pub fn new(
        graph: GraphClient,
        store: cipp_store::Store,
        webhook: Option<WebhookTarget>,
    ) -> Arc<Self> {
        Arc::new(Self {
            graph,
            store,
            webhook,
        })
    }

    /// CIPP's guard: when approvals are required, an elevation runs only if a completed
    /// request covers it.
    async fn approved(&self, p: &JitTaskParameters) -> Result<(), String> {
        let adds = matches!(
            p.action,
            JitAction::AddRoles | JitAction::AddGroups | JitAction::AddRolesAndGroups
        );
        if !adds
            || crate::jit_approval::requirement(&self.store, &p.roles)
                .await
                .is_none()
        {
            return Ok(());
        }
        let request = match &p.approval_request_id {
            Some(id) => crate::jit_approval::find(&self.store, id)
                .await
                .map_err(|e| e.to_string())?,
            None => None,
        };
        if crate::jit_approval::covers(
            request.as_ref(),
            &p.tenant_filter,
            &p.user,
            &p.roles,
            &p.groups,
        ) {
            return Ok(());
        }
        let message = format!(
            "Blocked JIT Admin elevation of {}: no approved JIT Admin request covers it",
            p.user
        );
        tracing::warn!(tenant = %p.tenant_filter, "{message}");
        Err(message)
    }
}

/// The user the task is about, as `GET beta/users/{upn}` returns it.
struct Target {
    id: String,
    display_name: String,
    upn: String,
}

/// Runs one action; `Ok` is the step's text (with any per-item failure CIPP only logs), `Err`
/// the text of a failure CIPP throws.
pub async fn run_action(graph: &GraphClient, p: &JitTaskParameters) -> Result<String, String> {
    let tenant = p.tenant_filter.as_str();
    let user = graph
        .get(
            tenant,
            GraphVersion::Beta,
            &format!("users/{}", path_segment(&p.user)),
            &[],
        )
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    let text = |k: &str| user[k].as_str().unwrap_or_default().to_owned();
    let target = Target {
        id: text("id"),
        display_name: text("displayName"),
        upn: text("userPrincipalName"),
    };
    let reason = p
        .reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or("No reason provided");
    let mut logged: Vec<String> = Vec::new();
    let (dn, upn) = (&target.display_name, &target.upn);
    let message = match p.action {
        JitAction::AddRoles | JitAction::AddGroups | JitAction::AddRolesAndGroups => {
            let roles = p.action != JitAction::AddGroups;
            if roles {
                add_roles(graph, tenant, &target, &p.roles, &mut logged).await;
            }
            if p.action != JitAction::AddRoles {
                add_groups(graph, tenant, &target, &p.groups, &mut logged).await;
            }
            if roles {
                enable_if_disabled(graph, tenant, &target, &mut logged).await;
            }
            let values = jit_values(
                true,
                p.expiration.unwrap_or_default(),
                p.start_date,
                reason,
                &p.created_by,
            );
            write_jit_values(graph, tenant, &target.id, p.extension.as_deref(), values).await;
            match p.action {
                JitAction::AddRoles => format!("Added admin roles to user {dn} ({upn})"),
                JitAction::AddGroups => {
                    format!("Added group memberships for user {dn} ({upn}). Reason: {reason}")
                }
                _ => format!(
                    "Added admin roles and group memberships for user {dn} ({upn}). Reason: {reason}"
                ),
            }
        }
        JitAction::RemoveRoles | JitAction::RemoveGroups | JitAction::RemoveRolesAndGroups => {
            if p.action != JitAction::RemoveGroups {
                remove_roles(graph, tenant, &target, &p.roles, &mut logged).await;
            }
            if p.action != JitAction::RemoveRoles {
                remove_groups(graph, tenant, &target, &p.groups, &mut logged).await;
            }
            write_jit_values(
                graph,
                tenant,
                &target.id,
                p.extension.as_deref(),
                cleared_values(),
            )
            .await;
            match p.action {
                JitAction::RemoveRoles => format!("Removed admin roles from user {dn}"),
                JitAction::RemoveGroups => {
                    format!("Removed group memberships from user {dn} ({upn})")
                }
                _ => format!("Removed admin roles and group memberships from user {dn} ({upn})"),
            }
        }
        JitAction::DeleteUser => {
            let path = format!("users/{}", path_segment(upn));
            graph
                .delete(tenant, GraphVersion::Beta, &path)
                .await
                .map_err(|e| {
                    format!(
                        "Error deleting user {dn} ({upn}): {}",
                        normalize_graph_error(&e)
                    )
                })?;
            format!("Deleted user {dn} ({upn}) with id {}", target.id)
        }
        JitAction::DisableUser => {
            let path = format!("users/{}", path_segment(&p.user));
            graph
                .patch(
                    tenant,
                    GraphVersion::Beta,
                    &path,
                    &json!({"accountEnabled": false}),
                )
                .await
                .map_err(|e| {
                    format!(
                        "Error disabling user {dn} ({upn}): {}",
                        normalize_graph_error(&e)
                    )
                })?;
            write_jit_values(
                graph,
                tenant,
                &p.user,
                p.extension.as_deref(),
                cleared_values(),
            )
            .await;
            format!("Disabled user {dn} ({upn})")
        }
    };
    tracing::info!(tenant, "{message}");
    logged.insert(0, message);
    Ok(logged.join("\n"))
}

fn member_ref(id: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")})
}

/// Activates each role from its template (an active one is Graph's error, ignored) and adds
/// the user; a failure is logged, as in CIPP.
async fn add_roles(
    graph: &GraphClient,
    tenant: &str,
    user: &Target,
    roles: &[String],
    logged: &mut Vec<String>,
) {
    for role in roles {
        let _ = graph
            .post(
                tenant,
                GraphVersion::Beta,
                "directoryRoles",
                &json!({"roleTemplateId": role}),
            )
            .await;
        let path = format!("directoryRoles(roleTemplateId='{role}')/members/$ref");
        if let Err(e) = graph
            .post(tenant, GraphVersion::Beta, &path, &member_ref(&user.id))
            .await
        {
            let line = format!(
                "Failed to add role {role} to user {}: {}",
                user.upn,
                normalize_graph_error(&e)
            );
            tracing::warn!(tenant, "{line}");
            logged.push(line);
        }
    }
}

async fn add_groups(
    graph: &GraphClient,
    tenant: &str,
    user: &Target,
    groups: &[String],
    logged: &mut Vec<String>,
) {
    for group in groups {
        let path = format!("groups/{}/members/$ref", path_segment(group));
        if let Err(e) = graph
            .post(tenant, GraphVersion::Beta, &path, &member_ref(&user.id))
            .await
        {
            let line = format!(
                "Failed to add user {} to group {group}: {}",
                user.upn,
                normalize_graph_error(&e)
            );
            tracing::warn!(tenant, "{line}");
            logged.push(line);
        }
    }
}

async fn remove_roles(
    graph: &GraphClient,
    tenant: &str,
    user: &Target,
    roles: &[String],
    logged: &mut Vec<String>,
) {
    for role in roles {
        let path = format!(
            "directoryRoles(roleTemplateId='{role}')/members/{}/$ref",
            path_segment(&user.id)
        );
        if let Err(e) = graph.delete(tenant, GraphVersion::Beta, &path).await {
            let line = format!(
                "Failed to remove role {role} from user {}: {}",
                user.upn,
                normalize_graph_error(&e)
            );
            tracing::warn!(tenant, "{line}");
            logged.push(line);
        }
    }
}

async fn remove_groups(
    graph: &GraphClient,
    tenant: &str,
    user: &Target,
    groups: &[String],
    logged: &mut Vec<String>,
) {
    for group in groups {
        let path = format!(
            "groups/{}/members/{}/$ref",
            path_segment(group),
            path_segment(&user.id)
        );
        if let Err(e) = graph.delete(tenant, GraphVersion::Beta, &path).await {
            let line = format!(
                "Failed to remove user {} from group {group}: {}",
                user.upn,
                normalize_graph_error(&e)
            );
            tracing::warn!(tenant, "{line}");
            logged.push(line);
        }
    }
}

/// A disabled account is enabled again when roles are granted.
async fn enable_if_disabled(
    graph: &GraphClient,
    tenant: &str,
    user: &Target,
    logged: &mut Vec<String>,
) {
    let path = format!("users/{}?$select=accountEnabled", path_segment(&user.id));
    let enabled = graph
        .get(tenant, GraphVersion::Beta, &path, &[])
        .await
        .ok()
        .and_then(|u| u["accountEnabled"].as_bool())
        .unwrap_or(false);
    if enabled {
        return;
    }
    let path = format!("users/{}", path_segment(&user.id));
    if let Err(e) = graph
        .patch(
            tenant,
            GraphVersion::Beta,
            &path,
            &json!({"accountEnabled": true}),
        )
        .await
    {
        let line = format!(
            "Failed to enable user {}: {}",
            user.upn,
            normalize_graph_error(&e)
        );
        tracing::warn!(tenant, "{line}");
        logged.push(line);
    }
}

#[async_trait::async_trait]
impl JobKind for JitAdminJob {
    async fn run_step(&self, job: &JobRow, step: &StepRow, log: &[StepRow]) -> StepOutcome {
        let payload: JitTaskPayload = match serde_json::from_value(job.payload.clone()) {
            Ok(payload) => payload,
            Err(error) => {
                return StepOutcome::failed(format!("The job's data is unreadable: {error}"));
            }
        };
        if task_notify::is_notification(&step.name) {
            let task = TaskNotice {
                job,
                name: &job.title,
                command: COMMAND,
                tenant_id: &payload.tenant_id,
            };
            return task_notify::notify(self.webhook.as_ref(), &task, log).await;
        }
        let mut parameters = payload.parameters;
        if let Err(blocked) = self.approved(&parameters).await {
            return StepOutcome::failed(blocked);
        }
        // The tenant as Graph is addressed (the customer id), whatever the task shows.
        parameters.tenant_filter = payload.tenant_id;
        match run_action(&self.graph, &parameters).await {
            Ok(text) => StepOutcome::succeeded(text),
            Err(text) => StepOutcome::failed(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_dates_are_utc_with_a_z() {
        assert_eq!(extension_time(1_767_225_600), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn the_enable_action_follows_what_was_asked_for() {
        assert_eq!(
            JitAction::enable_for(true, true),
            JitAction::AddRolesAndGroups
        );
        assert_eq!(JitAction::enable_for(false, true), JitAction::AddGroups);
        assert_eq!(JitAction::enable_for(true, false), JitAction::AddRoles);
        assert_eq!(JitAction::enable_for(false, false), JitAction::AddRoles);
    }
}
