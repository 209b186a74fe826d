//! What a task does once it has run (`postExecution`): CIPP's webhook, e-mail or PSA notice.
//! Offboarding, JIT admin and vacation tasks share it. The webhook is the task's last step,
//! signed and retried, so its delivery is recorded like any other step. E-mail and PSA are not
//! available here and are refused with a 400 naming the field: a notice asked for is never
//! accepted and then not sent.

use std::time::Duration;

use cipp_jobs::{JobRow, NewStep, StepOutcome, StepRow, StepState};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// The notification step's title (CIPP's progress view shows it with `Kind: notify`).
pub const NOTIFY_STEP: &str = "Notify via Webhook";
/// The header that carries the body's HMAC.
pub const SIGNATURE_HEADER: &str = "X-CIPP-Signature";

/// Whether a step title is a notification.
pub fn is_notification(title: &str) -> bool {
    title.starts_with("Notify via ")
}

/// The notification step, appended last to a task's steps. Not repeated after an interruption:
/// a receiver may already have acted on the first delivery.
pub fn notify_step() -> NewStep {
    NewStep {
        name: NOTIFY_STEP.to_owned(),
        idempotent: false,
    }
}

/// `postExecution` in each form CIPP's forms and stored tasks use.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PostExecution {
    /// The task forms' picker: `[{label, value}]`, or the names alone.
    Choices(Vec<PostExecutionChoice>),
    /// The offboarding and user forms' switches.
    Switches(PostExecutionSwitches),
    /// A stored task's names, comma-separated (`Webhook,Email`).
    Names(String),
}

/// One picked notice: `{label, value}` or its name. Names other than Webhook, Email and PSA are
/// ignored, as CIPP ignores them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PostExecutionChoice {
    Name(String),
    Option {
        label: Option<String>,
        value: Option<String>,
    },
}

/// The switches, in any of CIPP's spellings.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PostExecutionSwitches {
    #[serde(rename = "webhook", alias = "Webhook", default)]
    pub webhook: bool,
    #[serde(rename = "email", alias = "Email", default)]
    pub email: bool,
    #[serde(rename = "psa", alias = "PSA", alias = "Psa", default)]
    pub psa: bool,
}

impl PostExecution {
    /// Which notices were asked for, read as CIPP reads them (names in any case).
    pub fn asked(&self) -> PostExecutionSwitches {
        let mut asked = PostExecutionSwitches::default();
        let mut pick = |name: &str| match name.trim().to_ascii_lowercase().as_str() {
            "webhook" => asked.webhook = true,
            "email" | "e-mail" => asked.email = true,
            "psa" => asked.psa = true,
            _ => {}
        };
        match self {
            Self::Switches(switches) => return switches.clone(),
            Self::Names(names) => names.split(',').for_each(&mut pick),
            Self::Choices(choices) => {
                for choice in choices {
                    match choice {
                        PostExecutionChoice::Name(name) => pick(name),
                        PostExecutionChoice::Option { label, value } => {
                            if let Some(name) = value.as_deref().or(label.as_deref()) {
                                pick(name);
                            }
                        }
                    }
                }
            }
        }
        asked
    }
}

/// What is wrong with the notices asked for, one line each, naming `field`: e-mail and PSA are
/// not available, and a webhook needs one configured.
pub fn problems(
    field: &str,
    asked: &PostExecutionSwitches,
    webhook_configured: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    if asked.email {
        problems.push(format!("'{field}.email': e-mail notification is not available in this service; turn it off or use the webhook."));
    }
    if asked.psa {
        problems.push(format!("'{field}.psa': PSA notification is not available in this service; turn it off or use the webhook."));
    }
    if asked.webhook && !webhook_configured {
        problems.push(format!("'{field}.webhook': no webhook is configured (CIPP_WEBHOOK_URL and CIPP_WEBHOOK_SECRET); turn it off or configure one."));
    }
    problems
}

/// Where the webhook goes, and the key that signs it.
#[derive(Clone)]
pub struct WebhookTarget {
    pub url: url::Url,
    pub secret: secrecy::SecretString,
    pub http: reqwest::Client,
    /// Waits between attempts; the number of attempts is one more than its length.
    pub backoff: Vec<Duration>,
}

impl std::fmt::Debug for WebhookTarget {
    // The secret stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

/// `sha256=<hex>` of `body` under `secret`: what a receiver recomputes to trust the call.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The task a notice is about, as CIPP's webhook body names it.
pub struct TaskNotice<'a> {
    pub job: &'a JobRow,
    /// The task's name (`Offboarding: <user>`, `JIT Admin (enable): <user>`, …).
    pub name: &'a str,
    /// CIPP's command name.
    pub command: &'a str,
    /// The customer tenant's id.
    pub tenant_id: &'a str,
}

/// Runs a task's notification step: sends the notice, or fails the step when this replica has
/// no webhook configured (it had one when the task was queued, or it could not carry the step).
pub async fn notify(
    target: Option<&WebhookTarget>,
    task: &TaskNotice<'_>,
    log: &[StepRow],
) -> StepOutcome {
    match target {
        Some(target) => send(target, task, log).await,
        None => StepOutcome::failed(
            "Error: no webhook is configured (CIPP_WEBHOOK_URL); nothing was sent",
        ),
    }
}

/// POSTs CIPP's legacy webhook body (tenant, task, every earlier step's result lines), signed,
/// retried with backoff on a failed connection, a 429 or a 5xx. The outcome is the step's.
pub async fn send(target: &WebhookTarget, task: &TaskNotice<'_>, log: &[StepRow]) -> StepOutcome {
    use secrecy::ExposeSecret;
    let results: Vec<Value> = log
        .iter()
        .filter(|s| !is_notification(&s.name))
        .flat_map(|s| {
            s.message
                .clone()
                .unwrap_or_default()
                .lines()
                .map(|line| json!({"Results": line}))
                .collect::<Vec<_>>()
        })
        .collect();
    let job = task.job;
    let body = json!({
        "tenantId": task.tenant_id,
        "Tenant": job.tenant,
        "TaskInfo": {
            "RowKey": job.id,
            "Name": task.name,
            "Command": task.command,
            "Reference": job.reference,
            "DeploymentId": job.deployment_id,
            "FailedSteps": log.iter().filter(|s| matches!(s.state, StepState::Failed | StepState::Unknown)).count(),
        },
        "Results": results,
        "AlertComment": Value::Null,
    });
    let bytes = body.to_string().into_bytes();
    let signed = signature(target.secret.expose_secret(), &bytes);
    let mut waits = target.backoff.iter();
    let mut attempt = 1;
    loop {
        let sent = target
            .http
            .post(target.url.clone())
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, &signed)
            .body(bytes.clone())
            .send()
            .await;
        let (again, text) = match &sent {
            Ok(answer) if answer.status().is_success() => {
                return StepOutcome::succeeded(format!(
                    "Sent webhook to {} with status code: {}",
                    target.url,
                    answer.status().as_u16()
                ));
            }
            Ok(answer) => {
                let status = answer.status();
                let again = status.as_u16() == 429 || status.is_server_error();
                (
                    again,
                    format!(
                        "Error: Webhook returned status code {} for {}",
                        status.as_u16(),
                        target.url
                    ),
                )
            }
            Err(error) => (
                true,
                format!(
                    "Error: Could not send alerts to webhook {}: {error}",
                    target.url
                ),
            ),
        };
        match (again, waits.next()) {
            (true, Some(wait)) => {
                tracing::info!(job = %job.id, attempt, "webhook not delivered; retrying");
                tokio::time::sleep(*wait).await;
                attempt += 1;
            }
            _ => {
                return StepOutcome::failed(format!("{text} (after {attempt} attempt(s))"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(value: Value) -> PostExecutionSwitches {
        serde_json::from_value::<PostExecution>(value)
            .map(|p| p.asked())
            .unwrap_or_default()
    }

    #[test]
    fn the_signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn every_form_of_post_execution_reads_the_same_notices() {
        for form in [
            json!([{"label": "Webhook", "value": "Webhook"}, {"label": "Email", "value": "email"}]),
            json!(["webhook", "EMAIL"]),
            json!({"Webhook": true, "Email": true}),
            json!({"webhook": true, "email": true, "psa": false}),
            json!("Webhook,Email"),
        ] {
            let asked = asked(form.clone());
            assert!(asked.webhook && asked.email && !asked.psa, "{form}");
        }
    }

    #[test]
    fn unknown_names_are_ignored_and_nothing_asked_has_no_problems() {
        let asked = asked(json!([{"label": "Teams", "value": "Teams"}, "Pager"]));
        assert!(!asked.webhook && !asked.email && !asked.psa);
        assert!(problems("postExecution", &asked, false).is_empty());
    }

    #[test]
    fn email_psa_and_an_unconfigured_webhook_are_each_named() {
        let asked = PostExecutionSwitches {
            webhook: true,
            email: true,
            psa: true,
        };
        let lines = problems("PostExecution", &asked, false);
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("'PostExecution.email'"));
        assert!(lines[1].starts_with("'PostExecution.psa'"));
        assert!(lines[2].starts_with("'PostExecution.webhook'"));
        assert_eq!(problems("PostExecution", &asked, true).len(), 2);
    }
}
