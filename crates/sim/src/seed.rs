//! Deterministic tenants and users: the same seed gives the same ids, names and licences.
//!
//! Each tenant draws from its own ChaCha stream derived from (seed, tenant index), so adding
//! tenants later through `/_sim/tenants` never changes the ones that already exist.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parking_lot::RwLock;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::state::{Domain, Relationship, Tenant, UserStore};
use crate::user::User;

/// Timestamps are computed back from this fixed instant, never from the wall clock.
const EPOCH: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

pub(crate) const SKU_O365_E3: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
pub(crate) const SKU_M365_E3: &str = "05e9a617-0261-4cee-bb44-138d3ef5d965";
pub(crate) const SKU_BUSINESS_PREMIUM: &str = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46";
pub(crate) const SKU_BUSINESS_STANDARD: &str = "f245ecc8-75af-4f8e-b61f-27d8114de5f3";
pub(crate) const SKU_EXO_PLAN1: &str = "4b9405b0-7788-4568-add1-99614e613b69";

const COMPANIES: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Northwind Traders",
    "Tailspin Toys",
    "Wingtip Toys",
    "Adventure Works",
    "Litware",
    "Proseware",
    "Woodgrove Bank",
    "Alpine Ski House",
    "Coho Winery",
    "Fourth Coffee",
    "Lamna Healthcare",
    "Relecloud",
    "Trey Research",
    "VanArsdel",
    "Wide World Importers",
    "Blue Yonder Airlines",
    "Humongous Insurance",
    "Lucerne Publishing",
    "Consolidated Messenger",
    "Datum Corporation",
    "Graphic Design Institute",
    "Munson's Pickles",
];

const GIVEN: &[&str] = &[
    "Adele",
    "Alex",
    "Allan",
    "Bianca",
    "Carlos",
    "Chen",
    "Diego",
    "Emily",
    "Enrico",
    "Fatima",
    "Grady",
    "Hana",
    "Henrietta",
    "Isaiah",
    "Johanna",
    "Joni",
    "Kenji",
    "Lee",
    "Lidia",
    "Lynne",
    "Megan",
    "Miriam",
    "Nestor",
    "Noor",
    "Olga",
    "Patti",
    "Pradeep",
    "Quinn",
    "Raul",
    "Sakura",
    "Sofia",
    "Tomasz",
    "Uma",
    "Vikram",
    "Wei",
    "Xavier",
    "Yara",
    "Zoe",
];

const SURNAMES: &[&str] = &[
    "Vance",
    "Wilber",
    "Deyoung",
    "Pellegrini",
    "Ruiz",
    "Wang",
    "Siciliani",
    "Braun",
    "Rossi",
    "Khan",
    "Archie",
    "Sato",
    "Gonzales",
    "Okafor",
    "Lindqvist",
    "Kaufman",
    "Watanabe",
    "Gu",
    "Holloway",
    "Robbins",
    "Bowen",
    "Caron",
    "Kowalski",
    "Fernandes",
    "Larsen",
    "Fernandez",
    "Kumar",
    "Novak",
    "Mendoza",
    "Ito",
    "Costa",
    "Nowak",
    "Iyer",
    "Patel",
    "Zhang",
    "Dubois",
    "Haddad",
    "Meyer",
];

const JOBS: &[(&str, &str)] = &[
    ("Sales Manager", "Sales"),
    ("Account Executive", "Sales"),
    ("Marketing Specialist", "Marketing"),
    ("Product Manager", "Product"),
    ("Software Engineer", "Engineering"),
    ("Senior Software Engineer", "Engineering"),
    ("IT Administrator", "IT"),
    ("Helpdesk Technician", "IT"),
    ("HR Generalist", "Human Resources"),
    ("Financial Analyst", "Finance"),
    ("Accountant", "Finance"),
    ("Legal Counsel", "Legal"),
    ("Operations Coordinator", "Operations"),
    ("Customer Success Manager", "Support"),
    ("Support Engineer", "Support"),
];

/// (city, country, usageLocation, phone prefix, postal code, state)
const PLACES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "Seattle",
        "United States",
        "US",
        "+1 206 555 0",
        "98101",
        "WA",
    ),
    (
        "Chicago",
        "United States",
        "US",
        "+1 312 555 0",
        "60601",
        "IL",
    ),
    (
        "London",
        "United Kingdom",
        "GB",
        "+44 20 7946 0",
        "EC1A 1BB",
        "",
    ),
    (
        "Amsterdam",
        "Netherlands",
        "NL",
        "+31 20 555 0",
        "1012 AB",
        "",
    ),
    ("Berlin", "Germany", "DE", "+49 30 5555 0", "10115", ""),
    ("Sydney", "Australia", "AU", "+61 2 5550 0", "2000", "NSW"),
];

const GUEST_DOMAINS: &[&str] = &["gmail.example", "outlook.example", "partnerco.example"];

/// A JSON string; cheaper than `json!` in debug builds, which matters when seeding big tenants.
fn text<S: AsRef<str> + ?Sized>(v: &S) -> Value {
    Value::String(v.as_ref().to_owned())
}

pub(crate) fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

pub(crate) fn guid(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

pub(crate) fn timestamp(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "2026-01-01T00:00:00Z".to_owned())
}

fn days_before_epoch(rng: &mut ChaCha8Rng, max_days: i64) -> String {
    let secs = rng.random_range(0..max_days.max(1) * 86_400);
    timestamp(EPOCH - secs)
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn slug(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The partner (CSP) tenant: a handful of staff, one of whom is the delegated admin.
pub(crate) fn partner_tenant(seed: u64) -> Arc<Tenant> {
    let mut rng = rng_for(seed, u64::MAX);
    let id = guid(&mut rng);
    let domains = vec![
        Domain {
            name: "cipppartner.onmicrosoft.com".to_owned(),
            is_default: false,
            is_initial: true,
            is_verified: true,
        },
        Domain {
            name: "cipppartner.example".to_owned(),
            is_default: true,
            is_initial: false,
            is_verified: true,
        },
    ];
    let tenant = Tenant {
        id,
        display_name: "CIPP Sim Partner".to_owned(),
        domains,
        created: days_before_epoch(&mut rng, 3000),
        country_code: "US",
        city: "Seattle",
        relationship: None,
        users: RwLock::new(UserStore::default()),
        mailboxes: RwLock::new(std::collections::HashMap::new()),
        incident: std::sync::OnceLock::new(),
        sponsors: RwLock::new(std::collections::HashMap::new()),
    };
    let users = generate_users(&mut rng, &tenant, 8);
    {
        let mut store = tenant.users.write();
        for u in users {
            store.insert(u);
        }
    }
    Arc::new(tenant)
}

/// Customer tenant number `index` (0-based across the simulator's life).
pub(crate) fn customer_tenant(
    seed: u64,
    index: u64,
    users: usize,
    gdap_status: &'static str,
) -> Arc<Tenant> {
    let mut rng = rng_for(seed, index);
    let id = guid(&mut rng);
    let base = COMPANIES[(index as usize) % COMPANIES.len()];
    let round = (index as usize) / COMPANIES.len();
    let display_name = if round == 0 {
        base.to_owned()
    } else {
        format!("{base} {}", round + 1)
    };
    let s = if round == 0 {
        slug(base)
    } else {
        format!("{}{}", slug(base), round + 1)
    };
    let domains = vec![
        Domain {
            name: format!("{s}.onmicrosoft.com"),
            is_default: false,
            is_initial: true,
            is_verified: true,
        },
        Domain {
            name: format!("{s}.example"),
            is_default: true,
            is_initial: false,
            is_verified: true,
        },
        // An added but never verified domain, as real tenants often have one.
        Domain {
            name: format!("mail.{s}.example"),
            is_default: false,
            is_initial: false,
            is_verified: false,
        },
    ];
    let created_days = rng.random_range(400..2500);
    let rel_created = timestamp(EPOCH - created_days * 86_400 / 3);
    let relationship = Relationship {
        id: format!("{}-{}", guid(&mut rng), guid(&mut rng)),
        display_name: format!("CIPP_{}", slug(base)),
        status: gdap_status,
        created: rel_created.clone(),
        activated: rel_created,
        end: timestamp(EPOCH + rng.random_range(30..700) * 86_400),
        auto_extend: if rng.random_bool(0.7) {
            "P180D"
        } else {
            "PT0S"
        },
    };
    let (city, _, cc, _, _, _) = *pick(&mut rng, PLACES);
    let tenant = Tenant {
        id,
        display_name,
        domains,
        created: timestamp(EPOCH - created_days * 86_400),
        country_code: cc,
        city,
        relationship: Some(relationship),
        users: RwLock::new(UserStore::default()),
        mailboxes: RwLock::new(std::collections::HashMap::new()),
        incident: std::sync::OnceLock::new(),
        sponsors: RwLock::new(std::collections::HashMap::new()),
    };
    let list = generate_users(&mut rng, &tenant, users);
    {
        let mut store = tenant.users.write();
        for u in list {
            store.insert(u);
        }
    }
    Arc::new(tenant)
}

/// How many users a small seeded customer gets (20 to 50, fixed by the seed).
pub(crate) fn small_tenant_size(seed: u64, index: u64) -> usize {
    let mut rng = rng_for(seed ^ 0x5EED_5123, index);
    rng.random_range(20..=50)
}

fn generate_users(rng: &mut ChaCha8Rng, tenant: &Tenant, count: usize) -> Vec<User> {
    let default_domain = tenant.default_domain().to_owned();
    let initial_domain = tenant.initial_domain().to_owned();
    let tenant_slug = initial_domain
        .split('.')
        .next()
        .unwrap_or("tenant")
        .to_owned();
    let mut used: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut ids: Vec<String> = Vec::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    let skus = [
        SKU_M365_E3,
        SKU_O365_E3,
        SKU_BUSINESS_PREMIUM,
        SKU_BUSINESS_STANDARD,
        SKU_EXO_PLAN1,
    ];
    for n in 0..count {
        let id = guid(rng);
        let mut user = User::new();
        let given = *pick(rng, GIVEN);
        let surname = *pick(rng, SURNAMES);
        let (given, surname) = if n == 0 {
            ("Sim", "Admin")
        } else {
            (given, surname)
        };
        let mut local = format!(
            "{}.{}",
            given.to_ascii_lowercase(),
            surname.to_ascii_lowercase()
        );
        if n == 0 {
            local = "admin".to_owned();
        }
        // Names repeat a lot in big tenants: count per base name instead of probing
        // base2, base3, ... (same result, without the quadratic probing).
        let seen = used.entry(local.clone()).or_insert(0u32);
        *seen += 1;
        if *seen > 1 {
            local = format!("{local}{}", *seen);
        }
        let is_guest = n > 2 && rng.random_bool(0.06);
        let synced = !is_guest && n > 0 && rng.random_bool(0.2);
        let enabled = n == 0 || rng.random_bool(0.9);
        let (city, country, usage, phone, postal, state) = *pick(rng, PLACES);
        let (job, dept) = *pick(rng, JOBS);
        let created = days_before_epoch(rng, 1500);
        user.set(crate::user::ID, Value::String(id.clone()));
        user.set_named("accountEnabled", Value::Bool(enabled));
        user.set_named("displayName", text(&format!("{given} {surname}")));
        user.set_named("givenName", text(&given));
        user.set_named("surname", text(&surname));
        user.set_named("createdDateTime", text(&created));
        user.set_named("showInAddressList", Value::Null);
        user.set_named("imAddresses", Value::Array(Vec::new()));
        user.set_named("otherMails", Value::Array(Vec::new()));
        user.set_named("businessPhones", Value::Array(Vec::new()));
        user.set_named("proxyAddresses", Value::Array(Vec::new()));
        user.set_named("assignedLicenses", Value::Array(Vec::new()));
        user.set_named(
            "securityIdentifier",
            text(&format!(
                "S-1-12-1-{}-{}-{}-{}",
                rng.random::<u32>(),
                rng.random::<u32>(),
                rng.random::<u32>(),
                rng.random::<u32>()
            )),
        );
        user.set_named("signInSessionsValidFromDateTime", text(&created));
        user.set_named("lastPasswordChangeDateTime", text(&created));
        if is_guest {
            let guest_domain = *pick(rng, GUEST_DOMAINS);
            let external = format!("{local}@{guest_domain}");
            let upn = format!("{local}_{guest_domain}#EXT#@{initial_domain}");
            user.set_named("userType", text(&"Guest"));
            user.set_named("userPrincipalName", text(&upn));
            user.set_named("mail", text(&external));
            user.set_named(
                "mailNickname",
                text(&format!("{local}_{guest_domain}#EXT#")),
            );
            user.set_named("creationType", text(&"Invitation"));
            user.set_named("externalUserState", text(&"Accepted"));
            user.set_named("externalUserStateChangeDateTime", text(&created));
            user.set_named("otherMails", json!([external]));
            user.set_named("proxyAddresses", json!([format!("SMTP:{external}")]));
            user.set_named("usageLocation", text(&usage));
        } else {
            let upn = format!("{local}@{default_domain}");
            user.set_named("userType", text(&"Member"));
            user.set_named("userPrincipalName", text(&upn));
            user.set_named("mail", text(&upn));
            user.set_named("mailNickname", text(&local));
            let mut proxies = vec![
                format!("SMTP:{upn}"),
                format!("smtp:{local}@{initial_domain}"),
            ];
            if rng.random_bool(0.3) {
                proxies.push(format!(
                    "smtp:{}@{default_domain}",
                    given.to_ascii_lowercase()
                ));
            }
            user.set_named(
                "proxyAddresses",
                Value::Array(proxies.into_iter().map(Value::String).collect()),
            );
            user.set_named(
                "jobTitle",
                text(&if n == 0 { "IT Administrator" } else { job }),
            );
            user.set_named("department", text(&if n == 0 { "IT" } else { dept }));
            user.set_named("companyName", text(&tenant.display_name));
            user.set_named("city", text(&city));
            user.set_named("country", text(&country));
            user.set_named("postalCode", text(&postal));
            if !state.is_empty() {
                user.set_named("state", text(&state));
            }
            user.set_named("usageLocation", text(&usage));
            user.set_named(
                "officeLocation",
                text(&format!("{city} {}", rng.random_range(1..6))),
            );
            user.set_named("preferredLanguage", text(&"en-US"));
            user.set_named(
                "businessPhones",
                json!([format!("{phone}{:03}", rng.random_range(100..999))]),
            );
            if rng.random_bool(0.6) {
                user.set_named(
                    "mobilePhone",
                    text(&format!("{phone}{:03}", rng.random_range(100..999))),
                );
            }
            if rng.random_bool(0.5) {
                user.set_named(
                    "employeeId",
                    text(&format!("{:06}", rng.random_range(1..999_999))),
                );
            }
            // Roughly one member in seven has no licence at all.
            if n == 0 || rng.random_bool(0.86) {
                let mut lic = vec![json!({"disabledPlans": [], "skuId": *pick(rng, &skus)})];
                if rng.random_bool(0.1) {
                    lic.push(json!({"disabledPlans": [], "skuId": SKU_EXO_PLAN1}));
                }
                user.set_named("assignedLicenses", Value::Array(lic));
            }
            user.set_named("creationType", Value::Null);
            if synced {
                let guid_bytes: [u8; 16] = rng.random();
                let sam = local.chars().take(20).collect::<String>();
                user.set_named("onPremisesSyncEnabled", Value::Bool(true));
                user.set_named("onPremisesImmutableId", text(&STANDARD.encode(guid_bytes)));
                user.set_named(
                    "onPremisesLastSyncDateTime",
                    text(&days_before_epoch(rng, 2)),
                );
                user.set_named("onPremisesSamAccountName", text(&sam));
                user.set_named(
                    "onPremisesDomainName",
                    text(&format!("{tenant_slug}.local")),
                );
                user.set_named(
                    "onPremisesUserPrincipalName",
                    text(&format!("{local}@{tenant_slug}.local")),
                );
                user.set_named(
                    "onPremisesDistinguishedName",
                    text(&format!(
                        "CN={given} {surname},OU=Users,OU={tenant_slug},DC={tenant_slug},DC=local"
                    )),
                );
                user.set_named(
                    "onPremisesSecurityIdentifier",
                    text(&format!(
                        "S-1-5-21-{}-{}-{}-{}",
                        rng.random::<u32>(),
                        rng.random::<u32>(),
                        rng.random::<u32>(),
                        rng.random_range(1000..99_999)
                    )),
                );
            }
        }
        // Managers come from earlier users, so the chain never loops.
        if n > 3 && !is_guest && rng.random_bool(0.75) {
            let span = (n / 4).max(1);
            let m = rng.random_range(0..span);
            if let Some(mid) = ids.get(m) {
                user.manager = Some(mid.clone());
            }
        }
        ids.push(id);
        out.push(user);
    }
    // Guests never manage anyone.
    let guest_ids: std::collections::HashSet<String> = out
        .iter()
        .filter(|u| u.get(crate::user::idx::USER_TYPE).as_str() == Some("Guest"))
        .map(|u| u.id().to_owned())
        .collect();
    for u in &mut out {
        if u.manager.as_ref().is_some_and(|m| guest_ids.contains(m)) {
            u.manager = None;
        }
    }
    out
}
