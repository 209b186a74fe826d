//! `AddGuest` (CIPP-API `Invoke-AddGuest.ps1`): a B2B invitation; `Results` is a one-item array,
//! a failure CIPP's text with 400 as CIPP answers it.
//!
//! Differences from CIPP: a missing or malformed `mail` and a non-boolean `sendInvite` are a 400
//! naming the field (CIPP: Graph's failure text, or a plain-text 500).

use actix_web::http::StatusCode;
use cipp_users_domain::UserError;
use cipp_users_domain::add_guest::{NewGuest, add_guest, plausible_address};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::json;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let mail = ctx.params.required("mail")?;
        if !plausible_address(&mail) {
            return Err(ApiError::bad_request(format!(
                "mail: '{mail}' is not an e-mail address"
            )));
        }
        let guest = NewGuest {
            display_name: ctx.params.string("displayName"),
            mail,
            message: ctx.params.string("message"),
            redirect_uri: ctx.params.string("redirectUri"),
            // Convert.ToBoolean: absent means false, as CIPP reads it.
            send_invite: ctx.params.boolean("sendInvite")?,
        };
        let tenant = ctx.single_tenant().await?;
        match add_guest(&ctx.state.graph, &tenant.customer_id, &guest).await {
            Ok(text) => Ok(Reply::results(json!([text]))),
            Err(UserError::Failed { message, source }) => {
                if let Some(source) = source {
                    tracing::info!(detail = ?source, "invitation failed");
                }
                Ok(Reply::with_status(
                    StatusCode::BAD_REQUEST,
                    json!({ "Results": [message] }),
                ))
            }
            Err(other) => Err(other.into()),
        }
    }
    .boxed_local()
}
