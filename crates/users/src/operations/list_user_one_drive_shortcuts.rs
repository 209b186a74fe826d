//! `ListUserOneDriveShortcuts` (CIPP-API `Invoke-ListUserOneDriveShortcuts.ps1`): a user's
//! OneDrive shortcuts, from the drive's root and from the Shortcuts folder. The user's
//! "OneDrive Shortcuts" page (`users/user/onedrive-shortcuts.jsx`) lists it.

use cipp_graph::GraphVersion;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::onedrive_shortcuts::{children, in_shortcuts_folder, means_no_drive};
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListUserOneDriveShortcuts;

const SELECT: &str = "id,name,remoteItem,parentReference,createdDateTime,lastModifiedDateTime";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user's object id; read for the user principal name when that is not given.
    #[serde(rename = "userId")]
    pub user_id: Option<UserId>,
    /// The user whose shortcuts are listed.
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<UserId>,
}

/// One shortcut.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShortcutRow {
    /// The shortcut's driveItem id in the user's OneDrive (what ExecRemoveOneDriveShortCut and
    /// ExecMigrateOneDriveShortCuts take as `id`).
    pub id: Value,
    pub name: Value,
    /// `OneDrive root` or `Shortcuts folder`.
    pub location: String,
    /// The target site's URL (`remoteItem.sharepointIds.siteUrl`).
    #[serde(rename = "siteUrl")]
    pub site_url: Value,
    #[serde(rename = "remoteItemId")]
    pub remote_item_id: Value,
    #[serde(rename = "remoteDriveId")]
    pub remote_drive_id: Value,
    #[serde(rename = "createdDateTime")]
    pub created_date_time: Value,
    #[serde(rename = "lastModifiedDateTime")]
    pub last_modified_date_time: Value,
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: String,
    /// The `userId` asked with, or null.
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub struct ShortcutRows(pub Vec<ShortcutRow>);

impl Operation for ListUserOneDriveShortcuts {
    type Params = Params;
    type Answer = ShortcutRows;
    const NAME: &'static str = "ListUserOneDriveShortcuts";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserOneDriveShortcuts.ps1",
        frontend: Some("src/pages/identity/administration/users/user/onedrive-shortcuts.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Error bodies are `{\"Results\": text}` (CIPP: `[{\"Results\": text}]`). Neither \
         `userPrincipalName` nor `userId` is a 400 naming `userPrincipalName` with CIPP's text; \
         either one malformed is a 400 naming it. A user id Graph does not know is a 404 with \
         the listing text below (CIPP: an unhandled 500). A failed root listing is `Could not \
         list OneDrive root shortcuts for …` with Graph's status when Graph refused, else 500 \
         as in CIPP.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userId": crate::demo::USER_ID,
            "userPrincipalName": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ShortcutRows>, UserError> {
        let tenant = ctx.tenant()?;
        let tenant_id = tenant.customer_id.clone();
        let user_id = params.user_id.map(String::from);
        let upn = match (params.user_principal_name, &user_id) {
            (Some(upn), _) => upn.as_str().to_owned(),
            (None, Some(id)) => {
                let user = ctx
                    .graph
                    .app_only()
                    .get(
                        &tenant_id,
                        GraphVersion::Beta,
                        &format!(
                            "users/{}?$select=userPrincipalName",
                            crate::path_segment(id)
                        ),
                        &[],
                    )
                    .await
                    .map_err(|error| failed_listing(id, error))?;
                user["userPrincipalName"]
                    .as_str()
                    .filter(|u| !u.trim().is_empty())
                    .ok_or_else(required)?
                    .to_owned()
            }
            (None, None) => return Err(required()),
        };

        let row = |item: &Value, location: &str| ShortcutRow {
            id: item["id"].clone(),
            name: item["name"].clone(),
            location: location.to_owned(),
            site_url: item
                .pointer("/remoteItem/sharepointIds/siteUrl")
                .cloned()
                .unwrap_or(Value::Null),
            remote_item_id: item
                .pointer("/remoteItem/id")
                .cloned()
                .unwrap_or(Value::Null),
            remote_drive_id: item
                .pointer("/remoteItem/parentReference/driveId")
                .cloned()
                .unwrap_or(Value::Null),
            created_date_time: item["createdDateTime"].clone(),
            last_modified_date_time: item["lastModifiedDateTime"].clone(),
            user_principal_name: upn.clone(),
            user_id: user_id.clone(),
        };

        let mut rows = Vec::new();
        match children(&ctx.graph, &tenant_id, &upn, "root", SELECT).await {
            Ok(items) => {
                for item in items
                    .iter()
                    .filter(|i| i.get("remoteItem").is_some_and(|r| !r.is_null()))
                {
                    let location = if in_shortcuts_folder(item) {
                        "Shortcuts folder"
                    } else {
                        "OneDrive root"
                    };
                    rows.push(row(item, location));
                }
            }
            Err(error) => {
                if error.status() == Some(404) || means_no_drive(&normalize_graph_error(&error)) {
                    return Ok(Outcome::json(ShortcutRows(Vec::new())));
                }
                return Err(failed_listing(&upn, error));
            }
        }

        match children(
            &ctx.graph,
            &tenant_id,
            &upn,
            "special/shortcuts",
            SELECT,
        )
        .await
        {
            Ok(items) => {
                for item in &items {
                    // The root listing may have shown it already.
                    if rows.iter().any(|r| r.id == item["id"]) {
                        continue;
                    }
                    rows.push(row(item, "Shortcuts folder"));
                }
            }
            Err(error) => {
                // The folder 404s until first made; anything else is worth a warning only.
                let normalized = normalize_graph_error(&error);
                let lower = normalized.to_ascii_lowercase();
                if !(error.status() == Some(404)
                    || means_no_drive(&normalized)
                    || lower.contains("special"))
                {
                    tracing::warn!(
                        tenant = %tenant.default_domain_name,
                        "Could not list Shortcuts folder for {upn} : {normalized}"
                    );
                }
            }
        }
        Ok(Outcome::json(ShortcutRows(rows)))
    }
}

fn required() -> UserError {
    UserError::invalid(
        "userPrincipalName",
        "userPrincipalName or userId is required",
    )
}

/// CIPP's `Could not list OneDrive root shortcuts for <u> : <norm>`.
fn failed_listing(user: &str, error: cipp_graph::GraphError) -> UserError {
    UserError::Failed {
        message: format!(
            "Could not list OneDrive root shortcuts for {user} : {}",
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    }
}
