//! The single entry point: classify the path, apply faults, dispatch, and record stats.
//!
//! One handler instead of actix route tables, because Graph paths (`users('x')`, `$count`,
//! trailing slashes, `%23` in UPNs) are easier to match after our own decoding.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::graph::{self, Ctx, GraphError};
use crate::state::{Sim, StatKey, Tenant};
use crate::tokens;

enum Route<'p> {
    Graph { version: &'p str, rest: &'p str },
    Token(&'p str),
    OpenIdV2(&'p str),
    OpenIdV1(&'p str),
    Keys { tenant: &'p str, v2: bool },
    Unknown,
}

fn classify(path: &str) -> Route<'_> {
    let trimmed = path.trim_start_matches('/');
    let (first, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if first == "v1.0" || first == "beta" {
        return Route::Graph {
            version: first,
            rest,
        };
    }
    match rest.trim_end_matches('/') {
        "oauth2/v2.0/token" => Route::Token(first),
        "v2.0/.well-known/openid-configuration" => Route::OpenIdV2(first),
        ".well-known/openid-configuration" => Route::OpenIdV1(first),
        "discovery/v2.0/keys" => Route::Keys {
            tenant: first,
            v2: true,
        },
        "discovery/keys" => Route::Keys {
            tenant: first,
            v2: false,
        },
        _ => Route::Unknown,
    }
}

fn header<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

pub(crate) async fn entry(
    req: HttpRequest,
    body: web::Bytes,
    sim: web::Data<Arc<Sim>>,
) -> HttpResponse {
    let sim: &Sim = sim.get_ref();
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return crate::admin::handle(sim, &method, &path, &body);
    }
    let route = classify(&path);
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = header(&req, "client-request-id")
        .map(str::to_owned)
        .unwrap_or_else(|| request_id.clone());

    // Work out the tenant first: faults and stats are keyed by it.
    let mut graph_auth: Option<Result<serde_json::Value, &'static str>> = None;
    let mut url_tenant: Option<Arc<Tenant>> = None;
    let stat_tenant: Option<String> = match &route {
        Route::Graph { .. } => {
            let auth = tokens::validate_graph(sim, header(&req, "authorization"));
            let tid = auth
                .as_ref()
                .ok()
                .and_then(|c| c.get("tid"))
                .and_then(|t| t.as_str())
                .map(str::to_owned);
            graph_auth = Some(auth);
            tid
        }
        Route::Token(raw) => {
            url_tenant = sim.resolve_tenant(raw);
            Some(
                url_tenant
                    .as_ref()
                    .map_or_else(|| (*raw).to_owned(), |t| t.id.clone()),
            )
        }
        Route::OpenIdV1(raw) | Route::OpenIdV2(raw) | Route::Keys { tenant: raw, .. } => {
            url_tenant = sim.resolve_tenant(raw);
            url_tenant.as_ref().map(|t| t.id.clone())
        }
        Route::Unknown => None,
    };

    let firing = sim
        .faults
        .lock()
        .check(&method, &path, stat_tenant.as_deref());
    if firing.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(firing.latency_ms)).await;
    }

    let mut resp = if let Some(status) = firing.status {
        match &route {
            Route::Token(_) | Route::OpenIdV1(_) | Route::OpenIdV2(_) | Route::Keys { .. } => {
                let mut r = tokens::fault_error(status).response();
                if let Some(ra) = &firing.retry_after
                    && let Ok(v) = HeaderValue::from_str(ra)
                {
                    r.headers_mut()
                        .insert(actix_web::http::header::RETRY_AFTER, v);
                }
                r
            }
            _ => graph::error_response(
                &graph::fault_error(status),
                &request_id,
                &client_request_id,
                firing.retry_after.as_deref(),
            ),
        }
    } else {
        match route {
            Route::Graph { version, rest } => {
                let auth = graph_auth.unwrap_or(Err("Access token is empty."));
                graph_request(sim, &req, &body, version, rest, auth, &request_id, &client_request_id)
            }
            Route::Token(raw) => {
                if method == "POST" {
                    tokens::token(sim, url_tenant, raw, &body)
                } else {
                    HttpResponse::MethodNotAllowed().finish()
                }
            }
            Route::OpenIdV2(raw) => tokens::openid_v2(sim, url_tenant, raw),
            Route::OpenIdV1(raw) => tokens::openid_v1(sim, url_tenant, raw),
            Route::Keys { tenant, v2 } => tokens::jwks(sim, url_tenant, tenant, v2),
            Route::Unknown => HttpResponse::NotFound()
                .content_type("application/json")
                .body(r#"{"error":"not_found","error_description":"No such endpoint in the simulator."}"#),
        }
    };

    if matches!(classify(&path), Route::Graph { .. }) {
        let headers = resp.headers_mut();
        for (name, value) in [
            ("request-id", &request_id),
            ("client-request-id", &client_request_id),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
    }
    sim.record(StatKey {
        method,
        path,
        tenant: stat_tenant,
        status: resp.status().as_u16(),
    });
    resp
}

#[allow(clippy::too_many_arguments)]
fn graph_request(
    sim: &Sim,
    req: &HttpRequest,
    body: &[u8],
    version: &str,
    rest: &str,
    auth: Result<serde_json::Value, &'static str>,
    request_id: &str,
    client_request_id: &str,
) -> HttpResponse {
    let fail = |e: GraphError| graph::error_response(&e, request_id, client_request_id, None);
    let claims = match auth {
        Ok(c) => c,
        Err(msg) => return fail(GraphError::new(401, "InvalidAuthenticationToken", msg)),
    };
    let tenant = claims
        .get("tid")
        .and_then(|t| t.as_str())
        .and_then(|tid| sim.resolve_tenant(tid));
    let Some(tenant) = tenant else {
        return fail(GraphError::new(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
        ));
    };
    let raw_query = req.query_string();
    let ctx = Ctx {
        sim,
        tenant,
        version,
        eventual: header(req, "consistencylevel")
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual")),
        query: graph::parse_query(raw_query),
        raw_query,
        body,
    };
    match graph::dispatch(&ctx, req.method().as_str(), rest) {
        Ok(r) => r,
        Err(e) => fail(e),
    }
}
