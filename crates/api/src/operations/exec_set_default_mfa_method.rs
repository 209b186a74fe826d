//! `ExecSetDefaultMFAMethod` (CIPP-API `Invoke-ExecSetDefaultMFAMethod.ps1`): the user's default
//! second factor. `Results` is an array of strings, failures included.
//!
//! CIPP answers a missing input with one 400 naming all three; here the 400 names the missing
//! field. An unknown `MethodType` is CIPP's own 400 with its text.

use actix_web::http::StatusCode;
use cipp_users_domain::default_mfa_method::{METHODS, invalid_method_text, set_default_mfa_method};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::json;

use super::{Context, Reply, results_array};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("ID")?;
        let method = ctx.params.required("MethodType")?;
        if !METHODS.iter().any(|m| m.eq_ignore_ascii_case(&method)) {
            return Ok(Reply::with_status(
                StatusCode::BAD_REQUEST,
                json!({ "Results": [invalid_method_text(&method)] }),
            ));
        }
        let tenant = ctx.single_tenant().await?;
        results_array::reply(
            set_default_mfa_method(&ctx.state.graph, &tenant.customer_id, &user_id, &method).await,
        )
    }
    .boxed_local()
}
