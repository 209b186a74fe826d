//! Directory data beyond users: groups, directory roles, devices, Conditional Access policies,
//! authentication methods, photos, sign-ins and deleted objects.
//!
//! Built per tenant on first use (not at start-up, which tests pay for many times), from the
//! simulator seed and each user's id, so the same seed gives the same data. Per-user data is
//! drawn from a stream keyed by the user id, never by position, so adding users later does not
//! change what existing users have.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use crate::seed::{guid, rng_for, timestamp};
use crate::state::Tenant;
use crate::user::{User, idx, prop_index};

/// Global Administrator's role template id (CIPP counts its members).
pub(crate) const GLOBAL_ADMIN_TEMPLATE: &str = "62e90394-69f5-4237-9190-012177145e10";
const USER_ADMIN_TEMPLATE: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const HELPDESK_ADMIN_TEMPLATE: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
const EXCHANGE_ADMIN_TEMPLATE: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";
const SECURITY_READER_TEMPLATE: &str = "5d6b6bb7-de71-4623-b4af-96380a352509";

/// The fixed id Graph gives every user's password method.
pub(crate) const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

const READS_STREAM: u64 = 0x5EAD_5000_0000_0000;

/// A group and its direct members (user ids, in the order they were added).
pub(crate) struct Group {
    pub value: Map<String, Value>,
    pub members: Vec<String>,
    /// Owners' user ids (for Exchange-owned groups: `ManagedBy`).
    pub owners: Vec<String>,
    /// Exchange's `RequireSenderAuthenticationEnabled` (mail-enabled groups; default true).
    pub sender_auth_required: bool,
}

impl Group {
    pub fn id(&self) -> &str {
        self.value.get("id").and_then(Value::as_str).unwrap_or("")
    }
}

/// An activated directory role and its members.
pub(crate) struct Role {
    pub id: String,
    pub template_id: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    pub members: Vec<String>,
}

/// A directory device, its owner and, when Intune manages it, the managed-device record.
pub(crate) struct Device {
    pub value: Map<String, Value>,
    pub owner: String,
    pub managed: Option<Map<String, Value>>,
}

impl Device {
    pub fn id(&self) -> &str {
        self.value.get("id").and_then(Value::as_str).unwrap_or("")
    }
}

/// A stored photo: content type and bytes.
#[derive(Clone)]
pub(crate) struct Photo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub(crate) struct TenantReads {
    /// Sign-in times count back from the start of the UTC day the data was built.
    pub anchor: i64,
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    pub devices: Vec<Device>,
    pub policies: Vec<Value>,
    pub deleted_groups: Vec<Value>,
    /// Authentication methods per user id, filled on first read so writes can change them.
    pub methods: HashMap<String, Vec<Value>>,
    /// Photos per user id, filled on first read (`None`: the user has no photo).
    pub photos: HashMap<String, Option<Photo>>,
    /// The planted incident's Authenticator registration: (user id, method).
    planted_method: Option<(String, Value)>,
    seed: u64,
}

/// Every tenant's read data, by tenant id.
#[derive(Default)]
pub(crate) struct ReadStore {
    tenants: Mutex<HashMap<String, Arc<RwLock<TenantReads>>>>,
}

impl ReadStore {
    pub fn tenant(&self, seed: u64, tenant: &Tenant) -> Arc<RwLock<TenantReads>> {
        if let Some(found) = self.tenants.lock().get(&tenant.id) {
            return Arc::clone(found);
        }
        // Built outside the map lock: a big tenant takes a moment.
        let built = Arc::new(RwLock::new(TenantReads::build(seed, tenant)));
        Arc::clone(
            self.tenants
                .lock()
                .entry(tenant.id.clone())
                .or_insert(built),
        )
    }
}

/// FNV-1a: a stable 64-bit key for an id (std's hasher is randomised per process).
pub(crate) fn key_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The random stream for one object (user or tenant) and purpose.
pub(crate) fn rng_for_id(seed: u64, id: &str, purpose: u64) -> ChaCha8Rng {
    rng_for(seed ^ READS_STREAM ^ purpose, key_of(id))
}

fn text(user: &User, name: &str) -> String {
    prop_index(name)
        .and_then(|i| user.get(i).as_str())
        .unwrap_or_default()
        .to_owned()
}

fn is_guest(user: &User) -> bool {
    user.get(idx::USER_TYPE).as_str() == Some("Guest")
}

fn start_of_today() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    now - now.rem_euclid(86_400)
}

/// Seeds what lives on the users themselves: `perUserMfaState` for every user, and two former
/// employees in the recycle bin. Called once per tenant when the tenant is created.
pub(crate) fn enrich_tenant(seed: u64, tenant: &Tenant) {
    let mut store = tenant.users.write();
    let Some(state_index) = prop_index("perUserMfaState") else {
        return;
    };
    let seqs: Vec<u64> = store.iter_after(None).map(|(seq, _)| *seq).collect();
    for seq in seqs {
        if let Some(user) = store.get_mut(seq) {
            let mut rng = rng_for_id(seed, user.id(), 1);
            let roll: f64 = rng.random();
            let state = if roll < 0.7 {
                "disabled"
            } else if roll < 0.9 {
                "enabled"
            } else {
                "enforced"
            };
            user.set(state_index, Value::String(state.to_owned()));
        }
    }
    crate::graph::extensions::seed_jit_admins(seed, &tenant.id, &mut store);
    let domain = tenant.default_domain().to_owned();
    let mut rng = rng_for_id(seed, &tenant.id, 2);
    for (n, (given, surname)) in [("Former", "Employee"), ("Temp", "Contractor")]
        .into_iter()
        .enumerate()
    {
        let id = guid(&mut rng);
        let local = format!(
            "{}.{}",
            given.to_ascii_lowercase(),
            surname.to_ascii_lowercase()
        );
        let upn = format!("{local}@{domain}");
        let created = timestamp(start_of_today() - 400 * 86_400);
        let mut user = User::new();
        user.set(crate::user::ID, Value::String(id));
        for (name, value) in [
            ("accountEnabled", json!(false)),
            ("displayName", json!(format!("{given} {surname}"))),
            ("givenName", json!(given)),
            ("surname", json!(surname)),
            ("userPrincipalName", json!(upn)),
            ("mail", json!(upn)),
            ("mailNickname", json!(local)),
            ("userType", json!("Member")),
            ("createdDateTime", json!(created)),
            ("proxyAddresses", json!([format!("SMTP:{upn}")])),
            ("businessPhones", json!([])),
            ("assignedLicenses", json!([])),
            ("perUserMfaState", json!("disabled")),
        ] {
            user.set_named(name, value);
        }
        store.insert(user);
        if let Some(seq) = store.find_seq(&upn) {
            let deleted = timestamp(start_of_today() - (3 + 9 * n as i64) * 86_400);
            store.soft_delete(seq, &deleted);
        }
    }
    if let Some(incident) = crate::incident::plant(seed, tenant, &mut store) {
        let _ = tenant.incident.set(incident);
    }
}

struct GroupSpec {
    name: &'static str,
    description: &'static str,
    unified: bool,
    mail: bool,
    security: bool,
    synced: bool,
    role_assignable: bool,
}

const GROUPS: &[GroupSpec] = &[
    GroupSpec {
        name: "All Company",
        description: "Everyone in the organisation",
        unified: true,
        mail: true,
        security: false,
        synced: false,
        role_assignable: false,
    },
    GroupSpec {
        name: "Sales and Marketing",
        description: "Sales and marketing team site and mailbox",
        unified: true,
        mail: true,
        security: false,
        synced: false,
        role_assignable: false,
    },
    GroupSpec {
        name: "Engineering",
        description: "Engineering and product staff",
        unified: false,
        mail: false,
        security: true,
        synced: false,
        role_assignable: false,
    },
    GroupSpec {
        name: "IT Admins",
        description: "Administrators eligible for directory roles",
        unified: false,
        mail: false,
        security: true,
        synced: false,
        role_assignable: true,
    },
    GroupSpec {
        name: "Finance Distribution",
        description: "Finance and legal announcements",
        unified: false,
        mail: true,
        security: false,
        synced: false,
        role_assignable: false,
    },
    GroupSpec {
        name: "Executives Secure",
        description: "Mail-enabled security group for leadership",
        unified: false,
        mail: true,
        security: true,
        synced: false,
        role_assignable: false,
    },
    GroupSpec {
        name: "VPN Users",
        description: "Users allowed to connect to the VPN",
        unified: false,
        mail: false,
        security: true,
        synced: true,
        role_assignable: false,
    },
    GroupSpec {
        name: "MFA Exclusions",
        description: "Break-glass accounts excluded from the MFA policy",
        unified: false,
        mail: false,
        security: true,
        synced: false,
        role_assignable: false,
    },
    GroupSpec {
        name: "External Partners",
        description: "Guests working on shared projects",
        unified: false,
        mail: false,
        security: true,
        synced: false,
        role_assignable: false,
    },
];

/// Which seeded groups a user is in (indices into [`GROUPS`]).
fn group_indices(user: &User, n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    if is_guest(user) {
        return vec![8];
    }
    let dept = text(user, "department");
    let mut out = vec![0];
    if matches!(dept.as_str(), "Sales" | "Marketing") {
        out.push(1);
    }
    if matches!(dept.as_str(), "Engineering" | "Product") {
        out.push(2);
    }
    if dept == "IT" {
        out.push(3);
    }
    if matches!(dept.as_str(), "Finance" | "Legal") {
        out.push(4);
    }
    if n == 0 || rng.random_bool(0.05) {
        out.push(5);
    }
    if user.is_synced() || rng.random_bool(0.25) {
        out.push(6);
    }
    if n == 0 {
        out.push(7);
    }
    out
}

impl TenantReads {
    fn build(seed: u64, tenant: &Tenant) -> Self {
        let anchor = start_of_today();
        let mut trng = rng_for_id(seed, &tenant.id, 3);
        let slug = tenant
            .default_domain()
            .split('.')
            .next()
            .unwrap_or("tenant")
            .to_owned();
        let mut groups: Vec<Group> = GROUPS
            .iter()
            .map(|spec| {
                let nickname: String = spec
                    .name
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                let mail = spec.mail.then(|| {
                    format!(
                        "{}@{}",
                        nickname.to_ascii_lowercase(),
                        tenant.default_domain()
                    )
                });
                let mut value = Map::new();
                value.insert("id".into(), json!(guid(&mut trng)));
                value.insert("displayName".into(), json!(spec.name));
                value.insert("description".into(), json!(spec.description));
                value.insert(
                    "groupTypes".into(),
                    json!(if spec.unified {
                        vec!["Unified"]
                    } else {
                        vec![]
                    }),
                );
                value.insert("mailEnabled".into(), json!(spec.mail));
                value.insert("securityEnabled".into(), json!(spec.security));
                value.insert("mail".into(), json!(mail));
                value.insert("mailNickname".into(), json!(nickname));
                value.insert(
                    "onPremisesSyncEnabled".into(),
                    if spec.synced {
                        json!(true)
                    } else {
                        Value::Null
                    },
                );
                value.insert("isAssignableToRole".into(), json!(spec.role_assignable));
                value.insert(
                    "visibility".into(),
                    if spec.unified {
                        json!("Private")
                    } else {
                        Value::Null
                    },
                );
                value.insert(
                    "createdDateTime".into(),
                    json!(timestamp(anchor - trng.random_range(30..900) * 86_400)),
                );
                Group {
                    value,
                    members: Vec::new(),
                    owners: Vec::new(),
                    sender_auth_required: true,
                }
            })
            .collect();
        let role_specs: [(&'static str, &'static str, &'static str); 5] = [
            (
                GLOBAL_ADMIN_TEMPLATE,
                "Global Administrator",
                "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
            ),
            (
                USER_ADMIN_TEMPLATE,
                "User Administrator",
                "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
            ),
            (
                HELPDESK_ADMIN_TEMPLATE,
                "Helpdesk Administrator",
                "Can reset passwords for non-administrators and Helpdesk Administrators.",
            ),
            (
                EXCHANGE_ADMIN_TEMPLATE,
                "Exchange Administrator",
                "Can manage all aspects of the Exchange product.",
            ),
            (
                SECURITY_READER_TEMPLATE,
                "Security Reader",
                "Can read security information and reports in Microsoft Entra ID and Office 365.",
            ),
        ];
        let mut roles: Vec<Role> = role_specs
            .into_iter()
            .map(|(template_id, display_name, description)| Role {
                id: guid(&mut trng),
                template_id,
                display_name,
                description,
                members: Vec::new(),
            })
            .collect();

        let mut devices = Vec::new();
        let store = tenant.users.read();
        for (n, (_, user)) in store.iter_after(None).enumerate() {
            let id = user.id().to_owned();
            let mut rng = rng_for_id(seed, &id, 4);
            for g in group_indices(user, n, &mut rng) {
                if let Some(group) = groups.get_mut(g) {
                    group.members.push(id.clone());
                }
            }
            if !is_guest(user) {
                let job = text(user, "jobTitle");
                let dept = text(user, "department");
                let role = if n == 0 || (n < 40 && rng.random_bool(0.04)) {
                    Some(0)
                } else if dept == "IT" && job == "IT Administrator" {
                    Some(1)
                } else if job == "Helpdesk Technician" {
                    Some(2)
                } else if dept == "IT" && rng.random_bool(0.3) {
                    Some(3)
                } else if rng.random_bool(0.01) {
                    Some(4)
                } else {
                    None
                };
                if let Some(r) = role
                    && let Some(role) = roles.get_mut(r)
                {
                    role.members.push(id.clone());
                }
                devices.extend(user_devices(user, anchor, &mut rng));
            }
        }
        crate::seed_groups::extend(seed, tenant, &store, &mut groups);
        drop(store);
        if let Some(inc) = tenant.incident.get() {
            devices.extend(incident_devices(seed, inc));
        }

        let by_name = |name: &str| {
            groups
                .iter()
                .find(|g| g.value.get("displayName") == Some(&json!(name)))
                .map(|g| g.id().to_owned())
                .unwrap_or_default()
        };
        let exclusions = by_name("MFA Exclusions");
        let policy = |rng: &mut ChaCha8Rng,
                      name: &str,
                      state: &str,
                      users: Value,
                      apps: Value,
                      clients: Value,
                      grant: Value| {
            json!({
                "id": guid(rng),
                "templateId": null,
                "displayName": name,
                "createdDateTime": timestamp(anchor - rng.random_range(60..700) * 86_400),
                "modifiedDateTime": timestamp(anchor - rng.random_range(1..60) * 86_400),
                "state": state,
                "sessionControls": null,
                "conditions": {
                    "userRiskLevels": [],
                    "signInRiskLevels": [],
                    "clientAppTypes": clients,
                    "servicePrincipalRiskLevels": [],
                    "platforms": null,
                    "locations": null,
                    "devices": null,
                    "clientApplications": null,
                    "applications": apps,
                    "users": users,
                },
                "grantControls": grant,
            })
        };
        let users_cond = |include_users: Value,
                          exclude_users: Value,
                          include_groups: Value,
                          exclude_groups: Value,
                          include_roles: Value| {
            json!({
                "includeUsers": include_users,
                "excludeUsers": exclude_users,
                "includeGroups": include_groups,
                "excludeGroups": exclude_groups,
                "includeRoles": include_roles,
                "excludeRoles": [],
                "includeGuestsOrExternalUsers": null,
                "excludeGuestsOrExternalUsers": null,
            })
        };
        let all_apps = json!({"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": []});
        let mfa = json!({"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": null});
        let mut guests_policy = policy(
            &mut trng,
            "Require MFA for guests",
            "enabled",
            users_cond(json!([]), json!([]), json!([]), json!([]), json!([])),
            json!({"includeApplications": ["00000003-0000-0ff1-ce00-000000000000"], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": []}),
            json!(["all"]),
            mfa.clone(),
        );
        guests_policy["conditions"]["users"]["includeGuestsOrExternalUsers"] = json!({
            "guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest",
            "externalTenants": {"membershipKind": "all"}
        });
        let policies = vec![
            policy(
                &mut trng,
                "Require MFA for administrators",
                "enabled",
                users_cond(
                    json!([]),
                    json!([]),
                    json!([]),
                    json!([]),
                    json!([
                        GLOBAL_ADMIN_TEMPLATE,
                        USER_ADMIN_TEMPLATE,
                        EXCHANGE_ADMIN_TEMPLATE,
                        HELPDESK_ADMIN_TEMPLATE
                    ]),
                ),
                all_apps.clone(),
                json!(["all"]),
                mfa.clone(),
            ),
            policy(
                &mut trng,
                "Require MFA for all users",
                "enabled",
                users_cond(
                    json!(["All"]),
                    json!([]),
                    json!([]),
                    json!([exclusions]),
                    json!([]),
                ),
                all_apps.clone(),
                json!(["all"]),
                mfa.clone(),
            ),
            policy(
                &mut trng,
                "Block legacy authentication",
                "enabled",
                users_cond(
                    json!(["All"]),
                    json!([]),
                    json!([]),
                    json!([exclusions]),
                    json!([]),
                ),
                all_apps.clone(),
                json!(["exchangeActiveSync", "other"]),
                json!({"operator": "OR", "builtInControls": ["block"], "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": null}),
            ),
            policy(
                &mut trng,
                "Require compliant device (report-only)",
                "enabledForReportingButNotEnforced",
                users_cond(json!(["All"]), json!([]), json!([]), json!([]), json!([])),
                all_apps,
                json!(["all"]),
                json!({"operator": "OR", "builtInControls": ["compliantDevice"], "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": null}),
            ),
            guests_policy,
        ];

        let deleted_groups = vec![json!({
            "@odata.type": "#microsoft.graph.group",
            "id": guid(&mut trng),
            "displayName": format!("{slug} Project Apollo"),
            "description": "Retired project team",
            "groupTypes": ["Unified"],
            "mailEnabled": true,
            "securityEnabled": false,
            "mail": format!("projectapollo@{}", tenant.default_domain()),
            "deletedDateTime": timestamp(anchor - 6 * 86_400),
            "createdDateTime": timestamp(anchor - 500 * 86_400),
        })];

        Self {
            anchor,
            groups,
            roles,
            devices,
            policies,
            deleted_groups,
            methods: HashMap::new(),
            photos: HashMap::new(),
            planted_method: tenant
                .incident
                .get()
                .map(|i| (i.user_id.clone(), crate::incident::mfa_method(i))),
            seed,
        }
    }

    /// A user's authentication methods (seeded on first read).
    pub fn methods_of(&mut self, user: &User) -> &mut Vec<Value> {
        let seed = self.seed;
        let planted = self
            .planted_method
            .as_ref()
            .filter(|(id, _)| id == user.id())
            .map(|(_, m)| m.clone());
        self.methods.entry(user.id().to_owned()).or_insert_with(|| {
            let mut methods = seed_methods(seed, user);
            methods.extend(planted);
            methods
        })
    }

    /// A user's photo (seeded on first read: about two users in three have one).
    pub fn photo_of(&mut self, user: &User) -> Option<Photo> {
        let seed = self.seed;
        self.photos
            .entry(user.id().to_owned())
            .or_insert_with(|| {
                let mut rng = rng_for_id(seed, user.id(), 5);
                (!is_guest(user) && rng.random_bool(0.66)).then(|| Photo {
                    content_type: "image/png",
                    bytes: solid_png(48, [rng.random(), rng.random(), rng.random()]),
                })
            })
            .clone()
    }

    /// Ids of the groups and roles a user is a direct member of.
    pub fn member_of(&self, user_id: &str) -> (Vec<&Group>, Vec<&Role>) {
        let groups = self
            .groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == user_id))
            .collect();
        let roles = self
            .roles
            .iter()
            .filter(|r| r.members.iter().any(|m| m == user_id))
            .collect();
        (groups, roles)
    }
}

/// Two devices the attacker registered as the compromised user during the incident (so one can
/// be disabled and the other deleted); the seeded devices are all older than 20 days.
fn incident_devices(seed: u64, inc: &crate::incident::Incident) -> Vec<Device> {
    let mut rng = rng_for_id(seed, &inc.user_id, 0xDE71);
    let planted = [
        (
            "DESKTOP-7QX2LMA",
            "Windows",
            "10.0.19045.5247",
            crate::incident::at::SIGN_INS[0] + 900,
        ),
        (
            "iPad",
            "iPadOS",
            "17.6.1",
            crate::incident::at::SIGN_INS[2] + 600,
        ),
    ];
    planted
        .iter()
        .map(|(name, os, version, at)| {
            let mut value = Map::new();
            for (key, v) in [
                ("id", json!(guid(&mut rng))),
                ("deviceId", json!(guid(&mut rng))),
                ("displayName", json!(name)),
                ("accountEnabled", json!(true)),
                ("approximateLastSignInDateTime", json!(inc.stamp(*at))),
                ("createdDateTime", json!(inc.stamp(*at))),
                ("registrationDateTime", json!(inc.stamp(*at))),
                ("deviceOwnership", json!("Personal")),
                ("enrollmentType", Value::Null),
                ("isCompliant", Value::Null),
                ("isManaged", json!(false)),
                ("managementType", Value::Null),
                ("manufacturer", Value::Null),
                ("model", Value::Null),
                ("operatingSystem", json!(os)),
                ("operatingSystemVersion", json!(version)),
                ("onPremisesSyncEnabled", Value::Null),
                ("trustType", json!("Workplace")),
                ("profileType", json!("RegisteredDevice")),
            ] {
                value.insert(key.into(), v);
            }
            Device {
                value,
                owner: inc.user_id.clone(),
                managed: None,
            }
        })
        .collect()
}

fn user_devices(user: &User, anchor: i64, rng: &mut ChaCha8Rng) -> Vec<Device> {
    let roll: f64 = rng.random();
    let count = if roll < 0.2 {
        0
    } else if roll < 0.65 {
        1
    } else if roll < 0.9 {
        2
    } else {
        3
    };
    let given = text(user, "givenName");
    let upn = user.upn().to_owned();
    let mut out = Vec::new();
    for k in 0..count {
        let kind = if k == 0 { 0 } else { rng.random_range(1..5) };
        let serial: String = (0..10)
            .map(|_| char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"[rng.random_range(0..34)]))
            .collect();
        let (name, os, version, trust, managed, ownership, enrollment, maker, model) = match kind {
            0 => {
                let (maker, model) = *pick(
                    rng,
                    &[
                        ("Dell Inc.", "Latitude 7440"),
                        ("LENOVO", "ThinkPad T14 Gen 4"),
                        ("HP", "EliteBook 840 G10"),
                        ("Microsoft Corporation", "Surface Laptop 5"),
                    ],
                );
                let trust = if user.is_synced() {
                    "ServerAd"
                } else {
                    "AzureAd"
                };
                (
                    format!("DESKTOP-{}", &serial[..7]),
                    "Windows",
                    *pick(
                        rng,
                        &["10.0.22631.4602", "10.0.26100.2605", "10.0.19045.5247"],
                    ),
                    trust,
                    true,
                    "Company",
                    if user.is_synced() {
                        "OnPremiseCoManaged"
                    } else {
                        "AzureDomainJoined"
                    },
                    maker,
                    model,
                )
            }
            1 => (
                format!("{given}'s iPhone"),
                "iOS",
                *pick(rng, &["17.6.1", "18.1.1", "18.2"]),
                "Workplace",
                true,
                "Personal",
                "UserEnrollment",
                "Apple",
                *pick(rng, &["iPhone 14", "iPhone 15", "iPhone 16 Pro"]),
            ),
            2 => (
                format!("{given}'s Galaxy"),
                "Android",
                *pick(rng, &["13", "14", "15"]),
                "Workplace",
                true,
                "Personal",
                "AndroidEnterpriseWorkProfile",
                "samsung",
                *pick(rng, &["SM-S911B", "SM-A546B"]),
            ),
            3 => (
                format!("{given}'s MacBook Pro"),
                "MacMDM",
                "14.7.1",
                "Workplace",
                true,
                "Company",
                "AppleBulkEnrollmentModernAuth",
                "Apple",
                "MacBookPro18,3",
            ),
            _ => (
                format!("{}-HOME-PC", given.to_ascii_uppercase()),
                "Windows",
                "10.0.22631.4602",
                "Workplace",
                false,
                "Personal",
                "",
                "ASUSTeK COMPUTER INC.",
                "VivoBook 15",
            ),
        };
        let object_id = guid(rng);
        let device_id = guid(rng);
        let created = anchor - rng.random_range(20..800) * 86_400;
        let last_sign_in = anchor - rng.random_range(0..30) * 86_400 - rng.random_range(0..86_400);
        let compliant = managed && rng.random_bool(0.8);
        let mut value = Map::new();
        for (key, v) in [
            ("id", json!(object_id)),
            ("deviceId", json!(device_id)),
            ("displayName", json!(name)),
            ("accountEnabled", json!(true)),
            (
                "approximateLastSignInDateTime",
                json!(timestamp(last_sign_in)),
            ),
            ("createdDateTime", json!(timestamp(created))),
            ("registrationDateTime", json!(timestamp(created))),
            ("deviceOwnership", json!(ownership)),
            (
                "enrollmentType",
                if enrollment.is_empty() {
                    Value::Null
                } else {
                    json!(enrollment)
                },
            ),
            (
                "isCompliant",
                if managed {
                    json!(compliant)
                } else {
                    Value::Null
                },
            ),
            ("isManaged", json!(managed)),
            (
                "managementType",
                if managed { json!("MDM") } else { Value::Null },
            ),
            ("manufacturer", json!(maker)),
            ("model", json!(model)),
            ("operatingSystem", json!(os)),
            ("operatingSystemVersion", json!(version)),
            (
                "onPremisesSyncEnabled",
                if trust == "ServerAd" {
                    json!(true)
                } else {
                    Value::Null
                },
            ),
            ("trustType", json!(trust)),
            ("profileType", json!("RegisteredDevice")),
        ] {
            value.insert(key.into(), v);
        }
        let managed_record = managed.then(|| {
            let mut m = Map::new();
            for (key, v) in [
                ("id", json!(guid(rng))),
                ("userId", json!(user.id())),
                ("userPrincipalName", json!(upn)),
                ("userDisplayName", json!(text(user, "displayName"))),
                ("emailAddress", json!(text(user, "mail"))),
                ("deviceName", json!(name)),
                ("azureADDeviceId", json!(device_id)),
                (
                    "operatingSystem",
                    json!(if os == "MacMDM" { "macOS" } else { os }),
                ),
                ("osVersion", json!(version)),
                (
                    "complianceState",
                    json!(if compliant {
                        "compliant"
                    } else {
                        "noncompliant"
                    }),
                ),
                ("managementAgent", json!("mdm")),
                ("managementType", json!("MDM")),
                (
                    "managedDeviceOwnerType",
                    json!(ownership.to_ascii_lowercase()),
                ),
                ("deviceEnrollmentType", json!(enrollment)),
                ("enrolledDateTime", json!(timestamp(created))),
                ("lastSyncDateTime", json!(timestamp(last_sign_in))),
                ("manufacturer", json!(maker)),
                ("model", json!(model)),
                ("serialNumber", json!(serial)),
                ("isEncrypted", json!(compliant)),
            ] {
                m.insert(key.into(), v);
            }
            m
        });
        out.push(Device {
            value,
            owner: user.id().to_owned(),
            managed: managed_record,
        });
    }
    out
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn seed_methods(seed: u64, user: &User) -> Vec<Value> {
    let mut rng = rng_for_id(seed, user.id(), 6);
    let created = text(user, "createdDateTime");
    let mut out = vec![json!({
        "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
        "id": PASSWORD_METHOD_ID,
        "password": null,
        "createdDateTime": created,
    })];
    if is_guest(user) {
        return out;
    }
    let admin = user.upn().starts_with("admin@");
    let recent =
        |rng: &mut ChaCha8Rng| timestamp(start_of_today() - rng.random_range(1..400) * 86_400);
    if admin || rng.random_bool(0.7) {
        out.push(json!({
            "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
            "id": guid(&mut rng),
            "displayName": *pick(&mut rng, &["iPhone 15", "Pixel 8", "SM-S911B", "iPhone 14"]),
            "deviceTag": "SoftwareTokenActivated",
            "phoneAppVersion": *pick(&mut rng, &["6.8.17", "6.2411.7", "6.8.10"]),
            "createdDateTime": recent(&mut rng),
        }));
    }
    if rng.random_bool(0.4) {
        let phone = text(user, "mobilePhone");
        let number = if phone.is_empty() {
            format!("+1 206555{:04}", rng.random_range(0..10_000))
        } else {
            phone.replace(' ', "").replacen("+1", "+1 ", 1)
        };
        out.push(json!({
            "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
            "id": "3179e48a-750b-4051-897c-87b9720928f7",
            "phoneNumber": number,
            "phoneType": "mobile",
            "smsSignInState": "notAllowedByPolicy",
        }));
    }
    if rng.random_bool(0.15) {
        out.push(json!({
            "@odata.type": "#microsoft.graph.emailAuthenticationMethod",
            "id": "3ddfcfc8-9383-446f-83cc-3ab9be4be18f",
            "emailAddress": format!("{}@outlook.example", text(user, "mailNickname")),
        }));
    }
    if admin || rng.random_bool(0.08) {
        out.push(json!({
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethod",
            "id": guid(&mut rng),
            "displayName": "YubiKey 5 NFC",
            "aaGuid": "fa2b99dc-9e39-4257-8f92-4a30d23c4118",
            "model": "YubiKey 5 Series with NFC",
            "attestationCertificates": [],
            "attestationLevel": "attested",
            "createdDateTime": recent(&mut rng),
        }));
    }
    if rng.random_bool(0.2) {
        out.push(json!({
            "@odata.type": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
            "id": guid(&mut rng),
            "displayName": format!("DESKTOP-{:07}", rng.random_range(0..10_000_000)),
            "createdDateTime": recent(&mut rng),
            "keyStrength": "normal",
        }));
    }
    out
}

/// The `methodsRegistered` names the registration report uses for a method's `@odata.type`.
pub(crate) fn registered_name(odata_type: &str) -> Option<&'static str> {
    Some(match odata_type {
        "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod" => {
            "microsoftAuthenticatorPush"
        }
        "#microsoft.graph.phoneAuthenticationMethod" => "mobilePhone",
        "#microsoft.graph.emailAuthenticationMethod" => "email",
        "#microsoft.graph.fido2AuthenticationMethod" => "passKeyDeviceBound",
        "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod" => "windowsHelloForBusiness",
        "#microsoft.graph.softwareOathAuthenticationMethod" => "softwareOneTimePasscode",
        _ => return None,
    })
}

/// Sign-in records of one user, newest first, derived from the seed and the user id.
pub(crate) fn sign_ins(seed: u64, anchor: i64, user: &User, policies: &[Value]) -> Vec<Value> {
    let mut rng = rng_for_id(seed, user.id(), 7);
    let count = rng.random_range(2..=12);
    let country = text(user, "usageLocation");
    let home: (&str, &str, &str, f64, f64) = match country.as_str() {
        "GB" => ("London", "England", "GB", 51.5072, -0.1276),
        "NL" => ("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041),
        "DE" => ("Berlin", "Berlin", "DE", 52.52, 13.405),
        "AU" => ("Sydney", "New South Wales", "AU", -33.8688, 151.2093),
        _ => ("Seattle", "Washington", "US", 47.6062, -122.3321),
    };
    let abroad: &[(&str, &str, &str, f64, f64)] = &[
        ("Lagos", "Lagos", "NG", 6.5244, 3.3792),
        ("Moscow", "Moscow", "RU", 55.7558, 37.6173),
        ("Sao Paulo", "Sao Paulo", "BR", -23.5505, -46.6333),
    ];
    let apps: &[(&str, &str, &str, &str)] = &[
        (
            "00000002-0000-0ff1-ce00-000000000000",
            "Office 365 Exchange Online",
            "Office 365 Exchange Online",
            "Browser",
        ),
        (
            "4765445b-32c6-49b0-83e6-1d93765276ca",
            "OfficeHome",
            "Office 365 SharePoint Online",
            "Browser",
        ),
        (
            "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
            "Microsoft Teams",
            "Microsoft Teams Services",
            "Mobile Apps and Desktop clients",
        ),
        (
            "d3590ed6-52b3-4102-aeff-aad2292ab01c",
            "Microsoft Office",
            "Microsoft Graph",
            "Mobile Apps and Desktop clients",
        ),
        (
            "00000002-0000-0ff1-ce00-000000000000",
            "Office 365 Exchange Online",
            "Office 365 Exchange Online",
            "IMAP4",
        ),
    ];
    let failures: &[(i64, &str)] = &[
        (
            50126,
            "Invalid username or password or Invalid on-premise username or password.",
        ),
        (50074, "Strong Authentication is required."),
        (
            500121,
            "Authentication failed during strong authentication request.",
        ),
        (
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        ),
        (
            50053,
            "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
        ),
        (
            50140,
            "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
        ),
    ];
    let mut at = anchor + 8 * 3600 + rng.random_range(0..36_000);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        at -= rng.random_range(1_800..(4 * 86_400));
        let (app_id, app, resource, client) = *pick(&mut rng, apps);
        let legacy = client == "IMAP4";
        let failure = if legacy || rng.random_bool(0.25) {
            Some(if legacy {
                failures[0]
            } else {
                *pick(&mut rng, failures)
            })
        } else {
            None
        };
        let place = if failure.is_some() && rng.random_bool(0.4) {
            *pick(&mut rng, abroad)
        } else {
            home
        };
        let (os, browser) = *pick(
            &mut rng,
            &[
                ("Windows10", "Edge 131.0.0"),
                ("Windows10", "Chrome 131.0.0"),
                ("MacOs", "Safari 18.1"),
                ("Ios", "Mobile Safari 18.1"),
                ("Android", "Chrome Mobile 131.0.0"),
            ],
        );
        let applied: Vec<Value> = policies
            .iter()
            .take(3)
            .map(|p| {
                let result = match (failure, p["grantControls"]["builtInControls"][0].as_str()) {
                    (Some((53003, _)), Some("block")) => "failure",
                    (_, Some("block")) if !legacy => "notApplied",
                    (Some((500121, _)), Some("mfa")) => "failure",
                    (None, Some("mfa")) => "success",
                    _ => "notApplied",
                };
                json!({
                    "id": p["id"],
                    "displayName": p["displayName"],
                    "enforcedGrantControls": p["grantControls"]["builtInControls"],
                    "enforcedSessionControls": [],
                    "result": result,
                    "conditionsSatisfied": if result == "notApplied" { "none" } else { "application,users" },
                    "conditionsNotSatisfied": "none",
                })
            })
            .collect();
        let ca_status = if applied.iter().any(|a| a["result"] == "failure") {
            "failure"
        } else if applied.iter().any(|a| a["result"] == "success") {
            "success"
        } else {
            "notApplied"
        };
        let (code, reason) =
            failure.unwrap_or((0, if rng.random_bool(0.5) { "Other." } else { "" }));
        out.push(json!({
            "id": guid(&mut rng),
            "createdDateTime": timestamp(at),
            "userDisplayName": text(user, "displayName"),
            "userPrincipalName": user.upn(),
            "userId": user.id(),
            "appId": app_id,
            "appDisplayName": app,
            "ipAddress": format!("{}.{}.{}.{}", rng.random_range(20..220), rng.random_range(0..255), rng.random_range(0..255), rng.random_range(1..254)),
            "clientAppUsed": client,
            "correlationId": guid(&mut rng),
            "conditionalAccessStatus": ca_status,
            "isInteractive": true,
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": if place.2 != home.2 { "medium" } else { "none" },
            "riskState": "none",
            "riskEventTypes": [],
            "resourceDisplayName": resource,
            "resourceId": "00000003-0000-0000-c000-000000000000",
            "status": {
                "errorCode": code,
                "failureReason": if reason.is_empty() { Value::Null } else { json!(reason) },
                "additionalDetails": if code == 0 { Value::Null } else { json!("The user did not complete the sign-in.") },
            },
            "deviceDetail": {"deviceId": "", "displayName": null, "operatingSystem": os, "browser": browser, "isCompliant": null, "isManaged": null, "trustType": null},
            "location": {
                "city": place.0,
                "state": place.1,
                "countryOrRegion": place.2,
                "geoCoordinates": {"altitude": null, "latitude": place.3, "longitude": place.4},
            },
            "mfaDetail": if code == 0 && !legacy { json!({"authMethod": "Mobile app notification", "authDetail": null}) } else { Value::Null },
            "appliedConditionalAccessPolicies": applied,
        }));
    }
    out
}

/// A `size`×`size` PNG of one colour (stored deflate blocks, so no compressor is needed).
pub(crate) fn solid_png(size: u32, rgb: [u8; 3]) -> Vec<u8> {
    // Each scanline: filter byte 0, then the pixels.
    let mut row = vec![0u8];
    for _ in 0..size {
        row.extend_from_slice(&rgb);
    }
    let raw: Vec<u8> = row.repeat(size as usize);
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    for (kind, data) in [(*b"IHDR", ihdr), (*b"IDAT", z), (*b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_has_a_valid_signature_and_chunk_checksums() {
        let png = solid_png(4, [10, 20, 30]);
        assert_eq!(&png[..8], &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]);
        // IHDR's CRC covers its type and data.
        let crc = u32::from_be_bytes([png[29], png[30], png[31], png[32]]);
        assert_eq!(crc, crc32(&png[12..29]));
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn ids_key_streams_stably() {
        assert_eq!(key_of("a"), key_of("a"));
        assert_ne!(key_of("a"), key_of("b"));
    }
}
