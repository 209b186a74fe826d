//! The IP review of a finished BEC run (CIPP-API `Invoke-ExecBECIPReview.ps1`,
//! `Invoke-CIPPBecIPReview.ps1`, newest): the operator's verdicts for addresses or ranges are
//! applied, every address is judged again and the run is scored again, as a job whose
//! `DeploymentId` ListOffboardingProgress shows.
//!
//! Where this differs from upstream, on purpose: the review does not read Microsoft 365 again
//! (upstream re-reads mailbox and attacker activity and correlates other accounts); it judges the
//! run's own evidence again, so its steps are the three that apply. `Suspicious` overrides are
//! kept (upstream's worker drops them silently).

use std::sync::Arc;

use cipp_jobs::{JobKind, JobRow, StepOutcome, StepRow};
use cipp_store::{BecCaseStatus, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;

use super::analyse::{self, IpOverride};

pub const KIND: &str = "bec-ip-review";
pub const STEP_LOAD: &str = "Loading the case";
pub const STEP_JUDGE: &str = "Re-judging the IP addresses";
pub const STEP_SAVE: &str = "Scoring and saving";

/// The verdicts an operator may set.
pub const VERDICTS: [&str; 3] = ["Safe", "Suspicious", "Compromised"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReviewPayload {
    pub case_id: String,
    pub overrides: Vec<IpOverride>,
}

/// The signature upstream compares to tell whether anything changed: the sorted
/// `range|Verdict` texts joined with `;`.
pub fn signature(overrides: &[IpOverride]) -> String {
    let mut parts: Vec<String> = overrides
        .iter()
        .map(|o| format!("{}|{}", o.range.to_ascii_lowercase(), o.verdict))
        .collect();
    parts.sort();
    parts.join(";")
}

/// The run's report judged again with `overrides`: new `IPVerdicts`, `IPOverrides` and
/// `Score`. Returns the report, its level and its score.
pub fn rejudge(report: &Value, overrides: &[IpOverride]) -> (Map<String, Value>, String, i64) {
    let mut report = report.as_object().cloned().unwrap_or_default();
    let list = |key: &str| -> Vec<Value> {
        report
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let sign_ins = list("SuspectUserSignIns");
    let (rules, safelists, sharing, sent) = (
        list("InboxRuleChanges"),
        list("SafelistChanges"),
        list("SharingChanges"),
        list("SentMessages"),
    );
    let verdicts =
        analyse::judge_addresses(&sign_ins, &[&rules, &safelists, &sharing, &sent], overrides);
    report.insert("IPVerdicts".into(), json!(verdicts));
    report.insert("IPOverrides".into(), json!(overrides));
    let start = window_start(&report);
    let score = analyse::score(&report, &start);
    let value = score["Value"].as_i64().unwrap_or(0);
    let level = score["Level"].as_str().unwrap_or("Low").to_owned();
    report.insert("Score".into(), score);
    (report, level, value)
}

/// The start of the run's window: `ExtractedAt` less `AnalysisWindowDays`.
fn window_start(report: &Map<String, Value>) -> String {
    let days = report
        .get("AnalysisWindowDays")
        .and_then(Value::as_i64)
        .unwrap_or(super::check::WINDOW_DAYS);
    report
        .get("ExtractedAt")
        .and_then(Value::as_str)
        .and_then(|t| time::OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(|t| t - time::Duration::days(days))
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Carries out IP reviews on the job engine.
pub struct ReviewJob {
    store: Store,
}

impl ReviewJob {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self { store })
    }

    async fn completed_report(&self, case_id: &str) -> Result<Value, String> {
        match self.store.bec_get(case_id).await {
            Ok(Some(case)) if case.status == BecCaseStatus::Completed => case
                .results
                .ok_or_else(|| format!("Case {case_id} has no report")),
            Ok(Some(_)) => Err(format!("Case {case_id} has not completed yet")),
            Ok(None) => Err(format!("Case {case_id} was not found")),
            Err(error) => {
                tracing::error!(%error, "reading a BEC case");
                Err("The case could not be read".to_owned())
            }
        }
    }
}

#[async_trait::async_trait]
impl JobKind for ReviewJob {
    async fn run_step(&self, job: &JobRow, step: &StepRow, _log: &[StepRow]) -> StepOutcome {
        let payload: ReviewPayload = match serde_json::from_value(job.payload.clone()) {
            Ok(p) => p,
            Err(e) => {
                return StepOutcome::failed(format!("The review's request is unreadable: {e}"));
            }
        };
        let report = match self.completed_report(&payload.case_id).await {
            Ok(r) => r,
            Err(e) => return StepOutcome::failed(e),
        };
        match step.name.as_str() {
            STEP_LOAD => StepOutcome::succeeded(format!(
                "{} address(es) in the run",
                report["IPVerdicts"].as_array().map_or(0, Vec::len)
            )),
            STEP_JUDGE => {
                let (judged, _, _) = rejudge(&report, &payload.overrides);
                let changed = judged["IPVerdicts"].as_array().map_or(0, |v| {
                    v.iter().filter(|v| v["Source"] == "Override").count()
                });
                StepOutcome::succeeded(format!(
                    "{changed} address(es) set by {} override(s)",
                    payload.overrides.len()
                ))
            }
            STEP_SAVE => {
                let (judged, level, value) = rejudge(&report, &payload.overrides);
                match self
                    .store
                    .bec_set_results(&payload.case_id, &Value::Object(judged), &level, value)
                    .await
                {
                    Ok(true) => StepOutcome::succeeded(format!("Threat level {level} ({value})")),
                    Ok(false) => StepOutcome::failed("The case was deleted while it was reviewed"),
                    Err(error) => {
                        tracing::error!(%error, "saving a reviewed BEC case");
                        StepOutcome::failed("The case could not be saved")
                    }
                }
            }
            other => StepOutcome::failed(format!("Unknown step '{other}'")),
        }
    }
}
