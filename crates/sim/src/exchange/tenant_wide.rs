//! Exchange state that BEC containment changes beyond the mailbox itself: transport rules, the
//! Tenant Allow/Block List's sender entries, and mailbox add-ins.
//!
//! Every tenant has one ordinary, long-standing transport rule (a disclaimer). A tenant with a
//! planted incident also has a rule changed a day before the anchor that blind-copies every
//! message to an outside address, the shape of an attacker's tenant-wide diversion.
//!
//! Every mailbox has Microsoft's organisation-deployed add-in; the incident's user also has a
//! user-installed add-in from an unknown publisher that can read and send mail.

use std::collections::HashMap;

use parking_lot::Mutex;
use serde_json::{Value, json};

use super::cmdlets::{Cx, done, paginate};
use super::{Answer, ExoError};
use crate::seed::{guid, timestamp};
use crate::seed_reads::rng_for_id;
use crate::state::Tenant;

/// The planted diversion rule's name and where it copies mail to.
pub(crate) const SUSPICIOUS_RULE: &str = "Invoice archive";
pub(crate) const SUSPICIOUS_BCC: &str = "archive@contoso-payments.example";
const ORDINARY_RULE: &str = "External email disclaimer";
const DAY: i64 = 86_400;
const PURPOSE: u64 = 0x7247_0000;

#[derive(Debug, Clone)]
struct TransportRule {
    guid: String,
    name: String,
    enabled: bool,
    priority: u32,
    blind_copy_to: Vec<String>,
    disclaimer: Option<String>,
    when_changed: String,
}

#[derive(Debug, Clone)]
struct BlockItem {
    identity: String,
    value: String,
    notes: String,
    list_type: String,
}

#[derive(Debug, Clone)]
struct AddIn {
    app_id: String,
    name: &'static str,
    provider: &'static str,
    kind: &'static str,
    scope: &'static str,
    enabled: bool,
}

/// The planted add-in's display name.
pub(crate) const SUSPICIOUS_ADD_IN: &str = "Quick Mail Helper";

#[derive(Default)]
struct TenantWide {
    rules: Vec<TransportRule>,
    block_list: Vec<BlockItem>,
    /// Add-ins per mailbox user id, filled on first read so Disable-App changes them.
    add_ins: HashMap<String, Vec<AddIn>>,
}

/// Per tenant id, built on first use.
#[derive(Default)]
pub(crate) struct TenantWideState {
    tenants: Mutex<HashMap<String, TenantWide>>,
}

impl TenantWideState {
    fn with<T>(&self, seed: u64, tenant: &Tenant, f: impl FnOnce(&mut TenantWide) -> T) -> T {
        let mut all = self.tenants.lock();
        let entry = all
            .entry(tenant.id.clone())
            .or_insert_with(|| build(seed, tenant));
        f(entry)
    }
}

fn build(seed: u64, tenant: &Tenant) -> TenantWide {
    let mut rng = rng_for_id(seed, &tenant.id, PURPOSE);
    let anchor = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut rules = vec![TransportRule {
        guid: guid(&mut rng),
        name: ORDINARY_RULE.to_owned(),
        enabled: true,
        priority: 0,
        blind_copy_to: Vec::new(),
        disclaimer: Some("This message came from outside the organisation.".to_owned()),
        when_changed: timestamp(anchor - 400 * DAY),
    }];
    if let Some(inc) = tenant.incident.get() {
        rules.push(TransportRule {
            guid: guid(&mut rng),
            name: SUSPICIOUS_RULE.to_owned(),
            enabled: true,
            priority: 1,
            blind_copy_to: vec![SUSPICIOUS_BCC.to_owned()],
            disclaimer: None,
            when_changed: inc.stamp(-DAY + 11 * 3600),
        });
    }
    TenantWide {
        rules,
        block_list: Vec::new(),
        add_ins: HashMap::new(),
    }
}

fn seeded_add_ins(seed: u64, tenant: &Tenant, user_id: &str) -> Vec<AddIn> {
    let mut rng = rng_for_id(seed, user_id, PURPOSE + 1);
    let mut list = vec![AddIn {
        app_id: guid(&mut rng),
        name: "Action Items",
        provider: "Microsoft",
        kind: "Marketplace",
        scope: "Organization",
        enabled: true,
    }];
    if tenant.incident.get().is_some_and(|i| i.user_id == user_id) {
        list.push(AddIn {
            app_id: guid(&mut rng),
            name: SUSPICIOUS_ADD_IN,
            provider: "QM Software Ltd",
            kind: "MarketplacePrivateCatalog",
            scope: "User",
            enabled: true,
        });
    }
    list
}

fn add_in_object(a: &AddIn) -> Value {
    json!({
        "AppId": a.app_id,
        "Identity": a.app_id,
        "DisplayName": a.name,
        "ProviderName": a.provider,
        "Enabled": a.enabled,
        "Type": a.kind,
        "Scope": a.scope,
        "AppVersion": "1.0.0.0",
    })
}

/// The mailbox's user id, by any identity Exchange accepts.
fn mailbox_user_id(cx: &Cx<'_>, key: &str) -> Result<String, ExoError> {
    super::cmdlets::view(cx, key, |_, u, _| Ok(u.id().to_owned()))
}

/// `Get-App -Mailbox <identity> [-Identity <AppId>]`.
pub(super) fn get_apps(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Mailbox", "Identity"])?;
    let user_id = mailbox_user_id(cx, &cx.params.required("Mailbox")?)?;
    let wanted = cx.params.text("Identity").filter(|s| !s.is_empty());
    let items: Vec<Value> = cx.sim.tenant_wide.with(cx.sim.seed, cx.tenant, |t| {
        t.add_ins
            .entry(user_id.clone())
            .or_insert_with(|| seeded_add_ins(cx.sim.seed, cx.tenant, &user_id))
            .iter()
            .filter(|a| {
                wanted
                    .as_deref()
                    .is_none_or(|w| a.app_id.eq_ignore_ascii_case(w))
            })
            .map(add_in_object)
            .collect()
    });
    Ok(paginate(items, &cx.page))
}

/// `Disable-App -Identity <AppId> -Mailbox <identity>`.
pub(super) fn disable_app(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Mailbox", "Identity"])?;
    let identity = cx.params.required("Identity")?;
    let user_id = mailbox_user_id(cx, &cx.params.required("Mailbox")?)?;
    let found = cx.sim.tenant_wide.with(cx.sim.seed, cx.tenant, |t| {
        t.add_ins
            .entry(user_id.clone())
            .or_insert_with(|| seeded_add_ins(cx.sim.seed, cx.tenant, &user_id))
            .iter_mut()
            .find(|a| a.app_id.eq_ignore_ascii_case(&identity))
            .map(|a| a.enabled = false)
            .is_some()
    });
    if found {
        Ok(done(Vec::new()))
    } else {
        Err(ExoError::not_found(&identity, cx.server))
    }
}

fn rule_object(r: &TransportRule) -> Value {
    json!({
        "Identity": r.name,
        "Name": r.name,
        "Guid": r.guid,
        "State": if r.enabled { "Enabled" } else { "Disabled" },
        "Priority": r.priority,
        "Mode": "Enforce",
        "RedirectMessageTo": null,
        "BlindCopyTo": r.blind_copy_to,
        "CopyTo": null,
        "AddToRecipients": null,
        "DeleteMessage": false,
        "ApplyHtmlDisclaimerText": r.disclaimer,
        "WhenChanged": r.when_changed,
    })
}

fn matches(r: &TransportRule, key: &str) -> bool {
    r.name.eq_ignore_ascii_case(key) || r.guid.eq_ignore_ascii_case(key)
}

/// `Get-TransportRule [-Identity]`.
pub(super) fn get_transport_rules(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "ResultSize"])?;
    let wanted = cx.params.text("Identity").filter(|s| !s.is_empty());
    let items: Vec<Value> = cx.sim.tenant_wide.with(cx.sim.seed, cx.tenant, |t| {
        t.rules
            .iter()
            .filter(|r| wanted.as_deref().is_none_or(|w| matches(r, w)))
            .map(rule_object)
            .collect()
    });
    if let Some(w) = &wanted
        && items.is_empty()
    {
        return Err(ExoError::not_found(w, cx.server));
    }
    Ok(paginate(items, &cx.page))
}

/// `Disable-TransportRule -Identity` / `Enable-TransportRule -Identity`.
pub(super) fn set_transport_rule_state(cx: &Cx<'_>, enabled: bool) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity"])?;
    let identity = cx.params.required("Identity")?;
    let found = cx.sim.tenant_wide.with(cx.sim.seed, cx.tenant, |t| {
        t.rules
            .iter_mut()
            .find(|r| matches(r, &identity))
            .map(|r| r.enabled = enabled)
            .is_some()
    });
    if found {
        Ok(done(Vec::new()))
    } else {
        Err(ExoError::not_found(&identity, cx.server))
    }
}

fn item_object(i: &BlockItem) -> Value {
    json!({
        "Identity": i.identity,
        "Value": i.value,
        "Action": "Block",
        "ListType": i.list_type,
        "Notes": i.notes,
        "ExpirationDate": null,
    })
}

/// `New-TenantAllowBlockListItems -ListType Sender -Block -Entries <addresses> -Notes`.
pub(super) fn new_block_list_items(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    let p = &cx.params;
    p.only(&["ListType", "Block", "Entries", "Notes", "NoExpiration"])?;
    let list_type = p.required("ListType")?;
    if p.flag("Block")? != Some(true) {
        return Err(ExoError::task("Only -Block entries are simulated."));
    }
    let entries: Vec<String> = match p.get("Entries") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => return Err(ExoError::missing("Entries")),
    };
    let notes = p.text("Notes").unwrap_or_default();
    let mut rng = rand::rng();
    let items = cx.sim.tenant_wide.with(cx.sim.seed, cx.tenant, |t| {
        entries
            .iter()
            .map(|value| {
                let existing = t.block_list.iter_mut().find(|i| {
                    i.value.eq_ignore_ascii_case(value)
                        && i.list_type.eq_ignore_ascii_case(&list_type)
                });
                let item = match existing {
                    Some(i) => {
                        i.notes = notes.clone();
                        i.clone()
                    }
                    None => {
                        let bytes: [u8; 16] = rand::Rng::random(&mut rng);
                        let item = BlockItem {
                            identity: uuid::Builder::from_random_bytes(bytes)
                                .into_uuid()
                                .to_string(),
                            value: value.clone(),
                            notes: notes.clone(),
                            list_type: list_type.clone(),
                        };
                        t.block_list.push(item.clone());
                        item
                    }
                };
                item_object(&item)
            })
            .collect::<Vec<_>>()
    });
    Ok(Answer {
        items,
        ..Answer::default()
    })
}

/// `Get-TenantAllowBlockListItems -ListType <type>`.
pub(super) fn get_block_list_items(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["ListType", "Block", "Entry"])?;
    let list_type = cx.params.required("ListType")?;
    let entry = cx.params.text("Entry");
    let items: Vec<Value> = cx.sim.tenant_wide.with(cx.sim.seed, cx.tenant, |t| {
        t.block_list
            .iter()
            .filter(|i| i.list_type.eq_ignore_ascii_case(&list_type))
            .filter(|i| {
                entry
                    .as_deref()
                    .is_none_or(|e| i.value.eq_ignore_ascii_case(e))
            })
            .map(item_object)
            .collect()
    });
    Ok(paginate(items, &cx.page))
}
