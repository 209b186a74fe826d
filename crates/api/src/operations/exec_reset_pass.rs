//! `ExecResetPass` (CIPP-API `Invoke-ExecResetPass.ps1`): a new password, shown once, to the caller only.

use cipp_users_domain::reset_password::reset_password;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use secrecy::ExposeSecret;
use serde_json::json;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("ID")?;
        // Convert.ToBoolean: absent means false, as CIPP's entrypoint reads it.
        let must_change = ctx.params.boolean("MustChange")?;
        let display_name = ctx.params.string("displayName");
        let tenant = ctx.single_tenant().await?;
        let settings = ctx.password_settings().await;
        let outcome = reset_password(
            &ctx.state.graph,
            &tenant.customer_id,
            &user_id,
            display_name.as_deref(),
            must_change,
            &settings,
        )
        .await?;
        // The audit row records the outcome without the password.
        ctx.audit.borrow_mut().message = Some(outcome.log_text.clone());
        Ok(Reply::results(json!({
            "resultText": outcome.result_text.expose_secret(),
            "copyField": outcome.copy_field.expose_secret(),
            "state": "success"
        })))
    }
    .boxed_local()
}
