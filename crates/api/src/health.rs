//! Liveness and readiness, outside `/api` and without authentication.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use crate::state::AppState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the authority's signing keys can be read (without them no caller gets in) and
/// the store answers (without it no write can be audited).
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let mut failed: Vec<Value> = Vec::new();
    if let Err(error) = state.tokens.ready().await {
        failed.push(json!({ "check": "signing_keys", "error": error.to_string() }));
    }
    if let Err(error) = state.store.ready().await {
        failed.push(json!({ "check": "store", "error": error.to_string() }));
    }
    if failed.is_empty() {
        HttpResponse::Ok().json(json!({ "status": "ok" }))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "failed": failed }))
    }
}

/// The path `cipp-users healthcheck` probes. Liveness, not readiness: a container runtime acts
/// on an unhealthy container (restarts it, takes it out of rotation), and a restart cures a hung
/// process but not an unreachable Entra or database; probing readiness would have every
/// replica marked unhealthy, and restarted, during such an outage.
pub const HEALTHCHECK_PATH: &str = "/health/live";

/// Where to probe a service bound to `bind`: a wildcard bind answers on loopback.
pub fn probe_address(bind: std::net::SocketAddr) -> std::net::SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    std::net::SocketAddr::new(ip, bind.port())
}

/// One `GET` of [`HEALTHCHECK_PATH`] over plain HTTP/1.1, blocking, every step within `timeout`:
/// `Ok` when the service answered 200. Std only, so the probe needs no runtime and no TLS.
pub fn probe(bind: std::net::SocketAddr, timeout: std::time::Duration) -> Result<(), String> {
    use std::io::{Read, Write};
    let address = probe_address(bind);
    let mut stream = std::net::TcpStream::connect_timeout(&address, timeout)
        .map_err(|e| format!("connecting to {address}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("setting timeouts: {e}"))?;
    let request =
        format!("GET {HEALTHCHECK_PATH} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("sending to {address}: {e}"))?;
    // The status line is all that is needed; it fits in the first read.
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("reading from {address}: {e}")),
        }
        if head[..read].contains(&b'\n') {
            break;
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        Err(format!(
            "{address}{HEALTHCHECK_PATH} answered {:?}",
            status_line.lines().next().unwrap_or("nothing")
        ))
    }
}
