//! Shared pieces of the user read operations: CIPP's "Failed to …" texts and the not-found case.

use cipp_graph::{GraphClient, GraphError, GraphVersion};

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// A failed read as CIPP words it: `<prefix><normalised Graph text>`.
pub(crate) fn failed(prefix: &str, error: GraphError) -> UserError {
    UserError::Failed {
        message: format!("{prefix}{}", normalize_graph_error(&error)),
        source: Some(Box::new(error)),
    }
}

/// Graph's 404 for the user, with Graph's text (as ListUsers answers an unknown `UserID`).
pub(crate) fn user_not_found(error: &GraphError) -> UserError {
    UserError::NotFound {
        message: normalize_graph_error(error),
    }
}

/// 404 for an unknown user, else CIPP's failure text.
pub(crate) fn failed_or_not_found(prefix: &str, error: GraphError) -> UserError {
    if error.status() == Some(404) {
        user_not_found(&error)
    } else {
        failed(prefix, error)
    }
}

/// A required, non-blank parameter.
pub(crate) fn required<'a>(field: &'static str, value: &'a str) -> Result<&'a str, UserError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(UserError::missing(field));
    }
    Ok(value)
}

/// A value inside an OData string literal: `'` doubled, then encoded for the query.
pub(crate) fn odata_literal(value: &str) -> String {
    crate::query_value(&value.replace('\'', "''"))
}

/// Whether the user exists: `Err(NotFound)` when Graph says 404. Used where a read that names
/// a user cannot tell "no records" from "no such user" (sign-in logs, what-if evaluation).
pub(crate) async fn ensure_user_exists(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    prefix: &str,
) -> Result<(), UserError> {
    graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{}?$select=id", path_segment(user_id)),
            &[],
        )
        .await
        .map(|_| ())
        .map_err(|e| failed_or_not_found(prefix, e))
}
