//! `ExecEnableArchive` (CIPP-API `Invoke-ExecEnableArchive.ps1`): enables the online archive.
//!
//! Difference: a missing `id` is a 400 (CIPP: Exchange's error as a 500).

use cipp_users_domain::enable_archive::enable_archive;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let id = ctx.params.required("id")?;
        let username = ctx.params.string("username");
        let tenant = ctx.single_tenant().await?;
        let message = enable_archive(
            &ctx.state.graph,
            &tenant.customer_id,
            &id,
            username.as_deref(),
        )
        .await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
