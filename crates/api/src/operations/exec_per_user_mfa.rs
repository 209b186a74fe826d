//! `ExecPerUserMFA` (CIPP-API `Invoke-ExecPerUserMFA.ps1` → `Set-CIPPPerUserMFA.ps1`): sets the
//! legacy per-user MFA state. `Results` is an array of strings, failures included.
//!
//! Differences from CIPP: a missing user or `State`, or a `State` outside enabled, disabled and
//! enforced, is a 400 naming the field (CIPP: 500 with PowerShell's binding message); a PATCH
//! Graph refuses inside the batch is a 500 with CIPP's failure text (CIPP reports success).

use cipp_users_domain::set_per_user_mfa::{set_per_user_mfa, target_id};
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply, results_array};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let upn = ctx.params.string("userPrincipalName");
        let id = ctx.params.string("userId");
        let user = target_id(upn.as_deref(), id.as_deref())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::bad_request("userId is required"))?;
        let state = ctx.params.required("State")?;
        let tenant = ctx.single_tenant().await?;
        results_array::reply(
            set_per_user_mfa(&ctx.state.graph, &tenant.customer_id, &user, &state).await,
        )
    }
    .boxed_local()
}
