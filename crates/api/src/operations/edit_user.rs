//! `EditUser` (CIPP-API `Invoke-EditUser.ps1` → `Set-CIPPUser.ps1`): the edit-user form.

use actix_web::http::StatusCode;
use cipp_users_domain::UserError;
use cipp_users_domain::edit_user::{EditUser, edit_user};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Map, json};

use super::{Context, Reply, results_array};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let body = ctx
            .params
            .body()
            .as_object()
            .cloned()
            .unwrap_or_else(Map::new);
        let edit = match EditUser::from_body(&body) {
            Ok(edit) => edit,
            // CIPP's own text and array shape for a missing id.
            Err(UserError::InvalidInput { field, message }) if field == "id" => {
                return Ok(Reply::with_status(
                    StatusCode::BAD_REQUEST,
                    json!({"Results": [message]}),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let tenant = ctx.single_tenant().await?;
        match edit_user(&ctx.state.graph, &tenant.customer_id, &edit).await {
            Ok(outcome) => {
                // The audit row gets the lines without the password.
                ctx.audit.borrow_mut().message = Some(outcome.log_lines.join(" "));
                // CIPP answers 200 whatever failed; a failed step is an error status here.
                let status = if outcome.failed {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                };
                Ok(Reply::with_status(
                    status,
                    json!({ "Results": outcome.results }),
                ))
            }
            Err(e) => results_array::reply(Err(e)),
        }
    }
    .boxed_local()
}
