//! The containment actions that reach beyond the user's own account and mailbox settings
//! (upstream `Invoke-CIPPBecContainment`): tenant transport rules, mailbox add-ins, ActiveSync
//! block lists, Entra devices, a targeted Conditional Access policy (and the job removing it),
//! the Tenant Allow/Block List, and OneDrive sharing links.
//!
//! Without explicit targets each action picks upstream's defaults: what changed in the last
//! [`WINDOW_DAYS`] days and looks like an attacker's doing, or everything for the device lists.

use std::sync::Arc;

use cipp_graph::{GraphClient, GraphVersion};
use cipp_jobs::{JobKind, JobRow, StepOutcome, StepRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::containment::{CaPolicyChoice, ContainmentPayload, Line, RowState, section, text};
use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::UserId;
use crate::path_segment;

/// How far back "changed in the window" reaches, as upstream's default BEC window.
pub const WINDOW_DAYS: i64 = 7;

/// The job kind that removes a targeted Conditional Access policy when it expires.
pub const CA_REMOVAL_KIND: &str = "bec-ca-policy-removal";
const CA_REMOVAL_STEP: &str = "Remove the Conditional Access policy";

fn failed(error: cipp_graph::GraphError) -> UserError {
    UserError::Failed {
        message: normalize_graph_error(&error),
        source: Some(Box::new(error)),
    }
}

fn window_start() -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::days(WINDOW_DAYS)
}

/// Whether an Exchange or Graph timestamp falls in the window; unreadable ones do not.
fn in_window(stamp: &str) -> bool {
    let stamp = stamp.trim();
    let parsed = OffsetDateTime::parse(stamp, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{stamp}Z"), &Rfc3339));
    parsed.is_ok_and(|t| t >= window_start())
}

/// A list property that Exchange answers as an array, a string, or null.
fn addresses(value: &Value, key: &str) -> Vec<String> {
    match value.get(key) {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// A rule diverts or suppresses mail: it deletes messages, or sends copies or the message
/// itself to an address outside the tenant's accepted domains.
fn diverts(rule: &Value, accepted: &[String]) -> bool {
    if rule.get("DeleteMessage").and_then(Value::as_bool) == Some(true) {
        return true;
    }
    [
        "RedirectMessageTo",
        "BlindCopyTo",
        "CopyTo",
        "AddToRecipients",
    ]
    .iter()
    .flat_map(|key| addresses(rule, key))
    .any(|a| {
        let domain = domain_of(&a);
        !domain.is_empty() && !accepted.iter().any(|d| d.eq_ignore_ascii_case(domain))
    })
}

/// Tenant-wide: the chosen transport rules, or the enabled ones changed in the window that
/// divert or suppress mail.
pub async fn disable_transport_rules(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    chosen: &[String],
) -> Result<Vec<Line>, UserError> {
    const ID: &str = "DisableTransportRules";
    let rules = graph
        .exchange(tenant, "Get-TransportRule", json!({}), Some(upn))
        .await
        .map_err(failed)?;
    let wanted: Vec<&Value> = if chosen.is_empty() {
        let accepted: Vec<String> = graph
            .exchange(tenant, "Get-AcceptedDomain", json!({}), Some(upn))
            .await
            .map_err(failed)?
            .iter()
            .map(|d| text(d, "DomainName").to_owned())
            .collect();
        rules
            .iter()
            .filter(|r| text(r, "State").eq_ignore_ascii_case("Enabled"))
            .filter(|r| in_window(text(r, "WhenChanged")))
            .filter(|r| diverts(r, &accepted))
            .collect()
    } else {
        rules
            .iter()
            .filter(|r| {
                chosen.iter().any(|c| {
                    ["Identity", "Name", "Guid"]
                        .iter()
                        .any(|k| c.trim().eq_ignore_ascii_case(text(r, k)))
                })
            })
            .collect()
    };
    if wanted.is_empty() {
        return Ok(vec![Line::new(
            ID,
            RowState::Info,
            "No flagged transport rules changed in the window to disable",
        )]);
    }
    let mut lines = Vec::new();
    for rule in wanted {
        let name = text(rule, "Name");
        let identity = match text(rule, "Guid") {
            "" => name,
            guid => guid,
        };
        let call = graph
            .exchange(
                tenant,
                "Disable-TransportRule",
                json!({"Identity": identity, "Confirm": false}),
                Some(upn),
            )
            .await;
        lines.push(Line::of_call(
            ID,
            call,
            format!("Disabled transport rule '{name}'"),
            format!("Could not disable transport rule '{name}'"),
        ));
    }
    Ok(lines)
}

/// An add-in the user installed themselves from a publisher other than Microsoft.
fn flagged_add_in(app: &Value) -> bool {
    app.get("Enabled").and_then(Value::as_bool) != Some(false)
        && text(app, "Scope").eq_ignore_ascii_case("User")
        && !text(app, "ProviderName")
            .to_ascii_lowercase()
            .starts_with("microsoft")
}

/// The chosen add-ins of the mailbox, or its flagged user-installed ones.
pub async fn disable_add_ins(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    chosen: &[String],
) -> Result<Vec<Line>, UserError> {
    const ID: &str = "DisableMailboxAddIns";
    let apps = graph
        .exchange(tenant, "Get-App", json!({"Mailbox": upn}), Some(upn))
        .await
        .map_err(failed)?;
    let wanted: Vec<&Value> = apps
        .iter()
        .filter(|a| {
            if chosen.is_empty() {
                flagged_add_in(a)
            } else {
                chosen.iter().any(|c| {
                    c.trim().eq_ignore_ascii_case(text(a, "AppId"))
                        || c.trim().eq_ignore_ascii_case(text(a, "DisplayName"))
                })
            }
        })
        .collect();
    if wanted.is_empty() {
        return Ok(vec![Line::new(
            ID,
            RowState::Info,
            "No flagged add-ins to disable",
        )]);
    }
    let mut lines = Vec::new();
    for app in wanted {
        let id = text(app, "AppId");
        let call = graph
            .exchange(
                tenant,
                "Disable-App",
                json!({"Identity": id, "Mailbox": upn, "Confirm": false}),
                Some(upn),
            )
            .await;
        lines.push(Line::of_call(
            ID,
            call,
            format!("Disabled add-in {id} for {upn}"),
            format!("Could not disable add-in {id} for {upn}"),
        ));
    }
    Ok(lines)
}

/// One Set-CASMailbox adding the chosen partnerships' device ids (or every one's) to the
/// mailbox's ActiveSync block list.
pub async fn block_mobile_devices(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    chosen: &[String],
) -> Result<Vec<Line>, UserError> {
    const ID: &str = "BlockMobileDevices";
    let devices = graph
        .exchange(
            tenant,
            "Get-MobileDevice",
            json!({"Mailbox": upn}),
            Some(upn),
        )
        .await
        .map_err(failed)?;
    // A chosen id may be the partnership's Identity (as RemoveMobileDevices takes it) or the
    // device id the block list holds.
    let mut ids: Vec<String> = if chosen.is_empty() {
        devices
            .iter()
            .map(|d| text(d, "DeviceId").to_owned())
            .collect()
    } else {
        chosen
            .iter()
            .map(|c| {
                devices
                    .iter()
                    .find(|d| c.trim().eq_ignore_ascii_case(text(d, "Identity")))
                    .map_or_else(|| c.trim().to_owned(), |d| text(d, "DeviceId").to_owned())
            })
            .collect()
    };
    ids.retain(|id| !id.is_empty());
    ids.dedup();
    if ids.is_empty() {
        return Ok(vec![Line::new(
            ID,
            RowState::Info,
            "No mobile device partnerships found",
        )]);
    }
    let call = graph
        .exchange(
            tenant,
            "Set-CASMailbox",
            json!({"Identity": upn, "ActiveSyncBlockedDeviceIDs": {"@odata.type": "#Exchange.GenericHashTable", "Add": ids}}),
            Some(upn),
        )
        .await;
    Ok(match call {
        Ok(_) => ids
            .iter()
            .map(|id| {
                Line::new(
                    ID,
                    RowState::Success,
                    format!("Blocked mobile device {id} for {upn}"),
                )
            })
            .collect(),
        Err(error) => vec![Line::new(
            ID,
            RowState::Error,
            format!(
                "Could not block mobile devices {} for {upn}: {}",
                ids.join(", "),
                normalize_graph_error(&error)
            ),
        )],
    })
}

/// The chosen Entra devices of the user, or those registered in the window: disabled, or
/// deleted when `delete`.
pub async fn registered_devices(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    chosen: &[String],
    delete: bool,
) -> Result<Vec<Line>, UserError> {
    let id = if delete {
        "RemoveRegisteredDevices"
    } else {
        "DisableRegisteredDevices"
    };
    let path = format!(
        "users/{}/registeredDevices?$select=id,deviceId,displayName,registrationDateTime,accountEnabled",
        user.segment()
    );
    let devices = graph
        .get_all(tenant, GraphVersion::V1, &path, &[])
        .await
        .map_err(failed)?;
    let wanted: Vec<&Value> = devices
        .iter()
        .filter(|d| {
            if chosen.is_empty() {
                in_window(text(d, "registrationDateTime"))
            } else {
                chosen.iter().any(|c| {
                    c.trim().eq_ignore_ascii_case(text(d, "id"))
                        || c.trim().eq_ignore_ascii_case(text(d, "deviceId"))
                })
            }
        })
        .collect();
    if wanted.is_empty() {
        return Ok(vec![Line::new(
            id,
            RowState::Info,
            "No registered devices from the window to act on",
        )]);
    }
    let mut lines = Vec::new();
    for device in wanted {
        let (object, name) = (text(device, "id"), text(device, "displayName"));
        let path = format!("devices/{}", path_segment(object));
        let (call, done, verb) = if delete {
            (
                graph.delete(tenant, GraphVersion::V1, &path).await,
                "Deleted",
                "delete",
            )
        } else {
            (
                graph
                    .patch(
                        tenant,
                        GraphVersion::V1,
                        &path,
                        &json!({"accountEnabled": false}),
                    )
                    .await
                    .map(|_| ()),
                "Disabled",
                "disable",
            )
        };
        lines.push(Line::of_call(
            id,
            call,
            format!("{done} device '{name}' ({object})"),
            format!("Could not {verb} device '{name}' ({object})"),
        ));
    }
    Ok(lines)
}

/// Graph's policy state for `Parameters.CAPolicy.State`; `None` for an unknown one.
pub fn ca_state(choice: &CaPolicyChoice) -> Option<&'static str> {
    match choice.state.as_deref().map(str::trim) {
        None | Some("") => Some("enabled"),
        Some(s) if s.eq_ignore_ascii_case("enabled") => Some("enabled"),
        Some(s) if s.eq_ignore_ascii_case("reportOnly") => Some("enabledForReportingButNotEnabled"),
        Some(_) => None,
    }
}

/// The grant controls for `Parameters.CAPolicy.Controls`; `None` for an unknown choice.
pub fn ca_controls(choice: &CaPolicyChoice) -> Option<&'static [&'static str]> {
    match choice.controls.as_deref().map(str::trim) {
        None | Some("") => Some(&["mfa"]),
        Some(c) if c.eq_ignore_ascii_case("mfa") => Some(&["mfa"]),
        Some(c) if c.eq_ignore_ascii_case("mfaAndCompliantDevice") => {
            Some(&["mfa", "compliantDevice"])
        }
        Some(_) => None,
    }
}

/// What the removal job carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaRemovalPayload {
    #[serde(rename = "TenantId")]
    pub tenant_id: String,
    #[serde(rename = "PolicyId")]
    pub policy_id: String,
    #[serde(rename = "DisplayName")]
    pub display_name: String,
    #[serde(rename = "UserPrincipalName")]
    pub upn: String,
}

/// Creates the user's MFA policy and queues its removal at the chosen expiry.
pub async fn targeted_ca_policy(
    graph: &GraphClient,
    scheduler: Option<&cipp_jobs::Engine>,
    payload: &ContainmentPayload,
) -> Result<Vec<Line>, UserError> {
    const ID: &str = "TargetedCAPolicy";
    let (tenant, upn) = (payload.tenant_id.as_str(), payload.upn.as_str());
    let choice = &payload.targets.ca_policy;
    // Checked when the request came in; a job queued by an older version falls back here.
    let state = ca_state(choice).unwrap_or("enabled");
    let controls = ca_controls(choice).unwrap_or(&["mfa"]);
    let hours = choice.expires_hours.unwrap_or(24).clamp(1, 168);
    let user_id = match &payload.user_id {
        Some(id) if !id.trim().is_empty() => id.clone(),
        _ => {
            let user = UserId::from_field("username", upn)?;
            let found = graph
                .get(
                    tenant,
                    GraphVersion::V1,
                    &format!("users/{}?$select=id", user.segment()),
                    &[],
                )
                .await
                .map_err(failed)?;
            text(&found, "id").to_owned()
        }
    };
    let name = format!("CIPP BEC containment - {upn}");
    let body = json!({
        "displayName": name,
        "state": state,
        "conditions": {
            "users": {"includeUsers": [user_id]},
            "applications": {"includeApplications": ["All"]},
            "clientAppTypes": ["all"],
        },
        "grantControls": {"operator": "AND", "builtInControls": controls},
    });
    let created = graph
        .post(
            tenant,
            GraphVersion::V1,
            "identity/conditionalAccess/policies",
            &body,
        )
        .await
        .map_err(failed)?;
    let policy_id = created
        .as_ref()
        .map(|c| text(c, "id").to_owned())
        .unwrap_or_default();
    let expires = OffsetDateTime::now_utc() + time::Duration::hours(hours);
    let when = expires.format(&Rfc3339).unwrap_or_default();
    let created_text = format!("Created Conditional Access policy '{name}' for {upn}");
    let removal = CaRemovalPayload {
        tenant_id: tenant.to_owned(),
        policy_id: policy_id.clone(),
        display_name: name.clone(),
        upn: upn.to_owned(),
    };
    let scheduled = match (scheduler, policy_id.is_empty()) {
        (Some(engine), false) => schedule_removal(engine, payload, &removal, expires).await,
        (None, _) => Err("no job engine to schedule it on".to_owned()),
        (_, true) => Err("Graph answered no policy id".to_owned()),
    };
    Ok(vec![match scheduled {
        Ok(task) => Line::new(
            ID,
            RowState::Success,
            format!("{created_text}; it will be removed at {when} (scheduled task {task})"),
        ),
        Err(reason) => Line::new(
            ID,
            RowState::Warning,
            format!(
                "{created_text}, but its removal could not be scheduled ({reason}): remove it by hand"
            ),
        ),
    }])
}

async fn schedule_removal(
    engine: &cipp_jobs::Engine,
    payload: &ContainmentPayload,
    removal: &CaRemovalPayload,
    at: OffsetDateTime,
) -> Result<String, String> {
    let id = uuid::Uuid::new_v4().to_string();
    let job = cipp_jobs::NewJob {
        id: Some(id.clone()),
        // Its own deployment: the containment's progress should not wait hours for it.
        deployment_id: id.clone(),
        kind: CA_REMOVAL_KIND.to_owned(),
        tenant: payload.tenant_id.clone(),
        title: payload.upn.clone(),
        reference: payload.case_id.clone(),
        created_by: Some(payload.requested_by.clone()),
        payload: serde_json::to_value(removal).map_err(|e| e.to_string())?,
        steps: vec![cipp_jobs::NewStep {
            name: CA_REMOVAL_STEP.to_owned(),
            idempotent: true,
        }],
        run_at: Some(at),
    };
    engine.enqueue(job).await.map_err(|e| e.to_string())
}

/// Deletes the policy; one already gone is the goal reached.
pub async fn remove_ca_policy(
    graph: &GraphClient,
    removal: &CaRemovalPayload,
) -> Result<String, String> {
    let path = format!(
        "identity/conditionalAccess/policies/{}",
        path_segment(&removal.policy_id)
    );
    match graph
        .delete(&removal.tenant_id, GraphVersion::V1, &path)
        .await
    {
        Ok(()) => Ok(format!(
            "Removed Conditional Access policy '{}' for {}",
            removal.display_name, removal.upn
        )),
        Err(error) if error.status() == Some(404) => Ok(format!(
            "Conditional Access policy '{}' for {} was already removed",
            removal.display_name, removal.upn
        )),
        Err(error) => Err(format!(
            "Could not remove Conditional Access policy '{}': {}",
            removal.display_name,
            normalize_graph_error(&error)
        )),
    }
}

/// The job kind removing an expired targeted Conditional Access policy.
pub struct CaRemovalJob {
    pub graph: GraphClient,
}

impl CaRemovalJob {
    pub fn new(graph: GraphClient) -> Arc<Self> {
        Arc::new(Self { graph })
    }
}

#[async_trait::async_trait]
impl JobKind for CaRemovalJob {
    async fn run_step(&self, job: &JobRow, _step: &StepRow, _log: &[StepRow]) -> StepOutcome {
        let removal: CaRemovalPayload = match serde_json::from_value(job.payload.clone()) {
            Ok(removal) => removal,
            Err(error) => {
                return StepOutcome::failed(format!("The job's data is unreadable: {error}"));
            }
        };
        match remove_ca_policy(&self.graph, &removal).await {
            Ok(message) => StepOutcome::succeeded(message),
            Err(message) => StepOutcome::failed(message),
        }
    }
}

/// A plain `local@domain.tld` address, as the Tenant Allow/Block List takes senders.
pub fn is_sender_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.contains(char::is_whitespace)
        && !domain.contains('@')
        && !address.contains(['<', '>', ',', ';'])
}

/// The chosen senders on the Tenant Allow/Block List as blocked. The received-mail findings
/// upstream defaults to are not collected here, so without chosen senders nothing is blocked.
pub async fn block_senders(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    payload: &ContainmentPayload,
) -> Vec<Line> {
    const ID: &str = "BlockSenders";
    let senders: Vec<&str> = payload
        .targets
        .block_senders
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if senders.is_empty() {
        return vec![Line::new(
            ID,
            RowState::Info,
            "No phishing-shaped senders from the run to block",
        )];
    }
    let notes = match &payload.case_id {
        Some(case) => format!("Blocked from BEC case {case}"),
        None => format!("Blocked from BEC containment of {upn}"),
    };
    let mut lines = Vec::new();
    for sender in senders {
        let call = graph
            .exchange(
                tenant,
                "New-TenantAllowBlockListItems",
                json!({"ListType": "Sender", "Block": true, "Entries": [sender], "Notes": notes, "NoExpiration": true}),
                Some(upn),
            )
            .await;
        lines.push(Line::of_call(
            ID,
            call,
            format!("Added {sender} to the tenant Block list (Sender)"),
            format!("Could not add {sender} to the tenant Block list"),
        ));
    }
    lines
}

/// The part of a OneDrive URL that is the same wherever the site is served from: from
/// `personal/` on, percent-decoded and lower-cased.
fn item_key(url: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(url)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    match decoded.find("/personal/") {
        Some(at) => decoded[at..].to_owned(),
        None => decoded,
    }
}

fn wide_link(permission: &Value) -> Option<&str> {
    let scope = permission["link"]["scope"].as_str()?;
    matches!(scope, "anonymous" | "organization").then_some(scope)
}

/// The anonymous and organisation links on the user's OneDrive files: the chosen links (or
/// the links of the chosen items), else those on the items the case's sharing findings name,
/// else every such link in the drive's top folder.
pub async fn remove_sharing_links(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    targets: &super::containment::ContainmentTargets,
    report: Option<&Value>,
) -> Result<Vec<Line>, UserError> {
    const ID: &str = "RemoveSharingLinks";
    let mut wanted: Vec<String> = targets
        .sharing_link_urls
        .iter()
        .filter(|u| !u.trim().is_empty())
        .map(|u| item_key(u.trim()))
        .collect();
    if wanted.is_empty() {
        wanted = section(report, "SharingChanges")
            .iter()
            .filter(|c| {
                let op = text(c, "Operation").to_ascii_lowercase();
                op.starts_with("anonymouslink") || op.starts_with("companylink")
            })
            .map(|c| item_key(text(c, "ItemUrl")))
            .filter(|u| !u.is_empty())
            .collect();
    }
    let user = UserId::from_field("username", upn)?;
    let drive = graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{}/drive?$select=id", user.segment()),
            &[],
        )
        .await
        .map_err(failed)?;
    let drive_id = path_segment(text(&drive, "id"));
    let items = graph
        .get_all(
            tenant,
            GraphVersion::V1,
            &format!("drives/{drive_id}/root/children"),
            &[],
        )
        .await
        .map_err(failed)?;
    let mut lines = Vec::new();
    for item in &items {
        let item_url = item_key(text(item, "webUrl"));
        let item_chosen = wanted.contains(&item_url);
        let item_id = path_segment(text(item, "id"));
        let permissions = graph
            .get_all(
                tenant,
                GraphVersion::V1,
                &format!("drives/{drive_id}/items/{item_id}/permissions"),
                &[],
            )
            .await
            .map_err(failed)?;
        let name = text(item, "name");
        for permission in &permissions {
            let Some(scope) = wide_link(permission) else {
                continue;
            };
            let link_url = item_key(permission["link"]["webUrl"].as_str().unwrap_or_default());
            if !(wanted.is_empty() || item_chosen || wanted.contains(&link_url)) {
                continue;
            }
            let perm = path_segment(text(permission, "id"));
            let path = format!("drives/{drive_id}/items/{item_id}/permissions/{perm}");
            lines.push(Line::of_call(
                ID,
                graph.delete(tenant, GraphVersion::V1, &path).await,
                format!("Removed the {scope} sharing link on '{name}' for {upn}"),
                format!("Could not remove the {scope} sharing link on '{name}' for {upn}"),
            ));
        }
    }
    if lines.is_empty() {
        lines.push(Line::new(
            ID,
            RowState::Info,
            "No sharing links from the run to remove",
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_diverts_when_it_copies_outside_the_accepted_domains_or_deletes() {
        let accepted = vec!["contoso.example".to_owned()];
        assert!(diverts(
            &json!({"BlindCopyTo": ["x@evil.example"]}),
            &accepted
        ));
        assert!(!diverts(
            &json!({"BlindCopyTo": ["audit@CONTOSO.example"], "DeleteMessage": false}),
            &accepted
        ));
        assert!(diverts(&json!({"DeleteMessage": true}), &accepted));
        assert!(diverts(
            &json!({"RedirectMessageTo": "a@b.example"}),
            &accepted
        ));
    }

    #[test]
    fn sender_addresses_are_plain_mailbox_addresses() {
        assert!(is_sender_address("billing@contoso-payments.example"));
        for bad in [
            "",
            "no-at",
            "@x.example",
            "a@nodot",
            "a b@x.example",
            "a@x.example;b@y.example",
        ] {
            assert!(!is_sender_address(bad), "{bad}");
        }
    }

    #[test]
    fn onedrive_urls_compare_from_the_personal_segment_on() {
        assert_eq!(
            item_key("https://contoso-my.sharepoint.com/personal/a_b/Documents/Q4%20Payroll.xlsx"),
            item_key(
                "https://127.0.0.1:4000/_sp/contoso-my/personal/a_b/Documents/Q4 Payroll.xlsx"
            )
        );
    }

    #[test]
    fn ca_choices_map_to_graph_values_and_unknown_ones_are_refused() {
        let mut choice = CaPolicyChoice::default();
        assert_eq!(ca_state(&choice), Some("enabled"));
        assert_eq!(ca_controls(&choice), Some(&["mfa"][..]));
        choice.state = Some("reportonly".to_owned());
        choice.controls = Some("mfaAndCompliantDevice".to_owned());
        assert_eq!(ca_state(&choice), Some("enabledForReportingButNotEnabled"));
        assert_eq!(ca_controls(&choice), Some(&["mfa", "compliantDevice"][..]));
        choice.state = Some("on".to_owned());
        assert_eq!(ca_state(&choice), None);
    }
}
