//! `ExecLicenseSearch` (CIPP-API `Invoke-ExecLicenseSearch.ps1`): the names of the given SKUs,
//! from the licences the caller's tenants hold. The licence pickers call it in the background
//! to name SKUs the current tenant does not have.
//!
//! CIPP searches its cached licence overviews of every tenant (`Search-CIPPDbData` over the
//! `License` and `skuId` properties, a term matching when either contains it). This service has
//! no such cache: it reads each of the caller's tenants' `subscribedSkus` live (at most four at
//! a time) and names the SKUs as the overview does (Microsoft's licence table, else the SKU part
//! number), so the answer is what the cache would hold. A tenant that cannot be read is skipped;
//! when none can be, the call fails with CIPP's text.

use cipp_graph::GraphVersion;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecLicenseSearch;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// SKU ids (or parts of a SKU id or licence name) to look up.
    #[serde(rename = "skuIds", default)]
    pub sku_ids: Option<Vec<String>>,
}

/// One licence found: its SKU id and name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FoundLicence {
    #[serde(rename = "skuId")]
    pub sku_id: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
pub struct FoundLicences(pub Vec<FoundLicence>);

impl Operation for ExecLicenseSearch {
    type Params = Params;
    type Answer = FoundLicences;
    const NAME: &'static str = "ExecLicenseSearch";
    const TAG: &'static str = "CIPP > Core";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Post;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecLicenseSearch.ps1",
        frontend: Some("src/utils/cipp-license-backfill-manager.js"),
    };
    const ANY_TENANT: bool = true;
    const DIFFERENCES: Option<&'static str> = Some(
        "Reads the caller's tenants live instead of CIPP's cache, and only the caller's tenants \
         (CIPP searches every tenant's cache). Errors answer `{\"Results\": text}` with CIPP's \
         texts (CIPP: `{\"error\": text}`).",
    );

    fn example() -> Value {
        json!({"skuIds": ["6fd2c87f-b296-42f0-b197-1e91e994b900"]})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<FoundLicences>, UserError> {
        let terms: Vec<String> = params
            .sku_ids
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if terms.is_empty() {
            return Err(UserError::invalid(
                "skuIds",
                "No skuIds provided. Please provide an array of skuIds in the request body.",
            ));
        }
        let tenants = ctx.visible_tenants().await?;
        let graph = ctx.graph.app_only();
        let reads = futures::stream::iter(tenants.into_iter().map(|t| {
            let graph = graph.clone();
            async move {
                graph
                    .get(&t.customer_id, GraphVersion::Beta, "subscribedSkus", &[])
                    .await
            }
        }))
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
        let mut found: Vec<FoundLicence> = Vec::new();
        let mut first_error = None;
        let mut read_any = false;
        for read in reads {
            let page = match read {
                Ok(page) => page,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            read_any = true;
            for sku in page
                .get("value")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = sku.get("skuId").and_then(Value::as_str).unwrap_or("");
                let name = crate::licences::sku_display_name(id)
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        sku.get("skuPartNumber")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned()
                    });
                let hit = terms.iter().any(|t| {
                    id.to_ascii_lowercase().contains(t) || name.to_ascii_lowercase().contains(t)
                });
                if hit && !id.is_empty() && !found.iter().any(|f| f.sku_id.eq_ignore_ascii_case(id)) {
                    found.push(FoundLicence {
                        sku_id: id.to_owned(),
                        display_name: name,
                    });
                }
            }
        }
        if !read_any && let Some(e) = first_error {
            return Err(UserError::Failed {
                message: format!("Failed to search for licenses: {}", normalize_graph_error(&e)),
                source: Some(Box::new(e)),
            });
        }
        Ok(Outcome::json(FoundLicences(found)))
    }
}
