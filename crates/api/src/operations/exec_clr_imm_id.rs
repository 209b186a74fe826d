//! `ExecClrImmId` (CIPP-API `Invoke-ExecClrImmId.ps1` → `Clear-CIPPImmutableId.ps1`): clears a
//! user's `onPremisesImmutableId`, restoring a deleted user first. A missing `ID` is a 400
//! naming it (CIPP sends Graph an empty id).

use cipp_users_domain::clear_immutable_id::clear_immutable_id;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("ID")?;
        let tenant = ctx.single_tenant().await?;
        let message = clear_immutable_id(&ctx.state.graph, &tenant.customer_id, &user_id).await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
