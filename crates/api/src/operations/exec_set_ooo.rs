//! `ExecSetOoO` (CIPP-API `Invoke-ExecSetOoO.ps1`): sets a mailbox's automatic replies.
//!
//! Differences: a missing `userId`, or a missing or unknown `AutoReplyState`, is a 400 naming the
//! field (CIPP: a 500 with PowerShell's parameter-binding text); a `StartTime`/`EndTime` of digits
//! beyond the Unix range is a 400 (CIPP: a 500). CIPP reads the body only; the query is read too.

use cipp_users_domain::out_of_office::{OutOfOffice, When, set_out_of_office};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;
use crate::params::Params;

/// A text parameter as sent (HTML messages keep their whitespace).
fn text(params: &Params, name: &str) -> Option<String> {
    params.raw(name).and_then(|v| v.as_str().map(str::to_owned))
}

/// CIPP's `[bool]` cast, applied only when the field is present and not null.
fn flag(params: &Params, name: &str) -> Option<bool> {
    params
        .raw(name)
        .filter(|v| !v.is_null())
        .map(|_| params.truthy(name))
}

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let p = &ctx.params;
        let request = OutOfOffice {
            user_id: p.required("userId")?,
            state: p.required("AutoReplyState")?,
            input: text(p, "input"),
            internal_message: text(p, "InternalMessage"),
            external_message: text(p, "ExternalMessage"),
            start_time: When::parse("StartTime", p.string("StartTime"))?,
            end_time: When::parse("EndTime", p.string("EndTime"))?,
            create_oof_event: flag(p, "CreateOOFEvent"),
            oof_event_subject: text(p, "OOFEventSubject"),
            auto_decline_future_requests: flag(p, "AutoDeclineFutureRequestsWhenOOF"),
            decline_events_for_scheduled: flag(p, "DeclineEventsForScheduledOOF"),
            decline_meeting_message: text(p, "DeclineMeetingMessage"),
            timezone: p.string("timezone"),
        };
        let tenant = ctx.single_tenant().await?;
        let message = set_out_of_office(&ctx.state.graph, &tenant.customer_id, &request).await?;
        Ok(Reply::results(Value::String(message)))
    }
    .boxed_local()
}
