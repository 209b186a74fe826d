//! Liveness and readiness, outside `/api` and without authentication.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the authority's signing keys can be read (without them no caller gets in).
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.tokens.ready().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok" })),
        Err(error) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "unavailable",
            "failed": [{ "check": "signing_keys", "error": error.to_string() }]
        })),
    }
}
