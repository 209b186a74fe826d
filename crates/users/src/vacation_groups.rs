//! Group membership vacation mode: CIPP's `Set-CIPPVacationGroupMembership` tasks, here one-step
//! jobs on the job engine. The add run (at the start date) puts each user that is not already a
//! member into the group and records who it added under the schedule's `MembershipKey`; the
//! remove run (at the end date) takes out only those users and deletes the record, so a
//! membership that existed before the vacation is never touched.

use std::sync::Arc;

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use cipp_jobs::{JobKind, JobRow, NewStep, StepOutcome, StepRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::group_membership::{directory_object, distribution_member};
use crate::normalize::normalize_graph_error;
use crate::op::Ctx;
use crate::scheduled_task::{self, ScheduledTask};
use crate::task_notify::{self, TaskNotice, WebhookTarget};
use crate::tenants::Tenant;
use crate::{UserError, path_segment};

/// The job kind's name in the engine.
pub const KIND: &str = "group-vacation";
/// CIPP's command name, shown by ListScheduledItems.
pub const COMMAND: &str = "Set-CIPPVacationGroupMembership";
const ADD_STEP: &str = "Add group membership";
const REMOVE_STEP: &str = "Remove group membership";

/// Which end of the vacation a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Add,
    Remove,
}

/// The task's parameters, named as CIPP's task stores them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VacationParameters {
    #[serde(rename = "TenantFilter")]
    pub tenant_filter: String,
    /// The users' UPNs (or ids) as the schedule named them.
    #[serde(rename = "Users")]
    pub users: Vec<String>,
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// The form's group kind, used only when neither Graph nor Exchange classifies the group.
    #[serde(rename = "GroupType", default)]
    pub group_type: Option<String>,
    #[serde(rename = "Action")]
    pub action: Action,
    /// Links the add and remove runs of one vacation.
    #[serde(rename = "MembershipKey")]
    pub membership_key: String,
}

/// What a vacation job carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VacationPayload {
    #[serde(rename = "Command")]
    pub command: String,
    #[serde(rename = "TenantId")]
    pub tenant_id: String,
    #[serde(rename = "Parameters")]
    pub parameters: VacationParameters,
}

/// Queues one run (`parameters.action`) named `name` for `at`.
pub async fn schedule(
    ctx: &Ctx,
    tenant: &Tenant,
    name: String,
    at: time::OffsetDateTime,
    parameters: VacationParameters,
    reference: Option<String>,
    webhook: bool,
) -> Result<(), UserError> {
    let step = match parameters.action {
        Action::Add => ADD_STEP,
        Action::Remove => REMOVE_STEP,
    };
    let payload = VacationPayload {
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
            reference,
            payload: scheduled_task::payload(&payload)?,
            // Not run twice: a second add would find its own users as members and record none.
            step: NewStep {
                name: step.to_owned(),
                idempotent: false,
            },
            at,
            webhook,
        },
    )
    .await?;
    Ok(())
}

/// The group as `Get-CIPPGroupType` settles it.
struct GroupInfo {
    name: String,
    exchange: bool,
}

/// A user as `Resolve-CIPPDirectoryId` reads it.
struct Resolved {
    input: String,
    id: Option<String>,
    label: String,
    /// What Exchange's `-Member` gets: mail, else UPN, else the id.
    exchange_identity: String,
}

/// `Get-CIPPGroupType`: Graph's flags, else Exchange's `Get-DistributionGroup`, else the form's
/// kind (Security when it gives none). Lookups that fail are passed over, as CIPP does.
async fn group_info(
    graph: &GraphClient,
    tenant: &str,
    group_id: &str,
    fallback: Option<&str>,
) -> GroupInfo {
    let path = format!(
        "groups/{}?$select=id,displayName,groupTypes,mailEnabled,securityEnabled",
        path_segment(group_id)
    );
    let found = graph
        .get(tenant, GraphVersion::V1, &path, &[])
        .await
        .unwrap_or(Value::Null);
    let mut name = found
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut kind = crate::groups::edit_kind(&found).map(str::to_owned);
    if kind.is_none()
        && let Ok(rows) = graph
            .exchange(
                tenant,
                "Get-DistributionGroup",
                serde_json::json!({"Identity": group_id}),
                None,
            )
            .await
        && let Some(row) = rows.first()
    {
        kind = Some(
            if row.get("RecipientTypeDetails").and_then(Value::as_str)
                == Some("MailUniversalSecurityGroup")
            {
                "Mail-Enabled Security"
            } else {
                "Distribution List"
            }
            .to_owned(),
        );
        if let Some(n) = row.get("DisplayName").and_then(Value::as_str) {
            name = Some(n.to_owned());
        }
    }
    let kind = kind.unwrap_or_else(|| fallback_kind(fallback));
    GroupInfo {
        name: name.unwrap_or_else(|| group_id.to_owned()),
        exchange: crate::groups::exchange_kind(&kind),
    }
}

/// The form's group kind in CIPP's spelling (any case, `Unified` for Microsoft 365).
fn fallback_kind(given: Option<&str>) -> String {
    let given = given.map(str::trim).filter(|g| !g.is_empty());
    let squashed = given.map(|g| g.to_lowercase().replace(char::is_whitespace, ""));
    match squashed.as_deref() {
        Some("microsoft365" | "unified") => "Microsoft 365".to_owned(),
        Some("mail-enabledsecurity") => "Mail-Enabled Security".to_owned(),
        Some("distributionlist") => "Distribution List".to_owned(),
        Some("security") | None => "Security".to_owned(),
        Some(_) => given.unwrap_or("Security").to_owned(),
    }
}

/// `Resolve-CIPPDirectoryId` for users: each distinct, non-blank input read from Graph; one
/// Graph does not return is unresolved (its label is the input).
async fn resolve_users(graph: &GraphClient, tenant: &str, users: &[String]) -> Vec<Resolved> {
    let mut inputs: Vec<String> = Vec::new();
    for user in users.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        if !inputs.iter().any(|i| i == user) {
            inputs.push(user.to_owned());
        }
    }
    let mut resolved = Vec::new();
    for input in inputs {
        let path = format!(
            "users/{}?$select=id,userPrincipalName,displayName,mail,mailNickname",
            path_segment(&input)
        );
        let found = graph
            .get(tenant, GraphVersion::V1, &path, &[])
            .await
            .unwrap_or(Value::Null);
        let text = |field: &str| {
            found
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let id = text("id");
        let label = text("displayName")
            .or_else(|| text("userPrincipalName"))
            .or_else(|| text("mail"))
            .unwrap_or_else(|| input.clone());
        let exchange_identity = text("mail")
            .or_else(|| text("userPrincipalName"))
            .or_else(|| text("mailNickname"))
            .or_else(|| id.clone())
            .unwrap_or_else(|| input.clone());
        resolved.push(Resolved {
            input,
            id,
            label,
            exchange_identity,
        });
    }
    resolved
}

/// One membership write, Exchange for Exchange-owned groups and Graph for the others.
async fn write_member(
    graph: &GraphClient,
    tenant: &str,
    group_id: &str,
    group: &GroupInfo,
    user: &Resolved,
    id: &str,
    add: bool,
) -> Result<(), GraphError> {
    if group.exchange {
        return distribution_member(graph, tenant, add, group_id, &user.exchange_identity).await;
    }
    if add {
        graph
            .post(
                tenant,
                GraphVersion::V1,
                &format!("groups/{}/members/$ref", path_segment(group_id)),
                &directory_object(id),
            )
            .await
            .map(|_| ())
    } else {
        graph
            .delete(
                tenant,
                GraphVersion::V1,
                &format!(
                    "groups/{}/members/{}/$ref",
                    path_segment(group_id),
                    path_segment(id)
                ),
            )
            .await
    }
}

/// `Add-CIPPGroupMember` / `Remove-CIPPGroupMember` for `users`: their summary text, or the
/// failure text when none of them could be changed.
async fn change_members(
    graph: &GraphClient,
    tenant: &str,
    group_id: &str,
    group: &GroupInfo,
    users: &[Resolved],
    add: bool,
) -> Result<String, String> {
    let (verb, done, preposition) = if add {
        ("add", "added", "to")
    } else {
        ("remove", "removed", "from")
    };
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    for user in users {
        let Some(id) = &user.id else {
            failed.push(format!("{} (directory object not found)", user.label));
            continue;
        };
        match write_member(graph, tenant, group_id, group, user, id, add).await {
            Ok(()) => {
                tracing::info!(
                    tenant,
                    "{} member {} {preposition} group {}",
                    if add { "Added" } else { "Removed" },
                    user.label,
                    group.name
                );
                succeeded.push(user.label.clone());
            }
            Err(error) => {
                failed.push(format!(
                    "{} ({})",
                    user.label,
                    normalize_graph_error(&error)
                ));
            }
        }
    }
    let mut messages = Vec::new();
    if !succeeded.is_empty() {
        messages.push(format!(
            "Successfully {done} {} {preposition} group {}.",
            succeeded.join(", "),
            group.name
        ));
    }
    if !failed.is_empty() {
        messages.push(format!("Failed to {verb} {}.", failed.join("; ")));
    }
    let text = messages.join(" ");
    if succeeded.is_empty() && !failed.is_empty() {
        let labels: Vec<&str> = users.iter().map(|u| u.label.as_str()).collect();
        // CIPP's two helpers join their failure texts differently.
        let joiner = if add { " -" } else { ":" };
        return Err(format!(
            "Failed to {verb} {} {preposition} group {}{joiner} {text}",
            labels.join(", "),
            group.name
        ));
    }
    Ok(text)
}

/// Runs one end of the vacation: its result text, and whether it failed as a whole.
pub async fn set_vacation_membership(
    graph: &GraphClient,
    store: &cipp_store::Store,
    tenant_id: &str,
    p: &VacationParameters,
) -> (String, bool) {
    let outcome = match p.action {
        Action::Add => add(graph, store, tenant_id, p).await,
        Action::Remove => remove(graph, store, tenant_id, p).await,
    };
    match outcome {
        Ok(text) => (text, false),
        Err(text) => {
            let action = match p.action {
                Action::Add => "add",
                Action::Remove => "remove",
            };
            let text = format!(
                "Failed to {action} vacation group membership for group {}: {text}",
                p.group_id
            );
            tracing::error!(tenant = %p.tenant_filter, "{text}");
            (text, true)
        }
    }
}

async fn add(
    graph: &GraphClient,
    store: &cipp_store::Store,
    tenant_id: &str,
    p: &VacationParameters,
) -> Result<String, String> {
    let group = group_info(graph, tenant_id, &p.group_id, p.group_type.as_deref()).await;
    let members = graph
        .get_all(
            tenant_id,
            GraphVersion::V1,
            &format!(
                "groups/{}/members?$select=id&$top=999",
                path_segment(&p.group_id)
            ),
            &[],
        )
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    let member_ids: Vec<&str> = members
        .iter()
        .filter_map(|m| m.get("id").and_then(Value::as_str))
        .collect();
    let users = resolve_users(graph, tenant_id, &p.users).await;
    let mut added = Vec::new();
    let mut messages = Vec::new();
    for user in users {
        if user
            .id
            .as_deref()
            .is_some_and(|id| member_ids.iter().any(|m| m.eq_ignore_ascii_case(id)))
        {
            messages.push(format!(
                "{} was already a member and will be left in the group.",
                user.input
            ));
            continue;
        }
        // One at a time, so only users that actually landed are recorded for removal.
        let input = user.input.clone();
        match change_members(graph, tenant_id, &p.group_id, &group, &[user], true).await {
            Ok(_) => added.push(input),
            Err(text) => messages.push(format!("Failed to add {input}: {text}")),
        }
    }
    let record = cipp_store::VacationMembers {
        group_id: p.group_id.clone(),
        users: added.clone(),
    };
    store
        .vacation_members_put(&p.tenant_filter, &p.membership_key, &record)
        .await
        .map_err(|e| e.to_string())?;
    let text = format!(
        "Added {} user(s) to group {} for vacation mode. {}",
        added.len(),
        group.name,
        messages.join(" ")
    )
    .trim()
    .to_owned();
    tracing::info!(tenant = %p.tenant_filter, "{text}");
    Ok(text)
}

async fn remove(
    graph: &GraphClient,
    store: &cipp_store::Store,
    tenant_id: &str,
    p: &VacationParameters,
) -> Result<String, String> {
    let record = store
        .vacation_members_get(&p.tenant_filter, &p.membership_key)
        .await
        .map_err(|e| e.to_string())?;
    let Some(record) = record else {
        // Without a record vacation members cannot be told from standing ones: none removed.
        let text = format!(
            "No vacation membership record found for group {}. No members were removed.",
            p.group_id
        );
        tracing::warn!(tenant = %p.tenant_filter, "{text}");
        return Ok(text);
    };
    let text = if record.users.is_empty() {
        format!(
            "No users were added to group {} for vacation mode, so none were removed.",
            p.group_id
        )
    } else {
        let group = group_info(graph, tenant_id, &p.group_id, p.group_type.as_deref()).await;
        let users = resolve_users(graph, tenant_id, &record.users).await;
        change_members(graph, tenant_id, &p.group_id, &group, &users, false).await?
    };
    store
        .vacation_members_delete(&p.tenant_filter, &p.membership_key)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(tenant = %p.tenant_filter, "{text}");
    Ok(text)
}

/// Runs the vacation tasks.
pub struct VacationJob {
    pub graph: GraphClient,
    pub store: cipp_store::Store,
    /// Where `postExecution` webhooks go.
    pub webhook: Option<WebhookTarget>,
}

impl VacationJob {
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
}

#[async_trait::async_trait]
impl JobKind for VacationJob {
    async fn run_step(&self, job: &JobRow, step: &StepRow, log: &[StepRow]) -> StepOutcome {
        let payload: VacationPayload = match serde_json::from_value(job.payload.clone()) {
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
        let (text, failed) = set_vacation_membership(
            &self.graph,
            &self.store,
            &payload.tenant_id,
            &payload.parameters,
        )
        .await;
        if failed {
            StepOutcome::failed(text)
        } else {
            StepOutcome::succeeded(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_group_kind_is_read_as_cipp_reads_it() {
        assert_eq!(
            fallback_kind(Some("Distribution list")),
            "Distribution List"
        );
        assert_eq!(fallback_kind(Some("unified")), "Microsoft 365");
        assert_eq!(fallback_kind(None), "Security");
        assert_eq!(fallback_kind(Some("Odd")), "Odd");
    }
}
