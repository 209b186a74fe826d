//! One BEC check run: its case row, its job (two steps: every collector at once, then the
//! analysis and score), and starting one, shared by ExecBECCheck and ExecBECBulkCheck.
//!
//! The job's `DeploymentId` is the case id, so ListOffboardingProgress shows a run's progress
//! as upstream's async deployments do. The collected evidence is kept between the two steps in
//! the store's cache (a day), so a replica that takes the job over mid-way scores what the first
//! one collected.

use cipp_graph::{GraphClient, GraphVersion};
use cipp_jobs::{JobKind, JobRow, NewJob, NewStep, StepOutcome, StepRow, StepState};
use cipp_store::{BecCase, BecCaseStatus, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::analyse;
use super::collect::{self, Evidence, Subject};
use crate::normalize::normalize_graph_error;
use crate::{Tenant, UserError, path_segment};

/// The job kind's name in the engine.
pub const KIND: &str = "bec-check";
/// The analysis window, as upstream's default.
pub const WINDOW_DAYS: i64 = 7;
pub const STEP_COLLECT: &str =
    "Sign-ins, audit log, mailbox, message trace, applications and devices (all at once)";
pub const STEP_SCORE: &str = "Location analysis, threat score and report";

/// What the job carries: the case and who it looks at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckPayload {
    pub case_id: String,
    pub subject: Subject,
}

/// A new case id in upstream's form: `BEC-<yyyyMMddHHmmss UTC>-<6 lowercase hex>`.
pub fn new_case_id(now: OffsetDateTime) -> String {
    let stamp = now
        .format(&time::macros::format_description!(
            "[year][month][day][hour][minute][second]"
        ))
        .unwrap_or_default();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("BEC-{stamp}-{}", &random[..6])
}

/// Whether a text is a case id (else ExecBECCheck's `GUID` is a user id, the legacy key).
pub fn is_case_id(text: &str) -> bool {
    text.starts_with("BEC-")
}

/// A stored time as the BEC answers give it (RFC 3339), or none.
pub fn time_text(at: Option<OffsetDateTime>) -> Option<String> {
    at.and_then(|t| t.format(&Rfc3339).ok())
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Starts a run for a user of `tenant`: reads the user (404 when Graph does not know them),
/// writes the case as Waiting and queues its job.
pub async fn start(
    graph: &GraphClient,
    store: &Store,
    jobs: &cipp_jobs::Engine,
    tenant: &Tenant,
    user_id: &str,
    requested_by: &str,
) -> Result<BecCase, UserError> {
    const FAILED: &str = "BEC check request failed";
    let user = graph
        .get(
            &tenant.default_domain_name,
            GraphVersion::V1,
            &format!(
                "users/{}?$select=id,userPrincipalName,displayName,usageLocation",
                path_segment(user_id)
            ),
            &[],
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!("{FAILED}: {}", normalize_graph_error(&e)),
            source: Some(Box::new(e)),
        })?;
    let text = |k: &str| {
        user.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let now = OffsetDateTime::now_utc();
    let case_id = new_case_id(now);
    let subject = Subject {
        tenant: tenant.default_domain_name.clone(),
        tenant_id: tenant.customer_id.clone(),
        user_id: text("id"),
        upn: text("userPrincipalName"),
        display_name: text("displayName"),
        usage_location: Some(text("usageLocation")).filter(|u| !u.is_empty()),
        start: rfc3339(now - time::Duration::days(WINDOW_DAYS)),
        end: rfc3339(now),
    };
    let case = BecCase {
        case_id: case_id.clone(),
        tenant: tenant.default_domain_name.clone(),
        user_id: subject.user_id.clone(),
        user_principal_name: subject.upn.clone(),
        display_name: subject.display_name.clone(),
        status: BecCaseStatus::Waiting,
        level: None,
        score: None,
        incomplete_count: 0,
        requested_at: now,
        requested_by: requested_by.to_owned(),
        extracted_at: None,
        error_message: None,
        results: None,
        containment: Vec::new(),
    };
    store
        .bec_put(&case)
        .await
        .map_err(|e| UserError::internal(FAILED, e))?;
    let payload = CheckPayload {
        case_id: case_id.clone(),
        subject: subject.clone(),
    };
    let job = NewJob {
        id: None,
        deployment_id: case_id.clone(),
        kind: KIND.to_owned(),
        tenant: tenant.default_domain_name.clone(),
        title: subject.upn.clone(),
        reference: Some(case_id.clone()),
        created_by: Some(requested_by.to_owned()),
        payload: serde_json::to_value(&payload).map_err(|e| UserError::internal(FAILED, e))?,
        steps: vec![
            // Both steps only read Microsoft 365 and rewrite their own result: safe to repeat.
            NewStep {
                name: STEP_COLLECT.to_owned(),
                idempotent: true,
            },
            NewStep {
                name: STEP_SCORE.to_owned(),
                idempotent: true,
            },
        ],
        run_at: None,
    };
    if let Err(error) = jobs.enqueue(job).await {
        tracing::error!(%error, case = %case_id, "a BEC check could not be queued");
        let mut failed = case.clone();
        failed.status = BecCaseStatus::Error;
        failed.error_message = Some("The job store refused the run".to_owned());
        let _ = store.bec_put(&failed).await;
        return Err(UserError::internal(FAILED, error));
    }
    tracing::info!(case = %case_id, tenant = %tenant.default_domain_name, "queued a BEC investigation");
    Ok(case)
}

/// Carries out check runs on the job engine.
pub struct CheckJob {
    graph: GraphClient,
    store: Store,
}

impl CheckJob {
    pub fn new(graph: GraphClient, store: Store) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self { graph, store })
    }
}

fn evidence_key(case_id: &str) -> String {
    format!("bec:evidence:{case_id}")
}

#[async_trait::async_trait]
impl JobKind for CheckJob {
    async fn run_step(&self, job: &JobRow, step: &StepRow, _log: &[StepRow]) -> StepOutcome {
        let payload: CheckPayload = match serde_json::from_value(job.payload.clone()) {
            Ok(p) => p,
            Err(e) => return StepOutcome::failed(format!("The run's request is unreadable: {e}")),
        };
        match step.name.as_str() {
            STEP_COLLECT => self.collect(&payload).await,
            STEP_SCORE => self.score(&payload).await,
            other => StepOutcome::failed(format!("Unknown step '{other}'")),
        }
    }

    async fn finished(&self, job: &JobRow, steps: &[StepRow]) {
        let Some(failed) = steps.iter().find(|s| s.state != StepState::Succeeded) else {
            return;
        };
        let Ok(payload) = serde_json::from_value::<CheckPayload>(job.payload.clone()) else {
            return;
        };
        let message = failed
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "The BEC run failed".to_owned());
        match self.store.bec_get(&payload.case_id).await {
            Ok(Some(mut case)) => {
                case.status = BecCaseStatus::Error;
                case.error_message = Some(message.clone());
                case.extracted_at = Some(OffsetDateTime::now_utc());
                case.results = Some(json!({
                    "Results": message,
                    "ExtractedAt": rfc3339(OffsetDateTime::now_utc()),
                }));
                if let Err(error) = self.store.bec_put(&case).await {
                    tracing::error!(%error, case = %payload.case_id, "a failed BEC run could not be recorded");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, case = %payload.case_id, "reading a BEC case"),
        }
        let _ = self.store.kv_delete(&evidence_key(&payload.case_id)).await;
    }
}

impl CheckJob {
    async fn collect(&self, payload: &CheckPayload) -> StepOutcome {
        let ids: Vec<String> = analyse::catalog()
            .iter()
            .map(|a| a.app_id.clone())
            .collect();
        let evidence = collect::collect(&self.graph, &payload.subject, &ids).await;
        let summary = summary(&evidence);
        let Ok(value) = serde_json::to_value(&evidence) else {
            return StepOutcome::failed("The evidence could not be kept");
        };
        let expires = OffsetDateTime::now_utc() + time::Duration::days(1);
        if let Err(error) = self
            .store
            .kv_put(&evidence_key(&payload.case_id), &value, Some(expires))
            .await
        {
            tracing::error!(%error, "keeping BEC evidence");
            return StepOutcome::failed("The evidence could not be kept");
        }
        StepOutcome::succeeded(summary)
    }

    async fn score(&self, payload: &CheckPayload) -> StepOutcome {
        let evidence: Evidence = match self.store.kv_get(&evidence_key(&payload.case_id)).await {
            Ok(Some(v)) => match serde_json::from_value(v) {
                Ok(e) => e,
                Err(_) => return StepOutcome::failed("The collected evidence is unreadable"),
            },
            Ok(None) => return StepOutcome::failed("The collected evidence has expired"),
            Err(error) => {
                tracing::error!(%error, "reading BEC evidence");
                return StepOutcome::failed("The collected evidence could not be read");
            }
        };
        let now = OffsetDateTime::now_utc();
        let extracted_at = rfc3339(now);
        let mut report = analyse::report(&payload.subject, &evidence, &extracted_at, WINDOW_DAYS);
        report.insert("CaseId".into(), json!(payload.case_id));
        let score = analyse::score(&report, &payload.subject.start);
        let value = score["Value"].as_i64().unwrap_or(0);
        let level = score["Level"].as_str().unwrap_or("Low").to_owned();
        report.insert("Score".into(), score);
        let incomplete = evidence
            .completeness
            .iter()
            .filter(|(_, s)| !s.complete)
            .count();
        let mut case = match self.store.bec_get(&payload.case_id).await {
            Ok(Some(case)) => case,
            Ok(None) => return StepOutcome::failed("The case was deleted while it ran"),
            Err(error) => {
                tracing::error!(%error, "reading a BEC case");
                return StepOutcome::failed("The case could not be read");
            }
        };
        case.status = BecCaseStatus::Completed;
        case.level = Some(level.clone());
        case.score = Some(value);
        case.incomplete_count = i64::try_from(incomplete).unwrap_or(i64::MAX);
        case.extracted_at = Some(now);
        case.results = Some(Value::Object(report));
        case.error_message = None;
        if let Err(error) = self.store.bec_put(&case).await {
            tracing::error!(%error, "saving a BEC report");
            return StepOutcome::failed("The report could not be saved");
        }
        tracing::info!(case = %payload.case_id, level, value, "BEC check run finished");
        StepOutcome::succeeded(format!("Threat level {level} ({value})"))
    }
}

/// The collect step's message: how many collectors finished, and each one that did not.
fn summary(evidence: &Evidence) -> String {
    let total = evidence.completeness.len();
    let complete = evidence
        .completeness
        .iter()
        .filter(|(_, s)| s.complete)
        .count();
    let mut text = format!("{complete} of {total} collectors complete");
    for (name, s) in evidence.completeness.iter().filter(|(_, s)| !s.complete) {
        let why = if let Some(e) = &s.error {
            format!("error: {e}")
        } else if let Some(c) = &s.cap {
            format!("capped: {c}")
        } else {
            format!(
                "skipped: requires {}",
                s.requirement.clone().unwrap_or_default()
            )
        };
        text.push_str(&format!("; {name} {why}"));
    }
    text
}
