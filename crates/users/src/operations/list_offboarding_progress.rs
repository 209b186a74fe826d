//! `ListOffboardingProgress` (CIPP-API `Invoke-ListOffboardingProgress.ps1`, newest upstream):
//! the live progress of the jobs one ExecOffboardUser call queued, one row per user with the
//! overall status and every step's status and message, as the wizard's progress view polls it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListOffboardingProgress;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The id ExecOffboardUser answered.
    #[serde(rename = "DeploymentId")]
    pub deployment_id: Option<String>,
}

/// One user's job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressRow {
    /// The user principal name.
    #[serde(rename = "Name")]
    pub name: String,
    /// What queued the job: `Offboarding`, `BECRemediation` (ExecBECRemediate) or `BEC` (a BEC
    /// check).
    #[serde(rename = "Source")]
    pub source: String,
    /// `queued`, `running`, `succeeded`, or `failed` (a step failed, or the job was cancelled).
    #[serde(rename = "Status")]
    pub status: String,
    /// The job's id (ListScheduledItems' `RowKey`).
    #[serde(rename = "TaskId")]
    pub task_id: String,
    #[serde(rename = "TenantFilter")]
    pub tenant_filter: String,
    #[serde(rename = "Steps")]
    pub steps: Vec<ProgressStep>,
    /// Why the job failed or stopped, when it did.
    #[serde(rename = "Logs")]
    pub logs: String,
    /// When anything about the job last changed (RFC 3339).
    #[serde(rename = "LastUpdate")]
    pub last_update: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressStep {
    #[serde(rename = "Title")]
    pub title: String,
    /// `pending`, `running`, `succeeded` or `failed` (CIPP's four).
    #[serde(rename = "Status")]
    pub status: String,
    /// The exact state: also `skipped` (cancelled) or `unknown` (interrupted mid-call, not repeated).
    #[serde(rename = "State")]
    pub state: String,
    #[serde(rename = "Message")]
    pub message: String,
    /// `notify` for a notification step, else empty.
    #[serde(rename = "Kind")]
    pub kind: String,
}

impl Operation for ListOffboardingProgress {
    type Params = Params;
    type Answer = Vec<ProgressRow>;
    const NAME: &'static str = "ListOffboardingProgress";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListOffboardingProgress.ps1",
        frontend: Some("src/components/CippComponents/CippJobProgress.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A queued (scheduled) job already lists its planned steps as pending. Each step also carries `State`, its exact state (`skipped`, `unknown` included).",
    );

    fn example() -> Value {
        json!({"DeploymentId": crate::demo::DEMO_DEPLOYMENT_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<ProgressRow>>, UserError> {
        let deployment = params
            .deployment_id
            .filter(|d| !d.trim().is_empty())
            .ok_or_else(|| UserError::invalid("DeploymentId", "DeploymentId is required"))?;
        let jobs = ctx
            .env
            .jobs
            .by_deployment(deployment.trim())
            .await
            .map_err(|e| UserError::internal("Failed to read the progress", e))?;
        let mut rows = Vec::with_capacity(jobs.len());
        for job in jobs {
            if !job_visible(&ctx, &job.tenant).await? {
                continue;
            }
            let steps = ctx
                .env
                .jobs
                .steps(&job.id)
                .await
                .map_err(|e| UserError::internal("Failed to read the progress", e))?;
            let row = cipp_jobs::progress::progress_row(&job, &steps, source(&job.kind));
            rows.push(
                serde_json::from_value(row)
                    .map_err(|e| UserError::internal("Failed to read the progress", e))?,
            );
        }
        Ok(Outcome::json(rows))
    }
}

/// A job kind's `Source`, as upstream names the feature that queued it.
fn source(kind: &str) -> &'static str {
    match kind {
        crate::bec::containment::KIND | crate::bec::containment_actions::CA_REMOVAL_KIND => {
            crate::bec::containment::SOURCE
        }
        crate::bec::check::KIND => "BEC",
        crate::bec::ip_review::KIND => "BECIPReview",
        _ => "Offboarding",
    }
}

/// Whether the caller may see a job of `tenant` (its default domain): every caller not limited
/// to some tenants, or one whose tenants include it. Fails closed for a tenant the directory
/// no longer lists.
pub async fn job_visible(ctx: &Ctx, tenant: &str) -> Result<bool, UserError> {
    if ctx.caller.sees_every_tenant() {
        return Ok(true);
    }
    Ok(ctx
        .env
        .tenants
        .find(tenant)
        .await?
        .is_some_and(|t| ctx.permits(&t)))
}
