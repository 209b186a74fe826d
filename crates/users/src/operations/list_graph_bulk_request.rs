//! `ListGraphBulkRequest` (CIPP-API `Invoke-ListGraphBulkRequest.ps1` → `New-GraphBulkRequest`):
//! several Graph reads in one Graph `$batch`, as the user detail page reads its panels (groups,
//! MFA methods, the last sign-in, sign-in preferences, managed devices). Only GET requests are
//! sent (others are dropped, as CIPP drops them), and every path passes the same guard as
//! `ListGraphRequest`, so the proxy reaches nothing through a batch that it refuses alone.
//!
//! The answer is Graph's batch responses, `[{id, status, headers, body}]`, in request order; a
//! collection with an `@odata.nextLink` is read to its end (its further pages appended to
//! `body.value`) unless its id is in `noPaginateIds`.

use cipp_graph::{BatchRequest, BatchResponse, GraphClient, GraphError, GraphVersion};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::graph_proxy_guard::{ProxyGuard, is_expand_key};
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::operations::list_graph_request::check_next_link;

pub struct ListGraphBulkRequest;

const NO_REQUESTS: &str = "No requests found in the body";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The reads: `{id, url, method}`; only `method: GET` is sent. `url` is a Graph path
    /// relative to the version root (`/users/<id>/memberOf`, with any query), guarded as
    /// `ListGraphRequest`'s `Endpoint`.
    #[serde(rename = "requests")]
    pub requests: Option<Vec<BulkRequest>>,
    /// Ids of requests whose further pages are not read.
    #[serde(rename = "noPaginateIds")]
    pub no_paginate_ids: Option<Vec<String>>,
    /// Read with the app's own permissions instead of delegated ones.
    #[serde(rename = "asApp", default)]
    pub as_app: bool,
}

/// One read of the batch.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkRequest {
    /// Echoed as the answer's `id` (the position in `requests` when absent).
    pub id: Option<String>,
    pub url: Option<String>,
    /// `GET`; requests with any other method are dropped.
    pub method: Option<String>,
}

/// Graph's answer to one read, as Graph's `$batch` gives it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkResponse {
    pub id: String,
    pub status: u16,
    #[schema(value_type = GraphRow)]
    pub headers: Map<String, Value>,
    /// The read's body: a collection's `value`, an object, or Graph's `{error: {code, message}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<GraphRow>)]
    pub body: Option<Value>,
}

/// The url the batch sends: the path through the guard, the query as given (its `$expand`
/// values through the guard too).
fn guarded_url(guard: &ProxyGuard, url: &str) -> Result<String, String> {
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    };
    let expands: Vec<String> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| is_expand_key(k))
                .map(|(_, v)| v.into_owned())
                .collect()
        })
        .unwrap_or_default();
    let expand_refs: Vec<&str> = expands.iter().map(String::as_str).collect();
    let checked = guard
        .check(path, &expand_refs)
        .map_err(|e| e.to_string())?;
    Ok(match query.filter(|q| !q.is_empty()) {
        Some(query) => format!("{checked}?{query}"),
        None => checked,
    })
}

/// CIPP answers a failed batch with Graph's own message and a 400.
fn batch_failed(error: GraphError) -> UserError {
    UserError::GraphRequest {
        message: error.service_message().to_owned(),
        source: Some(Box::new(error)),
    }
}

/// Reads the rest of a collection from its `@odata.nextLink` into `body.value`.
async fn read_to_end(
    ctx: &Ctx,
    graph: &GraphClient,
    tenant: &str,
    response: &mut BatchResponse,
) -> Result<(), UserError> {
    let Some(body) = response.body.as_mut() else {
        return Ok(());
    };
    let Some(link) = body
        .get("@odata.nextLink")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Ok(());
    };
    // A link Graph gave still names a path; it passes the guard like any other.
    check_next_link(
        &graph.settings().graph_base_url,
        &ctx.env.proxy_guard,
        &link,
    )?;
    let more: Vec<Value> = graph
        .pages_from_link(tenant, &link, &[])
        .map_ok(|page| page.items)
        .try_concat()
        .await
        .map_err(batch_failed)?;
    if let Some(Value::Array(values)) = body.get_mut("value") {
        values.extend(more);
    }
    Ok(())
}

impl Operation for ListGraphBulkRequest {
    type Params = Params;
    type Answer = Vec<BulkResponse>;
    const NAME: &'static str = "ListGraphBulkRequest";
    const TAG: &'static str = "CIPP > Core";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Post;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListGraphBulkRequest.ps1",
        frontend: Some("src/pages/identity/administration/users/user/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Guarded as `ListGraphRequest`: a request whose path (or `$expand`, or a further page's link) reaches customer content or leaves the Graph version root refuses the whole batch with a 403 naming it, before anything is sent. A GET request without `url` is a 400 naming it. Throttled items are retried within the client's budget before their answer is kept. `tenantFilter` is required (CIPP falls back to the partner tenant).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "requests": [
                {"id": "userMemberOf", "url": format!("/users/{}/memberOf", crate::demo::USER_ID), "method": "GET"},
                {"id": "signInPreferences", "url": format!("/users/{}/authentication/signInPreferences", crate::demo::USER_ID), "method": "GET"},
            ],
            "noPaginateIds": ["signInPreferences"],
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<BulkResponse>>, UserError> {
        let tenant = ctx.tenant()?.clone();
        let graph = if params.as_app {
            ctx.graph.app_only()
        } else {
            ctx.graph.clone()
        };
        let requests = params.requests.unwrap_or_default();
        let mut batch = Vec::new();
        for (i, request) in requests.iter().enumerate() {
            let is_get = request
                .method
                .as_deref()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("GET"));
            if !is_get {
                continue;
            }
            let field = format!("requests[{i}].url");
            let url = request
                .url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| UserError::invalid(&field, format!("{field} is required")))?;
            let checked = guarded_url(&ctx.env.proxy_guard, url)
                .map_err(|why| UserError::refused(format!("{field}: {why}")))?;
            let id = request
                .id
                .clone()
                .filter(|id| !id.trim().is_empty())
                .unwrap_or_else(|| i.to_string());
            batch.push(BatchRequest::get(checked).with_id(id));
        }
        if batch.is_empty() {
            return Err(UserError::invalid("requests", NO_REQUESTS));
        }
        let no_paginate = params.no_paginate_ids.unwrap_or_default();
        let mut responses = graph
            .batch(&tenant.customer_id, GraphVersion::Beta, batch)
            .await
            .map_err(batch_failed)?;
        for response in &mut responses {
            if !no_paginate.iter().any(|id| id == &response.id) {
                read_to_end(&ctx, &graph, &tenant.customer_id, response).await?;
            }
        }
        let answer = responses
            .into_iter()
            .map(|r| BulkResponse {
                id: r.id,
                status: r.status,
                headers: r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
                body: r.body,
            })
            .collect();
        Ok(Outcome::json(answer).audit_tenant(&tenant.default_domain_name, &tenant.customer_id))
    }
}
