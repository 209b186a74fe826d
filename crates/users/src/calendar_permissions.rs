//! Calendar folder permissions (CIPP-API `Set-CIPPCalendarPermission`): one trustee's rights on
//! one mailbox's calendar set, added or removed, with CIPP's texts. ExecModifyCalPerms and
//! ExecEditCalendarPermissions both come here.

use cipp_graph::GraphClient;
use serde_json::json;

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// What to do to one trustee's entry on a calendar.
pub enum CalendarChange<'a> {
    /// Set (or add, when the trustee has no entry yet) `rights`.
    Grant {
        rights: &'a str,
        can_view_private_items: bool,
        notify: bool,
    },
    Remove,
}

/// Changes `trustee`'s entry on `mailbox`'s `folder`; `shown` names the trustee in the text.
pub async fn change_calendar_permission(
    graph: &GraphClient,
    tenant: &str,
    mailbox: &str,
    folder: &str,
    trustee: &str,
    shown: &str,
    change: CalendarChange<'_>,
) -> Result<String, UserError> {
    let identity = format!("{mailbox}:\\{folder}");
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to set calendar permissions for {shown} on {mailbox} : {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    match change {
        CalendarChange::Remove => {
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
                "Successfully removed access for {shown} from calendar {identity}"
            ))
        }
        CalendarChange::Grant {
            rights,
            can_view_private_items,
            notify,
        } => {
            let mut parameters = json!({"Identity": identity, "User": trustee,
                "AccessRights": [rights], "SendNotificationToUser": notify});
            if can_view_private_items {
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
            let mut text = format!(
                "Successfully set permissions on folder {identity}. The user {shown} now has {rights} permissions on this folder."
            );
            if can_view_private_items {
                text.push_str(" The user can also view private items.");
            }
            if notify {
                text.push_str(" A notification has been sent to the user.");
            }
            Ok(text)
        }
    }
}
