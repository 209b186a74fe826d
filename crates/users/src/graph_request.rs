//! `ListGraphRequest` (CIPP-API `Invoke-ListGraphRequest.ps1` → `Get-GraphRequestList.ps1`): a
//! read-only Graph proxy that the CIPP tables and most PSA tools read through. Only GET is ever
//! sent, and only after [`crate::graph_proxy_guard`] has accepted the path.

use cipp_graph::{GraphClient, GraphVersion};
use futures::StreamExt;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use crate::graph_proxy_guard::ProxyGuard;
use crate::normalize::normalize_message;
use crate::{UserError, query_value};

/// What the caller asked for, already read from the request.
#[derive(Debug, Clone, Default)]
pub struct GraphRequestQuery {
    pub endpoint: String,
    /// `v1.0` or `beta` (default `beta`).
    pub version: Option<String>,
    /// `$select`, `$filter`, `$top`, `$count`, `$expand`, `expand`, `$orderby`, `$search` as given.
    pub odata: BTreeMap<String, String>,
    /// Only the first page.
    pub no_pagination: bool,
    /// One page, with the next page's link in `Metadata.nextLink`.
    pub manual_pagination: bool,
    /// With `manual_pagination`: continue from this link (it must point at the Graph origin).
    pub next_link: Option<String>,
    /// Only the count, as `Results: [n]`.
    pub count_only: bool,
    /// Property names of the first record instead of records.
    pub list_properties: bool,
    /// Prepend `TenantInfo` for the tenant named by this property of each row.
    pub reverse_tenant_lookup: Option<String>,
    /// Sort the rows by this property.
    pub sort: Option<String>,
}

/// The values CIPP's `%token%` placeholders stand for, for one tenant.
#[derive(Debug, Clone, Default)]
pub struct TenantPlaceholders {
    pub tenant_id: String,
    pub tenant_filter: String,
    pub default_domain: String,
    pub initial_domain: String,
    pub tenant_name: String,
    pub partner_tenant_id: String,
    pub sam_app_id: String,
}

impl TenantPlaceholders {
    /// Replaces `%token%` placeholders (any case) and `{DaysAgo:N}` in a value.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if out.contains('%') {
            for (token, value) in [
                ("%tenantid%", &self.tenant_id),
                ("%organizationid%", &self.tenant_id),
                ("%tenantfilter%", &self.tenant_filter),
                ("%defaultdomain%", &self.default_domain),
                ("%initialdomain%", &self.initial_domain),
                ("%tenantname%", &self.tenant_name),
                ("%partnertenantid%", &self.partner_tenant_id),
                ("%samappid%", &self.sam_app_id),
            ] {
                out = replace_ignoring_case(&out, token, value);
            }
        }
        replace_days_ago(&out)
    }
}

fn replace_ignoring_case(text: &str, token: &str, value: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(found) = lower[rest..].find(token) {
        let at = rest + found;
        out.push_str(&text[rest..at]);
        out.push_str(value);
        rest = at + token.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// `{DaysAgo:N}` becomes the UTC date N days ago as `yyyy-MM-dd`.
fn replace_days_ago(text: &str) -> String {
    let mut out = text.to_owned();
    while let Some(start) = out.find("{DaysAgo:") {
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let days: i64 = out[start + 9..start + len].trim().parse().unwrap_or(0);
        let date = (time::OffsetDateTime::now_utc() - time::Duration::days(days)).date();
        let formatted = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        out.replace_range(start..=start + len, &formatted);
    }
    out
}

pub struct GraphRequestAnswer {
    pub results: Vec<Value>,
    pub metadata: Map<String, Value>,
}

fn parse_version(version: Option<&str>) -> Result<GraphVersion, UserError> {
    match version.map(str::trim) {
        None | Some("") => Ok(GraphVersion::Beta),
        Some(v) if v.eq_ignore_ascii_case("beta") => Ok(GraphVersion::Beta),
        Some(v) if v.eq_ignore_ascii_case("v1.0") => Ok(GraphVersion::V1),
        Some(other) => Err(UserError::invalid(
            "Version",
            format!("Version must be v1.0 or beta, got '{other}'"),
        )),
    }
}

/// The query string CIPP builds: `$select` items cut at the first `.`, de-duplicated and sorted;
/// keys in ordinal order; empty values dropped; values encoded so they stay one parameter.
pub fn build_query(odata: &BTreeMap<String, String>) -> Result<String, UserError> {
    let mut parts = Vec::new();
    for (key, value) in odata {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let value = match key.as_str() {
            "$select" => {
                let mut fields: Vec<&str> = value
                    .split(',')
                    .map(|f| f.split('.').next().unwrap_or_default().trim())
                    .filter(|f| !f.is_empty())
                    .collect();
                fields.sort_unstable();
                fields.dedup();
                fields.join(",")
            }
            "$top" => match value.parse::<u32>() {
                Ok(n) if n >= 1 => n.to_string(),
                _ => {
                    return Err(UserError::invalid(
                        "$top",
                        format!("$top must be a positive whole number, got '{value}'"),
                    ));
                }
            },
            "$count" => match value.to_ascii_lowercase().as_str() {
                "true" | "false" => value.to_ascii_lowercase(),
                _ => {
                    return Err(UserError::invalid(
                        "$count",
                        format!("$count must be true or false, got '{value}'"),
                    ));
                }
            },
            _ => value.to_owned(),
        };
        parts.push(format!("{key}={}", query_value(&value)));
    }
    Ok(parts.join("&"))
}

/// Checks a `nextLink` the caller sent back: it must be an absolute URL on the configured Graph
/// origin under a version root, and its path must pass the same guard as `Endpoint`.
pub fn check_next_link(
    graph_base: &url::Url,
    guard: &ProxyGuard,
    link: &str,
) -> Result<(GraphVersion, String), UserError> {
    let refuse = |why: &str| UserError::Refused {
        message: format!("nextLink is refused: {why}"),
    };
    if link
        .chars()
        .any(|c| c.is_control() || c == '\\' || c.is_whitespace())
    {
        return Err(refuse(
            "it contains control characters, spaces or backslashes",
        ));
    }
    let url = url::Url::parse(link).map_err(|_| refuse("it is not an absolute URL"))?;
    if url.origin() != graph_base.origin() || !url.username().is_empty() || url.password().is_some()
    {
        return Err(refuse(
            "it does not point at the Graph service this API uses",
        ));
    }
    if url.fragment().is_some() {
        return Err(refuse("it has a fragment"));
    }
    let path = url.path();
    let (version, rest) = if let Some(rest) = path.strip_prefix("/v1.0/") {
        (GraphVersion::V1, rest)
    } else if let Some(rest) = path.strip_prefix("/beta/") {
        (GraphVersion::Beta, rest)
    } else {
        return Err(refuse("it is not under /v1.0/ or /beta/"));
    };
    let expands: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == "$expand" || k == "expand")
        .map(|(_, v)| v.into_owned())
        .collect();
    let expand_refs: Vec<&str> = expands.iter().map(String::as_str).collect();
    let checked = guard
        .check(rest, &expand_refs)
        .map_err(|e| refuse(&e.to_string()))?;
    let path_and_query = match url.query() {
        Some(query) => format!("{checked}?{query}"),
        None => checked,
    };
    Ok((version, path_and_query))
}

/// A request checked and built, ready to send.
pub struct PreparedRequest {
    /// The query after `%token%` substitution and CIPP's adjustments.
    pub query: GraphRequestQuery,
    pub version: GraphVersion,
    pub path: String,
    pub metadata: Map<String, Value>,
}

/// Substitutes placeholders, applies the guard to `Endpoint`, `$expand` and `nextLink`, and
/// builds the path and the echoed `Metadata`. Nothing is sent.
pub fn prepare(
    graph: &GraphClient,
    guard: &ProxyGuard,
    placeholders: &TenantPlaceholders,
    query: &GraphRequestQuery,
) -> Result<PreparedRequest, UserError> {
    let mut query = query.clone();
    query.endpoint = placeholders.apply(&query.endpoint);
    for value in query.odata.values_mut() {
        *value = placeholders.apply(value);
    }
    let expands: Vec<&str> = ["$expand", "expand"]
        .iter()
        .filter_map(|k| query.odata.get(*k).map(String::as_str))
        .collect();
    let endpoint = guard
        .check(&query.endpoint, &expands)
        .map_err(|e| UserError::Refused {
            message: e.to_string(),
        })?;
    let mut version = parse_version(query.version.as_deref())?;
    if query.list_properties {
        query.odata.remove("$select");
        query.no_pagination = true;
    }
    if query.count_only {
        // CIPP answers null unless the caller also sends $count=true; asking for it is what they meant.
        query.odata.insert("$count".into(), "true".into());
        query.odata.insert("$top".into(), "1".into());
    }
    let query_string = build_query(&query.odata)?;
    let mut path = if query_string.is_empty() {
        endpoint.clone()
    } else {
        format!("{endpoint}?{query_string}")
    };
    if let (Some(link), true) = (&query.next_link, query.manual_pagination)
        && !link.trim().is_empty()
    {
        let (link_version, link_path) =
            check_next_link(&graph.settings().graph_base_url, guard, link.trim())?;
        version = link_version;
        path = link_path;
    }
    let mut metadata = Map::new();
    metadata.insert("Endpoint".into(), json!(query.endpoint));
    metadata.insert("Parameters".into(), json!(query.odata));
    metadata.insert("TenantFilter".into(), json!(placeholders.tenant_filter));
    if let Some(version) = &query.version {
        metadata.insert("Version".into(), json!(version));
    }
    if query.no_pagination {
        metadata.insert("NoPagination".into(), json!(true));
    }
    if query.manual_pagination {
        metadata.insert("ManualPagination".into(), json!(true));
    }
    Ok(PreparedRequest {
        query,
        version,
        path,
        metadata,
    })
}

/// CIPP always sends ConsistencyLevel for single-tenant reads, so advanced queries work.
const HEADERS: [(&str, &str); 1] = [("ConsistencyLevel", "eventual")];

fn graph_failed(endpoint: &str, error: cipp_graph::GraphError) -> UserError {
    UserError::GraphRequest {
        message: format!(
            "Graph Error: {} - Endpoint: {endpoint}",
            normalize_message(&error.to_string_for_cipp())
        ),
        source: Some(Box::new(error)),
    }
}

/// Whether a prepared request reads every page and needs nothing but the rows: then it can be
/// streamed page by page with [`graph_request_pages`].
pub fn streams_pages(prepared: &PreparedRequest) -> bool {
    let q = &prepared.query;
    !(q.count_only
        || q.list_properties
        || q.no_pagination
        || q.manual_pagination
        || q.sort.is_some())
}

/// Every page of a prepared request, rows tagged with `Tenant` and `CippStatus`.
pub fn graph_request_pages(
    graph: &GraphClient,
    placeholders: &TenantPlaceholders,
    prepared: &PreparedRequest,
) -> impl futures::Stream<Item = Result<Vec<Value>, UserError>> + 'static {
    let graph = graph.clone();
    let placeholders = placeholders.clone();
    let query = prepared.query.clone();
    let endpoint = query.endpoint.clone();
    graph
        .pages(
            &placeholders.tenant_id,
            prepared.version,
            &prepared.path,
            &HEADERS,
        )
        .then(move |page| {
            let (graph, placeholders, query, endpoint) = (
                graph.clone(),
                placeholders.clone(),
                query.clone(),
                endpoint.clone(),
            );
            async move {
                let page = page.map_err(|e| graph_failed(&endpoint, e))?;
                let answer = finish(page.items, Map::new(), &placeholders, &query, &graph).await?;
                Ok(answer.results)
            }
        })
}

/// Reads a Graph path for one tenant, all at once. Every row gets `Tenant` (the name the caller
/// used) and `CippStatus: "Good"`.
pub async fn list_graph_request(
    graph: &GraphClient,
    guard: &ProxyGuard,
    placeholders: &TenantPlaceholders,
    query: &GraphRequestQuery,
) -> Result<GraphRequestAnswer, UserError> {
    let PreparedRequest {
        query,
        version,
        path,
        mut metadata,
    } = prepare(graph, guard, placeholders, query)?;
    let headers = HEADERS;
    let graph_failed = |error| graph_failed(&query.endpoint, error);
    if query.count_only {
        metadata.insert("CountOnly".into(), json!(true));
        let body = graph
            .get(&placeholders.tenant_id, version, &path, &headers)
            .await
            .map_err(graph_failed)?;
        let count = body.get("@odata.count").cloned().unwrap_or(Value::Null);
        return Ok(GraphRequestAnswer {
            results: vec![count],
            metadata,
        });
    }
    let mut rows = if query.no_pagination || query.manual_pagination {
        let body = graph
            .get(&placeholders.tenant_id, version, &path, &headers)
            .await
            .map_err(graph_failed)?;
        if query.manual_pagination
            && let Some(next) = body.get("@odata.nextLink").and_then(Value::as_str)
        {
            metadata.insert("nextLink".into(), json!(next));
        }
        match body {
            Value::Null => Vec::new(),
            Value::Object(mut fields) => match fields.remove("value") {
                Some(Value::Array(items)) => items,
                Some(other) => {
                    fields.insert("value".into(), other);
                    vec![Value::Object(fields)]
                }
                None => vec![Value::Object(fields)],
            },
            other => vec![other],
        }
    } else {
        graph
            .get_all(&placeholders.tenant_id, version, &path, &headers)
            .await
            .map_err(graph_failed)?
    };
    if query.list_properties {
        let names: Vec<Value> = rows
            .first()
            .and_then(Value::as_object)
            .map(|o| {
                o.keys()
                    .filter(|k| !k.starts_with("@odata"))
                    .map(|k| json!(k))
                    .collect()
            })
            .unwrap_or_default();
        rows = names;
        return Ok(GraphRequestAnswer {
            results: rows,
            metadata,
        });
    }
    finish(rows, metadata, placeholders, &query, graph).await
}

async fn finish(
    mut rows: Vec<Value>,
    metadata: Map<String, Value>,
    placeholders: &TenantPlaceholders,
    query: &GraphRequestQuery,
    graph: &GraphClient,
) -> Result<GraphRequestAnswer, UserError> {
    if let Some(property) = &query.reverse_tenant_lookup {
        reverse_tenant_lookup(graph, &placeholders.partner_tenant_id, property, &mut rows).await;
    }
    for row in &mut rows {
        if let Value::Object(fields) = row {
            fields.insert("Tenant".into(), json!(placeholders.tenant_filter));
            fields.insert("CippStatus".into(), json!("Good"));
        }
    }
    if let Some(property) = &query.sort {
        sort_rows(&mut rows, property);
    }
    Ok(GraphRequestAnswer {
        results: rows,
        metadata,
    })
}

/// Sorts by a property: numbers numerically, everything else as case-insensitive text; rows
/// without the property last.
pub fn sort_rows(rows: &mut [Value], property: &str) {
    rows.sort_by(|a, b| {
        let (x, y) = (a.get(property), b.get(property));
        match (x, y) {
            (Some(Value::Number(x)), Some(Value::Number(y))) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(std::cmp::Ordering::Equal),
            (Some(x), Some(y)) => text_of(x).cmp(&text_of(y)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

/// CIPP's `ReverseTenantLookup`: for each distinct value of `property` (a tenant id), the
/// partner tenant's `findTenantInformationByTenantId`, app-only, prepended as `TenantInfo`.
/// Values that are not GUIDs are never put into a URL.
async fn reverse_tenant_lookup(
    graph: &GraphClient,
    partner_tenant_id: &str,
    property: &str,
    rows: &mut [Value],
) {
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get(property).and_then(Value::as_str))
        .filter(|v| crate::is_guid(v))
        .map(str::to_ascii_lowercase)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let app = graph.app_only();
    let lookups = futures::stream::iter(ids)
        .map(|id| {
            let app = app.clone();
            async move {
                let path =
                    format!("tenantRelationships/findTenantInformationByTenantId(tenantId='{id}')");
                let info = app
                    .get(partner_tenant_id, GraphVersion::V1, &path, &[])
                    .await
                    .ok();
                (id, info)
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let found: BTreeMap<String, Value> = lookups
        .into_iter()
        .filter_map(|(id, info)| info.map(|i| (id, i)))
        .collect();
    for row in rows.iter_mut() {
        let key = row
            .get(property)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        if let (Some(key), Value::Object(fields)) = (key, row) {
            let info = found.get(&key).cloned().unwrap_or(Value::Null);
            let mut with_info = Map::new();
            with_info.insert("TenantInfo".into(), info);
            with_info.extend(std::mem::take(fields));
            *fields = with_info;
        }
    }
}

/// How a Graph failure reads in CIPP messages: Graph's own message, else its code.
trait CippText {
    fn to_string_for_cipp(&self) -> String;
}

impl CippText for cipp_graph::GraphError {
    fn to_string_for_cipp(&self) -> String {
        match self {
            cipp_graph::GraphError::Api { message, code, .. } if message.is_empty() => code.clone(),
            cipp_graph::GraphError::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_items_are_cut_deduplicated_and_sorted() {
        let odata = BTreeMap::from([
            (
                "$select".to_owned(),
                "manager.displayName,id,displayName,id".to_owned(),
            ),
            ("$top".to_owned(), "5".to_owned()),
            ("$filter".to_owned(), String::new()),
        ]);
        assert_eq!(
            build_query(&odata).unwrap(),
            "$select=displayName,id,manager&$top=5"
        );
    }

    #[test]
    fn a_bad_top_or_count_is_refused_naming_the_parameter() {
        let odata = BTreeMap::from([("$top".to_owned(), "lots".to_owned())]);
        assert!(
            build_query(&odata)
                .unwrap_err()
                .to_string()
                .starts_with("$top")
        );
        let odata = BTreeMap::from([("$count".to_owned(), "maybe".to_owned())]);
        assert!(
            build_query(&odata)
                .unwrap_err()
                .to_string()
                .starts_with("$count")
        );
    }
}
