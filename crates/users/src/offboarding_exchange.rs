//! Offboarding's Exchange steps beyond the mailbox switches: mobile devices, the meetings the
//! user organises, and the user's rights on other mailboxes' calendars (CIPP-API
//! `Remove-CIPPMobileDevice`, `Remove-CIPPCalendarInvites`, `Remove-CIPPCalendarPermissions`),
//! with CIPP's texts. A line reporting a failure starts with `Failed` or `Could not`, which
//! fails the step.

use cipp_graph::GraphClient;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::normalize::normalize_graph_error;

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Runs `cmdlet` (with `extra` parameters) on each of the user's mobile devices: the names of
/// the devices it worked on and of those it failed on, or why the devices could not be listed.
async fn each_device(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    cmdlet: &str,
    extra: Value,
) -> Result<(Vec<String>, Vec<String>), cipp_graph::GraphError> {
    let devices = graph
        .exchange(
            tenant,
            "Get-MobileDevice",
            json!({"Mailbox": upn}),
            Some(upn),
        )
        .await?;
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for device in &devices {
        let name = text(device, "FriendlyName").to_owned();
        let mut parameters = json!({"Identity": text(device, "Identity")});
        if let (Value::Object(p), Value::Object(e)) = (&mut parameters, &extra) {
            p.extend(e.clone());
        }
        match graph.exchange(tenant, cmdlet, parameters, Some(upn)).await {
            Ok(_) => done.push(name),
            Err(error) => {
                tracing::warn!(%error, device = %name, cmdlet, "a mobile device was not changed");
                failed.push(name);
            }
        }
    }
    Ok((done, failed))
}

/// Every ActiveSync partnership of the user removed (`Remove-CIPPMobileDevice`).
pub async fn remove_mobile_devices(graph: &GraphClient, tenant: &str, upn: &str) -> Vec<String> {
    vec![
        match each_device(graph, tenant, upn, "Remove-MobileDevice", json!({})).await {
            Err(error) => format!(
                "Failed to remove mobile devices for {upn}. Error: {}",
                normalize_graph_error(&error)
            ),
            Ok((removed, failed)) if failed.is_empty() => format!(
                "Successfully removed {} mobile devices for {upn}: {}",
                removed.len(),
                removed.join("; ")
            ),
            Ok((removed, failed)) => format!(
                "Failed to remove all mobile devices for {upn}. Successfully removed {} mobile devices: {}. Failed to remove {} mobile devices: {}",
                removed.len(),
                removed.join("; "),
                failed.len(),
                failed.join("; ")
            ),
        },
    ]
}

/// An account-only wipe (company data only, the device keeps its partnership) sent to each of
/// the user's mobile devices. CIPP's documentation describes the option; no upstream code was
/// found, so the texts follow `remove_mobile_devices`.
pub async fn wipe_mobile_devices(graph: &GraphClient, tenant: &str, upn: &str) -> Vec<String> {
    let account_only = json!({"AccountOnly": true, "Confirm": false});
    vec![
        match each_device(graph, tenant, upn, "Clear-MobileDevice", account_only).await {
            Err(error) => format!(
                "Failed to wipe mobile devices for {upn}. Error: {}",
                normalize_graph_error(&error)
            ),
            Ok((wiped, failed)) if failed.is_empty() => format!(
                "Successfully sent an account-only wipe to {} mobile devices for {upn}: {}",
                wiped.len(),
                wiped.join("; ")
            ),
            Ok((wiped, failed)) => format!(
                "Failed to wipe all mobile devices for {upn}. Sent an account-only wipe to {} mobile devices: {}. Failed to wipe {} mobile devices: {}",
                wiped.len(),
                wiped.join("; "),
                failed.len(),
                failed.join("; ")
            ),
        },
    ]
}

/// The meetings the user organises in the next 730 days cancelled (attendees are told).
pub async fn cancel_calendar_invites(graph: &GraphClient, tenant: &str, upn: &str) -> Vec<String> {
    let cancel = graph
        .exchange(
            tenant,
            "Remove-CalendarEvents",
            json!({"Identity": upn, "QueryWindowInDays": 730,
                "CancelOrganizedMeetings": true, "Confirm": false}),
            Some(upn),
        )
        .await;
    vec![match cancel {
        Ok(_) => format!("Successfully cancelled all calendar invites for {upn}"),
        Err(error) => format!(
            "Failed to cancel calendar invites for {upn}. Error: {}",
            normalize_graph_error(&error)
        ),
    }]
}

/// Calendars read at once while looking for the user's entries.
const CALENDAR_READS: usize = 8;

/// The user's entries removed from every other mailbox's Calendar folder. CIPP reads them from
/// its cached permission report (and says "No calendar permissions found … in cached data" when
/// the cache is empty); this reads every calendar live, so nothing is missed for a stale cache.
/// Only the folder named `Calendar` is looked at, as CIPP's default.
pub async fn remove_calendar_permissions(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
) -> Vec<String> {
    let could_not = |error: &cipp_graph::GraphError| {
        vec![format!(
            "Could not remove calendar permissions for {upn}. Error: {}",
            normalize_graph_error(error)
        )]
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
        Err(error) => return could_not(&error),
    };
    // Exchange lists a folder's trustees by display name.
    let display = mailboxes
        .iter()
        .find(|m| text(m, "UserPrincipalName").eq_ignore_ascii_case(upn))
        .map(|m| text(m, "DisplayName").to_owned())
        .filter(|d| !d.is_empty());
    let names: Vec<&str> = std::iter::once(upn).chain(display.as_deref()).collect();
    let calendars: Vec<String> = mailboxes
        .iter()
        .map(|m| text(m, "UserPrincipalName").to_owned())
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case(upn))
        .collect();
    // Owned inputs: a borrowing closure here is not general enough for the job's boxed future.
    let reads: Vec<_> = calendars
        .into_iter()
        .map(|target| {
            let (graph, tenant) = (graph.clone(), tenant.to_owned());
            async move {
                let identity = format!("{target}:\\Calendar");
                let entries = graph
                    .exchange(
                        &tenant,
                        "Get-MailboxFolderPermission",
                        json!({"Identity": identity}),
                        Some(&target),
                    )
                    .await;
                (target, identity, entries)
            }
        })
        .collect();
    let reads = futures::stream::iter(reads)
        .buffered(CALENDAR_READS)
        .collect::<Vec<_>>()
        .await;
    let mut lines = Vec::new();
    for (target, identity, entries) in reads {
        let entries = match entries {
            Ok(entries) => entries,
            Err(error) => {
                lines.push(format!(
                    "Failed to remove {upn} from calendar {target}: {}",
                    normalize_graph_error(&error)
                ));
                continue;
            }
        };
        for entry in entries {
            let trustee = text(&entry, "User");
            if !names.iter().any(|n| n.eq_ignore_ascii_case(trustee)) {
                continue;
            }
            let removal = graph
                .exchange(
                    tenant,
                    "Remove-MailboxFolderPermission",
                    json!({"Identity": identity, "User": trustee, "Confirm": false}),
                    Some(&target),
                )
                .await;
            lines.push(match removal {
                Ok(_) => format!("Removed {upn} from calendar {identity}"),
                Err(error) => format!(
                    "Failed to remove {upn} from calendar {target}: {}",
                    normalize_graph_error(&error)
                ),
            });
        }
    }
    if lines.is_empty() {
        lines.push(format!("No calendar permissions found for {upn}"));
    }
    lines
}
