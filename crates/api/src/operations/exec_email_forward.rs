//! `ExecEmailForward` (CIPP-API `Invoke-ExecEmailForward.ps1`): sets or clears forwarding.
//!
//! `Results` is an array, as in CIPP, failures included. Differences: an unknown or missing
//! `forwardOption`, or an option without its address, is a 400 naming the field (CIPP: 200
//! `{"Results": [null]}` and nothing changed); a missing `userID` is a 400 (CIPP: Exchange's
//! error). CIPP reads the body only; the query is read too here.

use actix_web::http::StatusCode;
use cipp_users_domain::UserError;
use cipp_users_domain::email_forward::{Forwarding, keep_copy, set_forwarding};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::json;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("userID")?;
        let forwarding = Forwarding::from_request(
            ctx.params.string("forwardOption").as_deref(),
            ctx.params.string("ForwardInternal"),
            ctx.params.string("ForwardExternal"),
        )?;
        let keep = keep_copy(ctx.params.raw("KeepCopy").as_ref());
        let tenant = ctx.single_tenant().await?;
        match set_forwarding(
            &ctx.state.graph,
            &tenant.customer_id,
            &user_id,
            &forwarding,
            keep,
        )
        .await
        {
            Ok(lines) => Ok(Reply::results(json!(lines))),
            Err(UserError::Failed { message, source }) => {
                tracing::info!(detail = ?source, "{message}");
                Ok(Reply::with_status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "Results": [message] }),
                ))
            }
            Err(other) => Err(other.into()),
        }
    }
    .boxed_local()
}
