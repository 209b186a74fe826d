//! OneDrive shortcuts ("Add shortcut to My files"): what CIPP's shortcut operations share. The
//! site URL a caller sends, a driveItem id, and the listing of a user's shortcuts with the
//! `Prefer` header CIPP sends so Graph shows them.

use std::borrow::Cow;
use std::fmt;

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

use crate::path_segment;

/// The header CIPP sends with every shortcut listing.
pub const PREFER_SHORTCUTS: (&str, &str) = ("Prefer", "Include-Feature=AddToOneDrive");

/// An absolute `http(s)` URL of a SharePoint site, library or folder (a browser link with
/// `?id=` accepted), checked when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteUrl(String);

impl SiteUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SiteUrl {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let value = value.trim();
        let shown = || value.chars().take(80).collect::<String>();
        let parsed = url::Url::parse(value)
            .map_err(|_| format!("expected an absolute SharePoint URL, got '{}'", shown()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "expected an http(s) SharePoint URL, got '{}'",
                shown()
            ));
        }
        if value.len() > 2048 {
            return Err("the URL is longer than 2048 characters".to_owned());
        }
        Ok(Self(value.to_owned()))
    }
}

impl From<SiteUrl> for String {
    fn from(url: SiteUrl) -> Self {
        url.0
    }
}

impl fmt::Display for SiteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialSchema for SiteUrl {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .format(Some(SchemaFormat::Custom("uri".to_owned())))
            .description(Some(
                "A SharePoint site, library or folder URL (a browser link with `?id=` accepted); \
                 `{label, value}` gives its `value`.",
            ))
            .examples(["https://contoso.sharepoint.com/sites/Sales/Shared%20Documents/General"])
            .into()
    }
}

impl ToSchema for SiteUrl {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SiteUrl")
    }
}

/// A driveItem id (`01…`, or `…!…` on personal drives), checked when read so it can only be
/// one path segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DriveItemId(String);

impl DriveItemId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn segment(&self) -> String {
        path_segment(&self.0)
    }
}

impl TryFrom<String> for DriveItemId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let value = value.trim();
        if !value.is_empty()
            && value.len() <= 200
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!-_.".contains(c))
        {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "expected a OneDrive item id (letters, digits, '!', '-', '_', '.'), got '{}'",
                value.chars().take(80).collect::<String>()
            ))
        }
    }
}

impl From<DriveItemId> for String {
    fn from(id: DriveItemId) -> Self {
        id.0
    }
}

impl PartialSchema for DriveItemId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(
                "A OneDrive item id, as ListUserOneDriveShortcuts lists it.",
            ))
            .pattern(Some("^[A-Za-z0-9!._-]{1,200}$"))
            .examples(["01ABCDEF0123456789ABCDEF0123456789"])
            .into()
    }
}

impl ToSchema for DriveItemId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DriveItemId")
    }
}

/// `GET beta/users/{upn}/drive/{folder}/children?$select=…` with the shortcuts `Prefer` header,
/// app-only, every page.
pub async fn children(
    graph: &GraphClient,
    tenant: &str,
    upn: &str,
    folder: &str,
    select: &str,
) -> Result<Vec<Value>, GraphError> {
    graph
        .app_only()
        .get_all(
            tenant,
            GraphVersion::Beta,
            &format!(
                "users/{}/drive/{folder}/children?$select={select}",
                path_segment(upn)
            ),
            &[PREFER_SHORTCUTS],
        )
        .await
}

/// Whether an item's parent is the Shortcuts folder (CIPP: `parentReference.path` matching
/// `/Shortcuts(/|$)`, without regard to case).
pub fn in_shortcuts_folder(item: &Value) -> bool {
    let path = item
        .pointer("/parentReference/path")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    path.match_indices("/shortcuts").any(|(at, m)| {
        let rest = &path[at + m.len()..];
        rest.is_empty() || rest.starts_with('/')
    })
}

/// Whether CIPP counts a failed listing as "the user has no OneDrive" (its
/// `itemNotFound|ResourceNotFound|404|does not have a drive|no drive` match on the normalised
/// text; callers also count Graph's 404 itself, which is what the `404` alternative is for).
pub fn means_no_drive(normalized: &str) -> bool {
    let lower = normalized.to_ascii_lowercase();
    [
        "itemnotfound",
        "resourcenotfound",
        "404",
        "does not have a drive",
        "no drive",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_shortcut_is_in_the_shortcuts_folder_only_when_its_parent_path_says_so() {
        let at = |p: &str| json!({"parentReference": {"path": p}});
        assert!(in_shortcuts_folder(&at("/drive/root:/Shortcuts")));
        assert!(in_shortcuts_folder(&at("/drive/root:/shortcuts/Sub")));
        assert!(!in_shortcuts_folder(&at("/drive/root:")));
        assert!(!in_shortcuts_folder(&at("/drive/root:/Shortcuts 1")));
        assert!(!in_shortcuts_folder(&json!({})));
    }

    #[test]
    fn site_urls_must_be_absolute_http_urls_and_item_ids_one_segment() {
        assert!(SiteUrl::try_from("https://contoso.sharepoint.com/sites/a".to_owned()).is_ok());
        assert!(SiteUrl::try_from("sites/a".to_owned()).is_err());
        assert!(SiteUrl::try_from("ftp://contoso/sites/a".to_owned()).is_err());
        assert!(DriveItemId::try_from("01ABC!12".to_owned()).is_ok());
        assert!(DriveItemId::try_from("../root".to_owned()).is_err());
        assert!(DriveItemId::try_from(String::new()).is_err());
    }
}
