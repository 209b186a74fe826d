//! `ListCalendarPermissions` (CIPP-API `Invoke-ListCalendarPermissions.ps1`): who has which
//! rights on a mailbox's calendar, read live from Exchange.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::folder_permissions::{FolderKind, list_folder_permissions};
use crate::op::types::{GraphRow, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListCalendarPermissions;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "UserID")]
    pub user_id: Option<UserId>,
    /// CIPP reads its reporting database instead when this is `true` and no `UserID` is given.
    #[serde(rename = "UseReportDB", default)]
    pub use_report_db: bool,
    /// With `UseReportDB`: the report grouped by user.
    #[serde(rename = "ByUser", default)]
    pub by_user: bool,
}

/// One entry per trustee: `Identity`, `User` (a display name, `Default` or `Anonymous`),
/// `AccessRights` (an array), `FolderName` and `MailboxInfo` (the mailbox as `Get-Mailbox` has it).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub struct CalendarPermissionRows(pub Vec<GraphRow>);

impl Operation for ListCalendarPermissions {
    type Params = Params;
    type Answer = CalendarPermissionRows;
    const NAME: &'static str = "ListCalendarPermissions";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListCalendarPermissions.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "`UseReportDB` without a `UserID` is a 400 (this service keeps no reporting database; every read is live). A mailbox Exchange does not know is a 404 and any other failure Exchange's status, with CIPP's text (CIPP: 403 for every failure).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserID": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<CalendarPermissionRows>, UserError> {
        let Some(user) = params.user_id else {
            return Err(if params.use_report_db {
                UserError::invalid(
                    "UseReportDB",
                    "this service keeps no reporting database; pass UserID to read a mailbox's calendar live",
                )
            } else {
                UserError::missing("UserID")
            });
        };
        let _ = params.by_user;
        let tenant = ctx.tenant()?;
        let rows = list_folder_permissions(
            &ctx.graph,
            &tenant.customer_id,
            FolderKind::Calendar,
            user.as_str(),
        )
        .await?;
        Ok(Outcome::json(CalendarPermissionRows(rows)))
    }
}
