//! `ExecRestoreDeleted` and `RemoveDeletedObject` (CIPP-API `Invoke-ExecRestoreDeleted.ps1`,
//! `Invoke-RemoveDeletedObject.ps1`): restore or purge one of the tenant's deleted items.
//!
//! As CIPP, a Graph failure (an unknown id included) is a 500 with CIPP's text and Graph's
//! reason; a missing `ID` is a 400 (CIPP sends the call with an empty id).

use cipp_users_domain::deleted_objects::{Naming, remove_deleted, restore_deleted};
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn restore(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let (id, upn, display_name) = inputs(&ctx)?;
        let tenant = ctx.single_tenant().await?;
        let naming = Naming {
            user_principal_name: upn.as_deref(),
            display_name: display_name.as_deref(),
        };
        let message = restore_deleted(&ctx.state.graph, &tenant.customer_id, &id, naming).await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}

pub fn remove(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let (id, upn, display_name) = inputs(&ctx)?;
        let tenant = ctx.single_tenant().await?;
        let naming = Naming {
            user_principal_name: upn.as_deref(),
            display_name: display_name.as_deref(),
        };
        let message = remove_deleted(&ctx.state.graph, &tenant.customer_id, &id, naming).await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}

type Inputs = (String, Option<String>, Option<String>);

fn inputs(ctx: &Context) -> Result<Inputs, ApiError> {
    Ok((
        ctx.params.required("ID")?,
        ctx.params.string("userPrincipalName"),
        ctx.params.string("displayName"),
    ))
}
