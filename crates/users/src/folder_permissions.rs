//! Calendar and contact folder permissions (CIPP-API `Set-CIPPCalendarPermission`,
//! `Set-CIPPContactPermission`, and the live reads of `Invoke-ListCalendarPermissions` /
//! `Invoke-ListContactPermissions`): one trustee's rights on one mailbox folder set, added or
//! removed, with CIPP's texts. The calendar and contact operations are thin over this.

use cipp_graph::GraphClient;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::error::ErrorKind;
use crate::mailbox_reads::failed;
use crate::normalize::normalize_graph_error;
use crate::op::types::GraphRow;

/// Which folder: the texts and defaults differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    Calendar,
    Contacts,
}

impl FolderKind {
    /// `Get-MailboxFolderStatistics -FolderScope` and the default folder name.
    fn scope(self) -> &'static str {
        match self {
            Self::Calendar => "Calendar",
            Self::Contacts => "Contacts",
        }
    }

    /// How CIPP names the folder in its texts.
    fn noun(self) -> &'static str {
        match self {
            Self::Calendar => "calendar",
            Self::Contacts => "contact",
        }
    }
}

/// The roles a folder permission can give (what the user page offers).
pub const FOLDER_ROLES: [&str; 11] = [
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

/// `rights` as Exchange spells the role, or a 400 naming `field`.
pub fn folder_role(field: &str, rights: &str) -> Result<&'static str, UserError> {
    FOLDER_ROLES
        .iter()
        .find(|r| r.eq_ignore_ascii_case(rights.trim()))
        .copied()
        .ok_or_else(|| {
            UserError::invalid(
                field,
                format!(
                    "'{}' is not a folder permission; use one of {}",
                    rights.trim(),
                    FOLDER_ROLES.join(", ")
                ),
            )
        })
}

/// What to do to one trustee's entry on a folder.
pub enum FolderChange<'a> {
    /// Set (or add, when the trustee has no entry yet) `rights`.
    Grant {
        rights: &'a str,
        can_view_private_items: bool,
        notify: bool,
    },
    Remove,
}

/// Changes `trustee`'s entry on `mailbox`'s `folder`; `shown` names the trustee in the text.
pub async fn change_folder_permission(
    graph: &GraphClient,
    tenant: &str,
    kind: FolderKind,
    mailbox: &str,
    folder: &str,
    trustee: &str,
    change: FolderChange<'_>,
) -> Result<String, UserError> {
    let identity = format!("{mailbox}:\\{folder}");
    let noun = kind.noun();
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to set {noun} permissions for {trustee} on {mailbox} : {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    // CIPP's texts say "calendar X" but "contact folder X".
    let place = match kind {
        FolderKind::Calendar => "calendar",
        FolderKind::Contacts => "contact folder",
    };
    match change {
        FolderChange::Remove => {
            graph
                .exchange(
                    tenant,
                    "Remove-MailboxFolderPermission",
                    json!({"Identity": identity, "User": trustee, "Confirm": false}),
                    Some(mailbox),
                )
                .await
                .map_err(failed)?;
            Ok(format!(
                "Successfully removed access for {trustee} from {place} {identity}"
            ))
        }
        FolderChange::Grant {
            rights,
            can_view_private_items,
            notify,
        } => {
            let private = can_view_private_items && kind == FolderKind::Calendar;
            let mut parameters = json!({"Identity": identity, "User": trustee,
                "AccessRights": [rights], "SendNotificationToUser": notify});
            if private {
                parameters["SharingPermissionFlags"] = json!("Delegate,CanViewPrivateItems");
            }
            // Set changes an existing entry; Exchange refuses it for a trustee with none, then
            // Add creates it, as CIPP does.
            let set = graph
                .exchange(
                    tenant,
                    "Set-MailboxFolderPermission",
                    parameters.clone(),
                    Some(mailbox),
                )
                .await;
            if set.is_err() {
                graph
                    .exchange(
                        tenant,
                        "Add-MailboxFolderPermission",
                        parameters,
                        Some(mailbox),
                    )
                    .await
                    .map_err(failed)?;
            }
            let on = match kind {
                FolderKind::Calendar => "folder",
                FolderKind::Contacts => "contact folder",
            };
            let mut text = format!(
                "Successfully set permissions on {on} {identity}. The user {trustee} now has {rights} permissions on this folder."
            );
            if private {
                text.push_str(" The user can also view private items.");
            }
            if notify {
                text.push_str(" A notification has been sent to the user.");
            }
            Ok(text)
        }
    }
}

/// One change as the user page's permission panels post it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FolderPermissionChange {
    /// Who: user principal names or addresses (`{label, value}` accepted), or the `User` the
    /// list shows (a display name) when removing.
    #[serde(rename = "UserID")]
    pub user_id: Vec<String>,
    /// The rights to give (`Reviewer`, `Editor`, …; `{label, value}` accepted). Not needed to remove.
    #[serde(rename = "PermissionLevel")]
    pub permission_level: Option<String>,
    /// The folder's name (`Calendar` / `Contacts` unless the mailbox is localised).
    #[serde(rename = "FolderName")]
    pub folder_name: Option<String>,
    /// `Add` or `Remove`.
    #[serde(rename = "Modification")]
    pub modification: Modification,
    /// Calendar only: the trustee also sees private items.
    #[serde(rename = "CanViewPrivateItems", default)]
    pub can_view_private_items: bool,
    #[serde(rename = "SendNotificationToUser", default)]
    pub send_notification_to_user: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum Modification {
    Add,
    Remove,
}

/// Every change of `changes` on `mailbox`, one line each: checked first (a 400 before anything
/// changes), then applied in order. Some failing is `(lines, true)`; all failing is an error
/// carrying the lines.
pub async fn modify_folder_permissions(
    graph: &GraphClient,
    tenant: &str,
    kind: FolderKind,
    mailbox: &str,
    changes: &[FolderPermissionChange],
) -> Result<(Vec<String>, bool), UserError> {
    if changes.is_empty() {
        return Err(UserError::invalid(
            "permissions",
            "permissions must list at least one change",
        ));
    }
    for c in changes {
        if c.modification == Modification::Add {
            match c.permission_level.as_deref().map(str::trim) {
                None | Some("") => {
                    return Err(UserError::invalid(
                        "PermissionLevel",
                        "PermissionLevel is required to add a permission",
                    ));
                }
                Some(level) => {
                    folder_role("PermissionLevel", level)?;
                }
            }
        }
        if c.user_id.iter().all(|u| u.trim().is_empty()) {
            return Err(UserError::invalid(
                "UserID",
                "each permission needs a UserID",
            ));
        }
    }
    let (mut lines, mut failures) = (Vec::new(), 0usize);
    for c in changes {
        let folder = c
            .folder_name
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .unwrap_or(kind.scope());
        for trustee in c.user_id.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            let change = match c.modification {
                Modification::Remove => FolderChange::Remove,
                Modification::Add => FolderChange::Grant {
                    rights: folder_role(
                        "PermissionLevel",
                        c.permission_level.as_deref().unwrap_or_default(),
                    )?,
                    can_view_private_items: c.can_view_private_items,
                    notify: c.send_notification_to_user,
                },
            };
            match change_folder_permission(graph, tenant, kind, mailbox, folder, trustee, change)
                .await
            {
                Ok(line) => lines.push(line),
                Err(error) => {
                    lines.push(error.to_string());
                    failures += 1;
                }
            }
        }
    }
    if failures == lines.len() {
        return Err(UserError::Answered {
            kind: ErrorKind::of_failure_texts(lines.iter().map(String::as_str)),
            message: lines.join(" | "),
            results: json!(lines),
        });
    }
    Ok((lines, failures > 0))
}

/// A mailbox folder's entries, live: `Identity`, `User`, `AccessRights` (always an array),
/// `FolderName` and `MailboxInfo` (the mailbox as `Get-Mailbox` has it).
pub async fn list_folder_permissions(
    graph: &GraphClient,
    tenant: &str,
    kind: FolderKind,
    user: &str,
) -> Result<Vec<GraphRow>, UserError> {
    let fail = |e| {
        failed(
            format!("Failed to list {} permissions for {user}", kind.noun()),
            e,
        )
    };
    // The folder's name is localised ("Kalender"): Exchange finds it by its scope.
    let folders = graph
        .exchange(
            tenant,
            "Get-MailboxFolderStatistics",
            json!({"Identity": user, "FolderScope": kind.scope()}),
            Some(user),
        )
        .await
        .map_err(fail)?;
    let folder = folders
        .first()
        .and_then(|f| f.get("Name"))
        .and_then(Value::as_str)
        .unwrap_or(kind.scope())
        .to_owned();
    let mailbox = graph
        .exchange(tenant, "Get-Mailbox", json!({"Identity": user}), Some(user))
        .await
        .map_err(fail)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    let entries = graph
        .exchange(
            tenant,
            "Get-MailboxFolderPermission",
            json!({"Identity": format!("{user}:\\{folder}")}),
            Some(user),
        )
        .await
        .map_err(fail)?;
    Ok(entries.iter().map(|e| row(e, &mailbox)).collect())
}

/// CIPP's selection of an entry's fields, with the mailbox beside it.
fn row(entry: &Value, mailbox: &Value) -> GraphRow {
    let mut out = Map::new();
    for key in ["Identity", "User", "AccessRights", "FolderName"] {
        out.insert(
            key.to_owned(),
            entry.get(key).cloned().unwrap_or(Value::Null),
        );
    }
    if !out["AccessRights"].is_array() {
        // The calendar panel calls `.join` on it.
        let single = out["AccessRights"].take();
        out["AccessRights"] = Value::Array(if single.is_null() {
            vec![]
        } else {
            vec![single]
        });
    }
    out.insert("MailboxInfo".to_owned(), mailbox.clone());
    GraphRow(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_rights_are_always_an_array() {
        let row = row(
            &json!({"User": "Default", "AccessRights": "AvailabilityOnly"}),
            &json!({}),
        );
        assert_eq!(row.0["AccessRights"], json!(["AvailabilityOnly"]));
    }
}
