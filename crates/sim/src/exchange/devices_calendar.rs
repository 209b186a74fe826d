//! Mobile devices (Exchange ActiveSync partnerships), Calendar and Contacts folder permissions
//! and the meetings a mailbox organises: what offboarding's "Remove all mobile devices", "Cancel all
//! calendar invites" and "Remove user's calendar permissions" change, read back through
//! `Get-MobileDevice`, `Get-MailboxFolderPermission` and Graph's `/users/{id}/events`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::cmdlets::{Cx, change, done, one, paginate, recipient, view};
use super::mailbox::{Ace, Kind, other_user, str_at};
use super::{Answer, ExoError};
use crate::state::UserStore;
use crate::user::{User, idx};

#[derive(Debug, Clone)]
pub(crate) struct MobileDevice {
    pub guid: String,
    pub device_id: String,
    pub device_type: &'static str,
    pub model: &'static str,
    pub os: &'static str,
    pub friendly_name: String,
    /// Days before the seeding day that the device first synced.
    pub first_sync_days_ago: i64,
    /// When a wipe was asked for (Unix seconds) and whether it was account-only.
    pub wipe: Option<(i64, bool)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Meeting {
    pub id: String,
    pub subject: String,
    /// Unix seconds.
    pub start: i64,
    pub minutes: i64,
    /// Attendee UPNs.
    pub attendees: Vec<String>,
    pub cancelled: bool,
}

const DEVICES: &[(&str, &str, &str)] = &[
    ("iPhone", "iPhone15C3", "iOS 18.1 22B83"),
    ("iPad", "iPad13C1", "iOS 17.6 21G80"),
    ("Outlook", "Outlook for Android", "Android 14.0.0"),
    ("Android", "SM-S921B", "Android 14"),
];
const SUBJECTS: &[&str] = &[
    "Weekly sync",
    "Project review",
    "1:1",
    "Quarterly planning",
    "Customer call",
];
const DAY: i64 = 86_400;

/// Today's midnight (UTC), so seeded meetings stay in the future whenever the simulator runs.
fn today() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    now - now.rem_euclid(DAY)
}

/// The seeded devices, calendar delegates and organised meetings of a mailbox. Drawn from
/// their own random stream so the rest of the mailbox stays as it was seeded before.
pub(crate) fn derive(
    r: &mut ChaCha8Rng,
    user: &User,
    store: &UserStore,
    kind: Kind,
) -> (Vec<MobileDevice>, Vec<Ace>, Vec<Meeting>) {
    let id = user.id();
    let given = str_at(user, "givenName");
    let mut devices = Vec::new();
    if kind == Kind::User && r.random_bool(0.6) {
        for _ in 0..r.random_range(1..=2) {
            let (device_type, model, os) = DEVICES[r.random_range(0..DEVICES.len())];
            let device_id: String = (0..32)
                .map(|_| char::from(b"0123456789ABCDEF"[r.random_range(0..16)]))
                .collect();
            devices.push(MobileDevice {
                guid: crate::seed::guid(r),
                device_id,
                device_type,
                model,
                os,
                friendly_name: format!("{given}'s {device_type}"),
                first_sync_days_ago: r.random_range(10..700),
                wipe: None,
            });
        }
    }
    let mut acl = Vec::new();
    if kind != Kind::Equipment && r.random_bool(0.35) {
        for _ in 0..r.random_range(1..=2) {
            if let Some(u) = other_user(r, store, id)
                && !acl.iter().any(|a: &Ace| a.user == u.upn())
            {
                let rights = if r.random_bool(0.5) {
                    "Reviewer"
                } else {
                    "Editor"
                };
                acl.push(Ace {
                    user: u.upn().to_owned(),
                    rights: vec![rights.to_owned()],
                });
            }
        }
    }
    let mut meetings = Vec::new();
    if kind == Kind::User && r.random_bool(0.5) {
        let today = today();
        // Mostly ahead (cancelled by offboarding), one behind (history, left alone).
        for offset in [
            -r.random_range(3..30),
            r.random_range(1..60),
            r.random_range(60..400),
        ] {
            let attendees = (0..r.random_range(1..=3))
                .filter_map(|_| other_user(r, store, id).map(|u| u.upn().to_owned()))
                .collect();
            meetings.push(Meeting {
                id: crate::seed::guid(r),
                subject: SUBJECTS[r.random_range(0..SUBJECTS.len())].to_owned(),
                start: today + offset * DAY + r.random_range(8..17) * 3600,
                minutes: 30 * r.random_range(1..=4),
                attendees,
                cancelled: false,
            });
        }
    }
    (devices, acl, meetings)
}

fn iso(unix: i64) -> String {
    crate::seed::timestamp(unix)
}

fn device_object(alias: &str, display: &str, d: &MobileDevice) -> Value {
    json!({
        "Identity": device_identity(alias, d),
        "Guid": d.guid,
        "DeviceId": d.device_id,
        "DeviceType": d.device_type,
        "DeviceModel": d.model,
        "DeviceOS": d.os,
        "FriendlyName": d.friendly_name,
        "DeviceAccessState": "Allowed",
        "DeviceAccessStateReason": "Global",
        "ClientType": "EAS",
        "FirstSyncTime": iso(today() - d.first_sync_days_ago * DAY),
        "UserDisplayName": display,
        "IsManaged": false,
        "IsCompliant": false,
        "DeviceWipeRequestTime": d.wipe.filter(|w| !w.1).map(|w| iso(w.0)),
        "AccountOnlyDeviceWipeRequestTime": d.wipe.filter(|w| w.1).map(|w| iso(w.0)),
    })
}

fn device_identity(alias: &str, d: &MobileDevice) -> String {
    format!(
        "{alias}\\ExchangeActiveSyncDevices\\{}\u{a7}{}",
        d.device_type, d.device_id
    )
}

/// `Get-MobileDevice [-Mailbox <identity>]`: one mailbox's devices, or every device in the
/// tenant.
pub(crate) fn get_mobile_devices(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Mailbox", "Identity", "ResultSize"])?;
    let key = cx
        .params
        .text("Mailbox")
        .or_else(|| cx.params.text("Identity"));
    let items = match key {
        Some(key) => view(cx, &key, |_, u, m| {
            let alias = str_at(u, "mailNickname");
            let display = str_at(u, "displayName");
            Ok(m.mobile_devices
                .iter()
                .map(|d| device_object(alias, display, d))
                .collect())
        })?,
        None => {
            let mut all = Vec::new();
            for (u, m) in super::cmdlets::every_mailbox(cx) {
                let alias = str_at(&u, "mailNickname");
                let display = str_at(&u, "displayName");
                all.extend(
                    m.mobile_devices
                        .iter()
                        .map(|d| device_object(alias, display, d)),
                );
            }
            all
        }
    };
    Ok(paginate(items, &cx.page))
}

/// `Remove-MobileDevice -Identity <identity or Guid>`.
pub(crate) fn remove_mobile_device(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "Confirm"])?;
    edit_device(cx, None)
}

/// `Clear-MobileDevice -Identity <identity or Guid> [-AccountOnly]`: the wipe is recorded on the
/// device (its partnership stays).
pub(crate) fn clear_mobile_device(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&[
        "Identity",
        "AccountOnly",
        "Confirm",
        "NotificationEmailAddresses",
    ])?;
    let account_only = cx.params.flag("AccountOnly")? == Some(true);
    edit_device(cx, Some(account_only))
}

/// Removes the device (`wipe` None) or records a wipe on it.
fn edit_device(cx: &Cx<'_>, wipe: Option<bool>) -> Result<Answer, ExoError> {
    let identity = cx.params.required("Identity")?;
    // An identity names its mailbox before the first backslash; a Guid names only the device.
    let owner = match identity.split_once('\\') {
        Some((alias, _)) => Some(alias.to_owned()),
        None => super::cmdlets::every_mailbox(cx)
            .into_iter()
            .find(|(_, m)| {
                m.mobile_devices
                    .iter()
                    .any(|d| d.guid.eq_ignore_ascii_case(&identity))
            })
            .map(|(u, _)| u.upn().to_owned()),
    };
    let owner = owner.ok_or_else(|| ExoError::not_found(&identity, cx.server))?;
    change(cx, &owner, |u, m| {
        let alias = str_at(u, "mailNickname").to_owned();
        let at = m
            .mobile_devices
            .iter()
            .position(|d| {
                d.guid.eq_ignore_ascii_case(&identity)
                    || device_identity(&alias, d).eq_ignore_ascii_case(&identity)
            })
            .ok_or_else(|| ExoError::not_found(&identity, cx.server))?;
        match wipe {
            None => {
                m.mobile_devices.remove(at);
            }
            Some(account_only) => {
                m.mobile_devices[at].wipe = Some((
                    time::OffsetDateTime::now_utc().unix_timestamp(),
                    account_only,
                ));
            }
        }
        Ok(done(Vec::new()))
    })
}

/// `Remove-CalendarEvents -Identity <mailbox> -CancelOrganizedMeetings -QueryWindowInDays <n>
/// [-QueryStartDate <date>]`: cancels the meetings the mailbox organises that start inside
/// the window (from today unless a start date is given).
pub(crate) fn remove_calendar_events(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&[
        "Identity",
        "CancelOrganizedMeetings",
        "QueryWindowInDays",
        "QueryStartDate",
        "PreviewOnly",
        "Confirm",
    ])?;
    let identity = cx.params.required("Identity")?;
    if cx.params.flag("CancelOrganizedMeetings")? != Some(true) {
        return Err(ExoError::task(
            "Specify the CancelOrganizedMeetings parameter to cancel the meetings this mailbox organises.",
        ));
    }
    let window = match cx.params.get("QueryWindowInDays") {
        None => 180,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|d| (1..=1825).contains(d))
            .ok_or_else(|| ExoError::bad_value("QueryWindowInDays", v))?,
    };
    let start = match cx.params.text("QueryStartDate") {
        None => today(),
        Some(text) => {
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp())
                .map_err(|_| ExoError::bad_value("QueryStartDate", &json!(text)))?
        }
    };
    let preview = cx.params.flag("PreviewOnly")? == Some(true);
    change(cx, &identity, |_, m| {
        let mut cancelled = Vec::new();
        for meeting in m
            .meetings
            .iter_mut()
            .filter(|x| !x.cancelled && x.start >= start && x.start < start + window * DAY)
        {
            if !preview {
                meeting.cancelled = true;
            }
            cancelled.push(json!({"Subject": meeting.subject, "Start": iso(meeting.start)}));
        }
        Ok(if preview {
            Answer {
                items: cancelled,
                ..Answer::default()
            }
        } else {
            done(Vec::new())
        })
    })
}

/// The two folders whose permissions are simulated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Folder {
    Calendar,
    Contacts,
}

impl Folder {
    fn parse(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("Calendar") {
            Some(Self::Calendar)
        } else if name.eq_ignore_ascii_case("Contacts") {
            Some(Self::Contacts)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Calendar => "Calendar",
            Self::Contacts => "Contacts",
        }
    }

    /// What `Default` may do before anyone changed it.
    fn default_rights(self) -> &'static str {
        match self {
            Self::Calendar => "AvailabilityOnly",
            Self::Contacts => "None",
        }
    }

    fn acl(self, m: &super::mailbox::Mailbox) -> &Vec<Ace> {
        match self {
            Self::Calendar => &m.calendar_acl,
            Self::Contacts => &m.contacts_acl,
        }
    }

    fn acl_mut(self, m: &mut super::mailbox::Mailbox) -> &mut Vec<Ace> {
        match self {
            Self::Calendar => &mut m.calendar_acl,
            Self::Contacts => &mut m.contacts_acl,
        }
    }
}

/// `Get-MailboxFolderStatistics -Identity <mailbox> -FolderScope Calendar|Contacts`: that
/// folder (only those two scopes are simulated).
pub(crate) fn get_folder_statistics(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "FolderScope"])?;
    let identity = cx.params.required("Identity")?;
    let scope = cx.params.text("FolderScope").unwrap_or_default();
    let folder =
        Folder::parse(&scope).ok_or_else(|| ExoError::bad_value("FolderScope", &json!(scope)))?;
    let items = view(cx, &identity, |_, u, m| {
        let alias = str_at(u, "mailNickname");
        let name = folder.name();
        Ok(vec![json!({
            "Identity": format!("{alias}\\{name}"),
            "Name": name,
            "FolderPath": format!("/{name}"),
            "FolderType": name,
            "FolderId": format!("LgAAAAC{}{}", m.guid.replace('-', ""), name.len()),
            "ItemsInFolder": if folder == Folder::Calendar { m.meetings.len() } else { 0 },
        })])
    })?;
    Ok(paginate(items, &cx.page))
}

/// `{mailbox}:\Calendar` or `{mailbox}:\Contacts` → (mailbox, folder).
fn folder_identity(identity: &str) -> Result<(&str, Folder), ExoError> {
    let (mailbox, folder) = identity
        .split_once(":\\")
        .ok_or_else(|| ExoError::bad_value("Identity", &json!(identity)))?;
    let folder = Folder::parse(folder).ok_or_else(|| {
        ExoError::task(format!(
            "The specified folder '{folder}' could not be found in the mailbox '{mailbox}'. Only the Calendar and Contacts folders are simulated."
        ))
    })?;
    Ok((mailbox, folder))
}

fn folder_entry(identity: &str, folder: Folder, display: &str, rights: &[String]) -> Value {
    json!({
        "Identity": identity,
        "FolderName": folder.name(),
        "User": display,
        "AccessRights@odata.type": "#Collection(String)",
        "AccessRights": rights,
        "SharingPermissionFlags": null,
        "IsValid": true,
    })
}

/// The display name Exchange shows for a trustee UPN (the UPN when the user is gone).
fn display_of(store: &UserStore, upn: &str) -> String {
    store
        .find_seq(upn)
        .and_then(|seq| store.live.get(&seq))
        .map_or_else(|| upn.to_owned(), |u| str_at(u, "displayName").to_owned())
}

/// Whether `who` (a display name, UPN, alias or address) names the trustee `upn`.
fn names(store: &UserStore, upn: &str, who: &str) -> bool {
    upn.eq_ignore_ascii_case(who)
        || store
            .find_seq(upn)
            .and_then(|seq| store.live.get(&seq))
            .is_some_and(|u| {
                str_at(u, "displayName").eq_ignore_ascii_case(who)
                    || str_at(u, "mailNickname").eq_ignore_ascii_case(who)
                    || u.get(idx::MAIL)
                        .as_str()
                        .is_some_and(|m| m.eq_ignore_ascii_case(who))
            })
}

/// `Get-MailboxFolderPermission -Identity <mailbox>:\Calendar [-User <who>]`.
pub(crate) fn get_folder_permissions(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&["Identity", "User"])?;
    let identity = cx.params.required("Identity")?;
    let (mailbox, folder) = folder_identity(&identity)?;
    let only = cx.params.text("User");
    let items = view(cx, mailbox, |store, u, m| {
        let shown = format!("{}:\\{}", str_at(u, "mailNickname"), folder.name());
        let mut out = vec![
            folder_entry(
                &shown,
                folder,
                "Default",
                &[folder.default_rights().to_owned()],
            ),
            folder_entry(&shown, folder, "Anonymous", &["None".to_owned()]),
        ];
        for ace in folder.acl(m) {
            if only
                .as_deref()
                .is_none_or(|who| names(store, &ace.user, who))
            {
                out.push(folder_entry(
                    &shown,
                    folder,
                    &display_of(store, &ace.user),
                    &ace.rights,
                ));
            }
        }
        if let Some(who) = &only {
            out.retain(|e| {
                e["User"] != "Default" && e["User"] != "Anonymous"
                    || e["User"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(who))
            });
        }
        Ok(out)
    })?;
    Ok(paginate(items, &cx.page))
}

const FOLDER_RIGHTS: &[&str] = &[
    "None",
    "AvailabilityOnly",
    "LimitedDetails",
    "Reviewer",
    "Contributor",
    "NonEditingAuthor",
    "Author",
    "PublishingAuthor",
    "Editor",
    "PublishingEditor",
    "Owner",
];

fn folder_rights(cx: &Cx<'_>) -> Result<Vec<String>, ExoError> {
    let value = cx
        .params
        .get("AccessRights")
        .ok_or_else(|| ExoError::missing("AccessRights"))?;
    let list: Vec<String> = match value {
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => s.split(',').map(|x| x.trim().to_owned()).collect(),
        _ => Vec::new(),
    };
    if list.is_empty() {
        return Err(ExoError::bad_value("AccessRights", value));
    }
    list.iter()
        .map(|r| {
            FOLDER_RIGHTS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(r))
                .map(|k| (*k).to_owned())
                .ok_or_else(|| ExoError::bad_value("AccessRights", &json!(r)))
        })
        .collect()
}

fn edit_folder(cx: &Cx<'_>, mode: FolderEdit) -> Result<Answer, ExoError> {
    let allowed: &[&str] = match mode {
        FolderEdit::Remove => &["Identity", "User", "Confirm"],
        _ => &[
            "Identity",
            "User",
            "AccessRights",
            "SharingPermissionFlags",
            "SendNotificationToUser",
        ],
    };
    cx.params.only(allowed)?;
    let identity = cx.params.required("Identity")?;
    let (mailbox, folder) = folder_identity(&identity)?;
    let who = cx.params.required("User")?;
    let rights = match mode {
        FolderEdit::Remove => Vec::new(),
        _ => folder_rights(cx)?,
    };
    // The trustee as a directory user, when it is one; Remove also accepts any stored name.
    let trustee = recipient(cx, &who).ok().map(|(_, upn)| upn);
    let store_names = |m: &super::mailbox::Mailbox, store: &UserStore| {
        folder.acl(m).iter().position(|a| {
            trustee
                .as_deref()
                .is_some_and(|t| a.user.eq_ignore_ascii_case(t))
                || names(store, &a.user, &who)
        })
    };
    let found = view(cx, mailbox, |store, _, m| Ok(store_names(m, store)))?;
    let display = {
        let store = cx.tenant.users.read();
        trustee.as_deref().map(|t| display_of(&store, t))
    };
    change(cx, mailbox, |u, m| {
        let shown = format!("{}:\\{}", str_at(u, "mailNickname"), folder.name());
        match (mode, found) {
            (FolderEdit::Add, Some(_)) => Err(ExoError::task(format!(
                "An existing permission entry was found for user: {}.",
                display.as_deref().unwrap_or(&who)
            ))),
            (FolderEdit::Add, None) => {
                let upn = trustee
                    .clone()
                    .ok_or_else(|| ExoError::not_found(&who, cx.server))?;
                folder.acl_mut(m).push(Ace {
                    user: upn,
                    rights: rights.clone(),
                });
                Ok(one(folder_entry(
                    &shown,
                    folder,
                    display.as_deref().unwrap_or(&who),
                    &rights,
                )))
            }
            (FolderEdit::Set, Some(at)) => {
                folder.acl_mut(m)[at].rights = rights.clone();
                Ok(done(Vec::new()))
            }
            (FolderEdit::Remove, Some(at)) => {
                folder.acl_mut(m).remove(at);
                Ok(done(Vec::new()))
            }
            (FolderEdit::Set | FolderEdit::Remove, None) => Err(ExoError::task(format!(
                "There is no existing permission entry found for user: {}.",
                display.as_deref().unwrap_or(&who)
            ))),
        }
    })
}

#[derive(Clone, Copy)]
enum FolderEdit {
    Add,
    Set,
    Remove,
}

pub(crate) fn add_folder_permission(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    edit_folder(cx, FolderEdit::Add)
}

pub(crate) fn set_folder_permission(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    edit_folder(cx, FolderEdit::Set)
}

pub(crate) fn remove_folder_permission(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    edit_folder(cx, FolderEdit::Remove)
}

/// Graph's `/users/{id}/events`: the meetings a mailbox organises that are not cancelled
/// (a cancelled meeting leaves the organiser's calendar).
pub(crate) fn graph_events(m: &super::mailbox::Mailbox, organizer: &str, name: &str) -> Vec<Value> {
    m.meetings
        .iter()
        .filter(|x| !x.cancelled)
        .map(|x| {
            json!({
                "id": x.id,
                "subject": x.subject,
                "isCancelled": false,
                "isOrganizer": true,
                "start": {"dateTime": format!("{}.0000000", iso(x.start).trim_end_matches('Z')), "timeZone": "UTC"},
                "end": {"dateTime": format!("{}.0000000", iso(x.start + x.minutes * 60).trim_end_matches('Z')), "timeZone": "UTC"},
                "organizer": {"emailAddress": {"name": name, "address": organizer}},
                "attendees": x.attendees.iter().map(|a| json!({
                    "type": "required",
                    "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                    "emailAddress": {"address": a},
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}
