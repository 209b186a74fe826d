//! `ListUserSigninLogs` (CIPP-API `Invoke-ListUserSigninLogs.ps1`): a user's recent sign-ins.
//!
//! Failures keep CIPP's 500 and text (`Failed to retrieve Sign In report for user …`) in
//! `Results`. Unlike CIPP, a missing `UserID` or a `top` that is not 1 to 1000 is a 400, and an
//! unknown user is a 404 with Graph's text (CIPP: `200 []`), checked only when no sign-ins come
//! back.

use cipp_users_domain::sign_in_logs::{DEFAULT_TOP, list_user_sign_ins};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("UserID")?;
        let top = match ctx.params.string("top") {
            None => DEFAULT_TOP,
            Some(text) => text.parse::<u32>().map_err(|_| {
                ApiError::bad_request(format!(
                    "top must be a whole number from 1 to 1000, got '{text}'"
                ))
            })?,
        };
        let tenant = ctx.single_tenant().await?;
        let rows = list_user_sign_ins(&ctx.state.graph, &tenant.customer_id, &user_id, top).await?;
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}
