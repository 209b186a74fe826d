//! The single entry point: classify the path, apply faults, dispatch, and record stats.
//!
//! One handler instead of actix route tables, because Graph paths (`users('x')`, `$count`,
//! trailing slashes, `%23` in UPNs) are easier to match after our own decoding. The same
//! pipeline ([`serve`]) runs for requests off the wire and for the items of a `$batch`.

use std::any::Any;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::Extensions;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::faults::{Action, Firing};
use crate::graph::{self, Ctx, GraphError};
use crate::state::{Sim, StatKey, Tenant};
use crate::tokens;

pub(crate) enum Route<'p> {
    Graph {
        version: &'p str,
        rest: &'p str,
    },
    Exchange {
        version: &'p str,
        tenant: &'p str,
        rest: &'p str,
    },
    /// SharePoint hosts, served under `/_sp/` (site REST and admin CSOM).
    SharePoint(&'p str),
    /// The Azure MFA connector: `/StrongAuthenticationService.svc/{rest}` (`mfa_push.rs`).
    MfaConnector(&'p str),
    Token(&'p str),
    /// Entra's v1 token endpoint, `/{tenant}/oauth2/token` (the MFA connector's token).
    TokenV1(&'p str),
    /// The sign-in page: `/{tenant}/oauth2/v2.0/authorize` (`authorize.rs`).
    Authorize(&'p str),
    OpenIdV2(&'p str),
    OpenIdV1(&'p str),
    Keys {
        tenant: &'p str,
        v2: bool,
    },
    Unknown,
}

pub(crate) fn classify(path: &str) -> Route<'_> {
    let trimmed = path.trim_start_matches('/');
    let (first, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if first == "v1.0" || first == "beta" {
        return Route::Graph {
            version: first,
            rest,
        };
    }
    if first == "_sp" {
        return Route::SharePoint(rest);
    }
    if first.eq_ignore_ascii_case("StrongAuthenticationService.svc") {
        return Route::MfaConnector(rest);
    }
    if first == "adminapi" {
        let mut parts = rest.splitn(3, '/');
        let version = parts.next().unwrap_or("");
        let tenant = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("");
        if (version == "beta" || version == "v1.0") && !tenant.is_empty() {
            return Route::Exchange {
                version,
                tenant,
                rest,
            };
        }
        return Route::Unknown;
    }
    match rest.trim_end_matches('/') {
        "oauth2/v2.0/token" => Route::Token(first),
        "oauth2/token" => Route::TokenV1(first),
        "oauth2/v2.0/authorize" => Route::Authorize(first),
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

/// Request headers, from the wire or from a `$batch` item.
pub(crate) enum Headers<'a> {
    Http(&'a HeaderMap),
    List(&'a [(String, String)]),
}

impl Headers<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        match self {
            Headers::Http(map) => map.get(name).and_then(|v| v.to_str().ok()),
            Headers::List(list) => list
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
        }
    }
}

/// One request as the pipeline sees it.
pub(crate) struct Inbound<'a> {
    pub method: &'a str,
    /// The path as received (still percent-encoded), without the query.
    pub path: &'a str,
    pub query: &'a str,
    pub headers: Headers<'a>,
    pub body: &'a [u8],
}

/// What the pipeline decided: an answer, or closing the connection without one.
pub(crate) enum Outcome {
    Reply(HttpResponse),
    Drop,
}

/// A duplicate of the connection's socket, so a `drop` fault can shut it down.
struct ConnSocket(Arc<OwnedFd>);

/// Registered with `HttpServer::on_connect`: remembers each TLS connection's socket.
pub(crate) fn on_connect(conn: &dyn Any, ext: &mut Extensions) {
    type Tls = actix_tls::accept::rustls_0_23::TlsStream<tokio::net::TcpStream>;
    if let Some(tls) = conn.downcast_ref::<Tls>()
        && let Ok(fd) = tls.get_ref().0.as_fd().try_clone_to_owned()
    {
        ext.insert(ConnSocket(Arc::new(fd)));
    }
}

/// Shuts the socket down in both directions: the client sees the connection close with no
/// answer (and no TLS close_notify), the way a crashed proxy or a reset looks.
fn drop_connection(req: &HttpRequest) {
    if let Some(sock) = req.conn_data::<ConnSocket>()
        && let Ok(fd) = sock.0.try_clone()
    {
        let stream = std::net::TcpStream::from(fd);
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

pub(crate) async fn entry(
    req: HttpRequest,
    body: web::Bytes,
    sim: web::Data<Arc<Sim>>,
) -> HttpResponse {
    let sim: &Sim = sim.get_ref();
    let method = req.method().as_str();
    let path = req.path();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return crate::admin::handle(sim, method, path, &body);
    }
    let inbound = Inbound {
        method,
        path,
        query: req.query_string(),
        headers: Headers::Http(req.headers()),
        body: &body,
    };
    match serve(sim, &inbound, true).await {
        Outcome::Reply(resp) => resp,
        Outcome::Drop => {
            drop_connection(&req);
            // Never reaches the client: the socket is already shut down.
            HttpResponse::build(StatusCode::BAD_GATEWAY).finish()
        }
    }
}

/// Route, faults, dispatch and stats for one request. `$batch` is only served when
/// `allow_batch` (batches do not nest).
pub(crate) async fn serve(sim: &Sim, inb: &Inbound<'_>, allow_batch: bool) -> Outcome {
    let route = classify(inb.path);
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = inb
        .headers
        .get("client-request-id")
        .map(str::to_owned)
        .unwrap_or_else(|| request_id.clone());

    // Work out the tenant first: faults and stats are keyed by it.
    let mut graph_auth: Option<Result<serde_json::Value, &'static str>> = None;
    let mut url_tenant: Option<Arc<Tenant>> = None;
    let stat_tenant: Option<String> = match &route {
        Route::Graph { .. } => {
            let auth = tokens::validate_graph(sim, inb.headers.get("authorization"));
            let tid = auth
                .as_ref()
                .ok()
                .and_then(|c| c.get("tid"))
                .and_then(|t| t.as_str())
                .map(str::to_owned);
            graph_auth = Some(auth);
            tid
        }
        Route::Token(raw) | Route::TokenV1(raw) => {
            url_tenant = sim.resolve_tenant(raw);
            Some(
                url_tenant
                    .as_ref()
                    .map_or_else(|| (*raw).to_owned(), |t| t.id.clone()),
            )
        }
        Route::Exchange { tenant: raw, .. } => {
            url_tenant = sim.resolve_tenant(raw);
            Some(
                url_tenant
                    .as_ref()
                    .map_or_else(|| (*raw).to_owned(), |t| t.id.clone()),
            )
        }
        Route::OpenIdV1(raw)
        | Route::OpenIdV2(raw)
        | Route::Authorize(raw)
        | Route::Keys { tenant: raw, .. } => {
            url_tenant = sim.resolve_tenant(raw);
            url_tenant.as_ref().map(|t| t.id.clone())
        }
        Route::SharePoint(rest) => crate::graph::sharepoint::stat_tenant(sim, rest),
        Route::MfaConnector(_) => crate::mfa_push::stat_tenant(sim, inb),
        Route::Unknown => None,
    };

    // Only read the body for a cmdlet name when a fault asks for one.
    let cmdlet = match &route {
        Route::Exchange { .. } if sim.faults.lock().wants_cmdlet() => cmdlet_name(inb.body),
        _ => None,
    };
    let firing = sim.faults.lock().check(
        inb.method,
        inb.path,
        stat_tenant.as_deref(),
        cmdlet.as_deref(),
    );
    if firing.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(firing.latency_ms)).await;
    }

    if let Some(write) = crate::writes::write_of(&route, inb.method, inb.path, inb.body) {
        sim.writes.record(write);
    }
    let is_graph = matches!(route, Route::Graph { .. });
    let outcome = match firing.action {
        Some(Action::Drop) => Outcome::Drop,
        Some(Action::Status(status)) => Outcome::Reply(forced_status(
            &route,
            status,
            &firing,
            &request_id,
            &client_request_id,
        )),
        Some(Action::Acknowledge) => Outcome::Reply(crate::exchange::acknowledged(
            matches!(route, Route::Exchange { .. }),
            &request_id,
        )),
        Some(Action::Aadsts(code)) if matches!(route, Route::Token(_) | Route::TokenV1(_)) => {
            Outcome::Reply(tokens::aadsts_error(code).response())
        }
        action => {
            let outcome = match route {
                Route::Graph { version, rest }
                    if allow_batch
                        && rest.trim_end_matches('/') == "$batch"
                        && inb.method == "POST" =>
                {
                    match graph_auth.unwrap_or(Err("Access token is empty.")) {
                        Ok(_) => Box::pin(crate::batch::run(sim, inb, version)).await,
                        Err(msg) => Outcome::Reply(graph::error_response(
                            &GraphError::new(401, "InvalidAuthenticationToken", msg),
                            &request_id,
                            &client_request_id,
                            None,
                        )),
                    }
                }
                Route::Exchange {
                    version,
                    tenant,
                    rest,
                } => {
                    let target = crate::exchange::Target {
                        version,
                        raw_tenant: tenant,
                        rest,
                    };
                    Box::pin(crate::exchange::handle(
                        sim,
                        inb,
                        url_tenant,
                        &target,
                        &request_id,
                        allow_batch,
                    ))
                    .await
                }
                Route::Graph { version, rest } => {
                    let auth = graph_auth.unwrap_or(Err("Access token is empty."));
                    Outcome::Reply(graph_request(
                        sim,
                        inb,
                        version,
                        rest,
                        auth,
                        &request_id,
                        &client_request_id,
                    ))
                }
                Route::SharePoint(rest) => {
                    Outcome::Reply(crate::graph::sharepoint::handle(sim, inb, rest))
                }
                Route::MfaConnector(rest) => {
                    Outcome::Reply(crate::mfa_push::connector(sim, inb, rest).await)
                }
                Route::TokenV1(raw) => Outcome::Reply(if inb.method == "POST" {
                    crate::mfa_push::token_v1(sim, url_tenant, raw, inb.body)
                } else {
                    HttpResponse::MethodNotAllowed().finish()
                }),
                Route::Token(raw) => Outcome::Reply(if inb.method == "POST" {
                    tokens::token(sim, url_tenant, raw, inb.body)
                } else {
                    HttpResponse::MethodNotAllowed().finish()
                }),
                Route::OpenIdV2(raw) => Outcome::Reply(tokens::openid_v2(sim, url_tenant, raw)),
                Route::OpenIdV1(raw) => Outcome::Reply(tokens::openid_v1(sim, url_tenant, raw)),
                Route::Authorize(raw) => Outcome::Reply(crate::authorize::authorize(
                    sim, url_tenant, raw, inb.query,
                )),
                Route::Keys { tenant, v2 } => {
                    Outcome::Reply(tokens::jwks(sim, url_tenant, tenant, v2))
                }
                Route::Unknown => Outcome::Reply(HttpResponse::NotFound()
                    .content_type("application/json")
                    .body(r#"{"error":"not_found","error_description":"No such endpoint in the simulator."}"#)),
            };
            match outcome {
                Outcome::Reply(resp) if action == Some(Action::Malformed) => {
                    Outcome::Reply(truncate(resp))
                }
                other => other,
            }
        }
    };

    let status = match &outcome {
        Outcome::Reply(resp) => resp.status().as_u16(),
        Outcome::Drop => 0,
    };
    let outcome = match outcome {
        Outcome::Reply(mut resp) if is_graph => {
            let headers = resp.headers_mut();
            for (name, value) in [
                ("request-id", &request_id),
                ("client-request-id", &client_request_id),
            ] {
                if let Ok(v) = HeaderValue::from_str(value) {
                    headers.insert(HeaderName::from_static(name), v);
                }
            }
            Outcome::Reply(resp)
        }
        other => other,
    };
    sim.record(StatKey {
        method: inb.method.to_owned(),
        path: inb.path.to_owned(),
        tenant: stat_tenant,
        status,
    });
    outcome
}

/// `CmdletInput.CmdletName` of an InvokeCommand body (either casing, as Exchange accepts).
pub(crate) fn cmdlet_name(body: &[u8]) -> Option<String> {
    let parsed: serde_json::Value = serde_json::from_slice(body).ok()?;
    let input = parsed
        .get("CmdletInput")
        .or_else(|| parsed.get("cmdletInput"))?;
    input
        .get("CmdletName")
        .or_else(|| input.get("cmdletName"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The route's own error body for a status forced by a fault.
fn forced_status(
    route: &Route<'_>,
    status: u16,
    firing: &Firing,
    request_id: &str,
    client_request_id: &str,
) -> HttpResponse {
    let mut resp = match route {
        Route::Token(_)
        | Route::TokenV1(_)
        | Route::Authorize(_)
        | Route::OpenIdV1(_)
        | Route::OpenIdV2(_)
        | Route::Keys { .. } => tokens::fault_error(status).response(),
        Route::Exchange { .. } => crate::exchange::fault_response(status, request_id),
        _ => {
            return graph::error_response(
                &graph::fault_error(status),
                request_id,
                client_request_id,
                firing.retry_after.as_deref(),
            );
        }
    };
    if let Some(ra) = &firing.retry_after
        && let Ok(v) = HeaderValue::from_str(ra)
    {
        resp.headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, v);
    }
    resp
}

/// A 200 whose JSON body stops half way, as a proxy cutting a response short would leave it.
fn truncate(resp: HttpResponse) -> HttpResponse {
    let bytes = resp.into_body().try_into_bytes().unwrap_or_default();
    let cut = if bytes.len() > 2 {
        bytes.slice(..bytes.len() / 2)
    } else {
        web::Bytes::from_static(br#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"#)
    };
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(cut)
}

fn graph_request(
    sim: &Sim,
    inb: &Inbound<'_>,
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
    if let Err(e) = crate::token_modes::check(&claims, inb.method, rest) {
        return fail(e);
    }
    let ctx = Ctx {
        sim,
        tenant,
        version,
        eventual: inb
            .headers
            .get("consistencylevel")
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual")),
        query: graph::parse_query(inb.query),
        raw_query: inb.query,
        body: inb.body,
    };
    match graph::dispatch(&ctx, inb.method, rest) {
        Ok(r) => r,
        Err(e) => fail(e),
    }
}
