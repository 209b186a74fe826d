//! `ListUserPhoto` (CIPP-API `Invoke-ListUserPhoto.ps1`): the photo's bytes with its image
//! content type, for `<img src>` in the user page.
//!
//! The operation is AnyTenant upstream, and CIPP checks the caller's tenants in the handler;
//! so do we. No photo is a 404 `No photo found for this user` as in CIPP. Unlike CIPP, the photo
//! is read with one GET of `photo/$value` (CIPP wraps that GET in a one-item `$batch`), an
//! unknown user is a 404 with Graph's text, and a failed read is a 500 (CIPP: 404).

use cipp_users_domain::user_photo::user_photo;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::auth::roles::DENIED_TENANT;
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("UserID")?;
        let tenant = ctx.single_tenant().await?;
        let names = [
            tenant.customer_id.as_str(),
            tenant.default_domain_name.as_str(),
            tenant.initial_domain_name.as_str(),
        ];
        if !ctx.scope().permits(&names) {
            return Err(ApiError::forbidden(DENIED_TENANT));
        }
        let photo = user_photo(&ctx.state.graph, &tenant.customer_id, &user_id).await?;
        Ok(Reply::bytes(photo.content_type, photo.bytes.into()))
    }
    .boxed_local()
}
