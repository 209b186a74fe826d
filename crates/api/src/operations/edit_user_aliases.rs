//! `EditUserAliases` (CIPP-API `Invoke-EditUserAliases.ps1`): a mailbox's addresses.

use actix_web::http::StatusCode;
use cipp_users_domain::edit_user_aliases::{AliasChanges, edit_aliases, split_list};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::json;

use super::{Context, Reply, results_array};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let Some(user_id) = ctx.params.string("id") else {
            return Ok(Reply::with_status(
                StatusCode::BAD_REQUEST,
                json!({"Results": ["Failed to manage aliases. No user ID provided"]}),
            ));
        };
        let changes = AliasChanges {
            added: split_list("AddedAliases", ctx.params.string("AddedAliases").as_deref())?,
            removed: split_list(
                "RemovedAliases",
                ctx.params.string("RemovedAliases").as_deref(),
            )?,
            make_primary: ctx.params.string("MakePrimary"),
        };
        let tenant = ctx.single_tenant().await?;
        let outcome = edit_aliases(&ctx.state.graph, &tenant.customer_id, &user_id, &changes).await;
        match outcome {
            Ok(lines) => {
                ctx.audit.borrow_mut().message = Some(lines.join(" "));
                Ok(Reply::results(json!(lines)))
            }
            Err(e) => results_array::reply(Err(e)),
        }
    }
    .boxed_local()
}
