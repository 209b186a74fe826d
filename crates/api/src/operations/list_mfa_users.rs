//! `ListMFAUsers` (CIPP-API `Invoke-ListMFAUsers.ps1`): per-user MFA coverage for a tenant, or
//! for every tenant the caller may see with `tenantFilter=AllTenants`.
//!
//! AllTenants is read live (CIPP serves a two-hour cache and queues a refill); a tenant that
//! fails is CIPP's "Could not connect to tenant" row with the reason in `CippStatus`.
//! `UseReportDB` is accepted and read live too: there is no reporting database here. A failure
//! is a 500 with the normalised Graph text (CIPP: 403).

use cipp_users_domain::mfa_users::{list_mfa_users, unreachable_tenant_row};
use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt, stream};
use serde_json::Value;

use super::{Context, Reply, TargetTenant};
use crate::error::ApiError;
use crate::fan_out::fan_out;
use crate::streaming::json_array;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let graph = ctx.state.graph.clone();
        match ctx.target_tenant().await? {
            TargetTenant::One(tenant) => {
                // CIPP's rows echo the tenantFilter as the caller sent it.
                let label = ctx
                    .params
                    .string("tenantFilter")
                    .unwrap_or_else(|| tenant.default_domain_name.clone());
                let rows = list_mfa_users(&graph, &tenant.customer_id, &label).await?;
                Ok(Reply::ok(Value::Array(rows)))
            }
            TargetTenant::All => {
                let settings = &ctx.state.settings;
                let pages = fan_out(
                    ctx.visible_tenants().await?,
                    settings.all_tenants_budget,
                    settings.all_tenants_concurrency,
                    move |tenant| {
                        let (graph, id) = (graph.clone(), tenant.customer_id.clone());
                        let label = tenant.default_domain_name.clone();
                        stream::once(async move { Ok(list_mfa_users(&graph, &id, &label).await?) })
                            .boxed_local()
                    },
                )
                .map(|page| page.map(|rows| rows.into_iter().map(cipp_failure_row).collect()));
                Ok(Reply::stream(json_array(
                    String::new(),
                    pages.boxed_local(),
                    String::new(),
                )))
            }
        }
    }
    .boxed_local()
}

/// Gives fan-out's `{Tenant, CippStatus}` rows the fields CIPP's MFA report shows.
fn cipp_failure_row(row: Value) -> Value {
    match (
        row.get("UPN"),
        row["Tenant"].as_str(),
        row["CippStatus"].as_str(),
    ) {
        (None, Some(tenant), Some(status)) => unreachable_tenant_row(tenant, status),
        _ => row,
    }
}
