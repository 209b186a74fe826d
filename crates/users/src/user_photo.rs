//! `ListUserPhoto` (CIPP-API `Invoke-ListUserPhoto.ps1`): a user's profile photo as bytes.

use cipp_graph::{GraphClient, GraphVersion};

use crate::read_support::{failed, required, user_not_found};
use crate::{UserError, path_segment};

/// CIPP's text when the user has no photo.
pub const NO_PHOTO: &str = "No photo found for this user";

/// The photo's bytes and content type (`image/jpeg` when Graph names none).
pub struct Photo {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// Reads `users/{id}/photo/$value`. No photo is `NotFound` with CIPP's text; an unknown user is
/// `NotFound` with Graph's text.
pub async fn user_photo(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
) -> Result<Photo, UserError> {
    let user_id = required("UserID", user_id)?;
    let path = format!("users/{}/photo/$value", path_segment(user_id));
    match graph.get_bytes(tenant, GraphVersion::V1, &path, &[]).await {
        Ok((bytes, content_type)) if !bytes.is_empty() => Ok(Photo {
            bytes,
            content_type: content_type
                .filter(|ct| ct.starts_with("image/"))
                .unwrap_or_else(|| "image/jpeg".to_owned()),
        }),
        Ok(_) => Err(UserError::NotFound {
            message: NO_PHOTO.to_owned(),
        }),
        Err(e) if e.graph_code() == Some("ImageNotFound") => Err(UserError::NotFound {
            message: NO_PHOTO.to_owned(),
        }),
        Err(e) if e.status() == Some(404) => Err(user_not_found(&e)),
        Err(e) => Err(failed(
            &format!("Failed to retrieve photo for user {user_id}: "),
            e,
        )),
    }
}
