//! `ListUserConditionalAccessPolicies` (CIPP-API `Invoke-ListUserConditionalAccessPolicies.ps1`):
//! Conditional Access what-if results for a user.
//!
//! CIPP answers any failure with `200 [{}]`; here a missing `UserID` is a 400, an unknown user
//! a 404 with Graph's text, and a failed evaluation a 500
//! `Failed to retrieve Conditional Access policies for user …`.

use cipp_users_domain::user_ca_policies::list_user_ca_policies;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("UserID")?;
        let tenant = ctx.single_tenant().await?;
        let rows = list_user_ca_policies(&ctx.state.graph, &tenant.customer_id, &user_id).await?;
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}
