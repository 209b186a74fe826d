//! `ListUserCounts` (CIPP-API `Invoke-ListUserCounts.ps1`): how many users, licensed users,
//! Global Administrators and guests a tenant has, from one Graph `$batch`.

use cipp_graph::{BatchRequest, BatchResponse, GraphClient, GraphVersion};
use serde_json::{Value, json};

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// The batch CIPP sends: (id, url). Every item carries `ConsistencyLevel: eventual`.
const COUNT_REQUESTS: &[(&str, &str)] = &[
    ("Users", "/users/$count"),
    (
        "LicUsers",
        "/users/$count?$top=1&$filter=assignedLicenses/$count ne 0",
    ),
    (
        "GAs",
        "/directoryRoles/roleTemplateId=62e90394-69f5-4237-9190-012177145e10/members/$count",
    ),
    ("Guests", "/users/$count?$top=1&$filter=userType eq 'Guest'"),
];

/// CIPP's answer for `AllTenants`, which it does not count.
pub fn all_tenants_counts() -> Value {
    json!({
        "Users": "Not Supported",
        "LicUsers": "Not Supported",
        "Gas": "Not Supported",
        "Guests": "Not Supported",
    })
}

/// `{Users, LicUsers, Gas, Guests}` for one tenant (note CIPP's key `Gas`).
pub async fn user_counts(graph: &GraphClient, tenant: &str) -> Result<Value, UserError> {
    let requests = COUNT_REQUESTS
        .iter()
        .map(|(id, url)| {
            BatchRequest::get(*url)
                .with_id(*id)
                .with_header("ConsistencyLevel", "eventual")
        })
        .collect();
    let answers = graph
        .batch(tenant, GraphVersion::Beta, requests)
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to retrieve user counts: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let failed: Vec<&BatchResponse> = answers.iter().filter(|a| a.status != 200).collect();
    if !failed.is_empty() {
        let ids: Vec<&str> = failed.iter().map(|a| a.id.as_str()).collect();
        let details: Vec<String> = failed
            .iter()
            .map(|a| {
                format!(
                    "{} ({}): {}",
                    a.id,
                    a.status,
                    a.error_message().unwrap_or("no error text")
                )
            })
            .collect();
        tracing::warn!(tenant, failed = ?details, "user counts failed");
        return Err(UserError::Failed {
            message: format!(
                "Failed to retrieve counts for: {}. {}",
                ids.join(", "),
                details.join("; ")
            ),
            source: None,
        });
    }
    let count = |id: &str| -> Result<Value, UserError> {
        let body = answers
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.body.as_ref());
        count_value(body).ok_or_else(|| UserError::Failed {
            message: format!("Failed to retrieve counts for: {id}. The answer was not a number"),
            source: None,
        })
    };
    Ok(json!({
        "Users": count("Users")?,
        "LicUsers": count("LicUsers")?,
        "Gas": count("GAs")?,
        "Guests": count("Guests")?,
    }))
}

/// A `$count` body as a number: Graph answers `text/plain`, which a batch item carries as a
/// JSON number or as text.
fn count_value(body: Option<&Value>) -> Option<Value> {
    match body? {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(text) => text
            .trim()
            .trim_start_matches('\u{feff}')
            .parse::<u64>()
            .ok()
            .map(Value::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_bodies_are_read_as_numbers_whether_json_or_text() {
        assert_eq!(count_value(Some(&json!(42))), Some(json!(42)));
        assert_eq!(count_value(Some(&json!("42"))), Some(json!(42)));
        assert_eq!(count_value(Some(&json!(" 7\n"))), Some(json!(7)));
        assert_eq!(count_value(Some(&json!({"a": 1}))), None);
        assert_eq!(count_value(None), None);
    }
}
