//! From what the collectors found to the report: each list shaped with upstream's field names,
//! inbox rules judged, sent mail analysed, activity placed against the user's usage location,
//! each address judged, and the threat score (`Get-CIPPBecScore.ps1`, newest weights).
//!
//! Where this differs from upstream, on purpose:
//! - An address's country comes from the sign-in log (Graph's own location for that address).
//!   Upstream asks an outside geolocation service; this service reaches only Microsoft 365, so
//!   activity from an address never seen signing in has no country (`ForeignLocation` null).
//! - Only the signals of the collectors this service runs are scored; the breakdown lists each
//!   of them, applied or not.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::collect::{
    Evidence, RULE_OPERATIONS, SAFELIST_OPERATION, SHARING_OPERATIONS, Subject, in_window,
    parse_time,
};

/// Score thresholds: at least this much is High, or Medium.
pub const HIGH: i64 = 7;
pub const MEDIUM: i64 = 4;

/// The rogue-application catalogue shipped with the service.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogApp {
    #[serde(rename = "appId")]
    pub app_id: String,
    pub name: String,
    pub categories: Vec<String>,
    pub description: String,
}

#[derive(Deserialize)]
struct Catalog {
    applications: Vec<CatalogApp>,
}

static CATALOG: LazyLock<Vec<CatalogApp>> = LazyLock::new(|| {
    serde_json::from_str::<Catalog>(include_str!("../../data/rogue-apps.json"))
        .map(|c| c.applications)
        .unwrap_or_default()
});

pub fn catalog() -> &'static [CatalogApp] {
    &CATALOG
}

fn catalog_match(app_id: &str) -> Option<&'static CatalogApp> {
    CATALOG
        .iter()
        .find(|a| a.app_id.eq_ignore_ascii_case(app_id))
}

fn match_json(app: &CatalogApp) -> Value {
    json!({
        "Name": app.name,
        "Categories": app.categories,
        "Description": app.description,
        "Source": "built-in catalogue",
    })
}

// Upstream's heuristics (`Config/BecHeuristics.json`, newest).
static LOW_VISIBILITY_FOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(rss|archive|deleted|junk|conversation history|notes|sync issues)")
        .unwrap_or_else(|_| never())
});
static SENSITIVE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(invoice|payment|security|alert|verify|microsoft|admin)")
        .unwrap_or_else(|_| never())
});
static SENSITIVE_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(invoice|payment|wire|remittance|bank|swift|iban|ach|routing|account number|beneficiary|payroll|password|credential|verif|urgent|confidential|hack|phish|compromis|fraud|scam|virus|malware|suspicious)")
        .unwrap_or_else(|_| never())
});
static MEANINGFUL_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{L}\p{N}]{2}").unwrap_or_else(|_| never()));

/// The patterns above are literals checked by the tests; a regex that never matches stands in
/// should one ever fail to compile, rather than a panic on a request path.
fn never() -> Regex {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"[^\s\S]").unwrap()
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn truthy(value: &Value, key: &str) -> bool {
    match value.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn present(value: &Value, key: &str) -> bool {
    match value.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

fn words(value: &Value, key: &str) -> Vec<String> {
    match value.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// An audit record's `AuditData`, which Exchange sends as a JSON string.
fn audit_data(record: &Value) -> Value {
    match record.get("AuditData") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

fn parameters(data: &Value) -> Vec<(String, String)> {
    data.get("Parameters")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|p| {
                    let value = match p.get("Value") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(other) => other.to_string(),
                    };
                    (text(p, "Name").to_owned(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn parameter(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

/// An audit `ClientIP` without its port (`1.2.3.4:51234`, `[2001:db8::1]:443`).
pub fn bare_ip(ip: &str) -> String {
    let ip = ip.trim();
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    match ip.matches(':').count() {
        1 => ip.split(':').next().unwrap_or_default().to_owned(),
        _ => ip.to_owned(),
    }
}

/// Where activity came from, against where the user is expected.
struct Places {
    usage: Option<String>,
    /// Address → (country, city), from the sign-in log.
    by_ip: HashMap<String, (String, String)>,
}

impl Places {
    fn of(ip: &str) -> String {
        bare_ip(ip)
    }

    fn country(&self, ip: &str) -> Option<&(String, String)> {
        self.by_ip.get(&Self::of(ip))
    }

    /// Upstream's rule: unknown (null) without a usage location or a country, else whether the
    /// country differs.
    fn foreign(&self, country: Option<&str>) -> Value {
        match (self.usage.as_deref(), country) {
            (Some(usage), Some(c)) if !c.is_empty() && c != "Unknown" => {
                json!(!usage.eq_ignore_ascii_case(c))
            }
            _ => Value::Null,
        }
    }

    /// Stamps `Country` and `ForeignLocation` on an activity row from its address.
    fn stamp(&self, row: &mut Map<String, Value>, ip: &str) {
        let country = self.country(ip).map(|(c, _)| c.clone());
        row.insert("ForeignLocation".into(), self.foreign(country.as_deref()));
        row.insert("Country".into(), country.map_or(Value::Null, Value::String));
    }
}

fn is_foreign(row: &Value) -> bool {
    row.get("ForeignLocation") == Some(&Value::Bool(true))
}

/// The finished report (without `Score`, which [`score`] adds), from the evidence.
pub fn report(
    subject: &Subject,
    evidence: &Evidence,
    extracted_at: &str,
    window_days: i64,
) -> Map<String, Value> {
    let mut by_ip: HashMap<String, (String, String)> = HashMap::new();
    for s in evidence.sign_ins.iter().chain(&evidence.mailbox_logons) {
        let ip = text(s, "ipAddress");
        let country = s
            .pointer("/location/countryOrRegion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !ip.is_empty() && !country.is_empty() {
            let city = s
                .pointer("/location/city")
                .and_then(Value::as_str)
                .unwrap_or_default();
            by_ip
                .entry(ip.to_owned())
                .or_insert((country.to_owned(), city.to_owned()));
        }
    }
    let places = Places {
        usage: subject
            .usage_location
            .clone()
            .filter(|u| !u.trim().is_empty()),
        by_ip,
    };

    let sign_ins: Vec<Value> = evidence
        .sign_ins
        .iter()
        .map(|s| sign_in_row(s, &places))
        .collect();
    let logons: Vec<Value> = evidence
        .mailbox_logons
        .iter()
        .map(|s| {
            let mut row = sign_in_row(s, &places);
            if let Value::Object(o) = &mut row {
                o.insert(
                    "UserPrincipalName".into(),
                    json!(text(s, "userPrincipalName")),
                );
                o.insert("UserDisplayName".into(), json!(text(s, "userDisplayName")));
            }
            row
        })
        .collect();

    let upn = subject.upn.to_ascii_lowercase();
    let local = upn.split('@').next().unwrap_or_default().to_owned();
    let mut rule_changes = Vec::new();
    let mut safelist_changes = Vec::new();
    let mut sharing_changes = Vec::new();
    for record in &evidence.user_records {
        let data = audit_data(record);
        let operation = text(&data, "Operation").to_owned();
        let user_id = text(&data, "UserId").to_ascii_lowercase();
        let owner = text(&data, "MailboxOwnerUPN").to_ascii_lowercase();
        let object = text(&data, "ObjectId").to_ascii_lowercase();
        let mine = user_id == upn || owner == upn || object.contains(&upn);
        if !mine {
            continue;
        }
        let ip = text(&data, "ClientIP").to_owned();
        let date = text(&data, "CreationTime").to_owned();
        let mut row = Map::new();
        row.insert("Operation".into(), json!(operation));
        row.insert("UserKey".into(), json!(text(&data, "UserId")));
        row.insert("Date".into(), json!(date));
        row.insert("ClientIP".into(), json!(bare_ip(&ip)));
        if RULE_OPERATIONS
            .iter()
            .any(|o| o.eq_ignore_ascii_case(&operation))
        {
            let params = parameters(&data);
            let name =
                parameter(&params, "Name").unwrap_or_else(|| text(&data, "ObjectId").to_owned());
            let rest: Vec<String> = params
                .iter()
                .filter(|(n, _)| {
                    !n.eq_ignore_ascii_case("Identity") && !n.eq_ignore_ascii_case("Name")
                })
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            row.insert("RuleName".into(), json!(name));
            row.insert("Parameters".into(), json!(rest.join("; ")));
            places.stamp(&mut row, &ip);
            rule_changes.push(Value::Object(row));
        } else if operation.eq_ignore_ascii_case(SAFELIST_OPERATION) {
            let params = parameters(&data);
            let list = |name: &str| {
                parameter(&params, name).map_or(Value::Null, |v| {
                    json!(
                        v.split(';')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                    )
                })
            };
            row.insert("Trusted".into(), list("TrustedSendersAndDomains"));
            row.insert("Blocked".into(), list("BlockedSendersAndDomains"));
            places.stamp(&mut row, &ip);
            safelist_changes.push(Value::Object(row));
        } else if SHARING_OPERATIONS
            .iter()
            .any(|o| o.eq_ignore_ascii_case(&operation))
        {
            row.insert("Workload".into(), json!(text(&data, "Workload")));
            row.insert("FileName".into(), json!(text(&data, "SourceFileName")));
            row.insert("ItemUrl".into(), json!(text(&data, "ObjectId")));
            row.insert("Target".into(), json!(text(&data, "TargetUserOrGroupName")));
            row.insert(
                "TargetType".into(),
                json!(text(&data, "TargetUserOrGroupType")),
            );
            places.stamp(&mut row, &ip);
            sharing_changes.push(Value::Object(row));
        }
    }

    let permission_changes: Vec<Value> = evidence
        .permission_records
        .iter()
        .map(|record| {
            let data = audit_data(record);
            let params = parameters(&data);
            let identity = parameter(&params, "Identity").unwrap_or_default().to_ascii_lowercase();
            let object = text(&data, "ObjectId").to_ascii_lowercase();
            let owner = text(&data, "MailboxOwnerUPN").to_ascii_lowercase();
            let targets = [object.as_str(), identity.as_str(), owner.as_str()]
                .iter()
                .any(|t| !t.is_empty() && (t.contains(&upn) || (!local.is_empty() && t.contains(&local))));
            let trustee = ["User", "Trustee", "Delegate"]
                .iter()
                .find_map(|n| parameter(&params, n))
                .or_else(|| data.pointer("/Item/ParentFolder/MemberUpn").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            let permissions = parameter(&params, "AccessRights")
                .or_else(|| data.pointer("/Item/ParentFolder/MemberRights").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            json!({
                "Operation": text(&data, "Operation"),
                "UserKey": text(&data, "UserKey"),
                "UserId": text(&data, "UserId"),
                "ObjectId": if text(&data, "ObjectId").is_empty() { owner.clone() } else { text(&data, "ObjectId").to_owned() },
                "Permissions": permissions,
                "Trustee": trustee,
                "Date": text(&data, "CreationTime"),
                "ClientIP": bare_ip(text(&data, "ClientIP")),
                "TargetsSuspect": targets,
            })
        })
        .collect();

    let changed_names: HashSet<String> = rule_changes
        .iter()
        .filter(|c| {
            let op = text(c, "Operation");
            op.eq_ignore_ascii_case("New-InboxRule") || op.eq_ignore_ascii_case("Set-InboxRule")
        })
        .map(|c| {
            text(c, "RuleName")
                .rsplit('\\')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect();
    let own_domain = upn.split('@').nth(1).unwrap_or_default().to_owned();
    let new_rules: Vec<Value> = evidence
        .inbox_rules
        .iter()
        .map(|rule| {
            judge_rule(
                rule,
                &changed_names,
                &[own_domain.as_str(), subject.tenant.as_str()],
            )
        })
        .collect();

    let sent: Vec<Value> = evidence
        .sent_messages
        .iter()
        .map(|m| {
            let mut row = Map::new();
            for key in [
                "MessageTraceId",
                "Status",
                "Subject",
                "RecipientAddress",
                "Received",
                "FromIP",
            ] {
                row.insert(key.into(), m.get(key).cloned().unwrap_or(Value::Null));
            }
            places.stamp(&mut row, text(m, "FromIP"));
            if let Some((_, city)) = places.country(text(m, "FromIP")) {
                row.insert("City".into(), json!(city));
            }
            Value::Object(row)
        })
        .collect();
    let analysis = sent_analysis(&evidence.sent_messages);

    let new_users: Vec<Value> = evidence
        .users
        .iter()
        .filter(|u| in_window(u, "createdDateTime", &subject.start))
        .cloned()
        .collect();
    let changed_passwords: Vec<Value> = evidence
        .users
        .iter()
        .filter(|u| in_window(u, "lastPasswordChangeDateTime", &subject.start))
        .cloned()
        .collect();

    let added_apps: Vec<Value> = evidence
        .new_apps
        .iter()
        .map(|sp| {
            let mut row = sp.as_object().cloned().unwrap_or_default();
            row.insert(
                "publisher".into(),
                sp.get("publisherName").cloned().unwrap_or(Value::Null),
            );
            row.insert(
                "MaliciousMatch".into(),
                catalog_match(text(sp, "appId")).map_or(Value::Null, match_json),
            );
            Value::Object(row)
        })
        .collect();
    let malicious: Vec<Value> = evidence
        .catalog_apps
        .iter()
        .filter_map(|sp| {
            let entry = catalog_match(text(sp, "appId"))?;
            Some(json!({
                "id": text(sp, "id"),
                "displayName": text(sp, "displayName"),
                "appId": text(sp, "appId"),
                "accountEnabled": sp.get("accountEnabled").cloned().unwrap_or(Value::Null),
                "createdDateTime": sp.get("createdDateTime").cloned().unwrap_or(Value::Null),
                "CatalogName": entry.name,
                "Categories": entry.categories,
                "Description": entry.description,
                "Source": "built-in catalogue",
            }))
        })
        .collect();
    let grants: Vec<Value> = evidence.grants.iter().map(grant_row).collect();
    let intune: Vec<Value> = evidence
        .intune_devices
        .iter()
        .map(|d| {
            let mut row = Map::new();
            for key in [
                "id",
                "deviceName",
                "operatingSystem",
                "osVersion",
                "complianceState",
                "enrolledDateTime",
                "lastSyncDateTime",
                "deviceEnrollmentType",
                "manufacturer",
                "model",
                "serialNumber",
                "userPrincipalName",
                "managedDeviceOwnerType",
            ] {
                row.insert(key.into(), d.get(key).cloned().unwrap_or(Value::Null));
            }
            Value::Object(row)
        })
        .collect();

    let location = location_analysis(
        &places,
        &sign_ins,
        &rule_changes,
        &safelist_changes,
        &sharing_changes,
        &sent,
    );
    let verdicts = judge_addresses(
        &sign_ins,
        &[&rule_changes, &safelist_changes, &sharing_changes, &sent],
        &[],
    );

    let completeness: Map<String, Value> = evidence
        .completeness
        .iter()
        .map(|(name, status)| {
            (
                name.clone(),
                serde_json::to_value(status).unwrap_or(Value::Null),
            )
        })
        .collect();

    let mut out = Map::new();
    out.insert("CaseId".into(), Value::Null);
    out.insert("UserPrincipalName".into(), json!(subject.upn));
    out.insert("AddedApps".into(), json!(added_apps));
    out.insert("MaliciousSPs".into(), json!(malicious));
    out.insert("SuspectUserSignIns".into(), json!(sign_ins));
    out.insert(
        "SuspectUserSignInsError".into(),
        json!(evidence.sign_ins_error),
    );
    out.insert(
        "LastSuspectUserLogon".into(),
        json!(sign_ins.iter().take(1).collect::<Vec<_>>()),
    );
    out.insert("SuspectUserMailboxLogons".into(), json!(logons));
    out.insert("SuspectUserDevices".into(), json!(evidence.mobile_devices));
    out.insert("NewRules".into(), json!(new_rules));
    out.insert("InboxRuleChanges".into(), json!(rule_changes));
    out.insert("SentMessages".into(), json!(sent));
    out.insert("SentMessageAnalysis".into(), analysis);
    out.insert("MailboxPermissionChanges".into(), json!(permission_changes));
    out.insert("NewUsers".into(), json!(new_users));
    out.insert("MFADevices".into(), json!(evidence.mfa_methods));
    out.insert("ChangedPasswords".into(), json!(changed_passwords));
    out.insert("TrustedSenders".into(), json!(evidence.trusted_senders));
    out.insert("BlockedSenders".into(), json!(evidence.blocked_senders));
    out.insert("SafelistChanges".into(), json!(safelist_changes));
    out.insert("SafelistError".into(), json!(evidence.safelist_error));
    out.insert("SharingChanges".into(), json!(sharing_changes));
    out.insert("UserGrants".into(), json!(grants));
    out.insert("IntuneDevices".into(), json!(intune));
    out.insert("IntuneDevicesError".into(), json!(evidence.intune_error));
    out.insert("LocationAnalysis".into(), location);
    out.insert("IPVerdicts".into(), json!(verdicts));
    out.insert("IPOverrides".into(), json!([]));
    out.insert("Completeness".into(), Value::Object(completeness));
    out.insert("CollectionMs".into(), json!(evidence.collection_ms));
    out.insert("AnalysisWindowDays".into(), json!(window_days));
    out.insert("ExtractedAt".into(), json!(extracted_at));
    out.insert("ExtractResult".into(), json!(evidence.extract_result));
    out
}

fn sign_in_row(s: &Value, places: &Places) -> Value {
    let code = s
        .pointer("/status/errorCode")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let ca = text(s, "conditionalAccessStatus");
    let success = code == 0 && (ca.is_empty() || ca == "success" || ca == "notApplied");
    let country = s
        .pointer("/location/countryOrRegion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let city = s
        .pointer("/location/city")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let created = text(s, "createdDateTime");
    json!({
        "CreatedDateTime": parse_time(created).map_or(created.to_owned(), |t| {
            t.format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap_or_else(|_| created.to_owned())
        }),
        "id": text(s, "id"),
        "AppDisplayName": text(s, "resourceDisplayName"),
        "AppId": text(s, "appId"),
        "ClientAppUsed": text(s, "clientAppUsed"),
        "Status": if success { "Success" } else { "Failed" },
        "ErrorCode": code,
        "FailureReason": s.pointer("/status/failureReason").cloned().unwrap_or(Value::Null),
        "IPAddress": text(s, "ipAddress"),
        "Country": country,
        "City": city,
        "RiskLevelDuringSignIn": text(s, "riskLevelDuringSignIn"),
        "UserAgent": text(s, "userAgent"),
        "ForeignLocation": places.foreign(Some(country)),
    })
}

/// Upstream's rule judgement (`Push-BECRun.ps1`): the reasons a rule looks like an attacker's,
/// whether it is suspicious, and its risk.
fn judge_rule(rule: &Value, changed: &HashSet<String>, own_domains: &[&str]) -> Value {
    let name = text(rule, "Name");
    let mut reasons: Vec<&str> = Vec::new();
    let forward_targets: Vec<String> = ["ForwardTo", "RedirectTo", "ForwardAsAttachmentTo"]
        .iter()
        .flat_map(|k| words(rule, k))
        .collect();
    let external = forward_targets.iter().any(|t| {
        let t = t.to_ascii_lowercase();
        let domain = t
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .trim_end_matches([']', '"', '\''])
            .to_owned();
        t.contains('@')
            && !own_domains
                .iter()
                .any(|d| !d.is_empty() && domain.ends_with(&d.to_ascii_lowercase()))
    });
    if external {
        reasons.push("Forwards or redirects mail to an external address");
    } else if !forward_targets.is_empty() {
        reasons.push("Forwards or redirects messages");
    }
    let deletes = truthy(rule, "DeleteMessage") || truthy(rule, "SoftDeleteMessage");
    if deletes {
        reasons.push("Deletes messages");
    }
    let marks_read = truthy(rule, "MarkAsRead");
    if marks_read {
        reasons.push("Marks messages as read");
    }
    let folder = text(rule, "MoveToFolder");
    let hidden_folder = !folder.is_empty() && LOW_VISIBILITY_FOLDER.is_match(folder);
    if hidden_folder {
        reasons.push("Moves messages to a low-visibility folder");
    }
    if truthy(rule, "StopProcessingRules") {
        reasons.push("Stops processing other rules");
    }
    let keyword = [
        "SubjectContainsWords",
        "BodyContainsWords",
        "SubjectOrBodyContainsWords",
        "FromAddressContainsWords",
        "HeaderContainsWords",
    ]
    .iter()
    .flat_map(|k| words(rule, k))
    .any(|w| SENSITIVE_KEYWORD.is_match(&w));
    if keyword {
        reasons.push("Targets financial, security or sensitive keywords");
    }
    let hiding_action = !forward_targets.is_empty() || deletes || !folder.is_empty();
    let conditions = [
        "From",
        "FromAddressContainsWords",
        "SubjectContainsWords",
        "BodyContainsWords",
        "SubjectOrBodyContainsWords",
        "SentTo",
        "RecipientAddressContainsWords",
        "HeaderContainsWords",
        "MyNameInToBox",
        "MyNameInCcBox",
        "MyNameInToOrCcBox",
        "HasAttachment",
        "MessageTypeMatches",
        "WithImportance",
        "WithSensitivity",
        "FromSubscription",
        "FlaggedForAction",
    ];
    let acts_on_all = hiding_action && !conditions.iter().any(|k| present(rule, k));
    if acts_on_all {
        reasons.push("Acts on all incoming mail");
    }
    if SENSITIVE_NAME.is_match(name) {
        reasons.push("Security-sensitive rule name");
    }
    let junk_name = !MEANINGFUL_NAME.is_match(name);
    if junk_name {
        reasons.push("Blank or punctuation-only rule name");
    }
    let hides_mail = deletes || hidden_folder;
    let suspicious = external
        || folder.contains("RSS")
        || (hides_mail && (acts_on_all || keyword || junk_name))
        || (junk_name && (hiding_action || marks_read));
    let risk = if suspicious || reasons.len() > 1 {
        "High"
    } else if reasons.len() == 1 {
        "Medium"
    } else {
        "Review"
    };
    let mut row = rule.as_object().cloned().unwrap_or_default();
    row.insert(
        "RecentlyChanged".into(),
        json!(changed.contains(&name.to_ascii_lowercase())),
    );
    row.insert("RiskReasons".into(), json!(reasons));
    row.insert("Suspicious".into(), json!(suspicious));
    row.insert("Risk".into(), json!(risk));
    Value::Object(row)
}

/// High-risk delegated scopes: reading or sending mail, files, or everything the user can.
const RISKY_SCOPES: [&str; 8] = [
    "mail.read",
    "mail.readwrite",
    "mail.send",
    "files.read.all",
    "files.readwrite.all",
    "mailboxsettings.readwrite",
    "full_access_as_user",
    "directory.readwrite.all",
];

fn grant_row(found: &Value) -> Value {
    let grant = found.get("grant").cloned().unwrap_or(Value::Null);
    let app = found.get("app").cloned().unwrap_or(Value::Null);
    let scope = text(&grant, "scope").trim().to_owned();
    let app_id = text(&app, "appId");
    let matched = catalog_match(app_id);
    let risky = scope
        .split_whitespace()
        .any(|s| RISKY_SCOPES.contains(&s.to_ascii_lowercase().as_str()));
    let risk = if matched.is_some() {
        "CatalogMatch"
    } else if risky {
        "High"
    } else {
        "Low"
    };
    json!({
        "id": text(&grant, "id"),
        "Kind": "DelegatedGrant",
        "ClientId": text(&grant, "clientId"),
        "AppId": app_id,
        "AppDisplayName": text(&app, "displayName"),
        "Publisher": app.get("publisherName").cloned().unwrap_or(Value::Null),
        "Scope": scope,
        "ConsentType": text(&grant, "consentType"),
        "Risk": risk,
        "MaliciousMatch": matched.map_or(Value::Null, match_json),
    })
}

/// Upstream's sent-mail analysis: subjects sent over and over, and bursts in ten-minute
/// windows.
fn sent_analysis(messages: &[Value]) -> Value {
    let distinct = |rows: &[&Value]| {
        rows.iter()
            .map(|r| text(r, "MessageTraceId"))
            .collect::<HashSet<_>>()
            .len()
    };
    let all: Vec<&Value> = messages.iter().collect();
    let mut by_subject: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for m in messages {
        by_subject
            .entry(text(m, "Subject").trim().to_lowercase())
            .or_default()
            .push(m);
    }
    let received = |r: &&Value| text(r, "Received").to_owned();
    let mut repeated: Vec<Value> = by_subject
        .values()
        .filter_map(|rows| {
            let count = distinct(rows);
            let recipients = rows.len();
            let flagged = count >= 5 || recipients >= 20;
            if count < 3 && !flagged {
                return None;
            }
            let subject = text(rows[0], "Subject").trim();
            Some(json!({
                "Subject": if subject.is_empty() { "(no subject)" } else { subject },
                "MessageCount": count,
                "RecipientCount": recipients,
                "FirstSent": rows.iter().map(received).min(),
                "LastSent": rows.iter().map(received).max(),
                "Flagged": flagged,
            }))
        })
        .collect();
    repeated.sort_by_key(|r| std::cmp::Reverse(r["MessageCount"].as_u64().unwrap_or(0)));
    repeated.truncate(10);
    let flagged_subjects = repeated.iter().filter(|r| r["Flagged"] == true).count();

    let mut windows: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for m in messages {
        if let Some(at) = parse_time(text(m, "Received")) {
            windows
                .entry(at.unix_timestamp() / 600)
                .or_default()
                .push(m);
        }
    }
    let mut bursts: Vec<Value> = windows
        .iter()
        .filter_map(|(bucket, rows)| {
            let count = distinct(rows);
            if count < 10 && rows.len() < 30 {
                return None;
            }
            let mut subjects: HashMap<&str, usize> = HashMap::new();
            for r in rows {
                *subjects.entry(text(r, "Subject")).or_default() += 1;
            }
            let top = subjects.into_iter().max_by_key(|(_, n)| *n).map(|(s, _)| s);
            let start = time::OffsetDateTime::from_unix_timestamp(bucket * 600)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                });
            Some(json!({
                "WindowStart": start,
                "WindowMinutes": 10,
                "MessageCount": count,
                "RecipientCount": rows.len(),
                "TopSubject": top,
            }))
        })
        .collect();
    bursts.sort_by_key(|b| std::cmp::Reverse(b["RecipientCount"].as_u64().unwrap_or(0)));
    bursts.truncate(10);
    let flagged = flagged_subjects > 0 || !bursts.is_empty();
    json!({
        "TotalMessages": distinct(&all),
        "TotalRecipients": messages.len(),
        "RepeatedSubjects": repeated,
        "FlaggedSubjectCount": flagged_subjects,
        "Bursts": bursts,
        "Flagged": flagged,
    })
}

fn location_analysis(
    places: &Places,
    sign_ins: &[Value],
    rules: &[Value],
    safelists: &[Value],
    sharing: &[Value],
    sent: &[Value],
) -> Value {
    let mut countries: BTreeMap<String, usize> = BTreeMap::new();
    for s in sign_ins {
        let c = text(s, "Country");
        *countries
            .entry(if c.is_empty() {
                "Unknown".into()
            } else {
                c.to_owned()
            })
            .or_default() += 1;
    }
    let mut by_count: Vec<(String, usize)> = countries.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let foreign = |rows: &[Value]| rows.iter().filter(|r| is_foreign(r)).count();
    json!({
        "UsageLocation": places.usage,
        "SignInCountries": by_count.iter().map(|(c, n)| json!({"Country": c, "Count": n})).collect::<Vec<_>>(),
        "ForeignSignInCount": foreign(sign_ins),
        "ForeignSuccessfulSignInCount": sign_ins.iter().filter(|s| is_foreign(s) && text(s, "Status") == "Success").count(),
        "ForeignRuleChangeCount": foreign(rules),
        "ForeignSafelistChangeCount": foreign(safelists),
        "ForeignSharingChangeCount": foreign(sharing),
        "ForeignSentMessageCount": foreign(sent),
        "Note": if places.usage.is_none() {
            json!("The user has no usage location assigned in Entra ID, so activity cannot be compared against an expected country. Countries are still listed for manual review.")
        } else {
            Value::Null
        },
    })
}

/// One verdict the operator set for an address or range (ExecBECIPReview).
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct IpOverride {
    #[serde(rename = "Range")]
    pub range: String,
    #[serde(rename = "Verdict")]
    pub verdict: String,
    #[serde(rename = "Note", default)]
    pub note: Option<String>,
}

/// Judges every address the user signed in from or acted from. A verdict set by the operator
/// wins; otherwise: activity (a rule, safelist, sharing change or sent mail) from a foreign
/// address the user also signed in from successfully is `LikelyAttacker`, a foreign address
/// without such activity `Suspicious`, an address in the usage location `LikelyUser`.
///
/// Reads the stamped sign-in rows (`IPAddress`, `Status`, `Country`, `City`,
/// `ForeignLocation`) and activity rows (`ClientIP` or `FromIP`, `ForeignLocation`).
pub fn judge_addresses(
    sign_ins: &[Value],
    activity: &[&[Value]],
    overrides: &[IpOverride],
) -> Vec<Value> {
    #[derive(Default)]
    struct Seen {
        ok: usize,
        failed: usize,
        acts: usize,
        country: String,
        city: String,
        foreign: Option<bool>,
    }
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for s in sign_ins {
        let ip = text(s, "IPAddress");
        if ip.is_empty() {
            continue;
        }
        let e = seen.entry(ip.to_owned()).or_default();
        if text(s, "Status") == "Success" {
            e.ok += 1;
        } else {
            e.failed += 1;
        }
        e.country = text(s, "Country").to_owned();
        e.city = text(s, "City").to_owned();
        e.foreign = s.get("ForeignLocation").and_then(Value::as_bool);
    }
    for rows in activity {
        for r in rows.iter() {
            let ip = bare_ip(
                r.get("ClientIP")
                    .or_else(|| r.get("FromIP"))
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            );
            if ip.is_empty() {
                continue;
            }
            let e = seen.entry(ip).or_default();
            e.acts += 1;
            if e.foreign.is_none() {
                e.foreign = r.get("ForeignLocation").and_then(Value::as_bool);
                e.country = text(r, "Country").to_owned();
            }
        }
    }
    seen.into_iter()
        .map(|(ip, s)| {
            let mut reasons = Vec::new();
            if s.foreign == Some(true) && s.ok > 0 {
                reasons.push(json!({"Code": "ForeignSignIn", "Text": format!("{} successful sign-in(s) from outside the usage location", s.ok), "Weight": 2}));
            }
            if s.foreign == Some(true) && s.acts > 0 {
                reasons.push(json!({"Code": "FlaggedAction", "Text": format!("{} rule, safelist, sharing or sent-mail action(s) from this address", s.acts), "Weight": 3}));
            }
            if s.foreign == Some(false) {
                reasons.push(json!({"Code": "HomeCountry", "Text": "In the user's usage location", "Weight": -2}));
            }
            let score: i64 = reasons.iter().filter_map(|r| r["Weight"].as_i64()).sum();
            let judged = if s.foreign == Some(true) && s.ok > 0 && s.acts > 0 {
                "LikelyAttacker"
            } else if s.foreign == Some(true) {
                "Suspicious"
            } else if s.foreign == Some(false) {
                "LikelyUser"
            } else {
                "Unknown"
            };
            let chosen = overrides.iter().find(|o| in_range(&ip, &o.range));
            let (verdict, source) = match chosen {
                Some(o) => (o.verdict.as_str(), "Override"),
                None => (judged, "Analysis"),
            };
            json!({
                "IP": ip,
                "Verdict": verdict,
                "Score": score,
                "City": s.city,
                "Country": s.country,
                "Source": source,
                "SuccessfulSignIns": s.ok,
                "FailedSignIns": s.failed,
                "Activities": s.acts,
                "Reasons": reasons,
            })
        })
        .collect()
}

/// Whether `ip` is `range`: one address, or an IPv4/IPv6 CIDR block.
pub fn in_range(ip: &str, range: &str) -> bool {
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
        return false;
    };
    match range.split_once('/') {
        None => range.parse::<std::net::IpAddr>().is_ok_and(|r| r == addr),
        Some((base, bits)) => {
            let Ok(bits) = bits.parse::<u32>() else {
                return false;
            };
            match (addr, base.parse::<std::net::IpAddr>()) {
                (std::net::IpAddr::V4(a), Ok(std::net::IpAddr::V4(b))) if bits <= 32 => {
                    let mask = if bits == 0 {
                        0
                    } else {
                        u32::MAX << (32 - bits)
                    };
                    u32::from(a) & mask == u32::from(b) & mask
                }
                (std::net::IpAddr::V6(a), Ok(std::net::IpAddr::V6(b))) if bits <= 128 => {
                    let mask = if bits == 0 {
                        0
                    } else {
                        u128::MAX << (128 - bits)
                    };
                    u128::from(a) & mask == u128::from(b) & mask
                }
                _ => false,
            }
        }
    }
}

/// One scored signal: upstream's name, description and weight, and how many findings count.
struct Signal {
    name: &'static str,
    description: &'static str,
    weight: i64,
    count: usize,
    applied: bool,
}

fn count(report: &Map<String, Value>, key: &str, keep: impl Fn(&Value) -> bool) -> usize {
    report
        .get(key)
        .and_then(Value::as_array)
        .map_or(0, |a| a.iter().filter(|v| keep(v)).count())
}

/// Upstream's threat score: the weights of the signals found, summed; High from 7, Medium
/// from 4. Every signal is listed with whether it applied.
pub fn score(report: &Map<String, Value>, window_start: &str) -> Value {
    let all = |_: &Value| true;
    let loc = |key: &str| {
        report
            .get("LocationAnalysis")
            .and_then(|l| l.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize
    };
    let targeting = count(report, "MailboxPermissionChanges", |v| {
        v["TargetsSuspect"] == true
    });
    let malicious = count(report, "AddedApps", |v| !v["MaliciousMatch"].is_null())
        + count(report, "MaliciousSPs", all);
    let mass_mail = usize::from(
        report
            .get("SentMessageAnalysis")
            .and_then(|a| a.get("Flagged"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    );
    let attacker_ips = count(report, "IPVerdicts", |v| {
        matches!(
            v["Verdict"].as_str(),
            Some("Compromised" | "LikelyAttacker")
        ) && (v["SuccessfulSignIns"].as_u64().unwrap_or(0) > 0
            || v["Activities"].as_u64().unwrap_or(0) > 0)
    });
    let signal = |name, description, weight, count: usize| Signal {
        name,
        description,
        weight,
        count,
        applied: count > 0,
    };
    let mut signals = vec![
        signal(
            "NewRules",
            "Inbox rules exist on the mailbox",
            1,
            count(report, "NewRules", all),
        ),
        signal(
            "InboxRuleChanges",
            "Inbox rules were created, changed or removed in the window",
            3,
            count(report, "InboxRuleChanges", all),
        ),
        signal(
            "PermissionChangesTargetingUser",
            "Mailbox permission changes targeted this mailbox",
            2,
            targeting,
        ),
        signal(
            "PermissionChanges",
            "Mailbox permission changes elsewhere in the tenant",
            1,
            count(report, "MailboxPermissionChanges", all),
        ),
        signal(
            "NewApps",
            "New service principals appeared in the tenant",
            1,
            count(report, "AddedApps", all),
        ),
        signal(
            "NewUsers",
            "More than 5 users were created in the window",
            1,
            count(report, "NewUsers", all),
        ),
        signal(
            "SafelistChanges",
            "Trusted/blocked sender lists were changed",
            2,
            count(report, "SafelistChanges", all),
        ),
        signal(
            "SuspiciousRules",
            "An inbox rule hides, forwards or deletes mail (or acts on all incoming mail)",
            4,
            count(report, "NewRules", |v| {
                v["Suspicious"] == true
                    || v["MoveToFolder"]
                        .as_str()
                        .is_some_and(|f| f.contains("RSS"))
            }),
        ),
        signal(
            "MaliciousApps",
            "Applications match the known-malicious catalog",
            5,
            malicious,
        ),
        signal(
            "ForeignSuccessfulSignIns",
            "Successful sign-ins from outside the usage location",
            3,
            loc("ForeignSuccessfulSignInCount"),
        ),
        signal(
            "ForeignActivity",
            "Rule, safelist, sharing or mail activity from outside the usage location",
            3,
            loc("ForeignRuleChangeCount")
                + loc("ForeignSafelistChangeCount")
                + loc("ForeignSharingChangeCount")
                + loc("ForeignSentMessageCount"),
        ),
        signal(
            "AnonymousLinks",
            "Anonymous sharing links were created or changed",
            3,
            count(report, "SharingChanges", |v| {
                v["Operation"]
                    .as_str()
                    .is_some_and(|o| o.starts_with("AnonymousLink"))
            }),
        ),
        signal(
            "MassMail",
            "Mass-mail pattern in sent messages",
            3,
            mass_mail,
        ),
        signal(
            "RecentMfaMethods",
            "MFA methods registered in the window",
            2,
            count(report, "MFADevices", |v| {
                in_window(v, "createdDateTime", window_start)
            }),
        ),
        signal(
            "RecentIntuneDevices",
            "Intune devices enrolled in the window",
            2,
            count(report, "IntuneDevices", |v| {
                in_window(v, "enrolledDateTime", window_start)
            }),
        ),
        signal(
            "RiskyUserGrants",
            "Consent grants with high-risk scopes from unverified publishers",
            3,
            count(report, "UserGrants", |v| v["Risk"] == "High"),
        ),
        signal(
            "CatalogUserGrants",
            "Consent grants to applications in the rogue-app catalog",
            5,
            count(report, "UserGrants", |v| v["Risk"] == "CatalogMatch"),
        ),
        signal(
            "AttackerIPs",
            "Sign-ins or activity from addresses judged to be the attacker",
            4,
            attacker_ips,
        ),
    ];
    for s in &mut signals {
        match s.name {
            "NewUsers" => s.applied = s.count > 5,
            // Changes elsewhere count only when none targets this mailbox (that signal is heavier).
            "PermissionChanges" => s.applied = s.count > 0 && targeting == 0,
            _ => {}
        }
    }
    let value: i64 = signals.iter().filter(|s| s.applied).map(|s| s.weight).sum();
    let level = if value >= HIGH {
        "High"
    } else if value >= MEDIUM {
        "Medium"
    } else {
        "Low"
    };
    json!({
        "Value": value,
        "Level": level,
        "Thresholds": {"High": HIGH, "Medium": MEDIUM},
        "Breakdown": signals.iter().map(|s| json!({
            "Signal": s.name,
            "Description": s.description,
            "Weight": s.weight,
            "Count": s.count,
            "Applied": s.applied,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_heuristic_patterns_compile() {
        for pattern in [
            &*LOW_VISIBILITY_FOLDER,
            &*SENSITIVE_NAME,
            &*SENSITIVE_KEYWORD,
            &*MEANINGFUL_NAME,
        ] {
            assert_ne!(pattern.as_str(), never().as_str());
        }
        assert_eq!(catalog().len(), 7);
    }

    #[test]
    fn a_rule_moving_invoice_mail_to_rss_is_suspicious_and_high() {
        let rule = json!({"Name": ".", "MoveToFolder": "RSS Feeds", "SubjectOrBodyContainsWords": ["invoice"], "MarkAsRead": true});
        let judged = judge_rule(
            &rule,
            &HashSet::from([".".to_owned()]),
            &["contoso.example"],
        );
        assert_eq!(judged["Suspicious"], true);
        assert_eq!(judged["Risk"], "High");
        assert_eq!(judged["RecentlyChanged"], true);
        let reasons: Vec<&str> = judged["RiskReasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(reasons.contains(&"Moves messages to a low-visibility folder"));
        assert!(reasons.contains(&"Targets financial, security or sensitive keywords"));
        assert!(reasons.contains(&"Blank or punctuation-only rule name"));
    }

    #[test]
    fn a_plain_filing_rule_is_only_for_review() {
        let rule = json!({"Name": "Newsletters", "From": ["news@example.org"], "MoveToFolder": "Newsletters"});
        let judged = judge_rule(&rule, &HashSet::new(), &["contoso.example"]);
        assert_eq!(judged["Suspicious"], false);
        assert_eq!(judged["Risk"], "Review");
    }

    #[test]
    fn addresses_and_ranges_match_as_cidr_blocks() {
        assert!(in_range("102.89.34.120", "102.89.34.0/24"));
        assert!(!in_range("102.89.35.1", "102.89.34.0/24"));
        assert!(in_range("102.89.34.120", "102.89.34.120"));
        assert!(in_range("2001:db8::5", "2001:db8::/32"));
        assert!(!in_range("not an ip", "0.0.0.0/0"));
        assert_eq!(bare_ip("102.89.34.120:51234"), "102.89.34.120");
        assert_eq!(bare_ip("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(bare_ip("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn a_burst_of_twelve_messages_in_ten_minutes_is_flagged() {
        let messages: Vec<Value> = (0..36)
            .map(|i| json!({"MessageTraceId": format!("m{}", i % 12), "Subject": "Overdue invoice", "RecipientAddress": format!("r{i}@example.org"), "Received": format!("2026-12-01T10:0{}:00Z", i % 9)}))
            .collect();
        let analysis = sent_analysis(&messages);
        assert_eq!(analysis["TotalMessages"], 12);
        assert_eq!(analysis["TotalRecipients"], 36);
        assert_eq!(analysis["Flagged"], true);
        assert_eq!(analysis["Bursts"][0]["MessageCount"], 12);
        assert_eq!(analysis["RepeatedSubjects"][0]["Flagged"], true);
    }

    #[test]
    fn the_score_sums_applied_weights_into_a_level() {
        let mut report = Map::new();
        report.insert(
            "NewRules".into(),
            json!([{"Name": ".", "Suspicious": true}]),
        );
        report.insert("UserGrants".into(), json!([{"Risk": "CatalogMatch"}]));
        let score = score(&report, "2026-12-01T00:00:00Z");
        // NewRules 1 + SuspiciousRules 4 + CatalogUserGrants 5.
        assert_eq!(score["Value"], 10);
        assert_eq!(score["Level"], "High");
        let applied: Vec<&str> = score["Breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["Applied"] == true)
            .filter_map(|b| b["Signal"].as_str())
            .collect();
        assert_eq!(
            applied,
            ["NewRules", "SuspiciousRules", "CatalogUserGrants"]
        );
    }
}
