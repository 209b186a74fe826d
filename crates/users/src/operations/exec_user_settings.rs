//! `ExecUserSettings` (CIPP-API `Invoke-ExecUserSettings.ps1`): saves the CIPP frontend's
//! settings of the caller, of another user, or everyone's (`allUsers`).
//!
//! A caller's settings are keyed by its UPN (an API client: its client id).

use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::user_settings::own_key;

pub struct ExecUserSettings;

/// Keys the frontend keeps to itself; CIPP drops them before saving.
const NOT_STORED: &[&str] = &[
    "CurrentTenant",
    "pageSizes",
    "sidebarShow",
    "sidebarUnfoldable",
    "_persist",
];

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The settings to save, replacing the saved ones (the frontend's own keys, such as
    /// `CurrentTenant`, are dropped).
    #[serde(rename = "currentSettings")]
    pub current_settings: Map<String, Value>,
    /// Whose settings: a user principal name, `allUsers` for everyone's defaults; the caller's
    /// own when absent. Only admins may save anyone else's.
    #[serde(rename = "user")]
    pub user: Option<String>,
}

impl Operation for ExecUserSettings {
    type Params = Params;
    type Answer = Vec<TextResults>;
    const NAME: &'static str = "ExecUserSettings";
    const TAG: &'static str = "CIPP > Settings";
    const ROLE: Option<&'static str> = Some("CIPP.Core.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the caller's user settings");
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecUserSettings.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "CIPP lets anyone with `CIPP.Core.ReadWrite` overwrite any user's settings, or the `allUsers` defaults; here that takes the admin or superadmin role (403 otherwise), and other callers may only save their own. A missing `currentSettings`, or one that is not an object, is a 400 naming it.",
    );

    fn example() -> Value {
        json!({"currentSettings": {"paletteMode": "dark", "pinNav": true}})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<TextResults>>, UserError> {
        let own = own_key(&ctx.caller.identity());
        let user = params.user.unwrap_or_else(|| own.clone());
        if !user.eq_ignore_ascii_case(&own) && !ctx.caller.is_admin() {
            return Err(UserError::refused(format!(
                "Only admins may change the settings of '{user}'; you may change your own ({own})"
            )));
        }
        let kept: Map<String, Value> = params
            .current_settings
            .into_iter()
            .filter(|(k, _)| !NOT_STORED.iter().any(|n| n.eq_ignore_ascii_case(k)))
            .collect();
        ctx.store
            .put_user_settings(&user, &Value::Object(kept))
            .await
            .map_err(|e| {
                UserError::internal("Function Error: the user settings could not be saved", e)
            })?;
        Ok(Outcome::json(vec![TextResults::new(
            "Successfully added user settings",
        )]))
    }
}
