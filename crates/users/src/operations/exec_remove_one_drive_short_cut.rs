//! `ExecRemoveOneDriveShortCut` (CIPP-API `Invoke-ExecRemoveOneDriveShortCut.ps1`): deletes a
//! shortcut (any item, in fact) from a user's OneDrive by its item id. The user's "OneDrive
//! Shortcuts" page offers it per row.

use cipp_graph::GraphVersion;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::onedrive_shortcuts::DriveItemId;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecRemoveOneDriveShortCut;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The OneDrive's owner (user principal name; `{label, value}` accepted).
    pub username: UserId,
    /// The shortcut's item id, as ListUserOneDriveShortcuts lists it.
    pub id: DriveItemId,
    /// The shortcut's name, for the answer only.
    pub name: Option<String>,
}

impl Operation for ExecRemoveOneDriveShortCut {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecRemoveOneDriveShortCut";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecRemoveOneDriveShortCut.ps1",
        frontend: Some("src/pages/identity/administration/users/user/onedrive-shortcuts.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or malformed `username` or `id` is a 400 naming it (CIPP: 500 `Could not \
         remove OneDrive shortcut for <username> : username and id are required to remove an \
         OneDrive shortcut`). A failed delete has CIPP's text with Graph's status when Graph \
         refused (an unknown item is a 404), else 500 as in CIPP.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "username": crate::demo::USER,
            "id": crate::demo::ONEDRIVE_SHORTCUT_ID, "name": "Documents"})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let upn = params.username.as_str().to_owned();
        ctx.graph
            .app_only()
            .delete(
                &tenant.customer_id,
                GraphVersion::Beta,
                &format!(
                    "users/{}/drive/items/{}",
                    params.username.segment(),
                    params.id.segment()
                ),
            )
            .await
            .map_err(|error| {
                let message = format!(
                    "Could not remove OneDrive shortcut for {upn} : {}",
                    normalize_graph_error(&error)
                );
                tracing::warn!(tenant = %tenant.default_domain_name, "{message}");
                UserError::Failed {
                    message,
                    source: Some(Box::new(error)),
                }
            })?;
        let label = match params.name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => format!("'{name}'"),
            _ => params.id.as_str().to_owned(),
        };
        let text = format!("Removed OneDrive shortcut {label} for {upn}");
        tracing::info!(tenant = %tenant.default_domain_name, "{text}");
        Ok(Outcome::json(TextResults::new(text)).audit_target(upn))
    }
}
