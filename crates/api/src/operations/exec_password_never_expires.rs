//! `ExecPasswordNeverExpires` (CIPP-API `Invoke-ExecPasswordNeverExpires.ps1`): sets a user's
//! `passwordPolicies`. `Results` is an array of strings, failures included.
//!
//! Differences from CIPP: a missing `userId` is a 400 naming it (CIPP: a bare `exit`, no
//! defined answer); a `PasswordPolicy` Graph would refuse is a 400 naming it.

use cipp_users_domain::password_never_expires::set_password_policy;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply, results_array};
use crate::error::ApiError;

/// The value sent and the label shown: a `{label, value}` gives both, a string is both, and
/// nothing sends `None` with an empty label, as CIPP does.
fn policy_and_label(raw: Option<Value>) -> (String, String) {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).map(str::to_owned);
    match raw {
        Some(Value::Object(o)) => {
            let get = |name: &str| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            };
            let value = text(get("value")).unwrap_or_else(|| "None".to_owned());
            let label = text(get("label")).unwrap_or_else(|| value.clone());
            (value, label)
        }
        Some(Value::String(s)) if !s.trim().is_empty() => {
            (s.trim().to_owned(), s.trim().to_owned())
        }
        _ => ("None".to_owned(), String::new()),
    }
}

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let user_id = ctx.params.required("userId")?;
        let upn = ctx.params.string("userPrincipalName").unwrap_or_default();
        let (policy, label) = policy_and_label(ctx.params.raw("PasswordPolicy"));
        let tenant = ctx.single_tenant().await?;
        results_array::reply(
            set_password_policy(
                &ctx.state.graph,
                &tenant.customer_id,
                &user_id,
                &upn,
                &policy,
                &label,
            )
            .await,
        )
    }
    .boxed_local()
}
