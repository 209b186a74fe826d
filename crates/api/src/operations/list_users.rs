//! `ListUsers` (CIPP-API `Invoke-ListUsers.ps1`): one tenant's users, or one user by `UserID`.

use cipp_users_domain::list_users::{ListUsersQuery, list_users};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply, TargetTenant};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let tenant = match ctx.target_tenant().await? {
            TargetTenant::One(tenant) => tenant,
            TargetTenant::All => {
                return Err(ApiError::not_implemented(
                    "ListUsers with tenantFilter=AllTenants",
                ));
            }
        };
        let query = ListUsersQuery {
            graph_filter: ctx.params.string("graphFilter"),
            user_id: ctx.params.string("UserID"),
        };
        let users = list_users(&ctx.state.graph, &tenant.customer_id, &query).await?;
        Ok(Reply::ok(Value::Array(users)))
    }
    .boxed_local()
}
