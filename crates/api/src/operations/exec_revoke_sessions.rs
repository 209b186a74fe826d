//! `ExecRevokeSessions` (CIPP-API `Invoke-ExecRevokeSessions.ps1`).

use cipp_users_domain::revoke_sessions::revoke_sessions;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("id")?;
        let username = ctx.params.string("Username");
        let tenant = ctx.single_tenant().await?;
        let message = revoke_sessions(
            &ctx.state.graph,
            &tenant.customer_id,
            &user_id,
            username.as_deref(),
        )
        .await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
