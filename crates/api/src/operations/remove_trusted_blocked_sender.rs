//! `RemoveTrustedBlockedSender` (CIPP-API `Invoke-RemoveTrustedBlockedSender.ps1`): removes one
//! trusted or blocked sender or domain from a mailbox.
//!
//! Difference: a missing `userPrincipalName`, `typeProperty` or `value`, or a `typeProperty` that
//! is not a junk-mail list, is a 400 naming the field (CIPP: Exchange's error as a 500). CIPP
//! reads the body only; the query is read too here.

use cipp_users_domain::trusted_blocked_sender::remove_trusted_blocked_sender;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let upn = ctx.params.required("userPrincipalName")?;
        let type_property = ctx.params.required("typeProperty")?;
        let value = ctx.params.required("value")?;
        let tenant = ctx.single_tenant().await?;
        let message = remove_trusted_blocked_sender(
            &ctx.state.graph,
            &tenant.customer_id,
            &upn,
            &type_property,
            &value,
        )
        .await?;
        Ok(Reply::results(message))
    }
    .boxed_local()
}
