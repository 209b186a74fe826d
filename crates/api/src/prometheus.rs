//! Prometheus metrics: one recorder for the process (the `metrics` facade's global), rendered
//! as text on `GET /metrics` by a server of its own on `CIPP_METRICS_BIND`, never on the API's
//! port that PSA traffic reaches. Labels name operations, hosts and statuses only: never a
//! tenant or a user (unbounded, and who a caller manages is not the scraper's business).
//!
//! Series (and where they are counted):
//! - `cipp_http_requests_total{operation,status}`, `cipp_http_request_duration_seconds{operation}`
//!   (here, until the answer's head)
//! - `cipp_graph_requests_total{service,host,status,throttled}`,
//!   `cipp_graph_retries_total{service,host,reason}` (each attempt, `cipp-graph`)
//! - `cipp_token_cache_total{result}` (hit or miss, `cipp-graph`)
//! - `cipp_audit_rows_written_total` (`cipp-store`)
//! - `cipp_all_tenants_fanout_tenants` (tenants per AllTenants request, `cipp-users-domain`)
//! - `cipp_jobs{state}` (jobs by state across replicas, sampled every 15 s, [`crate::jobs`])

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;

pub const REQUESTS: &str = "cipp_http_requests_total";
pub const REQUEST_SECONDS: &str = "cipp_http_request_duration_seconds";

const SECONDS_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const TENANT_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The process's recorder, installed on first use (every `Application` in a test process shares it).
pub fn handle() -> Result<PrometheusHandle, String> {
    HANDLE.get_or_init(install).clone()
}

fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &SECONDS_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("cipp_all_tenants_fanout_tenants".into()),
                &TENANT_BUCKETS,
            )
        })
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| e.to_string())?;
    describe();
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_histogram};
    describe_counter!(REQUESTS, "API requests answered, by operation and status");
    describe_histogram!(
        REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "time to an answer's head, by operation"
    );
    describe_counter!(
        "cipp_graph_requests_total",
        "Graph and Exchange attempts, by service, host, status (or error) and throttled (429)"
    );
    describe_counter!(
        "cipp_graph_retries_total",
        "Graph and Exchange attempts retried, by service, host and reason"
    );
    describe_counter!(
        "cipp_token_cache_total",
        "access tokens asked of the cache: hit, or miss (a token request to Entra)"
    );
    describe_counter!(
        "cipp_audit_rows_written_total",
        "audit rows written to the store"
    );
    describe_histogram!(
        "cipp_all_tenants_fanout_tenants",
        "tenants an AllTenants request works on"
    );
    metrics::describe_gauge!(
        "cipp_jobs",
        "jobs by state (queued, running, completed, failed, cancelled), across replicas"
    );
}

async fn render(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    handle.run_upkeep();
    let mut text = Vec::new();
    match handle.render_to_write(&mut text) {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        Err(error) => {
            tracing::error!(%error, "rendering metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Serves `GET /metrics` on `listener` with one worker (a scrape every few seconds), and keeps
/// the recorder's histograms drained when nobody scrapes.
pub fn serve(listener: TcpListener, handle: PrometheusHandle) -> std::io::Result<Server> {
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let handle = web::Data::new(handle);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(handle.clone())
            .route("/metrics", web::get().to(render))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
}
