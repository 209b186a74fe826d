//! What every request leaves behind for operators: a correlation id (on the answer, in the audit
//! row, and on every log line written while it is served, domain and Graph lines included), and
//! its count and latency in the metrics.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use crate::audit;
use crate::prometheus::{REQUEST_SECONDS, REQUESTS};
use crate::state::AppState;

/// The `operation` label: a registered operation's own spelling (any case reaches it), else one
/// of a few fixed words, so a caller cannot grow the series by inventing paths.
fn operation_label(request: &ServiceRequest) -> String {
    let path = request.path();
    if let Some(name) = path.strip_prefix("/api/") {
        if name == "openapi.json" {
            return "openapi".into();
        }
        return request
            .app_data::<actix_web::web::Data<AppState>>()
            .and_then(|state| state.registry.find(name).map(|op| op.spec.name.clone()))
            .unwrap_or_else(|| "unknown".into());
    }
    if path.starts_with("/health/") {
        "health".into()
    } else if path.starts_with("/swagger-ui") {
        "swagger_ui".into()
    } else {
        "unknown".into()
    }
}

pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Gives the request its correlation id and serves it inside a `request` span holding that id,
/// so every event below it (any crate) carries the id; logs the answer, health probes at debug
/// only (a probe every few seconds would drown the log).
pub async fn correlate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let correlation_id = uuid::Uuid::new_v4().to_string();
    request
        .extensions_mut()
        .insert(audit::CorrelationId(correlation_id.clone()));
    let span = tracing::info_span!(
        "request",
        correlation_id = %correlation_id,
        method = %request.method(),
        path = %request.path(),
    );
    let probe = request.path().starts_with("/health/");
    let operation = operation_label(&request);
    let started = std::time::Instant::now();
    // Both the synchronous call (inner middleware run part of their work there) and every poll
    // of the answer run inside the span.
    let answer = span.in_scope(|| next.call(request));
    let mut response = answer.instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&correlation_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(CORRELATION_HEADER), value);
    }
    let status = response.status().as_u16();
    metrics::histogram!(REQUEST_SECONDS, "operation" => operation.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(REQUESTS, "operation" => operation, "status" => status.to_string())
        .increment(1);
    if probe {
        tracing::debug!(parent: &span, status, "answered");
    } else {
        tracing::info!(parent: &span, status, "answered");
    }
    Ok(response)
}
