//! `ExecModifyContactPerms` (CIPP-API `Invoke-ExecModifyContactPerms.ps1`): adds or removes people's
//! rights on a mailbox's Contacts folder, as the user page's contacts panel posts them.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::folder_permissions::{FolderKind, FolderPermissionChange, modify_folder_permissions};
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecModifyContactPerms;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox whose Contacts folder changes: its user principal name or object id.
    #[serde(rename = "userID")]
    pub user_id: UserId,
    /// The changes (a list, or an object keyed "0", "1", … as the off-canvas posts it).
    #[serde(rename = "permissions")]
    pub permissions: Vec<FolderPermissionChange>,
}

impl Operation for ExecModifyContactPerms {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecModifyContactPerms";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const PARTIAL: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecModifyContactPerms.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "An `Add` without `PermissionLevel`, an unknown `Modification` or an empty `permissions` is a 400 naming it, before anything changes (CIPP: 500). Some changes failing is a 207 with every line; all failing is Exchange's status with the lines (CIPP: 500 either way). The mailbox is addressed by the id given, not looked up through Graph first. `FolderName` defaults to `Contacts`, the folder's name (CIPP: `Contact`, which Exchange does not find).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userID": crate::demo::USER,
            "permissions": [{"UserID": [{"label": "Xavier Kowalski", "value": "xavier.kowalski@contoso.example"}],
                "PermissionLevel": {"label": "Reviewer", "value": "Reviewer"}, "FolderName": "Contacts",
                "Modification": "Add"}]})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let tenant = ctx.tenant()?;
        let (lines, partial) = modify_folder_permissions(
            &ctx.graph,
            &tenant.customer_id,
            FolderKind::Contacts,
            params.user_id.as_str(),
            &params.permissions,
        )
        .await?;
        Ok(Outcome::json(TextListResults::new(lines)).partial(partial))
    }
}
