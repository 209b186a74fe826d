//! `ListCSPsku` (CIPP-API `Invoke-ListCSPsku.ps1`): the Sherweb catalogue, or with
//! `currentSkuOnly` the tenant's current Sherweb subscriptions.
//!
//! Decision: CIPP reads these from Sherweb's partner API (`api.sherweb.com`) through the tenant's
//! Sherweb extension mapping. This service has no Sherweb integration and no extension mappings
//! (and the simulator no Sherweb), so every tenant is unmapped, and CIPP's answer for an
//! unmapped tenant (`No Sherweb mapping found` caught) is an empty list with 200, which the
//! licence pages show as "no CSP data". That is what this answers.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListCSPsku;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The tenant's current subscriptions instead of the catalogue.
    #[serde(rename = "currentSkuOnly", default)]
    pub current_sku_only: bool,
}

/// Sherweb's catalogue items or subscriptions as Sherweb sends them (always empty here).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub struct CspSkuRows(pub Vec<GraphRow>);

impl Operation for ListCSPsku {
    type Params = Params;
    type Answer = CspSkuRows;
    const NAME: &'static str = "ListCSPsku";
    const TAG: &'static str = "Tenant > Reports";
    const ROLE: Option<&'static str> = Some("Tenant.Directory.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListCSPsku.ps1",
        frontend: Some("src/components/CippComponents/CippLicenseCard.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "No Sherweb integration exists here, so every tenant answers as CIPP answers a tenant \
         without a Sherweb mapping: an empty list.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "currentSkuOnly": true})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<CspSkuRows>, UserError> {
        // The tenant is still resolved (and checked against the caller's scope) as CIPP's
        // Get-Tenants lookup does before it looks for the mapping.
        let _ = (ctx.tenant()?, params.current_sku_only);
        Ok(Outcome::json(CspSkuRows::default()))
    }
}
