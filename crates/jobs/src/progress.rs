//! A job as CIPP's live-progress row (`Get-CIPPAsyncDeployment`, read by ListOffboardingProgress
//! and the frontend's `jobProgress` view): `Name`, `Source`, `Status`, `TaskId`, `TenantFilter`,
//! `Steps` (`Title`, `Status`, `Message`) and `Logs`.

use serde_json::{Value, json};

use crate::{JobRow, JobState, StepRow, StepState};

/// The row's overall status as CIPP's frontend reads it: `queued`, `running`, then `succeeded`,
/// or `failed` when a finished job has failed or unknown steps (so a partial offboarding never
/// reads as success) or was cancelled. The frontend stops polling only at `succeeded`/`failed`.
pub fn overall_status(job: &JobRow) -> &'static str {
    match job.state {
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Completed if job.failed_steps == 0 => "succeeded",
        JobState::Completed | JobState::Cancelled => "failed",
    }
}

/// A step's status in CIPP's four (`pending`, `running`, `succeeded`, `failed`); a skipped or
/// unknown step is `failed` there, and its exact state is in `State`.
fn step_status(state: StepState) -> &'static str {
    match state {
        StepState::Pending => "pending",
        StepState::Running => "running",
        StepState::Succeeded => "succeeded",
        StepState::Failed | StepState::Skipped | StepState::Unknown => "failed",
    }
}

/// A job time (microseconds since the epoch) as RFC 3339 UTC; empty when out of range.
pub fn rfc3339(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// One progress row per job (CIPP's `ConvertTo-CIPPAsyncDeploymentRow`); `source` names the
/// feature (e.g. `Offboarding`). Steps named `Notify via …` are notifications (`Kind: notify`).
pub fn progress_row(job: &JobRow, steps: &[StepRow], source: &str) -> Value {
    let rows: Vec<Value> = steps
        .iter()
        .map(|s| {
            let message = s.message.clone().unwrap_or_else(|| match s.state {
                StepState::Pending if s.name.starts_with("Notify via ") => {
                    "Sent once every action has finished".to_owned()
                }
                StepState::Pending => "Waiting to start".to_owned(),
                StepState::Running => "In progress".to_owned(),
                _ => String::new(),
            });
            let kind = if s.name.starts_with("Notify via ") {
                "notify"
            } else {
                ""
            };
            json!({"Title": s.name, "Status": step_status(s.state), "State": s.state.as_str(),
                "Message": message, "Kind": kind})
        })
        .collect();
    let logs = match job.state {
        JobState::Cancelled => "The job was cancelled; the steps not run are skipped.".to_owned(),
        _ if job.failed_steps > 0 => format!(
            "{} step(s) failed or ended in an unknown state",
            job.failed_steps
        ),
        _ => String::new(),
    };
    let last = steps
        .iter()
        .flat_map(|s| [s.started_at, s.ended_at])
        .chain([Some(job.created_at), job.started_at, job.finished_at])
        .flatten()
        .max()
        .unwrap_or(job.created_at);
    json!({
        "Name": job.title,
        "Source": source,
        "Status": overall_status(job),
        "TaskId": job.id,
        "TenantFilter": job.tenant,
        "Steps": rows,
        "Logs": logs,
        "LastUpdate": rfc3339(last),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn job(state: JobState, failed: i32) -> JobRow {
        JobRow {
            id: "j1".into(),
            deployment_id: "d1".into(),
            kind: "offboard".into(),
            tenant: "contoso.com".into(),
            title: "pat@contoso.com".into(),
            reference: None,
            created_by: None,
            payload: Value::Null,
            state,
            run_at: 0,
            created_at: 0,
            started_at: None,
            finished_at: None,
            failed_steps: failed,
        }
    }

    #[test]
    fn a_finished_job_with_a_failed_step_reads_as_failed_with_every_step() {
        let steps = vec![
            StepRow {
                idx: 0,
                name: "RevokeSessions".into(),
                idempotent: true,
                state: StepState::Succeeded,
                message: Some("ok".into()),
                started_at: Some(1),
                ended_at: Some(2),
                attempts: 1,
            },
            StepRow {
                idx: 1,
                name: "DeleteUser".into(),
                idempotent: false,
                state: StepState::Pending,
                message: None,
                started_at: None,
                ended_at: None,
                attempts: 0,
            },
        ];
        let row = progress_row(&job(JobState::Completed, 1), &steps, "Offboarding");
        assert_eq!(row["Status"], "failed");
        assert_eq!(row["Name"], "pat@contoso.com");
        assert_eq!(row["TenantFilter"], "contoso.com");
        assert_eq!(row["Steps"][0]["Status"], "succeeded");
        assert!(row["LastUpdate"].as_str().unwrap().starts_with("1970"));
        assert_eq!(row["Steps"][1]["Message"], "Waiting to start");
        assert_eq!(
            progress_row(&job(JobState::Completed, 0), &[], "x")["Status"],
            "succeeded"
        );
        assert_eq!(
            progress_row(&job(JobState::Cancelled, 0), &[], "x")["Status"],
            "failed"
        );
    }
}
