//! In-memory state: tenants with their users, GDAP relationships, refresh tokens and stats.
//!
//! The tenant registry is behind one lock that is only written when tenants are added; each
//! tenant's users have their own lock so large tenants do not serialise the whole simulator.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::Value;

use crate::TenantInfo;
use crate::faults::FaultSet;
use crate::keys::SigningKey;
use crate::user::{User, idx};

#[derive(Debug, Clone)]
pub(crate) struct Domain {
    pub name: String,
    pub is_default: bool,
    pub is_initial: bool,
    pub is_verified: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Relationship {
    pub id: String,
    pub display_name: String,
    pub status: &'static str,
    pub created: String,
    pub activated: String,
    pub end: String,
    pub auto_extend: &'static str,
}

/// Users keyed by a creation sequence number, so paging resumes with a range scan.
#[derive(Debug, Default)]
pub(crate) struct UserStore {
    pub live: BTreeMap<u64, User>,
    by_id: HashMap<String, u64>,
    by_upn: HashMap<String, u64>,
    pub deleted: BTreeMap<u64, User>,
    deleted_by_id: HashMap<String, u64>,
    next_seq: u64,
}

impl UserStore {
    pub fn insert(&mut self, user: User) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_id.insert(user.id().to_owned(), seq);
        self.by_upn.insert(user.upn().to_ascii_lowercase(), seq);
        self.live.insert(seq, user);
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Finds a live user by object id or (case-insensitively) by UPN.
    pub fn find_seq(&self, key: &str) -> Option<u64> {
        self.by_id
            .get(&key.to_ascii_lowercase())
            .or_else(|| self.by_upn.get(&key.to_ascii_lowercase()))
            .copied()
    }

    pub fn get(&self, key: &str) -> Option<&User> {
        self.find_seq(key).and_then(|seq| self.live.get(&seq))
    }

    pub fn by_id(&self, id: &str) -> Option<&User> {
        self.by_id.get(id).and_then(|seq| self.live.get(seq))
    }

    pub fn get_mut(&mut self, seq: u64) -> Option<&mut User> {
        self.live.get_mut(&seq)
    }

    pub fn upn_taken(&self, upn: &str, except_seq: u64) -> bool {
        self.by_upn
            .get(&upn.to_ascii_lowercase())
            .is_some_and(|seq| *seq != except_seq)
    }

    pub fn reindex_upn(&mut self, seq: u64, old: &str, new: &str) {
        self.by_upn.remove(&old.to_ascii_lowercase());
        self.by_upn.insert(new.to_ascii_lowercase(), seq);
    }

    /// Users after `after` (exclusive) in creation order.
    pub fn iter_after(&self, after: Option<u64>) -> impl Iterator<Item = (&u64, &User)> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.live.range((start, Bound::Unbounded))
    }

    /// Soft-deletes a user the way Entra does: the UPN and mail get the object id as a prefix.
    pub fn soft_delete(&mut self, seq: u64, now: &str) -> bool {
        let Some(mut user) = self.live.remove(&seq) else {
            return false;
        };
        let id = user.id().to_owned();
        self.by_id.remove(&id);
        self.by_upn.remove(&user.upn().to_ascii_lowercase());
        let prefix = id.replace('-', "");
        let upn = format!("{prefix}{}", user.upn());
        user.set(idx::UPN, Value::String(upn));
        if let Some(mail) = user.get(idx::MAIL).as_str().map(str::to_owned) {
            user.set(idx::MAIL, Value::String(format!("{prefix}{mail}")));
        }
        user.set(idx::DELETED, Value::String(now.to_owned()));
        // Direct reports lose their manager when the manager is deleted.
        for other in self.live.values_mut() {
            if other.manager.as_deref() == Some(id.as_str()) {
                other.manager = None;
            }
        }
        self.deleted_by_id.insert(id, seq);
        self.deleted.insert(seq, user);
        true
    }

    pub fn deleted_by_id(&self, id: &str) -> Option<(u64, &User)> {
        let seq = *self.deleted_by_id.get(&id.to_ascii_lowercase())?;
        self.deleted.get(&seq).map(|u| (seq, u))
    }

    /// Restores a soft-deleted user, undoing the UPN and mail prefix.
    pub fn restore(&mut self, seq: u64) -> Result<&User, RestoreError> {
        let Some(user) = self.deleted.get(&seq) else {
            return Err(RestoreError::NotFound);
        };
        let prefix = user.id().replace('-', "");
        let original_upn = user
            .upn()
            .strip_prefix(&prefix)
            .unwrap_or(user.upn())
            .to_owned();
        if self.by_upn.contains_key(&original_upn.to_ascii_lowercase()) {
            return Err(RestoreError::UpnConflict);
        }
        let Some(mut user) = self.deleted.remove(&seq) else {
            return Err(RestoreError::NotFound);
        };
        self.deleted_by_id.remove(user.id());
        if let Some(mail) = user.get(idx::MAIL).as_str().map(str::to_owned) {
            let restored = mail.strip_prefix(&prefix).unwrap_or(&mail).to_owned();
            user.set(idx::MAIL, Value::String(restored));
        }
        user.set(idx::UPN, Value::String(original_upn));
        user.set(idx::DELETED, Value::Null);
        self.by_id.insert(user.id().to_owned(), seq);
        self.by_upn.insert(user.upn().to_ascii_lowercase(), seq);
        self.live.insert(seq, user);
        self.live.get(&seq).ok_or(RestoreError::NotFound)
    }

    pub fn purge(&mut self, seq: u64) -> bool {
        match self.deleted.remove(&seq) {
            Some(user) => {
                self.deleted_by_id.remove(user.id());
                true
            }
            None => false,
        }
    }
}

#[derive(Debug)]
pub(crate) enum RestoreError {
    NotFound,
    UpnConflict,
}

pub(crate) struct Tenant {
    pub id: String,
    pub display_name: String,
    pub domains: Vec<Domain>,
    pub created: String,
    pub country_code: &'static str,
    pub city: &'static str,
    /// GDAP relationship with the partner; None for the partner tenant itself.
    pub relationship: Option<Relationship>,
    pub users: RwLock<UserStore>,
    /// Mailboxes someone changed, by user id; untouched ones are derived on demand.
    pub mailboxes: RwLock<HashMap<String, crate::exchange::mailbox::Mailbox>>,
    /// The planted BEC incident (customer tenants), set once when the tenant is enriched.
    pub incident: std::sync::OnceLock<crate::incident::Incident>,
    /// Each user's sponsors (user ids), by user id.
    pub sponsors: RwLock<HashMap<String, Vec<String>>>,
}

impl Tenant {
    pub fn default_domain(&self) -> &str {
        self.domains
            .iter()
            .find(|d| d.is_default)
            .map_or("", |d| d.name.as_str())
    }

    pub fn initial_domain(&self) -> &str {
        self.domains
            .iter()
            .find(|d| d.is_initial)
            .map_or("", |d| d.name.as_str())
    }

    pub fn has_active_gdap(&self) -> bool {
        self.relationship
            .as_ref()
            .is_some_and(|r| r.status == "active")
    }

    pub fn info(&self) -> TenantInfo {
        TenantInfo {
            customer_id: self.id.clone(),
            default_domain_name: self.default_domain().to_owned(),
            initial_domain_name: self.initial_domain().to_owned(),
            display_name: self.display_name.clone(),
            user_count: self.users.read().len(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    pub partner: Option<Arc<Tenant>>,
    /// Customer tenants in creation order, including ones whose relationship ended.
    pub customers: Vec<Arc<Tenant>>,
    by_key: HashMap<String, Arc<Tenant>>,
    /// Index of the next seeded customer, so added tenants continue the same sequence.
    pub next_customer_index: u64,
}

impl Registry {
    pub fn add(&mut self, tenant: Arc<Tenant>, is_partner: bool) {
        self.by_key
            .insert(tenant.id.to_ascii_lowercase(), Arc::clone(&tenant));
        for d in &tenant.domains {
            self.by_key
                .insert(d.name.to_ascii_lowercase(), Arc::clone(&tenant));
        }
        if is_partner {
            self.partner = Some(tenant);
        } else {
            self.customers.push(tenant);
        }
    }

    /// Resolves a tenant id or any of its domains, case-insensitively.
    pub fn resolve(&self, key: &str) -> Option<Arc<Tenant>> {
        self.by_key.get(&key.to_ascii_lowercase()).cloned()
    }

    pub fn partner_id(&self) -> &str {
        self.partner.as_ref().map_or("", |p| p.id.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct StatKey {
    pub method: String,
    pub path: String,
    pub tenant: Option<String>,
    pub status: u16,
}

#[derive(Serialize)]
pub(crate) struct StatRow {
    pub method: String,
    pub path: String,
    pub tenant: Option<String>,
    pub status: u16,
    pub count: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub user_id: String,
}

pub(crate) struct Apps {
    pub partner: crate::SimApp,
    pub clients: Vec<crate::SimApp>,
    pub api_app_id: String,
    pub api_v2: bool,
}

pub(crate) struct Sim {
    pub base_url: String,
    pub seed: u64,
    pub apps: Apps,
    pub keys: RwLock<Vec<Arc<SigningKey>>>,
    pub registry: RwLock<Registry>,
    pub faults: Mutex<FaultSet>,
    /// Shuffles `$batch` answers; seeded so a run can be repeated.
    pub batch_rng: Mutex<rand_chacha::ChaCha8Rng>,
    /// How Exchange cmdlet errors are shaped (`/_sim/exchange`).
    pub exo_error_format: Mutex<crate::exchange::ErrorFormat>,
    pub stats: Mutex<HashMap<StatKey, u64>>,
    /// Every state-changing request, for dry-run tests (`/_sim/writes`).
    pub(crate) writes: crate::writes::WriteLog,
    pub refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    /// The partner admin on whose behalf delegated (refresh-token) grants act.
    pub partner_admin_id: String,
    pub partner_admin_upn: String,
    /// Groups, roles, devices, policies, methods and photos, built per tenant on first use.
    pub reads: crate::seed_reads::ReadStore,
    /// Preferred methods, risk records and cloud-managed flags (`graph::credentials`).
    pub credentials: crate::graph::credentials::CredentialState,
    /// Purchased licence units per tenant and SKU (`graph::assignments`).
    pub licences: crate::graph::assignments::LicenceState,
    /// OneDrive sites per tenant (`graph::sharepoint`).
    pub sharepoint: crate::graph::sharepoint::SharePointState,
    /// Teams Phone numbers per tenant (`graph::teams`).
    pub teams: crate::graph::teams::TeamsState,
    /// Service principals and OAuth grants per tenant (`graph::apps`).
    pub enterprise_apps: crate::graph::apps::AppState,
    /// The MFA connector's secrets, scripted answers and recorded prompts (`mfa_push`).
    pub mfa: crate::mfa_push::MfaState,
    /// `Search-UnifiedAuditLog` sessions read past their first page: key → next offset.
    pub audit_sessions: Mutex<HashMap<String, usize>>,
    /// Transport rules and the Tenant Allow/Block List per tenant (`exchange::tenant_wide`).
    pub tenant_wide: crate::exchange::tenant_wide::TenantWideState,
    /// Quotas, regional and calendar settings, retention policies (`exchange::mailbox_settings`).
    pub mailbox_settings: crate::exchange::mailbox_settings::SettingsState,
    /// Authorization codes issued by the sign-in page, until redeemed (`authorize`).
    pub auth_codes: crate::authorize::CodeState,
}

impl Sim {
    pub fn signing_key(&self) -> Option<Arc<SigningKey>> {
        self.keys.read().first().cloned()
    }

    pub fn key_by_kid(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.keys.read().iter().find(|k| k.kid == kid).cloned()
    }

    pub fn resolve_tenant(&self, key: &str) -> Option<Arc<Tenant>> {
        self.registry.read().resolve(key)
    }

    pub fn record(&self, key: StatKey) {
        *self.stats.lock().entry(key).or_insert(0) += 1;
    }
}
