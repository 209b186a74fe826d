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
