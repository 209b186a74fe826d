//! Mailbox settings the user pages' Exchange actions change beyond what `mailbox.rs` keeps:
//! quotas and message size limits (`Set-Mailbox`), regional configuration, calendar processing,
//! Managed Folder Assistant runs, and the tenant's retention policies.
//!
//! Kept per tenant and user id beside the mailbox store and applied over `Get-Mailbox`'s object,
//! so nothing is stored until something changes it. Lock order: the user and mailbox stores
//! first, then this state (never the other way round).

use std::collections::{BTreeMap, HashMap};

use actix_web::HttpResponse;
use parking_lot::Mutex;
use serde_json::{Map, Value, json};

use super::cmdlets::{Cx, Params, change, done, one, paginate, view};
use super::mailbox::{Kind, Mailbox, size_text, str_at};
use super::{Answer, ExoError};
use crate::state::Sim;

const MB: u64 = 1 << 20;
/// Exchange Online's largest message size limit.
const MAX_MESSAGE: u64 = 150 * MB;

/// The retention tags every tenant has (Exchange Online's defaults).
const DEFAULT_TAGS: &[&str] = &[
    "1 Month Delete",
    "1 Week Delete",
    "1 Year Delete",
    "5 Year Delete",
    "6 Month Delete",
    "Default 2 year move to archive",
    "Junk Email",
    "Never Delete",
    "Personal 1 year move to archive",
    "Personal 5 year move to archive",
    "Personal never move to archive",
    "Recoverable Items 14 days move to archive",
];
pub(crate) const DEFAULT_POLICY: &str = "Default MRM Policy";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quota {
    Bytes(u64),
    Unlimited,
}

impl Quota {
    fn text(self) -> String {
        match self {
            Quota::Bytes(b) => size_text(b),
            Quota::Unlimited => "Unlimited".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Extra {
    prohibit_send: Option<Quota>,
    prohibit_send_receive: Option<Quota>,
    issue_warning: Option<Quota>,
    max_send: Option<u64>,
    max_receive: Option<u64>,
    localized_folders: Option<bool>,
    /// `Set-CalendarProcessing` values by canonical parameter name.
    calendar: BTreeMap<&'static str, Value>,
    assistant_runs: Vec<Value>,
}

#[derive(Debug, Clone)]
struct Policy {
    name: String,
    guid: String,
    tags: Vec<String>,
    is_default: bool,
}

#[derive(Default)]
struct TenantSettings {
    mailboxes: HashMap<String, Extra>,
    policies: Option<Vec<Policy>>,
}

impl TenantSettings {
    fn policies(&mut self) -> &mut Vec<Policy> {
        self.policies.get_or_insert_with(|| {
            vec![Policy {
                name: DEFAULT_POLICY.to_owned(),
                guid: uuid::Uuid::new_v4().to_string(),
                tags: DEFAULT_TAGS.iter().map(|t| (*t).to_owned()).collect(),
                is_default: true,
            }]
        })
    }
}

/// Everything this file keeps, per tenant id.
#[derive(Default)]
pub(crate) struct SettingsState {
    tenants: Mutex<HashMap<String, TenantSettings>>,
}

fn with<T>(cx: &Cx<'_>, f: impl FnOnce(&mut TenantSettings) -> T) -> T {
    with_tenant(cx.sim, &cx.tenant.id, f)
}

fn with_tenant<T>(sim: &Sim, tenant: &str, f: impl FnOnce(&mut TenantSettings) -> T) -> T {
    let mut all = sim.mailbox_settings.tenants.lock();
    f(all.entry(tenant.to_owned()).or_default())
}

/// A size as Exchange takes it: bytes as a number, `"10GB"`, `"1000 MB"`, `"1.5TB"`, Exchange's
/// own `"10 GB (10,737,418,240 bytes)"`, or `Unlimited`.
fn parse_size(name: &str, v: &Value) -> Result<Quota, ExoError> {
    let bad = || ExoError::bad_value(name, v);
    let text = match v {
        Value::Number(n) => return n.as_u64().map(Quota::Bytes).ok_or_else(bad),
        Value::String(s) => s.trim(),
        _ => return Err(bad()),
    };
    if text.eq_ignore_ascii_case("unlimited") {
        return Ok(Quota::Unlimited);
    }
    if let Some((_, inner)) = text.split_once('(') {
        let digits: String = inner
            .trim_end_matches(')')
            .trim_end_matches("bytes")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        return digits.parse().map(Quota::Bytes).map_err(|_| bad());
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => MB,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return Err(bad()),
    };
    if !number.is_finite() || number < 0.0 {
        return Err(bad());
    }
    Ok(Quota::Bytes((number * factor as f64).round() as u64))
}

/// The `Set-Mailbox` parameters this file handles.
pub(super) const SET_MAILBOX_PARAMS: [&str; 5] = [
    "ProhibitSendQuota",
    "ProhibitSendReceiveQuota",
    "IssueWarningQuota",
    "MaxSendSize",
    "MaxReceiveSize",
];

/// What one `Set-Mailbox` changes here, read before the mailbox is locked.
#[derive(Default)]
pub(super) struct SetMailbox {
    quotas: [Option<Quota>; 3],
    max_send: Option<u64>,
    max_receive: Option<u64>,
    /// The stored spelling of a policy `-RetentionPolicy` names.
    pub policy: Option<String>,
}

impl SetMailbox {
    pub fn parse(cx: &Cx<'_>) -> Result<Self, ExoError> {
        let p = &cx.params;
        let mut out = Self::default();
        for (i, name) in SET_MAILBOX_PARAMS[..3].iter().enumerate() {
            if let Some(v) = p.get(name).filter(|v| !v.is_null()) {
                out.quotas[i] = Some(parse_size(name, v)?);
            }
        }
        let message = |name: &str| -> Result<Option<u64>, ExoError> {
            match p.get(name).filter(|v| !v.is_null()) {
                None => Ok(None),
                Some(v) => match parse_size(name, v)? {
                    Quota::Bytes(b) if (1..=MAX_MESSAGE).contains(&b) => Ok(Some(b)),
                    _ => Err(ExoError::task(format!(
                        "The value of {name} must be between 1 KB and 150 MB."
                    ))),
                },
            }
        };
        out.max_send = message("MaxSendSize")?;
        out.max_receive = message("MaxReceiveSize")?;
        if let Some(name) = p.text("RetentionPolicy").filter(|s| !s.is_empty()) {
            let found = with(cx, |t| {
                t.policies()
                    .iter()
                    .find(|x| x.name.eq_ignore_ascii_case(&name) || x.guid == name)
                    .map(|x| x.name.clone())
            });
            out.policy = Some(found.ok_or_else(|| ExoError::not_found(&name, cx.server))?);
        }
        Ok(out)
    }

    /// Stores the change for `user_id`; whether anything changed.
    pub fn apply(&self, cx: &Cx<'_>, user_id: &str) -> bool {
        if self.quotas.iter().all(Option::is_none)
            && self.max_send.is_none()
            && self.max_receive.is_none()
        {
            return false;
        }
        with(cx, |t| {
            let e = t.mailboxes.entry(user_id.to_owned()).or_default();
            let before = format!("{e:?}");
            let slots = [
                &mut e.prohibit_send,
                &mut e.prohibit_send_receive,
                &mut e.issue_warning,
            ];
            for (slot, value) in slots.into_iter().zip(self.quotas) {
                if value.is_some() {
                    *slot = value;
                }
            }
            if self.max_send.is_some() {
                e.max_send = self.max_send;
            }
            if self.max_receive.is_some() {
                e.max_receive = self.max_receive;
            }
            before != format!("{e:?}")
        })
    }
}

/// Puts the stored quotas and size limits over `Get-Mailbox`'s object.
pub(super) fn overlay(cx: &Cx<'_>, user_id: &str, object: &mut Value) {
    let Value::Object(o) = object else { return };
    let extra = with(cx, |t| t.mailboxes.get(user_id).cloned()).unwrap_or_default();
    let quotas = [
        ("ProhibitSendQuota", extra.prohibit_send),
        ("ProhibitSendReceiveQuota", extra.prohibit_send_receive),
        ("IssueWarningQuota", extra.issue_warning),
    ];
    for (name, q) in quotas {
        if let Some(q) = q {
            o.insert(name.to_owned(), json!(q.text()));
            o.insert("UseDatabaseQuotaDefaults".to_owned(), json!(false));
        }
    }
    o.insert(
        "MaxSendSize".to_owned(),
        json!(size_text(extra.max_send.unwrap_or(35 * MB))),
    );
    o.insert(
        "MaxReceiveSize".to_owned(),
        json!(size_text(extra.max_receive.unwrap_or(36 * MB))),
    );
}

/// `Get-Mailbox -Filter`: only `RetentionPolicy -eq '<name>'` is understood.
pub(super) struct MailboxFilter(String);

impl MailboxFilter {
    pub fn parse(text: Option<String>) -> Result<Option<Self>, ExoError> {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Ok(None);
        };
        let parsed = text
            .trim()
            .strip_prefix("RetentionPolicy")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("-eq"))
            .map(|r| r.trim().trim_matches(['\'', '"']).to_owned());
        parsed.map(|p| Some(Self(p))).ok_or_else(|| {
            ExoError::task(format!(
                "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"Invalid filter syntax. The simulator understands only RetentionPolicy -eq '<name>': '{text}'.\""
            ))
        })
    }

    pub fn matches(&self, m: &Mailbox) -> bool {
        m.retention_policy.eq_ignore_ascii_case(&self.0)
    }
}

fn language_defaults(language: &str) -> (&'static str, &'static str) {
    if language.eq_ignore_ascii_case("en-US") {
        ("M/d/yyyy", "h:mm tt")
    } else {
        ("dd/MM/yyyy", "HH:mm")
    }
}

/// A specific culture name: `ll-CC` (or `lll-CC`, `ll-Scrp-CC`); neutral ones (`en`) are refused.
fn is_specific_culture(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let alpha = |p: &str, lens: &[usize]| {
        lens.contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic())
    };
    match parts.as_slice() {
        [lang, region] => alpha(lang, &[2, 3]) && alpha(region, &[2]),
        [lang, script, region] => {
            alpha(lang, &[2, 3]) && alpha(script, &[4]) && alpha(region, &[2])
        }
        _ => false,
    }
}

fn regional_object(cx: &Cx<'_>, alias: &str, user_id: &str, m: &Mailbox) -> Value {
    let localized = with(cx, |t| {
        t.mailboxes.get(user_id).and_then(|e| e.localized_folders)
    });
    json!({
        "Identity": alias,
        "Language": m.locale,
        "DateFormat": m.date_format,
        "TimeFormat": m.time_format,
        "TimeZone": m.time_zone,
        "DefaultFolderNameMatchingUserLanguage": localized.unwrap_or(false),
        "IsValid": true,
    })
}

fn get_regional(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params
        .only(&["Identity", "VerifyDefaultFolderNameLanguage"])?;
    let identity = cx.params.required("Identity")?;
    view(cx, &identity, |_, u, m| {
        Ok(one(regional_object(
            cx,
            str_at(u, "mailNickname"),
            u.id(),
            m,
        )))
    })
}

fn set_regional(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    let p = &cx.params;
    p.only(&[
        "Identity",
        "Language",
        "LocalizeDefaultFolderName",
        "DateFormat",
        "TimeFormat",
        "TimeZone",
    ])?;
    let identity = p.required("Identity")?;
    let language = match p.get("Language") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_specific_culture(s) => Some(s.clone()),
        Some(other) => return Err(ExoError::bad_value("Language", other)),
    };
    let localize = p.flag("LocalizeDefaultFolderName")?;
    let (id, changed) = change(cx, &identity, |u, m| {
        let before = (
            m.locale.clone(),
            m.date_format.clone(),
            m.time_format.clone(),
        );
        if let Some(l) = &language {
            m.locale = l.clone();
        }
        let (date, time) = language_defaults(&m.locale);
        // A null format goes back to the language's own, as in Exchange.
        match p.get("DateFormat") {
            Some(Value::Null) => m.date_format = date.to_owned(),
            Some(Value::String(s)) => m.date_format = s.clone(),
            Some(other) => return Err(ExoError::bad_value("DateFormat", other)),
            None => {}
        }
        match p.get("TimeFormat") {
            Some(Value::Null) => m.time_format = time.to_owned(),
            Some(Value::String(s)) => m.time_format = s.clone(),
            Some(other) => return Err(ExoError::bad_value("TimeFormat", other)),
            None => {}
        }
        if let Some(tz) = p.text("TimeZone") {
            m.time_zone = tz;
        }
        let after = (
            m.locale.clone(),
            m.date_format.clone(),
            m.time_format.clone(),
        );
        Ok((u.id().to_owned(), before != after))
    })?;
    if let Some(b) = localize {
        with(cx, |t| {
            t.mailboxes.entry(id).or_default().localized_folders = Some(b);
        });
    }
    Ok(done(if changed || localize.is_some() {
        Vec::new()
    } else {
        vec![format!(
            "The command completed successfully but no settings of '{identity}' have been modified."
        )]
    }))
}

/// `Set-CalendarProcessing`'s parameters with their defaults for a resource mailbox.
const CALENDAR: &[(&str, CalType)] = &[
    ("AutomateProcessing", CalType::Automate),
    ("AllowConflicts", CalType::Bool(false)),
    ("AllowRecurringMeetings", CalType::Bool(true)),
    ("ScheduleOnlyDuringWorkHours", CalType::Bool(false)),
    ("AddOrganizerToSubject", CalType::Bool(true)),
    ("DeleteComments", CalType::Bool(true)),
    ("DeleteSubject", CalType::Bool(true)),
    ("RemovePrivateProperty", CalType::Bool(true)),
    ("RemoveCanceledMeetings", CalType::Bool(false)),
    ("RemoveOldMeetingMessages", CalType::Bool(true)),
    ("ProcessExternalMeetingMessages", CalType::Bool(false)),
    ("MaximumConflictInstances", CalType::Int(0)),
    ("MaximumDurationInMinutes", CalType::Int(1440)),
    ("MinimumDurationInMinutes", CalType::Int(0)),
    ("BookingWindowInDays", CalType::Int(180)),
    ("AdditionalResponse", CalType::Text),
];

#[derive(Clone, Copy)]
enum CalType {
    Automate,
    Bool(bool),
    Int(i64),
    Text,
}

fn calendar_object(cx: &Cx<'_>, alias: &str, user_id: &str, m: &Mailbox) -> Value {
    let stored = with(cx, |t| {
        t.mailboxes
            .get(user_id)
            .map(|e| e.calendar.clone())
            .unwrap_or_default()
    });
    let mut o = Map::new();
    o.insert("Identity".into(), json!(alias));
    for (name, ty) in CALENDAR {
        let default = match ty {
            CalType::Automate if matches!(m.kind, Kind::Room | Kind::Equipment) => {
                json!("AutoAccept")
            }
            CalType::Automate => json!("AutoUpdate"),
            CalType::Bool(b) => json!(b),
            CalType::Int(i) => json!(i),
            CalType::Text => json!(""),
        };
        o.insert(
            (*name).to_owned(),
            stored.get(name).cloned().unwrap_or(default),
        );
    }
    Value::Object(o)
}

fn get_calendar(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity"])?;
    let identity = cx.params.required("Identity")?;
    view(cx, &identity, |_, u, m| {
        Ok(one(calendar_object(
            cx,
            str_at(u, "mailNickname"),
            u.id(),
            m,
        )))
    })
}

fn calendar_value(p: &Params, name: &str, ty: CalType) -> Result<Option<Value>, ExoError> {
    let Some(v) = p.get(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    Ok(Some(match ty {
        CalType::Automate => {
            let s = v.as_str().unwrap_or_default();
            let known = ["None", "AutoUpdate", "AutoAccept"]
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(s))
                .ok_or_else(|| ExoError::bad_value(name, v))?;
            json!(known)
        }
        CalType::Bool(_) => json!(p.flag(name)?.unwrap_or(false)),
        CalType::Int(_) => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| *n >= 0)
                .ok_or_else(|| ExoError::bad_value(name, v))?;
            json!(n)
        }
        CalType::Text => json!(v.as_str().ok_or_else(|| ExoError::bad_value(name, v))?),
    }))
}

fn set_calendar(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    let mut allowed: Vec<&str> = CALENDAR.iter().map(|(n, _)| *n).collect();
    allowed.push("Identity");
    cx.params.only(&allowed)?;
    let identity = cx.params.required("Identity")?;
    let mut values = Vec::new();
    for (name, ty) in CALENDAR {
        if let Some(v) = calendar_value(&cx.params, name, *ty)? {
            values.push((*name, v));
        }
    }
    let id = view(cx, &identity, |_, u, _| Ok(u.id().to_owned()))?;
    with(cx, |t| {
        let e = t.mailboxes.entry(id).or_default();
        e.calendar.extend(values);
    });
    Ok(done(Vec::new()))
}

fn start_assistant(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params
        .only(&["Identity", "FullCrawl", "HoldCleanup", "InactiveMailbox"])?;
    let identity = cx.params.required("Identity")?;
    let full_crawl = cx.params.flag("FullCrawl")?.unwrap_or(false);
    let (id, upn) = view(cx, &identity, |_, u, _| {
        Ok((u.id().to_owned(), u.upn().to_owned()))
    })?;
    let at = crate::seed::timestamp(time::OffsetDateTime::now_utc().unix_timestamp());
    with(cx, |t| {
        t.mailboxes
            .entry(id)
            .or_default()
            .assistant_runs
            .push(json!({"Identity": identity, "UserPrincipalName": upn, "FullCrawl": full_crawl, "StartedAt": at}));
    });
    Ok(done(Vec::new()))
}

fn policy_object(p: &Policy) -> Value {
    json!({
        "Identity": p.name,
        "Name": p.name,
        "Guid": p.guid,
        "RetentionId": p.guid,
        "RetentionPolicyTagLinks": p.tags,
        "IsDefault": p.is_default,
        "IsDefaultArbitrationMailbox": false,
        "IsValid": true,
    })
}

fn tag_links(p: &Params) -> Result<Option<Vec<String>>, ExoError> {
    let name = "RetentionPolicyTagLinks";
    let list = match p.get(name) {
        None => return Ok(None),
        Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ExoError::bad_value(name, v))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(ExoError::bad_value(name, other)),
    };
    let mut tags = Vec::new();
    for t in list {
        let known = DEFAULT_TAGS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&t))
            .ok_or_else(|| {
                ExoError::task(format!(
                    "Couldn't find a retention policy tag with the identity '{t}'."
                ))
            })?;
        if !tags.iter().any(|x: &String| x == known) {
            tags.push((*known).to_owned());
        }
    }
    Ok(Some(tags))
}

fn find_policy<'a>(list: &'a mut [Policy], key: &str) -> Option<&'a mut Policy> {
    list.iter_mut()
        .find(|p| p.name.eq_ignore_ascii_case(key) || p.guid.eq_ignore_ascii_case(key))
}

fn get_policies(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "ResultSize"])?;
    let key = cx.params.text("Identity").filter(|s| !s.is_empty());
    with(cx, |t| match &key {
        Some(k) => find_policy(t.policies(), k)
            .map(|p| one(policy_object(p)))
            .ok_or_else(|| ExoError::not_found(k, cx.server)),
        None => Ok(paginate(
            t.policies().iter().map(policy_object).collect(),
            &cx.page,
        )),
    })
}

fn new_policy(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&[
        "Name",
        "RetentionPolicyTagLinks",
        "IsDefault",
        "RetentionId",
    ])?;
    let name = cx.params.required("Name")?;
    let tags = tag_links(&cx.params)?.unwrap_or_default();
    let is_default = cx.params.flag("IsDefault")?.unwrap_or(false);
    with(cx, |t| {
        let list = t.policies();
        if list.iter().any(|p| p.name.eq_ignore_ascii_case(&name)) {
            return Err(ExoError::task(format!(
                "The retention policy '{name}' already exists. Specify a different name."
            )));
        }
        if is_default {
            list.iter_mut().for_each(|p| p.is_default = false);
        }
        let policy = Policy {
            name: name.clone(),
            guid: uuid::Uuid::new_v4().to_string(),
            tags,
            is_default,
        };
        let out = policy_object(&policy);
        list.push(policy);
        Ok(one(out))
    })
}

fn set_policy(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params
        .only(&["Identity", "Name", "RetentionPolicyTagLinks", "IsDefault"])?;
    let key = cx.params.required("Identity")?;
    let rename = cx.params.text("Name").filter(|s| !s.is_empty());
    let tags = tag_links(&cx.params)?;
    with(cx, |t| {
        let list = t.policies();
        if let Some(n) = &rename
            && list
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(n) && !p.name.eq_ignore_ascii_case(&key))
        {
            return Err(ExoError::task(format!(
                "The retention policy '{n}' already exists. Specify a different name."
            )));
        }
        let policy = find_policy(list, &key).ok_or_else(|| ExoError::not_found(&key, cx.server))?;
        if let Some(n) = rename {
            policy.name = n;
        }
        if let Some(tags) = tags {
            policy.tags = tags;
        }
        Ok(done(Vec::new()))
    })
}

fn remove_policy(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity"])?;
    let key = cx.params.required("Identity")?;
    with(cx, |t| {
        let list = t.policies();
        let before = list.len();
        list.retain(|p| !(p.name.eq_ignore_ascii_case(&key) || p.guid.eq_ignore_ascii_case(&key)));
        if list.len() == before {
            return Err(ExoError::not_found(&key, cx.server));
        }
        Ok(done(Vec::new()))
    })
}

/// The cmdlets of this file, or `None` for a name it does not serve.
pub(super) fn run(cx: &Cx<'_>, lower_name: &str) -> Option<Result<Answer, ExoError>> {
    Some(match lower_name {
        "get-mailboxregionalconfiguration" => get_regional(cx),
        "set-mailboxregionalconfiguration" => set_regional(cx),
        "get-calendarprocessing" => get_calendar(cx),
        "set-calendarprocessing" => set_calendar(cx),
        "start-managedfolderassistant" => start_assistant(cx),
        "get-retentionpolicy" => get_policies(cx),
        "new-retentionpolicy" => new_policy(cx),
        "set-retentionpolicy" => set_policy(cx),
        "remove-retentionpolicy" => remove_policy(cx),
        _ => return None,
    })
}

/// The test API's Exchange routes: `GET /_sim/exchange/{tenant}/assistant-runs` (every
/// `Start-ManagedFolderAssistant` run) and `POST /_sim/exchange/{tenant}/invoke` with
/// `{"cmdlet", "parameters"}` (runs one cmdlet without a token, so a test reads state back as
/// Exchange shows it: `{"value": [...]}`, or `{"error"}` with the cmdlet's status).
pub(crate) fn admin(
    sim: &Sim,
    method: &str,
    tenant: &str,
    what: &str,
    body: &[u8],
) -> HttpResponse {
    let Some(t) = sim.resolve_tenant(tenant) else {
        return HttpResponse::NotFound().json(json!({"error": format!("no tenant '{tenant}'")}));
    };
    match (method, what) {
        ("GET", "assistant-runs") => HttpResponse::Ok().json(assistant_runs(sim, &t.id)),
        ("POST", "invoke") => {
            let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let Some(cmdlet) = input.get("cmdlet").and_then(Value::as_str) else {
                return HttpResponse::BadRequest().json(json!({"error": "cmdlet is required"}));
            };
            let params = input
                .get("parameters")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let server = super::server_name(&t);
            let cx = Cx {
                sim,
                tenant: &t,
                server: &server,
                params: Params::new(params),
                page: super::PageReq {
                    after: None,
                    taken: 0,
                    size: 1000,
                },
            };
            match super::cmdlets::run(&cx, cmdlet) {
                Ok(answer) => HttpResponse::Ok()
                    .json(json!({"value": answer.items, "warnings": answer.warnings})),
                Err(e) => HttpResponse::build(
                    actix_web::http::StatusCode::from_u16(e.status)
                        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
                )
                .json(json!({"error": e.message})),
            }
        }
        _ => HttpResponse::NotFound()
            .json(json!({"error": format!("no admin route {method} exchange/{what}")})),
    }
}

fn assistant_runs(sim: &Sim, tenant: &str) -> Value {
    with_tenant(sim, tenant, |t| {
        let mut runs: Vec<Value> = t
            .mailboxes
            .values()
            .flat_map(|e| e.assistant_runs.iter().cloned())
            .collect();
        runs.sort_by(|a, b| a["StartedAt"].to_string().cmp(&b["StartedAt"].to_string()));
        json!({"runs": runs})
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_the_forms_cipp_and_exchange_write_them() {
        let q = |s: &str| parse_size("Q", &json!(s)).ok();
        assert_eq!(q("10GB"), Some(Quota::Bytes(10 << 30)));
        assert_eq!(q("1000 MB"), Some(Quota::Bytes(1000 << 20)));
        assert_eq!(q("1.5TB"), Some(Quota::Bytes(3 << 39)));
        assert_eq!(q("unlimited"), Some(Quota::Unlimited));
        assert_eq!(
            q("10 GB (10,737,418,240 bytes)"),
            Some(Quota::Bytes(10 << 30))
        );
        assert_eq!(q("ten gigs"), None);
        assert_eq!(q("10XB"), None);
    }

    #[test]
    fn only_specific_cultures_are_languages() {
        assert!(is_specific_culture("en-US"));
        assert!(is_specific_culture("sr-Latn-RS"));
        assert!(!is_specific_culture("en"));
        assert!(!is_specific_culture("english"));
        assert!(!is_specific_culture("en-USA1"));
    }
}
