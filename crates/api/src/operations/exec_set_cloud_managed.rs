//! `ExecSetCloudManaged` (CIPP-API `Invoke-ExecSetCloudManaged.ps1` → `Set-CIPPCloudManaged.ps1`):
//! switches the source of authority of a user, group or contact.
//!
//! Differences from CIPP: a non-boolean `isCloudManaged`, a missing `ID` or a `type` other than
//! User, Group or Contact is a 400 naming the field (CIPP: a plain-text 500, or 500 with
//! PowerShell's binding message).

use cipp_users_domain::cloud_managed::set_cloud_managed;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let cloud_managed = ctx.params.boolean("isCloudManaged")?;
        let object_id = ctx.params.required("ID")?;
        let kind = ctx.params.required("type")?;
        let display_name = ctx.params.string("displayName").unwrap_or_default();
        let tenant = ctx.single_tenant().await?;
        let message = set_cloud_managed(
            &ctx.state.graph,
            &tenant.customer_id,
            &object_id,
            &display_name,
            &kind,
            cloud_managed,
        )
        .await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
