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

/// Notifications CIPP sends after the change (webhook, e-mail, PSA). Accepted and not acted
/// on: this service sends no notifications.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UserFormPostExecution {
    #[serde(rename = "Webhook", default)]
    pub webhook: bool,
    #[serde(rename = "Email", default)]
    pub email: bool,
    #[serde(rename = "PSA", default)]
    pub psa: bool,
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
