//! ExecOffboardUser's request check and step plan (CIPP-API `Test-CIPPOffboardingRequest.ps1`
//! and `Invoke-CIPPOffboardingJob.ps1`): which steps a job has, in CIPP's fixed order, and
//! which of them may be repeated after a crash.
//!
//! Not wired to an operation yet: the job engine (`cipp-jobs`) runs these steps once
//! `ExecOffboardUser` enqueues them (see the README, "Jobs: offboarding, schedules, progress").

use serde_json::Value;
use time::OffsetDateTime;

/// One step of an offboarding job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    /// CIPP's option name, which is also the step's name in progress answers.
    pub name: &'static str,
    /// Whether running the call twice has the effect of running it once. A step that is not
    /// (a new password, deleting the user, cancelling meetings, the webhook) runs at most once.
    pub idempotent: bool,
}

/// A checked offboarding request: one job per user.
#[derive(Debug, Clone, PartialEq)]
pub struct OffboardPlan {
    pub tenant: String,
    pub users: Vec<String>,
    pub steps: Vec<PlannedStep>,
    /// `Scheduled.enabled`: run once at this time; otherwise now.
    pub run_at: Option<OffsetDateTime>,
    pub reference: Option<String>,
    pub webhook: bool,
}

/// The boolean options in execution order (CIPP's `Invoke-CIPPOffboardingJob`), with the value
/// options (`OOO`, `forward`, the access lists) in their places. `RemoveLicenses` comes after
/// `ConvertToShared` on purpose: its step first verifies the conversion.
const ORDER: [(&str, bool); 23] = [
    ("RevokeSessions", true),
    ("ResetPass", false),
    ("DisableSignIn", true),
    ("HideFromGAL", true),
    ("RemoveGroups", true),
    ("RemoveRules", true),
    ("RemoveMobile", true),
    ("removeCalendarInvites", false),
    ("OOO", true),
    ("forward", true),
    ("disableForwarding", true),
    ("OnedriveAccess", true),
    ("DisableOneDriveSharing", true),
    ("AccessNoAutomap", true),
    ("AccessAutomap", true),
    ("removePermissions", true),
    ("removeCalendarPermissions", true),
    ("ConvertToShared", true),
    ("RemoveMFADevices", true),
    ("RemoveTeamsPhoneDID", true),
    ("RemoveLicenses", true),
    ("ClearImmutableId", true),
    ("DeleteUser", false),
];

/// CIPP counts an option as selected when it compares equal to `$true`: JSON `true`, the
/// number 1, or the string "true" in any case.
fn selected(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() == Some(1.0),
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn label_value(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.as_str(),
        Value::Object(o) => o.get("value").and_then(Value::as_str)?,
        _ => return None,
    };
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn non_empty_list(v: Option<&Value>) -> bool {
    v.and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| label_value(x).is_some()))
}

fn step_selected(body: &Value, name: &str) -> bool {
    let v = body.get(name);
    match name {
        "OOO" => v
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty()),
        "forward" => v.and_then(label_value).is_some(),
        "OnedriveAccess" | "AccessNoAutomap" | "AccessAutomap" => non_empty_list(v),
        _ => selected(v),
    }
}

/// Checks an ExecOffboardUser body; every problem is collected (CIPP answers them all in one 400).
pub fn plan(body: &Value) -> Result<OffboardPlan, Vec<String>> {
    let mut errors = Vec::new();
    let tenant = body.get("tenantFilter").and_then(label_value);
    if tenant.is_none() {
        errors.push("'tenantFilter' is required and must resolve to a tenant domain (a string, or an object with a non-empty 'value' property).".to_owned());
    }
    let mut users = Vec::new();
    match body.get("user").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            users = list.iter().filter_map(label_value).collect();
            if users.is_empty() {
                errors.push("'user' did not resolve to any usable userPrincipalName. Each entry must be a UPN string or an object with a non-empty 'value' property.".to_owned());
            }
            let bad: Vec<&str> = users.iter().filter(|u| !u.contains('@')).map(String::as_str).collect();
            if !bad.is_empty() {
                errors.push(format!(
                    "These user values do not look like userPrincipalNames (missing '@'): {}.",
                    bad.join(", ")
                ));
            }
        }
        _ => errors.push("'user' is required and must be a non-empty array of users (objects with a 'value' property, or userPrincipalName strings).".to_owned()),
    }
    let scheduled = body.get("Scheduled");
    let mut run_at = None;
    if selected(scheduled.and_then(|s| s.get("enabled").or_else(|| s.get("Enabled")))) {
        let date = scheduled.and_then(|s| s.get("date").or_else(|| s.get("Date")));
        let secs = match date {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match secs.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()) {
            Some(t) => run_at = Some(t),
            None => errors.push(
                "'Scheduled.enabled' is true but 'Scheduled.date' is not a valid Unix timestamp."
                    .to_owned(),
            ),
        }
    }
    let mut steps: Vec<PlannedStep> = ORDER
        .iter()
        .filter(|(name, _)| step_selected(body, name))
        .map(|&(name, idempotent)| PlannedStep { name, idempotent })
        .collect();
    if steps.is_empty() {
        errors.push("No offboarding actions were selected. Enable at least one action (e.g. RemoveLicenses, DisableSignIn, RevokeSessions) before submitting.".to_owned());
    }
    let post = body.get("PostExecution");
    let webhook = selected(post.and_then(|p| p.get("webhook")));
    // This service has no mail or PSA delivery yet: refuse rather than skip silently.
    for channel in ["email", "psa"] {
        if selected(post.and_then(|p| p.get(channel))) {
            errors.push(format!("PostExecution.{channel}: delivery by {channel} is not available in this service; use the webhook."));
        }
    }
    if webhook {
        steps.push(PlannedStep {
            name: "PostExecution",
            idempotent: false,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let reference = body
        .get("reference")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok(OffboardPlan {
        tenant: tenant.unwrap_or_default(),
        users,
        steps,
        run_at,
        reference,
        webhook,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_follow_cipps_order_whatever_the_body_order() {
        let p = plan(&json!({
            "tenantFilter": {"value": "contoso.com"},
            "user": [{"value": "a@contoso.com"}, "b@contoso.com"],
            "DeleteUser": true, "RemoveLicenses": "TRUE", "ConvertToShared": 1,
            "RevokeSessions": true, "ResetPass": true, "OOO": "<p>gone</p>",
            "reference": " T-42 ",
        }))
        .unwrap();
        let names: Vec<_> = p.steps.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "RevokeSessions",
                "ResetPass",
                "OOO",
                "ConvertToShared",
                "RemoveLicenses",
                "DeleteUser"
            ]
        );
        assert_eq!(p.users, ["a@contoso.com", "b@contoso.com"]);
        assert_eq!(p.reference.as_deref(), Some("T-42"));
        assert!(!p.steps[1].idempotent && !p.steps[5].idempotent && p.steps[0].idempotent);
    }

    #[test]
    fn every_validation_error_is_reported_at_once() {
        let errors = plan(&json!({
            "user": ["nobody"],
            "Scheduled": {"enabled": true, "date": "soon"},
            "PostExecution": {"email": true, "psa": "true"},
        }))
        .unwrap_err();
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[1].contains("missing '@'): nobody."));
        assert!(errors.iter().any(|e| e.starts_with("PostExecution.email")));
        assert!(errors.iter().any(|e| e.starts_with("PostExecution.psa")));
    }

    #[test]
    fn a_scheduled_request_carries_its_time_and_the_webhook_is_the_last_step() {
        let p = plan(&json!({
            "tenantFilter": "contoso.com", "user": ["a@contoso.com"], "DisableSignIn": true,
            "Scheduled": {"enabled": true, "date": 1_900_000_000},
            "PostExecution": {"webhook": true, "email": false},
        }))
        .unwrap();
        assert_eq!(p.run_at.unwrap().unix_timestamp(), 1_900_000_000);
        assert_eq!(p.steps.last().unwrap().name, "PostExecution");
        assert!(!p.steps.last().unwrap().idempotent);
    }
}
