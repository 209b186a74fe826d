//! `ListUserMailboxDetails` (CIPP-API `Invoke-ListUserMailboxDetails.ps1`): one object describing
//! a mailbox, in CIPP's field names, for the user page's Exchange tab.
//!
//! Deliberate differences: CIPP swallows failed Exchange calls and answers 200 with nulls; here a
//! mailbox that cannot be read is an error, and a side read that fails (say, the CAS settings)
//! leaves its fields null and says so in `Warnings`. CIPP also downloads every user of the
//! tenant to turn ids into UPNs; here only the ids that appear are looked up.

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::mailbox_reads::failed;
use crate::normalize::normalize_graph_error;
use crate::op::types::{GraphRow, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{UserError, path_segment};

pub struct ListUserMailboxDetails;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
    /// The mailbox's address, to tell whether it is blocked for sending spam (not checked
    /// when absent).
    #[serde(rename = "userMail")]
    pub user_mail: Option<String>,
}

/// The mailbox as the Exchange tab shows it. Fields read from Exchange are null when Exchange
/// did not give them (a side read that failed is named in `Warnings`).
// The fields are named as CIPP names them, so the document and the answer read the same.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct ListUserMailboxDetailsRow {
    /// `DeliverToMailboxAndForward`: a copy stays in the mailbox while forwarding.
    #[schema(value_type = Option<bool>)]
    pub ForwardAndDeliver: Value,
    /// Where mail is forwarded: the SMTP address, or the internal recipient (as a UPN when it
    /// could be resolved); null when not forwarding.
    pub ForwardingAddress: Option<String>,
    #[schema(value_type = Option<bool>)]
    pub LitigationHold: Value,
    #[schema(value_type = Option<bool>)]
    pub RetentionHold: Value,
    #[schema(value_type = Option<bool>)]
    pub ComplianceTagHold: Value,
    /// Whether an in-place hold other than the kinds below applies.
    pub InPlaceHold: bool,
    /// Whether an eDiscovery hold (`UniH…`) applies.
    pub EDiscoveryHold: bool,
    /// Whether a Purview retention hold (`mbx…`, `skp…`) applies.
    pub PurviewRetentionHold: bool,
    /// Whether the mailbox is excluded from an organisation-wide hold (`-mbx…`).
    pub ExcludedFromOrgWideHold: bool,
    #[schema(value_type = Option<bool>)]
    pub HiddenFromAddressLists: Value,
    #[schema(value_type = Option<bool>)]
    pub EWSEnabled: Value,
    #[schema(value_type = Option<bool>)]
    pub MailboxMAPIEnabled: Value,
    #[schema(value_type = Option<bool>)]
    pub MailboxOWAEnabled: Value,
    #[schema(value_type = Option<bool>)]
    pub MailboxImapEnabled: Value,
    #[schema(value_type = Option<bool>)]
    pub MailboxPopEnabled: Value,
    #[schema(value_type = Option<bool>)]
    pub MailboxActiveSyncEnabled: Value,
    /// The mailbox's own setting, else the organisation's.
    #[schema(value_type = Option<bool>)]
    pub SmtpClientAuthenticationDisabled: Value,
    /// Full access, send-as and send-on-behalf grants to others.
    pub Permissions: Vec<ListUserMailboxDetailsPermission>,
    /// In GB (0 when unlimited).
    pub ProhibitSendQuota: f64,
    /// In GB (0 when unlimited).
    pub ProhibitSendReceiveQuota: f64,
    #[schema(value_type = Option<i64>)]
    pub ItemCount: Value,
    /// In GB.
    pub TotalItemSize: f64,
    /// In GB; null without an archive.
    pub TotalArchiveItemSize: Option<f64>,
    /// Null without an archive.
    #[schema(value_type = Option<i64>)]
    pub TotalArchiveItemCount: Value,
    /// Whether the address is on the tenant's restricted-senders list.
    pub BlockedForSpam: bool,
    /// Whether the mailbox has an online archive.
    pub ArchiveMailBox: bool,
    pub AutoExpandingArchive: bool,
    /// `Organization`, `Mailbox` or `None`.
    pub AutoExpandingArchiveScope: String,
    #[schema(value_type = Option<String>)]
    pub RecipientTypeDetails: Value,
    #[schema(value_type = Option<String>)]
    pub RetentionPolicy: Value,
    /// The row the tab's actions menu works on.
    pub MailboxActionsData: ListUserMailboxDetailsActions,
    /// The mailbox as Exchange's `Get-Mailbox` returns it.
    pub Mailbox: GraphRow,
    /// Side reads that failed (their fields are null); absent when all worked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Warnings: Option<Vec<String>>,
}

/// One grant on the mailbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct ListUserMailboxDetailsPermission {
    /// Who holds it (a UPN where an id could be resolved).
    pub User: String,
    /// The rights, comma-separated (`FullAccess`, `SendAs`, `SendOnBehalf`, …).
    pub AccessRights: String,
}

/// The mailbox fields the actions menu reads, from `Get-Mailbox`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct ListUserMailboxDetailsActions {
    #[schema(value_type = Option<String>)]
    pub id: Value,
    #[schema(value_type = Option<String>)]
    pub ExchangeGuid: Value,
    /// The all-zero GUID means no archive.
    #[schema(value_type = Option<String>)]
    pub ArchiveGuid: Value,
    #[schema(value_type = Option<String>)]
    pub WhenSoftDeleted: Value,
    #[schema(value_type = Option<String>)]
    pub UPN: Value,
    #[schema(value_type = Option<String>)]
    pub displayName: Value,
    #[schema(value_type = Option<String>)]
    pub primarySmtpAddress: Value,
    #[schema(value_type = Option<String>)]
    pub recipientType: Value,
    #[schema(value_type = Option<String>)]
    pub recipientTypeDetails: Value,
    /// The other SMTP addresses, comma-separated.
    pub AdditionalEmailAddresses: String,
    #[schema(value_type = Option<String>)]
    pub ForwardingSmtpAddress: Value,
    #[schema(value_type = Option<String>)]
    pub InternalForwardingAddress: Value,
    #[schema(value_type = Option<bool>)]
    pub DeliverToMailboxAndForward: Value,
    #[schema(value_type = Option<bool>)]
    pub HiddenFromAddressListsEnabled: Value,
    #[schema(value_type = Option<String>)]
    pub ExternalDirectoryObjectId: Value,
    #[schema(value_type = Option<bool>)]
    pub IsDirSynced: Value,
    #[schema(value_type = Option<bool>)]
    pub MessageCopyForSendOnBehalfEnabled: Value,
    #[schema(value_type = Option<bool>)]
    pub MessageCopyForSentAsEnabled: Value,
    #[schema(value_type = Option<bool>)]
    pub LitigationHoldEnabled: Value,
    #[schema(value_type = Option<String>)]
    pub LitigationHoldDate: Value,
    #[schema(value_type = Option<String>)]
    pub LitigationHoldDuration: Value,
    /// Whether the mailbox's plan allows litigation hold.
    pub LicensedForLitigationHold: bool,
    #[schema(value_type = Option<bool>)]
    pub ComplianceTagHoldApplied: Value,
    #[schema(value_type = Option<bool>)]
    pub RetentionHoldEnabled: Value,
    #[schema(value_type = Option<Vec<String>>)]
    pub InPlaceHolds: Value,
}

impl Operation for ListUserMailboxDetails {
    type Params = Params;
    /// One row, as CIPP answers.
    type Answer = Vec<ListUserMailboxDetailsRow>;
    const NAME: &'static str = "ListUserMailboxDetails";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserMailboxDetails.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "CIPP swallows failed Exchange calls and answers 200 with nulls; here a mailbox that cannot be read is an error (404 when there is none), and a side read that fails (say, the CAS settings) leaves its fields null and says so in `Warnings`. CIPP downloads every user of the tenant to turn ids into UPNs; here only the ids that appear are looked up. A missing `UserID`, or one that is neither an object id nor a user principal name, is a 400 naming it.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "UserID": crate::demo::USER,
            "userMail": crate::demo::USER,
        })
    }

    async fn run(
        ctx: Ctx,
        params: Params,
    ) -> Result<Outcome<Vec<ListUserMailboxDetailsRow>>, UserError> {
        let tenant = ctx.tenant()?;
        let row = mailbox_details(
            &ctx.graph,
            &tenant.customer_id,
            params.user_id.as_str(),
            params.user_mail.as_deref(),
        )
        .await?;
        Ok(Outcome::json(vec![row]))
    }
}

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";
const GB: f64 = 1_073_741_824.0;

fn is_not_found(error: &GraphError) -> bool {
    let text = error.to_string().to_lowercase();
    error.status() == Some(404)
        || text.contains("couldn't be found")
        || text.contains("could not be found")
}

/// One object describing the mailbox, in CIPP's field names.
pub async fn mailbox_details(
    graph: &GraphClient,
    tenant_id: &str,
    user_id: &str,
    user_mail: Option<&str>,
) -> Result<ListUserMailboxDetailsRow, UserError> {
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

    let mut rights: Vec<ListUserMailboxDetailsPermission> = Vec::new();
    for entry in permissions.iter().flatten() {
        let user = entry
            .get("User")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if user.eq_ignore_ascii_case("NT AUTHORITY\\SELF") || user.is_empty() {
            continue;
        }
        rights.push(ListUserMailboxDetailsPermission {
            User: display(&names, user),
            AccessRights: joined(entry.get("AccessRights")),
        });
    }
    for entry in send_as.iter().flatten() {
        let trustee = entry
            .get("Trustee")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if trustee.eq_ignore_ascii_case("NT AUTHORITY\\SELF") || trustee.is_empty() {
            continue;
        }
        rights.push(ListUserMailboxDetailsPermission {
            User: display(&names, trustee),
            AccessRights: joined(entry.get("AccessRights")),
        });
    }
    for delegate in mailbox
        .get("GrantSendOnBehalfTo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(delegate) = delegate.as_str() {
            rights.push(ListUserMailboxDetailsPermission {
                User: display(&names, delegate),
                AccessRights: "SendOnBehalf".to_owned(),
            });
        }
    }

    let forwarding = match mailbox
        .get("ForwardingSmtpAddress")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(smtp) => Some(strip_prefix_ci(smtp, "smtp:").to_owned()),
        None => match mailbox
            .get("ForwardingAddress")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(address) if address.contains('@') => Some(address.to_owned()),
            Some(address) => Some(display(&names, address)),
            None => None,
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

    let (archive_size, archive_count) = match (&archive_stats, archive) {
        (Some(s), true) => (
            Some(size_gb(s.get("TotalItemSize").unwrap_or(&Value::Null))),
            s.get("ItemCount").cloned().unwrap_or(Value::Null),
        ),
        _ => (None, Value::Null),
    };
    let hold = |name: &str| holds.get(name).copied().unwrap_or(false);
    Ok(ListUserMailboxDetailsRow {
        ForwardAndDeliver: field("DeliverToMailboxAndForward"),
        ForwardingAddress: forwarding,
        LitigationHold: field("LitigationHoldEnabled"),
        RetentionHold: field("RetentionHoldEnabled"),
        ComplianceTagHold: field("ComplianceTagHoldApplied"),
        InPlaceHold: hold("InPlaceHold"),
        EDiscoveryHold: hold("EDiscoveryHold"),
        PurviewRetentionHold: hold("PurviewRetentionHold"),
        ExcludedFromOrgWideHold: hold("ExcludedFromOrgWideHold"),
        HiddenFromAddressLists: field("HiddenFromAddressListsEnabled"),
        EWSEnabled: cas_field("EwsEnabled"),
        MailboxMAPIEnabled: cas_field("MAPIEnabled"),
        MailboxOWAEnabled: cas_field("OWAEnabled"),
        MailboxImapEnabled: cas_field("ImapEnabled"),
        MailboxPopEnabled: cas_field("PopEnabled"),
        MailboxActiveSyncEnabled: cas_field("ActiveSyncEnabled"),
        SmtpClientAuthenticationDisabled: match cas_field("SmtpClientAuthenticationDisabled") {
            Value::Null => org
                .as_ref()
                .and_then(|o| o.get("SmtpClientAuthenticationDisabled"))
                .cloned()
                .unwrap_or(Value::Null),
            own => own,
        },
        Permissions: rights,
        ProhibitSendQuota: quota_gb(&field("ProhibitSendQuota")),
        ProhibitSendReceiveQuota: quota_gb(&field("ProhibitSendReceiveQuota")),
        ItemCount: stat("ItemCount"),
        TotalItemSize: size_gb(&stat("TotalItemSize")),
        TotalArchiveItemSize: archive_size,
        TotalArchiveItemCount: archive_count,
        BlockedForSpam: blocked.is_some_and(|b| !b.is_empty()),
        ArchiveMailBox: archive,
        AutoExpandingArchive: auto_expanding,
        AutoExpandingArchiveScope: scope.to_owned(),
        RecipientTypeDetails: field("RecipientTypeDetails"),
        RetentionPolicy: field("RetentionPolicy"),
        MailboxActionsData: actions_data(&mailbox),
        Mailbox: match mailbox {
            Value::Object(fields) => GraphRow(fields),
            _ => GraphRow::default(),
        },
        Warnings: (!warnings.is_empty()).then_some(warnings),
    })
}

fn actions_data(mailbox: &Value) -> ListUserMailboxDetailsActions {
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
    ListUserMailboxDetailsActions {
        id: field("ExternalDirectoryObjectId"),
        ExchangeGuid: field("ExchangeGuid"),
        ArchiveGuid: field("ArchiveGuid"),
        WhenSoftDeleted: field("WhenSoftDeleted"),
        UPN: field("UserPrincipalName"),
        displayName: field("DisplayName"),
        primarySmtpAddress: field("PrimarySmtpAddress"),
        recipientType: field("RecipientType"),
        recipientTypeDetails: field("RecipientTypeDetails"),
        AdditionalEmailAddresses: aliases.join(", "),
        ForwardingSmtpAddress: field("ForwardingSmtpAddress"),
        InternalForwardingAddress: field("ForwardingAddress"),
        DeliverToMailboxAndForward: field("DeliverToMailboxAndForward"),
        HiddenFromAddressListsEnabled: field("HiddenFromAddressListsEnabled"),
        ExternalDirectoryObjectId: field("ExternalDirectoryObjectId"),
        IsDirSynced: field("IsDirSynced"),
        MessageCopyForSendOnBehalfEnabled: field("MessageCopyForSendOnBehalfEnabled"),
        MessageCopyForSentAsEnabled: field("MessageCopyForSentAsEnabled"),
        LitigationHoldEnabled: field("LitigationHoldEnabled"),
        LitigationHoldDate: field("LitigationHoldDate"),
        LitigationHoldDuration: field("LitigationHoldDuration"),
        LicensedForLitigationHold: licensed,
        ComplianceTagHoldApplied: field("ComplianceTagHoldApplied"),
        RetentionHoldEnabled: field("RetentionHoldEnabled"),
        InPlaceHolds: field("InPlaceHolds"),
    }
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
