//! `RemoveScheduledItem` (CIPP-API `Invoke-RemoveScheduledItem.ps1`, newest upstream): removes
//! a job that is not running; a running one is cancelled (its current step finishes, the rest
//! are skipped) and kept, so its step log stays whole.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::operations::list_offboarding_progress::job_visible;

pub struct RemoveScheduledItem;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The task's `RowKey` (the job's id).
    #[serde(rename = "id")]
    pub id: Option<String>,
}

impl Operation for RemoveScheduledItem {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "RemoveScheduledItem";
    const TAG: &'static str = "CIPP > Scheduler";
    const ROLE: Option<&'static str> = Some("CIPP.Scheduler.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the scheduled tasks");
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-RemoveScheduledItem.ps1",
        frontend: Some("src/components/CippComponents/CippScheduledTaskActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A running job is cancelled rather than deleted (its current step finishes, the rest are skipped, and its log is kept); an id that names no task is a 404.",
    );

    fn example() -> Value {
        json!({"id": crate::demo::DEMO_TASK_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let id = params
            .id
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty())
            .ok_or_else(|| UserError::invalid("id", "Task id is required."))?;
        let failed = |e: cipp_jobs::JobError| UserError::internal("Failed to remove task", e);
        let job = ctx
            .env
            .jobs
            .job(&id)
            .await
            .map_err(failed)?
            .ok_or_else(|| UserError::not_found(format!("No scheduled task with id '{id}' exists")))?;
        if !job_visible(&ctx, &job.tenant).await? {
            return Err(UserError::refused(
                "Access to this scheduled task is not allowed",
            ));
        }
        let text = match ctx.env.jobs.remove(&id).await.map_err(failed)? {
            cipp_jobs::Removal::Removed => "Task removed successfully.".to_owned(),
            cipp_jobs::Removal::Cancelled => format!(
                "Task {} is running, so it was cancelled: its current step finishes and the rest are skipped. Its log is kept.",
                job.title
            ),
            cipp_jobs::Removal::NotFound => {
                return Err(UserError::not_found(format!(
                    "No scheduled task with id '{id}' exists"
                )));
            }
        };
        let mut outcome = Outcome::json(TextResults::new(text)).audit_target(job.title.clone());
        if let Some(found) = ctx.env.tenants.find(&job.tenant).await? {
            outcome = outcome.audit_tenant(found.default_domain_name, found.customer_id);
        }
        Ok(outcome)
    }
}
