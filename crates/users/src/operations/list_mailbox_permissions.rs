//! `ListmailboxPermissions` (CIPP-API `Invoke-ListmailboxPermissions.ps1`): who holds which
//! rights on a mailbox (Full Access, Send As, Send on Behalf), or, with `UseReportDB`, the
//! tenant's mailbox permission report (by mailbox, or by the user holding the rights). The
//! user page's Exchange tab asks for the report `ByUser` for one `User`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_access::{mailbox_rows, permission_report};
use crate::op::types::{GraphRow, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListMailboxPermissions;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox whose permissions are read live (its UPN or object id).
    #[serde(rename = "userId")]
    pub user_id: Option<UserId>,
    /// Without `userId`: answer the tenant's permission report instead.
    #[serde(rename = "UseReportDB", default)]
    pub use_report_db: bool,
    /// With `UseReportDB`: group the report by the user holding the rights.
    #[serde(rename = "ByUser", default)]
    pub by_user: bool,
    /// With `UseReportDB` and `ByUser`: only this user's row (compared without case).
    #[serde(rename = "User")]
    pub user: Option<String>,
}

/// Live: `{User, Permissions}` per grant. Report: per mailbox `{MailboxUPN,
/// MailboxDisplayName, MailboxType, PermissionCount, Permissions[{User, AccessRights}], Tenant,
/// …}`, or by user `{User, UserMailboxType, MailboxCount, Permissions[{Mailbox, MailboxUPN,
/// AccessRights}], Tenant, …}`.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub struct MailboxPermissionRows(pub Vec<GraphRow>);

impl Operation for ListMailboxPermissions {
    type Params = Params;
    type Answer = MailboxPermissionRows;
    const NAME: &'static str = "ListmailboxPermissions";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListmailboxPermissions.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "This service keeps no reporting database, so `UseReportDB` builds CIPP's report from \
         live reads (`Get-Mailbox`, then `Get-MailboxPermission` per mailbox); both cache \
         timestamps are the time of that read. `AllTenants` is a 400. Neither `userId` nor \
         `UseReportDB` is a 400 naming `userId` (CIPP asks Exchange about an empty identity). A \
         failure keeps Exchange's status with CIPP's text (CIPP: 403 for every live failure, \
         500 for a report failure).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userId": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<MailboxPermissionRows>, UserError> {
        let tenant = ctx.tenant()?;
        if params.use_report_db && params.user_id.is_none() {
            let mut rows = permission_report(
                &ctx.graph,
                &tenant.customer_id,
                &tenant.default_domain_name,
                params.by_user,
                &crate::templates::now(),
            )
            .await?;
            // Only the by-user report has a top-level `User` to filter on, as in CIPP.
            if let (Some(user), true) = (params.user.as_deref(), params.by_user) {
                rows.retain(|r| {
                    r.0.get("User")
                        .and_then(Value::as_str)
                        .is_some_and(|u| u.eq_ignore_ascii_case(user))
                });
            }
            return Ok(Outcome::json(MailboxPermissionRows(rows)));
        }
        let Some(user) = params.user_id else {
            return Err(UserError::missing("userId"));
        };
        let rows = mailbox_rows(&ctx.graph, &tenant.customer_id, user.as_str()).await?;
        Ok(Outcome::json(MailboxPermissionRows(rows)))
    }
}
