//! A job as CIPP's live-progress row (`Get-CIPPAsyncDeployment`, read by ListOffboardingProgress
//! and the frontend's `jobProgress` view): `Name`, `Source`, `Status`, `TaskId`, `TenantFilter`,
//! `Steps` (`Title`, `Status`, `Message`) and `Logs`.

use serde_json::{Value, json};

use crate::{JobRow, JobState, StepRow, StepState};

/// The row's overall status: `queued`, `running`, `completed`, `cancelled`, or `failed` when a
/// finished job has failed or unknown steps (so a partial offboarding never reads as success).
pub fn overall_status(job: &JobRow) -> &'static str {
    match job.state {
        JobState::Completed if job.failed_steps > 0 => "failed",
        other => other.as_str(),
    }
}

/// One progress row per job; `source` names the feature (e.g. `Offboarding`).
pub fn progress_row(job: &JobRow, steps: &[StepRow], source: &str) -> Value {
    let steps: Vec<Value> = steps
        .iter()
        .map(|s| {
            let message = s.message.clone().unwrap_or_else(|| match s.state {
                StepState::Pending => "Waiting to start".to_owned(),
                StepState::Running => "Running".to_owned(),
                _ => String::new(),
            });
            json!({"Title": s.name, "Status": s.state.as_str(), "Message": message})
        })
        .collect();
    let logs = if job.failed_steps > 0 {
        format!(
            "{} step(s) failed or ended in an unknown state",
            job.failed_steps
        )
    } else {
        String::new()
    };
    json!({
        "Name": job.title,
        "Source": source,
        "Status": overall_status(job),
        "TaskId": job.id,
        "TenantFilter": job.tenant,
        "Steps": steps,
        "Logs": logs,
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
        assert_eq!(row["Steps"][1]["Message"], "Waiting to start");
        assert_eq!(
            progress_row(&job(JobState::Completed, 0), &[], "x")["Status"],
            "completed"
        );
    }
}
