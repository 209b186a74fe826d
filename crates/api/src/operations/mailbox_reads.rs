//! The Exchange tab's reads: `ListUserMailboxDetails`, `ListUserMailboxRules` and
//! `ListUserTrustedBlockedSenders`. Exchange is called with the tenant's id.

use cipp_users_domain::mailbox_reads::{mailbox_details, mailbox_rules, trusted_blocked_senders};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn details(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("UserID")?;
        let user_mail = ctx.params.string("userMail");
        let tenant = ctx.single_tenant().await?;
        let rows = mailbox_details(
            &ctx.state.graph,
            &tenant.customer_id,
            &user_id,
            user_mail.as_deref(),
        )
        .await?;
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}

pub fn rules(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("UserID")?;
        let email = ctx.params.string("userEmail");
        let tenant = ctx.single_tenant().await?;
        let rows = mailbox_rules(
            &ctx.state.graph,
            &tenant.customer_id,
            &user_id,
            email.as_deref(),
        )
        .await?;
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}

pub fn trusted_blocked(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("UserID")?;
        let upn = ctx.params.string("userPrincipalName");
        let tenant = ctx.single_tenant().await?;
        let rows = trusted_blocked_senders(
            &ctx.state.graph,
            &tenant.customer_id,
            &user_id,
            upn.as_deref(),
        )
        .await?;
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}
