//! The one error type of the API layer, and the only place a domain error kind becomes a status
//! code. Every error body is `{"Results": <text or list>, "code": "<kind>"}`: the CIPP frontend
//! and its integrations read `Results`, a script can branch on the stable `code`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use cipp_users_domain::{ErrorKind, UserError};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    /// The text of the answer (and of the audit row).
    pub message: String,
    /// What the caller sees in `Results` when it is not `message` itself (a list, as CIPP sends
    /// for some operations).
    pub results: Option<Value>,
    /// The stable, machine-readable kind of the failure.
    pub code: &'static str,
    /// What only the log sees (e.g. why a token was refused, the cause chain of a failure).
    pub log_detail: Option<String>,
}

/// The status each domain error kind is answered with.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        // CIPP answers a request Microsoft 365 refused with 400.
        ErrorKind::UpstreamRejected => StatusCode::BAD_REQUEST,
        // CIPP answers failed actions with 500 and its message; we keep that status.
        ErrorKind::UpstreamFailed => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Codes of failures the API layer itself answers (no domain kind).
pub const CODE_UNAUTHORIZED: &str = "unauthorized";
pub const CODE_UNKNOWN_OPERATION: &str = "unknown_operation";
pub const CODE_TOO_LARGE: &str = "payload_too_large";
pub const CODE_METHOD_NOT_ALLOWED: &str = "method_not_allowed";
pub const CODE_HEADERS_TOO_LARGE: &str = "headers_too_large";
pub const CODE_REQUEST_TIMEOUT: &str = "request_timeout";
/// An `Idempotency-Key` used again for a different request.
pub const CODE_IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
/// A cookie-authenticated (Static Web Apps) request a cross-site page could have sent.
pub const CODE_CROSS_SITE: &str = "cross_site_request";

fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => ErrorKind::InvalidInput.code(),
        401 => CODE_UNAUTHORIZED,
        403 => ErrorKind::Forbidden.code(),
        404 => CODE_UNKNOWN_OPERATION,
        409 => ErrorKind::Conflict.code(),
        405 => CODE_METHOD_NOT_ALLOWED,
        413 => CODE_TOO_LARGE,
        408 => CODE_REQUEST_TIMEOUT,
        431 => CODE_HEADERS_TOO_LARGE,
        501 => ErrorKind::NotImplemented.code(),
        _ => ErrorKind::Internal.code(),
    }
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            results: None,
            code: code_of(status),
            log_detail: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 401 with a fixed text; the reason is logged only, so probing callers learn nothing.
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self {
            log_detail: Some(reason.into()),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: a valid bearer token issued for this API is required",
            )
        }
    }

    pub fn not_found_endpoint() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Endpoint not found")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Operations answer GET, POST, PUT, PATCH and DELETE",
        )
    }

    pub fn not_implemented(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{name} is not implemented yet"),
        )
    }
}

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        let kind = error.kind();
        let log_detail = std::error::Error::source(&error).map(|source| {
            // The whole cause chain, for the log only.
            let mut chain = format!("{source}");
            let mut next = source.source();
            while let Some(cause) = next {
                chain.push_str(&format!(": {cause}"));
                next = cause.source();
            }
            chain
        });
        let results = match &error {
            UserError::Answered { results, .. } => Some(results.clone()),
            _ => None,
        };
        Self {
            status: status_of(kind),
            message: error.to_string(),
            results,
            code: kind.code(),
            log_detail,
        }
    }
}

impl ApiError {
    /// The body every error is answered with.
    pub fn body(&self) -> Value {
        json!({
            "Results": self.results.clone().unwrap_or_else(|| Value::String(self.message.clone())),
            "code": self.code,
        })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            // Ours or Microsoft's failure: an operator looks at these, with the whole cause chain.
            tracing::error!(
                status = self.status.as_u16(),
                code = self.code,
                message = %self.message,
                cause = self.log_detail.as_deref().unwrap_or(""),
                "request failed"
            );
        } else if let Some(detail) = &self.log_detail {
            tracing::info!(status = self.status.as_u16(), detail = %detail, "request refused or failed");
        }
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response.insert_header(("Allow", "GET, POST, PUT, PATCH, DELETE"));
        }
        response.json(self.body())
    }
}
