//! `ListGraphRequest` (CIPP-API `Invoke-ListGraphRequest.ps1`): the guarded, read-only Graph proxy.

use cipp_users_domain::graph_request::{GraphRequestQuery, list_graph_request};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::{Context, Reply, TargetTenant};
use crate::auth::roles::DENIED_TENANT;
use crate::error::ApiError;

/// The OData options passed through, under the names Graph knows them by.
const ODATA_OPTIONS: &[&str] = &["$select", "$filter", "$top", "$count", "$expand", "expand"];

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let endpoint = ctx.params.required("Endpoint")?;
        let mut odata = BTreeMap::new();
        for option in ODATA_OPTIONS {
            if let Some(value) = ctx.params.string(option) {
                odata.insert((*option).to_owned(), value);
            }
        }
        if !odata.contains_key("$filter")
            && let Some(filter) = ctx.params.string("graphFilter")
        {
            odata.insert("$filter".to_owned(), filter);
        }
        let query = GraphRequestQuery {
            endpoint,
            version: ctx.params.string("Version"),
            odata,
            no_pagination: ctx.params.boolean("NoPagination")?,
        };
        // Without a tenantFilter CIPP reads the partner tenant.
        let (tenant_id, label) = if ctx.params.string("tenantFilter").is_some() {
            match ctx.target_tenant().await? {
                TargetTenant::One(tenant) => {
                    let label = ctx.params.string("tenantFilter").unwrap_or_default();
                    (tenant.customer_id.clone(), label)
                }
                TargetTenant::All => {
                    return Err(ApiError::not_implemented(
                        "ListGraphRequest with tenantFilter=AllTenants",
                    ));
                }
            }
        } else {
            let partner = ctx.state.tenants.partner_tenant_id().to_owned();
            if !ctx.scope().permits(&[&partner]) {
                return Err(ApiError::forbidden(DENIED_TENANT));
            }
            (partner.clone(), partner)
        };
        let answer = list_graph_request(
            &ctx.state.graph,
            &ctx.state.proxy_guard,
            &tenant_id,
            &label,
            &query,
        )
        .await?;
        Ok(Reply::ok(json!({
            "Results": Value::Array(answer.results),
            "Metadata": Value::Object(answer.metadata),
        })))
    }
    .boxed_local()
}
