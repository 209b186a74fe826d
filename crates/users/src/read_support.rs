//! Shared pieces of the user read operations: CIPP's "Failed to …" texts, the not-found case,
//! Graph rows as answers, batched reads, PowerShell's date text and tenants an operation names
//! itself.

use cipp_graph::{BatchRequest, BatchResponse, GraphClient, GraphError, GraphVersion};
use futures::TryStreamExt;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::Ctx;
use crate::op::ctx::DENIED_TENANT;
use crate::op::types::GraphRow;
use crate::{Tenant, UserError, path_segment};

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

/// Graph's objects as Graph returns them, with the fields the operation adds.
// A bare `Vec<GraphRow>` has no schema to declare as an `Answer`; this documents the list as an
// array of `GraphRow`.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub struct GraphRows(pub Vec<GraphRow>);

/// Graph's collection items as answer rows. Graph collections hold objects only; anything else
/// would be a Graph fault, and is logged rather than answered as a row it is not.
pub(crate) fn graph_rows(values: Vec<Value>) -> GraphRows {
    GraphRows(
        values
            .into_iter()
            .filter_map(|value| match value {
                Value::Object(fields) => Some(GraphRow(fields)),
                other => {
                    tracing::warn!(value = %other, "a Graph collection item that is not an object");
                    None
                }
            })
            .collect(),
    )
}

/// Every batch item's `value`, following `@odata.nextLink`. An item Graph answers 404 (a group
/// that no longer exists) counts as empty when `skip_missing`; any other failure is an `Err`
/// with its text, because a missing membership would make a user look covered or not wrongly.
pub(crate) async fn batch_values(
    graph: &GraphClient,
    tenant: &str,
    version: GraphVersion,
    requests: Vec<BatchRequest>,
    skip_missing: bool,
) -> Result<Vec<(String, Vec<Value>)>, String> {
    let answers: Vec<BatchResponse> = graph
        .batch(tenant, version, requests)
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    let mut out = Vec::with_capacity(answers.len());
    for answer in answers {
        if answer.status == 404 && skip_missing {
            out.push((answer.id, Vec::new()));
            continue;
        }
        if !answer.is_success() {
            return Err(answer
                .error_message()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {}", answer.status)));
        }
        let body = answer.body.unwrap_or(Value::Null);
        let mut items = body["value"].as_array().cloned().unwrap_or_default();
        if let Some(next) = body["@odata.nextLink"].as_str() {
            let pages: Vec<_> = graph
                .pages_from_link(tenant, next, &[])
                .try_collect()
                .await
                .map_err(|e| normalize_graph_error(&e))?;
            items.extend(pages.into_iter().flat_map(|p| p.items));
        }
        out.push((answer.id, items));
    }
    Ok(out)
}

/// A Graph date as PowerShell's `Out-String` prints a DateTime (en-US, UTC, CRLF line breaks
/// around it), which is what CIPP sends; empty for no date. Other text passes through.
pub(crate) fn out_string_date(value: Option<&Value>) -> String {
    let Some(text) = value.and_then(Value::as_str) else {
        return String::new();
    };
    let Ok(when) =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
    else {
        return format!("{text}\r\n");
    };
    let when = when.to_offset(time::UtcOffset::UTC);
    let (hour, meridiem) = match when.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "\r\n{}, {} {}, {} {}:{:02}:{:02} {}\r\n\r\n",
        when.weekday(),
        when.month(),
        when.day(),
        when.year(),
        hour,
        when.minute(),
        when.second(),
        meridiem
    )
}

/// A tenant an operation reads from its own `tenantFilter` (one that keeps the value as sent,
/// or may go without one).
pub(crate) enum NamedTenant {
    All,
    One(Box<Tenant>),
}

/// Resolves a `tenantFilter` the operation read itself, as the dispatcher resolves a declared
/// one: `AllTenants` only where the caller's role may use it (403), an unknown tenant a 400
/// naming it, a tenant outside the caller's scope a 403.
pub(crate) async fn named_tenant(ctx: &Ctx, name: &str) -> Result<NamedTenant, UserError> {
    if name.eq_ignore_ascii_case("AllTenants") {
        if !ctx.may_target_all_tenants() {
            return Err(UserError::refused(DENIED_TENANT));
        }
        return Ok(NamedTenant::All);
    }
    Ok(NamedTenant::One(Box::new(
        ctx.tenant_named("tenantFilter", name).await?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_read_as_powershell_prints_them() {
        assert_eq!(
            out_string_date(Some(&json!("2025-01-02T15:04:05Z"))),
            "\r\nThursday, January 2, 2025 3:04:05 PM\r\n\r\n"
        );
        assert_eq!(
            out_string_date(Some(&json!("2025-01-02T00:30:00Z"))),
            "\r\nThursday, January 2, 2025 12:30:00 AM\r\n\r\n"
        );
        assert_eq!(out_string_date(Some(&Value::Null)), "");
    }
}
