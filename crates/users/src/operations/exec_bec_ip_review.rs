//! `ExecBECIPReview` (CIPP-API `Invoke-ExecBECIPReview.ps1`, newest upstream): the operator's
//! verdicts for addresses of a finished BEC run, applied by a job that judges every address
//! again and scores the run again (see [`crate::bec::ip_review`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::bec::analyse::{IpOverride, in_range};
use crate::bec::ip_review::{self, KIND, ReviewPayload, STEP_JUDGE, STEP_LOAD, STEP_SAVE, VERDICTS};
use crate::op::types::{ItemState, ResultItem};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use cipp_store::BecCaseStatus;

pub struct ExecBECIPReview;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The finished run to review.
    #[serde(rename = "CaseId")]
    pub case_id: Option<String>,
    /// Verdicts for addresses or CIDR ranges; `Auto` (or none) leaves an address to the analysis.
    #[serde(rename = "Overrides", default)]
    pub overrides: Vec<OverrideInput>,
    /// Other accounts to correlate (not carried out by this service: a 400).
    #[serde(rename = "CorrelateUsers", default)]
    pub correlate_users: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OverrideInput {
    /// An address or a CIDR range.
    #[serde(rename = "IP")]
    pub ip: String,
    /// `Safe`, `Suspicious`, `Compromised` or `Auto`.
    #[serde(rename = "Verdict", default)]
    pub verdict: Option<String>,
    #[serde(rename = "Note", default)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    #[serde(rename = "Results")]
    pub results: Vec<ResultItem>,
    #[serde(rename = "DeploymentId")]
    pub deployment_id: String,
}

impl Operation for ExecBECIPReview {
    type Params = Params;
    type Answer = Answer;
    const NAME: &'static str = "ExecBECIPReview";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("a BEC case's address verdicts");
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecBECIPReview.ps1",
        frontend: Some("src/components/CippComponents/CippBecIPReviewDrawer.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The review judges the run's own evidence again (it does not re-read Microsoft 365), in three steps; `CorrelateUsers` is refused with a 400. `Suspicious` verdicts are kept (upstream's worker drops them). An unknown run is a 404 and a run still going a 409.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "CaseId": crate::demo::BEC_CASE_ID, "Overrides": [{"IP": "203.0.113.0/24", "Verdict": "Compromised", "Note": "Not the user"}]})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Answer>, UserError> {
        let tenant = ctx.tenant()?.default_domain_name.clone();
        let case_id = params
            .case_id
            .ok_or_else(|| UserError::invalid("CaseId", "CaseId is required"))?;
        if !params.correlate_users.is_empty() {
            return Err(UserError::invalid(
                "CorrelateUsers",
                "Correlating other accounts is not carried out by this service",
            ));
        }
        let mut overrides = Vec::new();
        for (i, o) in params.overrides.iter().enumerate() {
            let verdict = o.verdict.clone().unwrap_or_default();
            let known = VERDICTS.iter().find(|v| v.eq_ignore_ascii_case(verdict.trim()));
            if verdict.trim().is_empty() || verdict.trim().eq_ignore_ascii_case("Auto") {
                continue;
            }
            let Some(verdict) = known else {
                return Err(UserError::invalid(
                    format!("Overrides[{i}].Verdict"),
                    format!("Verdict must be Safe, Suspicious, Compromised or Auto, not '{verdict}'"),
                ));
            };
            let range = o.ip.trim().to_owned();
            if !valid_range(&range) {
                return Err(UserError::invalid(
                    format!("Overrides[{i}].IP"),
                    format!("'{range}' is not an IP address or CIDR range"),
                ));
            }
            overrides.push(IpOverride {
                range,
                verdict: (*verdict).to_owned(),
                note: o.note.clone(),
            });
        }
        let case = ctx
            .store
            .bec_get(&case_id)
            .await
            .map_err(|e| UserError::internal("BEC IP review was not queued", e))?
            .filter(|c| c.tenant.eq_ignore_ascii_case(&tenant))
            .ok_or_else(|| UserError::not_found(format!("Case {case_id} was not found in {tenant}")))?;
        if case.status != BecCaseStatus::Completed {
            return Err(UserError::Conflict {
                message: format!("Case {case_id} has not completed yet"),
            });
        }
        if overrides.is_empty() {
            return Err(UserError::invalid(
                "Overrides",
                "Set at least one address to Safe, Suspicious or Compromised before re-running",
            ));
        }
        let before: Vec<IpOverride> = case
            .results
            .as_ref()
            .and_then(|r| r.get("IPOverrides"))
            .and_then(|o| serde_json::from_value(o.clone()).ok())
            .unwrap_or_default();
        if ip_review::signature(&before) == ip_review::signature(&overrides) {
            return Err(UserError::invalid(
                "Overrides",
                "Nothing changed: set at least one address to a different verdict before re-running",
            ));
        }
        let deployment_id = uuid::Uuid::new_v4().to_string();
        let payload = ReviewPayload {
            case_id: case_id.clone(),
            overrides: overrides.clone(),
        };
        let job = cipp_jobs::NewJob {
            id: None,
            deployment_id: deployment_id.clone(),
            kind: KIND.to_owned(),
            tenant: tenant.clone(),
            title: case_id.clone(),
            reference: Some(case_id.clone()),
            created_by: Some(ctx.caller.actor()),
            payload: serde_json::to_value(&payload)
                .map_err(|e| UserError::internal("BEC IP review was not queued", e))?,
            steps: [STEP_LOAD, STEP_JUDGE, STEP_SAVE]
                .iter()
                .map(|name| cipp_jobs::NewStep {
                    name: (*name).to_owned(),
                    idempotent: true,
                })
                .collect(),
            run_at: None,
        };
        ctx.env
            .jobs
            .enqueue(job)
            .await
            .map_err(|e| UserError::internal("BEC IP review was not queued", e))?;
        Ok(Outcome::json(Answer {
            results: vec![ResultItem {
                result_text: format!(
                    "Re-judging the IP addresses of case {case_id} with {} override(s) and 0 correlated account(s). Progress is shown below.",
                    overrides.len()
                ),
                state: ItemState::Info,
                copy_field: None,
            }],
            deployment_id,
        })
        .audit_target(case.user_principal_name))
    }
}

/// An address, or a CIDR block whose prefix fits its family.
fn valid_range(range: &str) -> bool {
    match range.split_once('/') {
        None => range.parse::<std::net::IpAddr>().is_ok(),
        Some((base, _)) => base
            .parse::<std::net::IpAddr>()
            .is_ok_and(|b| in_range(&b.to_string(), range)),
    }
}
