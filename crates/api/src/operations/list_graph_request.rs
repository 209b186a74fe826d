//! `ListGraphRequest` (CIPP-API `Invoke-ListGraphRequest.ps1`): the guarded, read-only Graph proxy.

use actix_web::http::StatusCode;
use cipp_users_domain::graph_request::{GraphRequestQuery, TenantPlaceholders, list_graph_request};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::{Context, Reply, TargetTenant};
use crate::auth::roles::DENIED_TENANT;
use crate::error::ApiError;

/// The OData options passed through, under the names Graph knows them by.
const ODATA_OPTIONS: &[&str] = &[
    "$select", "$filter", "$top", "$count", "$expand", "expand", "$orderby", "$search",
];

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let query = read_query(&ctx)?;
        let placeholders = placeholders(&ctx).await?;
        let graph = if ctx.params.boolean("AsApp")? {
            ctx.state.graph.app_only()
        } else {
            ctx.state.graph.clone()
        };
        let ignore_errors = ctx.params.boolean("IgnoreErrors")?;
        match list_graph_request(&graph, &ctx.state.proxy_guard, &placeholders, &query).await {
            Ok(answer) => Ok(Reply::ok(json!({
                "Results": Value::Array(answer.results),
                "Metadata": Value::Object(answer.metadata),
            }))),
            // The caller asked for errors as data: same text, 200 (CIPP's IgnoreErrors).
            Err(error @ cipp_users_domain::UserError::GraphRequest { .. }) if ignore_errors => {
                Ok(Reply {
                    status: StatusCode::OK,
                    body: json!({ "Results": error.to_string() }),
                })
            }
            Err(error) => Err(error.into()),
        }
    }
    .boxed_local()
}

fn read_query(ctx: &Context) -> Result<GraphRequestQuery, ApiError> {
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
    let reverse_tenant_lookup = ctx.params.boolean("ReverseTenantLookup")?.then(|| {
        ctx.params
            .string("ReverseTenantLookupProperty")
            .unwrap_or_else(|| "tenantId".to_owned())
    });
    Ok(GraphRequestQuery {
        endpoint: ctx.params.required("Endpoint")?,
        version: ctx.params.string("Version"),
        odata,
        no_pagination: ctx.params.boolean("NoPagination")?,
        manual_pagination: ctx.params.boolean("manualPagination")?,
        next_link: ctx.params.string("nextLink"),
        count_only: ctx.params.boolean("CountOnly")?,
        list_properties: ctx.params.boolean("ListProperties")?,
        reverse_tenant_lookup,
        sort: ctx.params.string("Sort"),
    })
}

/// The tenant the request reads (the partner tenant when no `tenantFilter` is given) and the
/// values its `%token%` placeholders stand for.
async fn placeholders(ctx: &Context) -> Result<TenantPlaceholders, ApiError> {
    let settings = &ctx.state.settings;
    let partner = ctx.state.tenants.partner_tenant_id().to_owned();
    let mut values = TenantPlaceholders {
        partner_tenant_id: partner.clone(),
        sam_app_id: settings.partner_client_id.clone(),
        ..TenantPlaceholders::default()
    };
    match ctx.params.string("tenantFilter") {
        Some(filter) => match ctx.target_tenant().await? {
            TargetTenant::One(tenant) => {
                values.tenant_id = tenant.customer_id.clone();
                values.default_domain = tenant.default_domain_name.clone();
                values.initial_domain = tenant.initial_domain_name.clone();
                values.tenant_name = tenant.display_name.clone();
                values.tenant_filter = filter;
            }
            TargetTenant::All => {
                return Err(ApiError::not_implemented(
                    "ListGraphRequest with tenantFilter=AllTenants",
                ));
            }
        },
        None => {
            // Without a tenantFilter CIPP reads the partner tenant.
            if !ctx.scope().permits(&[&partner]) {
                return Err(ApiError::forbidden(DENIED_TENANT));
            }
            values.tenant_id = partner.clone();
            values.tenant_filter = partner;
        }
    }
    Ok(values)
}
