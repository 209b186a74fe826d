//! `ExecSetUserPhoto` (CIPP-API `Invoke-ExecSetUserPhoto.ps1`): `Results` is an array of one
//! string; failures are `["Failed to <action> user profile picture: <text>"]`.
//!
//! Differences from CIPP: input errors name the field (`userId`, `action`, `photoData`) and
//! bytes that are not a JPEG, PNG, GIF or BMP image are refused before Graph is called; the photo
//! is sent with its own content type; a failure Graph did not cause by refusing the request
//! (5xx, network) is a 500 (CIPP: 400 for everything).

use actix_web::http::StatusCode;
use cipp_users_domain::UserError;
use cipp_users_domain::set_user_photo::{
    PhotoAction, PhotoFailure, decode_photo, remove_user_photo, set_user_photo,
};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::{Context, Reply};
use crate::error::ApiError;

fn failed(action: &str, status: StatusCode, text: &str) -> Reply {
    Reply::with_status(
        status,
        json!({ "Results": [format!("Failed to {action} user profile picture: {text}")] }),
    )
}

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let action_text = ctx.params.string("action").unwrap_or_default();
        let Some(user_id) = ctx.params.string("userId") else {
            return Ok(failed(
                &action_text,
                StatusCode::BAD_REQUEST,
                "userId: User ID is required",
            ));
        };
        let Some(action) = PhotoAction::parse(&action_text) else {
            return Ok(failed(
                &action_text,
                StatusCode::BAD_REQUEST,
                "action: Invalid action. Must be 'set' or 'remove'",
            ));
        };
        // Body only, as CIPP reads it.
        let photo = match (action, ctx.params.body_value("photoData")) {
            (PhotoAction::Remove, _) => None,
            (PhotoAction::Set, Some(Value::String(data))) => match decode_photo(&data) {
                Ok(photo) => Some(photo),
                Err(UserError::InvalidInput { message, .. }) => {
                    return Ok(failed(&action_text, StatusCode::BAD_REQUEST, &message));
                }
                Err(other) => return Err(other.into()),
            },
            (PhotoAction::Set, _) => {
                return Ok(failed(
                    &action_text,
                    StatusCode::BAD_REQUEST,
                    "photoData: Photo data is required when setting a profile picture",
                ));
            }
        };
        let tenant = ctx.single_tenant().await?;
        let graph = &ctx.state.graph;
        let outcome = match &photo {
            Some((bytes, content_type)) => {
                set_user_photo(graph, &tenant.customer_id, &user_id, bytes, content_type).await
            }
            None => remove_user_photo(graph, &tenant.customer_id, &user_id).await,
        };
        match outcome {
            Ok(text) => Ok(Reply::results(json!([text]))),
            Err(PhotoFailure { message, refused }) => {
                let status = if refused {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                Ok(failed(&action_text, status, &message))
            }
        }
    }
    .boxed_local()
}
