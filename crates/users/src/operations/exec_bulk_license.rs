//! `ExecBulkLicense` (CIPP-API `Invoke-ExecBulkLicense.ps1` → `Set-CIPPUserLicense.ps1`, bulk
//! mode): adds, removes or replaces licences for many users, tenant by tenant. The body is an
//! array of items (or one item), each naming its own tenant; `Results` is an array of strings,
//! each user's outcome. 200 when every item succeeded, 207 when some failed, 500 when all failed
//! or a user lookup failed (CIPP's `Get-CippBulkStatusCode`).

use std::collections::HashSet;

use cipp_graph::{BatchRequest, BatchResponse, GraphClient, GraphVersion, Method};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::{Guid, TextListResults};
use crate::op::{Ctx, Method as HttpMethod, Operation, Outcome, Source, TenantUse};
use crate::{ErrorKind, Tenant, UserError, path_segment, query_value};

pub struct ExecBulkLicense;

/// One licence change: a user of one tenant and what to do with their licences.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ExecBulkLicenseItem {
    /// The user's tenant: its id, default domain or initial domain.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: String,
    /// The user's object id; only the first entry is acted on, as in CIPP.
    #[serde(rename = "userIds", default)]
    pub user_ids: Vec<Guid>,
    /// Which licence change to make.
    #[serde(rename = "LicenseOperation")]
    pub license_operation: ExecBulkLicenseOperation,
    /// SKUs to add (`Add`, `Replace`).
    #[serde(rename = "Licenses", default)]
    pub licenses: Vec<Guid>,
    /// SKUs to remove (`Remove`); only those the user holds are removed.
    #[serde(rename = "LicensesToRemove", default)]
    pub licenses_to_remove: Vec<Guid>,
    /// SKUs `Replace` removes; only those the user holds are removed.
    #[serde(rename = "LicensesToReplace", default)]
    pub licenses_to_replace: Vec<Guid>,
    /// `Remove` takes every licence the user holds (default `false`).
    #[serde(rename = "RemoveAllLicenses", default)]
    pub remove_all_licenses: bool,
    /// `Replace` takes every licence the user holds before adding `Licenses` (default `false`).
    #[serde(rename = "ReplaceAllLicenses", default)]
    pub replace_all_licenses: bool,
}

/// What one item asks for its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ExecBulkLicenseOperation {
    Add,
    Remove,
    Replace,
}

impl Operation for ExecBulkLicense {
    type Params = Vec<ExecBulkLicenseItem>;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecBulkLicense";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: HttpMethod = HttpMethod::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecBulkLicense.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const PARTIAL: bool = true;
    const DIFFERENCES: Option<&'static str> = Some(
        "Every item is checked first and bad input is a 400 naming the item and field (an empty array, a missing `tenantFilter` or `LicenseOperation`, a user id or SKU that is not a GUID, an unknown `LicenseOperation`, which CIPP silently answers with the previous item's lists); each `tenantFilter` must be a tenant the caller may use. `RemoveAllLicenses` and `ReplaceAllLicenses` are booleans (CIPP's `[bool]` cast takes `\"false\"` as true).",
    );

    fn example() -> Value {
        json!([{
            "tenantFilter": crate::demo::TENANT,
            "userIds": [crate::demo::OTHER_USER_ID],
            "LicenseOperation": "Remove",
            "RemoveAllLicenses": true,
        }])
    }

    async fn run(
        ctx: Ctx,
        items: Vec<ExecBulkLicenseItem>,
    ) -> Result<Outcome<TextListResults>, UserError> {
        if items.is_empty() {
            return Err(UserError::invalid(
                "body",
                "The body must be a licence request or a non-empty array of them",
            ));
        }
        // Every tenant is resolved and checked before anything changes.
        let mut groups: Vec<(Tenant, Vec<LicenceItem>)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let tenant = ctx
                .tenant_named(&format!("[{index}].tenantFilter"), &item.tenant_filter)
                .await?;
            let item = LicenceItem::from(item);
            match groups
                .iter_mut()
                .find(|(t, _)| t.customer_id == tenant.customer_id)
            {
                Some((_, list)) => list.push(item),
                None => groups.push((tenant, vec![item])),
            }
        }
        let usage_location = default_usage_location(&ctx).await;
        let mut results = Vec::new();
        let mut failed = 0;
        for (tenant, list) in &groups {
            let outcome = bulk_license_tenant(
                &ctx.graph,
                &tenant.customer_id,
                &tenant.default_domain_name,
                list,
                &usage_location,
            )
            .await
            .map_err(|e| {
                UserError::failed_list(format!("Failed to process bulk license operation: {e}"))
            })?;
            results.extend(outcome.results);
            failed += outcome.failed;
        }
        // CIPP's `Get-CippBulkStatusCode`: 200 none failed, 207 some, 500 all.
        if failed > 0 && failed >= items.len() {
            return Err(UserError::Answered {
                kind: ErrorKind::of_failure_texts(results.iter().map(String::as_str)),
                message: results.join(" | "),
                results: json!(results),
            });
        }
        let mut answer = Outcome::json(TextListResults::new(results)).partial(failed > 0);
        if let [(tenant, _)] = groups.as_slice() {
            answer = answer.audit_tenant(&tenant.default_domain_name, &tenant.customer_id);
        }
        Ok(answer)
    }
}

/// The default usage location CIPP sets before retrying: the `allUsers` settings', else US.
async fn default_usage_location(ctx: &Ctx) -> String {
    let settings = ctx
        .store
        .get_user_settings(cipp_store::ALL_USERS)
        .await
        .ok()
        .flatten();
    settings
        .as_ref()
        .and_then(|s| {
            s.pointer("/usageLocation/value")
                .or_else(|| s.get("usageLocation"))
        })
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("US")
        .to_owned()
}

/// How many `id eq` clauses CIPP puts in one lookup filter.
const IDS_PER_LOOKUP: usize = 15;

/// One item of the request, its ids and SKUs already checked to be GUIDs.
#[derive(Debug, Clone)]
pub struct LicenceItem {
    pub user_ids: Vec<String>,
    pub operation: ExecBulkLicenseOperation,
    pub licenses: Vec<String>,
    pub to_remove: Vec<String>,
    pub to_replace: Vec<String>,
    pub remove_all: bool,
    pub replace_all: bool,
}

impl From<&ExecBulkLicenseItem> for LicenceItem {
    fn from(item: &ExecBulkLicenseItem) -> Self {
        let texts = |list: &[Guid]| list.iter().map(|g| g.as_str().to_owned()).collect();
        Self {
            user_ids: texts(&item.user_ids),
            operation: item.license_operation,
            licenses: texts(&item.licenses),
            to_remove: texts(&item.licenses_to_remove),
            to_replace: texts(&item.licenses_to_replace),
            remove_all: item.remove_all_licenses,
            replace_all: item.replace_all_licenses,
        }
    }
}

/// One tenant's result texts (CIPP's order) and how many items failed.
#[derive(Debug, Default)]
pub struct TenantOutcome {
    pub results: Vec<String>,
    pub failed: usize,
}

struct Request {
    user_id: String,
    upn: String,
    add: Vec<String>,
    remove: Vec<String>,
    is_replace: bool,
}

const VISIBLE: &str = "It may take 2\u{2013}5 minutes before the changes become visible.";

/// Runs the items of one tenant. `Err` is a failed user lookup, which CIPP answers for the
/// whole request (`Failed to process bulk license operation: …`).
pub async fn bulk_license_tenant(
    graph: &GraphClient,
    tenant_id: &str,
    tenant_name: &str,
    items: &[LicenceItem],
    default_usage_location: &str,
) -> Result<TenantOutcome, UserError> {
    let mut seen = HashSet::new();
    let ids: Vec<&str> = items
        .iter()
        .flat_map(|i| i.user_ids.iter().map(String::as_str))
        .filter(|id| !id.trim().is_empty() && seen.insert(id.to_ascii_lowercase()))
        .collect();
    let lookups = ids
        .chunks(IDS_PER_LOOKUP)
        .enumerate()
        .map(|(n, chunk)| {
            let filter = chunk
                .iter()
                .map(|id| format!("id eq '{id}'"))
                .collect::<Vec<_>>()
                .join(" or ");
            BatchRequest::get(format!(
                "users?$filter={}&$select=id,userPrincipalName,assignedLicenses&$top=999",
                query_value(&filter)
            ))
            .with_id(format!("UserLookup{}", n * IDS_PER_LOOKUP))
        })
        .collect();
    let answers = graph
        .batch(tenant_id, GraphVersion::Beta, lookups)
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to lookup users before license assignment for tenant {tenant_name}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let mut users: Vec<Value> = Vec::new();
    for answer in answers {
        if !answer.is_success() {
            return Err(UserError::Failed {
                message: format!(
                    "Failed to fetch users for chunk {}: {}",
                    answer.id,
                    answer
                        .error_message()
                        .unwrap_or("Unknown Graph batch error")
                ),
                source: None,
            });
        }
        if let Some(list) = answer
            .body
            .as_ref()
            .and_then(|b| b.get("value"))
            .and_then(Value::as_array)
        {
            users.extend(list.iter().cloned());
        }
    }

    let mut outcome = TenantOutcome::default();
    let mut requests = Vec::new();
    for item in items {
        let Some(user_id) = item.user_ids.iter().find(|id| !id.trim().is_empty()) else {
            outcome.failed += 1;
            outcome.results.push(format!(
                "No valid user ID found in request for tenant {tenant_name}"
            ));
            continue;
        };
        let Some(user) = users.iter().find(|u| {
            u.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(user_id))
        }) else {
            outcome.failed += 1;
            outcome
                .results
                .push(format!("User {user_id} not found in tenant {tenant_name}"));
            continue;
        };
        let upn = user
            .get("userPrincipalName")
            .and_then(Value::as_str)
            .unwrap_or(user_id)
            .to_owned();
        let held: Vec<String> = user
            .get("assignedLicenses")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.get("skuId").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let held_of = |list: &[String]| -> Vec<String> {
            list.iter()
                .filter(|s| held.iter().any(|h| h.eq_ignore_ascii_case(s)))
                .cloned()
                .collect()
        };
        let (add, remove) = match item.operation {
            ExecBulkLicenseOperation::Add => (item.licenses.clone(), Vec::new()),
            ExecBulkLicenseOperation::Remove if item.remove_all => (Vec::new(), held.clone()),
            ExecBulkLicenseOperation::Remove => (Vec::new(), held_of(&item.to_remove)),
            ExecBulkLicenseOperation::Replace if item.replace_all => (item.licenses.clone(), held.clone()),
            ExecBulkLicenseOperation::Replace => (item.licenses.clone(), held_of(&item.to_replace)),
        };
        if add.is_empty() && remove.is_empty() {
            outcome
                .results
                .push(format!("No license changes needed for user {upn}"));
            continue;
        }
        requests.push(Request {
            user_id: user_id.clone(),
            upn,
            add,
            remove,
            is_replace: item.operation == ExecBulkLicenseOperation::Replace && item.replace_all,
        });
    }
    if !requests.is_empty() {
        set_licences(
            graph,
            tenant_id,
            &requests,
            default_usage_location,
            &mut outcome,
        )
        .await;
    }
    Ok(outcome)
}

fn assign_path(user_id: &str) -> String {
    format!("users/{}/assignLicense", path_segment(user_id))
}

fn assign_body(add: &[String], remove: &[String]) -> Value {
    let add: Vec<Value> = add
        .iter()
        .map(|sku| json!({"disabledPlans": [], "skuId": sku}))
        .collect();
    json!({"addLicenses": add, "removeLicenses": remove})
}

fn graph_message(answer: &BatchResponse) -> String {
    answer
        .error_message()
        .map_or_else(|| format!("HTTP {}", answer.status), str::to_owned)
}

/// `Set-CIPPUserLicense` in bulk mode: replace removals first, then one `assignLicense` per user
/// in a beta `$batch` (delegated), then the usage-location retries.
async fn set_licences(
    graph: &GraphClient,
    tenant: &str,
    requests: &[Request],
    default_usage_location: &str,
    outcome: &mut TenantOutcome,
) {
    let mut failed_users: HashSet<String> = HashSet::new();
    let removals: Vec<&Request> = requests
        .iter()
        .filter(|r| r.is_replace && !r.remove.is_empty())
        .collect();
    if !removals.is_empty() {
        let batch = removals
            .iter()
            .map(|r| {
                BatchRequest::new(Method::POST, assign_path(&r.user_id))
                    .with_body(assign_body(&[], &r.remove))
            })
            .collect();
        let answers = batch_or_failures(graph, tenant, batch, removals.len()).await;
        for (request, answer) in removals.iter().zip(&answers) {
            if !answer.is_success() {
                failed_users.insert(request.user_id.to_ascii_lowercase());
                outcome.results.push(format!(
                    "Failed to remove licenses for user {}: {}",
                    request.upn,
                    graph_message(answer)
                ));
            }
        }
    }
    let batch = requests
        .iter()
        .map(|r| {
            let remove: &[String] = if r.is_replace { &[] } else { &r.remove };
            BatchRequest::new(Method::POST, assign_path(&r.user_id))
                .with_body(assign_body(&r.add, remove))
        })
        .collect();
    let answers = batch_or_failures(graph, tenant, batch, requests.len()).await;
    let mut retry = Vec::new();
    for (request, answer) in requests.iter().zip(&answers) {
        if answer.is_success() {
            outcome.results.push(format!(
                "Successfully set licenses for {}. {VISIBLE}",
                request.upn
            ));
            continue;
        }
        let message = graph_message(answer);
        let lower = message.to_ascii_lowercase();
        if lower.contains("invalid usage location") || lower.contains("usagelocation") {
            retry.push(request);
            continue;
        }
        failed_users.insert(request.user_id.to_ascii_lowercase());
        outcome.results.push(format!(
            "Failed to assign licenses for user {}: {message}",
            request.upn
        ));
    }
    for request in retry {
        let remove: &[String] = if request.is_replace {
            &[]
        } else {
            &request.remove
        };
        let user = format!("users/{}", path_segment(&request.user_id));
        let attempt = async {
            graph
                .patch(
                    tenant,
                    GraphVersion::Beta,
                    &user,
                    &json!({"usageLocation": default_usage_location}),
                )
                .await?;
            graph
                .post(
                    tenant,
                    GraphVersion::Beta,
                    &assign_path(&request.user_id),
                    &assign_body(&request.add, remove),
                )
                .await
        };
        match attempt.await {
            Ok(_) => outcome.results.push(format!(
                "Successfully set licenses for {} after setting usage location. {VISIBLE}",
                request.upn
            )),
            Err(e) => {
                failed_users.insert(request.user_id.to_ascii_lowercase());
                outcome.results.push(format!(
                    "Failed to assign licenses for user {} after setting usage location: {}",
                    request.upn,
                    e.service_message()
                ));
            }
        }
    }
    outcome.failed += failed_users.len();
}

/// The batch's answers; when the batch call itself failed, one failure per request carrying
/// the normalised error, so every user's outcome is reported.
async fn batch_or_failures(
    graph: &GraphClient,
    tenant: &str,
    batch: Vec<BatchRequest>,
    count: usize,
) -> Vec<BatchResponse> {
    match graph.batch(tenant, GraphVersion::Beta, batch).await {
        Ok(answers) => answers,
        Err(e) => {
            let message = normalize_graph_error(&e);
            (0..count)
                .map(|i| BatchResponse {
                    id: i.to_string(),
                    status: e.status().unwrap_or(502),
                    headers: Default::default(),
                    body: Some(
                        json!({"error": {"code": "cippGraph.batchFailed", "message": message}}),
                    ),
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::is_guid;

    #[test]
    fn guids_are_recognised_in_any_case() {
        assert!(is_guid("6FD2C87F-B296-42F0-B197-1e91e994b900"));
        assert!(!is_guid("not-a-guid"));
        assert!(!is_guid("6fd2c87f-b296-42f0-b197-1e91e994b90"));
    }
}
