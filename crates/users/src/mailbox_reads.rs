//! The Exchange tab's reads: `ListUserMailboxDetails`, `ListUserMailboxRules` and
//! `ListUserTrustedBlockedSenders` (CIPP-API `Invoke-ListUserMailboxDetails.ps1`,
//! `Invoke-ListUserMailboxRules.ps1`, `Invoke-ListUserTrustedBlockedSenders.ps1`).
//!
//! Deliberate differences: CIPP swallows failed Exchange calls and answers 200 with nulls; here a
//! mailbox that cannot be read is an error, and a side read that fails (say, the CAS settings)
//! leaves its fields null and says so in `Warnings`. CIPP also downloads every user of the
//! tenant to turn ids into UPNs; here only the ids that appear are looked up.

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use futures::future::join_all;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";
const GB: f64 = 1_073_741_824.0;

fn failed(prefix: String, error: GraphError) -> UserError {
    UserError::Failed {
        message: format!("{prefix} : Error: {}", normalize_graph_error(&error)),
        source: Some(Box::new(error)),
    }
}

fn is_not_found(error: &GraphError) -> bool {
    let text = error.to_string().to_lowercase();
    error.status() == Some(404)
        || text.contains("couldn't be found")
        || text.contains("could not be found")
}

/// `ListUserMailboxRules`: the mailbox's inbox rules, hidden ones included, without Exchange's
/// own junk-mail and out-of-office rules.
pub async fn mailbox_rules(
    graph: &GraphClient,
    tenant_id: &str,
    user_id: &str,
    user_email: Option<&str>,
) -> Result<Vec<Value>, UserError> {
    let shown = user_email
        .filter(|e| !e.trim().is_empty())
        .unwrap_or(user_id);
    let rules = graph
        .exchange(
            tenant_id,
            "Get-InboxRule",
            json!({"mailbox": user_id, "IncludeHidden": true}),
            Some(user_id),
        )
        .await
        .map_err(|e| failed(format!("Failed to retrieve mailbox rules for {shown}"), e))?;
    Ok(rules
        .into_iter()
        .filter(|rule| {
            let name = rule.get("Name").and_then(Value::as_str).unwrap_or_default();
            name != "Junk E-Mail Rule" && !name.starts_with("Microsoft.Exchange.OOF.")
        })
        .map(|mut rule| {
            if let Value::Object(fields) = &mut rule {
                fields.remove("RuleIdentity");
            }
            rule
        })
        .collect())
}

/// `ListUserTrustedBlockedSenders`: one row per trusted or blocked sender or domain.
pub async fn trusted_blocked_senders(
    graph: &GraphClient,
    tenant_id: &str,
    user_id: &str,
    user_principal_name: Option<&str>,
) -> Result<Vec<Value>, UserError> {
    let config = graph
        .exchange(
            tenant_id,
            "Get-MailboxJunkEmailConfiguration",
            json!({"Identity": user_id}),
            Some(user_id),
        )
        .await
        .map_err(|e| {
            failed(
                format!("Failed to retrieve junk email configuration for {user_id}"),
                e,
            )
        })?;
    let mut rows = Vec::new();
    for entry in &config {
        for (property, kind) in [
            ("TrustedSendersAndDomains", "Trusted Sender/Domain"),
            ("BlockedSendersAndDomains", "Blocked Sender/Domain"),
        ] {
            for value in entry
                .get(property)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(value) = value.as_str().filter(|v| !v.trim().is_empty()) else {
                    continue;
                };
                rows.push(json!({
                    "UserPrincipalName": user_principal_name,
                    "UserID": user_id,
                    "Type": kind,
                    "TypeProperty": property,
                    "Value": value,
                }));
            }
        }
    }
    Ok(rows)
}

/// `ListUserMailboxDetails`: one object describing the mailbox, in CIPP's field names.
pub async fn mailbox_details(
    graph: &GraphClient,
    tenant_id: &str,
    user_id: &str,
    user_mail: Option<&str>,
) -> Result<Vec<Value>, UserError> {
    let identity = json!({"Identity": user_id});
    let calls = vec![
        ("Get-Mailbox", identity.clone()),
        ("Get-MailboxPermission", identity.clone()),
        ("Get-CASMailbox", identity.clone()),
        ("Get-OrganizationConfig", json!({})),
        (
            "Get-MailboxStatistics",
            json!({"Identity": user_id, "Archive": true}),
        ),
        ("Get-RecipientPermission", identity.clone()),
        ("Get-MailboxStatistics", identity.clone()),
    ];
    let mut futures = Vec::new();
    for (cmdlet, params) in calls {
        // CIPP sends these as one Exchange batch anchored on the system mailbox: no user anchor.
        futures.push(graph.exchange(tenant_id, cmdlet, params, None));
    }
    let blocked = match user_mail.filter(|m| !m.trim().is_empty()) {
        Some(mail) => Some(
            graph
                .exchange(
                    tenant_id,
                    "Get-BlockedSenderAddress",
                    json!({"SenderAddress": mail}),
                    None,
                )
                .await,
        ),
        None => None,
    };
    let mut results = join_all(futures).await.into_iter();
    let mut next = || results.next().unwrap_or_else(|| Ok(Vec::new()));
    let (mailbox, permissions, cas, org, archive_stats, send_as, stats) =
        (next(), next(), next(), next(), next(), next(), next());
    let mailbox = match mailbox {
        Ok(mut list) if !list.is_empty() => list.swap_remove(0),
        Ok(_) => {
            return Err(UserError::NotFound {
                message: format!("No mailbox was found for {user_id}"),
            });
        }
        Err(error) if is_not_found(&error) => {
            return Err(UserError::NotFound {
                message: normalize_graph_error(&error),
            });
        }
        Err(error) => {
            return Err(failed(
                format!("Failed to retrieve mailbox details for {user_id}"),
                error,
            ));
        }
    };
    let mut warnings = Vec::new();
    let mut side = |name: &str, result: Result<Vec<Value>, GraphError>| match result {
        Ok(list) => Some(list),
        Err(error) => {
            warnings.push(format!("{name} failed: {}", normalize_graph_error(&error)));
            None
        }
    };
    let permissions = side("Get-MailboxPermission", permissions);
    let cas =
        side("Get-CASMailbox", cas).and_then(|mut l| (!l.is_empty()).then(|| l.swap_remove(0)));
    let org = side("Get-OrganizationConfig", org)
        .and_then(|mut l| (!l.is_empty()).then(|| l.swap_remove(0)));
    let archive_guid = mailbox
        .get("ArchiveGuid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let archive = !archive_guid.is_empty() && archive_guid != ZERO_GUID;
    // Without an archive, Exchange answers the archive statistics with "not found": no news.
    let archive_stats = if archive {
        side("Get-MailboxStatistics -Archive", archive_stats)
            .and_then(|mut l| (!l.is_empty()).then(|| l.swap_remove(0)))
    } else {
        None
    };
    let send_as = side("Get-RecipientPermission", send_as);
    let stats = side("Get-MailboxStatistics", stats)
        .and_then(|mut l| (!l.is_empty()).then(|| l.swap_remove(0)));
    let blocked = blocked.and_then(|b| side("Get-BlockedSenderAddress", b));

    let names = resolve_names(graph, tenant_id, &mailbox, permissions.as_deref()).await;
    let field = |name: &str| mailbox.get(name).cloned().unwrap_or(Value::Null);
    let flag = |value: &Value| match value {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
        Value::Number(n) => n.as_i64() == Some(1),
        _ => false,
    };

    let mut rights: Vec<Value> = Vec::new();
    for entry in permissions.iter().flatten() {
        let user = entry
            .get("User")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if user.eq_ignore_ascii_case("NT AUTHORITY\\SELF") || user.is_empty() {
            continue;
        }
        rights.push(json!({"User": display(&names, user), "AccessRights": joined(entry.get("AccessRights"))}));
    }
    for entry in send_as.iter().flatten() {
        let trustee = entry
            .get("Trustee")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if trustee.eq_ignore_ascii_case("NT AUTHORITY\\SELF") || trustee.is_empty() {
            continue;
        }
        rights.push(json!({"User": display(&names, trustee), "AccessRights": joined(entry.get("AccessRights"))}));
    }
    for delegate in mailbox
        .get("GrantSendOnBehalfTo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(delegate) = delegate.as_str() {
            rights.push(json!({"User": display(&names, delegate), "AccessRights": "SendOnBehalf"}));
        }
    }

    let forwarding = match mailbox
        .get("ForwardingSmtpAddress")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(smtp) => Value::String(strip_prefix_ci(smtp, "smtp:").to_owned()),
        None => match mailbox
            .get("ForwardingAddress")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(address) if address.contains('@') => Value::String(address.to_owned()),
            Some(address) => Value::String(display(&names, address)),
            None => Value::Null,
        },
    };

    let mut holds = BTreeMap::from([
        ("InPlaceHold", false),
        ("EDiscoveryHold", false),
        ("PurviewRetentionHold", false),
        ("ExcludedFromOrgWideHold", false),
    ]);
    for hold in mailbox
        .get("InPlaceHolds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let hold = hold.as_str().unwrap_or_default().to_ascii_lowercase();
        let kind = if hold.starts_with("unih") {
            "EDiscoveryHold"
        } else if hold.starts_with("-mbx") {
            "ExcludedFromOrgWideHold"
        } else if hold.starts_with("mbx") || hold.starts_with("skp") {
            "PurviewRetentionHold"
        } else {
            "InPlaceHold"
        };
        holds.insert(kind, true);
    }

    let (auto_expanding, scope) = if org
        .as_ref()
        .and_then(|o| o.get("AutoExpandingArchiveEnabled"))
        .is_some_and(flag)
    {
        (true, "Organization")
    } else if mailbox.get("AutoExpandingArchiveEnabled").is_some_and(flag) {
        (true, "Mailbox")
    } else {
        (false, "None")
    };
    let cas_field = |name: &str| {
        cas.as_ref()
            .and_then(|c| c.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let stat = |name: &str| {
        stats
            .as_ref()
            .and_then(|s| s.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };

    let mut details = Map::new();
    details.insert(
        "ForwardAndDeliver".into(),
        field("DeliverToMailboxAndForward"),
    );
    details.insert("ForwardingAddress".into(), forwarding);
    details.insert("LitigationHold".into(), field("LitigationHoldEnabled"));
    details.insert("RetentionHold".into(), field("RetentionHoldEnabled"));
    details.insert(
        "ComplianceTagHold".into(),
        field("ComplianceTagHoldApplied"),
    );
    for (name, on) in &holds {
        details.insert((*name).into(), json!(on));
    }
    details.insert(
        "HiddenFromAddressLists".into(),
        field("HiddenFromAddressListsEnabled"),
    );
    details.insert("EWSEnabled".into(), cas_field("EwsEnabled"));
    details.insert("MailboxMAPIEnabled".into(), cas_field("MAPIEnabled"));
    details.insert("MailboxOWAEnabled".into(), cas_field("OWAEnabled"));
    details.insert("MailboxImapEnabled".into(), cas_field("ImapEnabled"));
    details.insert("MailboxPopEnabled".into(), cas_field("PopEnabled"));
    details.insert(
        "MailboxActiveSyncEnabled".into(),
        cas_field("ActiveSyncEnabled"),
    );
    details.insert(
        "SmtpClientAuthenticationDisabled".into(),
        match cas_field("SmtpClientAuthenticationDisabled") {
            Value::Null => org
                .as_ref()
                .and_then(|o| o.get("SmtpClientAuthenticationDisabled"))
                .cloned()
                .unwrap_or(Value::Null),
            own => own,
        },
    );
    details.insert("Permissions".into(), Value::Array(rights));
    details.insert(
        "ProhibitSendQuota".into(),
        json!(quota_gb(&field("ProhibitSendQuota"))),
    );
    details.insert(
        "ProhibitSendReceiveQuota".into(),
        json!(quota_gb(&field("ProhibitSendReceiveQuota"))),
    );
    details.insert("ItemCount".into(), stat("ItemCount"));
    details.insert(
        "TotalItemSize".into(),
        json!(size_gb(&stat("TotalItemSize"))),
    );
    let (archive_size, archive_count) = match (&archive_stats, archive) {
        (Some(s), true) => (
            json!(size_gb(s.get("TotalItemSize").unwrap_or(&Value::Null))),
            s.get("ItemCount").cloned().unwrap_or(Value::Null),
        ),
        _ => (Value::Null, Value::Null),
    };
    details.insert("TotalArchiveItemSize".into(), archive_size);
    details.insert("TotalArchiveItemCount".into(), archive_count);
    details.insert(
        "BlockedForSpam".into(),
        json!(blocked.is_some_and(|b| !b.is_empty())),
    );
    details.insert("ArchiveMailBox".into(), json!(archive));
    details.insert("AutoExpandingArchive".into(), json!(auto_expanding));
    details.insert("AutoExpandingArchiveScope".into(), json!(scope));
    details.insert("RecipientTypeDetails".into(), field("RecipientTypeDetails"));
    details.insert("RetentionPolicy".into(), field("RetentionPolicy"));
    details.insert("MailboxActionsData".into(), actions_data(&mailbox));
    details.insert("Mailbox".into(), mailbox.clone());
    if !warnings.is_empty() {
        details.insert("Warnings".into(), json!(warnings));
    }
    Ok(vec![Value::Object(details)])
}

fn actions_data(mailbox: &Value) -> Value {
    let field = |name: &str| mailbox.get(name).cloned().unwrap_or(Value::Null);
    let aliases: Vec<String> = mailbox
        .get("EmailAddresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|a| a.strip_prefix("smtp:"))
        .map(str::to_owned)
        .collect();
    let capabilities: Vec<&str> = mailbox
        .get("PersistedCapabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let licensed = [
        "EXCHANGE_S_ARCHIVE_ADDON",
        "BPOS_S_ArchiveAddOn",
        "EXCHANGE_S_ENTERPRISE",
        "BPOS_S_DlpAddOn",
        "BPOS_S_Enterprise",
    ]
    .iter()
    .any(|c| capabilities.iter().any(|p| p.eq_ignore_ascii_case(c)));
    json!({
        "id": field("ExternalDirectoryObjectId"),
        "ExchangeGuid": field("ExchangeGuid"),
        "ArchiveGuid": field("ArchiveGuid"),
        "WhenSoftDeleted": field("WhenSoftDeleted"),
        "UPN": field("UserPrincipalName"),
        "displayName": field("DisplayName"),
        "primarySmtpAddress": field("PrimarySmtpAddress"),
        "recipientType": field("RecipientType"),
        "recipientTypeDetails": field("RecipientTypeDetails"),
        "AdditionalEmailAddresses": aliases.join(", "),
        "ForwardingSmtpAddress": field("ForwardingSmtpAddress"),
        "InternalForwardingAddress": field("ForwardingAddress"),
        "DeliverToMailboxAndForward": field("DeliverToMailboxAndForward"),
        "HiddenFromAddressListsEnabled": field("HiddenFromAddressListsEnabled"),
        "ExternalDirectoryObjectId": field("ExternalDirectoryObjectId"),
        "IsDirSynced": field("IsDirSynced"),
        "MessageCopyForSendOnBehalfEnabled": field("MessageCopyForSendOnBehalfEnabled"),
        "MessageCopyForSentAsEnabled": field("MessageCopyForSentAsEnabled"),
        "LitigationHoldEnabled": field("LitigationHoldEnabled"),
        "LitigationHoldDate": field("LitigationHoldDate"),
        "LitigationHoldDuration": field("LitigationHoldDuration"),
        "LicensedForLitigationHold": licensed,
        "ComplianceTagHoldApplied": field("ComplianceTagHoldApplied"),
        "RetentionHoldEnabled": field("RetentionHoldEnabled"),
        "InPlaceHolds": field("InPlaceHolds"),
    })
}

/// Ids (GUIDs) that appear as delegates, trustees or forwarding targets, turned into UPNs with
/// one Graph read each.
async fn resolve_names(
    graph: &GraphClient,
    tenant_id: &str,
    mailbox: &Value,
    permissions: Option<&[Value]>,
) -> BTreeMap<String, String> {
    let mut ids: Vec<String> = Vec::new();
    let mut consider = |value: &str| {
        if crate::is_guid(value) && !ids.iter().any(|i| i.eq_ignore_ascii_case(value)) {
            ids.push(value.to_owned());
        }
    };
    for delegate in mailbox
        .get("GrantSendOnBehalfTo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(d) = delegate.as_str() {
            consider(d);
        }
    }
    if let Some(f) = mailbox.get("ForwardingAddress").and_then(Value::as_str) {
        consider(f);
    }
    for entry in permissions.into_iter().flatten() {
        if let Some(u) = entry.get("User").and_then(Value::as_str) {
            consider(u);
        }
    }
    let lookups = ids.into_iter().map(|id| async move {
        let path = format!("users/{}?$select=id,userPrincipalName", path_segment(&id));
        let upn = graph
            .get(tenant_id, GraphVersion::Beta, &path, &[])
            .await
            .ok()
            .and_then(|u| {
                u.get("userPrincipalName")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        (id.to_ascii_lowercase(), upn)
    });
    join_all(lookups)
        .await
        .into_iter()
        .filter_map(|(id, upn)| upn.map(|u| (id, u)))
        .collect()
}

fn display(names: &BTreeMap<String, String>, value: &str) -> String {
    names
        .get(&value.to_ascii_lowercase())
        .cloned()
        .unwrap_or_else(|| value.to_owned())
}

fn joined(value: Option<&Value>) -> String {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> &'a str {
    if text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix) {
        &text[prefix.len()..]
    } else {
        text
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Exchange quotas read like `99 GB (106,300,440,576 bytes)`; CIPP keeps the first number (in
/// GB); `Unlimited` is 0.
pub fn quota_gb(value: &Value) -> f64 {
    value
        .as_str()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.replace(',', "").parse::<f64>().ok())
        .map(round2)
        .unwrap_or(0.0)
}

/// A size in GB: from the byte count in parentheses (`1.5 GB (1,610,612,736 bytes)`), from a
/// plain byte count, else 0.
pub fn size_gb(value: &Value) -> f64 {
    let bytes = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match (s.find('('), s.find(" bytes")) {
            (Some(open), Some(end)) if end > open => {
                s[open + 1..end].replace(',', "").trim().parse::<f64>().ok()
            }
            _ => s.replace(',', "").trim().parse::<f64>().ok(),
        },
        _ => None,
    };
    bytes.map(|b| round2(b / GB)).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_quotas_read_like_cipp() {
        assert_eq!(quota_gb(&json!("99 GB (106,300,440,576 bytes)")), 99.0);
        assert_eq!(quota_gb(&json!("Unlimited")), 0.0);
        assert_eq!(size_gb(&json!("1.5 GB (1,610,612,736 bytes)")), 1.5);
        assert_eq!(size_gb(&json!(2147483648u64)), 2.0);
        assert_eq!(size_gb(&Value::Null), 0.0);
    }
}
