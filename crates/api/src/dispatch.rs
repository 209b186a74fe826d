//! `/api/{name}`: every operation, any case, any verb. The order of answers is fixed:
//! 404 for an unknown name, 401 without a valid token, 403 when the role does not allow the
//! operation, 501 for an operation not built yet, then the operation itself.

use actix_web::{HttpRequest, HttpResponse, web};

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
    let caller = authenticate(&request, &state).await?;
    if let Some(role) = &operation.spec.role
        && let Err(refusal) = caller.roles.check_permission(role)
    {
        tracing::info!(operation = %operation.spec.name, actor = %caller.actor(), "refused: {refusal}");
        return Err(ApiError::forbidden(refusal));
    }
    let handler = operation
        .handler
        .ok_or_else(|| ApiError::not_implemented(&operation.spec.name))?;
    let params = Params::new(request.query_string(), &body)?;
    let context = Context {
        state: state.clone(),
        caller,
        params,
        spec: operation.spec.clone(),
        request,
    };
    let reply = handler(context).await?;
    Ok(match reply.body {
        ReplyBody::Json(body) => HttpResponse::build(reply.status).json(body),
        ReplyBody::Stream(body) => HttpResponse::build(reply.status)
            .content_type("application/json")
            .streaming(body),
    })
}

/// Anything else under `/api/`.
pub async fn unknown_endpoint() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_endpoint())
}
