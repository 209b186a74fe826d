//! `ListUsers` (CIPP-API `Invoke-ListUsers.ps1`): one tenant's users, one user by `UserID`, or
//! every tenant's users with `tenantFilter=AllTenants` (answered inline, where CIPP now answers
//! a deprecation message). Rows carry `Tenant`, which the CIPP frontend reads.

use cipp_users_domain::list_users::{ListUsersQuery, list_users, list_users_pages, with_tenant};
use cipp_users_domain::logon_details::add_logon_details;
use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt};
use serde_json::Value;

use super::{Context, Reply, TargetTenant};
use crate::error::ApiError;
use crate::fan_out::fan_out;
use crate::streaming::{json_array, start};

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let graph_filter = ctx.params.string("graphFilter");
        let graph = ctx.state.graph.clone();
        match ctx.target_tenant().await? {
            TargetTenant::One(tenant) => {
                if let Some(user_id) = ctx.params.string("UserID") {
                    let query = ListUsersQuery {
                        graph_filter,
                        user_id: Some(user_id),
                    };
                    let mut users = list_users(&graph, &tenant.customer_id, &query).await?;
                    // CIPP adds the last sign-in for any non-empty IncludeLogonDetails.
                    if ctx.params.string("IncludeLogonDetails").is_some() {
                        for user in &mut users {
                            add_logon_details(&graph, &tenant.customer_id, user).await?;
                        }
                    }
                    let label = &tenant.default_domain_name;
                    let rows = users.into_iter().map(|u| with_tenant(u, label)).collect();
                    return Ok(Reply::ok(Value::Array(rows)));
                }
                let pages = list_users_pages(
                    &graph,
                    &tenant.customer_id,
                    &tenant.default_domain_name,
                    graph_filter.as_deref(),
                )
                .map(|page| page.map_err(ApiError::from));
                Ok(Reply::stream(json_array(
                    String::new(),
                    start(pages).await?,
                    String::new(),
                )))
            }
            TargetTenant::All => {
                let tenants = ctx.visible_tenants().await?;
                let settings = &ctx.state.settings;
                let pages = fan_out(
                    tenants,
                    settings.all_tenants_budget,
                    settings.all_tenants_concurrency,
                    move |tenant| {
                        list_users_pages(
                            &graph,
                            &tenant.customer_id,
                            &tenant.default_domain_name,
                            graph_filter.as_deref(),
                        )
                        .map(|page| page.map_err(ApiError::from))
                        .boxed_local()
                    },
                );
                Ok(Reply::stream(json_array(
                    String::new(),
                    pages,
                    String::new(),
                )))
            }
        }
    }
    .boxed_local()
}
