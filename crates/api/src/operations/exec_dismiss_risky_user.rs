//! `ExecDismissRiskyUser` (CIPP-API `Invoke-ExecDismissRiskyUser.ps1`): dismisses a user's risk.
//!
//! Differences from CIPP: a missing `userId` is a 400 naming it (CIPP sends Graph an empty id);
//! without `userDisplayName` the messages name the user id (CIPP leaves a blank).

use cipp_users_domain::dismiss_risky_user::dismiss_risky_user;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("userId")?;
        let display_name = ctx
            .params
            .string("userDisplayName")
            .unwrap_or_else(|| user_id.clone());
        let tenant = ctx.single_tenant().await?;
        let message = dismiss_risky_user(
            &ctx.state.graph,
            &tenant.customer_id,
            &user_id,
            &display_name,
        )
        .await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
