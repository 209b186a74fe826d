//! `ListUserGroups` (CIPP-API `Invoke-ListUserGroups.ps1`): the groups a user is in.
//!
//! Unlike CIPP (an uncaught plain-text 500), a missing `userId` is a 400, an unknown user a 404
//! with Graph's text, and a failed read a 500 `Failed to retrieve groups for user …`.

use cipp_users_domain::user_groups::list_user_groups;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("userId")?;
        let tenant = ctx.single_tenant().await?;
        let rows = list_user_groups(&ctx.state.graph, &tenant.customer_id, &user_id).await?;
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}
