//! `ExecCreateTAP` (CIPP-API `Invoke-ExecCreateTAP.ps1` → `New-CIPPTAP.ps1`): a Temporary Access
//! Pass, shown once to the caller only; the audit row and the logs get the outcome without it.
//!
//! Differences from CIPP: a `lifetimeInMinutes` that is not a whole number or a `startDateTime`
//! that is not a date is a 400 naming the field (CIPP: its failure text with 500).

use cipp_users_domain::create_tap::{TapRequest, create_tap, start_date_time};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;
use crate::params::Params;

/// CIPP compares the query value and the body value with `$true` and ORs them: JSON `true`, a
/// `"true"` string in any case and the number 1 count; anything else is false.
fn is_usable_once(params: &Params) -> bool {
    let is_true = |v: &Value| match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_f64() == Some(1.0),
        _ => false,
    };
    params
        .query_value("isUsableOnce")
        .is_some_and(|q| is_true(&Value::String(q)))
        || params
            .body_value("isUsableOnce")
            .is_some_and(|b| is_true(&b))
}

/// Sent only when truthy, as a whole number: the string `"0"` is truthy and sends 0, the
/// number 0 is not sent.
fn lifetime(params: &Params) -> Result<Option<i64>, ApiError> {
    let invalid = |v: &dyn std::fmt::Display| {
        ApiError::bad_request(format!(
            "lifetimeInMinutes must be a whole number of minutes, got {v}"
        ))
    };
    match params.raw("lifetimeInMinutes") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(None),
            Some(minutes) => Ok(Some(minutes)),
            None => Err(invalid(&n)),
        },
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid(&s)),
        Some(other) => Err(invalid(&other)),
    }
}

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("ID")?;
        let request = TapRequest {
            lifetime_in_minutes: lifetime(&ctx.params)?,
            is_usable_once: is_usable_once(&ctx.params),
            start_date_time: ctx
                .params
                .string("startDateTime")
                .map(|raw| start_date_time(&raw))
                .transpose()?,
        };
        let tenant = ctx.single_tenant().await?;
        let outcome = create_tap(&ctx.state.graph, &tenant.customer_id, &user_id, &request).await?;
        // The audit row records the outcome without the pass.
        ctx.audit.borrow_mut().message = Some(outcome.log_text);
        Ok(Reply::results(outcome.results))
    }
    .boxed_local()
}
