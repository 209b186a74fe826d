//! One mailbox per licensed member (plus seeded shared and room mailboxes), shared by the
//! Exchange cmdlets and Graph's `mailboxSettings`.
//!
//! Addresses, names and the address-book flag are never copied: the Exchange view reads them
//! from the directory user at render time, so Graph and Exchange always agree. Everything
//! Exchange-only (type, forwarding, archive, rules, permissions, junk lists, statistics) is
//! derived deterministically from (seed, user id) the first time it is needed, and stored
//! only once something changes it; seeding a 100,000-user tenant therefore costs nothing here.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use crate::state::UserStore;
use crate::user::{User, idx, prop_index};

pub(crate) const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Shared,
    Room,
    Equipment,
}

impl Kind {
    pub fn details(self) -> &'static str {
        match self {
            Kind::User => "UserMailbox",
            Kind::Shared => "SharedMailbox",
            Kind::Room => "RoomMailbox",
            Kind::Equipment => "EquipmentMailbox",
        }
    }

    /// Graph's `mailboxSettings.userPurpose`.
    pub fn purpose(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Shared => "shared",
            Kind::Room => "room",
            Kind::Equipment => "equipment",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AutoReply {
    /// `Enabled`, `Disabled` or `Scheduled` (Exchange casing; Graph maps it).
    pub state: &'static str,
    /// `None`, `Known` or `All`.
    pub audience: &'static str,
    /// UTC, `YYYY-MM-DDTHH:MM:SS`.
    pub start: String,
    pub end: String,
    pub internal: String,
    pub external: String,
    pub create_oof_event: bool,
    pub oof_event_subject: Option<String>,
    pub auto_decline: bool,
    pub decline_events_for_scheduled: bool,
    pub decline_all_events_for_scheduled: bool,
    pub decline_message: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub id: u64,
    pub name: String,
    pub enabled: bool,
    pub from: Vec<String>,
    pub subject_words: Vec<String>,
    pub body_words: Vec<String>,
    pub subject_or_body_words: Vec<String>,
    pub forward_to: Vec<String>,
    pub redirect_to: Vec<String>,
    pub forward_as_attachment_to: Vec<String>,
    pub delete: bool,
    pub move_to: Option<String>,
    pub mark_read: bool,
    pub stop: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Ace {
    /// Trustee UPN.
    pub user: String,
    pub rights: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Cas {
    pub active_sync: bool,
    pub owa: bool,
    pub pop: bool,
    pub imap: bool,
    pub mapi: bool,
    pub ews: bool,
    pub smtp_auth_disabled: Option<bool>,
}

#[derive(Debug, Clone)]
pub(crate) struct Mailbox {
    pub kind: Kind,
    pub guid: String,
    pub exchange_guid: String,
    pub forwarding_smtp: Option<String>,
    /// A recipient identity (the target mailbox's Name), not an SMTP address.
    pub forwarding_address: Option<String>,
    pub deliver_and_forward: bool,
    pub archive_guid: Option<String>,
    pub auto_expanding: bool,
    pub litigation_hold: bool,
    pub litigation_hold_date: Option<String>,
    pub retention_hold: bool,
    pub copy_sent_as: bool,
    pub copy_send_on_behalf: bool,
    /// Names of the delegates.
    pub send_on_behalf: Vec<String>,
    pub permissions: Vec<Ace>,
    /// Trustee UPNs holding SendAs.
    pub send_as: Vec<String>,
    pub auto_reply: AutoReply,
    pub rules: Vec<Rule>,
    pub junk_enabled: bool,
    pub trusted: Vec<String>,
    pub blocked: Vec<String>,
    pub contacts_trusted: bool,
    pub trusted_lists_only: bool,
    pub cas: Cas,
    pub items: u64,
    pub bytes: u64,
    pub deleted_items: u64,
    pub deleted_bytes: u64,
    pub archive_items: u64,
    pub archive_bytes: u64,
    pub last_logon: Option<String>,
    pub quota_gb: u64,
    pub in_place_holds: Vec<String>,
    pub retention_policy: String,
    pub time_zone: String,
    pub date_format: String,
    pub time_format: String,
    pub locale: String,
    /// Exchange ActiveSync partnerships.
    pub mobile_devices: Vec<super::devices_calendar::MobileDevice>,
    /// ActiveSync device ids blocked on the mailbox (Set-CASMailbox -ActiveSyncBlockedDeviceIDs).
    pub active_sync_blocked: Vec<String>,
    /// Delegates on the Calendar folder (trustee UPN and rights), besides Default/Anonymous.
    pub calendar_acl: Vec<Ace>,
    /// Delegates on the Contacts folder (none seeded).
    pub contacts_acl: Vec<Ace>,
    /// Meetings this mailbox organises.
    pub meetings: Vec<super::devices_calendar::Meeting>,
    /// `RecipientLimits` (see `recipient_limits.rs`).
    pub recipient_limits: u32,
}

fn hash(seed: u64, id: &str, salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed ^ salt;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn rng(seed: u64, id: &str, salt: u64) -> ChaCha8Rng {
    crate::seed::rng_for(hash(seed, id, salt), 11)
}

/// The mailbox Guid, computable without deriving the whole mailbox (identity lookups).
pub(crate) fn mailbox_guid(seed: u64, user_id: &str) -> String {
    crate::seed::guid(&mut rng(seed, user_id, 0x6u64 << 40))
}

/// The `ExchangeGuid` [`derive`] gives the mailbox (its first draw), found without deriving it.
pub(crate) fn exchange_guid(seed: u64, user_id: &str) -> String {
    crate::seed::guid(&mut rng(seed, user_id, 0))
}

pub(crate) fn str_at<'u>(user: &'u User, name: &str) -> &'u str {
    prop_index(name)
        .and_then(|i| user.get(i).as_str())
        .unwrap_or("")
}

fn licensed(user: &User) -> bool {
    prop_index("assignedLicenses")
        .and_then(|i| user.get(i).as_array())
        .is_some_and(|l| !l.is_empty())
}

/// Which kind of mailbox a user has before anyone changed it, if any.
pub(crate) fn seeded_kind(seed: u64, user: &User) -> Option<Kind> {
    if user.get(idx::USER_TYPE).as_str() != Some("Member") {
        return None;
    }
    if licensed(user) {
        return Some(Kind::User);
    }
    // Unlicensed members: some are shared or resource mailboxes, the rest have none.
    match hash(seed, user.id(), 0x51) % 100 {
        0..=34 => Some(Kind::Shared),
        35..=44 => Some(Kind::Room),
        45..=47 => Some(Kind::Equipment),
        _ => None,
    }
}

const EXTERNAL: &[&str] = &[
    "gmail.example",
    "outlook.example",
    "protonmail.example",
    "yahoo.example",
];
const FOLDERS: &[&str] = &[
    "Archive",
    "Newsletters",
    "Receipts",
    "RSS Feeds",
    "Projects",
];
const BASE_DAY: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

pub(crate) fn html(text: &str) -> String {
    if text.trim_start().to_ascii_lowercase().starts_with("<html") || text.is_empty() {
        text.to_owned()
    } else {
        format!("<html>\n<body>\n{text}\n</body>\n</html>\n")
    }
}

fn day(offset_days: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(BASE_DAY + offset_days * 86_400)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour()
    )
}

/// Another live user, picked deterministically; None in one-user tenants.
pub(super) fn other_user<'s>(
    rng: &mut ChaCha8Rng,
    store: &'s UserStore,
    not: &str,
) -> Option<&'s User> {
    let n = store.len() as u64;
    if n < 2 {
        return None;
    }
    for _ in 0..4 {
        let at = rng.random_range(0..n);
        if let Some((_, u)) = store.iter_after(at.checked_sub(1)).next()
            && u.id() != not
            && u.get(idx::USER_TYPE).as_str() == Some("Member")
        {
            return Some(u);
        }
    }
    None
}

/// The mailbox as seeded for this user (None when the user has none).
pub(crate) fn derive(seed: u64, user: &User, store: &UserStore) -> Option<Mailbox> {
    let kind = seeded_kind(seed, user)?;
    let id = user.id();
    let mut r = rng(seed, id, 0);
    let exchange_guid = crate::seed::guid(&mut r);
    let local = str_at(user, "mailNickname").to_owned();
    let user_mailbox = kind == Kind::User;
    let mut forwarding_smtp = None;
    let mut forwarding_address = None;
    let roll: u32 = r.random_range(0..100);
    if user_mailbox && roll < 6 {
        let domain = EXTERNAL[r.random_range(0..EXTERNAL.len())];
        forwarding_smtp = Some(format!("smtp:{local}.private@{domain}"));
    } else if user_mailbox && roll < 10 {
        forwarding_address = other_user(&mut r, store, id)
            .map(|u| str_at(u, "mailNickname").to_owned())
            .filter(|n| !n.is_empty());
    }
    let deliver_and_forward =
        (forwarding_smtp.is_some() || forwarding_address.is_some()) && r.random_bool(0.5);
    let archive_guid = (user_mailbox && r.random_bool(0.25)).then(|| crate::seed::guid(&mut r));
    let auto_expanding = archive_guid.is_some() && r.random_bool(0.2);
    let litigation_hold = user_mailbox && r.random_bool(0.1);
    let state_roll: u32 = r.random_range(0..100);
    let start_offset = r.random_range(-20..10);
    let given = str_at(user, "givenName").to_owned();
    let auto_reply = AutoReply {
        state: match state_roll {
            0..=7 => "Enabled",
            8..=11 => "Scheduled",
            _ => "Disabled",
        },
        audience: if state_roll < 12 && r.random_bool(0.5) {
            "Known"
        } else {
            "All"
        },
        start: day(start_offset),
        end: day(start_offset + r.random_range(2..15)),
        internal: if state_roll < 12 {
            html(&format!(
                "I am out of the office and will reply when I am back. {given}"
            ))
        } else {
            String::new()
        },
        external: if state_roll < 12 {
            html("Thank you for your message. I am currently away with limited access to email.")
        } else {
            String::new()
        },
        create_oof_event: false,
        oof_event_subject: None,
        auto_decline: false,
        decline_events_for_scheduled: false,
        decline_all_events_for_scheduled: false,
        decline_message: None,
    };
    let mut rules = Vec::new();
    let mut next_rule: u64 = 0x1A2B_0000_0000_0000 | (hash(seed, id, 0x77) & 0xFFFF_FFFF_0000);
    if user_mailbox && r.random_bool(0.35) {
        for _ in 0..r.random_range(1..=3) {
            next_rule += 1;
            let kind_roll: u32 = r.random_range(0..100);
            let mut rule = Rule {
                id: next_rule,
                name: String::new(),
                enabled: r.random_bool(0.9),
                from: Vec::new(),
                subject_words: Vec::new(),
                body_words: Vec::new(),
                subject_or_body_words: Vec::new(),
                forward_to: Vec::new(),
                redirect_to: Vec::new(),
                forward_as_attachment_to: Vec::new(),
                delete: false,
                move_to: None,
                mark_read: false,
                stop: false,
            };
            match kind_roll {
                // Business-email-compromise shapes: forward or redirect everything outside.
                0..=11 => {
                    let domain = EXTERNAL[r.random_range(0..EXTERNAL.len())];
                    rule.name = "..".to_owned();
                    rule.forward_to = vec![format!("\"{local}@{domain}\" [SMTP:{local}@{domain}]")];
                    rule.mark_read = true;
                    rule.stop = true;
                }
                12..=19 => {
                    rule.name = "Invoice handling".to_owned();
                    rule.subject_words = vec!["invoice".to_owned(), "payment".to_owned()];
                    rule.redirect_to =
                        vec!["\"ap.processing@protonmail.example\" [SMTP:ap.processing@protonmail.example]".to_owned()];
                    rule.delete = true;
                }
                20..=59 => {
                    let folder = FOLDERS[r.random_range(0..FOLDERS.len())];
                    rule.name = format!("Move to {folder}");
                    rule.from = vec!["\"News\" [SMTP:news@contoso-news.example]".to_owned()];
                    rule.move_to = Some(format!("{local}:\\{folder}"));
                }
                _ => {
                    rule.name = "Mark notifications as read".to_owned();
                    rule.subject_words = vec!["[notification]".to_owned()];
                    rule.mark_read = true;
                }
            }
            rules.push(rule);
        }
    }
    let mut permissions = Vec::new();
    let grants = match kind {
        Kind::User if r.random_bool(0.12) => 1,
        Kind::User => 0,
        _ => r.random_range(1..=3),
    };
    for _ in 0..grants {
        if let Some(u) = other_user(&mut r, store, id) {
            let upn = u.upn().to_owned();
            if !permissions.iter().any(|a: &Ace| a.user == upn) {
                permissions.push(Ace {
                    user: upn,
                    rights: vec!["FullAccess".to_owned()],
                });
            }
        }
    }
    let mut send_as = Vec::new();
    if (!user_mailbox || r.random_bool(0.05))
        && let Some(u) = other_user(&mut r, store, id)
    {
        send_as.push(u.upn().to_owned());
    }
    let mut send_on_behalf = Vec::new();
    if r.random_bool(0.05)
        && let Some(u) = other_user(&mut r, store, id)
    {
        send_on_behalf.push(str_at(u, "mailNickname").to_owned());
    }
    let mut trusted = Vec::new();
    if r.random_bool(0.3) {
        for d in [
            "fabrikam.example",
            "partnerco.example",
            "newsletter@contoso-news.example",
        ]
        .iter()
        .take(r.random_range(1..=3))
        {
            trusted.push((*d).to_owned());
        }
    }
    let mut blocked = Vec::new();
    if r.random_bool(0.2) {
        blocked.push("spam-sender@bulkmail.example".to_owned());
        if r.random_bool(0.5) {
            blocked.push("cheap-deals.example".to_owned());
        }
    }
    let items = r.random_range(50..60_000u64);
    let bytes = items * r.random_range(20_000..90_000u64);
    let (archive_items, archive_bytes) = if archive_guid.is_some() {
        let n = r.random_range(100..40_000u64);
        (n, n * r.random_range(30_000..80_000u64))
    } else {
        (0, 0)
    };
    let deleted_items = r.random_range(0..2_000u64);
    let sku_big = prop_index("assignedLicenses")
        .and_then(|i| user.get(i).as_array())
        .is_some_and(|l| {
            l.iter().any(|x| {
                matches!(
                    x.get("skuId").and_then(Value::as_str),
                    Some(crate::seed::SKU_M365_E3 | crate::seed::SKU_O365_E3)
                )
            })
        });
    let mut in_place_holds = Vec::new();
    if litigation_hold || r.random_bool(0.05) {
        in_place_holds.push(format!("mbx{}:2", exchange_guid.replace('-', "")));
    }
    let cas = Cas {
        active_sync: r.random_bool(0.9),
        owa: r.random_bool(0.97),
        pop: r.random_bool(0.6),
        imap: r.random_bool(0.6),
        mapi: true,
        ews: r.random_bool(0.95),
        smtp_auth_disabled: match r.random_range(0..10) {
            0 => Some(true),
            1 => Some(false),
            _ => None,
        },
    };
    let (mobile_devices, calendar_acl, meetings) =
        super::devices_calendar::derive(&mut rng(seed, id, 0xCA1), user, store, kind);
    Some(Mailbox {
        mobile_devices,
        active_sync_blocked: Vec::new(),
        calendar_acl,
        contacts_acl: Vec::new(),
        meetings,
        recipient_limits: super::recipient_limits::DEFAULT,
        kind,
        guid: mailbox_guid(seed, id),
        exchange_guid,
        forwarding_smtp,
        forwarding_address,
        deliver_and_forward,
        archive_guid,
        auto_expanding,
        litigation_hold,
        litigation_hold_date: litigation_hold.then(|| format!("{}.0000000+00:00", day(-200))),
        retention_hold: user_mailbox && r.random_bool(0.03),
        copy_sent_as: !user_mailbox && r.random_bool(0.5),
        copy_send_on_behalf: false,
        send_on_behalf,
        permissions,
        send_as,
        auto_reply,
        rules,
        junk_enabled: true,
        trusted,
        blocked,
        contacts_trusted: true,
        trusted_lists_only: false,
        cas,
        items,
        bytes,
        deleted_items,
        deleted_bytes: deleted_items * 30_000,
        archive_items,
        archive_bytes,
        last_logon: (user_mailbox && r.random_bool(0.9))
            .then(|| format!("{}.0000000+00:00", day(-r.random_range(0..30)))),
        quota_gb: if sku_big { 100 } else { 50 },
        in_place_holds,
        retention_policy: "Default MRM Policy".to_owned(),
        time_zone: "UTC".to_owned(),
        date_format: "M/d/yyyy".to_owned(),
        time_format: "h:mm tt".to_owned(),
        locale: str_at(user, "preferredLanguage").to_owned(),
    })
}

/// `"99 GB (106,300,440,576 bytes)"`, as Exchange prints sizes.
pub(crate) fn size_text(bytes: u64) -> String {
    let digits = bytes.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let (value, unit) = if bytes >= 1 << 30 {
        (bytes as f64 / (1u64 << 30) as f64, "GB")
    } else if bytes >= 1 << 20 {
        (bytes as f64 / (1u64 << 20) as f64, "MB")
    } else if bytes >= 1 << 10 {
        (bytes as f64 / 1024.0, "KB")
    } else {
        return format!("{bytes} B ({grouped} bytes)");
    };
    let number = format!("{value:.3}");
    let number = number.trim_end_matches('0').trim_end_matches('.');
    format!("{number} {unit} ({grouped} bytes)")
}

fn country_name(code: &str) -> &'static str {
    match code {
        "US" => "United States",
        "GB" => "United Kingdom",
        "NL" => "Netherlands",
        "DE" => "Germany",
        "AU" => "Australia",
        "IE" => "Ireland",
        "FR" => "France",
        "CA" => "Canada",
        _ => "",
    }
}

fn exo_time(iso: &str) -> String {
    // Graph stamps look like 2024-05-22T16:52:10Z; Exchange prints 7 fractional digits and +00:00.
    let base = iso.trim_end_matches('Z');
    let base = base.split('.').next().unwrap_or(base);
    format!("{base}.0000000+00:00")
}

/// Adds `name` with its Exchange type annotations, the way the REST API serialises objects.
pub(crate) struct Obj(pub Map<String, Value>);

impl Obj {
    pub fn new() -> Self {
        Self(Map::new())
    }
    pub fn put(&mut self, name: &str, v: Value) -> &mut Self {
        self.0.insert(name.to_owned(), v);
        self
    }
    pub fn list(&mut self, name: &str, items: &[String]) -> &mut Self {
        self.0
            .insert(format!("{name}@odata.type"), json!("#Collection(String)"));
        self.0.insert(name.to_owned(), json!(items));
        self
    }
    pub fn guid(&mut self, name: &str, g: &str) -> &mut Self {
        self.0
            .insert(format!("{name}@data.type"), json!("System.Guid"));
        self.0.insert(format!("{name}@odata.type"), json!("#Guid"));
        self.0.insert(name.to_owned(), json!(g));
        self
    }
    pub fn date(&mut self, name: &str, d: Option<&str>) -> &mut Self {
        self.0
            .insert(format!("{name}@data.type"), json!("System.DateTime"));
        self.0.insert(name.to_owned(), json!(d));
        self
    }
    pub fn done(self) -> Value {
        Value::Object(self.0)
    }
}

pub(crate) fn proxies(user: &User) -> Vec<String> {
    prop_index("proxyAddresses")
        .and_then(|i| user.get(i).as_array())
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The Get-Mailbox object: directory fields read live from the user, the rest from `m`.
pub(crate) fn render(user: &User, m: &Mailbox, server: &str) -> Value {
    let alias = str_at(user, "mailNickname");
    let upn = user.upn();
    let primary = user.get(idx::MAIL).as_str().unwrap_or(upn);
    let display = str_at(user, "displayName");
    let created = exo_time(str_at(user, "createdDateTime"));
    let enabled = prop_index("accountEnabled").and_then(|i| user.get(i).as_bool()) == Some(true);
    let hidden = prop_index("showInAddressList").and_then(|i| user.get(i).as_bool()) == Some(false);
    let usage = country_name(str_at(user, "usageLocation"));
    let quota = m.quota_gb << 30;
    let quota_text = |q: u64| size_text(q);
    let mut o = Obj::new();
    o.put("@odata.id", json!(format!("Mailbox('{}')", user.id())));
    o.put(
        "@odata.editLink",
        json!(format!("Mailbox('{}')", user.id())),
    );
    o.put(
        "Database",
        json!(format!(
            "{}DB{:03}",
            &server[..6.min(server.len())],
            m.items % 400
        )),
    );
    o.put("Identity", json!(alias))
        .put("Id", json!(alias))
        .put("Name", json!(alias))
        .put("Alias", json!(alias))
        .put("DisplayName", json!(display))
        .put("UserPrincipalName", json!(upn))
        .put("PrimarySmtpAddress", json!(primary))
        .put("WindowsEmailAddress", json!(primary))
        .put("MicrosoftOnlineServicesID", json!(upn))
        .list("EmailAddresses", &proxies(user))
        .put("ExternalDirectoryObjectId", json!(user.id()))
        .guid("Guid", &m.guid)
        .guid("ExchangeGuid", &m.exchange_guid)
        .guid("ExchangeObjectId", &m.guid)
        .put("RecipientType", json!("UserMailbox"))
        .put("RecipientTypeDetails", json!(m.kind.details()))
        .put("IsShared", json!(m.kind == Kind::Shared))
        .put(
            "IsResource",
            json!(matches!(m.kind, Kind::Room | Kind::Equipment)),
        )
        .put("IsMailboxEnabled", json!(true))
        .put("IsDirSynced", json!(user.is_synced()))
        .put("AccountDisabled", json!(!enabled))
        .put("ForwardingAddress", json!(m.forwarding_address))
        .put("ForwardingSmtpAddress", json!(m.forwarding_smtp))
        .put("DeliverToMailboxAndForward", json!(m.deliver_and_forward))
        .put("HiddenFromAddressListsEnabled", json!(hidden))
        .put("LitigationHoldEnabled", json!(m.litigation_hold))
        .date("LitigationHoldDate", m.litigation_hold_date.as_deref())
        .put("LitigationHoldDuration", json!("Unlimited"))
        .put(
            "LitigationHoldOwner",
            json!(m.litigation_hold.then_some("admin")),
        )
        .put("RetentionHoldEnabled", json!(m.retention_hold))
        .put("ComplianceTagHoldApplied", json!(false))
        .put("DelayHoldApplied", json!(false))
        .list("InPlaceHolds", &m.in_place_holds)
        .put("RetentionPolicy", json!(m.retention_policy))
        .put(
            "RecipientLimits",
            super::recipient_limits::shown(m.recipient_limits),
        )
        .put("MessageCopyForSentAsEnabled", json!(m.copy_sent_as))
        .put(
            "MessageCopyForSendOnBehalfEnabled",
            json!(m.copy_send_on_behalf),
        )
        .list("GrantSendOnBehalfTo", &m.send_on_behalf)
        .put(
            "ArchiveStatus",
            json!(if m.archive_guid.is_some() {
                "Active"
            } else {
                "None"
            }),
        )
        .put(
            "ArchiveState",
            json!(if m.archive_guid.is_some() {
                "Local"
            } else {
                "None"
            }),
        )
        .guid(
            "ArchiveGuid",
            m.archive_guid.as_deref().unwrap_or(ZERO_GUID),
        )
        .list(
            "ArchiveName",
            &if m.archive_guid.is_some() {
                vec![format!("In-Place Archive -{display}")]
            } else {
                Vec::new()
            },
        )
        .put("ArchiveQuota", json!(quota_text(100 << 30)))
        .put("ArchiveWarningQuota", json!(quota_text(90 << 30)))
        .put("AutoExpandingArchiveEnabled", json!(m.auto_expanding))
        .put("ProhibitSendQuota", json!(quota_text(quota - (1 << 30))))
        .put("ProhibitSendReceiveQuota", json!(quota_text(quota)))
        .put("IssueWarningQuota", json!(quota_text(quota - (2 << 30))))
        .put("RecoverableItemsQuota", json!(quota_text(30 << 30)))
        .put("UseDatabaseQuotaDefaults", json!(false))
        .put("UsageLocation", json!(usage))
        .put(
            "ServerName",
            json!(
                server
                    .split('.')
                    .next()
                    .unwrap_or(server)
                    .to_ascii_lowercase()
            ),
        )
        .list(
            "PersistedCapabilities",
            &if m.quota_gb == 100 {
                vec!["BPOS_S_Enterprise".to_owned()]
            } else {
                vec!["BPOS_S_Standard".to_owned()]
            },
        )
        .date("WhenCreated", Some(&created))
        .date("WhenChanged", Some(&created))
        .date("WhenMailboxCreated", Some(&created))
        .date("WhenSoftDeleted", None)
        .put("IsInactiveMailbox", json!(false))
        .put("AuditEnabled", json!(true))
        .put("SingleItemRecoveryEnabled", json!(true))
        .put(
            "RoleAssignmentPolicy",
            json!("Default Role Assignment Policy"),
        )
        .put("SharingPolicy", json!("Default Sharing Policy"))
        .put(
            "OrganizationalUnit",
            json!(format!(
                "EURPR06A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/{}",
                primary.rsplit('@').next().unwrap_or("")
            )),
        );
    o.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_exchange_with_grouped_bytes() {
        assert_eq!(size_text(99 << 30), "99 GB (106,300,440,576 bytes)");
        assert_eq!(size_text(1_536), "1.5 KB (1,536 bytes)");
        assert_eq!(size_text(12), "12 B (12 bytes)");
    }

    #[test]
    fn plain_text_is_wrapped_in_html_once() {
        assert_eq!(html("Away"), "<html>\n<body>\nAway\n</body>\n</html>\n");
        assert_eq!(
            html("<html><body>x</body></html>"),
            "<html><body>x</body></html>"
        );
        assert_eq!(html(""), "");
    }
}
