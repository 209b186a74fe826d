//! `ExecBECCheck` (CIPP-API `Invoke-ExecBECCheck.ps1`): the compromised-account check, in both
//! of upstream's contracts.
//!
//! - **Legacy** (frontends up to 10.9, `users/user/bec.jsx`): `GET ?userId&username[&Overwrite]`
//!   answers `{GUID: <userId>}` (starting a run when the user has none waiting or finished, or
//!   when `Overwrite=true`), then `GET ?GUID=<userId>` answers `{Waiting: true}` until the
//!   user's newest run is done, then its report.
//! - **Case workflow** (newest): `POST {userid, userName}` always starts a run and answers
//!   `{GUID: <CaseId>, CaseId, Status: "Waiting"}`; `GET ?GUID=<CaseId>` (or `caseId`) answers
//!   the run's state with `Waiting: true` and its progress while it runs, the report with
//!   `Run` once completed, and `{Waiting: false, Error}` when it failed.
//!
//! The run is a job of the job engine whose `DeploymentId` is the case id
//! (ListOffboardingProgress shows it); see [`crate::bec`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::bec::check::{self, is_case_id};
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use cipp_store::{BecCase, BecCaseStatus};

pub struct ExecBECCheck;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user's object id (the legacy protocol's key; with a POST, starts a run).
    #[serde(rename = "userid")]
    pub user_id: Option<String>,
    /// What to read: a case id (`BEC-…`), or in the legacy protocol the user's object id.
    #[serde(rename = "GUID")]
    pub guid: Option<String>,
    /// The case to read (as `GUID`).
    #[serde(rename = "caseId")]
    pub case_id: Option<String>,
    /// The user's UPN (optional: read from Graph).
    #[serde(rename = "userName")]
    pub user_name: Option<String>,
    /// `true` starts a new run even when the user has a finished one (legacy protocol).
    #[serde(rename = "overwrite", default)]
    pub overwrite: bool,
}

/// A started or found run: `{GUID, CaseId, Status}`; a poll that is still running:
/// `{Waiting: true, …progress}`; a finished run: the report (see [`crate::bec`]).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Answer {
    Started(Started),
    /// The report, or the run's state while it runs or after it failed.
    Run(GraphRow),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Started {
    #[serde(rename = "GUID")]
    pub guid: String,
    #[serde(rename = "CaseId")]
    pub case_id: String,
    /// `Waiting`, `Completed` or `Error`.
    #[serde(rename = "Status")]
    pub status: String,
}

impl Operation for ExecBECCheck {
    type Params = Params;
    type Answer = Answer;
    const NAME: &'static str = "ExecBECCheck";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecBECCheck.ps1",
        frontend: Some("src/pages/identity/administration/users/user/bec.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Serves both contracts (see the tag's notes): a GET with `userid` keeps the legacy protocol (`GUID` = the user id), a POST with `userid` starts a case (`GUID` = the case id). The collectors run at once and each reports complete, capped, skipped or error in `Completeness`, so a failed search never hides the others. A missing `tenantFilter` or user is a 400 and an unknown user a 404 (CIPP leaves such a run waiting forever). Addresses get their country from the sign-in log, not an outside geolocation service. Only the signals of the collectors this service runs are scored.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userid": crate::demo::USER_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Answer>, UserError> {
        let tenant = ctx.tenant()?.clone();
        let read = params.guid.clone().or_else(|| params.case_id.clone());
        // A POST with a user starts a case; so does the legacy first call when it must.
        if let (Some(user), None) = (params.user_id.as_deref(), read.as_deref()) {
            if ctx.posted {
                let case = check::start(
                    &ctx.graph,
                    &ctx.store,
                    &ctx.env.jobs,
                    &tenant,
                    user,
                    &ctx.caller.actor(),
                )
                .await?;
                return Ok(started(&case.case_id, &case)
                    .audit_target(case.user_principal_name.clone()));
            }
            return legacy_start(&ctx, &tenant, user, params.overwrite).await;
        }
        let Some(key) = read else {
            return Err(UserError::invalid(
                "userid",
                "userid is required (or GUID to read a run)",
            ));
        };
        if is_case_id(&key) {
            let case = ctx
                .store
                .bec_get(&key)
                .await
                .map_err(|e| UserError::internal("BEC check request failed", e))?
                .filter(|c| c.tenant.eq_ignore_ascii_case(&tenant.default_domain_name));
            return match case {
                None => Ok(Outcome::json(Answer::Run(row(json!({
                    "Waiting": false,
                    "Error": format!("BEC run {key} was not found for {}", tenant.default_domain_name),
                }))))),
                Some(case) => Ok(Outcome::json(Answer::Run(row(
                    case_state(&ctx, &case, true).await,
                )))),
            };
        }
        // The legacy poll: the user's newest run.
        let newest = newest_run(&ctx, &tenant.default_domain_name, &key).await?;
        Ok(Outcome::json(Answer::Run(row(match newest {
            None => json!({"Waiting": true}),
            Some(case) => case_state(&ctx, &case, false).await,
        }))))
    }
}

fn row(value: Value) -> GraphRow {
    GraphRow(match value {
        Value::Object(map) => map,
        _ => Map::new(),
    })
}

fn started(guid: &str, case: &BecCase) -> Outcome<Answer> {
    Outcome::json(Answer::Started(Started {
        guid: guid.to_owned(),
        case_id: case.case_id.clone(),
        status: case.status.as_str().to_owned(),
    }))
}

async fn newest_run(ctx: &Ctx, tenant: &str, user_id: &str) -> Result<Option<BecCase>, UserError> {
    let cases = ctx
        .store
        .bec_list(Some(tenant), Some(user_id))
        .await
        .map_err(|e| UserError::internal("BEC check request failed", e))?;
    match cases.into_iter().next() {
        None => Ok(None),
        Some(listed) => ctx
            .store
            .bec_get(&listed.case_id)
            .await
            .map_err(|e| UserError::internal("BEC check request failed", e)),
    }
}

/// The legacy first call: a run starts unless one is waiting, or one finished and no
/// `Overwrite` was asked; the answer is always `{GUID: <userid>}`.
async fn legacy_start(
    ctx: &Ctx,
    tenant: &crate::Tenant,
    user_id: &str,
    overwrite: bool,
) -> Result<Outcome<Answer>, UserError> {
    let newest = newest_run(ctx, &tenant.default_domain_name, user_id).await?;
    let reuse = match &newest {
        Some(c) if c.status == BecCaseStatus::Waiting => true,
        Some(c) if c.status == BecCaseStatus::Completed => !overwrite,
        _ => false,
    };
    let case = match newest {
        Some(case) if reuse => case,
        _ => {
            check::start(
                &ctx.graph,
                &ctx.store,
                &ctx.env.jobs,
                tenant,
                user_id,
                &ctx.caller.actor(),
            )
            .await?
        }
    };
    Ok(started(user_id, &case).audit_target(case.user_principal_name.clone()))
}

/// A run as a poll sees it: the report with `Run` once completed; otherwise its state.
async fn case_state(ctx: &Ctx, case: &BecCase, with_progress: bool) -> Value {
    let run = json!({
        "CaseId": case.case_id,
        "Status": case.status.as_str(),
        "ExtractedAt": json!(check::time_text(case.extracted_at)),
        "RequestedAt": json!(check::time_text(Some(case.requested_at))),
        "RequestedBy": case.requested_by,
        "Containment": case.containment,
    });
    match case.status {
        BecCaseStatus::Completed => {
            let mut report = case
                .results
                .clone()
                .and_then(|r| r.as_object().cloned())
                .unwrap_or_default();
            report.insert("Run".into(), run);
            Value::Object(report)
        }
        BecCaseStatus::Error => {
            let message = case
                .error_message
                .clone()
                .unwrap_or_else(|| "The BEC run failed".to_owned());
            json!({
                "CaseId": case.case_id,
                "Status": "Error",
                "Waiting": false,
                "Error": message,
                "Results": message,
                "ExtractedAt": json!(check::time_text(case.extracted_at)),
                "Run": run,
            })
        }
        BecCaseStatus::Waiting => {
            let mut state = json!({
                "CaseId": case.case_id,
                "Status": "Waiting",
                "RequestedAt": json!(check::time_text(Some(case.requested_at))),
                "RequestedBy": case.requested_by,
                "Containment": case.containment,
                "Waiting": true,
            });
            if with_progress {
                state["Progress"] = progress(ctx, &case.case_id).await;
            }
            state
        }
    }
}

async fn progress(ctx: &Ctx, case_id: &str) -> Value {
    let Ok(jobs) = ctx.env.jobs.by_deployment(case_id).await else {
        return Value::Null;
    };
    let Some(job) = jobs.into_iter().next() else {
        return Value::Null;
    };
    match ctx.env.jobs.steps(&job.id).await {
        Ok(steps) => cipp_jobs::progress::progress_row(&job, &steps, "BEC"),
        Err(_) => Value::Null,
    }
}
