//! `Get-CIPPLicenseOverview`: a tenant's licences with CIPP's names, counts, subscription terms
//! and who holds each (users and groups), as ListLicenses answers and ExecLicenseSearch reads.
//!
//! One beta `$batch` (app-only) of `subscribedSkus`, `directory/subscriptions`, the licensed
//! users and the licensed groups. Names come from Microsoft's licence table (`licences.rs`); the
//! Microsoft 365 admin portal's names (`licensedProducts`), which CIPP prefers when it can read
//! them, are not read here: that portal is no API this service or its simulator has, and CIPP
//! itself falls back to the table whenever the portal fails.

use cipp_graph::{BatchRequest, BatchResponse, GraphClient, GraphVersion};
use futures::TryStreamExt;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::{normalize_graph_error, normalize_message};
use crate::op::types::GraphRow;

/// CIPP's default excluded licences (`Config/ExcludeSkuList.JSON`, loaded into its
/// `ExcludedLicenses` table on first use): free, trial and add-on SKUs left out of every list.
/// None is marked to show in the licence picker, so `IncludeExcluded` brings none back.
pub const EXCLUDED_SKUS: [&str; 26] = [
    "90d8b3f8-712e-4f7b-aa1e-62e7ae6cbe96", // Business Apps (free)
    "f30db892-07e9-47e9-837c-80727f46fd3d", // Microsoft Power Automate Free
    "16ddbbfc-09ea-4de2-b1d7-312db6112d70", // Microsoft Teams (Free)
    "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", // Microsoft Fabric (Free)
    "61e6bd70-fbdb-4deb-82ea-912842f39431", // Dynamics 365 Customer Service Insights Trial
    "bc946dac-7877-4271-b2f7-99d2db13cd2c", // Dynamics 365 Customer Voice Trial
    "338148b6-1b11-4102-afb9-f92b6cdc0f8d", // Dynamics 365 P1 Trial for Information Workers
    "fcecd1f9-a91e-488d-a918-a96cdb6ce2b0", // Microsoft Dynamics AX7 User Trial
    "dcb1a3ae-b33f-4487-846a-a640262fadf4", // Microsoft Power Apps Plan 2 Trial
    "74fbf1bb-47c6-4796-9623-77dc7371723b", // Microsoft Teams Trial
    "606b54a9-78d8-4298-ad8b-df6ef4481c80", // Microsoft Copilot Studio Viral Trial
    "1f2f344a-700d-42c9-9427-5cea1d5d7ba6", // Microsoft Stream
    "6470687e-a428-4b7a-bef2-8a291ad947c9", // Windows Store for Business
    "710779e8-3d4a-4c88-adb9-386c958d1fdf", // Microsoft Teams Exploratory
    "8c4ce438-32a7-4ac5-91a6-e22ae08d9c8b", // Rights Management Adhoc
    "093e8d14-a334-43d9-93e3-30589a8b47d0", // Rights Management Service Basic Content Protection
    "5b631642-bd26-49fe-bd20-1daaa972ef80", // Microsoft Power Apps for Developer
    "6a4a1628-9b9a-424d-bed5-4118f0ede3fd", // Dynamics 365 Business Central for IWs
    "6ec92958-3cc1-49db-95bd-bc6b3798df71", // Dynamics 365 Sales Premium Viral Trial
    "3f9f06f5-3c31-472c-985f-62d9c10ec167", // Power Pages vTrial for Makers
    "9c7bff7a-3715-4da7-88d3-07f57f8d0fb6", // Dynamics 365 For Sales Professional Trial
    "8f0c5670-4e56-4892-b06d-91c085d7004f", // App Connect IW
    "87bbbc60-4754-4998-8c88-227dca264858", // Power Apps and Logic Flows
    "e5788282-6381-469f-84f0-3d7d4021d34d", // Office 365 Extra File Storage for GCC
    "99049c9c-6011-4908-bf17-15f496e6519d", // Office 365 Extra File Storage
    "47794cd0-f0e5-45c5-9033-2eb6b5fc84e0", // Communications Credits
];

/// One subscription behind a SKU, with CIPP's reading of its term.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TermInfo {
    #[serde(rename = "Status")]
    pub status: Option<String>,
    /// `Trial`, `Monthly`, `Yearly`, `3 Year` or `Term unknown or non-NCE license`.
    #[serde(rename = "Term")]
    pub term: String,
    #[serde(rename = "TotalLicenses")]
    pub total_licenses: Option<i64>,
    /// Whole days until `NextLifecycle` (negative once past).
    #[serde(rename = "DaysUntilRenew")]
    pub days_until_renew: Option<i64>,
    #[serde(rename = "NextLifecycle")]
    pub next_lifecycle: Option<String>,
    #[serde(rename = "CreatedDateTime")]
    pub created_date_time: Option<String>,
    #[serde(rename = "IsTrial")]
    pub is_trial: Option<bool>,
    #[serde(rename = "SubscriptionId")]
    pub subscription_id: Option<String>,
    #[serde(rename = "CSPSubscriptionId")]
    pub csp_subscription_id: Option<String>,
    #[serde(rename = "OCPSubscriptionId")]
    pub ocp_subscription_id: Option<String>,
}

/// A user holding the licence.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicensedUser {
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: String,
    pub id: String,
}

/// A group assigning the licence (group-based licensing).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicensedGroup {
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// In words here: `Microsoft 365`, `Mail-Enabled Security`, `Security`, `Distribution List`.
    #[serde(rename = "calculatedGroupType")]
    pub calculated_group_type: Option<String>,
    pub id: String,
    #[serde(rename = "onPremisesSyncEnabled")]
    pub on_premises_sync_enabled: bool,
}

/// One licence row. The counts keep CIPP's mixed types: `CountUsed` and `TotalLicenses` are
/// text, `CountAvailable` and `availableUnits` numbers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenceRow {
    /// The `tenantFilter` as the caller sent it.
    #[serde(rename = "Tenant")]
    pub tenant: String,
    /// The product's name (the SKU part number when the table does not know it).
    #[serde(rename = "License")]
    pub license: String,
    #[serde(rename = "CountUsed")]
    pub count_used: String,
    #[serde(rename = "CountAvailable")]
    pub count_available: i64,
    #[serde(rename = "TotalLicenses")]
    pub total_licenses: String,
    #[serde(rename = "skuId")]
    pub sku_id: String,
    /// The same name as `License` (CIPP's pickers show this field).
    #[serde(rename = "skuPartNumber")]
    pub sku_part_number: String,
    #[serde(rename = "availableUnits")]
    pub available_units: i64,
    #[serde(rename = "TermInfo")]
    pub term_info: Vec<TermInfo>,
    #[serde(rename = "AssignedUsers")]
    pub assigned_users: Option<Vec<LicensedUser>>,
    #[serde(rename = "AssignedGroups")]
    pub assigned_groups: Option<Vec<LicensedGroup>>,
    /// Graph's `servicePlans` as they come.
    #[serde(rename = "ServicePlans")]
    pub service_plans: Vec<GraphRow>,
}

fn parse_time(v: Option<&Value>) -> Option<time::OffsetDateTime> {
    v.and_then(Value::as_str).and_then(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    })
}

/// CIPP's term for a subscription from its dates (days between creation and next lifecycle).
pub fn term_of(sub: &Value) -> TermInfo {
    let created = parse_time(sub.get("createdDateTime"));
    let next = parse_time(sub.get("nextLifecycleDateTime"));
    let trial = sub.get("isTrial").and_then(Value::as_bool);
    let days = match (created, next) {
        (Some(c), Some(n)) => (n - c).whole_days(),
        _ => 0,
    };
    let term = if trial == Some(true) {
        "Trial"
    } else if (36..=1089).contains(&days) {
        "Yearly"
    } else if (1090..=1100).contains(&days) {
        "3 Year"
    } else if (25..=35).contains(&days) {
        "Monthly"
    } else {
        "Term unknown or non-NCE license"
    };
    let text = |name: &str| sub.get(name).and_then(Value::as_str).map(str::to_owned);
    TermInfo {
        status: text("status"),
        term: term.to_owned(),
        total_licenses: sub.get("totalLicenses").and_then(Value::as_i64),
        days_until_renew: next.map(|n| (n - time::OffsetDateTime::now_utc()).whole_days()),
        next_lifecycle: text("nextLifecycleDateTime"),
        created_date_time: text("createdDateTime"),
        is_trial: trial,
        subscription_id: text("id"),
        csp_subscription_id: text("commerceSubscriptionId"),
        ocp_subscription_id: text("ocpSubscriptionId"),
    }
}

fn items_of(answer: Option<&BatchResponse>) -> Vec<Value> {
    answer
        .filter(|a| a.is_success())
        .and_then(|a| a.body.as_ref())
        .and_then(|b| b.get("value"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Follows an item's `@odata.nextLink` (CIPP's bulk helper pages each item).
async fn all_items(
    graph: &GraphClient,
    tenant: &str,
    answer: Option<&BatchResponse>,
) -> Vec<Value> {
    let mut items = items_of(answer);
    if let Some(next) = answer
        .and_then(|a| a.body.as_ref())
        .and_then(|b| b.get("@odata.nextLink"))
        .and_then(Value::as_str)
        && let Ok(pages) = graph
            .pages_from_link(tenant, next, &[])
            .try_collect::<Vec<_>>()
            .await
    {
        items.extend(pages.into_iter().flat_map(|p| p.items));
    }
    items
}

fn skus_key(v: &Value) -> String {
    v.get("skuId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The overview of one tenant. `tenant_label` is what goes into `Tenant`. A failed
/// `subscribedSkus` read is an error with Graph's text; the other three reads failing leave
/// their part empty, as in CIPP.
pub async fn licence_overview(
    graph: &GraphClient,
    tenant_id: &str,
    tenant_label: &str,
) -> Result<Vec<LicenceRow>, UserError> {
    let eventual = |r: BatchRequest| r.with_header("ConsistencyLevel", "eventual");
    let requests = vec![
        BatchRequest::get("subscribedSkus").with_id("subscribedSkus"),
        BatchRequest::get("directory/subscriptions").with_id("directorySubscriptions"),
        eventual(BatchRequest::get(
            "users?$select=id,displayName,userPrincipalName,assignedLicenses&$filter=assignedLicenses/$count ne 0&$count=true",
        ))
        .with_id("licensedUsers"),
        eventual(BatchRequest::get(
            "groups?$select=id,displayName,assignedLicenses,mailEnabled,securityEnabled,groupTypes,onPremisesSyncEnabled&$filter=assignedLicenses/$count ne 0&$count=true",
        ))
        .with_id("licensedGroups"),
    ];
    let answers = graph
        .app_only()
        .batch(tenant_id, GraphVersion::Beta, requests)
        .await
        .map_err(|e| UserError::Failed {
            message: normalize_graph_error(&e),
            source: Some(Box::new(e)),
        })?;
    let find = |id: &str| answers.iter().find(|a| a.id == id);
    if let Some(skus) = find("subscribedSkus").filter(|a| !a.is_success()) {
        let text = skus
            .error_message()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("Request failed with status {}", skus.status));
        return Err(UserError::Failed {
            message: normalize_message(&text),
            source: None,
        });
    }
    let skus = items_of(find("subscribedSkus"));
    let subscriptions = items_of(find("directorySubscriptions"));
    let mut users = all_items(graph, tenant_id, find("licensedUsers")).await;
    let mut groups = all_items(graph, tenant_id, find("licensedGroups")).await;
    let name = |v: &Value| {
        v.get("displayName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase()
    };
    users.sort_by_key(name);
    groups.sort_by_key(name);
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let holders = |list: &[Value], sku: &str| -> Vec<Value> {
        list.iter()
            .filter(|o| {
                o.get("assignedLicenses")
                    .and_then(Value::as_array)
                    .is_some_and(|l| l.iter().any(|a| skus_key(a) == sku))
            })
            .cloned()
            .collect()
    };
    let mut rows = Vec::new();
    for sku in &skus {
        let sku_id = text(sku, "skuId");
        let key = sku_id.to_ascii_lowercase();
        if EXCLUDED_SKUS.contains(&key.as_str()) {
            continue;
        }
        let pretty = crate::licences::sku_display_name(&sku_id)
            .map(str::to_owned)
            .unwrap_or_else(|| text(sku, "skuPartNumber"));
        let consumed = sku
            .get("consumedUnits")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let enabled = sku
            .pointer("/prepaidUnits/enabled")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let term_info = sku
            .get("subscriptionIds")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(|id| {
                        let sub = subscriptions
                            .iter()
                            .find(|s| s.get("id").and_then(Value::as_str) == Some(id))
                            .cloned()
                            .unwrap_or(Value::Null);
                        term_of(&sub)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let user_rows: Vec<LicensedUser> = holders(&users, &key)
            .iter()
            .map(|u| LicensedUser {
                display_name: text(u, "displayName"),
                user_principal_name: text(u, "userPrincipalName"),
                id: text(u, "id"),
            })
            .collect();
        let group_rows: Vec<LicensedGroup> = holders(&groups, &key)
            .iter()
            .map(|g| LicensedGroup {
                display_name: text(g, "displayName"),
                calculated_group_type: crate::groups::kind(g).map(|(label, _)| label.to_owned()),
                id: text(g, "id"),
                on_premises_sync_enabled: g
                    .get("onPremisesSyncEnabled")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
            .collect();
        rows.push(LicenceRow {
            tenant: tenant_label.to_owned(),
            license: pretty.clone(),
            count_used: consumed.to_string(),
            count_available: enabled - consumed,
            total_licenses: enabled.to_string(),
            sku_id,
            sku_part_number: pretty,
            available_units: enabled - consumed,
            term_info,
            assigned_users: (!user_rows.is_empty()).then_some(user_rows),
            assigned_groups: (!group_rows.is_empty()).then_some(group_rows),
            service_plans: sku
                .get("servicePlans")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(|x| x.as_object().cloned().map(GraphRow))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    rows.sort_by_key(|r| r.license.to_lowercase());
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_read_from_the_subscription_dates() {
        let sub = |created: &str, next: &str, trial: bool| serde_json::json!({"createdDateTime": created, "nextLifecycleDateTime": next, "isTrial": trial});
        let t = |v| term_of(&v).term;
        assert_eq!(
            t(sub("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", false)),
            "Yearly"
        );
        assert_eq!(
            t(sub("2026-01-01T00:00:00Z", "2026-01-31T00:00:00Z", false)),
            "Monthly"
        );
        assert_eq!(
            t(sub("2026-01-01T00:00:00Z", "2028-12-26T00:00:00Z", false)),
            "3 Year"
        );
        assert_eq!(
            t(sub("2026-01-01T00:00:00Z", "2026-01-31T00:00:00Z", true)),
            "Trial"
        );
        assert_eq!(
            term_of(&Value::Null).term,
            "Term unknown or non-NCE license"
        );
    }
}
