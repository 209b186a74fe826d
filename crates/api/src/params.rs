//! CIPP's parameter rules, once: query string and JSON body, keys case-insensitive, the query
//! winning over the body, `{label, value}` objects unwrapped to `value`, booleans coerced the way
//! .NET's `Convert.ToBoolean` does (missing → false, "true"/"false" in any case, else an error).

use serde_json::{Map, Value};

use crate::error::ApiError;

#[derive(Debug, Clone, Default)]
pub struct Params {
    query: Vec<(String, String)>,
    body: Value,
}

impl Params {
    pub fn new(query_string: &str, body: &[u8]) -> Result<Self, ApiError> {
        let query = url::form_urlencoded::parse(query_string.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("The request body is not valid JSON: {e}"))
            })?
        };
        Ok(Self { query, body })
    }

    /// The raw value of a parameter: the query's if present, else the body's.
    pub fn raw(&self, name: &str) -> Option<Value> {
        if let Some((_, v)) = self
            .query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            return Some(Value::String(v.clone()));
        }
        self.body_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.clone())
    }

    /// The body's value alone, for the few parameters CIPP reads from both places separately.
    pub fn body_value(&self, name: &str) -> Option<Value> {
        self.body_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.clone())
    }

    /// The query string's value alone.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// The JSON body as sent (an array for the operations that take one, e.g. PatchUser).
    pub fn body(&self) -> &Value {
        &self.body
    }

    fn body_object(&self) -> Option<&Map<String, Value>> {
        self.body.as_object()
    }

    /// A string parameter; `{label, value}` gives its `value`; numbers and booleans as text.
    /// Blank strings count as absent.
    pub fn string(&self, name: &str) -> Option<String> {
        let text = match self.raw(name)? {
            Value::String(s) => s,
            Value::Object(o) => match o.iter().find(|(k, _)| k.eq_ignore_ascii_case("value"))?.1 {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            },
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    /// A required string parameter, or a 400 naming it.
    pub fn required(&self, name: &str) -> Result<String, ApiError> {
        self.string(name)
            .ok_or_else(|| ApiError::bad_request(format!("{name} is required")))
    }

    /// `Convert.ToBoolean` semantics: missing or null is false; an unparseable value is a 400
    /// (CIPP throws and answers a plain-text 500).
    pub fn boolean(&self, name: &str) -> Result<bool, ApiError> {
        let value = match self.raw(name) {
            None | Some(Value::Null) => return Ok(false),
            Some(Value::Object(o)) => o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null),
            Some(other) => other,
        };
        match value {
            Value::Null => Ok(false),
            Value::Bool(b) => Ok(b),
            Value::Number(n) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
            other => Err(ApiError::bad_request(format!(
                "{name} must be true or false, got {other}"
            ))),
        }
    }

    /// PowerShell's `[bool]x`: any non-empty value is true (used where CIPP casts that way).
    pub fn truthy(&self, name: &str) -> bool {
        match self.raw(name) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
            Some(_) => true,
        }
    }

    /// Query and body as one JSON object (the query winning), for the audit log; secrets are
    /// redacted by the audit code, not here.
    pub fn to_json(&self) -> Value {
        let mut merged = self.body_object().cloned().unwrap_or_default();
        for (key, value) in &self.query {
            merged.retain(|k, _| !k.eq_ignore_ascii_case(key));
            merged.insert(key.clone(), Value::String(value.clone()));
        }
        Value::Object(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_over_the_body_and_keys_ignore_case() {
        let p = Params::new(
            "TENANTFILTER=a.example",
            br#"{"tenantFilter":"b.example","Id":"x"}"#,
        )
        .unwrap();
        assert_eq!(p.string("tenantFilter").as_deref(), Some("a.example"));
        assert_eq!(p.string("ID").as_deref(), Some("x"));
    }

    #[test]
    fn a_label_value_object_is_unwrapped() {
        let p = Params::new(
            "",
            br#"{"tenantFilter":{"label":"Contoso","value":"contoso.example"}}"#,
        )
        .unwrap();
        assert_eq!(p.string("tenantfilter").as_deref(), Some("contoso.example"));
    }

    #[test]
    fn booleans_coerce_like_convert_to_boolean() {
        let p = Params::new("a=TRUE&b=false&c=yes", br#"{"d":true,"e":null}"#).unwrap();
        assert!(p.boolean("a").unwrap());
        assert!(!p.boolean("b").unwrap());
        assert!(p.boolean("d").unwrap());
        assert!(!p.boolean("e").unwrap());
        assert!(!p.boolean("missing").unwrap());
        let error = p.boolean("c").unwrap_err();
        assert_eq!(error.status.as_u16(), 400);
        assert!(error.message.starts_with("c must be true or false"));
    }

    #[test]
    fn a_body_that_is_not_json_is_a_400() {
        assert_eq!(Params::new("", b"{oops").unwrap_err().status.as_u16(), 400);
    }
}
