//! Queues one of CIPP's scheduled tasks (a scheduled AddUser/EditUser, a JIT admin grant or
//! expiry, a vacation membership change) as a job: its one step, then the webhook notice when
//! `postExecution` asked for it.

use cipp_jobs::{NewJob, NewStep};
use serde_json::Value;

use crate::UserError;
use crate::op::Ctx;
use crate::task_notify;
use crate::tenants::Tenant;

/// A task to queue.
pub struct ScheduledTask {
    /// The job kind that runs it.
    pub kind: &'static str,
    /// Its name, as ListScheduledItems shows it.
    pub title: String,
    pub reference: Option<String>,
    pub payload: Value,
    /// The task's own step.
    pub step: NewStep,
    pub at: time::OffsetDateTime,
    /// Whether the task ends with the webhook notice.
    pub webhook: bool,
}

/// Queues `task` for `tenant`, created by the caller; returns the job's id.
pub async fn enqueue(ctx: &Ctx, tenant: &Tenant, task: ScheduledTask) -> Result<String, UserError> {
    ctx.env
        .jobs
        .enqueue(NewJob {
            id: None,
            deployment_id: uuid::Uuid::new_v4().to_string(),
            kind: task.kind.to_owned(),
            tenant: tenant.default_domain_name.clone(),
            title: task.title,
            reference: task.reference,
            created_by: Some(ctx.caller.actor()),
            payload: task.payload,
            steps: std::iter::once(task.step)
                .chain(task.webhook.then(task_notify::notify_step))
                .collect(),
            run_at: Some(task.at),
        })
        .await
        .map_err(|e| UserError::internal("Failed to create scheduled task", e))
}

/// A task's payload as JSON, or CIPP's failure to create the task.
pub fn payload(value: &impl serde::Serialize) -> Result<Value, UserError> {
    serde_json::to_value(value)
        .map_err(|e| UserError::internal("Failed to create scheduled task", e))
}
