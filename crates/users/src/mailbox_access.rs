//! Mailbox permissions as `ListmailboxPermissions` answers them: one mailbox's live rows (Full
//! Access, Send As, Send on Behalf), or the tenant-wide report CIPP builds from its reporting
//! database, here read live from Exchange.

use cipp_graph::GraphClient;
use futures::StreamExt;
use serde_json::{Map, Value, json};

use crate::UserError;
use crate::op::types::GraphRow;
use crate::read_support::failed;

/// Mailboxes whose permissions are read at once for the report.
const PERMISSION_READS: usize = 4;

/// One mailbox's rows, in CIPP's order: `GrantSendOnBehalfTo` (from `Get-Mailbox`), then
/// `Get-MailboxPermission` (`AccessRights` joined with `, `), then `Get-RecipientPermission`
/// (`Permissions` is Exchange's `AccessRights` array, as CIPP passes it on). `NT AUTHORITY\SELF`
/// stays, as in CIPP.
pub async fn mailbox_rows(
    graph: &GraphClient,
    tenant: &str,
    mailbox: &str,
) -> Result<Vec<GraphRow>, UserError> {
    let fail = |e| failed("", e);
    let identity = json!({"Identity": mailbox});
    let found = graph
        .exchange(tenant, "Get-Mailbox", identity.clone(), Some(mailbox))
        .await
        .map_err(fail)?;
    let permissions = graph
        .exchange(
            tenant,
            "Get-MailboxPermission",
            identity.clone(),
            Some(mailbox),
        )
        .await
        .map_err(fail)?;
    let recipient = graph
        .exchange(tenant, "Get-RecipientPermission", identity, Some(mailbox))
        .await
        .map_err(fail)?;
    let mut rows = Vec::new();
    for m in &found {
        for who in strings(m.get("GrantSendOnBehalfTo")) {
            rows.push(row(json!(who), json!("SendOnBehalf")));
        }
    }
    for p in &permissions {
        if let Some(user) = p.get("User").filter(|u| truthy(u)) {
            let rights = strings(p.get("AccessRights")).join(", ");
            rows.push(row(user.clone(), json!(rights)));
        }
    }
    for p in &recipient {
        if let Some(trustee) = p.get("Trustee").filter(|t| truthy(t)) {
            let rights = p
                .get("AccessRights")
                .or_else(|| p.get("accessRights"))
                .cloned()
                .unwrap_or(Value::Null);
            rows.push(row(trustee.clone(), rights));
        }
    }
    Ok(rows)
}

fn row(user: Value, permissions: Value) -> GraphRow {
    let mut out = Map::new();
    out.insert("User".into(), user);
    out.insert("Permissions".into(), permissions);
    GraphRow(out)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// One Full Access (etc.) grant on a mailbox, as the report keeps it.
struct Grant {
    mailbox_upn: String,
    mailbox_name: String,
    mailbox_type: String,
    user: String,
    rights: String,
}

/// The report `Get-CIPPMailboxPermissionReport` builds, from live reads: every mailbox's
/// `Get-MailboxPermission` entries except `NT AUTHORITY\SELF` and denials, grouped by mailbox or
/// (with `by_user`) by the user holding them. `read_at` stands in for both cache timestamps.
pub async fn permission_report(
    graph: &GraphClient,
    tenant_id: &str,
    tenant_name: &str,
    by_user: bool,
    read_at: &str,
) -> Result<Vec<GraphRow>, UserError> {
    let prefix = "Failed to generate mailbox permission report: ";
    let mailboxes = graph
        .exchange(
            tenant_id,
            "Get-Mailbox",
            json!({"ResultSize": "Unlimited"}),
            None,
        )
        .await
        .map_err(|e| failed(prefix, e))?;
    let text = |m: &Value, k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let reads = futures::stream::iter(mailboxes.iter().map(|m| {
        let upn = {
            let u = text(m, "UserPrincipalName");
            if u.is_empty() {
                text(m, "PrimarySmtpAddress")
            } else {
                u
            }
        };
        let name = text(m, "DisplayName");
        let kind = text(m, "RecipientTypeDetails");
        async move {
            let entries = graph
                .exchange(
                    tenant_id,
                    "Get-MailboxPermission",
                    json!({"Identity": upn}),
                    Some(&upn),
                )
                .await
                .map_err(|e| failed(prefix, e))?;
            Ok::<_, UserError>(
                entries
                    .iter()
                    .filter(|p| {
                        let user = p.get("User").and_then(Value::as_str).unwrap_or("");
                        !user.is_empty()
                            && user != "NT AUTHORITY\\SELF"
                            && p.get("Deny") != Some(&Value::Bool(true))
                    })
                    .map(|p| Grant {
                        mailbox_upn: upn.clone(),
                        mailbox_name: name.clone(),
                        mailbox_type: kind.clone(),
                        user: p
                            .get("User")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        rights: strings(p.get("AccessRights")).join(", "),
                    })
                    .collect::<Vec<_>>(),
            )
        }
    }))
    .buffered(PERMISSION_READS)
    .collect::<Vec<_>>()
    .await;
    let mut grants = Vec::new();
    for read in reads {
        grants.extend(read?);
    }
    let kind_of = |user: &str| {
        mailboxes
            .iter()
            .find(|m| {
                [
                    "UserPrincipalName",
                    "PrimarySmtpAddress",
                    "ExternalDirectoryObjectId",
                    "Id",
                ]
                .iter()
                .any(|k| text(m, k).eq_ignore_ascii_case(user) && !user.is_empty())
            })
            .map_or_else(|| "Unknown".to_owned(), |m| text(m, "RecipientTypeDetails"))
    };
    // Groups keep the order of first appearance; each report is then sorted as CIPP sorts it.
    let mut groups: Vec<(String, Vec<&Grant>)> = Vec::new();
    for g in &grants {
        let key = if by_user {
            if g.user.contains('@') {
                g.user.to_lowercase()
            } else {
                g.user.clone()
            }
        } else {
            g.mailbox_upn.clone()
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(g),
            None => groups.push((key, vec![g])),
        }
    }
    let mut rows: Vec<GraphRow> = groups
        .into_iter()
        .filter_map(|(_, list)| {
            let first = list.first()?;
            let value = if by_user {
                json!({
                    "User": first.user,
                    "UserMailboxType": kind_of(&first.user),
                    "MailboxCount": list.len(),
                    "Permissions": list.iter().map(|g| json!({
                        "Mailbox": g.mailbox_name,
                        "MailboxUPN": g.mailbox_upn,
                        "AccessRights": g.rights,
                    })).collect::<Vec<_>>(),
                    "Tenant": tenant_name,
                    "MailboxCacheTimestamp": read_at,
                    "PermissionCacheTimestamp": read_at,
                })
            } else {
                json!({
                    "MailboxUPN": first.mailbox_upn,
                    "MailboxDisplayName": first.mailbox_name,
                    "MailboxType": first.mailbox_type,
                    "PermissionCount": list.len(),
                    "Permissions": list.iter().map(|g| json!({
                        "User": g.user,
                        "AccessRights": g.rights,
                    })).collect::<Vec<_>>(),
                    "Tenant": tenant_name,
                    "MailboxCacheTimestamp": read_at,
                    "PermissionCacheTimestamp": read_at,
                })
            };
            match value {
                Value::Object(map) => Some(GraphRow(map)),
                _ => None,
            }
        })
        .collect();
    let sort_key = if by_user {
        "User"
    } else {
        "MailboxDisplayName"
    };
    rows.sort_by_key(|r| {
        r.0.get(sort_key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase()
    });
    Ok(rows)
}
