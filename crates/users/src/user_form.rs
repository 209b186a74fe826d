//! Parts of CIPP's add/edit-user form that AddUser and EditUser read alike: `defaultAttributes`,
//! `PostExecution`, and PowerShell's `[bool]` cast CIPP applies to attribute values.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One entry of `defaultAttributes` (`{<attribute>: {value}}`): the tenant's extra attributes
/// from the user template.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UserFormAttribute {
    /// The attribute's value (the form sends `Value`).
    #[serde(alias = "Value")]
    pub value: Option<Value>,
}

/// Notifications after a scheduled change (webhook, e-mail, PSA), as CIPP reads them: only for
/// a scheduled call. There the webhook is the task's last step, and e-mail and PSA, which this
/// service cannot send, are a 400 (see [`crate::task_notify`]); an immediate call ignores them,
/// as CIPP does.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UserFormPostExecution {
    #[serde(rename = "Webhook", default)]
    pub webhook: bool,
    #[serde(rename = "Email", default)]
    pub email: bool,
    #[serde(rename = "PSA", default)]
    pub psa: bool,
}

impl UserFormPostExecution {
    /// Whether a scheduled call's task ends with the webhook; a notice this service cannot
    /// send is a 400 naming it.
    pub fn webhook_for_task(
        post: Option<&Self>,
        webhook_configured: bool,
    ) -> Result<bool, crate::UserError> {
        let asked = post.map_or_else(crate::task_notify::PostExecutionSwitches::default, |p| {
            crate::task_notify::PostExecutionSwitches {
                webhook: p.webhook,
                email: p.email,
                psa: p.psa,
            }
        });
        let problems = crate::task_notify::problems("PostExecution", &asked, webhook_configured);
        if problems.is_empty() {
            Ok(asked.webhook)
        } else {
            Err(crate::UserError::invalid(
                "PostExecution",
                problems.join(" "),
            ))
        }
    }
}

/// PowerShell's `[bool]` cast: absent, null, `false`, `0` and `""` are false, any other string
/// (`"false"` included) is true. CIPP filters attribute values with it.
pub fn ps_truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(_)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_text_false_is_truthy_as_powershell_casts_it() {
        assert!(ps_truthy(Some(&json!("false"))));
        assert!(!ps_truthy(Some(&json!(""))));
        assert!(!ps_truthy(Some(&json!(0))));
        assert!(!ps_truthy(None));
    }
}
