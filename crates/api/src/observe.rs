//! What every request leaves behind for operators: a correlation id (on the answer, in the audit
//! row, and on every log line written while it is served, domain and Graph lines included).

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use crate::audit;

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
    if probe {
        tracing::debug!(parent: &span, status, "answered");
    } else {
        tracing::info!(parent: &span, status, "answered");
    }
    Ok(response)
}
