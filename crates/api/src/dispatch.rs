//! `/api/{name}`: every operation, any case, any verb, through one generic path:
//! 404 for an unknown name → 401 without a valid token → 403 when the role does not allow the
//! operation → 501 for an operation not built yet → parameters and tenant (400/403) → the
//! operation → its answer. Writes and refusals leave their audit row before the answer goes out.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use cipp_users_domain::op::ctx::{check_scope, resolve_target};
use cipp_users_domain::op::{Body, Ctx, Declaration, Outcome, RawParams, Target};
use futures::StreamExt;
use serde_json::Value;
use std::sync::Arc;

use crate::audit::{self, AuditNotes, CallRecord};
use crate::auth::Caller;
use crate::auth::caller::authenticate;
use crate::error::ApiError;
use crate::registry::OperationSpec;
use crate::state::AppState;
use crate::streaming::json_array;

const ANY_OF_THESE_VERBS: [actix_web::http::Method; 5] = [
    actix_web::http::Method::GET,
    actix_web::http::Method::POST,
    actix_web::http::Method::PUT,
    actix_web::http::Method::PATCH,
    actix_web::http::Method::DELETE,
];

pub async fn dispatch(
    request: HttpRequest,
    name: web::Path<String>,
    body: Result<web::Bytes, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let operation = state
        .registry
        .find(&name)
        .ok_or_else(ApiError::not_found_endpoint)?;
    // CIPP answers GET, POST, PUT, PATCH and DELETE alike; nothing else runs an operation
    // (a TRACE must not disable a user).
    if !ANY_OF_THESE_VERBS.contains(request.method()) {
        return Err(ApiError::method_not_allowed());
    }
    let caller = match authenticate(&request, &state).await {
        Ok(caller) => caller,
        Err(error) => {
            audit::record_unauthorized(&state, &request).await;
            return Err(error);
        }
    };
    let body = body.map_err(|error| {
        ApiError::new(error.as_response_error().status_code(), error.to_string())
    })?;
    let spec = operation.spec.clone();
    if let Some(role) = &spec.role
        && let Err(refusal) = caller.roles.check_permission(role)
    {
        tracing::info!(operation = %spec.name, actor = %caller.actor(), "refused: {refusal}");
        let error = ApiError::forbidden(refusal);
        let parameters = RawParams::new(request.query_string(), &body)
            .map(|p| p.to_json())
            .unwrap_or(Value::Null);
        let record = CallRecord {
            request: &request,
            spec: &spec,
            caller: &caller,
            parameters,
            notes: &AuditNotes::default(),
            status: 403,
            message: error.message.clone(),
        };
        audit::record_call(&state, record).await;
        return Err(error);
    }
    let declaration = operation
        .declaration
        .clone()
        .ok_or_else(|| ApiError::not_implemented(&spec.name))?;
    run_declared(request, &state, caller, spec, declaration, &body).await
}

/// role → tenant → params → run → envelope → audit, the same for every declared operation.
async fn run_declared(
    request: HttpRequest,
    state: &web::Data<AppState>,
    caller: Caller,
    spec: OperationSpec,
    declaration: Arc<Declaration>,
    body: &Bytes,
) -> Result<HttpResponse, ApiError> {
    let raw = RawParams::new(request.query_string(), body);
    let parameters = raw.as_ref().map(RawParams::to_json).unwrap_or(Value::Null);
    let mut notes = AuditNotes::default();
    let caller_info: Arc<Caller> = Arc::new(caller.clone());
    let outcome: Result<Outcome<Value>, ApiError> = async {
        let raw = raw?;
        let target = resolve_target(
            declaration.tenant,
            &raw,
            &state.env,
            caller_info.as_ref(),
            declaration.role,
            declaration.name,
        )
        .await?;
        if let Target::One(tenant) = &target {
            notes.tenant = Some((
                tenant.default_domain_name.clone(),
                tenant.customer_id.clone(),
            ));
        }
        if !declaration.any_tenant {
            check_scope(&target, caller_info.as_ref())?;
        }
        let ctx = Ctx {
            graph: state.graph.clone(),
            store: state.store.clone(),
            env: state.env.clone(),
            caller: caller_info.clone(),
            target,
            operation: declaration.name,
            role: declaration.role,
            request: parameters.clone(),
            posted: request.method() == actix_web::http::Method::POST,
        };
        Ok(declaration.run(ctx, &raw).await?)
    }
    .await;
    let (status, message) = match &outcome {
        Ok(outcome) => {
            if let Some(tenant) = &outcome.audit.tenant {
                notes.tenant = Some(tenant.clone());
            }
            notes.message = outcome.audit.message.clone();
            notes.target = outcome.audit.target.clone();
            let status = if outcome.partial { 207 } else { 200 };
            let message = match &outcome.body {
                Body::Json(body) => audit::answer_message(body),
                Body::Rows(_) | Body::Bytes { .. } => format!("Answered {status}"),
            };
            (status, message)
        }
        Err(error) => {
            if let Some(detail) = &error.log_detail {
                tracing::warn!(operation = declaration.name, %detail, "operation failed");
            }
            (error.status.as_u16(), error.message.clone())
        }
    };
    let record = CallRecord {
        request: &request,
        spec: &spec,
        caller: &caller,
        parameters,
        notes: &notes,
        status,
        message,
    };
    audit::record_call(state, record).await;
    let outcome = outcome?;
    let status = if outcome.partial {
        actix_web::http::StatusCode::MULTI_STATUS
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(match outcome.body {
        Body::Json(body) => HttpResponse::build(status).json(body),
        Body::Rows(rows) => HttpResponse::build(status)
            .content_type("application/json")
            .streaming(json_array(
                rows.prefix,
                rows.pages
                    .map(|page| page.map_err(ApiError::from))
                    .boxed_local(),
                rows.suffix,
            )),
        Body::Bytes {
            content_type,
            bytes,
            file_name,
        } => {
            let mut response = HttpResponse::build(status);
            response.content_type(content_type);
            if let Some(name) = file_name {
                // The header type quotes and escapes the name, so a name built from tenant data
                // cannot end the header or add a parameter of its own.
                response.insert_header(ContentDisposition {
                    disposition: DispositionType::Inline,
                    parameters: vec![DispositionParam::Filename(name)],
                });
            }
            response.body(bytes)
        }
    })
}

/// Anything else under `/api/`.
pub async fn unknown_endpoint() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_endpoint())
}
