//! `ListContactPermissions` (CIPP-API `Invoke-ListContactPermissions.ps1`): who has which
//! rights on a mailbox's Contacts folder, read live from Exchange.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::folder_permissions::{FolderKind, list_folder_permissions};
use crate::op::types::{GraphRow, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListContactPermissions;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
}

/// One entry per trustee: `Identity`, `User` (a display name, `Default` or `Anonymous`),
/// `AccessRights` (an array), `FolderName` and `MailboxInfo` (the mailbox as `Get-Mailbox` has it).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub struct ContactPermissionRows(pub Vec<GraphRow>);

impl Operation for ListContactPermissions {
    type Params = Params;
    type Answer = ContactPermissionRows;
    const NAME: &'static str = "ListContactPermissions";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListContactPermissions.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `UserID` is a 400 naming it. A mailbox Exchange does not know is a 404 and any other failure Exchange's status, with CIPP's text (CIPP: 403 for every failure).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserID": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ContactPermissionRows>, UserError> {
        let user = params.user_id;
        let tenant = ctx.tenant()?;
        let rows = list_folder_permissions(
            &ctx.graph,
            &tenant.customer_id,
            FolderKind::Contacts,
            user.as_str(),
        )
        .await?;
        Ok(Outcome::json(ContactPermissionRows(rows)))
    }
}
