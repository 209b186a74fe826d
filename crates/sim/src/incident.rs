//! A planted business-email-compromise incident, one per customer tenant, so a BEC check run
//! against the simulator finds real evidence in every source it reads.
//!
//! The compromised user is the first eligible user by object id: a cloud-only, enabled,
//! licensed member with a mailbox and a usage location, never the tenant's first ten users
//! (tests pick "the first user" of a list) nor demo mode's named users. Everything about the
//! incident is fixed when the tenant is created, from the seed and the tenant id, with times
//! counted back from the start of that UTC day (as the sign-ins are), so it falls in the last
//! three days. The evidence:
//!
//! - sign-ins: four successful ones from Lagos (NG, [`ATTACKER_IP`]) and one failed one from
//!   Moscow (RU, [`FAILED_IP`]), added to the user's generated ones (Graph and the audit log);
//! - an enabled inbox rule [`RULE_NAME`] (invoice/payment words → RSS Feeds, read, stop) in the
//!   mailbox's stored rules, so the rule cmdlets change it like any other;
//! - [`TRUSTED_SENDER`] in the mailbox's trusted senders, and FullAccess on the mailbox for
//!   another user;
//! - unified audit log records for all of that (`audit_records`);
//! - a burst of 12 messages to 36 recipients in ten minutes in the message trace;
//! - an Authenticator method and a password change two days ago;
//! - a consented malicious app (service principal and OAuth grant, `graph::apps`);
//! - an anonymous view link on [`SHARED_FILE`] in the user's OneDrive (`graph::sharepoint`),
//!   two devices registered as the user during the incident (`seed_reads`), a user-installed
//!   add-in on the mailbox and a tenant transport rule blind-copying mail outside, changed a day
//!   before the anchor (`exchange::tenant_wide`).

use rand::Rng;
use serde_json::{Value, json};

use crate::seed::{guid, timestamp};
use crate::seed_reads::rng_for_id;
use crate::state::{Tenant, UserStore};
use crate::user::{User, idx, prop_index};

pub(crate) const ATTACKER_IP: &str = "102.89.34.120";
pub(crate) const ATTACKER_COUNTRY: &str = "NG";
pub(crate) const FAILED_IP: &str = "185.220.101.47";
pub(crate) const RULE_NAME: &str = ".";
pub(crate) const DELETED_RULE_NAME: &str = "Delete Messages";
pub(crate) const TRUSTED_SENDER: &str = "billing@contoso-payments.example";
pub(crate) const MALICIOUS_APP_ID: &str = "ff8d92dc-3d82-41d6-bcbd-b9174d163620";
pub(crate) const MALICIOUS_APP_NAME: &str = "PERFECTDATA SOFTWARE";
pub(crate) const BENIGN_APP_NAME: &str = "Contoso Expense Bot";
pub(crate) const SHARED_FILE: &str = "Q4 Payroll.xlsx";
pub(crate) const BURST_SUBJECT: &str = "Overdue invoice - action required";
/// Where the tenant's own admins work from (the permission grant is theirs, not the attacker's).
const OFFICE_IP: &str = "20.190.151.68";

/// Demo mode's named users (crates/users/src/demo.rs): never the compromised one.
const DEMO_USERS: &[&str] = &[
    "kenji.robbins@contoso.example",
    "olga.watanabe@contoso.example",
    "enrico.braun@contoso.example",
];

const INCIDENT_PURPOSE: u64 = 0xBEC0;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// When each planted event happened, in seconds after the incident's anchor (negative: before).
pub(crate) mod at {
    use super::{DAY, HOUR};
    pub const FAILED_SIGN_IN: i64 = -2 * DAY + 9 * HOUR + 58 * 60;
    pub const SIGN_INS: [i64; 4] = [
        -2 * DAY + 10 * HOUR + 5 * 60,
        -2 * DAY + 18 * HOUR + 40 * 60,
        -DAY + 9 * HOUR + 15 * 60,
        -DAY + 14 * HOUR + 50 * 60,
    ];
    pub const MFA_METHOD: i64 = -2 * DAY + 10 * HOUR + 12 * 60;
    pub const NEW_RULE: i64 = -2 * DAY + 10 * HOUR + 20 * 60;
    pub const SET_RULE: i64 = -2 * DAY + 10 * HOUR + 22 * 60;
    pub const JUNK: i64 = -2 * DAY + 10 * HOUR + 25 * 60;
    pub const PASSWORD: i64 = -2 * DAY + 10 * HOUR + 30 * 60;
    pub const NEW_DELETE_RULE: i64 = -2 * DAY + 10 * HOUR + 40 * 60;
    pub const PERMISSION: i64 = -2 * DAY + 10 * HOUR + 45 * 60;
    pub const CONSENT: i64 = -2 * DAY + 11 * HOUR;
    pub const BENIGN_APP: i64 = -3 * DAY + 16 * HOUR;
    pub const REMOVE_DELETE_RULE: i64 = -DAY + 9 * HOUR + 30 * 60;
    pub const SHARING: i64 = -DAY + 10 * HOUR;
    pub const BURST: i64 = -DAY + 15 * HOUR;
}

/// The planted incident of one tenant.
#[derive(Debug, Clone)]
pub(crate) struct Incident {
    /// Start of the UTC day the tenant was created; event times count from here.
    pub anchor: i64,
    pub tenant_id: String,
    pub user_id: String,
    pub upn: String,
    pub display_name: String,
    pub alias: String,
    pub rule_id: u64,
    pub deleted_rule_id: u64,
    /// Who granted FullAccess on the mailbox, and to whom.
    pub admin_upn: String,
    pub trustee_upn: String,
    /// Colleagues who received the invoice lure from the compromised mailbox.
    pub internal_targets: Vec<String>,
    pub malicious_sp_id: String,
    pub benign_sp_id: String,
    pub benign_app_id: String,
    /// The tenant's Microsoft Graph service principal (the grant's resource).
    pub graph_sp_id: String,
    pub grant_id: String,
    pub mfa_method_id: String,
    /// The user's OneDrive, `https://{name}-my.sharepoint.com/personal/{slug}`.
    pub onedrive_url: String,
    /// Ids for the audit records, sign-ins and messages, fixed per incident.
    pub ids: Vec<String>,
}

impl Incident {
    pub fn time(&self, offset: i64) -> i64 {
        self.anchor + offset
    }

    pub fn stamp(&self, offset: i64) -> String {
        timestamp(self.time(offset))
    }

    /// The n-th fixed id (wraps; there are more than the planted items need).
    pub fn id(&self, n: usize) -> &str {
        self.ids
            .get(n % self.ids.len().max(1))
            .map_or("", String::as_str)
    }

    /// What `GET /_sim/incident/{tenant}` answers.
    pub fn admin_view(&self) -> Value {
        json!({
            "tenantId": self.tenant_id,
            "userId": self.user_id,
            "userPrincipalName": self.upn,
            "displayName": self.display_name,
            "attackerIp": ATTACKER_IP,
            "attackerCountry": ATTACKER_COUNTRY,
            "failedSignInIp": FAILED_IP,
            "ruleName": RULE_NAME,
            "ruleIdentity": self.rule_id.to_string(),
            "deletedRuleName": DELETED_RULE_NAME,
            "trustedSender": TRUSTED_SENDER,
            "mailboxPermissionTrustee": self.trustee_upn,
            "maliciousAppId": MALICIOUS_APP_ID,
            "maliciousServicePrincipalId": self.malicious_sp_id,
            "benignServicePrincipalId": self.benign_sp_id,
            "grantId": self.grant_id,
            "mfaMethodId": self.mfa_method_id,
            "passwordChangedDateTime": self.stamp(at::PASSWORD),
            "sharedFileName": SHARED_FILE,
            "burstSubject": BURST_SUBJECT,
            "burstStart": self.stamp(at::BURST),
            "internalRecipients": self.internal_targets,
            "transportRuleName": crate::exchange::tenant_wide::SUSPICIOUS_RULE,
            "transportRuleBlindCopyTo": crate::exchange::tenant_wide::SUSPICIOUS_BCC,
            "addInName": crate::exchange::tenant_wide::SUSPICIOUS_ADD_IN,
        })
    }
}

fn start_of_today() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    now - now.rem_euclid(DAY)
}

fn text<'u>(user: &'u User, name: &str) -> &'u str {
    prop_index(name)
        .and_then(|i| user.get(i).as_str())
        .unwrap_or("")
}

fn licensed(user: &User) -> bool {
    prop_index("assignedLicenses")
        .and_then(|i| user.get(i).as_array())
        .is_some_and(|l| !l.is_empty())
}

/// A licensed member with an address: has a user mailbox and can receive mail.
fn mail_user(user: &User) -> bool {
    user.get(idx::USER_TYPE).as_str() == Some("Member")
        && licensed(user)
        && !text(user, "mail").is_empty()
}

fn eligible(user: &User) -> bool {
    let enabled = prop_index("accountEnabled").and_then(|i| user.get(i).as_bool()) == Some(true);
    mail_user(user)
        && enabled
        && !user.is_synced()
        && !text(user, "usageLocation").is_empty()
        && !user.upn().starts_with("admin@")
        && !DEMO_USERS
            .iter()
            .any(|d| d.eq_ignore_ascii_case(user.upn()))
}

/// Picks the compromised user and plants what lives on the user and the mailbox. Customer
/// tenants only; `None` when no user qualifies.
pub(crate) fn plant(seed: u64, tenant: &Tenant, store: &mut UserStore) -> Option<Incident> {
    tenant.relationship.as_ref()?;
    let pick = |skip: usize| {
        store
            .iter_after(None)
            .enumerate()
            .filter(|(n, (_, u))| *n >= skip && eligible(u))
            .map(|(_, (seq, u))| (u.id().to_owned(), *seq))
            .min()
    };
    // Tiny tenants (added through the admin API) may have no eligible user past the first ten.
    let (user_id, seq) = pick(10).or_else(|| pick(1))?;
    let user = store.live.get(&seq)?.clone();
    let mut others: Vec<(&str, &str)> = store
        .iter_after(None)
        .map(|(_, u)| u)
        .filter(|u| u.id() != user_id && mail_user(u))
        .map(|u| (u.id(), u.upn()))
        .collect();
    others.sort_unstable();
    let internal_targets: Vec<String> = others
        .iter()
        .take(5)
        .map(|(_, upn)| (*upn).to_owned())
        .collect();
    let trustee_upn = others
        .get(5)
        .or(others.first())
        .map_or_else(|| user.upn().to_owned(), |(_, upn)| (*upn).to_owned());
    let admin_upn = store
        .iter_after(None)
        .next()
        .map_or_else(|| user.upn().to_owned(), |(_, u)| u.upn().to_owned());

    let mut rng = rng_for_id(seed, &tenant.id, INCIDENT_PURPOSE);
    let malicious_sp_id = guid(&mut rng);
    let benign_sp_id = guid(&mut rng);
    let benign_app_id = guid(&mut rng);
    let graph_sp_id = guid(&mut rng);
    let mfa_method_id = guid(&mut rng);
    let rule_id = 0x1A2B_FFFF_0000_0000 | (rng.random::<u64>() & 0xFFFF_FFF0);
    let ids: Vec<String> = (0..64).map(|_| guid(&mut rng)).collect();
    let grant_id = grant_id_for(&malicious_sp_id, &user_id, &graph_sp_id);
    let name = tenant
        .initial_domain()
        .split('.')
        .next()
        .unwrap_or("tenant")
        .to_owned();
    let slug: String = user
        .upn()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let incident = Incident {
        anchor: start_of_today(),
        tenant_id: tenant.id.clone(),
        user_id: user_id.clone(),
        upn: user.upn().to_owned(),
        display_name: text(&user, "displayName").to_owned(),
        alias: text(&user, "mailNickname").to_owned(),
        rule_id,
        deleted_rule_id: rule_id + 1,
        admin_upn,
        trustee_upn,
        internal_targets,
        malicious_sp_id,
        benign_sp_id,
        benign_app_id,
        graph_sp_id,
        grant_id,
        mfa_method_id,
        onedrive_url: format!("https://{name}-my.sharepoint.com/personal/{slug}"),
        ids,
    };

    if let Some(u) = store.get_mut(seq) {
        u.set(
            idx::LAST_PASSWORD_CHANGE,
            json!(incident.stamp(at::PASSWORD)),
        );
    }
    // The mailbox is stored from the start, as if its owner (the attacker) had changed it.
    if let Some(mut mailbox) = crate::exchange::mailbox::derive(seed, &user, store) {
        mailbox.rules.push(crate::exchange::mailbox::Rule {
            id: incident.rule_id,
            name: RULE_NAME.to_owned(),
            enabled: true,
            from: Vec::new(),
            subject_words: Vec::new(),
            body_words: Vec::new(),
            subject_or_body_words: vec!["invoice".to_owned(), "payment".to_owned()],
            forward_to: Vec::new(),
            redirect_to: Vec::new(),
            forward_as_attachment_to: Vec::new(),
            delete: false,
            move_to: Some("RSS Feeds".to_owned()),
            mark_read: true,
            stop: true,
        });
        if !mailbox
            .trusted
            .iter()
            .any(|t| t.eq_ignore_ascii_case(TRUSTED_SENDER))
        {
            mailbox.trusted.push(TRUSTED_SENDER.to_owned());
        }
        if !mailbox
            .permissions
            .iter()
            .any(|a| a.user == incident.trustee_upn)
        {
            mailbox.permissions.push(crate::exchange::mailbox::Ace {
                user: incident.trustee_upn.clone(),
                rights: vec!["FullAccess".to_owned()],
            });
        }
        tenant.mailboxes.write().insert(user_id, mailbox);
    }
    Some(incident)
}

/// Graph's grant ids are base64url text; this one is stable for (client, principal, resource).
pub(crate) fn grant_id_for(client: &str, principal: &str, resource: &str) -> String {
    use base64::Engine as _;
    let raw: Vec<u8> = [client, principal, resource]
        .iter()
        .flat_map(|id| {
            uuid::Uuid::parse_str(id)
                .map(|u| u.as_bytes().to_vec())
                .unwrap_or_default()
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The Authenticator app the attacker registered.
pub(crate) fn mfa_method(inc: &Incident) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
        "id": inc.mfa_method_id,
        "displayName": "iPhone 15",
        "deviceTag": "SoftwareTokenActivated",
        "phoneAppVersion": "6.8.17",
        "createdDateTime": inc.stamp(at::MFA_METHOD),
    })
}

/// The user's sign-ins as Graph and the audit log serve them: the generated ones plus, for the
/// compromised user, the attacker's.
pub(crate) fn sign_ins(
    seed: u64,
    anchor: i64,
    user: &User,
    policies: &[Value],
    tenant: &Tenant,
) -> Vec<Value> {
    let mut out = crate::seed_reads::sign_ins(seed, anchor, user, policies);
    if let Some(inc) = tenant.incident.get()
        && inc.user_id == user.id()
    {
        out.extend(attacker_sign_ins(inc, user));
        out.sort_by(|a, b| {
            b["createdDateTime"]
                .as_str()
                .cmp(&a["createdDateTime"].as_str())
        });
    }
    out
}

/// (city, state, country, latitude, longitude)
type Place = (&'static str, &'static str, &'static str, f64, f64);
/// (offset, IP, place, failure code and reason)
type Attempt = (i64, &'static str, Place, Option<(i64, &'static str)>);

fn attacker_sign_ins(inc: &Incident, user: &User) -> Vec<Value> {
    let lagos: Place = ("Lagos", "Lagos", "NG", 6.5244, 3.3792);
    let moscow: Place = ("Moscow", "Moscow", "RU", 55.7558, 37.6173);
    let mut rows: Vec<Attempt> = at::SIGN_INS
        .iter()
        .map(|t| (*t, ATTACKER_IP, lagos, None))
        .collect();
    rows.push((
        at::FAILED_SIGN_IN,
        FAILED_IP,
        moscow,
        Some((
            50126,
            "Invalid username or password or Invalid on-premise username or password.",
        )),
    ));
    rows.iter()
        .enumerate()
        .map(|(n, (offset, ip, place, failure))| {
            let (code, reason) = failure.unwrap_or((0, ""));
            json!({
                "id": inc.id(n),
                "createdDateTime": inc.stamp(*offset),
                "userDisplayName": text(user, "displayName"),
                "userPrincipalName": user.upn(),
                "userId": user.id(),
                "appId": "00000002-0000-0ff1-ce00-000000000000",
                "appDisplayName": "Office 365 Exchange Online",
                "ipAddress": ip,
                "clientAppUsed": "Browser",
                "correlationId": inc.id(n + 10),
                "conditionalAccessStatus": "notApplied",
                "isInteractive": true,
                "riskDetail": "none",
                "riskLevelAggregated": "none",
                "riskLevelDuringSignIn": "medium",
                "riskState": "none",
                "riskEventTypes": [],
                "resourceDisplayName": "Office 365 Exchange Online",
                "resourceId": "00000002-0000-0ff1-ce00-000000000000",
                "status": {
                    "errorCode": code,
                    "failureReason": if reason.is_empty() { Value::Null } else { json!(reason) },
                    "additionalDetails": if code == 0 { Value::Null } else { json!("The user did not complete the sign-in.") },
                },
                "deviceDetail": {"deviceId": "", "displayName": null, "operatingSystem": "Windows10", "browser": "Chrome 131.0.0", "isCompliant": null, "isManaged": null, "trustType": null},
                "location": {
                    "city": place.0,
                    "state": place.1,
                    "countryOrRegion": place.2,
                    "geoCoordinates": {"altitude": null, "latitude": place.3, "longitude": place.4},
                },
                "mfaDetail": if code == 0 { json!({"authMethod": "Mobile app notification", "authDetail": null}) } else { Value::Null },
                "appliedConditionalAccessPolicies": [],
            })
        })
        .collect()
}

/// One planted unified-audit-log record before numbering.
pub(crate) struct AuditRecord {
    pub when: i64,
    /// The acting user's UPN and object id (what `UserIds` matches).
    pub actor: String,
    pub actor_id: String,
    pub record: Value,
}

fn params(pairs: &[(&str, String)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"Name": k, "Value": v}))
            .collect(),
    )
}

/// The incident's records beyond sign-ins: rule, safelist, sharing and permission changes.
pub(crate) fn audit_records(inc: &Incident, admin_id: &str) -> Vec<AuditRecord> {
    let mut out = Vec::new();
    let exchange = |n: usize,
                    offset: i64,
                    operation: &str,
                    actor: (&str, &str),
                    ip: String,
                    object: String,
                    parameters: Value| {
        let created = inc.stamp(offset);
        let audit = json!({
            "CreationTime": created.trim_end_matches('Z'),
            "Id": inc.id(20 + n),
            "Operation": operation,
            "OrganizationId": inc.tenant_id,
            "RecordType": 1,
            "ResultStatus": "True",
            "UserKey": actor.1,
            "UserType": if actor.0 == inc.upn { 0 } else { 2 },
            "Version": 1,
            "Workload": "Exchange",
            "ClientIP": ip,
            "UserId": actor.0,
            "AppId": "",
            "ExternalAccess": false,
            "ObjectId": object,
            "MailboxOwnerUPN": inc.upn,
            "OrganizationName": inc.tenant_id,
            "OriginatingServer": "AM6PR06MB1234 (15.20.8207.017)",
            "Parameters": parameters,
            "SessionId": inc.id(40),
        });
        AuditRecord {
            when: inc.time(offset),
            actor: actor.0.to_owned(),
            actor_id: actor.1.to_owned(),
            record: json!({
                "RecordType": "ExchangeAdmin",
                "CreationDate": created,
                "UserIds": actor.0,
                "Operations": operation,
                "AuditData": audit.to_string(),
                "ResultIndex": 0,
                "ResultCount": 0,
                "Identity": inc.id(20 + n),
            }),
        }
    };
    let me = (inc.upn.as_str(), inc.user_id.as_str());
    let attacker = |port: u32| format!("{ATTACKER_IP}:{port}");
    let rule_object = |name: &str| format!("{}\\{name}", inc.alias);
    out.push(exchange(
        0,
        at::NEW_RULE,
        "New-InboxRule",
        me,
        attacker(51234),
        rule_object(RULE_NAME),
        params(&[
            ("Mailbox", inc.upn.clone()),
            ("Name", RULE_NAME.to_owned()),
            ("SubjectOrBodyContainsWords", "invoice;payment".to_owned()),
            ("MoveToFolder", "RSS Feeds".to_owned()),
            ("MarkAsRead", "True".to_owned()),
            ("StopProcessingRules", "True".to_owned()),
            ("AlwaysDeleteOutlookRulesBlob", "True".to_owned()),
            ("Force", "True".to_owned()),
        ]),
    ));
    out.push(exchange(
        1,
        at::SET_RULE,
        "Set-InboxRule",
        me,
        attacker(51236),
        rule_object(RULE_NAME),
        params(&[
            ("Identity", format!("{}\\{}", inc.alias, inc.rule_id)),
            ("MarkAsRead", "True".to_owned()),
            ("StopProcessingRules", "True".to_owned()),
            ("Force", "True".to_owned()),
        ]),
    ));
    out.push(exchange(
        2,
        at::JUNK,
        "Set-MailboxJunkEmailConfiguration",
        me,
        attacker(51240),
        inc.upn.clone(),
        params(&[
            ("Identity", inc.upn.clone()),
            ("TrustedSendersAndDomains", TRUSTED_SENDER.to_owned()),
        ]),
    ));
    out.push(exchange(
        3,
        at::NEW_DELETE_RULE,
        "New-InboxRule",
        me,
        attacker(51251),
        rule_object(DELETED_RULE_NAME),
        params(&[
            ("Mailbox", inc.upn.clone()),
            ("Name", DELETED_RULE_NAME.to_owned()),
            ("From", TRUSTED_SENDER.to_owned()),
            ("DeleteMessage", "True".to_owned()),
            ("StopProcessingRules", "True".to_owned()),
        ]),
    ));
    out.push(exchange(
        4,
        at::REMOVE_DELETE_RULE,
        "Remove-InboxRule",
        me,
        attacker(50877),
        rule_object(DELETED_RULE_NAME),
        params(&[
            (
                "Identity",
                format!("{}\\{}", inc.alias, inc.deleted_rule_id),
            ),
            ("AlwaysDeleteOutlookRulesBlob", "True".to_owned()),
            ("Confirm", "False".to_owned()),
        ]),
    ));
    out.push(exchange(
        5,
        at::PERMISSION,
        "Add-MailboxPermission",
        (inc.admin_upn.as_str(), admin_id),
        format!("{OFFICE_IP}:44321"),
        inc.upn.clone(),
        params(&[
            ("Identity", inc.upn.clone()),
            ("User", inc.trustee_upn.clone()),
            ("AccessRights", "FullAccess".to_owned()),
            ("InheritanceType", "All".to_owned()),
            ("AutoMapping", "False".to_owned()),
        ]),
    ));
    for (n, operation, offset) in [
        (6, "AnonymousLinkCreated", at::SHARING),
        (7, "SharingSet", at::SHARING + 4),
    ] {
        let created = inc.stamp(offset);
        let item = format!("{}/Documents/{SHARED_FILE}", inc.onedrive_url);
        let audit = json!({
            "CreationTime": created.trim_end_matches('Z'),
            "Id": inc.id(20 + n),
            "Operation": operation,
            "OrganizationId": inc.tenant_id,
            "RecordType": 14,
            "UserKey": format!("i:0h.f|membership|{}@live.com", inc.user_id.replace('-', "")),
            "UserType": 0,
            "Version": 1,
            "Workload": "OneDrive",
            "ClientIP": ATTACKER_IP,
            "UserId": inc.upn,
            "ObjectId": item,
            "ItemType": "File",
            "SiteUrl": format!("{}/", inc.onedrive_url),
            "SourceRelativeUrl": "Documents",
            "SourceFileName": SHARED_FILE,
            "SourceFileExtension": "xlsx",
            "TargetUserOrGroupName": "Anyone",
            "TargetUserOrGroupType": "SharingLink",
            "EventData": if operation == "AnonymousLinkCreated" { "<Type>View</Type>" } else { "<PermissionsGranted>Read</PermissionsGranted>" },
            "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        });
        out.push(AuditRecord {
            when: inc.time(offset),
            actor: inc.upn.clone(),
            actor_id: inc.user_id.clone(),
            record: json!({
                "RecordType": "SharePointSharingOperation",
                "CreationDate": created,
                "UserIds": inc.upn,
                "Operations": operation,
                "AuditData": audit.to_string(),
                "ResultIndex": 0,
                "ResultCount": 0,
                "Identity": inc.id(20 + n),
            }),
        });
    }
    out
}
