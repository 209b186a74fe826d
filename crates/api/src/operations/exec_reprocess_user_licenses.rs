//! `ExecReprocessUserLicenses` (CIPP-API `Invoke-ExecReprocessUserLicenses.ps1`). `Results` is a
//! string. Differences from CIPP: a missing `ID` is a 400 (CIPP posts to `users//…`).

use cipp_users_domain::reprocess_licenses::reprocess_user_licenses;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("ID")?;
        let upn = ctx.params.string("userPrincipalName");
        let tenant = ctx.single_tenant().await?;
        let message = reprocess_user_licenses(
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
