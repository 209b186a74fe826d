//! The one error type of the API layer. Every error body is `{"Results": "<text>"}`, because the
//! CIPP frontend and its integrations read `Results` first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use cipp_users_domain::UserError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    /// What the caller sees in `Results`.
    pub message: String,
    /// What only the log sees (e.g. why a token was refused).
    pub log_detail: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
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
            status: StatusCode::UNAUTHORIZED,
            message: "Unauthorized: a valid bearer token issued for this API is required".into(),
            log_detail: Some(reason.into()),
        }
    }

    pub fn not_found_endpoint() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Endpoint not found")
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
        let status = match &error {
            UserError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            UserError::NotFound { .. } => StatusCode::NOT_FOUND,
            UserError::Refused { .. } => StatusCode::FORBIDDEN,
            // CIPP answers a failed proxied Graph read with 400.
            UserError::GraphRequest { .. } => StatusCode::BAD_REQUEST,
            // CIPP answers failed actions with 500 and its message; we keep that status.
            UserError::Failed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let log_detail = match &error {
            UserError::Failed {
                source: Some(source),
                ..
            }
            | UserError::GraphRequest {
                source: Some(source),
                ..
            } => Some(format!("{source:?}")),
            _ => None,
        };
        Self {
            status,
            message: error.to_string(),
            log_detail,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(detail) = &self.log_detail {
            tracing::info!(status = self.status.as_u16(), detail = %detail, "request refused or failed");
        }
        HttpResponse::build(self.status).json(json!({ "Results": self.message }))
    }
}
