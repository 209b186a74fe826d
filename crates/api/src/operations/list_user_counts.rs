//! `ListUserCounts` (CIPP-API `Invoke-ListUserCounts.ps1`): `{Users, LicUsers, Gas, Guests}`.
//!
//! As in CIPP, `AllTenants` answers "Not Supported" for each count. Unlike CIPP, a failed count
//! is a 500 whose `Results` names the failed counts and Graph's texts (CIPP: `{Error, Details}`),
//! and the tenant is checked against the caller's scope (CIPP skips its tenant check here).

use cipp_users_domain::user_counts::{all_tenants_counts, user_counts};
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply, TargetTenant};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        match ctx.target_tenant().await? {
            TargetTenant::All => Ok(Reply::ok(all_tenants_counts())),
            TargetTenant::One(tenant) => Ok(Reply::ok(
                user_counts(&ctx.state.graph, &tenant.customer_id).await?,
            )),
        }
    }
    .boxed_local()
}
