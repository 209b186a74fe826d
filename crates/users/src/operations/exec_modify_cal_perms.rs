//! `ExecModifyCalPerms` (CIPP-API `Invoke-ExecModifyCalPerms.ps1`): adds or removes people's
//! rights on a mailbox's calendar, as the user page's calendar panel posts them.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::error::ErrorKind;
use crate::calendar_permissions::{CalendarChange, change_calendar_permission};
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecModifyCalPerms;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox whose calendar changes: its user principal name or object id.
    #[serde(rename = "userID")]
    pub user_id: UserId,
    /// The changes (a list, or an object keyed "0", "1", … as the off-canvas posts it).
    #[serde(rename = "permissions")]
    pub permissions: Vec<CalendarPermission>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CalendarPermission {
    /// Who: user principal names or addresses (`{label, value}` accepted), or the `User` the
    /// list shows (a display name) when removing.
    #[serde(rename = "UserID")]
    pub user_id: Vec<String>,
    /// The rights to give (`Reviewer`, `Editor`, …; `{label, value}` accepted). Not needed to remove.
    #[serde(rename = "PermissionLevel")]
    pub permission_level: Option<String>,
    /// `Calendar` unless given (the calendar's localised name).
    #[serde(rename = "FolderName")]
    pub folder_name: Option<String>,
    /// `Add` or `Remove`.
    #[serde(rename = "Modification")]
    pub modification: Modification,
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

impl Operation for ExecModifyCalPerms {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecModifyCalPerms";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecModifyCalPerms.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "An `Add` without `PermissionLevel`, an unknown `Modification` or an empty `permissions` is a 400 naming it, before anything changes (CIPP: 500). Some changes failing is a 207 with every line; all failing is Exchange's status with the lines (CIPP: 500 either way). The mailbox is addressed by the id given, not looked up through Graph first.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userID": crate::demo::USER,
            "permissions": [{"UserID": [{"label": "Xavier Kowalski", "value": "xavier.kowalski@contoso.example"}],
                "PermissionLevel": {"label": "Reviewer", "value": "Reviewer"}, "FolderName": "Calendar",
                "Modification": "Add"}]})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        if params.permissions.is_empty() {
            return Err(UserError::invalid(
                "permissions",
                "permissions must list at least one change",
            ));
        }
        for p in &params.permissions {
            if p.modification == Modification::Add
                && p.permission_level.as_deref().is_none_or(|l| l.trim().is_empty())
            {
                return Err(UserError::invalid(
                    "PermissionLevel",
                    "PermissionLevel is required to add a permission",
                ));
            }
            if p.user_id.iter().all(|u| u.trim().is_empty()) {
                return Err(UserError::invalid("UserID", "each permission needs a UserID"));
            }
        }
        let tenant = ctx.tenant()?;
        let mailbox = params.user_id.as_str();
        let (mut lines, mut failures) = (Vec::new(), Vec::new());
        for p in &params.permissions {
            let folder = p
                .folder_name
                .as_deref()
                .filter(|f| !f.trim().is_empty())
                .unwrap_or("Calendar");
            for trustee in p.user_id.iter().filter(|u| !u.trim().is_empty()) {
                let change = match p.modification {
                    Modification::Remove => CalendarChange::Remove,
                    Modification::Add => CalendarChange::Grant {
                        rights: p.permission_level.as_deref().unwrap_or_default().trim(),
                        can_view_private_items: p.can_view_private_items,
                        notify: p.send_notification_to_user,
                    },
                };
                match change_calendar_permission(
                    &ctx.graph,
                    &tenant.customer_id,
                    mailbox,
                    folder,
                    trustee,
                    trustee,
                    change,
                )
                .await
                {
                    Ok(line) => lines.push(line),
                    Err(error) => {
                        lines.push(error.to_string());
                        failures.push(error);
                    }
                }
            }
        }
        if failures.len() == lines.len() {
            return Err(UserError::Answered {
                kind: ErrorKind::of_failure_texts(lines.iter().map(String::as_str)),
                message: lines.join(" | "),
                results: json!(lines),
            });
        }
        let partial = !failures.is_empty();
        Ok(Outcome::json(TextListResults::new(lines)).partial(partial))
    }
}
