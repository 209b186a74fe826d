//! `ExecOffboardUser` (CIPP-API `Invoke-ExecOffboardUser.ps1`, newest upstream): checks the
//! wizard's request with every problem collected, then queues one durable job per user on the
//! job engine, now or at `Scheduled.date`. Progress is read by `DeploymentId` through
//! ListOffboardingProgress; the jobs are listed by ListScheduledItems.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::error::ErrorKind;
use crate::offboarding::{
    KIND, OffboardAction, OffboardOptions, OffboardPayload, planned_steps,
};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecOffboardUser;

pub type Params = OffboardOptions;

/// `{Results: [one line per user], DeploymentId}`; `DeploymentId` only for jobs that run now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    #[serde(rename = "Results")]
    pub results: Vec<String>,
    #[serde(rename = "DeploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
}

/// A new offboarding's answer, or a re-run's (`{Results: "<text>"}`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Answer {
    Queued(Queued),
    Rerun(crate::op::types::TextResults),
}

impl Operation for ExecOffboardUser {
    type Params = Params;
    type Answer = Answer;
    const NAME: &'static str = "ExecOffboardUser";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecOffboardUser.ps1",
        frontend: Some("src/pages/identity/administration/offboarding-wizard/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Each user's offboarding is a durable job: each step runs at most once across replicas and restarts (a step that may be repeated safely is re-run after a crash, and says so), a failed step never stops the later ones and the job's state counts the failed steps. Licences are removed only after the shared-mailbox conversion is verified. Options this service does not carry out (WipeMobile, RemoveMobile, removeCalendarInvites, OnedriveAccess, DisableOneDriveSharing, removeCalendarPermissions, RemoveTeamsPhoneDID) and `postExecution` email or psa are refused with a 400 naming them, as is a webhook when none is configured. The new password of ResetPass is not recorded. removePermissions reads every mailbox's permissions (two Exchange calls a mailbox) where CIPP reads its cached report. `Action=Rerun|RerunStep` re-queues the finished job itself (the same `TaskId` and `DeploymentId`; CIPP creates a new task for a step), at once whenever asked (CIPP skips a re-run within 15 minutes of the last run), and a job still running is a 409.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": {"label": crate::demo::TENANT, "value": crate::demo::TENANT},
            "user": [{"label": crate::demo::OTHER_USER, "value": crate::demo::OTHER_USER}],
            "RevokeSessions": true,
            "DisableSignIn": true,
            "reference": "T-1001",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Answer>, UserError> {
        if let Some(action) = params.action {
            return rerun(&ctx, &params, action).await;
        }
        let errors = check(&ctx, &params);
        if !errors.is_empty() {
            return Err(UserError::Answered {
                kind: ErrorKind::InvalidInput,
                message: errors.join(" "),
                results: json!(errors),
            });
        }
        let tenant_name = params.tenant_filter.clone().unwrap_or_default();
        let tenant = ctx.tenant_named("tenantFilter", &tenant_name).await?;
        let webhook = params.post_execution.as_ref().is_some_and(|p| p.webhook);
        let run_at = params
            .scheduled
            .as_ref()
            .filter(|s| s.enabled)
            .and_then(|s| s.date)
            .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d).ok());
        let steps = planned_steps(&params, webhook);
        let options = serde_json::to_value(&params)
            .map_err(|e| UserError::internal("Failed to queue the offboarding", e))?;
        let deployment_id = uuid::Uuid::new_v4().to_string();
        let mut results = Vec::with_capacity(params.user.len());
        let mut failed = 0usize;
        for upn in &params.user {
            let payload = OffboardPayload {
                username: upn.clone(),
                tenant_id: tenant.customer_id.clone(),
                options: options.clone(),
                deployment_id: deployment_id.clone(),
            };
            let job = cipp_jobs::NewJob {
                id: None,
                deployment_id: deployment_id.clone(),
                kind: KIND.to_owned(),
                tenant: tenant.default_domain_name.clone(),
                title: upn.clone(),
                reference: params.reference.clone(),
                created_by: Some(ctx.caller.actor()),
                payload: serde_json::to_value(&payload)
                    .map_err(|e| UserError::internal("Failed to queue the offboarding", e))?,
                steps: steps.clone(),
                run_at,
            };
            match ctx.env.jobs.enqueue(job).await {
                Ok(_) => results.push(match run_at {
                    None => format!("Task Offboarding: {upn} scheduled to run now"),
                    Some(at) => format!(
                        "Successfully added task: Offboarding: {upn}. It will run in {}.",
                        relative(at)
                    ),
                }),
                Err(error) => {
                    failed += 1;
                    tracing::error!(%error, "an offboarding job could not be queued");
                    results.push(format!(
                        "Error - Could not add task: Offboarding: {upn}: the job store refused it"
                    ));
                }
            }
        }
        if failed == params.user.len() {
            return Err(UserError::Answered {
                kind: ErrorKind::Internal,
                message: results.join(" "),
                results: json!(results),
            });
        }
        let answer = Answer::Queued(Queued {
            results,
            deployment_id: run_at.is_none().then_some(deployment_id),
        });
        Ok(Outcome::json(answer)
            .partial(failed > 0)
            .audit_tenant(tenant.default_domain_name, tenant.customer_id)
            .audit_target(params.user.join(", ")))
    }
}

/// `Action=Rerun|RerunStep` (upstream's newest ExecOffboardUser): the finished job named by
/// `TaskId`, in the caller's tenant, is queued again, whole or one step; the answer's
/// `Results` is a string, as upstream's.
async fn rerun(
    ctx: &Ctx,
    params: &Params,
    action: OffboardAction,
) -> Result<Outcome<Answer>, UserError> {
    const FAILED: &str = "Failed to queue the re-run";
    let task = params
        .task_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| UserError::invalid("TaskId", format!("{FAILED}: TaskId is required")))?;
    let missing = || {
        UserError::not_found(format!(
            "{FAILED}: No offboarding task with that id exists in this tenant"
        ))
    };
    let job = ctx
        .env
        .jobs
        .job(task)
        .await
        .map_err(|e| UserError::internal(FAILED, e))?
        .filter(|j| j.kind == KIND)
        .ok_or_else(missing)?;
    let tenant = ctx
        .tenant_named(
            "tenantFilter",
            params.tenant_filter.as_deref().unwrap_or_default(),
        )
        .await?;
    if !job.tenant.eq_ignore_ascii_case(&tenant.default_domain_name) {
        return Err(missing());
    }
    let (step, name) = match action {
        OffboardAction::Rerun => (None, format!("Offboarding: {}", job.title)),
        OffboardAction::RerunStep => {
            let index = params.step_index.ok_or_else(|| {
                UserError::invalid("StepIndex", format!("{FAILED}: StepIndex is required"))
            })?;
            let title = params
                .step_title
                .clone()
                .unwrap_or_else(|| format!("step {index}"));
            (
                Some(index),
                format!("Offboarding: {} - re-run {title}", job.title),
            )
        }
    };
    let queued = ctx
        .env
        .jobs
        .rerun(&job.id, step)
        .await
        .map_err(|e| UserError::internal(FAILED, e))?;
    if !queued {
        return Err(UserError::Conflict {
            message: format!(
                "{FAILED}: the task is still queued or running, or has no step {}; wait until it has finished",
                step.map_or_else(String::new, |s| s.to_string())
            ),
        });
    }
    Ok(Outcome::json(Answer::Rerun(crate::op::types::TextResults::new(format!(
        "Task {name} scheduled to run now"
    ))))
    .audit_tenant(tenant.default_domain_name, tenant.customer_id)
    .audit_target(job.title))
}

/// Every problem of the request, in CIPP's texts where CIPP has them.
fn check(ctx: &Ctx, params: &Params) -> Vec<String> {
    let mut errors = Vec::new();
    if params
        .tenant_filter
        .as_deref()
        .is_none_or(|t| t.trim().is_empty())
    {
        errors.push("'tenantFilter' is required and must resolve to a tenant domain (a string, or an object with a non-empty 'value' property).".to_owned());
    }
    if params.user.is_empty() {
        errors.push("'user' is required and must be a non-empty array of users (objects with a 'value' property, or userPrincipalName strings).".to_owned());
    } else {
        let bad: Vec<&str> = params
            .user
            .iter()
            .filter(|u| !u.contains('@'))
            .map(String::as_str)
            .collect();
        if !bad.is_empty() {
            errors.push(format!(
                "These user values do not look like userPrincipalNames (missing '@'): {}.",
                bad.join(", ")
            ));
        }
    }
    if let Some(scheduled) = &params.scheduled
        && scheduled.enabled
        && scheduled.date.is_none_or(|d| d <= 0)
    {
        errors.push(
            "'Scheduled.enabled' is true but 'Scheduled.date' is not a valid Unix timestamp."
                .to_owned(),
        );
    }
    if planned_steps(params, false).is_empty() {
        errors.push("No offboarding actions were selected. Enable at least one action (e.g. RemoveLicenses, DisableSignIn, RevokeSessions) before submitting.".to_owned());
    }
    let post = params.post_execution.clone().unwrap_or_default();
    let asked = crate::task_notify::PostExecutionSwitches {
        webhook: post.webhook,
        email: post.email,
        psa: post.psa,
    };
    errors.extend(crate::task_notify::problems(
        "postExecution",
        &asked,
        ctx.env.webhook_configured,
    ));
    errors
}

/// CIPP's "It will run in …" wording.
fn relative(at: time::OffsetDateTime) -> String {
    let seconds = (at - time::OffsetDateTime::now_utc()).whole_seconds().max(0);
    let (days, hours, minutes) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    if days > 0 {
        if hours > 0 {
            format!("{days} day(s) and {hours} hour(s)")
        } else {
            format!("{days} day(s)")
        }
    } else if hours > 0 {
        if minutes > 0 {
            format!("{hours} hour(s) and {minutes} minute(s)")
        } else {
            format!("{hours} hour(s)")
        }
    } else if minutes > 1 {
        format!("about {minutes} minutes")
    } else if minutes == 1 {
        "about 1 minute".to_owned()
    } else {
        "less than a minute".to_owned()
    }
}
