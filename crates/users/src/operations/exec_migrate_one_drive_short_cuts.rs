//! `ExecMigrateOneDriveShortCuts` (CIPP-API `Invoke-ExecMigrateOneDriveShortCuts.ps1` →
//! `Invoke-CIPPMigrateOneDriveShortCuts.ps1`): moves a user's shortcuts from the OneDrive root
//! into the Shortcuts folder (where Microsoft's own "Add shortcut" now puts them): one, by `id`,
//! or all of them. The user's "OneDrive Shortcuts" page offers it per row.

use cipp_graph::GraphVersion;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::onedrive_shortcuts::{DriveItemId, in_shortcuts_folder, means_no_drive};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{UserError, path_segment};

pub struct ExecMigrateOneDriveShortCuts;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The OneDrive's owner (user principal name; `{label, value}` accepted).
    pub username: UserId,
    /// One shortcut's item id; without it every shortcut at the root moves.
    pub id: Option<DriveItemId>,
}

impl Operation for ExecMigrateOneDriveShortCuts {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecMigrateOneDriveShortCuts";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecMigrateOneDriveShortCuts.ps1",
        frontend: Some("src/pages/identity/administration/users/user/onedrive-shortcuts.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or malformed `username`, or a malformed `id`, is a 400 naming it (CIPP: a \
         500 from PowerShell's parameter binding). `No OneDrive found for <username>` is a 404 \
         and `No root OneDrive shortcut with id <id> found for <username>` a 404 (CIPP: 500); \
         other failures keep CIPP's texts, with Graph's status when Graph refused the listing \
         or the Shortcuts folder, else 500 as in CIPP.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "username": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let tenant_id = tenant.customer_id.clone();
        let upn = params.username.as_str().to_owned();
        let user = path_segment(&upn);
        let app = ctx.graph.app_only();
        let failed = |message: String, source: Option<cipp_graph::GraphError>| {
            tracing::warn!(tenant = %tenant.default_domain_name, "{message}");
            UserError::Failed {
                message,
                source: source.map(Box::new),
            }
        };

        let items = match crate::onedrive_shortcuts::children(
            &ctx.graph,
            &tenant_id,
            &upn,
            "root",
            "id,name,remoteItem,parentReference",
        )
        .await
        {
            Ok(items) => items,
            Err(error) => {
                let normalized = normalize_graph_error(&error);
                if error.status() == Some(404) || means_no_drive(&normalized) {
                    return Err(UserError::not_found(format!(
                        "No OneDrive found for {upn}"
                    )));
                }
                return Err(failed(
                    format!("Could not list OneDrive shortcuts for {upn} : {normalized}"),
                    Some(error),
                ));
            }
        };
        let mut to_move: Vec<&Value> = items
            .iter()
            .filter(|i| i.get("remoteItem").is_some_and(|r| !r.is_null()))
            .filter(|i| !in_shortcuts_folder(i))
            .collect();
        if let Some(id) = &params.id {
            to_move.retain(|i| i["id"].as_str() == Some(id.as_str()));
            if to_move.is_empty() {
                return Err(UserError::not_found(format!(
                    "No root OneDrive shortcut with id {} found for {upn}",
                    id.as_str()
                )));
            }
        }
        if to_move.is_empty() {
            let text = format!("No root OneDrive shortcuts to migrate for {upn}");
            tracing::info!(tenant = %tenant.default_domain_name, "{text}");
            return Ok(Outcome::json(TextResults::new(text)).audit_target(upn));
        }

        let folder = app
            .get(
                &tenant_id,
                GraphVersion::Beta,
                &format!("users/{user}/drive/special/shortcuts?$select=id,name"),
                &[],
            )
            .await
            .map_err(|error| {
                failed(
                    format!(
                        "Could not resolve the Shortcuts folder (special/shortcuts) for {upn} : {}",
                        normalize_graph_error(&error)
                    ),
                    Some(error),
                )
            })?;
        let folder_id = folder["id"].as_str().unwrap_or_default().to_owned();

        let mut moved = Vec::new();
        let mut failures = Vec::new();
        for item in to_move {
            let name = item["name"].as_str().unwrap_or_default();
            let id = item["id"].as_str().unwrap_or_default();
            let moving = app
                .patch(
                    &tenant_id,
                    GraphVersion::Beta,
                    &format!("users/{user}/drive/items/{}", path_segment(id)),
                    &json!({"parentReference": {"id": folder_id}}),
                )
                .await;
            match moving {
                Ok(_) => moved.push(name.to_owned()),
                Err(error) => {
                    let site = item
                        .pointer("/remoteItem/sharepointIds/siteUrl")
                        .and_then(Value::as_str)
                        .map(|u| format!(" (site {u})"))
                        .unwrap_or_default();
                    failures.push(format!(
                        "Could not migrate OneDrive shortcut '{name}' for {upn}{site}: {}",
                        normalize_graph_error(&error)
                    ));
                }
            }
        }
        let mut summary = format!(
            "Migrated {} OneDrive shortcut(s) to the Shortcuts folder for {upn}",
            moved.len()
        );
        if !moved.is_empty() {
            summary.push_str(&format!(": {}", moved.join(", ")));
        }
        if !failures.is_empty() {
            summary.push_str(&format!(
                ". Failures ({}): {}",
                failures.len(),
                failures.join(" | ")
            ));
            return Err(failed(summary, None));
        }
        tracing::info!(tenant = %tenant.default_domain_name, "{summary}");
        Ok(Outcome::json(TextResults::new(summary)).audit_target(upn))
    }
}
