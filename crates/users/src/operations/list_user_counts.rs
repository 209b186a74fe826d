//! `ListUserCounts` (CIPP-API `Invoke-ListUserCounts.ps1`): how many users, licensed users,
//! Global Administrators and guests a tenant has, from one Graph `$batch`.

use cipp_graph::{BatchRequest, BatchResponse, GraphClient, GraphVersion};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::NoParams;
use crate::op::{Ctx, Method, Operation, Outcome, Source, Target, TenantUse};

pub struct ListUserCounts;

/// `{Users, LicUsers, Gas, Guests}` (note CIPP's key `Gas` for Global Administrators).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListUserCountsAnswer {
    /// Every user.
    #[serde(rename = "Users")]
    pub users: ListUserCountsValue,
    /// Users with at least one licence.
    #[serde(rename = "LicUsers")]
    pub licensed_users: ListUserCountsValue,
    /// Members of the Global Administrator role.
    #[serde(rename = "Gas")]
    pub global_admins: ListUserCountsValue,
    /// Guest users.
    #[serde(rename = "Guests")]
    pub guests: ListUserCountsValue,
}

/// A count, or `Not Supported` for `AllTenants` (CIPP does not count across tenants).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListUserCountsValue {
    Count(u64),
    Text(String),
}

impl Operation for ListUserCounts {
    type Params = NoParams;
    type Answer = ListUserCountsAnswer;
    const NAME: &'static str = "ListUserCounts";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::OneOrAll;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserCounts.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "As in CIPP, `AllTenants` answers \"Not Supported\" for each count. Unlike CIPP, a failed \
         count is a 500 whose `Results` names the failed counts and Graph's texts (CIPP: \
         `{Error, Details}`), and the tenant is checked against the caller's scope (CIPP skips \
         its tenant check here).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<ListUserCountsAnswer>, UserError> {
        let answer = match &ctx.target {
            Target::All => all_tenants_counts(),
            _ => user_counts(&ctx.graph, &ctx.tenant()?.customer_id).await?,
        };
        Ok(Outcome::json(answer))
    }
}

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
pub fn all_tenants_counts() -> ListUserCountsAnswer {
    let not_supported = || ListUserCountsValue::Text("Not Supported".to_owned());
    ListUserCountsAnswer {
        users: not_supported(),
        licensed_users: not_supported(),
        global_admins: not_supported(),
        guests: not_supported(),
    }
}

/// The four counts of one tenant, from one `$batch`.
pub async fn user_counts(
    graph: &GraphClient,
    tenant: &str,
) -> Result<ListUserCountsAnswer, UserError> {
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
    let count = |id: &str| -> Result<ListUserCountsValue, UserError> {
        let body = answers
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.body.as_ref());
        count_value(body)
            .map(ListUserCountsValue::Count)
            .ok_or_else(|| UserError::Failed {
                message: format!(
                    "Failed to retrieve counts for: {id}. The answer was not a number"
                ),
                source: None,
            })
    };
    Ok(ListUserCountsAnswer {
        users: count("Users")?,
        licensed_users: count("LicUsers")?,
        global_admins: count("GAs")?,
        guests: count("Guests")?,
    })
}

/// A `$count` body as a number: Graph answers `text/plain`, which a batch item carries as a
/// JSON number or as text.
fn count_value(body: Option<&Value>) -> Option<u64> {
    match body? {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => text
            .trim()
            .trim_start_matches('\u{feff}')
            .parse::<u64>()
            .ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_tenants_says_not_supported_for_every_count_under_cipps_keys() {
        assert_eq!(
            serde_json::to_value(all_tenants_counts()).unwrap(),
            json!({"Users": "Not Supported", "LicUsers": "Not Supported", "Gas": "Not Supported", "Guests": "Not Supported"})
        );
    }

    #[test]
    fn count_bodies_are_read_as_numbers_whether_json_or_text() {
        assert_eq!(count_value(Some(&json!(42))), Some(42));
        assert_eq!(count_value(Some(&json!("42"))), Some(42));
        assert_eq!(count_value(Some(&json!(" 7\n"))), Some(7));
        assert_eq!(count_value(Some(&json!({"a": 1}))), None);
        assert_eq!(count_value(None), None);
    }
}
