//! The BEC check's collectors. Each reads one kind of evidence and reports its own outcome
//! (complete, capped, skipped or error with the message) next to its data, and they all run at
//! once ([`collect`]), so one failing or slow search never hides or delays the others
//! (CIPP-API #2127: one failed audit-log search used to kill the whole run).
//!
//! The calls are upstream's (`Push-BECRun.ps1`, newest): the unified audit log through
//! Exchange's `Search-UnifiedAuditLog`, the sign-in log, inbox rules, junk-mail lists, the message
//! trace, mobile devices, and Graph's users, authentication methods, service principals,
//! OAuth consents and Intune devices.

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::normalize::normalize_graph_error;
use crate::path_segment;

/// The unified audit log's page size, and how many pages one search may read.
const AUDIT_PAGE: usize = 5000;
const AUDIT_MAX_PAGES: usize = 10;
/// The message trace's page size, and how many pages one window may read.
const TRACE_PAGE: usize = 5000;
const TRACE_MAX_PAGES: usize = 4;

/// Who and what a run looks at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subject {
    /// The tenant's default domain (Graph calls) and id (Exchange calls).
    pub tenant: String,
    pub tenant_id: String,
    pub user_id: String,
    pub upn: String,
    pub display_name: String,
    /// Entra's `usageLocation`, the country the user is expected in.
    pub usage_location: Option<String>,
    /// Start and end of the analysis window (RFC 3339).
    pub start: String,
    pub end: String,
}

/// One collector's outcome, as upstream's `Completeness` entries carry it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Status {
    #[serde(rename = "Complete")]
    pub complete: bool,
    #[serde(rename = "Cap")]
    pub cap: Option<String>,
    #[serde(rename = "Error")]
    pub error: Option<String>,
    #[serde(rename = "Skipped")]
    pub skipped: bool,
    #[serde(rename = "Requirement")]
    pub requirement: Option<String>,
    #[serde(rename = "Count")]
    pub count: usize,
    /// How long the collector took, in milliseconds (beside the run's `CollectionMs`, it shows
    /// the collectors ran at once).
    #[serde(rename = "DurationMs", default)]
    pub duration_ms: u64,
}

impl Status {
    fn complete(count: usize) -> Self {
        Self {
            complete: true,
            count,
            ..Self::default()
        }
    }

    fn capped(count: usize, cap: String) -> Self {
        Self {
            complete: false,
            cap: Some(cap),
            count,
            ..Self::default()
        }
    }

    fn failed(message: String) -> Self {
        Self {
            error: Some(message),
            ..Self::default()
        }
    }

    fn took(mut self, ms: u64) -> Self {
        self.duration_ms = ms;
        self
    }

    fn skipped(requirement: &str) -> Self {
        Self {
            skipped: true,
            requirement: Some(requirement.to_owned()),
            ..Self::default()
        }
    }
}

/// Everything the collectors found, before analysis: the report's raw lists and each
/// collector's status, by upstream's collector names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub audit_enabled: Option<bool>,
    pub extract_result: String,
    pub permission_records: Vec<Value>,
    pub user_records: Vec<Value>,
    pub sign_ins: Vec<Value>,
    pub sign_ins_error: Option<String>,
    pub mailbox_logons: Vec<Value>,
    pub mobile_devices: Vec<Value>,
    pub inbox_rules: Vec<Value>,
    pub trusted_senders: Vec<String>,
    pub blocked_senders: Vec<String>,
    pub safelist_error: Option<String>,
    pub sent_messages: Vec<Value>,
    pub users: Vec<Value>,
    pub mfa_methods: Vec<Value>,
    pub new_apps: Vec<Value>,
    pub catalog_apps: Vec<Value>,
    pub grants: Vec<Value>,
    pub intune_devices: Vec<Value>,
    pub intune_error: Option<String>,
    /// Collector name → status, in the order collectors are listed.
    pub completeness: Vec<(String, Status)>,
    /// The wall time of the whole collection, in milliseconds.
    pub collection_ms: u64,
}

/// Runs a collector and notes how long it took.
async fn timed<T>(collector: impl std::future::Future<Output = T>) -> (T, u64) {
    let begun = std::time::Instant::now();
    let out = collector.await;
    let ms = u64::try_from(begun.elapsed().as_millis()).unwrap_or(u64::MAX);
    (out, ms)
}

/// How a collector's failure reads in the report.
fn failure(error: &GraphError) -> String {
    normalize_graph_error(error)
}

/// Runs every collector at once and gathers what each found.
pub async fn collect(graph: &GraphClient, subject: &Subject, catalog_ids: &[String]) -> Evidence {
    let begun = std::time::Instant::now();
    let audit = async {
        let (enabled, config_ms) = timed(audit_enabled(graph, subject)).await;
        match enabled {
            Ok(true) => {
                let (permissions, user) = tokio::join!(
                    timed(permission_changes(graph, subject)),
                    timed(user_audit(graph, subject))
                );
                (Ok(true), config_ms, Some(permissions), Some(user))
            }
            Ok(false) => (Ok(false), config_ms, None, None),
            Err(e) => (Err(e), config_ms, None, None),
        }
    };
    let (
        (enabled, config_ms, permissions, user_records),
        sign_ins,
        logons,
        devices,
        rules,
        safelists,
        sent,
        users,
        methods,
        apps,
        catalog,
        grants,
        intune,
    ) = tokio::join!(
        audit,
        timed(sign_ins(graph, subject)),
        timed(mailbox_logons(graph, subject)),
        timed(mobile_devices(graph, subject)),
        timed(inbox_rules(graph, subject)),
        timed(safelists(graph, subject)),
        timed(sent_messages(graph, subject)),
        timed(tenant_users(graph, subject)),
        timed(mfa_methods(graph, subject)),
        timed(new_apps(graph, subject)),
        timed(catalog_apps(graph, subject, catalog_ids)),
        timed(user_grants(graph, subject)),
        timed(intune_devices(graph, subject)),
    );

    let mut evidence = Evidence::default();
    let c = &mut evidence.completeness;
    // The searches that need the audit log are skipped when it is off, and failed (with the
    // reason) when its configuration could not be read.
    let audit_missing = |reason: &Result<bool, String>| match reason {
        Err(e) => Status::failed(format!(
            "The audit log's configuration could not be read: {e}"
        )),
        _ => Status::skipped("the unified audit log, which is turned off in this tenant"),
    };
    let config_status = match &enabled {
        Ok(true) => Status::complete(1),
        Ok(false) => audit_missing(&enabled),
        Err(e) => Status::failed(e.clone()),
    };
    push(c, "AuditLog", config_status.took(config_ms));
    let mut search_error = None;
    match permissions {
        Some(((records, s), ms)) => {
            search_error = search_error.or(s.error.clone());
            evidence.permission_records = records;
            push(c, "MailboxPermissionChanges", s.took(ms));
        }
        None => push(c, "MailboxPermissionChanges", audit_missing(&enabled)),
    }
    match user_records {
        Some(((records, s), ms)) => {
            search_error = search_error.or(s.error.clone());
            evidence.user_records = records;
            for name in ["InboxRuleChanges", "SafelistChanges", "SharingChanges"] {
                push(c, name, s.clone().took(ms));
            }
        }
        None => {
            for name in ["InboxRuleChanges", "SafelistChanges", "SharingChanges"] {
                push(c, name, audit_missing(&enabled));
            }
        }
    }
    evidence.audit_enabled = enabled.as_ref().ok().copied();
    evidence.extract_result = match (&enabled, search_error.as_ref()) {
        (Ok(true), None) => "Successfully extracted logs from auditlog".to_owned(),
        (Ok(true), Some(e)) | (Err(e), _) => format!("Could not retrieve audit logs: {e}"),
        (Ok(false), _) => "AuditLog is disabled. Cannot perform full analysis".to_owned(),
    };

    let ((list, s, error), ms) = sign_ins;
    let s = s.took(ms);
    evidence.sign_ins = list;
    evidence.sign_ins_error = error;
    push(c, "SignIns", s);
    evidence.mailbox_logons = timed_list(c, "MailboxLogons", logons);
    evidence.mobile_devices = timed_list(c, "MobileDevices", devices);
    evidence.inbox_rules = timed_list(c, "InboxRules", rules);
    let ((trusted, blocked, s), ms) = safelists;
    let s = s.took(ms);
    evidence.safelist_error = s
        .error
        .as_ref()
        .map(|e| format!("Could not retrieve the trusted/blocked senders list: {e}"));
    evidence.trusted_senders = trusted;
    evidence.blocked_senders = blocked;
    push(c, "Safelists", s);
    evidence.sent_messages = timed_list(c, "SentMessages", sent);
    evidence.users = timed_list(c, "TenantUsers", users);
    evidence.mfa_methods = timed_list(c, "MFAMethods", methods);
    evidence.new_apps = timed_list(c, "NewApps", apps);
    evidence.catalog_apps = timed_list(c, "MaliciousSPs", catalog);
    evidence.grants = timed_list(c, "UserGrants", grants);
    let ((list, s), ms) = intune;
    let s = s.took(ms);
    evidence.intune_error = s.error.clone();
    evidence.intune_devices = list;
    push(c, "IntuneDevices", s);
    evidence.collection_ms = u64::try_from(begun.elapsed().as_millis()).unwrap_or(u64::MAX);
    evidence
}

/// Records a list collector's status with its time under `name`, and returns its list.
fn timed_list(
    completeness: &mut Vec<(String, Status)>,
    name: &str,
    ((list, status), ms): ((Vec<Value>, Status), u64),
) -> Vec<Value> {
    push(completeness, name, status.took(ms));
    list
}

fn push(completeness: &mut Vec<(String, Status)>, name: &str, status: Status) {
    completeness.push((name.to_owned(), status));
}

async fn audit_enabled(graph: &GraphClient, subject: &Subject) -> Result<bool, String> {
    let config = graph
        .exchange(
            &subject.tenant_id,
            "Get-AdminAuditLogConfig",
            json!({}),
            None,
        )
        .await
        .map_err(|e| failure(&e))?;
    Ok(config
        .first()
        .and_then(|c| c.get("UnifiedAuditLogIngestionEnabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false))
}

/// One `Search-UnifiedAuditLog` session: pages of up to 5,000 records until a short page, at
/// most ten pages (then capped, upstream's cap text).
async fn audit_search(
    graph: &GraphClient,
    subject: &Subject,
    operations: &[&str],
    user: Option<&str>,
) -> (Vec<Value>, Status) {
    let session = uuid::Uuid::new_v4().to_string();
    let mut parameters = json!({
        "StartDate": subject.start,
        "EndDate": subject.end,
        "Operations": operations,
        "SessionCommand": "ReturnLargeSet",
        "SessionId": session,
        "ResultSize": AUDIT_PAGE,
    });
    if let (Some(upn), Value::Object(p)) = (user, &mut parameters) {
        p.insert("UserIds".into(), json!([upn]));
    }
    let mut records = Vec::new();
    for _ in 0..AUDIT_MAX_PAGES {
        match graph
            .exchange(
                &subject.tenant_id,
                "Search-UnifiedAuditLog",
                parameters.clone(),
                Some(&subject.upn),
            )
            .await
        {
            Ok(page) => {
                let full = page.len() >= AUDIT_PAGE;
                records.extend(page);
                if !full {
                    let count = records.len();
                    return (records, Status::complete(count));
                }
            }
            Err(e) if records.is_empty() => return (records, Status::failed(failure(&e))),
            Err(e) => {
                let count = records.len();
                let cap = format!(
                    "stopped after {count} record(s) on a page error: {}",
                    failure(&e)
                );
                return (records, Status::capped(count, cap));
            }
        }
    }
    let count = records.len();
    (
        records,
        Status::capped(
            count,
            format!("{AUDIT_MAX_PAGES} pages of {AUDIT_PAGE} records in one search"),
        ),
    )
}

/// Tenant-wide mailbox and folder permission changes (any mailbox: a change on another
/// mailbox made from the suspect's session matters too).
async fn permission_changes(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    audit_search(
        graph,
        subject,
        &[
            "Remove-MailboxPermission",
            "Add-MailboxPermission",
            "UpdateCalendarDelegation",
            "AddFolderPermissions",
        ],
        None,
    )
    .await
}

/// The audit operations one user-scoped search reads: inbox rule changes, junk-mail list
/// changes and sharing.
pub const RULE_OPERATIONS: [&str; 4] = [
    "New-InboxRule",
    "Set-InboxRule",
    "Remove-InboxRule",
    "UpdateInboxRules",
];
pub const SAFELIST_OPERATION: &str = "Set-MailboxJunkEmailConfiguration";
pub const SHARING_OPERATIONS: [&str; 8] = [
    "SharingSet",
    "SharingInvitationCreated",
    "AnonymousLinkCreated",
    "AnonymousLinkUpdated",
    "SecureLinkCreated",
    "SecureLinkUpdated",
    "AddedToSecureLink",
    "CompanyLinkCreated",
];

async fn user_audit(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    let mut operations: Vec<&str> = RULE_OPERATIONS.to_vec();
    operations.push(SAFELIST_OPERATION);
    operations.extend(SHARING_OPERATIONS);
    audit_search(graph, subject, &operations, Some(&subject.upn)).await
}

/// The suspect's sign-ins in the window, every page.
async fn sign_ins(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status, Option<String>) {
    let path = format!(
        "auditLogs/signIns?$filter=(userId eq '{}') and createdDateTime ge {}&$top=999&$orderby=createdDateTime desc",
        subject.user_id, subject.start
    );
    match graph
        .get_all(&subject.tenant, GraphVersion::Beta, &path, &[])
        .await
    {
        Ok(list) => {
            let n = list.len();
            (list, Status::complete(n), None)
        }
        Err(e) => {
            let message = failure(&e);
            (
                Vec::new(),
                Status::failed(message.clone()),
                Some(format!("Could not retrieve sign-in logs: {message}")),
            )
        }
    }
}

/// The tenant's last 50 sign-ins (upstream's legacy report calls them mailbox logons).
async fn mailbox_logons(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    let path = "auditLogs/signIns?$filter=userDisplayName ne 'On-Premises Directory Synchronization Service Account'&$top=50&$orderby=createdDateTime desc";
    match graph
        .get(&subject.tenant, GraphVersion::Beta, path, &[])
        .await
    {
        Ok(page) => {
            let list = value_list(page);
            let n = list.len();
            (list, Status::complete(n))
        }
        Err(e) => (Vec::new(), Status::failed(failure(&e))),
    }
}

fn text_of(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn value_list(page: Value) -> Vec<Value> {
    match page {
        Value::Object(mut o) => match o.remove("value") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        },
        Value::Array(list) => list,
        _ => Vec::new(),
    }
}

/// Exchange's answer that the user has no mailbox is a skip, not an error (upstream's
/// `Get-CIPPBecErrorInfo`).
fn exchange_status(error: &GraphError) -> Status {
    let message = failure(error);
    let lower = message.to_ascii_lowercase();
    if lower.contains("couldn't be found") || lower.contains("could not be found") {
        Status::skipped("this user has no Exchange Online mailbox")
    } else {
        Status::failed(message)
    }
}

async fn mobile_devices(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    match graph
        .exchange(
            &subject.tenant_id,
            "Get-MobileDevice",
            json!({"Mailbox": subject.upn}),
            Some(&subject.upn),
        )
        .await
    {
        Ok(list) => {
            let n = list.len();
            (list, Status::complete(n))
        }
        Err(e) => (Vec::new(), exchange_status(&e)),
    }
}

/// The mailbox's inbox rules, hidden ones included, without Exchange's junk-mail and
/// out-of-office system rules.
async fn inbox_rules(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    match graph
        .exchange(
            &subject.tenant_id,
            "Get-InboxRule",
            json!({"Mailbox": subject.upn, "IncludeHidden": true}),
            Some(&subject.upn),
        )
        .await
    {
        Ok(list) => {
            let rules: Vec<Value> = list
                .into_iter()
                .filter(|r| {
                    let name = r.get("Name").and_then(Value::as_str).unwrap_or_default();
                    name != "Junk E-Mail Rule" && !name.starts_with("Microsoft.Exchange.OOF.")
                })
                .collect();
            let n = rules.len();
            (rules, Status::complete(n))
        }
        Err(e) => (Vec::new(), exchange_status(&e)),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => {
            s.split(';').map(|p| p.trim().to_owned()).collect()
        }
        _ => Vec::new(),
    }
}

async fn safelists(graph: &GraphClient, subject: &Subject) -> (Vec<String>, Vec<String>, Status) {
    match graph
        .exchange(
            &subject.tenant_id,
            "Get-MailboxJunkEmailConfiguration",
            json!({"Identity": subject.upn}),
            Some(&subject.upn),
        )
        .await
    {
        Ok(list) => {
            let config = list.first().cloned().unwrap_or(Value::Null);
            let trusted = strings(config.get("TrustedSendersAndDomains"));
            let blocked = strings(config.get("BlockedSendersAndDomains"));
            let n = trusted.len() + blocked.len();
            (trusted, blocked, Status::complete(n))
        }
        Err(e) => (Vec::new(), Vec::new(), exchange_status(&e)),
    }
}

/// The message trace of what the suspect sent in the window, page by page.
async fn sent_messages(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    let mut rows: Vec<Value> = Vec::new();
    let mut seen: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    let mut end = subject.end.clone();
    for _ in 0..TRACE_MAX_PAGES {
        let page = match graph
            .exchange(
                &subject.tenant_id,
                "Get-MessageTraceV2",
                json!({
                    "SenderAddress": subject.upn,
                    "StartDate": subject.start,
                    "EndDate": end,
                    "ResultSize": TRACE_PAGE,
                }),
                None,
            )
            .await
        {
            Ok(page) => page,
            Err(e) if rows.is_empty() => return (rows, Status::failed(failure(&e))),
            Err(e) => {
                let n = rows.len();
                let cap = format!(
                    "stopped after {n} record(s) on a page error: {}",
                    failure(&e)
                );
                return (rows, Status::capped(n, cap));
            }
        };
        let full = page.len() >= TRACE_PAGE;
        // The next page ends where this one's oldest row was received (rows come newest first).
        let oldest = page
            .iter()
            .filter_map(|r| r.get("Received").and_then(Value::as_str))
            .min()
            .map(str::to_owned);
        // `EndDate` is inclusive, so the boundary row of one page opens the next: keep it once.
        for row in page {
            let key = (
                text_of(&row, "MessageTraceId"),
                text_of(&row, "RecipientAddress"),
            );
            if seen.insert(key) {
                rows.push(row);
            }
        }
        if !full {
            let n = rows.len();
            return (rows, Status::complete(n));
        }
        match oldest {
            Some(o) if o < end => end = o,
            _ => {
                let n = rows.len();
                return (
                    rows,
                    Status::capped(n, "paging stalled (cursor did not advance)".to_owned()),
                );
            }
        }
    }
    let n = rows.len();
    (
        rows,
        Status::capped(
            n,
            format!("{TRACE_MAX_PAGES} pages of {TRACE_PAGE} messages in the window"),
        ),
    )
}

async fn tenant_users(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    let path = "users?$select=id,displayName,userPrincipalName,userType,createdDateTime,lastPasswordChangeDateTime&$top=999";
    let mut pages = std::pin::pin!(graph.pages(&subject.tenant, GraphVersion::Beta, path, &[]));
    let mut list = Vec::new();
    while let Some(page) = pages.next().await {
        match page {
            // Only what falls in the window is kept, so a 100,000-user tenant costs pages, not memory.
            Ok(page) => list.extend(page.items.into_iter().filter(|u| {
                in_window(u, "createdDateTime", &subject.start)
                    || in_window(u, "lastPasswordChangeDateTime", &subject.start)
            })),
            Err(e) => return (list, Status::failed(failure(&e))),
        }
    }
    let n = list.len();
    (list, Status::complete(n))
}

/// Whether `item[key]` is a time at or after `start` (RFC 3339 texts compare as times when both
/// are UTC with `Z`; parsed to be sure).
pub fn in_window(item: &Value, key: &str, start: &str) -> bool {
    let (Some(at), Ok(start)) = (
        item.get(key).and_then(Value::as_str).and_then(parse_time),
        OffsetDateTime::parse(start, &Rfc3339),
    ) else {
        return false;
    };
    at >= start
}

pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .or_else(|| {
            // Exchange's dates may lack the zone: read them as UTC.
            OffsetDateTime::parse(&format!("{}Z", text.trim()), &Rfc3339).ok()
        })
}

async fn mfa_methods(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    let path = format!(
        "users/{}/authentication/methods",
        path_segment(&subject.user_id)
    );
    match graph
        .get_all(&subject.tenant, GraphVersion::Beta, &path, &[])
        .await
    {
        Ok(list) => {
            let methods: Vec<Value> = list
                .into_iter()
                .filter(|m| {
                    m.get("@odata.type").and_then(Value::as_str)
                        != Some("#microsoft.graph.passwordAuthenticationMethod")
                })
                .collect();
            let n = methods.len();
            (methods, Status::complete(n))
        }
        Err(e) => (Vec::new(), Status::failed(failure(&e))),
    }
}

const SP_SELECT: &str =
    "id,displayName,createdDateTime,appId,appDisplayName,publisherName,accountEnabled";

async fn new_apps(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    let path = format!(
        "servicePrincipals?$select={SP_SELECT}&$filter=createdDateTime ge {}",
        subject.start
    );
    match graph
        .get_all(&subject.tenant, GraphVersion::Beta, &path, &[])
        .await
    {
        Ok(list) => {
            let n = list.len();
            (list, Status::complete(n))
        }
        Err(e) => (Vec::new(), Status::failed(failure(&e))),
    }
}

/// Every application of the rogue-app catalogue present in the tenant, whatever its age,
/// asked for 15 app ids at a time (Graph's limit for `in`).
async fn catalog_apps(
    graph: &GraphClient,
    subject: &Subject,
    catalog_ids: &[String],
) -> (Vec<Value>, Status) {
    let mut found = Vec::new();
    for chunk in catalog_ids.chunks(15) {
        let ids: Vec<String> = chunk.iter().map(|id| format!("'{id}'")).collect();
        let path = format!(
            "servicePrincipals?$select={SP_SELECT}&$filter=appId in ({})",
            ids.join(",")
        );
        match graph
            .get_all(&subject.tenant, GraphVersion::V1, &path, &[])
            .await
        {
            Ok(list) => found.extend(list),
            Err(e) => return (found, Status::failed(failure(&e))),
        }
    }
    let n = found.len();
    (found, Status::complete(n))
}

/// The user's delegated OAuth consents, each with the application it was given to.
async fn user_grants(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    let path = format!(
        "users/{}/oauth2PermissionGrants",
        path_segment(&subject.user_id)
    );
    let grants = match graph
        .get_all(&subject.tenant, GraphVersion::V1, &path, &[])
        .await
    {
        Ok(list) => list,
        Err(e) => return (Vec::new(), Status::failed(failure(&e))),
    };
    let mut out = Vec::with_capacity(grants.len());
    for grant in grants {
        let client = grant
            .get("clientId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let app = if crate::is_guid(&client) {
            graph
                .get(
                    &subject.tenant,
                    GraphVersion::V1,
                    &format!("servicePrincipals/{client}?$select={SP_SELECT}"),
                    &[],
                )
                .await
                .ok()
        } else {
            None
        };
        let mut row = Map::new();
        row.insert("grant".into(), grant);
        row.insert("app".into(), app.unwrap_or(Value::Null));
        out.push(Value::Object(row));
    }
    let n = out.len();
    (out, Status::complete(n))
}

async fn intune_devices(graph: &GraphClient, subject: &Subject) -> (Vec<Value>, Status) {
    let path = format!("users/{}/managedDevices", path_segment(&subject.user_id));
    match graph
        .get_all(&subject.tenant, GraphVersion::Beta, &path, &[])
        .await
    {
        Ok(list) => {
            let n = list.len();
            (list, Status::complete(n))
        }
        Err(e) => {
            let message = failure(&e);
            let lower = message.to_ascii_lowercase();
            if lower.contains("not applicable to target tenant") {
                (Vec::new(), Status::skipped("requires an Intune licence"))
            } else {
                (Vec::new(), Status::failed(message))
            }
        }
    }
}
