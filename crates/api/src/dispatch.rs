//! `/api/{name}`: every operation, any case, any verb. The order of answers is fixed:
//! 404 for an unknown name, 401 without a valid token, 403 when the role does not allow the
//! operation, 501 for an operation not built yet, then the operation itself. Writes and
//! refusals leave their audit row before the answer goes out.

use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

use crate::audit::{self, AuditNotes, CallRecord};
use crate::auth::caller::authenticate;
use crate::error::ApiError;
use crate::operations::{Context, ReplyBody};
use crate::params::Params;
use crate::state::AppState;

pub async fn dispatch(
    request: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let operation = state
        .registry
        .find(&name)
        .ok_or_else(ApiError::not_found_endpoint)?;
    let caller = match authenticate(&request, &state).await {
        Ok(caller) => caller,
        Err(error) => {
            audit::record_unauthorized(&state, &request).await;
            return Err(error);
        }
    };
    let spec = operation.spec.clone();
    let params = Params::new(request.query_string(), &body);
    let parameters = params.as_ref().map(Params::to_json).unwrap_or(Value::Null);
    let notes = Rc::new(RefCell::new(AuditNotes::default()));
    if let Some(role) = &spec.role
        && let Err(refusal) = caller.roles.check_permission(role)
    {
        tracing::info!(operation = %spec.name, actor = %caller.actor(), "refused: {refusal}");
        let error = ApiError::forbidden(refusal);
        let snapshot = notes.borrow().clone();
        let record = CallRecord {
            request: &request,
            spec: &spec,
            caller: &caller,
            parameters,
            notes: &snapshot,
            status: 403,
            message: error.message.clone(),
        };
        audit::record_call(&state, record).await;
        return Err(error);
    }
    let handler = operation
        .handler
        .ok_or_else(|| ApiError::not_implemented(&spec.name))?;
    let params = params?;
    let context = Context {
        state: state.clone(),
        caller: caller.clone(),
        params,
        spec: spec.clone(),
        request: request.clone(),
        audit: notes.clone(),
    };
    let outcome = handler(context).await;
    let (status, message) = match &outcome {
        Ok(reply) => match &reply.body {
            ReplyBody::Json(body) => (reply.status.as_u16(), audit::answer_message(body)),
            ReplyBody::Stream(_) | ReplyBody::Bytes { .. } => {
                (reply.status.as_u16(), format!("Answered {}", reply.status))
            }
        },
        Err(error) => (error.status_code().as_u16(), error.message.clone()),
    };
    let snapshot = notes.borrow().clone();
    let record = CallRecord {
        request: &request,
        spec: &spec,
        caller: &caller,
        parameters,
        notes: &snapshot,
        status,
        message,
    };
    audit::record_call(&state, record).await;
    let reply = outcome?;
    Ok(match reply.body {
        ReplyBody::Json(body) => HttpResponse::build(reply.status).json(body),
        ReplyBody::Stream(body) => HttpResponse::build(reply.status)
            .content_type("application/json")
            .streaming(body),
        ReplyBody::Bytes {
            content_type,
            bytes,
        } => HttpResponse::build(reply.status)
            .content_type(content_type)
            .body(bytes),
    })
}

/// Anything else under `/api/`.
pub async fn unknown_endpoint() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_endpoint())
}
