//! `me`: who the caller is and what they may do, in the shape the CIPP frontend reads
//! (`clientPrincipal`, `permissions`). CIPP answers 403 to API clients holding a built-in role
//! (a parameter-binding bug in `Test-CIPPAccess.ps1`); here every caller gets its permissions.

use futures::FutureExt;
use serde_json::json;

use super::{Context, Reply};
use crate::auth::caller::Identity;

pub fn handle(
    ctx: Context,
) -> futures::future::LocalBoxFuture<'static, Result<Reply, crate::error::ApiError>> {
    async move {
        let roles = ctx.caller.roles.names();
        let permissions = ctx.caller.roles.permissions();
        let body = match &ctx.caller.identity {
            Identity::ApiClient { client_id, name } => json!({
                "clientPrincipal": { "appId": client_id, "appName": name, "appRole": roles },
                "permissions": permissions,
            }),
            Identity::User {
                user_principal_name,
                object_id,
            } => {
                let mut user_roles = roles;
                user_roles.extend(["authenticated".to_owned(), "anonymous".to_owned()]);
                json!({
                    "clientPrincipal": {
                        "identityProvider": "aad",
                        "userId": object_id,
                        "userDetails": user_principal_name,
                        "userRoles": user_roles,
                    },
                    "permissions": permissions,
                    "initialSetupComplete": true,
                })
            }
        };
        Ok(Reply::ok(body))
    }
    .boxed_local()
}
