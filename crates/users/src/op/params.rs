//! CIPP's parameter rules, once, before any operation sees its parameters: query string and JSON
//! body merged (the query wins), keys matched without regard to case, `{label, value}` objects
//! read as their `value`, booleans and numbers sent as text read as what the schema says they
//! are, blank values treated as absent. The operation's own `Params` schema drives all of it, so
//! the types stay plain and the document cannot disagree with the parser.
//!
//! A value that still does not fit is one 400 naming the field and what was expected.

use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::{RefOr, schema::ArrayItems};

use crate::UserError;

/// The parameters of one request as sent: query pairs and the JSON body.
#[derive(Debug, Clone, Default)]
pub struct RawParams {
    query: Vec<(String, String)>,
    body: Value,
}

impl RawParams {
    /// A body that is not JSON is a 400 naming it.
    pub fn new(query_string: &str, body: &[u8]) -> Result<Self, UserError> {
        let query = url::form_urlencoded::parse(query_string.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(body).map_err(|e| {
                UserError::invalid("body", format!("The request body is not valid JSON: {e}"))
            })?
        };
        Ok(Self { query, body })
    }

    /// A string parameter (query first, then body); `{label, value}` gives its `value`; numbers
    /// and booleans as text; blank counts as absent.
    pub fn string(&self, name: &str) -> Option<String> {
        let raw = self
            .query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| Value::String(v.clone()))
            .or_else(|| field(&self.body, name).cloned())?;
        let text = match unwrap_label_value(raw) {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    /// Parameters kept from an earlier call (a scheduled job's request) read as a body.
    pub fn from_value(body: Value) -> Self {
        Self {
            query: Vec::new(),
            body,
        }
    }

    /// The JSON body as sent.
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// Query and body as one JSON object (the query winning), for the audit row; secrets are
    /// redacted by the audit code, not here. An array body is kept as it is.
    pub fn to_json(&self) -> Value {
        if self.body.is_array() && self.query.is_empty() {
            return self.body.clone();
        }
        let mut merged = self.body.as_object().cloned().unwrap_or_default();
        for (key, value) in &self.query {
            merged.retain(|k, _| !k.eq_ignore_ascii_case(key));
            merged.insert(key.clone(), Value::String(value.clone()));
        }
        Value::Object(merged)
    }
}

fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn unwrap_label_value(value: Value) -> Value {
    match value {
        Value::Object(mut fields) => {
            let key = fields
                .keys()
                .find(|k| k.eq_ignore_ascii_case("value"))
                .cloned();
            match key {
                Some(key) => fields.remove(&key).unwrap_or(Value::Null),
                None => Value::Object(fields),
            }
        }
        other => other,
    }
}

/// A `Params` type's schema with the component schemas it refers to, read once per operation.
#[derive(Clone)]
pub struct ParamsSchema {
    pub root: RefOr<Schema>,
    pub components: BTreeMap<String, RefOr<Schema>>,
}

impl ParamsSchema {
    pub fn of<P: utoipa::ToSchema>() -> Self {
        let mut referenced = Vec::new();
        P::schemas(&mut referenced);
        Self {
            root: P::schema(),
            components: referenced.into_iter().collect(),
        }
    }

    fn resolve<'a>(&'a self, schema: &'a RefOr<Schema>) -> Option<&'a Schema> {
        let mut current = schema;
        for _ in 0..8 {
            match current {
                RefOr::T(schema) => return Some(schema),
                RefOr::Ref(reference) => {
                    let name = reference.ref_location.rsplit('/').next()?;
                    current = self.components.get(name)?;
                }
            }
        }
        None
    }

    /// The top-level property names, in the schema's spelling.
    pub fn property_names(&self) -> Vec<String> {
        match self.resolve(&self.root) {
            Some(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Merges and normalises the raw parameters into the JSON `P` is read from.
    pub fn prepare(&self, raw: &RawParams) -> Value {
        let root = self.resolve(&self.root);
        if let (Some(Schema::Array(_)), Value::Array(_)) = (root, &raw.body) {
            return self
                .coerce(&self.root, raw.body.clone())
                .unwrap_or(Value::Null);
        }
        let mut merged = raw.body.as_object().cloned().unwrap_or_default();
        for (key, value) in &raw.query {
            merged.retain(|k, _| !k.eq_ignore_ascii_case(key));
            merged.insert(key.clone(), Value::String(value.clone()));
        }
        self.coerce(&self.root, Value::Object(merged))
            .unwrap_or(Value::Object(Map::new()))
    }

    /// `None` means "absent" (a blank value).
    fn coerce(&self, schema: &RefOr<Schema>, value: Value) -> Option<Value> {
        let Some(schema) = self.resolve(schema) else {
            return Some(value);
        };
        match schema {
            Schema::Object(object) if !object.properties.is_empty() => {
                let Value::Object(fields) = value else {
                    return Some(value);
                };
                let mut out = Map::new();
                for (key, value) in fields {
                    match object
                        .properties
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(&key))
                    {
                        Some((name, property)) => {
                            if let Some(value) = self.coerce(property, value) {
                                out.insert(name.clone(), value);
                            }
                        }
                        None => {
                            out.insert(key, value);
                        }
                    }
                }
                Some(Value::Object(out))
            }
            Schema::Object(object) => {
                let enum_values = object.enum_values.as_deref().unwrap_or_default();
                coerce_scalar(&object.schema_type, enum_values, value)
            }
            Schema::Array(array) => {
                let items = match &array.items {
                    ArrayItems::RefOrSchema(items) => Some(items.as_ref()),
                    ArrayItems::False => None,
                };
                // The frontend posts some lists as objects keyed "0", "1", … (CIPP reads both).
                let value = match value {
                    Value::Object(map)
                        if !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok()) =>
                    {
                        let mut numbered: Vec<(usize, Value)> = map
                            .into_iter()
                            .filter_map(|(k, v)| k.parse().ok().map(|n| (n, v)))
                            .collect();
                        numbered.sort_by_key(|(n, _)| *n);
                        Value::Array(numbered.into_iter().map(|(_, v)| v).collect())
                    }
                    other => other,
                };
                match (unwrap_label_value(value), items) {
                    (Value::Array(values), Some(items)) => Some(Value::Array(
                        values
                            .into_iter()
                            .filter_map(|v| self.coerce(items, v))
                            .collect(),
                    )),
                    (Value::String(text), _) if text.trim().is_empty() => None,
                    (Value::Null, _) => None,
                    // One value where a list is expected (a query string): a list of one.
                    (single, Some(items)) => {
                        self.coerce(items, single).map(|v| Value::Array(vec![v]))
                    }
                    (other, None) => Some(other),
                }
            }
            Schema::OneOf(one_of) => {
                let non_null = one_of.items.iter().find(|item| !self.is_null(item));
                match non_null {
                    Some(item) if !value.is_null() => self.coerce(item, value),
                    _ => Some(value),
                }
            }
            Schema::AllOf(all_of) => match all_of.items.first() {
                Some(item) => self.coerce(item, value),
                None => Some(value),
            },
            Schema::AnyOf(any_of) => {
                let non_null = any_of.items.iter().find(|item| !self.is_null(item));
                match non_null {
                    Some(item) if !value.is_null() => self.coerce(item, value),
                    _ => Some(value),
                }
            }
            _ => Some(value),
        }
    }

    fn is_null(&self, schema: &RefOr<Schema>) -> bool {
        matches!(self.resolve(schema), Some(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
    }
}

fn has_type(schema_type: &SchemaType, wanted: Type) -> bool {
    match schema_type {
        SchemaType::Type(t) => *t == wanted,
        SchemaType::Array(types) => types.contains(&wanted),
        SchemaType::AnyValue => false,
    }
}

fn coerce_scalar(schema_type: &SchemaType, enum_values: &[Value], value: Value) -> Option<Value> {
    if matches!(schema_type, SchemaType::AnyValue) || has_type(schema_type, Type::Object) {
        return Some(value);
    }
    let value = unwrap_label_value(value);
    let blank = matches!(&value, Value::String(s) if s.trim().is_empty());
    if value.is_null() || blank {
        return None;
    }
    if has_type(schema_type, Type::Boolean) {
        return Some(match value {
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Value::Bool(false),
            // .NET's Convert.ToBoolean: any non-zero number is true.
            Value::Number(n) => Value::Bool(n.as_f64().is_some_and(|f| f != 0.0)),
            other => other,
        });
    }
    if has_type(schema_type, Type::Integer) {
        return Some(match value {
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(n) => Value::Number(n.into()),
                Err(_) => Value::String(s),
            },
            other => other,
        });
    }
    if has_type(schema_type, Type::Number) {
        return Some(match value {
            Value::String(s) => match s.trim().parse::<f64>().ok().and_then(Number::from_f64) {
                Some(n) => Value::Number(n),
                None => Value::String(s),
            },
            other => other,
        });
    }
    if has_type(schema_type, Type::String) {
        let text = match value {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Some(other),
        };
        // A closed set matches whatever case the caller used.
        let canonical = enum_values
            .iter()
            .filter_map(Value::as_str)
            .find(|v| v.eq_ignore_ascii_case(&text))
            .map(str::to_owned);
        return Some(Value::String(canonical.unwrap_or(text)));
    }
    Some(value)
}

/// Reads the prepared parameters into `P`; a value that does not fit is a 400 naming the field.
pub fn deserialize<P: DeserializeOwned>(prepared: Value) -> Result<P, UserError> {
    serde_path_to_error::deserialize::<_, P>(prepared).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.inner().to_string();
        explain(&path, &inner)
    })
}

/// Words that name a secret wherever they stand in a key (`clientSecret`, `pwd_hash`).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "authorization",
    "apikey",
    "credential",
    "credentials",
    "temporaryaccesspass",
];

/// Words that name a secret only as a key's last word (`api_key`, `userPIN`, `temporaryAccessPass`),
/// so `pinNav` or `keyName` are not taken for one.
const SECRET_LAST_WORDS: &[&str] = &["pin", "key", "pass", "pw", "tap"];

/// The words of a key: split at `_`, `-`, `.`, spaces and camelCase humps (`APIKey` is `API`,
/// `Key`), compared without case.
fn key_words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let hump = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if hump && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a parameter or header name says its value is a secret: one of its words names one
/// (`password`, `clientSecret`, `refresh_token`, `Authorization`, `x-api-key`, `userPIN`), while
/// `dataMappings` or `pinNav` do not. Used for the audit row, logs and error bodies.
pub fn is_secret_key(name: &str) -> bool {
    let words = key_words(name);
    let joined: String = words.concat();
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words
            .last()
            .is_some_and(|w| SECRET_LAST_WORDS.contains(&w.as_str()))
        || SECRET_WORDS.contains(&joined.as_str())
}

fn explain(path: &str, inner: &str) -> UserError {
    let at = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(rest) = inner.strip_prefix("missing field `")
        && let Some(name) = rest.strip_suffix('`')
    {
        let field = at(name);
        return UserError::invalid(field.clone(), format!("{field} is required"));
    }
    let field = if path == "." || path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = inner.strip_prefix(prefix)
            && let Some((got, expected)) = rest.split_once(", expected ")
        {
            // A secret's value is not echoed into the error body.
            let secret = field.split(['.', '[', ']']).any(is_secret_key);
            let got = if secret { "a value not shown" } else { got };
            return UserError::invalid(
                field.clone(),
                format!("{field} must be {expected}, got {got}"),
            );
        }
    }
    if let Some(rest) = inner.strip_prefix("unknown variant ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        let expected = expected.replace('`', "");
        return UserError::invalid(
            field.clone(),
            format!("{field} must be {expected}, got {got}"),
        );
    }
    UserError::invalid(field.clone(), format!("{field}: {inner}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use utoipa::ToSchema;

    #[derive(Debug, Deserialize, ToSchema)]
    struct Sample {
        #[serde(rename = "ID")]
        id: String,
        #[serde(rename = "Enable", default)]
        enable: bool,
        #[serde(rename = "$top")]
        top: Option<u32>,
        #[serde(rename = "mode")]
        mode: Option<Mode>,
    }

    #[derive(Debug, Deserialize, ToSchema, PartialEq)]
    enum Mode {
        #[serde(rename = "Enforced")]
        Enforced,
        #[serde(rename = "disabled")]
        Disabled,
    }

    fn read(query: &str, body: &str) -> Result<Sample, UserError> {
        let raw = RawParams::new(query, body.as_bytes())?;
        deserialize(ParamsSchema::of::<Sample>().prepare(&raw))
    }

    #[test]
    fn the_query_wins_over_the_body_and_keys_ignore_case() {
        let sample = read("id=from-query", r#"{"Id":"from-body","ENABLE":"TRUE"}"#).unwrap();
        assert_eq!(sample.id, "from-query");
        assert!(sample.enable);
    }

    #[test]
    fn a_label_value_object_is_read_as_its_value_and_text_becomes_numbers_and_enums() {
        let sample = read(
            "$top=25&mode=DISABLED",
            r#"{"ID":{"label":"Jo","value":"jo@contoso.example"}}"#,
        )
        .unwrap();
        assert_eq!(sample.id, "jo@contoso.example");
        assert_eq!(sample.top, Some(25));
        assert_eq!(sample.mode, Some(Mode::Disabled));
    }

    #[test]
    fn a_bad_value_names_the_field_and_what_was_expected() {
        let error = read("ID=x&Enable=yes", "").unwrap_err();
        assert_eq!(
            error.to_string(),
            "Enable must be a boolean, got string \"yes\""
        );
        let error = read("ID=x&$top=-3", "").unwrap_err();
        assert!(error.to_string().starts_with("$top must be"), "{error}");
        let error = read("ID=x&mode=sometimes", "").unwrap_err();
        assert_eq!(
            error.to_string(),
            "mode must be Enforced or disabled, got `sometimes`"
        );
    }

    #[test]
    fn a_missing_or_blank_required_value_is_required() {
        assert_eq!(read("", "").unwrap_err().to_string(), "ID is required");
        assert_eq!(
            read("ID=%20", "").unwrap_err().to_string(),
            "ID is required"
        );
    }

    #[test]
    fn secret_keys_are_found_by_their_words_in_any_spelling() {
        for key in [
            "password",
            "Password",
            "pwd",
            "userPwd",
            "PIN",
            "userPin",
            "pin_code_pin",
            "passphrase",
            "api_key",
            "apiKey",
            "APIKey",
            "x-api-key",
            "Authorization",
            "clientSecret",
            "refreshToken",
            "refresh_token",
            "PASSWORD_HASH",
            "tap",
            "temporaryAccessPass",
            "credentials",
        ] {
            assert!(super::is_secret_key(key), "{key} is a secret");
        }
        for key in [
            "dataMappings",
            "pinNav",
            "keyName",
            "tokenizerMode2",
            "displayName",
            "passThrough",
            "spinner",
            "monkey",
            "turnkeySetup",
        ] {
            assert!(!super::is_secret_key(key), "{key} is not a secret");
        }
    }

    #[test]
    fn a_body_that_is_not_json_is_refused_as_invalid_input() {
        let error = RawParams::new("", b"{oops").unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::InvalidInput);
    }
}
