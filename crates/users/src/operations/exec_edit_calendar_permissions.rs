//! `ExecEditCalendarPermissions` (CIPP-API `Invoke-ExecEditCalendarPermissions.ps1`): one
//! trustee's rights on a mailbox's calendar folder set, or removed with `RemoveAccess`.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::folder_permissions::{FolderChange, FolderKind, change_folder_permission, folder_role};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecEditCalendarPermissions;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox whose calendar changes: its user principal name or object id.
    #[serde(rename = "userid")]
    pub userid: UserId,
    /// The folder's name (`Calendar` unless the mailbox is localised).
    #[serde(rename = "FolderName")]
    pub folder_name: Option<String>,
    /// Who gets the rights (`{label, value}` accepted).
    #[serde(rename = "UserToGetPermissions")]
    pub user_to_get_permissions: Option<String>,
    /// The rights (`Reviewer`, `Editor`, …; `{label, value}` accepted).
    #[serde(rename = "Permissions")]
    pub permissions: Option<String>,
    /// Who loses their entry instead (`{label, value}` accepted).
    #[serde(rename = "RemoveAccess")]
    pub remove_access: Option<String>,
    #[serde(rename = "CanViewPrivateItems", default)]
    pub can_view_private_items: bool,
}

impl Operation for ExecEditCalendarPermissions {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecEditCalendarPermissions";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecEditCalendarPermissions.ps1",
        frontend: Some("src/components/CippFormPages/CippExchangeSettingsForm.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Neither `RemoveAccess` nor both `UserToGetPermissions` and `Permissions` is a 400 naming them (CIPP: 500 from Exchange). A failure is Exchange's status rather than always 500. `FolderName` defaults to `Calendar` (CIPP sends the folder as given, even empty).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userid": crate::demo::USER,
            "UserToGetPermissions": "xavier.kowalski@contoso.example", "Permissions": "Reviewer",
            "FolderName": "Calendar"})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let folder = given(&params.folder_name).unwrap_or_else(|| "Calendar".to_owned());
        let (trustee, change) = match (
            given(&params.remove_access),
            given(&params.user_to_get_permissions),
            given(&params.permissions),
        ) {
            (Some(removed), _, _) => (removed, None),
            (None, Some(user), Some(rights)) => (user, Some(folder_role("Permissions", &rights)?)),
            (None, None, _) => return Err(UserError::invalid(
                "UserToGetPermissions",
                "UserToGetPermissions (with Permissions) or RemoveAccess is required",
            )),
            (None, Some(_), None) => return Err(UserError::missing("Permissions")),
        };
        let change = match &change {
            None => FolderChange::Remove,
            Some(rights) => FolderChange::Grant {
                rights,
                can_view_private_items: params.can_view_private_items,
                notify: false,
            },
        };
        let tenant = ctx.tenant()?;
        let text = change_folder_permission(
            &ctx.graph,
            &tenant.customer_id,
            FolderKind::Calendar,
            params.userid.as_str(),
            &folder,
            &trustee,
            change,
        )
        .await?;
        Ok(Outcome::json(TextResults::new(text)))
    }
}
