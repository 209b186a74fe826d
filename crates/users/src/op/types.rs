//! Types many operations share: the validated user id, CIPP's `Results` envelopes, and the open
//! object used for rows Graph passes through unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

use crate::{UserError, is_guid, path_segment};

/// A user as Graph addresses one: an object id (GUID) or a user principal name. Validated when
/// read, so nothing else can reach a Graph path; [`UserId::segment`] percent-encodes it for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if is_guid(value) || is_upn(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "expected a user's object id (GUID) or user principal name (name@domain), got '{}'",
                value.chars().take(80).collect::<String>()
            ))
        }
    }

    /// The id as the caller sent it (for messages).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id encoded as one URL path segment.
    pub fn segment(&self) -> String {
        path_segment(&self.0)
    }

    /// Whether it is an object id rather than a UPN.
    pub fn is_object_id(&self) -> bool {
        is_guid(&self.0)
    }

    /// Reads a user id a caller sent under `field`, as a 400 naming the field when it is not one.
    pub fn from_field(field: &str, value: &str) -> Result<Self, UserError> {
        Self::parse(value).map_err(|reason| UserError::invalid(field, format!("{field}: {reason}")))
    }
}

/// Whether `value` is an e-mail address of the form a user principal name takes.
pub fn is_mail_address(value: &str) -> bool {
    is_upn(value)
}

/// `local@domain`: a non-empty local part without path, query or escape characters (guest UPNs
/// keep their `#EXT#`), and a domain of DNS labels.
fn is_upn(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 113
        && local != "."
        && local != ".."
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "._-'+!#$&*=^`{|}~".contains(c));
    let domain_ok = !domain.is_empty()
        && domain.len() <= 255
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

impl TryFrom<String> for UserId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> Self {
        id.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialSchema for UserId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(
                "A user's object id (GUID) or user principal name (name@domain).",
            ))
            .pattern(Some(USER_ID_PATTERN))
            .examples(["00000000-0000-4000-8000-000000000000"])
            .into()
    }
}

impl ToSchema for UserId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UserId")
    }
}

/// The id pattern as the document states it (GUID, or local@domain).
pub const USER_ID_PATTERN: &str = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Za-z0-9._'+!#$&*=^`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*)$";

pub const GUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// A GUID (an object, SKU or policy id), validated when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Guid(String);

impl Guid {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Guid {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let value = value.trim();
        if is_guid(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "expected a GUID, got '{}'",
                value.chars().take(80).collect::<String>()
            ))
        }
    }
}

impl From<Guid> for String {
    fn from(id: Guid) -> Self {
        id.0
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialSchema for Guid {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .format(Some(SchemaFormat::Custom("uuid".into())))
            .pattern(Some(GUID_PATTERN))
            .into()
    }
}

impl ToSchema for Guid {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Guid")
    }
}

/// `{"Results": "<text>"}`: CIPP's most common answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TextResults {
    #[serde(rename = "Results")]
    pub results: String,
}

impl TextResults {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            results: text.into(),
        }
    }
}

/// `{"Results": ["<text>", …]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TextListResults {
    #[serde(rename = "Results")]
    pub results: Vec<String>,
}

impl TextListResults {
    pub fn new(texts: Vec<String>) -> Self {
        Self { results: texts }
    }

    pub fn one(text: impl Into<String>) -> Self {
        Self {
            results: vec![text.into()],
        }
    }
}

/// How one item of a CIPP answer went.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    Success,
    Error,
    Warning,
    Info,
}

/// One result of CIPP's `{resultText, state, copyField}` form; the frontend shows `resultText`
/// and offers `copyField` for copying.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultItem {
    #[serde(rename = "resultText")]
    pub result_text: String,
    pub state: ItemState,
    #[serde(rename = "copyField", skip_serializing_if = "Option::is_none")]
    pub copy_field: Option<String>,
}

/// `{"Results": [{resultText, state, copyField}, …]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemListResults {
    #[serde(rename = "Results")]
    pub results: Vec<ResultItem>,
}

/// A row Graph (or Exchange) passes through as it comes: an open object. The README lists the
/// operations whose rows are open.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GraphRow(pub Map<String, Value>);

impl PartialSchema for GraphRow {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .description(Some(
                "An object as Microsoft Graph or Exchange returns it, passed through unchanged.",
            ))
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(true),
            ))
            .into()
    }
}

impl ToSchema for GraphRow {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("GraphRow")
    }
}

/// Parameters of an operation that takes none of its own (the tenant is resolved by the
/// dispatcher).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NoParams {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_id_is_a_guid_or_a_upn_and_nothing_that_escapes_a_path() {
        for good in [
            "8a0b9f29-27d1-4d5f-9b1e-2f3a1c0d4e51",
            "jo.smith@contoso.example",
            "jo_smith.partner.example#EXT#@contoso.onmicrosoft.com",
            "o'brien@contoso.example",
        ] {
            assert!(UserId::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "..",
            "../x",
            "a/b@c.d",
            "x?y@c.d",
            "a%2Fb@c.d",
            "@contoso.example",
            "jo@",
            "jo",
            "jo@contoso..example",
            "a..b@c.d",
            "jo@con toso.example",
        ] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_guest_upn_is_encoded_when_it_enters_a_path() {
        let id = UserId::parse("jo_partner.example#EXT#@contoso.onmicrosoft.com").unwrap();
        assert_eq!(
            id.segment(),
            "jo_partner.example%23EXT%23@contoso.onmicrosoft.com"
        );
    }
}
