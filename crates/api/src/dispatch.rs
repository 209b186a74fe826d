//! `/api/{name}`: every operation, any case, any verb, through one generic path:
//! 404 for an unknown name → 401 without a valid token → 403 when the role does not allow the
//! operation → 501 for an operation not built yet → parameters and tenant (400/403) → the
//! operation → its answer. Writes and refusals leave their audit row before the answer goes out.
//! A write with `Idempotency-Key` runs once per key ([`idempotency`]); a write with `WhatIf=true`
//! runs dry ([`what_if`]).

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use cipp_graph::DryRun;
use cipp_store::IdempotencyClaim;
use cipp_users_domain::op::ctx::{check_scope, resolve_target};
use cipp_users_domain::op::what_if;
use cipp_users_domain::op::{Body, Ctx, Declaration, Outcome, RawParams, Target, WhatIf};
use futures::StreamExt;
use serde_json::Value;
use std::sync::Arc;

use crate::audit::{self, AuditNotes, CallRecord};
use crate::auth::Caller;
use crate::auth::caller::authenticate;
use crate::error::ApiError;
use crate::idempotency;
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

/// The declared operation, once per `Idempotency-Key` when the call writes and carries one.
async fn run_declared(
    request: HttpRequest,
    state: &web::Data<AppState>,
    caller: Caller,
    spec: OperationSpec,
    declaration: Arc<Declaration>,
    body: &Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = if declaration.writes {
        idempotency::key_of(&request)?
    } else {
        None
    };
    let Some(key) = key else {
        let outcome = execute(&request, state, &caller, &spec, &declaration, body).await?;
        return Ok(respond(outcome));
    };
    let parameters = RawParams::new(request.query_string(), body)
        .map(|raw| raw.to_json())
        .unwrap_or(Value::Null);
    let principal = idempotency::principal(&caller);
    let fingerprint = idempotency::fingerprint(declaration.name, &parameters);
    let seal = &state.answer_seal;
    let claim = state
        .store
        .idempotency_claim(
            &principal,
            &key,
            &fingerprint,
            idempotency::TIME_TO_LIVE,
            seal,
        )
        .await
        .map_err(idempotency::store_error)?;
    let claim = match claim {
        IdempotencyClaim::Running { fingerprint: first } => {
            if first != fingerprint {
                return Err(idempotency::reused_with_other_parameters());
            }
            idempotency::wait_for_first(&state.store, &principal, &key, &fingerprint, seal).await?
        }
        other => other,
    };
    match claim {
        IdempotencyClaim::Done {
            fingerprint: first,
            status,
            answer,
        } => {
            if first != fingerprint {
                return Err(idempotency::reused_with_other_parameters());
            }
            let answer = answer.map_err(|_| idempotency::unreadable_answer())?;
            let status = actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::OK);
            return Ok(HttpResponse::build(status)
                .insert_header((idempotency::REPLAYED_HEADER, "true"))
                .content_type("application/json")
                .body(answer));
        }
        IdempotencyClaim::Running { .. } => return Err(idempotency::still_running()),
        IdempotencyClaim::Claimed => {}
    }
    let outcome = execute(&request, state, &caller, &spec, &declaration, body).await;
    let kept: Option<(u16, Vec<u8>)> = match &outcome {
        Ok(Outcome {
            body: Body::Json(answer),
            partial,
            ..
        }) => serde_json::to_vec(answer)
            .ok()
            .map(|bytes| (if *partial { 207 } else { 200 }, bytes)),
        // Streamed and binary answers are not kept (no write answers with one today).
        Ok(_) => None,
        Err(error) if idempotency::keeps_error(error.status) => serde_json::to_vec(&error.body())
            .ok()
            .map(|bytes| (error.status.as_u16(), bytes)),
        Err(_) => None,
    };
    let recorded = match &kept {
        Some((status, bytes)) => {
            state
                .store
                .idempotency_finish(&principal, &key, *status, bytes, seal)
                .await
        }
        None => state.store.idempotency_release(&principal, &key).await,
    };
    if let Err(error) = recorded {
        // The change (if any) is made and answered; only a repeat of this key is not protected.
        tracing::error!(%error, operation = declaration.name, "the idempotency record could not be updated");
    }
    Ok(respond(outcome?))
}

/// role → tenant → params → run (or dry run) → envelope → audit, the same for every declared
/// operation.
async fn execute(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    caller: &Caller,
    spec: &OperationSpec,
    declaration: &Arc<Declaration>,
    body: &Bytes,
) -> Result<Outcome<Value>, ApiError> {
    let raw = RawParams::new(request.query_string(), body);
    let parameters = raw.as_ref().map(RawParams::to_json).unwrap_or(Value::Null);
    let mut notes = AuditNotes::default();
    let caller_info: Arc<Caller> = Arc::new(caller.clone());
    let mut dry_run: Option<DryRun> = None;
    let outcome: Result<Outcome<Value>, ApiError> = async {
        let raw = raw?;
        let what_if = declaration.writes && what_if::requested(&raw)?;
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
        if what_if && let WhatIf::OwnState(what) = declaration.what_if {
            declaration.check(&raw)?;
            return Ok(Outcome::json(what_if::own_state_answer(
                declaration.name,
                what,
                parameters.clone(),
            )));
        }
        let (graph, env) = if what_if {
            let log = DryRun::new();
            let clients = what_if::dry_clients(&state.graph, &state.env, &log);
            dry_run = Some(log);
            clients
        } else {
            (state.graph.clone(), state.env.clone())
        };
        let ctx = Ctx {
            graph,
            store: state.store.clone(),
            env,
            caller: caller_info.clone(),
            target,
            operation: declaration.name,
            role: declaration.role,
            request: parameters.clone(),
            posted: request.method() == actix_web::http::Method::POST,
            dry_run: dry_run.clone(),
        };
        let mut outcome = declaration.run(ctx, &raw).await?;
        if let Some(log) = &dry_run
            && let Body::Json(answer) = outcome.body
        {
            outcome.body = Body::Json(what_if::mark_answer(answer, log.planned()));
        }
        Ok(outcome)
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
    if dry_run.is_some() {
        // The audit row says plainly that nothing changed.
        notes.message = Some(format!(
            "Dry run (WhatIf), nothing was changed: {}",
            notes.message.clone().unwrap_or_else(|| message.clone())
        ));
    }
    let record = CallRecord {
        request,
        spec,
        caller,
        parameters,
        notes: &notes,
        status,
        message,
    };
    audit::record_call(state, record).await;
    outcome
}

/// The HTTP answer of a successful call.
fn respond(outcome: Outcome<Value>) -> HttpResponse {
    let status = if outcome.partial {
        actix_web::http::StatusCode::MULTI_STATUS
    } else {
        actix_web::http::StatusCode::OK
    };
    match outcome.body {
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
    }
}

/// Anything else under `/api/`.
pub async fn unknown_endpoint() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_endpoint())
}
