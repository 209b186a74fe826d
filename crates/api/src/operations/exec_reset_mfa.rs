//! `ExecResetMFA` (CIPP-API `Invoke-ExecResetMFA.ps1` → `Remove-CIPPUserMFA.ps1`): removes the
//! user's MFA methods (or the one `MethodId`). `ID` is the UPN, as the CIPP frontend sends it.
//! A missing `ID` is a 400 naming it (CIPP: a 500 with PowerShell's binding message).

use cipp_users_domain::reset_mfa::remove_user_mfa;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user = ctx.params.required("ID")?;
        let method_id = ctx.params.string("MethodId");
        let tenant = ctx.single_tenant().await?;
        let message = remove_user_mfa(
            &ctx.state.graph,
            &tenant.customer_id,
            &user,
            method_id.as_deref(),
        )
        .await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
