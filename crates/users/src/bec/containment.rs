//! BEC containment (CIPP-API `Invoke-ExecBECRemediate.ps1` and
//! `Invoke-ListBECRemediationActions.ps1`, newest upstream): the catalogue of actions, the
//! request's selection rules, and the job kind that carries the selected actions out, one step
//! per action in the catalogue's order.
//!
//! Each action is its own step: a failure is an error row (`<Label> failed: <error>`) and never
//! stops the next action. A step's message is its rows' texts, one a line. The rows themselves
//! (with their states, and the new password for the request waiting on the job) are kept in
//! memory by [`Board`] while the job runs in this process; the password never reaches the job
//! database, the logs or the case.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use cipp_graph::{GraphClient, GraphVersion};
use cipp_jobs::{JobKind, JobRow, StepOutcome, StepRow, StepState};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::bec::containment_actions as actions;
use crate::normalize::normalize_graph_error;
use crate::offboarding_sharepoint::{SharingCapability, set_onedrive_sharing};
use crate::op::types::UserId;
use crate::path_segment;

/// The job kind's name in the engine.
pub const KIND: &str = "bec-containment";
/// The progress rows' `Source` for containment jobs.
pub const SOURCE: &str = "BECRemediation";

/// How much an action changes for the user (a `Critical` one needs the typed confirmation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum Impact {
    Critical,
    High,
    Medium,
}

/// One containment action of the catalogue.
#[derive(Debug)]
pub struct ContainmentAction {
    pub id: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub impact: Impact,
    pub reversible: bool,
    pub default_selected: bool,
    pub order: u32,
    /// The report section the frontend offers targets from.
    pub target_source: Option<&'static str>,
    /// The `Parameters` key holding the chosen targets.
    pub parameter_name: Option<&'static str>,
}

/// Upstream's catalogue, in upstream's order.
pub const CATALOGUE: [ContainmentAction; 21] = [
    ContainmentAction {
        id: "ResetPassword",
        label: "Reset password",
        description: "Sets a new random password (shown once, or as a PwPush link) and requires a change at next sign-in.",
        impact: Impact::Critical,
        reversible: false,
        default_selected: true,
        order: 1,
        target_source: None,
        parameter_name: None,
    },
    ContainmentAction {
        id: "DisableAccount",
        label: "Block sign-in",
        description: "Disables the account in Entra ID. Directory-synced accounts must also be disabled on-premises or the sync will re-enable them.",
        impact: Impact::Critical,
        reversible: true,
        default_selected: true,
        order: 2,
        target_source: None,
        parameter_name: None,
    },
    ContainmentAction {
        id: "RevokeSessions",
        label: "Revoke sessions",
        description: "Invalidates every refresh token so existing sessions and stolen tokens stop working.",
        impact: Impact::High,
        reversible: false,
        default_selected: true,
        order: 3,
        target_source: None,
        parameter_name: None,
    },
    ContainmentAction {
        id: "RemoveMFA",
        label: "Remove MFA methods",
        description: "Removes the selected authentication methods, or every method when none is selected, so an attacker-registered method cannot be used to get back in.",
        impact: Impact::High,
        reversible: false,
        default_selected: true,
        order: 4,
        target_source: Some("MFADevices"),
        parameter_name: Some("MfaMethodIds"),
    },
    ContainmentAction {
        id: "RemoveOAuthGrants",
        label: "Revoke application consents",
        description: "Deletes the selected OAuth consent grants and app-role assignments (flagged ones by default). Consent survives a password reset.",
        impact: Impact::Critical,
        reversible: false,
        default_selected: false,
        order: 5,
        target_source: Some("UserGrants"),
        parameter_name: Some("GrantIds"),
    },
    ContainmentAction {
        id: "DisableServicePrincipals",
        label: "Disable rogue applications tenant-wide",
        description: "Disables the service principal of every application that matched the rogue-app catalogs, for all users. Re-enable it from the enterprise applications page if it turns out to be legitimate.",
        impact: Impact::Critical,
        reversible: true,
        default_selected: false,
        order: 6,
        target_source: Some("UserGrants"),
        parameter_name: Some("ServicePrincipalIds"),
    },
    ContainmentAction {
        id: "DisableInboxRules",
        label: "Disable inbox rules",
        description: "Disables every inbox rule on the mailbox except the junk and out-of-office system rules, or only the selected ones.",
        impact: Impact::High,
        reversible: true,
        default_selected: true,
        order: 7,
        target_source: Some("NewRules"),
        parameter_name: Some("RuleIds"),
    },
    ContainmentAction {
        id: "ClearForwarding",
        label: "Clear mailbox forwarding",
        description: "Removes the mailbox forwarding address and SMTP forwarding address.",
        impact: Impact::High,
        reversible: true,
        default_selected: false,
        order: 8,
        target_source: Some("MailboxState"),
        parameter_name: None,
    },
    ContainmentAction {
        id: "ClearAutoReply",
        label: "Turn off automatic replies",
        description: "Disables the out-of-office auto-reply, a common diversion once a mailbox is taken over.",
        impact: Impact::Medium,
        reversible: true,
        default_selected: false,
        order: 9,
        target_source: Some("MailboxState"),
        parameter_name: None,
    },
    ContainmentAction {
        id: "RemoveDelegations",
        label: "Remove mailbox delegations",
        description: "Removes the selected FullAccess, SendAs, SendOnBehalf, folder and resource-delegate permissions (flagged ones by default).",
        impact: Impact::Critical,
        reversible: true,
        default_selected: false,
        order: 10,
        target_source: Some("Delegations"),
        parameter_name: Some("Delegations"),
    },
    ContainmentAction {
        id: "DisableTransportRules",
        label: "Disable transport rules",
        description: "Disables the selected tenant-wide transport rules (by default the flagged ones changed in the window). Affects every mailbox in the tenant.",
        impact: Impact::Critical,
        reversible: true,
        default_selected: false,
        order: 11,
        target_source: Some("TransportRulesFlagged"),
        parameter_name: Some("TransportRuleIds"),
    },
    ContainmentAction {
        id: "DisableMailboxAddIns",
        label: "Disable mailbox add-ins",
        description: "Disables the selected add-ins for this mailbox (flagged user-installed ones by default).",
        impact: Impact::Medium,
        reversible: true,
        default_selected: false,
        order: 12,
        target_source: Some("MailboxAddIns"),
        parameter_name: Some("AddInIds"),
    },
    ContainmentAction {
        id: "BlockProtocols",
        label: "Block legacy mailbox protocols",
        description: "Turns off the selected client protocols on the mailbox (EWS, IMAP, POP, ActiveSync and SMTP AUTH by default; OWA, MAPI and ECP optional).",
        impact: Impact::High,
        reversible: true,
        default_selected: true,
        order: 13,
        target_source: Some("MailboxState"),
        parameter_name: Some("Protocols"),
    },
    ContainmentAction {
        id: "BlockMobileDevices",
        label: "Block mobile device partnerships",
        description: "Adds the selected ActiveSync devices (all by default) to the mailbox block list.",
        impact: Impact::High,
        reversible: true,
        default_selected: false,
        order: 14,
        target_source: Some("SuspectUserDevices"),
        parameter_name: Some("MobileDeviceIds"),
    },
    ContainmentAction {
        id: "RemoveMobileDevices",
        label: "Remove mobile device partnerships",
        description: "Deletes the selected ActiveSync device partnerships (all by default); the device must re-pair to sync again.",
        impact: Impact::High,
        reversible: false,
        default_selected: false,
        order: 15,
        target_source: Some("SuspectUserDevices"),
        parameter_name: Some("MobileDeviceIds"),
    },
    ContainmentAction {
        id: "DisableRegisteredDevices",
        label: "Disable registered devices",
        description: "Disables the selected Entra devices (those registered in the window by default) so they can no longer satisfy device-based Conditional Access.",
        impact: Impact::High,
        reversible: true,
        default_selected: false,
        order: 16,
        target_source: Some("RegisteredDevices"),
        parameter_name: Some("RegisteredDeviceIds"),
    },
    ContainmentAction {
        id: "RemoveRegisteredDevices",
        label: "Delete registered devices",
        description: "Deletes the selected Entra device objects (those registered in the window by default).",
        impact: Impact::Critical,
        reversible: false,
        default_selected: false,
        order: 17,
        target_source: Some("RegisteredDevices"),
        parameter_name: Some("RegisteredDeviceIds"),
    },
    ContainmentAction {
        id: "TargetedCAPolicy",
        label: "Targeted Conditional Access policy",
        description: "Creates a Conditional Access policy for this user only that requires MFA (optionally plus a compliant device) for every application, and schedules its removal after the chosen number of hours.",
        impact: Impact::High,
        reversible: true,
        default_selected: false,
        order: 18,
        target_source: None,
        parameter_name: Some("CAPolicy"),
    },
    ContainmentAction {
        id: "DisableOneDriveSharing",
        label: "Disable OneDrive sharing",
        description: "Sets the user's OneDrive sharing capability to disabled. Existing links are not removed.",
        impact: Impact::Medium,
        reversible: true,
        default_selected: false,
        order: 19,
        target_source: Some("SharingChanges"),
        parameter_name: None,
    },
    ContainmentAction {
        id: "BlockSenders",
        label: "Block phishing senders tenant-wide",
        description: "Adds the phishing-shaped senders that reached this mailbox (from the received-mail findings) to the Tenant Allow/Block List as blocked senders, for every mailbox in the tenant. Reversible from the Tenant Allow/Block List page.",
        impact: Impact::Medium,
        reversible: true,
        default_selected: false,
        order: 20,
        target_source: Some("ReceivedMailFindings"),
        parameter_name: Some("BlockSenders"),
    },
    ContainmentAction {
        id: "RemoveSharingLinks",
        label: "Remove OneDrive/SharePoint sharing links",
        description: "Deletes the anonymous (\"anyone\") and company-wide sharing links the user created on OneDrive/SharePoint items in the window (from the sharing-change findings). Unlike disabling sharing, this revokes links that already exist and are the actual exposure. Not reversible - a removed link is gone, though it can be re-created.",
        impact: Impact::High,
        reversible: false,
        default_selected: false,
        order: 21,
        target_source: Some("SharingChanges"),
        parameter_name: Some("SharingLinkUrls"),
    },
];

/// What a request without `Actions` (CIPP's frontend up to 10.9) runs: upstream's legacy steps.
pub const LEGACY: [&str; 6] = [
    "ResetPassword",
    "DisableAccount",
    "RevokeSessions",
    "RemoveMFA",
    "DisableInboxRules",
    "DisableOneDriveSharing",
];

pub fn find(id: &str) -> Option<&'static ContainmentAction> {
    CATALOGUE
        .iter()
        .find(|a| a.id.eq_ignore_ascii_case(id.trim()))
}

fn by_label(label: &str) -> Option<&'static ContainmentAction> {
    CATALOGUE.iter().find(|a| a.label == label)
}

/// Why a selection cannot run: CIPP's texts.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectionError {
    #[error("Unknown containment action(s): {}", .0.join(", "))]
    Unknown(Vec<String>),
    #[error("Type the user's UPN ({upn}) to confirm: the selected actions include Critical changes ({})", .labels.join(", "))]
    Unconfirmed { upn: String, labels: Vec<String> },
}

/// The actions to run, in the catalogue's order: the default set when `requested` is empty,
/// else the ones named (ids in any case).
pub fn select(requested: &[String]) -> Result<Vec<&'static ContainmentAction>, SelectionError> {
    let requested: Vec<&str> = requested
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    if requested.is_empty() {
        return Ok(CATALOGUE.iter().filter(|a| a.default_selected).collect());
    }
    let unknown: Vec<String> = requested
        .iter()
        .filter(|r| find(r).is_none())
        .map(|r| (*r).to_owned())
        .collect();
    if !unknown.is_empty() {
        return Err(SelectionError::Unknown(unknown));
    }
    Ok(CATALOGUE
        .iter()
        .filter(|a| requested.iter().any(|r| a.id.eq_ignore_ascii_case(r)))
        .collect())
}

/// A selection with a Critical action runs only when `confirmation` is the user's UPN.
pub fn check_confirmation(
    selected: &[&ContainmentAction],
    upn: &str,
    confirmation: Option<&str>,
) -> Result<(), SelectionError> {
    let labels: Vec<String> = selected
        .iter()
        .filter(|a| a.impact == Impact::Critical)
        .map(|a| a.label.to_owned())
        .collect();
    let confirmed = confirmation.is_some_and(|c| c.trim().eq_ignore_ascii_case(upn));
    if labels.is_empty() || confirmed {
        Ok(())
    } else {
        Err(SelectionError::Unconfirmed {
            upn: upn.to_owned(),
            labels,
        })
    }
}

/// A mailbox permission to take away (`Parameters.Delegations`, or a flagged report entry).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Delegation {
    /// Who holds the permission (user principal name or alias).
    #[serde(rename = "Trustee", alias = "User", default)]
    pub trustee: String,
    /// `FullAccess`, `SendAs`, `SendOnBehalf`, or folder rights with `Folder`.
    #[serde(rename = "AccessRights", alias = "Permissions", default)]
    pub access_rights: Vec<String>,
    /// A folder of the mailbox (e.g. `Inbox`): the trustee's folder permission is removed.
    #[serde(rename = "Folder", skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

/// `Parameters`: the targets the caller chose per action. An empty list means the action's
/// default targets (the case report's flagged findings, or the live tenant).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ContainmentTargets {
    #[serde(rename = "MfaMethodIds", default)]
    pub mfa_method_ids: Vec<String>,
    #[serde(rename = "GrantIds", default)]
    pub grant_ids: Vec<String>,
    #[serde(rename = "AppRoleAssignmentIds", default)]
    pub app_role_assignment_ids: Vec<String>,
    #[serde(rename = "ServicePrincipalIds", default)]
    pub service_principal_ids: Vec<String>,
    /// Inbox rule identities as Get-InboxRule lists them.
    #[serde(rename = "RuleIds", default)]
    pub rule_ids: Vec<String>,
    #[serde(rename = "Delegations", default)]
    pub delegations: Vec<Delegation>,
    /// `EWS`, `IMAP`, `POP`, `ActiveSync`, `SMTP`, `OWA`, `MAPI`, `ECP`.
    #[serde(rename = "Protocols", default)]
    pub protocols: Vec<String>,
    /// Get-MobileDevice identities or ActiveSync device ids.
    #[serde(rename = "MobileDeviceIds", default)]
    pub mobile_device_ids: Vec<String>,
    /// Transport rule names or Guids.
    #[serde(rename = "TransportRuleIds", default)]
    pub transport_rule_ids: Vec<String>,
    /// Add-in AppIds (or display names) as Get-App lists them.
    #[serde(rename = "AddInIds", default)]
    pub add_in_ids: Vec<String>,
    /// Entra device object ids (or device ids).
    #[serde(rename = "RegisteredDeviceIds", default)]
    pub registered_device_ids: Vec<String>,
    /// How the targeted Conditional Access policy is made.
    #[serde(rename = "CAPolicy", default)]
    pub ca_policy: CaPolicyChoice,
    /// Sender addresses to block tenant-wide.
    #[serde(rename = "BlockSenders", default)]
    pub block_senders: Vec<String>,
    /// Sharing link URLs, or the URLs of the items whose links are removed.
    #[serde(rename = "SharingLinkUrls", default)]
    pub sharing_link_urls: Vec<String>,
}

/// `Parameters.CAPolicy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CaPolicyChoice {
    /// `enabled` (default) or `reportOnly`.
    #[serde(rename = "State", default)]
    pub state: Option<String>,
    /// `mfa` (default) or `mfaAndCompliantDevice`.
    #[serde(rename = "Controls", default)]
    pub controls: Option<String>,
    /// Hours until the policy is removed, 1 to 168 (default 24).
    #[serde(rename = "ExpiresHours", default)]
    pub expires_hours: Option<i64>,
}

/// A `Parameters` value no action can use: the field it is in, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct BadParameter {
    pub field: &'static str,
    pub message: String,
}

/// Checks the targets before anything runs, for a 400 naming the field.
pub fn check_parameters(targets: &ContainmentTargets) -> Result<(), BadParameter> {
    let unknown = unknown_protocols(targets);
    if !unknown.is_empty() {
        return Err(BadParameter {
            field: "Parameters.Protocols",
            message: format!("Unknown mailbox protocol(s): {}", unknown.join(", ")),
        });
    }
    let ca = &targets.ca_policy;
    if let Some(hours) = ca.expires_hours
        && !(1..=168).contains(&hours)
    {
        return Err(BadParameter {
            field: "Parameters.CAPolicy.ExpiresHours",
            message: format!("ExpiresHours must be between 1 and 168 (got {hours})"),
        });
    }
    if crate::bec::containment_actions::ca_state(ca).is_none() {
        return Err(BadParameter {
            field: "Parameters.CAPolicy.State",
            message: "State must be 'enabled' or 'reportOnly'".to_owned(),
        });
    }
    if crate::bec::containment_actions::ca_controls(ca).is_none() {
        return Err(BadParameter {
            field: "Parameters.CAPolicy.Controls",
            message: "Controls must be 'mfa' or 'mfaAndCompliantDevice'".to_owned(),
        });
    }
    let bad: Vec<&str> = targets
        .block_senders
        .iter()
        .map(|s| s.trim())
        .filter(|s| !crate::bec::containment_actions::is_sender_address(s))
        .collect();
    if !bad.is_empty() {
        return Err(BadParameter {
            field: "Parameters.BlockSenders",
            message: format!("Not a sender address: {}", bad.join(", ")),
        });
    }
    Ok(())
}

/// A client protocol: its name in rows, its Set-CASMailbox switch, and the value that blocks it.
struct Protocol {
    name: &'static str,
    switch: &'static str,
    blocked: bool,
}

const PROTOCOLS: [Protocol; 8] = [
    protocol("EWS", "EwsEnabled", false),
    protocol("IMAP", "ImapEnabled", false),
    protocol("POP", "PopEnabled", false),
    protocol("ActiveSync", "ActiveSyncEnabled", false),
    protocol("SMTP AUTH", "SmtpClientAuthenticationDisabled", true),
    protocol("OWA", "OWAEnabled", false),
    protocol("MAPI", "MAPIEnabled", false),
    protocol("ECP", "ECPEnabled", false),
];

const fn protocol(name: &'static str, switch: &'static str, blocked: bool) -> Protocol {
    Protocol {
        name,
        switch,
        blocked,
    }
}

fn find_protocol(name: &str) -> Option<&'static Protocol> {
    let wanted: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    PROTOCOLS.iter().find(|p| {
        let short = p.name.split(' ').next().unwrap_or(p.name);
        wanted.eq_ignore_ascii_case(short)
            || wanted.eq_ignore_ascii_case(&p.name.replace(' ', ""))
            || wanted.eq_ignore_ascii_case("SmtpClientAuthentication") && p.name == "SMTP AUTH"
    })
}

/// The `Protocols` names no protocol has, for a 400 before anything runs.
pub fn unknown_protocols(targets: &ContainmentTargets) -> Vec<String> {
    targets
        .protocols
        .iter()
        .filter(|p| !p.trim().is_empty() && find_protocol(p).is_none())
        .cloned()
        .collect()
}

/// What a containment job carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainmentPayload {
    #[serde(rename = "UserPrincipalName")]
    pub upn: String,
    #[serde(rename = "UserId")]
    pub user_id: Option<String>,
    #[serde(rename = "TenantId")]
    pub tenant_id: String,
    #[serde(rename = "CaseId")]
    pub case_id: Option<String>,
    #[serde(rename = "Actions")]
    pub actions: Vec<String>,
    #[serde(rename = "Parameters")]
    pub targets: ContainmentTargets,
    #[serde(rename = "RequestedBy")]
    pub requested_by: String,
}

/// A row's state as the frontend colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RowState {
    Success,
    Info,
    Warning,
    Error,
}

/// One result row of a run: `{resultText, state, Action, Target, copyField}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContainmentRow {
    #[serde(rename = "resultText")]
    pub result_text: String,
    pub state: RowState,
    /// The action's id (absent in answers to CIPP's legacy call).
    #[serde(rename = "Action", skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The user the action was for.
    #[serde(rename = "Target", skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The new password, for copying (ResetPassword, in the answer only).
    #[serde(rename = "copyField", skip_serializing_if = "Option::is_none")]
    pub copy_field: Option<String>,
}

/// A line an action produced. `text` never holds the password; `secret` (the text with it, and
/// the password) exists only in memory for a request waiting on the job.
#[derive(Clone)]
pub struct Line {
    pub action: &'static str,
    pub text: String,
    pub state: RowState,
    secret: Option<(SecretString, SecretString)>,
}

impl Line {
    pub(crate) fn new(action: &'static str, state: RowState, text: impl Into<String>) -> Self {
        Self {
            action,
            text: text.into(),
            state,
            secret: None,
        }
    }

    /// A call's line: `done` when it worked, else `failed` with the normalised error.
    pub(crate) fn of_call<T>(
        action: &'static str,
        call: Result<T, cipp_graph::GraphError>,
        done: String,
        failed: String,
    ) -> Self {
        match call {
            Ok(_) => Self::new(action, RowState::Success, done),
            Err(error) => Self::new(
                action,
                RowState::Error,
                format!("{failed}: {}", normalize_graph_error(&error)),
            ),
        }
    }

    /// A line of a text-only helper: an error when it reports a failure, as offboarding reads them.
    fn judged(action: &'static str, text: String) -> Self {
        let t = text.trim_start();
        let failed =
            t.starts_with("Error") || t.starts_with("Failed") || t.starts_with("Could not");
        let state = if failed {
            RowState::Error
        } else {
            RowState::Success
        };
        Self::new(action, state, text)
    }

    /// The row the caller sees; `reveal` puts the password back (the waiting request only).
    pub fn row(&self, target: &str, reveal: bool) -> ContainmentRow {
        let (text, copy) = match (&self.secret, reveal) {
            (Some((text, password)), true) => (
                text.expose_secret().to_owned(),
                Some(password.expose_secret().to_owned()),
            ),
            _ => (self.text.clone(), None),
        };
        ContainmentRow {
            result_text: text,
            state: self.state,
            action: Some(self.action.to_owned()),
            target: Some(target.to_owned()),
            copy_field: copy,
        }
    }
}

/// The rows of the containment jobs this process runs, by job id and step index, and which jobs
/// a request waits on (only those keep the new password, until the request is done).
#[derive(Default)]
pub struct Board {
    jobs: Mutex<HashMap<String, Entry>>,
    /// The engine, for the jobs an action schedules (a targeted CA policy's removal); set once
    /// the engine is built, since the engine is built with the containment kind in it.
    scheduler: std::sync::OnceLock<cipp_jobs::Engine>,
}

#[derive(Default)]
struct Entry {
    steps: BTreeMap<i32, Vec<Line>>,
    watched: bool,
}

impl Board {
    /// Gives the board the engine that later jobs are queued on.
    pub fn attach(&self, engine: cipp_jobs::Engine) {
        // Set once at startup; a second engine would be a wiring mistake, and the first stays.
        let _ = self.scheduler.set(engine);
    }

    pub(crate) fn scheduler(&self) -> Option<&cipp_jobs::Engine> {
        self.scheduler.get()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        // A panic elsewhere while holding the lock leaves plain data behind: keep using it.
        f(&mut self.jobs.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Marks `job` as awaited by a request, before it is queued; dropping the watch forgets it.
    pub fn watch(self: &Arc<Self>, job: &str) -> Watch {
        self.with(|jobs| jobs.entry(job.to_owned()).or_default().watched = true);
        Watch {
            board: self.clone(),
            job: job.to_owned(),
        }
    }

    fn record(&self, job: &str, step: i32, mut lines: Vec<Line>) {
        self.with(|jobs| {
            let entry = jobs.entry(job.to_owned()).or_default();
            if !entry.watched {
                for line in &mut lines {
                    line.secret = None;
                }
            }
            entry.steps.insert(step, lines);
        });
    }

    fn recorded(&self, job: &str) -> BTreeMap<i32, Vec<Line>> {
        self.with(|jobs| jobs.get(job).map(|e| e.steps.clone()).unwrap_or_default())
    }

    /// The job has finished: nobody needs its rows unless a request still waits.
    fn finished(&self, job: &str) {
        self.with(|jobs| {
            if jobs.get(job).is_some_and(|e| !e.watched) {
                jobs.remove(job);
            }
        });
    }
}

/// A request's hold on a job's rows; the rows (and the password) are dropped with it.
pub struct Watch {
    board: Arc<Board>,
    job: String,
}

impl Watch {
    pub fn recorded(&self) -> BTreeMap<i32, Vec<Line>> {
        self.board.recorded(&self.job)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.board.with(|jobs| jobs.remove(&self.job));
    }
}

/// A job's rows in step order: those recorded in memory, and for steps run elsewhere (another
/// replica, before a restart) one row per line of the step's message.
pub fn lines_of(steps: &[StepRow], recorded: &BTreeMap<i32, Vec<Line>>) -> Vec<Line> {
    let mut lines = Vec::new();
    for step in steps {
        if let Some(kept) = recorded.get(&step.idx) {
            lines.extend(kept.iter().cloned());
            continue;
        }
        let Some(message) = step.message.as_deref().filter(|m| !m.is_empty()) else {
            continue;
        };
        let action = by_label(&step.name).map_or("", |a| a.id);
        let state = match step.state {
            StepState::Succeeded => RowState::Success,
            StepState::Pending | StepState::Running => RowState::Info,
            _ => RowState::Error,
        };
        lines.extend(message.lines().map(|l| Line::new(action, state, l)));
    }
    lines
}

/// Runs containment steps with the same domain functions the single operations use.
pub struct ContainmentJob {
    pub graph: GraphClient,
    pub store: cipp_store::Store,
    pub board: Arc<Board>,
}

impl ContainmentJob {
    pub fn new(graph: GraphClient, store: cipp_store::Store, board: Arc<Board>) -> Arc<Self> {
        Arc::new(Self {
            graph,
            store,
            board,
        })
    }

    /// The case's report, when the run names a case that has one.
    async fn report(&self, case: Option<&str>) -> Option<Value> {
        let case = case?;
        match self.store.bec_get(case).await {
            Ok(found) => found.and_then(|c| c.results),
            Err(error) => {
                tracing::warn!(%error, case, "the case report could not be read for its targets");
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl JobKind for ContainmentJob {
    async fn run_step(&self, job: &JobRow, step: &StepRow, _log: &[StepRow]) -> StepOutcome {
        let payload: ContainmentPayload = match serde_json::from_value(job.payload.clone()) {
            Ok(payload) => payload,
            Err(error) => {
                return StepOutcome::failed(format!("The job's data is unreadable: {error}"));
            }
        };
        let Some(action) = by_label(&step.name) else {
            return StepOutcome::failed(format!("Unknown step '{}'", step.name));
        };
        let lines = match self.run_action(action, &payload).await {
            Ok(lines) => lines,
            Err(error) => vec![Line::new(
                action.id,
                RowState::Error,
                format!("{} failed: {error}", action.label),
            )],
        };
        let failed = lines.iter().any(|l| l.state == RowState::Error);
        let message = if lines.is_empty() {
            "Done".to_owned()
        } else {
            lines
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        self.board.record(&job.id, step.idx, lines);
        if failed {
            StepOutcome::failed(message)
        } else {
            StepOutcome::succeeded(message)
        }
    }

    async fn finished(&self, job: &JobRow, steps: &[StepRow]) {
        let Ok(payload) = serde_json::from_value::<ContainmentPayload>(job.payload.clone()) else {
            tracing::error!(job = %job.id, "a finished containment job's data is unreadable");
            return;
        };
        let lines = lines_of(steps, &self.board.recorded(&job.id));
        self.board.finished(&job.id);
        let mut log = format!(
            "Executed BEC containment for {} ({})",
            payload.upn,
            payload.actions.join(", ")
        );
        if let Some(case) = &payload.case_id {
            log.push_str(&format!(" [case {case}]"));
            let entry = json!({
                "At": time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                "By": payload.requested_by,
                "Actions": payload.actions,
                // `text` never holds the password: the case gets the redacted rows.
                "Results": lines.iter().map(|l| l.row(&payload.upn, false)).collect::<Vec<_>>(),
            });
            match self.store.bec_add_containment(case, &entry).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job = %job.id, case, "the case to record containment on no longer exists")
                }
                Err(error) => {
                    tracing::error!(%error, job = %job.id, case, "containment could not be recorded on the case")
                }
            }
        }
        tracing::info!(tenant = %job.tenant, "{log}");
        if let Err(error) = self
            .store
            .insert_audit(&audit_row(job, steps, &payload, log))
            .await
        {
            tracing::error!(%error, job = %job.id, "the finished containment's audit row could not be written");
        }
    }
}

/// The audit row of a finished run: who asked, the user, the actions, each step's outcome.
fn audit_row(
    job: &JobRow,
    steps: &[StepRow],
    payload: &ContainmentPayload,
    log: String,
) -> cipp_store::AuditEntry {
    let failed = steps
        .iter()
        .filter(|s| matches!(s.state, StepState::Failed | StepState::Unknown))
        .count();
    let (result, severity, status) = if failed == 0 {
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
    cipp_store::AuditEntry {
        id: uuid::Uuid::new_v4(),
        time: time::OffsetDateTime::now_utc(),
        actor: job.created_by.clone().unwrap_or_else(|| "job".to_owned()),
        actor_kind: cipp_store::ActorKind::Job,
        app_id: None,
        role: None,
        source_ip: None,
        tenant: Some(job.tenant.clone()),
        tenant_id: Some(payload.tenant_id.clone()),
        operation: "ExecBECRemediate".to_owned(),
        target: Some(payload.upn.clone()),
        parameters: json!({"TaskId": job.id, "DeploymentId": job.deployment_id,
            "CaseId": payload.case_id, "Actions": payload.actions}),
        result,
        message: format!("{log}: {failed} of {} actions failed", steps.len()),
        severity,
        correlation_id: job.deployment_id.clone(),
        status,
    }
}

impl ContainmentJob {
    /// One action; `Err` is the action's own failure (its row says `<Label> failed: …`).
    async fn run_action(
        &self,
        action: &'static ContainmentAction,
        payload: &ContainmentPayload,
    ) -> Result<Vec<Line>, UserError> {
        let (graph, tenant, upn) = (
            &self.graph,
            payload.tenant_id.as_str(),
            payload.upn.as_str(),
        );
        let user = UserId::from_field("username", upn)?;
        let targets = &payload.targets;
        let id = action.id;
        let one = |state, text: String| Ok(vec![Line::new(id, state, text)]);
        match id {
            "ResetPassword" => {
                let settings = crate::password::stored_settings(&self.store).await;
                let done = crate::operations::exec_reset_pass::reset_password(
                    graph, tenant, &user, None, true, &settings,
                )
                .await?;
                let password = done.copy_field.expose_secret();
                let mut line = Line::new(
                    id,
                    RowState::Success,
                    done.result_text
                        .expose_secret()
                        .replace(password, "[redacted]"),
                );
                line.secret = Some((done.result_text.clone(), done.copy_field.clone()));
                Ok(vec![line])
            }
            "DisableAccount" => {
                let change = crate::operations::exec_disable_user::change_sign_in_state(
                    graph, tenant, &user, false,
                )
                .await?;
                if change.synced {
                    one(
                        RowState::Warning,
                        format!(
                            "Sign-in blocked in Entra ID for {upn}, but the account is directory-synced: disable it on-premises too or the next sync re-enables it."
                        ),
                    )
                } else {
                    one(RowState::Success, change.message)
                }
            }
            "RevokeSessions" => one(
                RowState::Success,
                crate::operations::exec_revoke_sessions::revoke_sessions(
                    graph,
                    tenant,
                    &user,
                    Some(upn),
                )
                .await?,
            ),
            "RemoveMFA" => {
                use crate::operations::exec_reset_mfa::remove_user_mfa;
                if targets.mfa_method_ids.is_empty() {
                    return one(
                        RowState::Success,
                        remove_user_mfa(graph, tenant, &user, None).await?,
                    );
                }
                let mut lines = Vec::new();
                for method in &targets.mfa_method_ids {
                    lines.push(
                        match remove_user_mfa(graph, tenant, &user, Some(method)).await {
                            Ok(text) => Line::new(id, RowState::Success, text),
                            Err(error) => Line::new(id, RowState::Error, error.to_string()),
                        },
                    );
                }
                Ok(lines)
            }
            "RemoveOAuthGrants" => {
                let report = self.report(payload.case_id.as_deref()).await;
                Ok(revoke_consents(graph, tenant, &user, targets, report.as_ref()).await)
            }
            "DisableServicePrincipals" => {
                let report = self.report(payload.case_id.as_deref()).await;
                Ok(disable_service_principals(graph, tenant, targets, report.as_ref()).await)
            }
            "DisableInboxRules" => disable_inbox_rules(graph, tenant, upn, &targets.rule_ids).await,
            "ClearForwarding" => {
                use crate::operations::exec_email_forward::{Forwarding, set_forwarding};
                let lines =
                    set_forwarding(graph, tenant, &user, &Forwarding::Disabled, false).await?;
                Ok(lines.into_iter().map(|l| Line::judged(id, l)).collect())
            }
            "ClearAutoReply" => {
                crate::mailbox_flags::exchange_call(
                    graph,
                    tenant,
                    upn,
                    "Set-MailboxAutoReplyConfiguration",
                    json!({"Identity": upn, "AutoReplyState": "Disabled"}),
                    |reason| {
                        format!("Could not turn off automatic replies for {upn}. Error: {reason}")
                    },
                )
                .await?;
                one(
                    RowState::Success,
                    format!("Turned off automatic replies for {upn}"),
                )
            }
            "RemoveDelegations" => {
                let report = self.report(payload.case_id.as_deref()).await;
                Ok(remove_delegations(graph, tenant, upn, targets, report.as_ref()).await)
            }
            "BlockProtocols" => block_protocols(graph, tenant, upn, &targets.protocols).await,
            "RemoveMobileDevices" => {
                remove_mobile_devices(graph, tenant, upn, &targets.mobile_device_ids).await
            }
            "DisableOneDriveSharing" => one(
                RowState::Success,
                set_onedrive_sharing(graph, tenant, upn, SharingCapability::Disabled).await?,
            ),
            "DisableTransportRules" => {
                actions::disable_transport_rules(graph, tenant, upn, &targets.transport_rule_ids)
                    .await
            }
            "DisableMailboxAddIns" => {
                actions::disable_add_ins(graph, tenant, upn, &targets.add_in_ids).await
            }
            "BlockMobileDevices" => {
                actions::block_mobile_devices(graph, tenant, upn, &targets.mobile_device_ids).await
            }
            "DisableRegisteredDevices" | "RemoveRegisteredDevices" => {
                let delete = id == "RemoveRegisteredDevices";
                actions::registered_devices(
                    graph,
                    tenant,
                    &user,
                    &targets.registered_device_ids,
                    delete,
                )
                .await
            }
            "TargetedCAPolicy" => {
                let scheduler = self.board.scheduler();
                actions::targeted_ca_policy(graph, scheduler, payload).await
            }
            "BlockSenders" => Ok(actions::block_senders(graph, tenant, upn, payload).await),
            "RemoveSharingLinks" => {
                let report = self.report(payload.case_id.as_deref()).await;
                actions::remove_sharing_links(graph, tenant, upn, targets, report.as_ref()).await
            }
            other => one(
                RowState::Error,
                format!("{} failed: no runner for {other}", action.label),
            ),
        }
    }
}

pub(crate) fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A report list's entries (an absent report or field is an empty list).
pub(crate) fn section<'v>(report: Option<&'v Value>, key: &str) -> &'v [Value] {
    report
        .and_then(|r| r.get(key))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Explicit ids first; without any, the report's flagged consents (Risk `CatalogMatch` or
/// `High`): OAuth grants deleted, app-role assignments removed.
async fn revoke_consents(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    targets: &ContainmentTargets,
    report: Option<&Value>,
) -> Vec<Line> {
    const ID: &str = "RemoveOAuthGrants";
    let (mut grants, mut assignments) = (
        targets.grant_ids.clone(),
        targets.app_role_assignment_ids.clone(),
    );
    if grants.is_empty() && assignments.is_empty() {
        for consent in section(report, "UserGrants") {
            if !matches!(text(consent, "Risk"), "CatalogMatch" | "High") {
                continue;
            }
            let id = text(consent, "id").to_owned();
            if text(consent, "Kind")
                .to_ascii_lowercase()
                .contains("approle")
            {
                assignments.push(id);
            } else {
                grants.push(id);
            }
        }
    }
    if grants.is_empty() && assignments.is_empty() {
        return vec![Line::new(
            ID,
            RowState::Info,
            "No flagged application consents to revoke",
        )];
    }
    let mut lines = Vec::new();
    for grant in grants.iter().filter(|g| !g.is_empty()) {
        let path = format!("oauth2PermissionGrants/{}", path_segment(grant));
        lines.push(Line::of_call(
            ID,
            graph.delete(tenant, GraphVersion::V1, &path).await,
            format!("Revoked application consent {grant}"),
            format!("Could not revoke application consent {grant}"),
        ));
    }
    for assignment in assignments.iter().filter(|a| !a.is_empty()) {
        let path = format!(
            "users/{}/appRoleAssignments/{}",
            user.segment(),
            path_segment(assignment)
        );
        lines.push(Line::of_call(
            ID,
            graph.delete(tenant, GraphVersion::V1, &path).await,
            format!("Removed app role assignment {assignment}"),
            format!("Could not remove app role assignment {assignment}"),
        ));
    }
    lines
}

/// Explicit ids first; without any, the report's catalog-matched service principals and the
/// clients of catalog-matched consents, each disabled once.
async fn disable_service_principals(
    graph: &GraphClient,
    tenant: &str,
    targets: &ContainmentTargets,
    report: Option<&Value>,
) -> Vec<Line> {
    const ID: &str = "DisableServicePrincipals";
    let mut ids = targets.service_principal_ids.clone();
    if ids.is_empty() {
        ids.extend(
            section(report, "MaliciousSPs")
                .iter()
                .map(|sp| text(sp, "id").to_owned()),
        );
        ids.extend(
            section(report, "UserGrants")
                .iter()
                .filter(|g| text(g, "Risk") == "CatalogMatch")
                .map(|g| text(g, "ClientId").to_owned()),
        );
    }
    ids.retain(|id| !id.is_empty());
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.to_ascii_lowercase()));
    if ids.is_empty() {
        return vec![Line::new(
            ID,
            RowState::Info,
            "No catalog-matched applications to disable",
        )];
    }
    let mut lines = Vec::new();
    for sp in &ids {
        let path = format!("servicePrincipals/{}", path_segment(sp));
        let body = json!({"accountEnabled": false});
        lines.push(Line::of_call(
            ID,
            graph.patch(tenant, GraphVersion::V1, &path, &body).await,
            format!("Disabled service principal {sp} tenant-wide"),
            format!("Could not disable service principal {sp}"),
        ));
    }
    lines
}

/// Whether Exchange keeps the rule itself (junk mail, out of office): never disabled.
fn is_system_rule(name: &str) -> bool {
    name.eq_ignore_ascii_case("Junk E-Mail Rule") || name.starts_with("Microsoft.Exchange.OOF.")
}

/// Rules Exchange creates for a delegate's meeting forwarding; Disable-InboxRule refuses them.
fn is_delegate_rule(rule: &Value) -> bool {
    text(rule, "Name")
        .to_ascii_lowercase()
        .contains("delegate rule")
}

/// Upstream's `Disable-CIPPInboxRules`: the chosen rules, or every rule but the system ones.
async fn disable_inbox_rules(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    chosen: &[String],
) -> Result<Vec<Line>, UserError> {
    const ID: &str = "DisableInboxRules";
    let rules = graph
        .exchange(tenant, "Get-InboxRule", json!({"Mailbox": upn}), Some(upn))
        .await
        .map_err(|error| UserError::Failed {
            message: normalize_graph_error(&error),
            source: Some(Box::new(error)),
        })?;
    if rules.is_empty() && chosen.is_empty() {
        return Ok(vec![Line::new(
            ID,
            RowState::Info,
            format!("No inbox rules found for {upn}."),
        )]);
    }
    let identity = |r: &Value| text(r, "Identity").to_owned();
    let wanted: Vec<&Value> = rules
        .iter()
        .filter(|r| !is_system_rule(text(r, "Name")))
        .filter(|r| {
            chosen.is_empty()
                || chosen.iter().any(|c| {
                    c.eq_ignore_ascii_case(&identity(r))
                        || c.eq_ignore_ascii_case(text(r, "RuleIdentity"))
                        || c.eq_ignore_ascii_case(text(r, "Name"))
                })
        })
        .collect();
    if wanted.is_empty() {
        return Ok(vec![Line::new(
            ID,
            RowState::Info,
            format!(
                "Found {} inbox rule(s) for {upn}, but none require disabling (only system rules found).",
                rules.len()
            ),
        )]);
    }
    let (mut lines, mut disabled, mut skipped) = (Vec::new(), 0usize, 0usize);
    for rule in wanted {
        if is_delegate_rule(rule) {
            skipped += 1;
            continue;
        }
        let name = text(rule, "Name");
        let call = graph
            .exchange(
                tenant,
                "Disable-InboxRule",
                json!({"Identity": identity(rule), "Mailbox": upn}),
                Some(upn),
            )
            .await;
        match call {
            Ok(_) => disabled += 1,
            Err(error) => lines.push(Line::new(
                ID,
                RowState::Error,
                format!(
                    "Could not disable rule '{name}': {}",
                    normalize_graph_error(&error)
                ),
            )),
        }
    }
    if disabled > 0 {
        lines.push(Line::new(
            ID,
            RowState::Success,
            format!("Disabled {disabled} inbox rule(s) for {upn}."),
        ));
    }
    if skipped > 0 {
        lines.push(Line::new(
            ID,
            RowState::Info,
            format!("Skipped {skipped} Exchange-managed delegate rule(s) that cannot be disabled."),
        ));
    }
    Ok(lines)
}

/// The chosen delegations, or the report's flagged grants (`Add-MailboxPermission` on the
/// user's mailbox that targets the suspect), each removed with the cmdlet its right needs.
async fn remove_delegations(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    targets: &ContainmentTargets,
    report: Option<&Value>,
) -> Vec<Line> {
    const ID: &str = "RemoveDelegations";
    let mut delegations = targets.delegations.clone();
    if delegations.is_empty() {
        delegations = section(report, "MailboxPermissionChanges")
            .iter()
            .filter(|c| c.get("TargetsSuspect").and_then(Value::as_bool) == Some(true))
            .filter(|c| text(c, "Operation") == "Add-MailboxPermission")
            .map(|c| Delegation {
                trustee: text(c, "Trustee").to_owned(),
                access_rights: match c.get("Permissions") {
                    Some(Value::Array(list)) => list
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_owned()).collect(),
                    _ => vec!["FullAccess".to_owned()],
                },
                folder: None,
            })
            .collect();
    }
    delegations.retain(|d| !d.trustee.trim().is_empty());
    if delegations.is_empty() {
        return vec![Line::new(
            ID,
            RowState::Info,
            "No flagged delegations to remove",
        )];
    }
    let mut lines = Vec::new();
    for d in &delegations {
        let who = d.trustee.as_str();
        let rights = d.access_rights.join(", ");
        let (cmdlet, parameters) = if let Some(folder) = &d.folder {
            (
                "Remove-MailboxFolderPermission",
                json!({"Identity": format!("{upn}:\\{folder}"), "User": who, "Confirm": false}),
            )
        } else if d
            .access_rights
            .iter()
            .any(|r| r.eq_ignore_ascii_case("SendAs"))
        {
            (
                "Remove-RecipientPermission",
                json!({"Identity": upn, "Trustee": who, "AccessRights": ["SendAs"], "Confirm": false}),
            )
        } else if d
            .access_rights
            .iter()
            .any(|r| r.eq_ignore_ascii_case("SendOnBehalf"))
        {
            (
                "Set-Mailbox",
                json!({"Identity": upn,
                    "GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "remove": [who]}}),
            )
        } else {
            (
                "Remove-MailboxPermission",
                json!({"Identity": upn, "User": who, "AccessRights": d.access_rights, "InheritanceType": "All"}),
            )
        };
        lines.push(Line::of_call(
            ID,
            graph.exchange(tenant, cmdlet, parameters, Some(upn)).await,
            format!("Removed {rights} for {who} from {upn}"),
            format!("Could not remove {rights} for {who} from {upn}"),
        ));
    }
    lines
}

/// One Set-CASMailbox turning the chosen protocols (or the default five) off.
async fn block_protocols(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    chosen: &[String],
) -> Result<Vec<Line>, UserError> {
    let protocols: Vec<&Protocol> = if chosen.iter().all(|c| c.trim().is_empty()) {
        PROTOCOLS[..5].iter().collect()
    } else {
        chosen.iter().filter_map(|c| find_protocol(c)).collect()
    };
    let mut parameters = serde_json::Map::new();
    parameters.insert("Identity".to_owned(), json!(upn));
    for p in &protocols {
        parameters.insert(p.switch.to_owned(), json!(p.blocked));
    }
    let names: Vec<&str> = protocols.iter().map(|p| p.name).collect();
    crate::mailbox_flags::exchange_call(
        graph,
        tenant,
        upn,
        "Set-CASMailbox",
        Value::Object(parameters),
        |reason| {
            format!(
                "Could not disable {} for {upn}. Error: {reason}",
                names.join(", ")
            )
        },
    )
    .await?;
    Ok(vec![Line::new(
        "BlockProtocols",
        RowState::Success,
        format!("Disabled {} for {upn}", names.join(", ")),
    )])
}

/// The chosen partnerships, or every one the mailbox has (offboarding's removal).
async fn remove_mobile_devices(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    chosen: &[String],
) -> Result<Vec<Line>, UserError> {
    const ID: &str = "RemoveMobileDevices";
    if chosen.is_empty() {
        let devices = graph
            .exchange(
                tenant,
                "Get-MobileDevice",
                json!({"Mailbox": upn}),
                Some(upn),
            )
            .await
            .map_err(|error| UserError::Failed {
                message: normalize_graph_error(&error),
                source: Some(Box::new(error)),
            })?;
        if devices.is_empty() {
            return Ok(vec![Line::new(
                ID,
                RowState::Info,
                "No mobile device partnerships found",
            )]);
        }
        let lines = crate::offboarding_exchange::remove_mobile_devices(graph, tenant, upn).await;
        return Ok(lines.into_iter().map(|l| Line::judged(ID, l)).collect());
    }
    let mut lines = Vec::new();
    for device in chosen {
        let call = graph
            .exchange(
                tenant,
                "Remove-MobileDevice",
                json!({"Identity": device, "Confirm": false}),
                Some(upn),
            )
            .await;
        lines.push(Line::of_call(
            ID,
            call,
            format!("Removed mobile device {device} for {upn}"),
            format!("Could not remove mobile device {device} for {upn}"),
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_selection_is_the_default_set_in_catalogue_order() {
        let ids: Vec<&str> = select(&[]).unwrap().iter().map(|a| a.id).collect();
        assert_eq!(
            ids,
            [
                "ResetPassword",
                "DisableAccount",
                "RevokeSessions",
                "RemoveMFA",
                "DisableInboxRules",
                "BlockProtocols"
            ]
        );
    }

    #[test]
    fn unknown_ids_are_named_and_every_upstream_action_is_known() {
        let asked = vec![
            "Nope".to_owned(),
            "BlockSenders".to_owned(),
            "Other".to_owned(),
        ];
        assert_eq!(
            select(&asked).unwrap_err().to_string(),
            "Unknown containment action(s): Nope, Other"
        );
        let orders: Vec<u32> = CATALOGUE.iter().map(|a| a.order).collect();
        assert_eq!(orders, (1..=21).collect::<Vec<u32>>());
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let mut targets = ContainmentTargets::default();
        assert!(check_parameters(&targets).is_ok());
        targets.ca_policy.expires_hours = Some(169);
        assert_eq!(
            check_parameters(&targets).unwrap_err().field,
            "Parameters.CAPolicy.ExpiresHours"
        );
        targets.ca_policy.expires_hours = Some(168);
        targets.block_senders = vec!["ok@evil.example".to_owned(), "not an address".to_owned()];
        assert_eq!(
            check_parameters(&targets).unwrap_err(),
            BadParameter {
                field: "Parameters.BlockSenders",
                message: "Not a sender address: not an address".to_owned()
            }
        );
    }

    #[test]
    fn a_critical_action_needs_the_upn_typed_in_any_case() {
        let selected = select(&["RevokeSessions".to_owned(), "ResetPassword".to_owned()]).unwrap();
        assert_eq!(
            check_confirmation(&selected, "a@b.example", Some("nope"))
                .unwrap_err()
                .to_string(),
            "Type the user's UPN (a@b.example) to confirm: the selected actions include Critical changes (Reset password)"
        );
        assert!(check_confirmation(&selected, "a@b.example", Some(" A@B.example ")).is_ok());
        let high = select(&["RevokeSessions".to_owned()]).unwrap();
        assert!(check_confirmation(&high, "a@b.example", None).is_ok());
    }

    #[test]
    fn protocol_names_are_read_loosely_and_unknown_ones_are_named() {
        assert_eq!(
            find_protocol("smtp").map(|p| p.switch),
            Some("SmtpClientAuthenticationDisabled")
        );
        assert_eq!(
            find_protocol("SMTP AUTH").map(|p| p.name),
            Some("SMTP AUTH")
        );
        assert_eq!(
            find_protocol("activesync").map(|p| p.name),
            Some("ActiveSync")
        );
        let targets = ContainmentTargets {
            protocols: vec!["IMAP".to_owned(), "Gopher".to_owned()],
            ..ContainmentTargets::default()
        };
        assert_eq!(unknown_protocols(&targets), ["Gopher"]);
    }

    #[test]
    fn an_unwatched_job_keeps_no_password() {
        let board = Arc::new(Board::default());
        let mut line = Line::new(
            "ResetPassword",
            RowState::Success,
            "The new password is [redacted]",
        );
        line.secret = Some(("The new password is x".into(), "x".into()));
        board.record("job", 0, vec![line.clone()]);
        let kept = board.recorded("job");
        assert!(kept[&0][0].row("u", true).copy_field.is_none());
        let watch = board.watch("job2");
        board.record("job2", 0, vec![line]);
        let row = watch.recorded()[&0][0].row("u", true);
        assert_eq!(row.copy_field.as_deref(), Some("x"));
        drop(watch);
        assert!(board.recorded("job2").is_empty());
    }
}
