//! `ListDeletedItems` (CIPP-API `Invoke-ListDeletedItems.ps1`): the tenant's deleted objects.
//!
//! CIPP drops every object type whose read failed and still answers 200; here only types Graph
//! refuses as unavailable (400/404) are skipped, and any other failure is a 500
//! `Failed to retrieve deleted items: …`.

use cipp_users_domain::deleted_items::list_deleted_items;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let tenant = ctx.single_tenant().await?;
        let rows = list_deleted_items(&ctx.state.graph, &tenant.customer_id).await?;
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}
