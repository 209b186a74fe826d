//! `ListUserSettings` and `ExecUserSettings` (CIPP-API `Invoke-ListUserSettings.ps1`,
//! `Invoke-ExecUserSettings.ps1`): the CIPP frontend's per-user settings, kept in the store.
//!
//! A caller's settings are keyed by its UPN (an API client: its client id). Deliberate
//! difference: CIPP lets anyone with `CIPP.Core.ReadWrite` overwrite any user's settings, or
//! the `allUsers` defaults; here that takes the admin or superadmin role, and other callers may
//! only write their own.

use cipp_store::ALL_USERS;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Map, Value, json};

use super::{Context, Reply};
use crate::auth::caller::Identity;
use crate::error::ApiError;

/// Keys the frontend keeps to itself; CIPP drops them before saving.
const NOT_STORED: &[&str] = &[
    "CurrentTenant",
    "pageSizes",
    "sidebarShow",
    "sidebarUnfoldable",
    "_persist",
];

fn own_key(ctx: &Context) -> String {
    match &ctx.caller.identity {
        Identity::User {
            user_principal_name,
            ..
        } => user_principal_name.clone(),
        Identity::ApiClient { client_id, .. } => client_id.clone(),
    }
}

fn defaults() -> Value {
    json!({
        "direction": "ltr",
        "paletteMode": "light",
        "currentTheme": {"value": "light", "label": "light"},
        "pinNav": true,
        "showDevtools": false
    })
}

fn any_offboarding_default_on(settings: Option<&Value>) -> bool {
    settings
        .and_then(|s| s.get("offboardingDefaults"))
        .and_then(Value::as_object)
        .is_some_and(|o| o.values().any(|v| v == &Value::Bool(true)))
}

fn store_failed(error: cipp_store::StoreError) -> ApiError {
    ApiError::bad_request(format!("Function Error: {error}"))
}

pub fn list(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let store = &ctx.state.store;
        let all_users = store
            .get_user_settings(ALL_USERS)
            .await
            .map_err(store_failed)?;
        let own = store
            .get_user_settings(&own_key(&ctx))
            .await
            .map_err(store_failed)?;
        let (mut settings, source) = match (&all_users, &own) {
            (Some(all), _) => (all.clone(), "allUsers"),
            (None, Some(own)) => (own.clone(), "user"),
            (None, None) => (defaults(), "allUsers"),
        };
        let mut source = source;
        if let Value::Object(fields) = &mut settings {
            // The user's own offboarding defaults win when the shared ones switch nothing on.
            if all_users.is_some()
                && !any_offboarding_default_on(all_users.as_ref())
                && any_offboarding_default_on(own.as_ref())
                && let Some(offboarding) = own.as_ref().and_then(|o| o.get("offboardingDefaults"))
            {
                fields.insert("offboardingDefaults".into(), offboarding.clone());
                source = "user";
            }
            fields.insert("offboardingDefaultsSource".into(), json!(source));
            if let Some(own) = &own {
                fields.insert("UserSpecificSettings".into(), own.clone());
            }
        }
        Ok(Reply::ok(settings))
    }
    .boxed_local()
}

pub fn exec(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let current = ctx
            .params
            .raw("currentSettings")
            .ok_or_else(|| ApiError::bad_request("currentSettings is required"))?;
        let Value::Object(current) = current else {
            return Err(ApiError::bad_request("currentSettings must be an object"));
        };
        let own = own_key(&ctx);
        let user = ctx.params.string("user").unwrap_or_else(|| own.clone());
        let may_write_others = matches!(ctx.caller.roles.base, Some("admin" | "superadmin"));
        if !user.eq_ignore_ascii_case(&own) && !may_write_others {
            return Err(ApiError::forbidden(format!(
                "Only admins may change the settings of '{user}'; you may change your own ({own})"
            )));
        }
        let kept: Map<String, Value> = current
            .into_iter()
            .filter(|(k, _)| !NOT_STORED.iter().any(|n| n.eq_ignore_ascii_case(k)))
            .collect();
        ctx.state
            .store
            .put_user_settings(&user, &Value::Object(kept))
            .await
            .map_err(|e| {
                ApiError::new(
                    actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                    format!("Function Error: {e}"),
                )
            })?;
        Ok(Reply::ok(
            json!([{ "Results": "Successfully added user settings" }]),
        ))
    }
    .boxed_local()
}
