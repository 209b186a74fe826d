//! `ExecDisableUser` (CIPP-API `Invoke-ExecDisableUser.ps1`): blocks or allows a user's sign-in.

use cipp_users_domain::disable_user::set_sign_in_state;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("ID")?;
        let enable = ctx.params.boolean("Enable")?;
        let tenant = ctx.single_tenant().await?;
        let message =
            set_sign_in_state(&ctx.state.graph, &tenant.customer_id, &user_id, enable).await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
