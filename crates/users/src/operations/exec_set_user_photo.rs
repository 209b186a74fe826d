//! `ExecSetUserPhoto` (CIPP-API `Invoke-ExecSetUserPhoto.ps1`): sets or removes a user's
//! profile photo. `Results` is an array of one string; failures are
//! `["Failed to <action> user profile picture: <text>"]`.

use base64::Engine;
use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{ErrorKind, UserError};

pub struct ExecSetUserPhoto;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose photo changes.
    #[serde(rename = "userId")]
    pub user_id: Option<UserId>,
    /// `set` or `remove` (any case). Kept as sent: CIPP's failure text names it, even when it
    /// is neither.
    #[serde(rename = "action")]
    #[schema(value_type = Option<ExecSetUserPhotoAction>)]
    pub action: Option<String>,
    /// The image, base64 or a `data:image/…;base64,` URL (JPEG, PNG, GIF or BMP, at most 4 MB);
    /// required to set a photo.
    #[serde(rename = "photoData")]
    pub photo_data: Option<String>,
}

/// What the caller asks for, as documented.
#[derive(Debug, Deserialize, ToSchema)]
pub enum ExecSetUserPhotoAction {
    #[serde(rename = "set")]
    Set,
    #[serde(rename = "remove")]
    Remove,
}

impl Operation for ExecSetUserPhoto {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecSetUserPhoto";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetUserPhoto.ps1",
        frontend: Some("src/components/CippCards/CippUserInfoCard.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Input errors name the field (`userId`, `action`, `photoData`) and bytes that are not a JPEG, PNG, GIF or BMP image are refused before Graph is called; a `userId` that is neither an object id nor a user principal name is a 400 naming it. The photo is sent with its own content type. A failure Graph did not cause by refusing the request (5xx, network) is a 500 (CIPP: 400 for everything). `photoData` is also read from the query string (CIPP: the body only).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userId": crate::demo::USER_ID,
            "action": "set",
            "photoData": format!("data:image/png;base64,{ONE_PIXEL_PNG}"),
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let action_text = params.action.unwrap_or_default();
        let failed = |kind: ErrorKind, text: &str| {
            let message = format!("Failed to {action_text} user profile picture: {text}");
            UserError::Answered {
                kind,
                results: json!([message]),
                message,
            }
        };
        let Some(user) = params.user_id else {
            return Err(failed(
                ErrorKind::InvalidInput,
                "userId: User ID is required",
            ));
        };
        let Some(action) = PhotoAction::parse(&action_text) else {
            return Err(failed(
                ErrorKind::InvalidInput,
                "action: Invalid action. Must be 'set' or 'remove'",
            ));
        };
        let photo = match (action, params.photo_data.as_deref()) {
            (PhotoAction::Remove, _) => None,
            (PhotoAction::Set, Some(data)) => match decode_photo(data) {
                Ok(photo) => Some(photo),
                Err(UserError::InvalidInput { message, .. }) => {
                    return Err(failed(ErrorKind::InvalidInput, &message));
                }
                Err(other) => return Err(other),
            },
            (PhotoAction::Set, None) => {
                return Err(failed(
                    ErrorKind::InvalidInput,
                    "photoData: Photo data is required when setting a profile picture",
                ));
            }
        };
        let tenant = ctx.tenant()?;
        let outcome = match &photo {
            Some((bytes, content_type)) => {
                set_user_photo(&ctx.graph, &tenant.customer_id, &user, bytes, content_type).await
            }
            None => remove_user_photo(&ctx.graph, &tenant.customer_id, &user).await,
        };
        match outcome {
            Ok(text) => Ok(Outcome::json(TextListResults::one(text))),
            Err(PhotoFailure { message, refused }) => {
                let kind = if refused {
                    ErrorKind::UpstreamRejected
                } else {
                    ErrorKind::UpstreamFailed
                };
                Err(failed(kind, &message))
            }
        }
    }
}

/// A 1×1 PNG, for the documented example.
const ONE_PIXEL_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/// Graph's limit for a profile photo.
const MAX_BYTES: usize = 4 * 1024 * 1024;

/// What the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoAction {
    Set,
    Remove,
}

impl PhotoAction {
    /// `set` or `remove` in any case, as CIPP compares them.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "set" => Some(Self::Set),
            "remove" => Some(Self::Remove),
            _ => None,
        }
    }
}

/// A failure with the status class CIPP's text belongs to: `refused` when Graph turned the
/// request down (4xx), so the caller's input is at fault.
pub struct PhotoFailure {
    pub message: String,
    pub refused: bool,
}

/// The image's bytes and content type from `photoData` (base64 or a `data:image/…;base64,`
/// URL), checked as CIPP checks it, plus that the bytes are an image.
pub fn decode_photo(photo_data: &str) -> Result<(Vec<u8>, &'static str), UserError> {
    let data = photo_data.trim();
    if data.is_empty() {
        return Err(UserError::invalid(
            "photoData",
            "photoData: Photo data is required when setting a profile picture",
        ));
    }
    let encoded = match data.strip_prefix("data:image/") {
        Some(rest) => rest
            .split_once(";base64,")
            .map_or(data, |(_, encoded)| encoded),
        None => data,
    };
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| {
            UserError::invalid(
                "photoData",
                format!("photoData: Invalid base64 photo data: {e}"),
            )
        })?;
    if bytes.len() > MAX_BYTES {
        let megabytes = (bytes.len() as f64 / 1_048_576.0 * 100.0).round() / 100.0;
        return Err(UserError::invalid(
            "photoData",
            format!("photoData: Photo size exceeds 4MB limit. Current size: {megabytes}MB"),
        ));
    }
    let content_type = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        "image/png"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.starts_with(b"BM") {
        "image/bmp"
    } else {
        return Err(UserError::invalid(
            "photoData",
            "photoData: not a JPEG, PNG, GIF or BMP image",
        ));
    };
    Ok((bytes, content_type))
}

/// `PUT v1.0/users/{id}/photo/$value` (delegated) with the image's own content type. Returns
/// CIPP's success text, or its failure text (without the `Failed to set …` framing).
pub async fn set_user_photo(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    bytes: &[u8],
    content_type: &str,
) -> Result<String, PhotoFailure> {
    let user_id = user.as_str();
    let path = format!("users/{}/photo/$value", user.segment());
    match graph
        .put_bytes(tenant, GraphVersion::V1, &path, bytes, content_type)
        .await
    {
        Ok(()) => {
            tracing::info!(
                tenant,
                user = user_id,
                "Set profile picture for user {user_id}"
            );
            Ok("Successfully set user profile picture.".to_owned())
        }
        Err(e) => {
            let refused = e.status().is_some_and(|s| (400..500).contains(&s));
            // CIPP's words: its normalised error, whatever Graph refused.
            let text = normalize_graph_error(&e);
            tracing::warn!(tenant, detail = ?e, "Failed to set user profile picture. Error: {text}");
            Err(PhotoFailure {
                message: text,
                refused,
            })
        }
    }
}

/// `DELETE v1.0/users/{id}/photo/$value` (delegated). No photo is CIPP's soft success.
pub async fn remove_user_photo(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
) -> Result<String, PhotoFailure> {
    let user_id = user.as_str();
    let path = format!("users/{}/photo/$value", user.segment());
    match graph.delete(tenant, GraphVersion::V1, &path).await {
        Ok(()) => {
            tracing::info!(
                tenant,
                user = user_id,
                "Removed profile picture for user {user_id}"
            );
            Ok("Successfully removed user profile picture.".to_owned())
        }
        Err(e) => {
            let text = normalize_graph_error(&e);
            // Graph answers a missing photo with ImageNotFound; CIPP looks for the older texts.
            if e.graph_code() == Some("ImageNotFound")
                || text.contains("does not exist")
                || text.contains("ResourceNotFound")
            {
                tracing::info!(
                    tenant,
                    user = user_id,
                    "No profile picture found for user {user_id}"
                );
                return Ok("User does not have a profile picture to remove.".to_owned());
            }
            Err(PhotoFailure {
                refused: e.status().is_some_and(|s| (400..500).contains(&s)),
                message: text,
            })
        }
    }
}
