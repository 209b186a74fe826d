//! `ListGraphRequest` (CIPP-API `Invoke-ListGraphRequest.ps1` → `Get-GraphRequestList.ps1`): a
//! read-only Graph proxy that the CIPP tables and most PSA tools read through. Only GET is ever
//! sent, and only after [`crate::graph_proxy_guard`] has accepted the path.

use cipp_graph::{GraphClient, GraphVersion};
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
    /// `$select`, `$filter`, `$top`, `$count`, `$expand`, `expand`, `$orderby`, `$search`, … as given.
    pub odata: BTreeMap<String, String>,
    pub no_pagination: bool,
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

/// Reads a Graph path for one tenant. Every row gets `Tenant` (the name the caller used) and
/// `CippStatus: "Good"`.
pub async fn list_graph_request(
    graph: &GraphClient,
    guard: &ProxyGuard,
    tenant_id: &str,
    tenant_label: &str,
    query: &GraphRequestQuery,
) -> Result<GraphRequestAnswer, UserError> {
    let expands: Vec<&str> = ["$expand", "expand"]
        .iter()
        .filter_map(|k| query.odata.get(*k).map(String::as_str))
        .collect();
    let endpoint = guard
        .check(&query.endpoint, &expands)
        .map_err(|e| UserError::Refused {
            message: e.to_string(),
        })?;
    let version = parse_version(query.version.as_deref())?;
    let query_string = build_query(&query.odata)?;
    let path = if query_string.is_empty() {
        endpoint.clone()
    } else {
        format!("{endpoint}?{query_string}")
    };
    // CIPP always sends ConsistencyLevel for single-tenant reads, so advanced queries work.
    let headers = [("ConsistencyLevel", "eventual")];
    let graph_failed = |error: cipp_graph::GraphError| UserError::GraphRequest {
        message: format!(
            "Graph Error: {} - Endpoint: {}",
            normalize_message(&error.to_string_for_cipp()),
            query.endpoint
        ),
        source: Some(Box::new(error)),
    };
    let mut rows = if query.no_pagination {
        let body = graph
            .get(tenant_id, version, &path, &headers)
            .await
            .map_err(graph_failed)?;
        match body.get("value") {
            Some(Value::Array(items)) => items.clone(),
            _ => vec![body],
        }
    } else {
        graph
            .get_all(tenant_id, version, &path, &headers)
            .await
            .map_err(graph_failed)?
    };
    for row in &mut rows {
        if let Value::Object(fields) = row {
            fields.insert("Tenant".into(), json!(tenant_label));
            fields.insert("CippStatus".into(), json!("Good"));
        }
    }
    let mut metadata = Map::new();
    metadata.insert("Endpoint".into(), json!(query.endpoint));
    metadata.insert("Parameters".into(), json!(query.odata));
    metadata.insert("TenantFilter".into(), json!(tenant_label));
    if let Some(version) = &query.version {
        metadata.insert("Version".into(), json!(version));
    }
    if query.no_pagination {
        metadata.insert("NoPagination".into(), json!(true));
    }
    Ok(GraphRequestAnswer {
        results: rows,
        metadata,
    })
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
