//! `ListUserDevices` (CIPP-API `Invoke-ListUserDevices.ps1`): a user's devices with `EPMID`.
//!
//! CIPP answers any failure with `200 []`; here an empty list means the user has no devices: a
//! missing `UserID` is a 400, an unknown user a 404 with Graph's text, and a failed read a 500
//! `Failed to retrieve devices for user …`.

use cipp_users_domain::user_devices::list_user_devices;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("UserID")?;
        let tenant = ctx.single_tenant().await?;
        let rows = list_user_devices(&ctx.state.graph, &tenant.customer_id, &user_id).await?;
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}
