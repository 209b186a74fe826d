//! `ListPerUserMFA` (CIPP-API `Invoke-ListPerUserMFA.ps1`): per-user MFA state for one user
//! (`userId`) or, with `allUsers=true`, for every user.
//!
//! Failures keep CIPP's 500 and `Failed to get MFA State for …` text (once, where CIPP repeats
//! the prefix). Unlike CIPP, a missing `userId` without `allUsers` is a 400 and an unknown user
//! a 404 with Graph's text. As in CIPP, an `allUsers` that is not a boolean means false.

use cipp_users_domain::per_user_mfa::{all_users_mfa_state, user_mfa_state};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        // CIPP catches Convert.ToBoolean's failure and reads it as false.
        let all_users = ctx.params.boolean("allUsers").unwrap_or(false);
        let user_id = if all_users {
            None
        } else {
            Some(ctx.params.required("userId")?)
        };
        let tenant = ctx.single_tenant().await?;
        let graph = &ctx.state.graph;
        let rows = match user_id {
            None => all_users_mfa_state(graph, &tenant.customer_id).await?,
            Some(id) => user_mfa_state(graph, &tenant.customer_id, &id).await?,
        };
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}
