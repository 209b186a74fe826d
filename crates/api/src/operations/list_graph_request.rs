//! `ListGraphRequest` (CIPP-API `Invoke-ListGraphRequest.ps1`): the guarded, read-only Graph proxy.

use actix_web::http::StatusCode;
use cipp_graph::GraphClient;
use cipp_users_domain::UserError;
use cipp_users_domain::graph_request::{
    GraphRequestQuery, TenantPlaceholders, graph_request_pages, list_graph_request, prepare,
    streams_pages,
};
use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::{Context, Reply, TargetTenant};
use crate::auth::roles::DENIED_TENANT;
use crate::error::ApiError;
use crate::fan_out::fan_out;
use crate::streaming::{json_array, start};

/// The OData options passed through, under the names Graph knows them by.
const ODATA_OPTIONS: &[&str] = &[
    "$select", "$filter", "$top", "$count", "$expand", "expand", "$orderby", "$search",
];

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let query = read_query(&ctx)?;
        let graph = if ctx.params.boolean("AsApp")? {
            ctx.state.graph.app_only()
        } else {
            ctx.state.graph.clone()
        };
        let ignore_errors = ctx.params.boolean("IgnoreErrors")?;
        let answer = match placeholders(&ctx).await? {
            Some(placeholders) => one_tenant(&ctx, graph, placeholders, query).await,
            None => return all_tenants(&ctx, graph, query).await,
        };
        match answer {
            Ok(reply) => Ok(reply),
            // The caller asked for errors as data: same text, 200 (CIPP's IgnoreErrors).
            Err(error @ UserError::GraphRequest { .. }) if ignore_errors => Ok(Reply::with_status(
                StatusCode::OK,
                json!({ "Results": error.to_string() }),
            )),
            Err(error) => Err(error.into()),
        }
    }
    .boxed_local()
}

async fn one_tenant(
    ctx: &Context,
    graph: GraphClient,
    placeholders: TenantPlaceholders,
    query: GraphRequestQuery,
) -> Result<Reply, UserError> {
    let prepared = prepare(&graph, &ctx.state.env.proxy_guard, &placeholders, &query)?;
    if !streams_pages(&prepared) {
        let answer =
            list_graph_request(&graph, &ctx.state.env.proxy_guard, &placeholders, &query).await?;
        return Ok(Reply::ok(json!({
            "Results": Value::Array(answer.results),
            "Metadata": Value::Object(answer.metadata),
        })));
    }
    let pages = start(graph_request_pages(&graph, &placeholders, &prepared)).await?;
    let pages = pages.map(|page| page.map_err(ApiError::from)).boxed_local();
    let suffix = format!(",\"Metadata\":{}}}", Value::Object(prepared.metadata));
    Ok(Reply::stream(json_array(
        "{\"Results\":".to_owned(),
        pages,
        suffix,
    )))
}

/// Every tenant the caller may see, inline: each tenant's rows, or a row saying why it has none.
async fn all_tenants(
    ctx: &Context,
    graph: GraphClient,
    query: GraphRequestQuery,
) -> Result<Reply, ApiError> {
    let tenants = ctx.visible_tenants().await?;
    // Refuse a bad request once, before any tenant is asked (the guard does not depend on the tenant
    // except through placeholders, which are checked again per tenant).
    let probe = "00000000-0000-0000-0000-000000000000".to_owned();
    let probe = TenantPlaceholders {
        tenant_id: probe.clone(),
        tenant_filter: probe.clone(),
        default_domain: probe.clone(),
        initial_domain: probe.clone(),
        tenant_name: probe.clone(),
        partner_tenant_id: probe.clone(),
        sam_app_id: probe,
    };
    prepare(&graph, &ctx.state.env.proxy_guard, &probe, &query)?;
    let guard = ctx.state.env.proxy_guard.clone();
    let base = base_placeholders(ctx);
    let metadata = json!({
        "Endpoint": query.endpoint,
        "Parameters": query.odata,
        "TenantFilter": "AllTenants",
    });
    let settings = &ctx.state.settings;
    let pages = fan_out(
        tenants,
        settings.all_tenants_budget,
        settings.all_tenants_concurrency,
        move |tenant| {
            let mut placeholders = base.clone();
            placeholders.tenant_id = tenant.customer_id.clone();
            placeholders.default_domain = tenant.default_domain_name.clone();
            placeholders.initial_domain = tenant.initial_domain_name.clone();
            placeholders.tenant_name = tenant.display_name.clone();
            placeholders.tenant_filter = tenant.default_domain_name.clone();
            let mut query = query.clone();
            // One page per tenant has no meaning across tenants; CIPP pages every tenant fully.
            query.manual_pagination = false;
            query.next_link = None;
            match prepare(&graph, &guard, &placeholders, &query) {
                Ok(prepared) if streams_pages(&prepared) => {
                    graph_request_pages(&graph, &placeholders, &prepared)
                        .map(|page| page.map_err(ApiError::from))
                        .boxed_local()
                }
                Ok(_) => {
                    let (graph, guard) = (graph.clone(), guard.clone());
                    futures::stream::once(async move {
                        list_graph_request(&graph, &guard, &placeholders, &query)
                            .await
                            .map(|answer| answer.results)
                            .map_err(ApiError::from)
                    })
                    .boxed_local()
                }
                Err(error) => {
                    futures::stream::once(async move { Err(ApiError::from(error)) }).boxed_local()
                }
            }
        },
    );
    let suffix = format!(",\"Metadata\":{metadata}}}");
    Ok(Reply::stream(json_array(
        "{\"Results\":".to_owned(),
        pages,
        suffix,
    )))
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

fn base_placeholders(ctx: &Context) -> TenantPlaceholders {
    TenantPlaceholders {
        partner_tenant_id: ctx.state.env.tenants.partner_tenant_id().to_owned(),
        sam_app_id: ctx.state.settings.partner_client_id.clone(),
        ..TenantPlaceholders::default()
    }
}

/// The tenant the request reads (the partner tenant when no `tenantFilter` is given) and the
/// values its `%token%` placeholders stand for; `None` for `AllTenants`.
async fn placeholders(ctx: &Context) -> Result<Option<TenantPlaceholders>, ApiError> {
    let mut values = base_placeholders(ctx);
    let partner = values.partner_tenant_id.clone();
    match ctx.params.string("tenantFilter") {
        Some(filter) => match ctx.target_tenant().await? {
            TargetTenant::One(tenant) => {
                values.tenant_id = tenant.customer_id.clone();
                values.default_domain = tenant.default_domain_name.clone();
                values.initial_domain = tenant.initial_domain_name.clone();
                values.tenant_name = tenant.display_name.clone();
                values.tenant_filter = filter;
            }
            TargetTenant::All => return Ok(None),
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
    Ok(Some(values))
}
