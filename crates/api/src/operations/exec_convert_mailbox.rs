//! `ExecConvertMailbox` (CIPP-API `Invoke-ExecConvertMailbox.ps1`) and its legacy name
//! `ExecConverttoSharedMailbox`, which always converts to a shared mailbox.
//!
//! Difference: a missing `ID`, or a missing or unknown `MailboxType`, is a 400 naming the field
//! (CIPP: a 500 with PowerShell's `ValidateSet` text). CIPP reads the body only; the query is read
//! too here.

use cipp_users_domain::convert_mailbox::convert_mailbox;
use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let mailbox_type = ctx.params.string("MailboxType").unwrap_or_default();
        convert(ctx, mailbox_type).await
    }
    .boxed_local()
}

pub fn to_shared(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    convert(ctx, "Shared".to_owned()).boxed_local()
}

async fn convert(ctx: Context, mailbox_type: String) -> Result<Reply, ApiError> {
    let id = ctx.params.required("ID")?;
    let tenant = ctx.single_tenant().await?;
    let message =
        convert_mailbox(&ctx.state.graph, &tenant.customer_id, &id, &mailbox_type).await?;
    Ok(Reply::results(message))
}
