//! `RemoveUser` (CIPP-API `Invoke-RemoveUser.ps1`): soft-deletes a user.

use cipp_users_domain::remove_user::remove_user;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("ID")?;
        let upn = ctx.params.string("userPrincipalName");
        let tenant = ctx.single_tenant().await?;
        let message = remove_user(
            &ctx.state.graph,
            &tenant.customer_id,
            &user_id,
            upn.as_deref(),
        )
        .await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
