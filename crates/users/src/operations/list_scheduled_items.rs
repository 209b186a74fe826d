//! `ListScheduledItems` (CIPP-API `Invoke-ListScheduledItems.ps1`, newest upstream): the jobs
//! of the job engine as CIPP's scheduler lists its tasks, newest first, narrowed to the caller's
//! tenants.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::offboarding::{COMMAND, KIND};
use crate::{jit_admin, scheduled_user, vacation_groups};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::operations::list_offboarding_progress::job_visible;

pub struct ListScheduledItems;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// One task by its `RowKey`; the filters below are then ignored (the tenant rule is not).
    #[serde(rename = "Id")]
    pub id: Option<String>,
    /// `true` lists hidden tasks only; this service has none, so the list is empty.
    #[serde(rename = "ShowHidden", default)]
    pub show_hidden: bool,
    /// The task's exact name, e.g. `Offboarding: pat@contoso.com`.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// The command: `Invoke-CIPPOffboardingJob`, `New-CIPPUserTask` (scheduled AddUser),
    /// `Set-CIPPUser` (scheduled EditUser), `Set-CIPPUserJITAdmin` (ExecJITAdmin's tasks) or
    /// `Set-CIPPVacationGroupMembership` (group membership vacation mode).
    #[serde(rename = "Type")]
    pub command: Option<String>,
    /// A pattern on the name, `*` matching anything (`*Offboarding*`).
    #[serde(rename = "SearchTitle")]
    pub search_title: Option<String>,
    /// Text the reference contains (any case).
    #[serde(rename = "Reference")]
    pub reference: Option<String>,
    /// States, comma-separated: `Planned`, `Running`, `Completed`, `Failed`, `Cancelled`.
    #[serde(rename = "TaskState")]
    pub task_state: Option<String>,
    /// One tenant's tasks; absent or `AllTenants`: every tenant the caller may see.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
}

/// A task's tenant as the scheduler page shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskTenant {
    pub label: String,
    pub value: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// One task.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduledItem {
    #[serde(rename = "PartitionKey")]
    pub partition_key: String,
    /// The job's id.
    #[serde(rename = "RowKey")]
    pub row_key: String,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Command")]
    pub command: String,
    /// `Username`, `APIName`, `RunScheduled`, `DeploymentId` and the request's `options`.
    #[serde(rename = "Parameters")]
    pub parameters: Value,
    /// When the task runs or ran (RFC 3339).
    #[serde(rename = "ScheduledTime")]
    pub scheduled_time: String,
    /// When the task last ran or finished (RFC 3339); absent until it starts.
    #[serde(rename = "ExecutedTime", skip_serializing_if = "Option::is_none")]
    pub executed_time: Option<String>,
    /// `Once`: every task here runs once.
    #[serde(rename = "Recurrence")]
    pub recurrence: String,
    /// `Planned`, `Running`, `Completed`, `Failed` (a step failed) or `Cancelled`.
    #[serde(rename = "TaskState")]
    pub task_state: String,
    /// The finished steps' lines as CIPP stores them: a JSON text of `[{"Results": line}]`.
    #[serde(rename = "Results")]
    pub results: String,
    #[serde(rename = "Tenant")]
    pub tenant: TaskTenant,
    /// `Webhook` when a webhook is sent at the end, else empty.
    #[serde(rename = "PostExecution")]
    pub post_execution: String,
    #[serde(rename = "Reference")]
    pub reference: String,
    #[serde(rename = "Hidden")]
    pub hidden: bool,
}

impl Operation for ListScheduledItems {
    type Params = Params;
    type Answer = Vec<ScheduledItem>;
    const NAME: &'static str = "ListScheduledItems";
    const TAG: &'static str = "CIPP > Scheduler";
    const ROLE: Option<&'static str> = Some("CIPP.Scheduler.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListScheduledItems.ps1",
        frontend: Some("src/pages/identity/administration/offboarding-wizard/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The tasks are this service's jobs (offboarding, ExecJITAdmin's enable and expire tasks, group membership vacation mode, scheduled AddUser and EditUser, whose `Parameters.UserObj` shows no secret); a job whose steps failed is `Failed`, not `Completed`, and a cancelled one `Cancelled`. Nothing here is hidden or recurring.",
    );

    fn example() -> Value {
        json!({"Type": COMMAND, "tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<ScheduledItem>>, UserError> {
        if params.show_hidden {
            return Ok(Outcome::json(Vec::new()));
        }
        let tenant = match params.tenant_filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.eq_ignore_ascii_case("AllTenants") => None,
            Some(t) => Some(ctx.tenant_named("tenantFilter", t).await?),
        };
        let states: Vec<String> = params
            .task_state
            .as_deref()
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_ascii_lowercase())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let jobs = ctx
            .env
            .jobs
            .all()
            .await
            .map_err(|e| UserError::internal("Failed to list the scheduled items", e))?;
        let mut items = Vec::new();
        for job in jobs {
            if job.kind != KIND
                && job.kind != scheduled_user::KIND
                && job.kind != jit_admin::KIND
                && job.kind != vacation_groups::KIND
            {
                continue;
            }
            if let Some(t) = &tenant
                && !job.tenant.eq_ignore_ascii_case(&t.default_domain_name)
            {
                continue;
            }
            if !job_visible(&ctx, &job.tenant).await? {
                continue;
            }
            let (name, command) = name_and_command(&job);
            if let Some(id) = &params.id {
                if !job.id.eq_ignore_ascii_case(id.trim()) {
                    continue;
                }
            } else {
                let keep = params.name.as_deref().is_none_or(|n| n == name)
                    && params
                        .command
                        .as_deref()
                        .is_none_or(|c| c.eq_ignore_ascii_case(&command))
                    && params
                        .search_title
                        .as_deref()
                        .is_none_or(|p| wildcard(p, &name))
                    && params.reference.as_deref().is_none_or(|r| {
                        job.reference
                            .as_deref()
                            .is_some_and(|j| j.to_lowercase().contains(&r.to_lowercase()))
                    });
                if !keep {
                    continue;
                }
            }
            let steps = ctx
                .env
                .jobs
                .steps(&job.id)
                .await
                .map_err(|e| UserError::internal("Failed to list the scheduled items", e))?;
            let item = item(&job, &steps, name, command);
            if !states.is_empty() && !states.contains(&item.task_state.to_ascii_lowercase()) {
                continue;
            }
            items.push(item);
        }
        Ok(Outcome::json(items))
    }
}

/// The task's name and command as CIPP shows them.
fn name_and_command(job: &cipp_jobs::JobRow) -> (String, String) {
    if job.kind == KIND {
        return (format!("Offboarding: {}", job.title), COMMAND.to_owned());
    }
    let command = job
        .payload
        .get("Command")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    (job.title.clone(), command)
}

fn item(
    job: &cipp_jobs::JobRow,
    steps: &[cipp_jobs::StepRow],
    name: String,
    command: String,
) -> ScheduledItem {
    use cipp_jobs::JobState;
    let task_state = match job.state {
        JobState::Queued => "Planned",
        JobState::Running => "Running",
        JobState::Completed if job.failed_steps == 0 => "Completed",
        JobState::Completed => "Failed",
        JobState::Cancelled => "Cancelled",
    };
    let lines: Vec<Value> = steps
        .iter()
        .filter_map(|s| s.message.as_deref())
        .flat_map(str::lines)
        .map(|line| json!({"Results": line}))
        .collect();
    let results = match job.state {
        JobState::Queued => "Planned".to_owned(),
        JobState::Running => "Orchestration in progress".to_owned(),
        _ => Value::Array(lines).to_string(),
    };
    let webhook = steps
        .iter()
        .any(|s| crate::task_notify::is_notification(&s.name));
    ScheduledItem {
        partition_key: "ScheduledTask".to_owned(),
        row_key: job.id.clone(),
        name,
        parameters: if job.kind == KIND {
            json!({
                "Username": job.title,
                "APIName": "Scheduled Offboarding",
                "RunScheduled": true,
                "DeploymentId": job.deployment_id,
                "options": job.payload.get("options").cloned().unwrap_or(Value::Null),
            })
        } else if job.kind == jit_admin::KIND || job.kind == vacation_groups::KIND {
            // CIPP's task parameters (JIT: the user, roles, groups, action and reason;
            // vacation: the users, group, action and membership key).
            job.payload.get("Parameters").cloned().unwrap_or(Value::Null)
        } else {
            // The request as sent, its secrets (a chosen password) not shown.
            json!({"UserObj": scheduled_user::shown(
                job.payload.get("UserObj").unwrap_or(&Value::Null),
            )})
        },
        command,
        scheduled_time: cipp_jobs::progress::rfc3339(job.run_at),
        executed_time: job.finished_at.or(job.started_at).map(cipp_jobs::progress::rfc3339),
        recurrence: "Once".to_owned(),
        task_state: task_state.to_owned(),
        results,
        tenant: TaskTenant {
            label: job.tenant.clone(),
            value: job.tenant.clone(),
            kind: "Tenant".to_owned(),
        },
        post_execution: if webhook { "Webhook".to_owned() } else { String::new() },
        reference: job.reference.clone().unwrap_or_default(),
        hidden: false,
    }
}

/// `*` matches any run of characters, any case (PowerShell's `-like`).
fn wildcard(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let text = text.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_title_matches_like_powershell() {
        assert!(wildcard("*board*", "Offboarding: a@b"));
        assert!(wildcard("Offboarding:*", "Offboarding: a@b"));
        assert!(!wildcard("*vacation*", "Offboarding: a@b"));
        assert!(wildcard("offboarding: a@b", "Offboarding: a@b"));
    }
}
