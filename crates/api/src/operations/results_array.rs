//! Answers for the operations whose `Results` CIPP sends as an array of strings, failures too
//! (`["Failed to …"]` with 500), where every other error body here is a plain string.

use actix_web::http::StatusCode;
use cipp_users_domain::UserError;
use serde_json::json;

use super::Reply;
use crate::error::ApiError;

/// `{"Results": [text]}` with 200, or CIPP's failure text in the same shape with 500. Input
/// errors stay ours: a 400 with a string naming the field.
pub fn reply(outcome: Result<String, UserError>) -> Result<Reply, ApiError> {
    match outcome {
        Ok(text) => Ok(Reply::results(json!([text]))),
        Err(UserError::Failed { message, source }) => {
            if let Some(source) = source {
                tracing::info!(detail = ?source, "operation failed");
            }
            Ok(Reply::with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "Results": [message] }),
            ))
        }
        Err(other) => Err(other.into()),
    }
}
