//! Limits on what a client may send before any operation runs: the size of the request head,
//! the size of the body and the time taken to send it. Each refusal is the usual error
//! envelope (`{"Results": …, "code": …}`) naming the limit, not a bare status.
//!
//! actix-http itself refuses a head over 128 KB or with more than 96 header lines with a bare
//! 431 before any middleware runs; this layer refuses everything from [`MAX_HEADER_BYTES`] up.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpMessage, ResponseError};
use futures::StreamExt;

use crate::error::{ApiError, CODE_HEADERS_TOO_LARGE, CODE_REQUEST_TIMEOUT};

/// Request line and headers together; CIPP's own callers send a few KB.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Room for a 4 MB photo sent as base64 (ExecSetUserPhoto), which CIPP accepts.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// The size of a request head as sent: request line, and `name: value\r\n` per header.
fn head_size(request: &ServiceRequest) -> usize {
    let line = request.method().as_str().len() + request.uri().to_string().len() + 12;
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + line
}

/// Refuses an oversized head (431), an oversized body (413) and a body not received within
/// `body_timeout` (408); otherwise hands the buffered body on to the route.
pub async fn limits(
    body_timeout: Duration,
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, Error> {
    let size = head_size(&request);
    if size > MAX_HEADER_BYTES {
        let error = ApiError {
            code: CODE_HEADERS_TOO_LARGE,
            ..ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!(
                    "The request headers are {size} bytes; the limit is {MAX_HEADER_BYTES} bytes (32 KB)"
                ),
            )
        };
        return Ok(refuse(request, &error));
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Ok(refuse(request, &too_large()));
    }
    let mut payload = request.take_payload();
    let mut body = BytesMut::new();
    let deadline = tokio::time::Instant::now() + body_timeout;
    loop {
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Err(_) => {
                let error = ApiError {
                    code: CODE_REQUEST_TIMEOUT,
                    ..ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "The request body was not received within {} seconds, the limit",
                            body_timeout.as_secs_f64()
                        ),
                    )
                };
                return Ok(refuse(request, &error));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                let error =
                    ApiError::bad_request(format!("The request body could not be read: {e}"));
                return Ok(refuse(request, &error));
            }
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Ok(refuse(request, &too_large()));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    request.set_payload(actix_web::dev::Payload::from(Bytes::from(body)));
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The request body is larger than the limit of {MAX_BODY_BYTES} bytes (6 MB)"),
    )
}

fn refuse<B>(request: ServiceRequest, error: &ApiError) -> ServiceResponse<EitherBody<B>> {
    let mut response = error.error_response();
    // The connection may still carry unread body bytes; do not reuse it.
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    request.into_response(response).map_into_right_body()
}
