//! `ExecSetUserPhoto` (CIPP-API `Invoke-ExecSetUserPhoto.ps1`): sets or removes a user's
//! profile photo.

use base64::Engine;
use cipp_graph::{GraphClient, GraphVersion};

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

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
    user_id: &str,
    bytes: &[u8],
    content_type: &str,
) -> Result<String, PhotoFailure> {
    let path = format!("users/{}/photo/$value", path_segment(user_id));
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
            let message = e.service_message();
            let refused = e.status().is_some_and(|s| (400..500).contains(&s));
            let text = if e.graph_code() == Some("ErrorNonExistentMailbox")
                || message.to_ascii_lowercase().contains("mailbox")
            {
                "Cannot set profile photo: User does not have an Exchange mailbox. Ensure the user has an Exchange Online license assigned.".to_owned()
            } else if e.graph_code() == Some("Request_BadRequest") || e.status() == Some(400) {
                format!(
                    "Invalid photo data or format. Ensure the image is a valid JPEG or PNG file under 4MB. Error: {message}"
                )
            } else {
                normalize_graph_error(&e)
            };
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
    user_id: &str,
) -> Result<String, PhotoFailure> {
    let path = format!("users/{}/photo/$value", path_segment(user_id));
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
