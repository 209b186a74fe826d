//! `ListSites` (CIPP-API `Invoke-ListSites.ps1`): a tenant's SharePoint sites
//! (`Type=SharePointSiteUsage`) or OneDrives (`Type=OneDriveUsageAccount`) with their usage:
//! one beta `$batch` (app-only) of `sites/getAllSites` (personal sites or not) and the
//! matching 7-day usage report, then, for SharePoint sites, each site's lists for the
//! OneDrive-sync `AutoMapUrl`.

use cipp_graph::{BatchRequest, GraphVersion};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::{normalize_graph_error, normalize_message};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListSites;

/// Which sites: SharePoint sites or users' OneDrives (the usage report CIPP reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum SiteType {
    SharePointSiteUsage,
    OneDriveUsageAccount,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    #[serde(rename = "Type")]
    pub kind: Option<SiteType>,
    /// Only sites with a `webUrl` (the site pickers).
    #[serde(rename = "URLOnly", default)]
    pub url_only: bool,
    /// CIPP reads its reporting database when `true`; this service reads live.
    #[serde(rename = "UseReportDB", default)]
    pub use_report_db: bool,
}

/// One site with its usage (the report's fields are null when it has no row for the site).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteRow {
    #[serde(rename = "siteId")]
    pub site_id: Value,
    #[serde(rename = "webId")]
    pub web_id: Value,
    #[serde(rename = "createdDateTime")]
    pub created_date_time: Value,
    #[serde(rename = "displayName")]
    pub display_name: Value,
    #[serde(rename = "webUrl")]
    pub web_url: Value,
    #[serde(rename = "ownerDisplayName")]
    pub owner_display_name: Value,
    #[serde(rename = "ownerPrincipalName")]
    pub owner_principal_name: Value,
    #[serde(rename = "lastActivityDate")]
    pub last_activity_date: Value,
    #[serde(rename = "fileCount")]
    pub file_count: Value,
    /// Bytes / 2^30, rounded to two places (half to even, as .NET's `Math.Round`).
    #[serde(rename = "storageUsedInGigabytes")]
    pub storage_used_in_gigabytes: f64,
    #[serde(rename = "storageAllocatedInGigabytes")]
    pub storage_allocated_in_gigabytes: f64,
    #[serde(rename = "storageUsedInBytes")]
    pub storage_used_in_bytes: Value,
    #[serde(rename = "storageAllocatedInBytes")]
    pub storage_allocated_in_bytes: Value,
    #[serde(rename = "rootWebTemplate")]
    pub root_web_template: Value,
    #[serde(rename = "reportRefreshDate")]
    pub report_refresh_date: Value,
    /// SharePoint sites: the OneDrive sync link parameters
    /// (`tenantId=…&webId={…}&siteid={…}&webUrl=…&listId={…}`); empty for OneDrives.
    #[serde(rename = "AutoMapUrl")]
    pub auto_map_url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
pub struct SiteRows(pub Vec<SiteRow>);

impl Operation for ListSites {
    type Params = Params;
    type Answer = SiteRows;
    const NAME: &'static str = "ListSites";
    const TAG: &'static str = "Teams-Sharepoint";
    const ROLE: Option<&'static str> = Some("Sharepoint.Site.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListSites.ps1",
        frontend: Some("src/pages/teams-share/sharepoint/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A `Type` other than the two reports is a 400 naming it (CIPP asks Graph for a report of \
         that name and answers 403). `UseReportDB` reads live and `AllTenants` is a 400: this \
         service keeps no reporting database. A failed read is a 500 with the normalised text \
         in `Results` (CIPP: 403 with the bare text).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "Type": "SharePointSiteUsage"})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<SiteRows>, UserError> {
        let kind = params.kind.ok_or_else(|| UserError::missing("Type"))?;
        let _ = params.use_report_db;
        let tenant = ctx.tenant()?;
        let mut rows = list_sites(&ctx, &tenant.customer_id, kind).await?;
        if params.url_only {
            rows.retain(|r| !r.web_url.is_null());
        }
        rows.sort_by_key(|r| {
            r.display_name
                .as_str()
                .unwrap_or("")
                .to_lowercase()
        });
        Ok(Outcome::json(SiteRows(rows)))
    }
}

fn gigabytes(bytes: &Value) -> f64 {
    let gb = bytes.as_f64().unwrap_or(0.0) / 1_073_741_824.0;
    (gb * 100.0).round_ties_even() / 100.0
}

fn failed(text: String) -> UserError {
    UserError::Failed {
        message: normalize_message(&text),
        source: None,
    }
}

async fn list_sites(ctx: &Ctx, tenant: &str, kind: SiteType) -> Result<Vec<SiteRow>, UserError> {
    let graph = ctx.graph.app_only();
    let (filter, report) = match kind {
        SiteType::SharePointSiteUsage => ("false", "SharePointSiteUsage"),
        SiteType::OneDriveUsageAccount => ("true", "OneDriveUsageAccount"),
    };
    let requests = vec![
        BatchRequest::get(format!(
            "sites/getAllSites?$filter=isPersonalSite eq {filter}&$select=id,createdDateTime,description,name,displayName,isPersonalSite,lastModifiedDateTime,webUrl,siteCollection,sharepointIds&$top=999"
        ))
        .with_id("listAllSites"),
        BatchRequest::get(format!(
            "reports/get{report}Detail(period='D7')?$format=application/json&$top=999"
        ))
        .with_id("usage"),
    ];
    let answers = graph
        .batch(tenant, GraphVersion::Beta, requests)
        .await
        .map_err(|e| failed(normalize_graph_error(&e)))?;
    let find = |id: &str| answers.iter().find(|a| a.id == id);
    if let Some(usage) = find("usage").filter(|a| !a.is_success()) {
        return Err(failed(usage.error_message().map_or_else(
            || format!("Usage report request failed with status {}", usage.status),
            str::to_owned,
        )));
    }
    let values = |id: &str| -> Vec<Value> {
        find(id)
            .filter(|a| a.is_success())
            .and_then(|a| a.body.as_ref())
            .and_then(|b| b.get("value"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let sites = values("listAllSites");
    let usage = values("usage");
    let mut rows: Vec<SiteRow> = sites
        .iter()
        .map(|site| {
            let ids = site.get("sharepointIds").cloned().unwrap_or(Value::Null);
            let site_id = ids.get("siteId").cloned().unwrap_or(Value::Null);
            let empty = Value::Null;
            let used = usage
                .iter()
                .find(|u| !site_id.is_null() && u.get("siteId") == Some(&site_id))
                .unwrap_or(&empty);
            let u = |name: &str| used.get(name).cloned().unwrap_or(Value::Null);
            let s = |name: &str| site.get(name).cloned().unwrap_or(Value::Null);
            SiteRow {
                web_id: ids.get("webId").cloned().unwrap_or(Value::Null),
                site_id,
                created_date_time: s("createdDateTime"),
                display_name: s("displayName"),
                web_url: s("webUrl"),
                owner_display_name: u("ownerDisplayName"),
                owner_principal_name: u("ownerPrincipalName"),
                last_activity_date: u("lastActivityDate"),
                file_count: u("fileCount"),
                storage_used_in_gigabytes: gigabytes(&u("storageUsedInBytes")),
                storage_allocated_in_gigabytes: gigabytes(&u("storageAllocatedInBytes")),
                storage_used_in_bytes: u("storageUsedInBytes"),
                storage_allocated_in_bytes: u("storageAllocatedInBytes"),
                root_web_template: u("rootWebTemplate"),
                report_refresh_date: u("reportRefreshDate"),
                auto_map_url: String::new(),
            }
        })
        .collect();
    if kind == SiteType::SharePointSiteUsage && !rows.is_empty() {
        let requests = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                BatchRequest::get(format!(
                    "sites/{}/lists?$select=id,name,list,parentReference",
                    r.site_id.as_str().unwrap_or("")
                ))
                .with_id(i.to_string())
            })
            .collect();
        // CIPP only logs a failure here; the links then name no list.
        let libraries: Vec<Value> = match graph.batch(tenant, GraphVersion::Beta, requests).await {
            Ok(answers) => answers
                .into_iter()
                .filter(|a| a.is_success())
                .filter_map(|a| a.body)
                .flat_map(|b| b.get("value").and_then(Value::as_array).cloned().unwrap_or_default())
                .filter(|l| {
                    l.pointer("/list/template")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case("DocumentLibrary"))
                })
                .collect(),
            Err(e) => {
                tracing::warn!(tenant, "Error getting auto map urls: {}", normalize_graph_error(&e));
                Vec::new()
            }
        };
        for row in &mut rows {
            let site_id = row.site_id.as_str().unwrap_or("").to_owned();
            // PowerShell joins several matching libraries' ids with spaces.
            let list_id = libraries
                .iter()
                .filter(|l| {
                    !site_id.is_empty()
                        && l.pointer("/parentReference/siteId")
                            .and_then(Value::as_str)
                            .is_some_and(|p| p.to_ascii_lowercase().contains(&site_id.to_ascii_lowercase()))
                })
                .filter_map(|l| l.get("id").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            row.auto_map_url = format!(
                "tenantId={tenant}&webId={{{}}}&siteid={{{site_id}}}&webUrl={}&listId={{{list_id}}}",
                row.web_id.as_str().unwrap_or(""),
                row.web_url.as_str().unwrap_or(""),
            );
        }
    }
    Ok(rows)
}
