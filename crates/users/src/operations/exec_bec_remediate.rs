//! `ExecBECRemediate` (CIPP-API `Invoke-ExecBECRemediate.ps1`, newest upstream): contains a
//! compromised account with the chosen actions of the catalogue (ListBECRemediationActions), run
//! as one job whose steps are the actions, in the catalogue's order.
//!
//! Two callers, told apart by whether the body has an `Actions` key at all:
//! - the newest frontend sends `Actions` (empty: the default set), `Confirmation` (the UPN, when
//!   a Critical action is chosen), `Parameters`, `CaseId` and `Async`;
//! - CIPP's frontend up to 10.9 (`CippRemediationCard`) sends only `tenantFilter`, `userId` and
//!   `username`. This service then runs upstream's legacy six steps (ResetPassword,
//!   DisableAccount, RevokeSessions, RemoveMFA, DisableInboxRules, DisableOneDriveSharing)
//!   without the typed confirmation, because that page asks for its own.
//!
//! Unless `Async`, the request waits for the job (at most [`WAIT`]) and answers every row; the
//! new password is shown once, in that answer only.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::bec::containment::{
    self, ContainmentPayload, ContainmentRow, ContainmentTargets, KIND, RowState,
};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{UserError, path_segment};

pub struct ExecBECRemediate;

/// How long a request waits for its job before answering what is known.
const WAIT: Duration = Duration::from_secs(8);
const POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The tenant (its default domain, initial domain or id).
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
    /// The user's object id; its user principal name is looked up when `username` is absent.
    #[serde(rename = "userid")]
    pub userid: Option<String>,
    /// The user's principal name.
    #[serde(rename = "username")]
    pub username: Option<String>,
    /// Action ids (or `{label, value}` objects); empty means the default set. Without this key
    /// at all the request is CIPP's legacy call (see the operation's description).
    #[serde(rename = "Actions")]
    pub actions: Option<Vec<String>>,
    /// The user's principal name, typed to confirm Critical actions.
    #[serde(rename = "Confirmation")]
    pub confirmation: Option<String>,
    /// The BEC check run (case) the containment is recorded on and takes flagged targets from.
    #[serde(rename = "CaseId")]
    pub case_id: Option<String>,
    /// Per-action targets.
    #[serde(rename = "Parameters")]
    pub parameters: Option<ContainmentTargets>,
    /// Queue the job and answer at once; progress is read by `DeploymentId`.
    #[serde(rename = "Async", default)]
    pub run_async: bool,
}

/// `{Results: [rows], DeploymentId}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    #[serde(rename = "Results")]
    pub results: Vec<ContainmentRow>,
    /// The job's progress id (ListOffboardingProgress); null when nothing was queued.
    #[serde(rename = "DeploymentId")]
    pub deployment_id: Option<String>,
}

impl Operation for ExecBECRemediate {
    type Params = Params;
    type Answer = Answer;
    const NAME: &'static str = "ExecBECRemediate";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecBECRemediate.ps1",
        frontend: Some("src/components/CippComponents/CippRemediationCard.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Bad input is a 400 naming the field, with upstream's texts (upstream: 500): an unknown action id, an unknown protocol, `Parameters.CAPolicy.ExpiresHours` outside 1-168, an unknown `Parameters.CAPolicy.State` or `Controls`, or a `Parameters.BlockSenders` entry that is not a plain address. BlockSenders blocks only the senders given in `Parameters.BlockSenders`: the received-mail findings upstream takes by default are not collected, so without any it blocks nothing (an info row). RemoveSharingLinks looks at the files in the top folder of the user's OneDrive only. TargetedCAPolicy's removal is a job of its own (kind `bec-ca-policy-removal`, its `DeploymentId` the task id named in the row), due when the policy expires; a policy already gone then counts as removed. A request without an `Actions` key (CIPP's frontend up to 10.9) runs upstream's legacy six steps (ResetPassword, DisableAccount, RevokeSessions, RemoveMFA, DisableInboxRules, DisableOneDriveSharing) without the typed confirmation (that page confirms itself) and answers `{resultText, state}` rows. Every run is a durable job (progress by `DeploymentId`, Source `BECRemediation`); a request that is not `Async` waits for it up to 8 s (an HTTP client gives up at about 10), then answers the rows so far and a row saying the job continues. The new password is in that answer only: never in the job database, the case, the logs or an `Async` run's progress (there it reads `[redacted]`); no PwPush link is made. With several replicas the password is shown only when the request's own replica ran the step.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userid": crate::demo::OTHER_USER_ID,
            "username": crate::demo::OTHER_USER,
            "Actions": ["RevokeSessions", "DisableAccount"],
            "Confirmation": crate::demo::OTHER_USER,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Answer>, UserError> {
        let tenant_name = params
            .tenant_filter
            .as_deref()
            .ok_or_else(|| UserError::invalid("tenantFilter", "tenantFilter is required"))?;
        let tenant = ctx.tenant_named("tenantFilter", tenant_name).await?;
        let upn = match (&params.username, &params.userid) {
            (Some(upn), _) => upn.clone(),
            (None, None) => {
                return Err(UserError::invalid(
                    "username",
                    "username or userid is required",
                ));
            }
            (None, Some(id)) => principal_name(&ctx, &tenant.customer_id, id).await?,
        };
        let legacy = params.actions.is_none();
        let selected = match &params.actions {
            None => containment::LEGACY
                .iter()
                .filter_map(|id| containment::find(id))
                .collect(),
            Some(ids) => containment::select(ids).map_err(|e| UserError::invalid("Actions", e.to_string()))?,
        };
        if !legacy {
            containment::check_confirmation(&selected, &upn, params.confirmation.as_deref())
                .map_err(|e| UserError::invalid("Confirmation", e.to_string()))?;
        }
        let targets = params.parameters.clone().unwrap_or_default();
        containment::check_parameters(&targets)
            .map_err(|bad| UserError::invalid(bad.field, bad.message))?;
        let ids: Vec<String> = selected.iter().map(|a| a.id.to_owned()).collect();
        let payload = ContainmentPayload {
            upn: upn.clone(),
            user_id: params.userid.clone(),
            tenant_id: tenant.customer_id.clone(),
            case_id: params.case_id.clone().filter(|c| !c.trim().is_empty()),
            actions: ids.clone(),
            targets,
            requested_by: ctx.caller.actor(),
        };
        let job_id = uuid::Uuid::new_v4().to_string();
        let deployment_id = uuid::Uuid::new_v4().to_string();
        let job = cipp_jobs::NewJob {
            id: Some(job_id.clone()),
            deployment_id: deployment_id.clone(),
            kind: KIND.to_owned(),
            tenant: tenant.default_domain_name.clone(),
            title: upn.clone(),
            reference: payload.case_id.clone(),
            created_by: Some(ctx.caller.actor()),
            payload: serde_json::to_value(&payload)
                .map_err(|e| UserError::internal("Failed to queue the containment", e))?,
            steps: selected
                .iter()
                .map(|a| cipp_jobs::NewStep {
                    name: a.label.to_owned(),
                    // A second reset makes a password nobody was shown.
                    idempotent: a.id != "ResetPassword",
                })
                .collect(),
            run_at: None,
        };
        // Watched before it is queued, so no step can run before the password is kept for us.
        // A dry run queues nothing, so there is no job to wait for.
        let watch = (!params.run_async && ctx.dry_run.is_none())
            .then(|| ctx.env.bec_containment.watch(&job_id));
        ctx.env
            .jobs
            .enqueue(job)
            .await
            .map_err(|e| UserError::internal("Failed to queue the containment", e))?;
        let audit = format!(
            "BEC containment for {upn} ({}){}",
            ids.join(", "),
            payload
                .case_id
                .as_deref()
                .map(|c| format!(" [case {c}]"))
                .unwrap_or_default()
        );
        let results = match watch {
            None => vec![ContainmentRow {
                result_text: format!(
                    "Queued {} containment action(s) for {upn}. Progress is shown below and on the scheduled task.",
                    ids.len()
                ),
                state: RowState::Info,
                action: None,
                target: None,
                copy_field: None,
            }],
            Some(watch) => {
                let finished = wait(&ctx, &job_id).await?;
                let steps = ctx
                    .env
                    .jobs
                    .steps(&job_id)
                    .await
                    .map_err(|e| UserError::internal("Failed to read the containment", e))?;
                let mut rows: Vec<ContainmentRow> =
                    containment::lines_of(&steps, &watch.recorded())
                        .iter()
                        .map(|l| l.row(&upn, true))
                        .collect();
                if !finished {
                    rows.push(ContainmentRow {
                        result_text: format!(
                            "Containment for {upn} is still running; follow it by DeploymentId {deployment_id}."
                        ),
                        state: RowState::Info,
                        action: None,
                        target: None,
                        copy_field: None,
                    });
                }
                if legacy {
                    for row in &mut rows {
                        row.action = None;
                        row.target = None;
                    }
                }
                rows
            }
        };
        // The answer may hold the password: the audit row gets the request's summary instead.
        Ok(Outcome::json(Answer {
            results,
            deployment_id: Some(deployment_id),
        })
        .audit_message(audit)
        .audit_tenant(tenant.default_domain_name, tenant.customer_id)
        .audit_target(upn))
    }
}

/// The user principal name of an object id (upstream's `users/{id}?$select=userPrincipalName`).
async fn principal_name(ctx: &Ctx, tenant: &str, id: &str) -> Result<String, UserError> {
    let user = ctx
        .graph
        .get(
            tenant,
            cipp_graph::GraphVersion::V1,
            &format!("users/{}?$select=userPrincipalName", path_segment(id)),
            &[],
        )
        .await
        .map_err(|error| UserError::Failed {
            message: format!(
                "Could not find the user {id}: {}",
                crate::normalize::normalize_graph_error(&error)
            ),
            source: Some(Box::new(error)),
        })?;
    user.get("userPrincipalName")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| UserError::not_found(format!("Could not find the user {id}")))
}

/// Waits until the job has finished (true) or [`WAIT`] has passed (false).
async fn wait(ctx: &Ctx, job_id: &str) -> Result<bool, UserError> {
    let started = tokio::time::Instant::now();
    loop {
        let job = ctx
            .env
            .jobs
            .job(job_id)
            .await
            .map_err(|e| UserError::internal("Failed to read the containment", e))?;
        if job.is_some_and(|j| {
            matches!(
                j.state,
                cipp_jobs::JobState::Completed | cipp_jobs::JobState::Cancelled
            )
        }) {
            return Ok(true);
        }
        if started.elapsed() >= WAIT {
            return Ok(false);
        }
        tokio::time::sleep(POLL).await;
    }
}
