//! The emulated cmdlets. Each reads or writes the tenant's one mailbox store.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::mailbox::{self, Ace, Kind, Mailbox, Obj, Rule, html, str_at};
use super::{Answer, ExoError, PageReq};
use crate::state::{Sim, Tenant, UserStore};
use crate::user::{User, idx};

/// Cmdlet parameters, looked up case-insensitively as PowerShell does.
pub(crate) struct Params(Map<String, Value>);

impl Params {
    pub fn new(map: Map<String, Value>) -> Self {
        Self(map)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn required(&self, name: &str) -> Result<String, ExoError> {
        self.text(name)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ExoError::missing(name))
    }

    /// A switch or boolean parameter; strings "true"/"false" are accepted.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ExoError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") || s == "$true" => {
                Ok(Some(true))
            }
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s == "$false" => {
                Ok(Some(false))
            }
            Some(other) => Err(ExoError::bad_value(name, other)),
        }
    }

    /// Refuses parameters the cmdlet does not take (common parameters are always allowed).
    pub fn only(&self, allowed: &[&str]) -> Result<(), ExoError> {
        const COMMON: &[&str] = &[
            "Confirm",
            "Force",
            "ErrorAction",
            "WarningAction",
            "Verbose",
            "Debug",
            "DomainController",
        ];
        for key in self.0.keys() {
            if !allowed
                .iter()
                .chain(COMMON)
                .any(|a| a.eq_ignore_ascii_case(key))
            {
                return Err(ExoError::unknown_parameter(key));
            }
        }
        Ok(())
    }
}

pub(crate) struct Cx<'a> {
    pub sim: &'a Sim,
    pub tenant: &'a Arc<Tenant>,
    pub server: &'a str,
    pub params: Params,
    pub page: PageReq,
}

/// A multi-valued edit: a whole new list, or `{"Add": [...], "Remove": [...]}`.
enum Edit {
    Replace(Vec<String>),
    Delta {
        add: Vec<String>,
        remove: Vec<String>,
    },
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => s
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

fn edit(name: &str, v: &Value) -> Result<Edit, ExoError> {
    match v {
        Value::Null => Ok(Edit::Replace(Vec::new())),
        Value::Array(_) | Value::String(_) => Ok(Edit::Replace(strings(v))),
        Value::Object(o) => {
            let pick = |key: &str| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| strings(v))
                    .unwrap_or_default()
            };
            Ok(Edit::Delta {
                add: pick("Add"),
                remove: pick("Remove"),
            })
        }
        other => Err(ExoError::bad_value(name, other)),
    }
}

fn apply_edit(list: &mut Vec<String>, e: Edit) {
    match e {
        Edit::Replace(v) => *list = v,
        Edit::Delta { add, remove } => {
            list.retain(|x| !remove.iter().any(|r| r.eq_ignore_ascii_case(x)));
            for a in add {
                if !list.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                    list.push(a);
                }
            }
        }
    }
}

fn user_has_mailbox(cx: &Cx<'_>, user: &User, stored: &HashMap<String, Mailbox>) -> bool {
    stored.contains_key(user.id()) || mailbox::seeded_kind(cx.sim.seed, user).is_some()
}

/// Finds the user behind a mailbox identity: object id, UPN, SMTP address (with or without
/// `smtp:`), alias/Name, display name, or mailbox Guid.
fn find_seq(
    cx: &Cx<'_>,
    store: &UserStore,
    stored: &HashMap<String, Mailbox>,
    key: &str,
) -> Option<u64> {
    let key = key.trim();
    let key = key
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("smtp:"))
        .map_or(key, |_| &key[5..]);
    if let Some(seq) = store.find_seq(key)
        && let Some(u) = store.live.get(&seq)
        && user_has_mailbox(cx, u, stored)
    {
        return Some(seq);
    }
    let is_guid = uuid::Uuid::parse_str(key).is_ok();
    let smtp = format!("smtp:{key}");
    store
        .live
        .iter()
        .find(|(_, u)| {
            let hit = str_at(u, "mailNickname").eq_ignore_ascii_case(key)
                || u.get(idx::MAIL)
                    .as_str()
                    .is_some_and(|m| m.eq_ignore_ascii_case(key))
                || mailbox::proxies(u)
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&smtp))
                || str_at(u, "displayName").eq_ignore_ascii_case(key)
                || (is_guid
                    && (mailbox::mailbox_guid(cx.sim.seed, u.id()).eq_ignore_ascii_case(key)
                        || mailbox::exchange_guid(cx.sim.seed, u.id()).eq_ignore_ascii_case(key)));
            hit && user_has_mailbox(cx, u, stored)
        })
        .map(|(seq, _)| *seq)
}

fn mailbox_of(
    cx: &Cx<'_>,
    store: &UserStore,
    stored: &HashMap<String, Mailbox>,
    user: &User,
) -> Option<Mailbox> {
    stored
        .get(user.id())
        .cloned()
        .or_else(|| mailbox::derive(cx.sim.seed, user, store))
}

/// Every mailbox in the tenant with its user (cloned: callers scan, then change by identity).
pub(super) fn every_mailbox(cx: &Cx<'_>) -> Vec<(User, Mailbox)> {
    let store = cx.tenant.users.read();
    let stored = cx.tenant.mailboxes.read();
    store
        .live
        .values()
        .filter_map(|u| mailbox_of(cx, &store, &stored, u).map(|m| (u.clone(), m)))
        .collect()
}

/// Reads one mailbox by identity.
pub(super) fn view<R>(
    cx: &Cx<'_>,
    key: &str,
    f: impl FnOnce(&UserStore, &User, &Mailbox) -> Result<R, ExoError>,
) -> Result<R, ExoError> {
    let store = cx.tenant.users.read();
    let stored = cx.tenant.mailboxes.read();
    let user = find_seq(cx, &store, &stored, key)
        .and_then(|seq| store.live.get(&seq))
        .ok_or_else(|| ExoError::not_found(key, cx.server))?;
    let m =
        mailbox_of(cx, &store, &stored, user).ok_or_else(|| ExoError::not_found(key, cx.server))?;
    f(&store, user, &m)
}

/// Changes one mailbox (and its user, for directory-backed fields) by identity.
pub(super) fn change<R>(
    cx: &Cx<'_>,
    key: &str,
    f: impl FnOnce(&mut User, &mut Mailbox) -> Result<R, ExoError>,
) -> Result<R, ExoError> {
    let mut store = cx.tenant.users.write();
    let mut stored = cx.tenant.mailboxes.write();
    let seq =
        find_seq(cx, &store, &stored, key).ok_or_else(|| ExoError::not_found(key, cx.server))?;
    let (id, derived) = {
        let user = store
            .live
            .get(&seq)
            .ok_or_else(|| ExoError::not_found(key, cx.server))?;
        let derived = if stored.contains_key(user.id()) {
            None
        } else {
            Some(
                mailbox::derive(cx.sim.seed, user, &store)
                    .ok_or_else(|| ExoError::not_found(key, cx.server))?,
            )
        };
        (user.id().to_owned(), derived)
    };
    if let Some(d) = derived {
        stored.insert(id.clone(), d);
    }
    let m = stored
        .get_mut(&id)
        .ok_or_else(|| ExoError::not_found(key, cx.server))?;
    let user = store
        .get_mut(seq)
        .ok_or_else(|| ExoError::not_found(key, cx.server))?;
    // Work on copies so a refused change leaves nothing half-applied.
    let mut m2 = m.clone();
    let mut u2 = user.clone();
    let out = f(&mut u2, &mut m2)?;
    *m = m2;
    *user = u2;
    Ok(out)
}

/// Resolves another recipient (for ForwardingAddress, permissions): (Name, UPN).
pub(super) fn recipient(cx: &Cx<'_>, key: &str) -> Result<(String, String), ExoError> {
    let store = cx.tenant.users.read();
    let stored = cx.tenant.mailboxes.read();
    let seq = find_seq(cx, &store, &stored, key).or_else(|| store.find_seq(key));
    seq.and_then(|s| store.live.get(&s))
        .map(|u| (str_at(u, "mailNickname").to_owned(), u.upn().to_owned()))
        .ok_or_else(|| ExoError::not_found(key, cx.server))
}

pub(super) fn paginate(items: Vec<Value>, page: &PageReq) -> Answer {
    let start = page.after.unwrap_or(0) as usize;
    let end = (start + page.size).min(items.len());
    let next = (end < items.len()).then_some((end as u64, end as u64));
    Answer {
        items: items.into_iter().skip(start).take(end - start).collect(),
        warnings: Vec::new(),
        next,
    }
}

pub(super) fn one(item: Value) -> Answer {
    Answer {
        items: vec![item],
        ..Answer::default()
    }
}

pub(super) fn done(warnings: Vec<String>) -> Answer {
    Answer {
        warnings,
        ..Answer::default()
    }
}

fn no_change(identity: &str) -> String {
    format!(
        "The command completed successfully but no settings of '{identity}' have been modified."
    )
}

pub(crate) fn run(cx: &Cx<'_>, name: &str) -> Result<Answer, ExoError> {
    match name.to_ascii_lowercase().as_str() {
        "get-mailbox" => get_mailbox(cx, false),
        "get-casmailbox" => get_mailbox(cx, true),
        "set-mailbox" if cx.params.has("RecipientLimits") => super::recipient_limits::set(cx),
        "set-mailbox" => set_mailbox(cx),
        "enable-mailbox" => enable_mailbox(cx),
        "get-mailboxautoreplyconfiguration" => get_auto_reply(cx),
        "set-mailboxautoreplyconfiguration" => set_auto_reply(cx),
        "get-inboxrule" => get_rules(cx),
        "disable-inboxrule" => change_rule(cx, RuleOp::Disable),
        "enable-inboxrule" => change_rule(cx, RuleOp::Enable),
        "remove-inboxrule" => change_rule(cx, RuleOp::Remove),
        "get-mailboxpermission" => get_permissions(cx),
        "add-mailboxpermission" => edit_permission(cx, true),
        "remove-mailboxpermission" => edit_permission(cx, false),
        "get-recipientpermission" => get_send_as(cx),
        "add-recipientpermission" => edit_send_as(cx, true),
        "remove-recipientpermission" => edit_send_as(cx, false),
        "set-casmailbox" => set_cas(cx),
        "get-mailboxjunkemailconfiguration" => get_junk(cx),
        "set-mailboxjunkemailconfiguration" => set_junk(cx),
        "get-mailboxstatistics" => get_statistics(cx),
        "get-organizationconfig" => Ok(one(json!({
            "Identity": cx.tenant.initial_domain().split('.').next().unwrap_or(""),
            "Name": cx.tenant.initial_domain(),
            "DisplayName": cx.tenant.display_name,
            "AutoExpandingArchiveEnabled": false,
            "AuditDisabled": false,
            "IsDehydrated": false,
            "DefaultAuthenticationPolicy": null,
            "SmtpClientAuthenticationDisabled": true,
        }))),
        "get-blockedsenderaddress" => Ok(Answer::default()),
        "search-unifiedauditlog" => super::audit_log::search(cx),
        "get-adminauditlogconfig" => {
            cx.params.only(&["Identity"])?;
            Ok(one(json!({
                "Identity": "Admin Audit Log Settings",
                "Name": "Admin Audit Log Settings",
                "AdminAuditLogEnabled": true,
                "UnifiedAuditLogIngestionEnabled": true,
                "UnifiedAuditLogFirstOptInDate": null,
                "AdminAuditLogAgeLimit": "90.00:00:00",
                "AdminAuditLogCmdlets": ["*"],
                "AdminAuditLogParameters": ["*"],
                "IsValid": true,
            })))
        }
        "get-accepteddomain" => get_accepted_domains(cx),
        "get-messagetracev2" => super::message_trace::get_message_trace(cx, true),
        "get-messagetrace" => super::message_trace::get_message_trace(cx, false),
        "get-mobiledevice" => super::devices_calendar::get_mobile_devices(cx),
        "remove-mobiledevice" => super::devices_calendar::remove_mobile_device(cx),
        "clear-mobiledevice" => super::devices_calendar::clear_mobile_device(cx),
        "remove-calendarevents" => super::devices_calendar::remove_calendar_events(cx),
        "get-mailboxfolderstatistics" => super::devices_calendar::get_folder_statistics(cx),
        "get-mailboxfolderpermission" => super::devices_calendar::get_folder_permissions(cx),
        "add-mailboxfolderpermission" => super::devices_calendar::add_folder_permission(cx),
        "set-mailboxfolderpermission" => super::devices_calendar::set_folder_permission(cx),
        "remove-mailboxfolderpermission" => super::devices_calendar::remove_folder_permission(cx),
        "get-transportrule" => super::tenant_wide::get_transport_rules(cx),
        "disable-transportrule" => super::tenant_wide::set_transport_rule_state(cx, false),
        "enable-transportrule" => super::tenant_wide::set_transport_rule_state(cx, true),
        "new-tenantallowblocklistitems" => super::tenant_wide::new_block_list_items(cx),
        "get-tenantallowblocklistitems" => super::tenant_wide::get_block_list_items(cx),
        "get-app" => super::tenant_wide::get_apps(cx),
        "disable-app" => super::tenant_wide::disable_app(cx),
        "get-distributiongroup" => super::groups::get(cx),
        "get-unifiedgroup" => super::groups::get_unified(cx),
        "set-unifiedgroup" => super::groups::set_unified(cx),
        "set-distributiongroup" => super::groups::set(cx),
        "add-distributiongroupmember" => super::groups::change_member(cx, true),
        "remove-distributiongroupmember" => super::groups::change_member(cx, false),
        other => super::mailbox_settings::run(cx, other)
            .unwrap_or_else(|| Err(ExoError::unknown_cmdlet(name))),
    }
}

/// `Get-AcceptedDomain [-Identity <domain>]`: the tenant's verified domains.
fn get_accepted_domains(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "ResultSize"])?;
    let only = cx.params.text("Identity").filter(|s| !s.is_empty());
    let items: Vec<Value> = cx
        .tenant
        .domains
        .iter()
        .filter(|d| d.is_verified)
        .filter(|d| {
            only.as_deref()
                .is_none_or(|o| o.eq_ignore_ascii_case(&d.name))
        })
        .map(|d| {
            json!({
                "Identity": d.name,
                "Name": d.name,
                "DomainName": d.name,
                "DomainType": "Authoritative",
                "Default": d.is_default,
                "InitialDomain": d.is_initial,
                "MatchSubDomains": false,
                "IsValid": true,
            })
        })
        .collect();
    if let Some(o) = &only
        && items.is_empty()
    {
        return Err(ExoError::not_found(o, cx.server));
    }
    Ok(paginate(items, &cx.page))
}

fn cas_object(user: &User, m: &Mailbox) -> Value {
    let alias = str_at(user, "mailNickname");
    let mut o = Obj::new();
    o.put("Identity", json!(alias))
        .put("Name", json!(alias))
        .put("DisplayName", json!(str_at(user, "displayName")))
        .put(
            "PrimarySmtpAddress",
            json!(user.get(idx::MAIL).as_str().unwrap_or(user.upn())),
        )
        .put("ExternalDirectoryObjectId", json!(user.id()))
        .guid("Guid", &m.guid)
        .put("ActiveSyncEnabled", json!(m.cas.active_sync))
        .put("OWAEnabled", json!(m.cas.owa))
        .put("PopEnabled", json!(m.cas.pop))
        .put("ImapEnabled", json!(m.cas.imap))
        .put("MAPIEnabled", json!(m.cas.mapi))
        .put("EwsEnabled", json!(m.cas.ews))
        .put(
            "SmtpClientAuthenticationDisabled",
            json!(m.cas.smtp_auth_disabled),
        )
        .list("ActiveSyncAllowedDeviceIDs", &[])
        .list("ActiveSyncBlockedDeviceIDs", &m.active_sync_blocked)
        .put("ActiveSyncMailboxPolicy", json!("Default"));
    o.done()
}

fn kinds_filter(v: Option<&Value>) -> Option<Vec<String>> {
    v.map(strings).filter(|l| !l.is_empty())
}

/// Get-Mailbox and Get-CASMailbox: one by Identity, or a paged list.
fn get_mailbox(cx: &Cx<'_>, cas: bool) -> Result<Answer, ExoError> {
    cx.params.only(&[
        "Identity",
        "ResultSize",
        "RecipientTypeDetails",
        "Archive",
        "IncludeInactiveMailbox",
        "SoftDeletedMailbox",
        "Filter",
    ])?;
    let filter = super::mailbox_settings::MailboxFilter::parse(cx.params.text("Filter"))?;
    let render = |u: &User, m: &Mailbox| {
        if cas {
            cas_object(u, m)
        } else {
            let mut o = mailbox::render(u, m, cx.server);
            super::mailbox_settings::overlay(cx, u.id(), &mut o);
            o
        }
    };
    if let Some(id) = cx.params.text("Identity").filter(|s| !s.is_empty()) {
        return view(cx, &id, |_, u, m| Ok(one(render(u, m))));
    }
    let kinds = kinds_filter(cx.params.get("RecipientTypeDetails"));
    let archive_only = cx.params.flag("Archive")?.unwrap_or(false);
    let explicit = cx.params.get("ResultSize").is_some();
    let limit: Option<u64> = match cx.params.get("ResultSize") {
        None => Some(1000),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("unlimited") => None,
        Some(Value::Number(n)) => n.as_u64().or(Some(1000)),
        Some(Value::String(s)) => Some(
            s.parse()
                .map_err(|_| ExoError::bad_value("ResultSize", &json!(s)))?,
        ),
        Some(other) => return Err(ExoError::bad_value("ResultSize", other)),
    };
    let store = cx.tenant.users.read();
    let stored = cx.tenant.mailboxes.read();
    let mut answer = Answer::default();
    let mut taken = cx.page.taken;
    let mut last = cx.page.after;
    let mut more = false;
    for (seq, user) in store.iter_after(cx.page.after) {
        let Some(m) = mailbox_of(cx, &store, &stored, user) else {
            continue;
        };
        if let Some(k) = &kinds
            && !k.iter().any(|k| k.eq_ignore_ascii_case(m.kind.details()))
        {
            continue;
        }
        if archive_only && m.archive_guid.is_none() {
            continue;
        }
        if filter.as_ref().is_some_and(|f| !f.matches(&m)) {
            continue;
        }
        if limit.is_some_and(|l| taken >= l) || answer.items.len() >= cx.page.size {
            more = true;
            break;
        }
        answer.items.push(render(user, &m));
        taken += 1;
        last = Some(*seq);
    }
    if more {
        if limit.is_some_and(|l| taken >= l) {
            answer.warnings.push(if explicit {
                "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.".to_owned()
            } else {
                "By default, only the first 1000 items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify \"-ResultSize Unlimited\".".to_owned()
            });
        } else if let Some(pos) = last {
            answer.next = Some((pos, taken));
        }
    }
    Ok(answer)
}

fn kind_from(v: &Value) -> Result<Kind, ExoError> {
    match v.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("shared") => Ok(Kind::Shared),
        Some("regular") => Ok(Kind::User),
        Some("room") => Ok(Kind::Room),
        Some("equipment") => Ok(Kind::Equipment),
        _ => Err(ExoError::bad_value("Type", v)),
    }
}

fn set_primary(user: &mut User, addr: &str) {
    let mut list = mailbox::proxies(user);
    for p in &mut list {
        if let Some(rest) = p.strip_prefix("SMTP:") {
            *p = format!("smtp:{rest}");
        }
    }
    list.retain(|p| !p.eq_ignore_ascii_case(&format!("smtp:{addr}")));
    list.insert(0, format!("SMTP:{addr}"));
    user.set(idx::MAIL, json!(addr));
    user.set_named("proxyAddresses", json!(list));
}

fn set_mailbox(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    let p = &cx.params;
    p.only(&[
        "Identity",
        "Type",
        "ForwardingAddress",
        "ForwardingSmtpAddress",
        "DeliverToMailboxAndForward",
        "HiddenFromAddressListsEnabled",
        "GrantSendOnBehalfTo",
        "EmailAddresses",
        "PrimarySmtpAddress",
        "WindowsEmailAddress",
        "DisplayName",
        "LitigationHoldEnabled",
        "LitigationHoldDuration",
        "RetentionHoldEnabled",
        "MessageCopyForSentAsEnabled",
        "MessageCopyForSendOnBehalfEnabled",
        "RetentionPolicy",
        "AuditEnabled",
        "ProhibitSendQuota",
        "ProhibitSendReceiveQuota",
        "IssueWarningQuota",
        "MaxSendSize",
        "MaxReceiveSize",
    ])?;
    let identity = p.required("Identity")?;
    let settings = super::mailbox_settings::SetMailbox::parse(cx)?;
    // Resolve other recipients before taking the write locks.
    let forwarding = match p.get("ForwardingAddress") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.is_empty() => Some(None),
        Some(Value::String(s)) => Some(Some(recipient(cx, s)?.0)),
        Some(other) => return Err(ExoError::bad_value("ForwardingAddress", other)),
    };
    let send_on_behalf = match p.get("GrantSendOnBehalfTo") {
        None => None,
        Some(v) => Some(match edit("GrantSendOnBehalfTo", v)? {
            Edit::Replace(list) => Edit::Replace(
                list.iter()
                    .map(|k| recipient(cx, k).map(|r| r.0))
                    .collect::<Result<_, _>>()?,
            ),
            Edit::Delta { add, remove } => Edit::Delta {
                add: add
                    .iter()
                    .map(|k| recipient(cx, k).map(|r| r.0))
                    .collect::<Result<_, _>>()?,
                remove: remove
                    .iter()
                    .map(|k| recipient(cx, k).map_or_else(|_| k.clone(), |r| r.0))
                    .collect(),
            },
        }),
    };
    let changed = change(cx, &identity, |user, m| {
        let before = (format!("{m:?}"), user.values.clone());
        if let Some(v) = p.get("Type") {
            m.kind = kind_from(v)?;
        }
        if let Some(f) = forwarding {
            m.forwarding_address = f;
        }
        match p.get("ForwardingSmtpAddress") {
            None => {}
            Some(Value::Null) => m.forwarding_smtp = None,
            Some(Value::String(s)) if s.is_empty() => m.forwarding_smtp = None,
            Some(Value::String(s)) => {
                let bare = s
                    .get(..5)
                    .filter(|x| x.eq_ignore_ascii_case("smtp:"))
                    .map_or(s.as_str(), |_| &s[5..]);
                if !bare.contains('@') {
                    return Err(ExoError::bad_value("ForwardingSmtpAddress", &json!(s)));
                }
                m.forwarding_smtp = Some(format!("smtp:{bare}"));
            }
            Some(other) => return Err(ExoError::bad_value("ForwardingSmtpAddress", other)),
        }
        if let Some(b) = p.flag("DeliverToMailboxAndForward")? {
            m.deliver_and_forward = b;
        }
        if let Some(b) = p.flag("HiddenFromAddressListsEnabled")? {
            // One flag, two views: Graph's showInAddressList is its inverse.
            user.set_named("showInAddressList", json!(!b));
        }
        if let Some(e) = send_on_behalf {
            apply_edit(&mut m.send_on_behalf, e);
        }
        if let Some(b) = p.flag("LitigationHoldEnabled")? {
            m.litigation_hold = b;
            m.litigation_hold_date = b.then(|| {
                let now = crate::seed::timestamp(time::OffsetDateTime::now_utc().unix_timestamp());
                format!("{}.0000000+00:00", now.trim_end_matches('Z'))
            });
        }
        if let Some(b) = p.flag("RetentionHoldEnabled")? {
            m.retention_hold = b;
        }
        if let Some(b) = p.flag("MessageCopyForSentAsEnabled")? {
            m.copy_sent_as = b;
        }
        if let Some(b) = p.flag("MessageCopyForSendOnBehalfEnabled")? {
            m.copy_send_on_behalf = b;
        }
        if let Some(s) = &settings.policy {
            m.retention_policy = s.clone();
        }
        if let Some(s) = p.text("DisplayName") {
            user.set_named("displayName", json!(s));
        }
        if let Some(v) = p.get("EmailAddresses") {
            let mut list = mailbox::proxies(user);
            apply_edit(&mut list, edit("EmailAddresses", v)?);
            // Bare addresses are secondary smtp: addresses.
            for a in &mut list {
                if !a.contains(':') {
                    *a = format!("smtp:{a}");
                }
            }
            let primaries: Vec<&String> = list.iter().filter(|a| a.starts_with("SMTP:")).collect();
            if primaries.len() != 1 {
                return Err(ExoError::task(
                    "The e-mail address list must contain exactly one primary SMTP address (prefix \"SMTP:\").",
                ));
            }
            let primary = primaries[0].trim_start_matches("SMTP:").to_owned();
            user.set_named("proxyAddresses", json!(list));
            user.set(idx::MAIL, json!(primary));
        }
        for name in ["PrimarySmtpAddress", "WindowsEmailAddress"] {
            if let Some(addr) = p.text(name) {
                if !addr.contains('@') {
                    return Err(ExoError::bad_value(name, &json!(addr)));
                }
                set_primary(user, &addr);
            }
        }
        let extra = settings.apply(cx, user.id());
        Ok(extra || before != (format!("{m:?}"), user.values.clone()))
    })?;
    Ok(done(if changed {
        Vec::new()
    } else {
        vec![no_change(&identity)]
    }))
}

fn enable_mailbox(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params
        .only(&["Identity", "Archive", "AutoExpandingArchive"])?;
    let identity = cx.params.required("Identity")?;
    let archive = cx.params.flag("Archive")?.unwrap_or(false);
    let expanding = cx.params.flag("AutoExpandingArchive")?.unwrap_or(false);
    if !archive && !expanding {
        return Err(ExoError::task(format!(
            "The mailbox '{identity}' is already enabled. Use -Archive to create an archive."
        )));
    }
    let server = cx.server;
    change(cx, &identity, |user, m| {
        if archive {
            if m.archive_guid.is_some() {
                return Err(ExoError::task(format!(
                    "The archive of mailbox '{}' is already enabled.",
                    str_at(user, "mailNickname")
                )));
            }
            m.archive_guid = Some(uuid::Uuid::new_v4().to_string());
        }
        if expanding {
            if m.archive_guid.is_none() {
                return Err(ExoError::task(format!(
                    "The mailbox '{identity}' doesn't have an archive. Enable the archive before enabling auto-expanding archiving."
                )));
            }
            // Cannot be turned off again, as in Exchange Online.
            m.auto_expanding = true;
        }
        Ok(one(mailbox::render(user, m, server)))
    })
}

fn exo_time(canonical: &str) -> String {
    format!("{canonical}.0000000+00:00")
}

/// Parses the date forms clients send into `YYYY-MM-DDTHH:MM:SS` UTC.
pub(crate) fn parse_when(s: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        let t = t.to_offset(time::UtcOffset::UTC);
        return Some(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ));
    }
    let base = s.split('.').next().unwrap_or(s).replace(' ', "T");
    let (date, clock) = base.split_once('T').unwrap_or((base.as_str(), "00:00:00"));
    let nums: Vec<u32> = date
        .split(['-', '/'])
        .filter_map(|x| x.parse().ok())
        .collect();
    let (y, mo, d) = match nums.as_slice() {
        [y, mo, d] if *y > 999 => (*y, *mo, *d),
        [mo, d, y] if *y > 999 => (*y, *mo, *d),
        _ => return None,
    };
    let c: Vec<u32> = clock.split(':').filter_map(|x| x.parse().ok()).collect();
    let (h, mi, sec) = (
        c.first().copied().unwrap_or(0),
        c.get(1).copied().unwrap_or(0),
        c.get(2).copied().unwrap_or(0),
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}"))
}

fn auto_reply_object(user: &User, m: &Mailbox) -> Value {
    let a = &m.auto_reply;
    let alias = str_at(user, "mailNickname");
    let mut o = Obj::new();
    o.put("Identity", json!(alias))
        .put("MailboxOwnerId", json!(alias))
        .put("AutoReplyState", json!(a.state))
        .date("StartTime", Some(&exo_time(&a.start)))
        .date("EndTime", Some(&exo_time(&a.end)))
        .put("ExternalAudience", json!(a.audience))
        .put("InternalMessage", json!(a.internal))
        .put("ExternalMessage", json!(a.external))
        .put("CreateOOFEvent", json!(a.create_oof_event))
        .put("OOFEventSubject", json!(a.oof_event_subject))
        .put("AutoDeclineFutureRequestsWhenOOF", json!(a.auto_decline))
        .put(
            "DeclineEventsForScheduledOOF",
            json!(a.decline_events_for_scheduled),
        )
        .put(
            "DeclineAllEventsForScheduledOOF",
            json!(a.decline_all_events_for_scheduled),
        )
        .put("DeclineMeetingMessage", json!(a.decline_message))
        .put("IsValid", json!(true));
    o.done()
}

fn get_auto_reply(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity"])?;
    let identity = cx.params.required("Identity")?;
    view(cx, &identity, |_, u, m| Ok(one(auto_reply_object(u, m))))
}

fn set_auto_reply(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    let p = &cx.params;
    p.only(&[
        "Identity",
        "AutoReplyState",
        "InternalMessage",
        "ExternalMessage",
        "ExternalAudience",
        "StartTime",
        "EndTime",
        "CreateOOFEvent",
        "OOFEventSubject",
        "AutoDeclineFutureRequestsWhenOOF",
        "DeclineEventsForScheduledOOF",
        "DeclineAllEventsForScheduledOOF",
        "DeclineMeetingMessage",
    ])?;
    let identity = p.required("Identity")?;
    change(cx, &identity, |_, m| {
        let a = &mut m.auto_reply;
        if let Some(v) = p.get("AutoReplyState") {
            a.state = match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("enabled") => "Enabled",
                Some("disabled") => "Disabled",
                Some("scheduled") => "Scheduled",
                _ => return Err(ExoError::bad_value("AutoReplyState", v)),
            };
        }
        if let Some(v) = p.get("ExternalAudience") {
            a.audience = match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("none") => "None",
                Some("known") => "Known",
                Some("all") => "All",
                _ => return Err(ExoError::bad_value("ExternalAudience", v)),
            };
        }
        for (name, slot) in [("StartTime", &mut a.start), ("EndTime", &mut a.end)] {
            if let Some(v) = p.get(name) {
                *slot = v
                    .as_str()
                    .and_then(parse_when)
                    .ok_or_else(|| ExoError::bad_value(name, v))?;
            }
        }
        if let Some(s) = p.text("InternalMessage") {
            a.internal = html(&s);
        }
        if let Some(s) = p.text("ExternalMessage") {
            a.external = html(&s);
        }
        if let Some(b) = p.flag("CreateOOFEvent")? {
            a.create_oof_event = b;
        }
        if p.has("OOFEventSubject") {
            a.oof_event_subject = p.text("OOFEventSubject");
        }
        if let Some(b) = p.flag("AutoDeclineFutureRequestsWhenOOF")? {
            a.auto_decline = b;
        }
        if let Some(b) = p.flag("DeclineEventsForScheduledOOF")? {
            a.decline_events_for_scheduled = b;
        }
        if let Some(b) = p.flag("DeclineAllEventsForScheduledOOF")? {
            a.decline_all_events_for_scheduled = b;
        }
        if p.has("DeclineMeetingMessage") {
            a.decline_message = p.text("DeclineMeetingMessage");
        }
        if a.state == "Scheduled" && a.end <= a.start {
            return Err(ExoError::task(
                "The end time must be later than the start time for a scheduled automatic reply.",
            ));
        }
        Ok(done(Vec::new()))
    })
}

fn rule_object(alias: &str, r: &Rule, priority: usize) -> Value {
    let mut desc = String::from("If the message:\r\n");
    if !r.from.is_empty() {
        desc.push_str(&format!(
            "\tis received from '{}'\r\n",
            r.from.join("' or '")
        ));
    }
    if !r.subject_words.is_empty() {
        desc.push_str(&format!(
            "\tincludes '{}' in the subject\r\n",
            r.subject_words.join("' or '")
        ));
    }
    if !r.subject_or_body_words.is_empty() {
        desc.push_str(&format!(
            "\tincludes '{}' in the subject or body\r\n",
            r.subject_or_body_words.join("' or '")
        ));
    }
    if r.from.is_empty() && r.subject_words.is_empty() && r.subject_or_body_words.is_empty() {
        desc.push_str("\tapplies to all messages\r\n");
    }
    desc.push_str("Take the following actions:\r\n");
    if let Some(f) = &r.move_to {
        desc.push_str(&format!("\tmove the message to folder '{f}'\r\n"));
    }
    if !r.forward_to.is_empty() {
        desc.push_str(&format!(
            "\tforward the message to '{}'\r\n",
            r.forward_to.join("' or '")
        ));
    }
    if !r.redirect_to.is_empty() {
        desc.push_str(&format!(
            "\tredirect the message to '{}'\r\n",
            r.redirect_to.join("' or '")
        ));
    }
    if r.mark_read {
        desc.push_str("\tmark the message as read\r\n");
    }
    if r.delete {
        desc.push_str("\tdelete the message\r\n");
    }
    if r.stop {
        desc.push_str("\tand stop processing more rules on this message\r\n");
    }
    let null_or = |l: &[String]| if l.is_empty() { Value::Null } else { json!(l) };
    json!({
        "Name": r.name,
        "Identity": format!("{alias}\\{}", r.id),
        "RuleIdentity": r.id.to_string(),
        "Enabled": r.enabled,
        "Priority": priority,
        "Description": desc,
        "MailboxOwnerId": alias,
        "InError": false,
        "IsValid": true,
        "SupportedByTask": true,
        "From": null_or(&r.from),
        "SentTo": null,
        "SubjectContainsWords": null_or(&r.subject_words),
        "BodyContainsWords": null_or(&r.body_words),
        "SubjectOrBodyContainsWords": null_or(&r.subject_or_body_words),
        "FromAddressContainsWords": null,
        "ForwardTo": null_or(&r.forward_to),
        "ForwardAsAttachmentTo": null_or(&r.forward_as_attachment_to),
        "RedirectTo": null_or(&r.redirect_to),
        "DeleteMessage": r.delete,
        "MoveToFolder": r.move_to,
        "MarkAsRead": r.mark_read,
        "StopProcessingRules": r.stop,
    })
}

fn get_rules(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Mailbox", "Identity", "IncludeHidden"])?;
    let hidden = cx.params.flag("IncludeHidden")?.unwrap_or(false);
    let (owner, only) = rule_target(cx)?;
    let items = view(cx, &owner, |_, u, m| {
        let alias = str_at(u, "mailNickname");
        let mut out: Vec<Value> = m
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| only.as_deref().is_none_or(|o| rule_matches(r, o)))
            .map(|(i, r)| rule_object(alias, r, i + 1))
            .collect();
        if only.is_none() && hidden {
            let junk = Rule {
                id: 0x0DA0_0000_0000_0001,
                name: "Junk E-Mail Rule".to_owned(),
                enabled: m.junk_enabled,
                from: Vec::new(),
                subject_words: Vec::new(),
                body_words: Vec::new(),
                subject_or_body_words: Vec::new(),
                forward_to: Vec::new(),
                redirect_to: Vec::new(),
                forward_as_attachment_to: Vec::new(),
                delete: false,
                move_to: Some(format!("{alias}:\\Junk Email")),
                mark_read: false,
                stop: false,
            };
            out.push(rule_object(alias, &junk, out.len() + 1));
            if m.auto_reply.state != "Disabled" {
                let mut oof = junk.clone();
                oof.id = 0x0DA0_0000_0000_0002;
                oof.name = "Microsoft.Exchange.OOF.KnownSendersInternal.0A6B6B3D".to_owned();
                oof.move_to = None;
                oof.enabled = true;
                out.push(rule_object(alias, &oof, out.len() + 1));
            }
        }
        Ok(out)
    })?;
    if let Some(o) = &only
        && items.is_empty()
    {
        return Err(ExoError::not_found(o, cx.server));
    }
    Ok(paginate(items, &cx.page))
}

fn rule_matches(r: &Rule, key: &str) -> bool {
    r.id.to_string() == key || r.name.eq_ignore_ascii_case(key)
}

/// Works out (mailbox, rule key) from `Mailbox` and `Identity` (`owner\ruleId` or a name).
fn rule_target(cx: &Cx<'_>) -> Result<(String, Option<String>), ExoError> {
    let mailbox = cx.params.text("Mailbox").filter(|s| !s.is_empty());
    let identity = cx.params.text("Identity").filter(|s| !s.is_empty());
    match (mailbox, identity) {
        (Some(mb), Some(id)) => {
            let rule = id
                .rsplit_once('\\')
                .map_or(id.as_str(), |(_, r)| r)
                .to_owned();
            Ok((mb, Some(rule)))
        }
        (Some(mb), None) => Ok((mb, None)),
        (None, Some(id)) => match id.rsplit_once('\\') {
            Some((owner, rule)) => Ok((owner.to_owned(), Some(rule.to_owned()))),
            None => Err(ExoError::not_found(&id, cx.server)),
        },
        (None, None) => Err(ExoError::missing("Mailbox")),
    }
}

enum RuleOp {
    Enable,
    Disable,
    Remove,
}

fn change_rule(cx: &Cx<'_>, op: RuleOp) -> Result<Answer, ExoError> {
    cx.params
        .only(&["Identity", "Mailbox", "AlwaysDeleteOutlookRulesBlob"])?;
    if !cx.params.has("Identity") {
        return Err(ExoError::missing("Identity"));
    }
    let (owner, rule) = rule_target(cx)?;
    let rule = rule.ok_or_else(|| ExoError::missing("Identity"))?;
    let server = cx.server;
    change(cx, &owner, |_, m| {
        let pos = m
            .rules
            .iter()
            .position(|r| rule_matches(r, &rule))
            .ok_or_else(|| ExoError::not_found(&rule, server))?;
        match op {
            RuleOp::Enable => m.rules[pos].enabled = true,
            RuleOp::Disable => m.rules[pos].enabled = false,
            RuleOp::Remove => {
                m.rules.remove(pos);
            }
        }
        Ok(done(Vec::new()))
    })
}

fn ace_object(alias: &str, user: &str, rights: &[String]) -> Value {
    json!({
        "Identity": alias,
        "User": user,
        "AccessRights@odata.type": "#Collection(String)",
        "AccessRights": rights,
        "IsInherited": false,
        "Deny": false,
        "InheritanceType": "All",
        "IsValid": true,
    })
}

fn get_permissions(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "User", "Owner"])?;
    let identity = cx.params.required("Identity")?;
    let only = cx.params.text("User");
    let items = view(cx, &identity, |_, u, m| {
        let alias = str_at(u, "mailNickname");
        let mut out = vec![ace_object(
            alias,
            "NT AUTHORITY\\SELF",
            &["FullAccess".to_owned(), "ReadPermission".to_owned()],
        )];
        out.extend(
            m.permissions
                .iter()
                .map(|a| ace_object(alias, &a.user, &a.rights)),
        );
        if let Some(only) = &only {
            out.retain(|a| {
                a["User"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(only))
            });
        }
        Ok(out)
    })?;
    Ok(paginate(items, &cx.page))
}

fn rights_param(cx: &Cx<'_>) -> Result<Vec<String>, ExoError> {
    let rights = cx
        .params
        .get("AccessRights")
        .map(strings)
        .unwrap_or_default();
    if rights.is_empty() {
        return Err(ExoError::missing("AccessRights"));
    }
    const KNOWN: &[&str] = &[
        "FullAccess",
        "ReadPermission",
        "ChangePermission",
        "ChangeOwner",
        "DeleteItem",
        "ExternalAccount",
        "SendAs",
    ];
    rights
        .into_iter()
        .map(|r| {
            KNOWN
                .iter()
                .find(|k| k.eq_ignore_ascii_case(&r))
                .map(|k| (*k).to_owned())
                .ok_or_else(|| ExoError::bad_value("AccessRights", &json!(r)))
        })
        .collect()
}

fn edit_permission(cx: &Cx<'_>, add: bool) -> Result<Answer, ExoError> {
    cx.params.only(&[
        "Identity",
        "User",
        "AccessRights",
        "AutoMapping",
        "InheritanceType",
        "Deny",
        "BypassMasterAccountSid",
    ])?;
    let identity = cx.params.required("Identity")?;
    let trustee = cx.params.required("User")?;
    let rights = rights_param(cx)?;
    let (_, upn) = recipient(cx, &trustee)?;
    change(cx, &identity, |u, m| {
        let alias = str_at(u, "mailNickname").to_owned();
        if add {
            match m
                .permissions
                .iter_mut()
                .find(|a| a.user.eq_ignore_ascii_case(&upn))
            {
                Some(ace) => {
                    for r in &rights {
                        if !ace.rights.contains(r) {
                            ace.rights.push(r.clone());
                        }
                    }
                }
                None => m.permissions.push(Ace {
                    user: upn.clone(),
                    rights: rights.clone(),
                }),
            }
            Ok(one(ace_object(&alias, &upn, &rights)))
        } else {
            let Some(pos) = m
                .permissions
                .iter()
                .position(|a| a.user.eq_ignore_ascii_case(&upn))
            else {
                return Ok(done(vec![format!(
                    "Can't remove the access control entry on the object '{alias}' for account '{upn}' because the ACE doesn't exist on the object."
                )]));
            };
            m.permissions[pos].rights.retain(|r| !rights.contains(r));
            if m.permissions[pos].rights.is_empty() {
                m.permissions.remove(pos);
            }
            Ok(done(Vec::new()))
        }
    })
}

fn send_as_object(alias: &str, trustee: &str) -> Value {
    json!({
        "Identity": alias,
        "Trustee": trustee,
        "AccessControlType": "Allow",
        "AccessRights@odata.type": "#Collection(String)",
        "AccessRights": ["SendAs"],
        "IsInherited": false,
        "InheritanceType": "None",
        "IsValid": true,
    })
}

fn get_send_as(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params
        .only(&["Identity", "Trustee", "AccessRights", "ResultSize"])?;
    let identity = cx.params.required("Identity")?;
    let items = view(cx, &identity, |_, u, m| {
        let alias = str_at(u, "mailNickname");
        let mut out = vec![send_as_object(alias, "NT AUTHORITY\\SELF")];
        out.extend(m.send_as.iter().map(|t| send_as_object(alias, t)));
        Ok(out)
    })?;
    Ok(paginate(items, &cx.page))
}

fn edit_send_as(cx: &Cx<'_>, add: bool) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "Trustee", "AccessRights"])?;
    let identity = cx.params.required("Identity")?;
    let trustee = cx.params.required("Trustee")?;
    let (_, upn) = recipient(cx, &trustee)?;
    change(cx, &identity, |u, m| {
        let alias = str_at(u, "mailNickname").to_owned();
        let present = m.send_as.iter().any(|t| t.eq_ignore_ascii_case(&upn));
        if add {
            if !present {
                m.send_as.push(upn.clone());
            }
            Ok(one(send_as_object(&alias, &upn)))
        } else {
            m.send_as.retain(|t| !t.eq_ignore_ascii_case(&upn));
            Ok(done(if present {
                Vec::new()
            } else {
                vec![no_change(&identity)]
            }))
        }
    })
}

fn set_cas(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    let p = &cx.params;
    p.only(&[
        "Identity",
        "ActiveSyncEnabled",
        "OWAEnabled",
        "PopEnabled",
        "ImapEnabled",
        "MAPIEnabled",
        "EwsEnabled",
        "SmtpClientAuthenticationDisabled",
        "ActiveSyncBlockedDeviceIDs",
    ])?;
    let identity = p.required("Identity")?;
    let blocked = match p.get("ActiveSyncBlockedDeviceIDs") {
        Some(v) => Some(edit("ActiveSyncBlockedDeviceIDs", v)?),
        None => None,
    };
    change(cx, &identity, |_, m| {
        let before = format!("{:?}{:?}", m.cas, m.active_sync_blocked);
        if let Some(e) = blocked {
            apply_edit(&mut m.active_sync_blocked, e);
        }
        for (name, slot) in [
            ("ActiveSyncEnabled", &mut m.cas.active_sync),
            ("OWAEnabled", &mut m.cas.owa),
            ("PopEnabled", &mut m.cas.pop),
            ("ImapEnabled", &mut m.cas.imap),
            ("MAPIEnabled", &mut m.cas.mapi),
            ("EwsEnabled", &mut m.cas.ews),
        ] {
            if let Some(b) = p.flag(name)? {
                *slot = b;
            }
        }
        if p.has("SmtpClientAuthenticationDisabled") {
            m.cas.smtp_auth_disabled = p.flag("SmtpClientAuthenticationDisabled")?;
        }
        Ok(done(
            if before == format!("{:?}{:?}", m.cas, m.active_sync_blocked) {
                vec![no_change(&identity)]
            } else {
                Vec::new()
            },
        ))
    })
}

fn junk_object(user: &User, m: &Mailbox) -> Value {
    let alias = str_at(user, "mailNickname");
    let mut o = Obj::new();
    o.put("Identity", json!(alias))
        .put("MailboxOwnerId", json!(alias))
        .put("Enabled", json!(m.junk_enabled))
        .list("TrustedSendersAndDomains", &m.trusted)
        .list("BlockedSendersAndDomains", &m.blocked)
        .list("TrustedRecipientsAndDomains", &[])
        .put("ContactsTrusted", json!(m.contacts_trusted))
        .put("TrustedListsOnly", json!(m.trusted_lists_only))
        .put("IsValid", json!(true));
    o.done()
}

fn get_junk(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity"])?;
    let identity = cx.params.required("Identity")?;
    view(cx, &identity, |_, u, m| Ok(one(junk_object(u, m))))
}

fn set_junk(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    let p = &cx.params;
    p.only(&[
        "Identity",
        "Enabled",
        "TrustedSendersAndDomains",
        "BlockedSendersAndDomains",
        "TrustedRecipientsAndDomains",
        "ContactsTrusted",
        "TrustedListsOnly",
    ])?;
    let identity = p.required("Identity")?;
    change(cx, &identity, |_, m| {
        if let Some(b) = p.flag("Enabled")? {
            m.junk_enabled = b;
        }
        if let Some(v) = p.get("TrustedSendersAndDomains") {
            apply_edit(&mut m.trusted, edit("TrustedSendersAndDomains", v)?);
        }
        if let Some(v) = p.get("BlockedSendersAndDomains") {
            apply_edit(&mut m.blocked, edit("BlockedSendersAndDomains", v)?);
        }
        if let Some(b) = p.flag("ContactsTrusted")? {
            m.contacts_trusted = b;
        }
        if let Some(b) = p.flag("TrustedListsOnly")? {
            m.trusted_lists_only = b;
        }
        Ok(done(Vec::new()))
    })
}

fn statistics_object(user: &User, m: &Mailbox, archive: bool) -> Value {
    let (items, bytes) = if archive {
        (m.archive_items, m.archive_bytes)
    } else {
        (m.items, m.bytes)
    };
    let mut o = Obj::new();
    o.put("DisplayName", json!(str_at(user, "displayName")))
        .put("Identity", json!(user.id()))
        .put("ItemCount", json!(items))
        .put("TotalItemSize", json!(mailbox::size_text(bytes)))
        .put(
            "DeletedItemCount",
            json!(if archive { 0 } else { m.deleted_items }),
        )
        .put(
            "TotalDeletedItemSize",
            json!(mailbox::size_text(if archive {
                0
            } else {
                m.deleted_bytes
            })),
        )
        .guid(
            "MailboxGuid",
            if archive {
                m.archive_guid.as_deref().unwrap_or(mailbox::ZERO_GUID)
            } else {
                &m.exchange_guid
            },
        )
        .put("IsArchiveMailbox", json!(archive))
        .put(
            "MailboxTypeDetail",
            json!(if archive {
                "ArchiveMailbox"
            } else {
                m.kind.details()
            }),
        )
        .date("LastLogonTime", m.last_logon.as_deref())
        .date("LastUserActionTime", m.last_logon.as_deref())
        .put("StorageLimitStatus", json!("BelowLimit"))
        .put("OwnerADGuid", json!(m.guid))
        .put("ExternalDirectoryOrganizationId", Value::Null);
    o.done()
}

fn get_statistics(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "Archive"])?;
    let identity = cx.params.required("Identity")?;
    let archive = cx.params.flag("Archive")?.unwrap_or(false);
    let server = cx.server;
    view(cx, &identity, |_, u, m| {
        if archive && m.archive_guid.is_none() {
            return Err(ExoError {
                status: 404,
                code: "NotFound",
                error_id: "Ex9A1C2E",
                exception: "Microsoft.Exchange.Data.Storage.MailboxUnavailableException",
                message: format!(
                    "The archive mailbox of '{}' couldn't be found on '{server}'.",
                    str_at(u, "mailNickname")
                ),
            });
        }
        Ok(one(statistics_object(u, m, archive)))
    })
}

/// `Mailbox('<id>')/Exchange.GetMailboxStatistics()`: the primary mailbox's statistics.
pub(crate) fn statistics_entity(
    sim: &Sim,
    tenant: &Arc<Tenant>,
    key: &str,
    server: &str,
) -> Result<Value, ExoError> {
    let cx = Cx {
        sim,
        tenant,
        server,
        params: Params::new(Map::new()),
        page: PageReq {
            after: None,
            taken: 0,
            size: 1,
        },
    };
    view(&cx, key, |_, u, m| Ok(statistics_object(u, m, false)))
}

// ---- The Graph view of the same mailbox -------------------------------------------------

fn graph_state(state: &str) -> &'static str {
    match state {
        "Enabled" => "alwaysEnabled",
        "Scheduled" => "scheduled",
        _ => "disabled",
    }
}

fn graph_audience(a: &str) -> &'static str {
    match a {
        "None" => "none",
        "Known" => "contactsOnly",
        _ => "all",
    }
}

/// Graph's `automaticRepliesSetting` for the stored auto-reply.
pub(crate) fn auto_reply_to_graph(m: &Mailbox) -> Value {
    let a = &m.auto_reply;
    json!({
        "status": graph_state(a.state),
        "externalAudience": graph_audience(a.audience),
        "internalReplyMessage": a.internal,
        "externalReplyMessage": a.external,
        "scheduledStartDateTime": {"dateTime": format!("{}.0000000", a.start), "timeZone": "UTC"},
        "scheduledEndDateTime": {"dateTime": format!("{}.0000000", a.end), "timeZone": "UTC"},
    })
}

/// Applies a Graph `automaticRepliesSetting` patch (enum values case-insensitive).
pub(crate) fn auto_reply_from_graph(
    m: &mut Mailbox,
    patch: &Map<String, Value>,
) -> Result<(), String> {
    let a = &mut m.auto_reply;
    for (k, v) in patch {
        match k.as_str() {
            "status" => {
                a.state = match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                    Some("alwaysenabled") => "Enabled",
                    Some("scheduled") => "Scheduled",
                    Some("disabled") => "Disabled",
                    _ => return Err(format!("The value '{v}' is not valid for status.")),
                }
            }
            "externalAudience" => {
                a.audience = match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                    Some("none") => "None",
                    Some("contactsonly") => "Known",
                    Some("all") => "All",
                    _ => {
                        return Err(format!(
                            "The value '{v}' is not valid for externalAudience."
                        ));
                    }
                }
            }
            "internalReplyMessage" => a.internal = html(v.as_str().unwrap_or("")),
            "externalReplyMessage" => a.external = html(v.as_str().unwrap_or("")),
            "scheduledStartDateTime" | "scheduledEndDateTime" => {
                let when = v
                    .get("dateTime")
                    .and_then(Value::as_str)
                    .and_then(parse_when)
                    .ok_or_else(|| format!("Cannot convert the literal '{v}' to the expected type 'Edm.DateTimeOffset'."))?;
                if k == "scheduledStartDateTime" {
                    a.start = when;
                } else {
                    a.end = when;
                }
            }
            other => {
                return Err(format!(
                    "The property '{other}' does not exist on type 'microsoft.graph.automaticRepliesSetting'."
                ));
            }
        }
    }
    Ok(())
}

/// Graph's whole `mailboxSettings` object for a mailbox.
pub(crate) fn mailbox_settings(m: &Mailbox) -> Value {
    json!({
        "archiveFolder": format!("AQMkA{}", m.exchange_guid.replace('-', "")),
        "timeZone": m.time_zone,
        "automaticRepliesSetting": auto_reply_to_graph(m),
        "language": {"locale": m.locale, "displayName": if m.locale == "en-US" { "English (United States)" } else { "" }},
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": m.time_zone},
        },
        "dateFormat": m.date_format,
        "timeFormat": m.time_format,
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "userPurpose": m.kind.purpose(),
    })
}

/// The stored-or-derived mailbox of a directory user, for Graph; None without a mailbox.
pub(crate) fn graph_mailbox(
    sim: &Sim,
    tenant: &Tenant,
    store: &UserStore,
    user: &User,
) -> Option<Mailbox> {
    tenant
        .mailboxes
        .read()
        .get(user.id())
        .cloned()
        .or_else(|| mailbox::derive(sim.seed, user, store))
}

#[cfg(test)]
mod tests {
    use super::parse_when;

    #[test]
    fn dates_in_the_forms_clients_send_normalise_to_utc() {
        assert_eq!(
            parse_when("2026-03-01T09:00:00Z").as_deref(),
            Some("2026-03-01T09:00:00")
        );
        assert_eq!(
            parse_when("2026-03-01T10:00:00+01:00").as_deref(),
            Some("2026-03-01T09:00:00")
        );
        assert_eq!(
            parse_when("2026-03-01T09:00:00.0000000").as_deref(),
            Some("2026-03-01T09:00:00")
        );
        assert_eq!(
            parse_when("03/08/2026 17:00:00").as_deref(),
            Some("2026-03-08T17:00:00")
        );
        assert_eq!(
            parse_when("2026-03-08").as_deref(),
            Some("2026-03-08T00:00:00")
        );
        assert_eq!(parse_when("next tuesday"), None);
        assert_eq!(parse_when("2026-13-01T00:00:00"), None);
    }
}
