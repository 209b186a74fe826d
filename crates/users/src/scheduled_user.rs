//! Scheduled AddUser and EditUser (`Scheduled.enabled`): CIPP's `New-CIPPUserTask` and
//! `Set-CIPPUser` tasks, here one-step jobs on the job engine. The request is kept as sent
//! (without `Scheduled`) and read through the operation's own parameter rules when the job runs,
//! so a scheduled call does exactly what the same call would do then.

use std::sync::Arc;

use cipp_graph::GraphClient;
use cipp_jobs::{JobKind, JobRow, NewStep, StepOutcome, StepRow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::UserError;
use crate::op::Ctx;
use crate::op::params::{ParamsSchema, RawParams, deserialize, is_secret_key};
use crate::operations::{add_user, edit_user};
use crate::scheduled_task::{self, ScheduledTask};
use crate::task_notify::{self, TaskNotice, WebhookTarget};
use crate::tenants::Tenant;

/// The job kind's name in the engine.
pub const KIND: &str = "user-task";
/// CIPP's command names, shown by ListScheduledItems.
pub const CREATE_COMMAND: &str = "New-CIPPUserTask";
pub const EDIT_COMMAND: &str = "Set-CIPPUser";
const CREATE_STEP: &str = "Create user";
const EDIT_STEP: &str = "Edit user";

/// What a scheduled user job carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserTaskPayload {
    #[serde(rename = "Command")]
    pub command: String,
    #[serde(rename = "TenantId")]
    pub tenant_id: String,
    /// The request as sent, without `Scheduled` (CIPP's `UserObj`).
    #[serde(rename = "UserObj")]
    pub request: Value,
}

/// Queues `request` (the call's parameters as sent) to run at `at` as `command`, named `name`.
/// A task of the same name still waiting is not queued again (CIPP's DisallowDuplicateName,
/// which CIPP nonetheless answers as a success).
pub async fn schedule(
    ctx: &Ctx,
    tenant: &Tenant,
    command: &str,
    name: String,
    at: time::OffsetDateTime,
    reference: Option<String>,
    webhook: bool,
) -> Result<(), UserError> {
    let failed = |e: cipp_jobs::JobError| UserError::internal("Failed to create scheduled task", e);
    let waiting = ctx.env.jobs.unfinished().await.map_err(failed)?;
    if waiting.iter().any(|j| j.kind == KIND && j.title == name) {
        return Err(UserError::Conflict {
            message: format!(
                "Error - A scheduled task named '{name}' already exists and was not created again."
            ),
        });
    }
    let mut request = ctx.request.clone();
    if let Value::Object(fields) = &mut request {
        fields.retain(|k, _| !k.eq_ignore_ascii_case("Scheduled"));
    }
    let payload = UserTaskPayload {
        command: command.to_owned(),
        tenant_id: tenant.customer_id.clone(),
        request,
    };
    let step = if command == CREATE_COMMAND {
        CREATE_STEP
    } else {
        EDIT_STEP
    };
    scheduled_task::enqueue(
        ctx,
        tenant,
        ScheduledTask {
            kind: KIND,
            title: name,
            reference,
            payload: scheduled_task::payload(&payload)?,
            // Neither may run twice: a second create fails on the taken name, a second edit
            // sets a new password or adds groups again.
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

/// A request with every secret-named value replaced, for lists that show it.
pub fn shown(request: &Value) -> Value {
    match request {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) {
                        Value::String("[redacted]".to_owned())
                    } else {
                        shown(v)
                    };
                    (k.clone(), v)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shown).collect()),
        other => other.clone(),
    }
}

/// Runs scheduled creates and edits with the same domain functions as AddUser and EditUser.
pub struct UserTaskJob {
    pub graph: GraphClient,
    pub store: cipp_store::Store,
    /// Where `PostExecution` webhooks go.
    pub webhook: Option<WebhookTarget>,
}

impl UserTaskJob {
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

    async fn create(&self, tenant: &str, request: Value) -> Result<StepOutcome, UserError> {
        let params: add_user::Params = read(request)?;
        let new = add_user::NewUser::from_params(params)?;
        let settings = crate::password::stored_settings(&self.store).await;
        let usage = add_user::default_usage_location(&self.store).await;
        let done = add_user::add_user(
            &self.graph,
            tenant,
            new,
            || crate::password::generate_password(&settings),
            &usage,
        )
        .await?;
        // The generated password is not recorded: the step log and the task list would hold it.
        let mut lines = vec![
            "Created New User.".to_owned(),
            format!("Username: {}", done.upn),
            "The password is not recorded here: reset it (ExecResetPass) to hand one over."
                .to_owned(),
        ];
        lines.extend(done.messages);
        Ok(match done.failed_after_create {
            Some(failure) => {
                lines.push(failure);
                StepOutcome::failed(lines.join("\n"))
            }
            None => StepOutcome::succeeded(lines.join("\n")),
        })
    }

    async fn edit(&self, tenant: &str, request: Value) -> Result<StepOutcome, UserError> {
        let params: edit_user::Params = read(request)?;
        let edit = edit_user::EditUserRequest::from_params(params)?;
        let outcome = edit_user::edit_user(&self.graph, tenant, &edit).await?;
        let text = outcome.log_lines.join("\n");
        Ok(if outcome.failed {
            StepOutcome::failed(text)
        } else {
            StepOutcome::succeeded(text)
        })
    }
}

/// The stored request read by the operation's parameter rules, as a live call would be.
pub(crate) fn read<P: serde::de::DeserializeOwned + utoipa::ToSchema>(
    request: Value,
) -> Result<P, UserError> {
    deserialize(ParamsSchema::of::<P>().prepare(&RawParams::from_value(request)))
}

#[async_trait::async_trait]
impl JobKind for UserTaskJob {
    async fn run_step(&self, job: &JobRow, step: &StepRow, log: &[StepRow]) -> StepOutcome {
        let payload: UserTaskPayload = match serde_json::from_value(job.payload.clone()) {
            Ok(payload) => payload,
            Err(error) => {
                return StepOutcome::failed(format!("The job's data is unreadable: {error}"));
            }
        };
        if task_notify::is_notification(&step.name) {
            let task = TaskNotice {
                job,
                name: &job.title,
                command: &payload.command,
                tenant_id: &payload.tenant_id,
            };
            return task_notify::notify(self.webhook.as_ref(), &task, log).await;
        }
        let ran = match step.name.as_str() {
            CREATE_STEP => self.create(&payload.tenant_id, payload.request).await,
            EDIT_STEP => self.edit(&payload.tenant_id, payload.request).await,
            other => return StepOutcome::failed(format!("Unknown step '{other}'")),
        };
        ran.unwrap_or_else(|error| StepOutcome::failed(error.to_string()))
    }
}
