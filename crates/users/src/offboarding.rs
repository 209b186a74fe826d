//! Offboarding: ExecOffboardUser's request check and step plan (CIPP-API
//! `Test-CIPPOffboardingRequest.ps1`, `Invoke-CIPPOffboardingJob.ps1`) and the job kind that runs
//! each step on the job engine (`cipp-jobs`), one job per user.
//!
//! Where this differs from CIPP, on purpose:
//! - The `email` and `psa` notifications are refused with a 400 naming them, never silently
//!   skipped.
//! - `removeCalendarPermissions` reads every calendar live instead of CIPP's cached report, so a
//!   stale or empty cache never hides a permission.
//! - `WipeMobile` ("Wipe Mobile Devices (account data only)" in CIPP's documentation; no
//!   upstream code was found to copy texts from) sends an account-only wipe to every device
//!   and runs before `RemoveMobile`, which would otherwise leave nothing to wipe.
//! - Licences are removed only once the conversion to a shared mailbox is verified (polled, not
//!   a blind five-minute delay), in the same job.
//! - A step whose text reports a failure (`Error`, `Failed`, `Could not`) is failed, and the job's
//!   final state counts the failed steps.
//! - The new password of `ResetPass` is not recorded: the step log, the task results and the
//!   webhook would otherwise all hold it. Offboarding resets it to lock the account out.

use std::sync::Arc;
use std::time::Duration;

use cipp_graph::{GraphClient, GraphVersion};
use cipp_jobs::{JobKind, JobRow, NewStep, StepOutcome, StepRow, StepState};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::offboarding_exchange as exo;
use crate::offboarding_sharepoint as sp;
use crate::op::types::UserId;
use crate::password::PasswordSettings;
use crate::task_notify::{self, TaskNotice, WebhookTarget};

/// The job kind's name in the engine.
pub const KIND: &str = "offboarding";
/// The command name ListScheduledItems shows for offboarding jobs, as CIPP names it.
pub const COMMAND: &str = "Invoke-CIPPOffboardingJob";

/// What a step does; the title is CIPP's step title, shown in progress rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    RevokeSessions,
    ResetPass,
    DisableSignIn,
    HideFromGal,
    RemoveGroups,
    RemoveRules,
    WipeMobile,
    RemoveMobile,
    CancelCalendarInvites,
    OutOfOffice,
    RemovePermissions,
    Forward,
    DisableForwarding,
    OnedriveAccess,
    DisableOneDriveSharing,
    AccessNoAutomap,
    AccessAutomap,
    AccessSendAs,
    AccessSendOnBehalf,
    RemoveCalendarPermissions,
    ConvertToShared,
    RemoveMfaDevices,
    RemoveTeamsPhoneDid,
    RemoveLicenses,
    ClearImmutableId,
    DeleteUser,
    NotifyWebhook,
}

/// One step kind: its action, CIPP's title, and whether running its call twice has the effect
/// of running it once (a step that is not runs at most once; see the job engine).
struct StepKind {
    action: Action,
    title: &'static str,
    idempotent: bool,
}

/// The steps this service runs, in CIPP's fixed order. Titles of steps CIPP names only in its
/// wizard take the wizard's label in the sentence case of the others.
const STEPS: [StepKind; 27] = [
    step(Action::RevokeSessions, "Revoke all sessions", true),
    step(Action::ResetPass, "Reset password", false),
    step(Action::DisableSignIn, "Disable sign in", true),
    step(Action::HideFromGal, "Hide from Global Address List", true),
    step(Action::RemoveGroups, "Remove from all groups", true),
    step(Action::RemoveRules, "Remove all rules", true),
    // A wipe sent twice is sent again to the device: at most once.
    step(
        Action::WipeMobile,
        "Wipe mobile devices (account data only)",
        false,
    ),
    step(Action::RemoveMobile, "Remove all mobile devices", true),
    // Cancelling again finds nothing left to cancel.
    step(
        Action::CancelCalendarInvites,
        "Cancel all calendar invites",
        true,
    ),
    step(Action::OutOfOffice, "Set Out of Office message", true),
    step(Action::Forward, "Forward email", true),
    step(Action::DisableForwarding, "Disable email forwarding", true),
    step(Action::OnedriveAccess, "Grant OneDrive full access", true),
    step(
        Action::DisableOneDriveSharing,
        "Disable OneDrive sharing links",
        true,
    ),
    step(
        Action::AccessNoAutomap,
        "Grant full access (no automap)",
        true,
    ),
    step(Action::AccessAutomap, "Grant full access (automap)", true),
    step(Action::AccessSendAs, "Grant Send As access", true),
    step(
        Action::AccessSendOnBehalf,
        "Grant Send on Behalf access",
        true,
    ),
    step(
        Action::RemovePermissions,
        "Remove user's mailbox permissions",
        true,
    ),
    step(
        Action::RemoveCalendarPermissions,
        "Remove user's calendar permissions",
        true,
    ),
    step(Action::ConvertToShared, "Convert to shared mailbox", true),
    step(Action::RemoveMfaDevices, "Remove all MFA devices", true),
    step(Action::RemoveTeamsPhoneDid, "Remove Teams phone DID", true),
    step(Action::RemoveLicenses, "Remove licenses", true),
    step(Action::ClearImmutableId, "Clear Immutable ID", true),
    step(Action::DeleteUser, "Delete user", false),
    // Sending twice is a duplicate notification: at most once.
    step(Action::NotifyWebhook, "Notify via Webhook", false),
];

const fn step(action: Action, title: &'static str, idempotent: bool) -> StepKind {
    StepKind {
        action,
        title,
        idempotent,
    }
}

/// Re-running a finished job, as the progress view's buttons ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum OffboardAction {
    Rerun,
    RerunStep,
}

/// `Scheduled`: run once at `date` (Unix seconds) instead of now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OffboardSchedule {
    #[serde(rename = "enabled", alias = "Enabled", default)]
    pub enabled: bool,
    /// Unix seconds (UTC).
    #[serde(rename = "date", alias = "Date")]
    pub date: Option<i64>,
}

/// `postExecution`: who hears of the outcome once every step has run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OffboardPostExecution {
    /// A JSON POST to the configured webhook, signed with HMAC-SHA256 (`X-CIPP-Signature`).
    #[serde(rename = "webhook", alias = "Webhook", default)]
    pub webhook: bool,
    /// Not available here: refused with a 400.
    #[serde(rename = "email", alias = "Email", default)]
    pub email: bool,
    /// Not available here: refused with a 400.
    #[serde(rename = "psa", alias = "PSA", default)]
    pub psa: bool,
}

/// ExecOffboardUser's request as the wizard sends it: the tenant, the users, the options, when,
/// and who is told. A job keeps it (without the users) as its options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OffboardOptions {
    /// The tenant (its default domain, initial domain or id; `{label, value}` accepted).
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
    /// The users to offboard: user principal names (`{label, value}` accepted).
    #[serde(rename = "user", default)]
    pub user: Vec<String>,
    /// Run once at `date` instead of now.
    #[serde(rename = "Scheduled")]
    pub scheduled: Option<OffboardSchedule>,
    /// Who hears of the outcome (CIPP's frontend writes `postExecution`).
    #[serde(rename = "postExecution", alias = "PostExecution")]
    pub post_execution: Option<OffboardPostExecution>,
    /// A ticket reference, carried into the job, its audit rows and the webhook.
    #[serde(rename = "reference")]
    pub reference: Option<String>,
    /// `Rerun` queues a finished job (`TaskId`) again; `RerunStep` one of its steps
    /// (`StepIndex`, from 0). Without it, a new offboarding.
    #[serde(rename = "Action", skip_serializing_if = "Option::is_none")]
    pub action: Option<OffboardAction>,
    /// The job to re-run: its progress row's `TaskId`.
    #[serde(rename = "TaskId", skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The step to re-run, from 0 (`RerunStep`).
    #[serde(rename = "StepIndex", skip_serializing_if = "Option::is_none")]
    pub step_index: Option<i32>,
    /// The step's title, for the answer's text.
    #[serde(rename = "StepTitle", skip_serializing_if = "Option::is_none")]
    pub step_title: Option<String>,
    #[serde(rename = "RevokeSessions", default)]
    pub revoke_sessions: bool,
    #[serde(rename = "ResetPass", default)]
    pub reset_pass: bool,
    #[serde(rename = "DisableSignIn", default)]
    pub disable_sign_in: bool,
    #[serde(rename = "HideFromGAL", default)]
    pub hide_from_gal: bool,
    #[serde(rename = "RemoveGroups", default)]
    pub remove_groups: bool,
    #[serde(rename = "RemoveRules", default)]
    pub remove_rules: bool,
    /// The out-of-office reply (HTML), set for both audiences; blank sets none.
    #[serde(rename = "OOO")]
    pub ooo: Option<String>,
    /// The object id or UPN mail is forwarded to (`{label, value}` accepted).
    #[serde(rename = "forward")]
    pub forward: Option<String>,
    /// With `forward`: keep a copy in the mailbox.
    #[serde(rename = "KeepCopy", default)]
    pub keep_copy: bool,
    #[serde(rename = "disableForwarding", default)]
    pub disable_forwarding: bool,
    /// Users given full access to the mailbox without automapping (object ids or UPNs).
    #[serde(rename = "AccessNoAutomap", default)]
    pub access_no_automap: Vec<String>,
    /// Users given full access with automapping.
    #[serde(rename = "AccessAutomap", default)]
    pub access_automap: Vec<String>,
    /// Users given Send As.
    #[serde(rename = "AccessSendAs", default)]
    pub access_send_as: Vec<String>,
    /// Users given Send on Behalf.
    #[serde(rename = "AccessSendOnBehalf", default)]
    pub access_send_on_behalf: Vec<String>,
    #[serde(rename = "ConvertToShared", default)]
    pub convert_to_shared: bool,
    #[serde(rename = "RemoveMFADevices", default)]
    pub remove_mfa_devices: bool,
    #[serde(rename = "RemoveLicenses", default)]
    pub remove_licenses: bool,
    #[serde(rename = "ClearImmutableId", default)]
    pub clear_immutable_id: bool,
    /// Deletes the user; every other action is then left out, as in CIPP.
    #[serde(rename = "DeleteUser", default)]
    pub delete_user: bool,
    /// An account-only wipe sent to each of the user's mobile devices (company data only).
    #[serde(rename = "WipeMobile", default)]
    pub wipe_mobile: bool,
    /// The user's mobile device partnerships removed.
    #[serde(rename = "RemoveMobile", default)]
    pub remove_mobile: bool,
    /// The meetings the user organises in the next 730 days cancelled.
    #[serde(rename = "removeCalendarInvites", default)]
    pub remove_calendar_invites: bool,
    /// Users made site collection admins of the user's OneDrive (object ids or UPNs,
    /// `{label, value}` accepted).
    #[serde(rename = "OnedriveAccess", default)]
    pub onedrive_access: Vec<String>,
    /// The user's OneDrive set to share with no one.
    #[serde(rename = "DisableOneDriveSharing", default)]
    pub disable_onedrive_sharing: bool,
    /// Removes the user's full access, Send As and Send on Behalf rights on every other mailbox.
    #[serde(rename = "removePermissions", default)]
    pub remove_permissions: bool,
    /// Removes the user from every other mailbox's Calendar folder permissions.
    #[serde(rename = "removeCalendarPermissions", default)]
    pub remove_calendar_permissions: bool,
    /// Unassigns every Teams phone number assigned to the user.
    #[serde(rename = "RemoveTeamsPhoneDID", default)]
    pub remove_teams_phone_did: bool,
}

impl OffboardOptions {
    fn selected(&self, action: Action) -> bool {
        let any = |list: &[String]| list.iter().any(|v| !v.trim().is_empty());
        let text = |t: &Option<String>| t.as_deref().is_some_and(|t| !html_is_blank(t));
        match action {
            Action::RevokeSessions => self.revoke_sessions,
            Action::ResetPass => self.reset_pass,
            Action::DisableSignIn => self.disable_sign_in,
            Action::HideFromGal => self.hide_from_gal,
            Action::RemoveGroups => self.remove_groups,
            Action::RemoveRules => self.remove_rules,
            Action::WipeMobile => self.wipe_mobile,
            Action::RemoveMobile => self.remove_mobile,
            Action::CancelCalendarInvites => self.remove_calendar_invites,
            Action::OnedriveAccess => any(&self.onedrive_access),
            Action::DisableOneDriveSharing => self.disable_onedrive_sharing,
            Action::RemoveCalendarPermissions => self.remove_calendar_permissions,
            Action::RemoveTeamsPhoneDid => self.remove_teams_phone_did,
            Action::OutOfOffice => text(&self.ooo),
            Action::RemovePermissions => self.remove_permissions,
            Action::Forward => text(&self.forward) && !self.disable_forwarding,
            Action::DisableForwarding => self.disable_forwarding,
            Action::AccessNoAutomap => any(&self.access_no_automap),
            Action::AccessAutomap => any(&self.access_automap),
            Action::AccessSendAs => any(&self.access_send_as),
            Action::AccessSendOnBehalf => any(&self.access_send_on_behalf),
            Action::ConvertToShared => self.convert_to_shared,
            Action::RemoveMfaDevices => self.remove_mfa_devices,
            Action::RemoveLicenses => self.remove_licenses,
            Action::ClearImmutableId => self.clear_immutable_id,
            Action::DeleteUser => self.delete_user,
            Action::NotifyWebhook => false,
        }
    }
}

/// An editor's empty document (`<p></p>`) is no message.
fn html_is_blank(html: &str) -> bool {
    let mut inside_tag = false;
    let mut text = String::new();
    for c in html.chars() {
        match c {
            '<' => inside_tag = true,
            '>' => inside_tag = false,
            c if !inside_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&nbsp;", " ").trim().is_empty()
}

/// The steps for `options`, in CIPP's order: with `DeleteUser` only the deletion stays (CIPP
/// drops the rest, a deleted user's mailbox cannot be changed), then the notification.
pub fn planned_steps(options: &OffboardOptions, webhook: bool) -> Vec<NewStep> {
    let mut steps: Vec<NewStep> = STEPS
        .iter()
        .filter(|s| options.selected(s.action))
        .filter(|s| !options.delete_user || s.action == Action::DeleteUser)
        .map(|s| NewStep {
            name: s.title.to_owned(),
            idempotent: s.idempotent,
        })
        .collect();
    if webhook && let Some(notify) = STEPS.iter().find(|s| s.action == Action::NotifyWebhook) {
        steps.push(NewStep {
            name: notify.title.to_owned(),
            idempotent: notify.idempotent,
        });
    }
    steps
}

/// What an offboarding job carries: the user, the tenant, the options.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OffboardPayload {
    #[serde(rename = "Username")]
    pub username: String,
    #[serde(rename = "TenantId")]
    pub tenant_id: String,
    #[serde(rename = "options")]
    pub options: Value,
    #[serde(rename = "DeploymentId")]
    pub deployment_id: String,
}

/// Runs offboarding steps: the same domain functions the single-user operations call.
pub struct OffboardingJob {
    pub graph: GraphClient,
    /// Where the finished job's audit row goes.
    pub store: cipp_store::Store,
    pub webhook: Option<WebhookTarget>,
    /// How long the licence step waits for the shared-mailbox conversion to show, and how often
    /// it looks.
    pub conversion_wait: Duration,
    pub conversion_poll: Duration,
}

impl OffboardingJob {
    pub fn new(
        graph: GraphClient,
        store: cipp_store::Store,
        webhook: Option<WebhookTarget>,
    ) -> Arc<Self> {
        Arc::new(Self {
            graph,
            store,
            webhook,
            conversion_wait: Duration::from_secs(120),
            conversion_poll: Duration::from_secs(5),
        })
    }
}

/// A step's lines: failed when any reports a failure, as CIPP's progress does (and, beyond
/// CIPP, `Could not …` too).
fn outcome_of(lines: Vec<String>) -> StepOutcome {
    let failed = lines.iter().any(|l| {
        let l = l.trim_start();
        l.starts_with("Error") || l.starts_with("Failed") || l.starts_with("Could not")
    });
    let message = lines.join("\n");
    if failed {
        StepOutcome::failed(message)
    } else {
        StepOutcome::succeeded(message)
    }
}

fn outcome_from(result: Result<String, UserError>) -> StepOutcome {
    match result {
        Ok(line) => outcome_of(vec![line]),
        Err(error) => StepOutcome::failed(error.to_string()),
    }
}

/// The audit row of a finished offboarding: who queued it, the user, the caller's `reference`,
/// and every step's outcome, so the log says what the job did, not only that it was asked.
pub fn finished_row(job: &JobRow, steps: &[StepRow]) -> cipp_store::AuditEntry {
    let failed = steps
        .iter()
        .filter(|s| matches!(s.state, StepState::Failed | StepState::Unknown))
        .count();
    let lines: Vec<String> = steps
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s.name,
                s.message.as_deref().unwrap_or(s.state.as_str())
            )
        })
        .collect();
    let (result, severity, status) = if failed == 0 && job.state == cipp_jobs::JobState::Completed {
        (
            cipp_store::AuditResult::Success,
            cipp_store::Severity::Info,
            200,
        )
    } else {
        (
            cipp_store::AuditResult::Error,
            cipp_store::Severity::Error,
            500,
        )
    };
    let message = format!(
        "Offboarding {} for {}: {} of {} steps failed. {}",
        if job.state == cipp_jobs::JobState::Cancelled {
            "cancelled"
        } else {
            "completed"
        },
        job.title,
        failed,
        steps.len(),
        lines.join(" | ")
    );
    let mut message: String = message.chars().take(8 * 1024).collect();
    if message.len() >= 8 * 1024 {
        message.push_str("… [cut]");
    }
    cipp_store::AuditEntry {
        id: uuid::Uuid::new_v4(),
        time: time::OffsetDateTime::now_utc(),
        actor: job.created_by.clone().unwrap_or_else(|| "job".to_owned()),
        actor_kind: cipp_store::ActorKind::Job,
        app_id: None,
        role: None,
        source_ip: None,
        tenant: Some(job.tenant.clone()),
        tenant_id: job
            .payload
            .get("TenantId")
            .and_then(Value::as_str)
            .map(str::to_owned),
        operation: "ExecOffboardUser".to_owned(),
        target: Some(job.title.clone()),
        parameters: json!({"TaskId": job.id, "DeploymentId": job.deployment_id,
            "reference": job.reference}),
        result,
        message,
        severity,
        correlation_id: job.deployment_id.clone(),
        status,
    }
}

#[async_trait::async_trait]
impl JobKind for OffboardingJob {
    async fn finished(&self, job: &JobRow, steps: &[StepRow]) {
        if let Err(error) = self.store.insert_audit(&finished_row(job, steps)).await {
            tracing::error!(%error, job = %job.id, "the finished offboarding's audit row could not be written");
        }
    }

    async fn run_step(&self, job: &JobRow, step: &StepRow, log: &[StepRow]) -> StepOutcome {
        let payload: OffboardPayload = match serde_json::from_value(job.payload.clone()) {
            Ok(payload) => payload,
            Err(error) => {
                return StepOutcome::failed(format!("The job's data is unreadable: {error}"));
            }
        };
        let options: OffboardOptions =
            serde_json::from_value(payload.options.clone()).unwrap_or_default();
        let Some(kind) = STEPS.iter().find(|s| s.title == step.name) else {
            return StepOutcome::failed(format!("Unknown step '{}'", step.name));
        };
        let upn = payload.username.as_str();
        let user = match UserId::try_from(upn.to_owned()) {
            Ok(user) => user,
            Err(error) => return StepOutcome::failed(format!("Failed for '{upn}': {error}")),
        };
        let tenant = payload.tenant_id.as_str();
        let graph = &self.graph;
        match kind.action {
            Action::RevokeSessions => outcome_from(
                crate::operations::exec_revoke_sessions::revoke_sessions(
                    graph,
                    tenant,
                    &user,
                    Some(upn),
                )
                .await,
            ),
            Action::ResetPass => {
                let reset = crate::operations::exec_reset_pass::reset_password(
                    graph,
                    tenant,
                    &user,
                    None,
                    true,
                    &PasswordSettings::default(),
                )
                .await;
                outcome_from(reset.map(|done| {
                    format!(
                        "{} (the new password is not recorded: offboarding resets it to lock the account out)",
                        done.log_text
                    )
                }))
            }
            Action::DisableSignIn => outcome_from(
                crate::operations::exec_disable_user::set_sign_in_state(
                    graph, tenant, &user, false,
                )
                .await,
            ),
            Action::HideFromGal => outcome_from(
                crate::mailbox_flags::set_hidden_from_gal(graph, tenant, upn, true).await,
            ),
            Action::RemoveGroups => outcome_of(remove_groups(graph, tenant, upn).await),
            Action::RemoveRules => outcome_from(remove_rules(graph, tenant, upn).await),
            Action::RemovePermissions => {
                outcome_of(remove_mailbox_permissions(graph, tenant, upn).await)
            }
            Action::WipeMobile => outcome_of(exo::wipe_mobile_devices(graph, tenant, upn).await),
            Action::RemoveMobile => {
                outcome_of(exo::remove_mobile_devices(graph, tenant, upn).await)
            }
            Action::CancelCalendarInvites => {
                outcome_of(exo::cancel_calendar_invites(graph, tenant, upn).await)
            }
            Action::RemoveCalendarPermissions => {
                outcome_of(exo::remove_calendar_permissions(graph, tenant, upn).await)
            }
            Action::OnedriveAccess => outcome_of(
                sp::grant_onedrive_access(graph, tenant, upn, &options.onedrive_access).await,
            ),
            Action::DisableOneDriveSharing => {
                outcome_of(sp::disable_onedrive_sharing(graph, tenant, upn).await)
            }
            Action::RemoveTeamsPhoneDid => {
                outcome_of(sp::remove_teams_phone_numbers(graph, tenant, upn).await)
            }
            Action::OutOfOffice => {
                let message = options.ooo.clone().unwrap_or_default();
                outcome_from(
                    exchange_line(
                        graph,
                        tenant,
                        upn,
                        "Set-MailboxAutoReplyConfiguration",
                        json!({"Identity": upn, "AutoReplyState": "Enabled",
                            "InternalMessage": message, "ExternalMessage": message}),
                        format!("Set Out-of-office for {upn} to Enabled."),
                        format!("Could not add OOO for {upn}."),
                    )
                    .await,
                )
            }
            Action::Forward | Action::DisableForwarding => {
                use crate::operations::exec_email_forward::{Forwarding, set_forwarding};
                let forwarding = if kind.action == Action::DisableForwarding {
                    Forwarding::Disabled
                } else {
                    Forwarding::Internal(options.forward.clone().unwrap_or_default())
                };
                match set_forwarding(graph, tenant, &user, &forwarding, options.keep_copy).await {
                    Ok(lines) => outcome_of(lines),
                    Err(error) => StepOutcome::failed(error.to_string()),
                }
            }
            Action::AccessNoAutomap => {
                let grant = Grant::FullAccess { automap: false };
                grant_each(graph, tenant, upn, &options.access_no_automap, grant).await
            }
            Action::AccessAutomap => {
                let grant = Grant::FullAccess { automap: true };
                grant_each(graph, tenant, upn, &options.access_automap, grant).await
            }
            Action::AccessSendAs => {
                grant_each(graph, tenant, upn, &options.access_send_as, Grant::SendAs).await
            }
            Action::AccessSendOnBehalf => {
                let list = &options.access_send_on_behalf;
                grant_each(graph, tenant, upn, list, Grant::SendOnBehalf).await
            }
            // CIPP's offboarding texts are ExecConvertMailbox's with the type `Shared`.
            Action::ConvertToShared => {
                match crate::convert_mailbox::MailboxType::try_from("Shared".to_owned()) {
                    Ok(shared) => outcome_from(
                        crate::convert_mailbox::convert_mailbox(graph, tenant, &user, &shared)
                            .await,
                    ),
                    Err(error) => StepOutcome::failed(error),
                }
            }
            Action::RemoveMfaDevices => outcome_from(
                crate::operations::exec_reset_mfa::remove_user_mfa(graph, tenant, &user, None)
                    .await,
            ),
            Action::RemoveLicenses => {
                let converting = log.iter().find(|s| {
                    STEPS
                        .iter()
                        .any(|k| k.action == Action::ConvertToShared && k.title == s.name)
                });
                if let Some(conversion) = converting {
                    if conversion.state != StepState::Succeeded {
                        return StepOutcome::failed(format!(
                            "Licenses were not removed from {upn}: the conversion to a shared mailbox did not succeed, and a mailbox without a licence is deleted after 30 days. Remove them once the mailbox shows as shared."
                        ));
                    }
                    if let Err(message) = self.wait_for_shared(tenant, upn).await {
                        return StepOutcome::failed(message);
                    }
                }
                outcome_from(remove_licences(graph, tenant, upn).await)
            }
            Action::ClearImmutableId => outcome_from(
                crate::operations::exec_clr_imm_id::clear_immutable_id(graph, tenant, &user).await,
            ),
            Action::DeleteUser => outcome_from(
                crate::operations::remove_user::remove_user(graph, tenant, &user, Some(upn)).await,
            ),
            Action::NotifyWebhook => {
                let name = format!("Offboarding: {}", payload.username);
                let task = TaskNotice {
                    job,
                    name: &name,
                    command: COMMAND,
                    tenant_id: &payload.tenant_id,
                };
                task_notify::notify(self.webhook.as_ref(), &task, log).await
            }
        }
    }
}

impl OffboardingJob {
    /// Polls the mailbox until Exchange reports it shared, or gives up after `conversion_wait`.
    async fn wait_for_shared(&self, tenant: &str, upn: &str) -> Result<(), String> {
        let started = tokio::time::Instant::now();
        loop {
            let mailbox = self
                .graph
                .exchange(tenant, "Get-Mailbox", json!({"Identity": upn}), Some(upn))
                .await;
            if let Ok(rows) = &mailbox
                && rows
                    .first()
                    .and_then(|m| m.get("RecipientTypeDetails"))
                    .and_then(Value::as_str)
                    == Some("SharedMailbox")
            {
                return Ok(());
            }
            if started.elapsed() >= self.conversion_wait {
                return Err(format!(
                    "Failed to remove licenses from {upn}: the mailbox did not show as shared within {} seconds of its conversion, and a mailbox without a licence is deleted after 30 days. Remove them once it shows as shared.",
                    self.conversion_wait.as_secs()
                ));
            }
            tokio::time::sleep(self.conversion_poll).await;
        }
    }
}

/// One Exchange cmdlet: `done` when it succeeds, `failed` + Exchange's reason when not.
async fn exchange_line(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    cmdlet: &str,
    parameters: Value,
    done: String,
    failed: String,
) -> Result<String, UserError> {
    crate::mailbox_flags::exchange_call(graph, tenant, upn, cmdlet, parameters, |reason| {
        format!("{failed} Error: {reason}")
    })
    .await
    .map(|()| done)
}

/// A mailbox right given to other users by a grant step.
#[derive(Debug, Clone, Copy)]
enum Grant {
    FullAccess { automap: bool },
    SendAs,
    SendOnBehalf,
}

impl Grant {
    fn name(self) -> &'static str {
        match self {
            Grant::FullAccess { .. } => "FullAccess",
            Grant::SendAs => "SendAs",
            Grant::SendOnBehalf => "SendOnBehalf",
        }
    }

    /// The cmdlet, its parameters and CIPP's success line for one grantee.
    fn call(self, upn: &str, grantee: &str) -> (&'static str, Value, String) {
        match self {
            Grant::FullAccess { automap } => (
                "Add-MailboxPermission",
                json!({"Identity": upn, "User": grantee, "AccessRights": ["FullAccess"],
                    "InheritanceType": "All", "AutoMapping": automap}),
                format!(
                    "Granted {grantee} FullAccess to {upn} with automapping {}",
                    crate::mailbox_flags::ps_bool(automap)
                ),
            ),
            Grant::SendAs => (
                "Add-RecipientPermission",
                json!({"Identity": upn, "Trustee": grantee, "AccessRights": ["SendAs"],
                    "Confirm": false}),
                format!("Granted {grantee} SendAs permissions to {upn}"),
            ),
            Grant::SendOnBehalf => (
                "Set-Mailbox",
                json!({"Identity": upn,
                    "GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "add": [grantee]}}),
                format!("Granted {grantee} SendOnBehalf permissions to {upn}"),
            ),
        }
    }
}

/// Gives `grant` on the mailbox to each grantee, one line each; a failed grantee is a failed
/// line and never stops the others.
async fn grant_each(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    grantees: &[String],
    grant: Grant,
) -> StepOutcome {
    let mut lines = Vec::new();
    for grantee in grantees.iter().filter(|g| !g.trim().is_empty()) {
        let (cmdlet, parameters, done) = grant.call(upn, grantee);
        let failed = format!("Failed to Add {} for {grantee} on {upn}:", grant.name());
        let line = exchange_line(graph, tenant, upn, cmdlet, parameters, done, failed)
            .await
            .unwrap_or_else(|e| e.to_string());
        lines.push(line);
    }
    outcome_of(lines)
}

/// Removes the user from every group Graph lets us change, one line per group (CIPP's texts).
async fn remove_groups(graph: &GraphClient, tenant: &str, upn: &str) -> Vec<String> {
    let user = match graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{}?$select=id", urlencoding(upn)),
            &[],
        )
        .await
    {
        Ok(user) => user,
        Err(error) => {
            return vec![format!(
                "Error: could not read {upn}: {}",
                normalize_graph_error(&error)
            )];
        }
    };
    let Some(user_id) = user.get("id").and_then(Value::as_str) else {
        return vec![format!("Error: Graph gave no id for {upn}")];
    };
    let groups = match graph
        .get_all(
            tenant,
            GraphVersion::V1,
            &format!(
                "users/{user_id}/memberOf/microsoft.graph.group?$select=id,displayName,groupTypes,onPremisesSyncEnabled"
            ),
            &[],
        )
        .await
    {
        Ok(groups) => groups,
        Err(error) => {
            return vec![format!(
                "Error: could not list the groups of {upn}: {}",
                normalize_graph_error(&error)
            )];
        }
    };
    if groups.is_empty() {
        return vec![format!("{upn} is not a member of any groups.")];
    }
    let mut lines = Vec::with_capacity(groups.len());
    for group in &groups {
        let name = group
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(id) = group.get("id").and_then(Value::as_str) else {
            continue;
        };
        let dynamic = group
            .get("groupTypes")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|t| t == "DynamicMembership"));
        if dynamic {
            lines.push(format!(
                "Error: Could not remove {upn} from group '{name}' because it is a Dynamic Group."
            ));
            continue;
        }
        if group.get("onPremisesSyncEnabled").and_then(Value::as_bool) == Some(true) {
            lines.push(format!(
                "Error: Could not remove {upn} from group '{name}' because it is synced with Active Directory."
            ));
            continue;
        }
        match graph
            .delete(
                tenant,
                GraphVersion::V1,
                &format!("groups/{id}/members/{user_id}/$ref"),
            )
            .await
        {
            Ok(()) => lines.push(format!("Successfully removed {upn} from group '{name}'")),
            Err(error) => lines.push(format!(
                "Could not remove {upn} from group '{name}': {}",
                normalize_graph_error(&error)
            )),
        }
    }
    lines
}

/// Takes away the user's rights on every other mailbox of the tenant: full access, Send As and
/// Send on Behalf, one line per right removed (CIPP's texts). CIPP reads a cached permission
/// report; this reads each mailbox's permissions, two Exchange calls a mailbox.
async fn remove_mailbox_permissions(graph: &GraphClient, tenant: &str, upn: &str) -> Vec<String> {
    let failed = |what: &str, error: &cipp_graph::GraphError| {
        format!(
            "Could not remove mailbox permissions for {upn}. Error: {what}: {}",
            normalize_graph_error(error)
        )
    };
    let mailboxes = match graph
        .exchange(
            tenant,
            "Get-Mailbox",
            json!({"ResultSize": "Unlimited"}),
            None,
        )
        .await
    {
        Ok(mailboxes) => mailboxes,
        Err(error) => return vec![failed("listing the mailboxes", &error)],
    };
    let text = |m: &Value, key: &str| {
        m.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    // How Exchange may name the user in a mailbox's Send on Behalf list.
    let names: Vec<String> = mailboxes
        .iter()
        .find(|m| text(m, "UserPrincipalName").eq_ignore_ascii_case(upn))
        .map(|m| {
            vec![
                upn.to_owned(),
                text(m, "Alias"),
                text(m, "DisplayName"),
                text(m, "Name"),
            ]
        })
        .unwrap_or_else(|| vec![upn.to_owned()])
        .into_iter()
        .filter(|n| !n.is_empty())
        .collect();
    let mut lines = Vec::new();
    for mailbox in &mailboxes {
        let target = text(mailbox, "UserPrincipalName");
        if target.is_empty() || target.eq_ignore_ascii_case(upn) {
            continue;
        }
        let full = graph
            .exchange(
                tenant,
                "Get-MailboxPermission",
                json!({"Identity": target, "User": upn}),
                Some(&target),
            )
            .await;
        let send_as = graph
            .exchange(
                tenant,
                "Get-RecipientPermission",
                json!({"Identity": target}),
                Some(&target),
            )
            .await;
        let mut removals: Vec<(&str, &str, Value)> = Vec::new();
        match full {
            Ok(aces) if aces.iter().any(|a| text(a, "User").eq_ignore_ascii_case(upn)) => removals.push((
                "FullAccess",
                "Remove-MailboxPermission",
                json!({"Identity": target, "User": upn, "AccessRights": ["FullAccess"], "InheritanceType": "All"}),
            )),
            Ok(_) => {}
            Err(error) => {
                lines.push(format!("Failed to remove permissions from {target} for {upn} : {}", normalize_graph_error(&error)));
                continue;
            }
        }
        match send_as {
            Ok(aces)
                if aces
                    .iter()
                    .any(|a| text(a, "Trustee").eq_ignore_ascii_case(upn)) =>
            {
                removals.push((
                    "SendAs",
                    "Remove-RecipientPermission",
                    json!({"Identity": target, "Trustee": upn, "AccessRights": ["SendAs"]}),
                ))
            }
            Ok(_) => {}
            Err(error) => {
                lines.push(format!(
                    "Failed to remove permissions from {target} for {upn} : {}",
                    normalize_graph_error(&error)
                ));
                continue;
            }
        }
        let on_behalf = mailbox
            .get("GrantSendOnBehalfTo")
            .and_then(Value::as_array)
            .is_some_and(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .any(|n| names.iter().any(|name| name.eq_ignore_ascii_case(n)))
            });
        if on_behalf {
            removals.push((
                "SendOnBehalf",
                "Set-Mailbox",
                json!({"Identity": target,
                    "GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "remove": [upn]}}),
            ));
        }
        for (right, cmdlet, parameters) in removals {
            match graph
                .exchange(tenant, cmdlet, parameters, Some(&target))
                .await
            {
                Ok(_) => lines.push(format!(
                    "Removed {right} permissions for {upn} from {target}'s mailbox."
                )),
                Err(error) => lines.push(format!(
                    "Failed to remove permissions from {target} for {upn} : {}",
                    normalize_graph_error(&error)
                )),
            }
        }
    }
    if lines.is_empty() {
        lines.push(format!("No mailbox permissions found for {upn}"));
    }
    lines
}

/// Deletes every inbox rule of the mailbox.
async fn remove_rules(graph: &GraphClient, tenant: &str, upn: &str) -> Result<String, UserError> {
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to delete rules for {upn}. Error: {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    let rules = graph
        .exchange(tenant, "Get-InboxRule", json!({"Mailbox": upn}), Some(upn))
        .await
        .map_err(failed)?;
    if rules.is_empty() {
        return Ok(format!("No rules found for {upn} to delete"));
    }
    for rule in &rules {
        let identity = rule
            .get("Identity")
            .or_else(|| rule.get("RuleIdentity"))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        graph
            .exchange(
                tenant,
                "Remove-InboxRule",
                json!({"Mailbox": upn, "Identity": identity}),
                Some(upn),
            )
            .await
            .map_err(failed)?;
    }
    Ok(format!("Successfully deleted all rules for {upn}"))
}

/// Removes every licence assigned to the user.
async fn remove_licences(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
) -> Result<String, UserError> {
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Could not remove license for {upn}. Error: {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    let user = graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{}?$select=id,assignedLicenses", urlencoding(upn)),
            &[],
        )
        .await
        .map_err(failed)?;
    let skus: Vec<String> = user
        .get("assignedLicenses")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|l| l.get("skuId").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if skus.is_empty() {
        return Ok(format!("No licenses to remove for {upn}"));
    }
    let id = user.get("id").and_then(Value::as_str).unwrap_or(upn);
    graph
        .post(
            tenant,
            GraphVersion::V1,
            &format!("users/{id}/assignLicense"),
            &json!({"addLicenses": [], "removeLicenses": skus}),
        )
        .await
        .map_err(failed)?;
    let names: Vec<&str> = skus
        .iter()
        .map(|s| crate::licences::sku_display_name(s).unwrap_or(s.as_str()))
        .collect();
    Ok(format!(
        "Removed directly assigned licenses for {upn}: {}",
        names.join(", ")
    ))
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_cipps_order_and_delete_user_keeps_only_the_deletion() {
        let options = OffboardOptions {
            remove_licenses: true,
            convert_to_shared: true,
            revoke_sessions: true,
            ..OffboardOptions::default()
        };
        let names: Vec<String> = planned_steps(&options, true)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names,
            [
                "Revoke all sessions",
                "Convert to shared mailbox",
                "Remove licenses",
                "Notify via Webhook"
            ]
        );
        let deleting = OffboardOptions {
            delete_user: true,
            ..options
        };
        let names: Vec<String> = planned_steps(&deleting, false)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["Delete user"]);
    }

    #[test]
    fn an_empty_editor_document_is_no_out_of_office_message() {
        assert!(html_is_blank("<p></p>"));
        assert!(html_is_blank("<p>&nbsp;</p>"));
        assert!(!html_is_blank("<p>Away</p>"));
    }

    #[test]
    fn the_device_calendar_onedrive_and_teams_steps_run_in_cipps_order() {
        let body = json!({"removeCalendarInvites": true, "RemoveMobile": true, "WipeMobile": true,
            "OnedriveAccess": ["y"], "DisableOneDriveSharing": true, "RemoveRules": true,
            "removeCalendarPermissions": true, "RemoveTeamsPhoneDID": true, "RemoveLicenses": true,
            "removePermissions": true, "ConvertToShared": true});
        let options: OffboardOptions = serde_json::from_value(body).unwrap();
        let names: Vec<String> = planned_steps(&options, false)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names,
            [
                "Remove all rules",
                "Wipe mobile devices (account data only)",
                "Remove all mobile devices",
                "Cancel all calendar invites",
                "Grant OneDrive full access",
                "Disable OneDrive sharing links",
                "Remove user's mailbox permissions",
                "Remove user's calendar permissions",
                "Convert to shared mailbox",
                "Remove Teams phone DID",
                "Remove licenses",
            ]
        );
    }

    #[test]
    fn a_could_not_line_fails_the_step() {
        let outcome = outcome_of(vec![
            "Successfully removed a".into(),
            "Could not remove b".into(),
        ]);
        assert_eq!(outcome.state, StepState::Failed);
    }
}
