//! `ListJITAdmin` (CIPP-API `Invoke-ListJITAdmin.ps1`): users with JIT admin values in CIPP's
//! schema extension, as `{Results, Metadata}`.
//!
//! AllTenants is read live, each tenant's rows carrying `Tenant` and a failed tenant a
//! `{Tenant, CippStatus}` row (CIPP serves an hour-old cache or queues a refill and answers
//! `QueueMessage`). Failed reads are errors (CIPP: `200` with no users).

use cipp_users_domain::jit_admin::{cipp_user_extension, list_jit_admins};
use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt, stream};
use serde_json::{Value, json};

use super::{Context, Reply, TargetTenant};
use crate::error::ApiError;
use crate::fan_out::fan_out;
use crate::streaming::json_array;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let graph = ctx.state.graph.clone();
        let target = ctx.target_tenant().await?;
        let settings = &ctx.state.settings;
        let extension = cipp_user_extension(
            &graph,
            &settings.partner_tenant_id,
            &settings.partner_client_id,
        )
        .await?;
        match target {
            TargetTenant::One(tenant) => {
                let rows = match &extension {
                    Some(ext) => list_jit_admins(&graph, &tenant.customer_id, ext).await?,
                    None => Vec::new(),
                };
                Ok(Reply::ok(
                    json!({"Results": rows, "Metadata": {"Method": "BulkRequest"}}),
                ))
            }
            TargetTenant::All => {
                let Some(extension) = extension else {
                    return Ok(Reply::ok(json!({"Results": [], "Metadata": {}})));
                };
                let pages = fan_out(
                    ctx.visible_tenants().await?,
                    settings.all_tenants_budget,
                    settings.all_tenants_concurrency,
                    move |tenant| {
                        let (graph, ext) = (graph.clone(), extension.clone());
                        let (id, label) = (
                            tenant.customer_id.clone(),
                            tenant.default_domain_name.clone(),
                        );
                        stream::once(async move {
                            let rows = list_jit_admins(&graph, &id, &ext).await?;
                            Ok(rows
                                .into_iter()
                                .map(|row| with_tenant(row, &label))
                                .collect())
                        })
                        .boxed_local()
                    },
                );
                Ok(Reply::stream(json_array(
                    r#"{"Results":"#.to_owned(),
                    pages,
                    r#","Metadata":{}}"#.to_owned(),
                )))
            }
        }
    }
    .boxed_local()
}

/// CIPP's AllTenants rows start with `Tenant`.
fn with_tenant(row: Value, tenant: &str) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("Tenant".into(), json!(tenant));
    if let Value::Object(fields) = row {
        out.extend(fields);
    }
    Value::Object(out)
}
