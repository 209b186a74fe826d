//! `ListLicenses` (CIPP-API `Invoke-ListLicenses.ps1` → `Get-CIPPLicenseOverview`): a tenant's
//! licences with CIPP's product names, used and available counts, subscription terms and who
//! holds each (`licence_overview.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::licence_overview::{LicenceRow, licence_overview};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListLicenses;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// Also list excluded licences marked to show in the licence picker (CIPP's default
    /// exclusions have no such mark, so this changes nothing here).
    #[serde(rename = "IncludeExcluded", default)]
    pub include_excluded: bool,
}

/// The licences, sorted by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
pub struct LicenceRows(pub Vec<LicenceRow>);

impl Operation for ListLicenses {
    type Params = Params;
    type Answer = LicenceRows;
    const NAME: &'static str = "ListLicenses";
    const TAG: &'static str = "Tenant > Reports";
    const ROLE: Option<&'static str> = Some("Tenant.Directory.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListLicenses.ps1",
        frontend: Some("src/pages/tenant/reports/list-licenses/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Names come from Microsoft's licence table only (CIPP prefers the Microsoft 365 admin \
         portal's names when it can read them). `AllTenants` is a 400: CIPP answers its hourly \
         licence cache and queues a refresh, and this service keeps no such cache. A failed \
         `subscribedSkus` read is a 500 with Graph's normalised text (CIPP answers an empty list).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<LicenceRows>, UserError> {
        let _ = params.include_excluded;
        let tenant = ctx.tenant()?;
        // `Tenant` carries the tenantFilter as sent, as CIPP's does.
        let label = ctx
            .request
            .get("tenantFilter")
            .and_then(Value::as_str)
            .unwrap_or(&tenant.default_domain_name)
            .to_owned();
        let rows = licence_overview(&ctx.graph, &tenant.customer_id, &label).await?;
        Ok(Outcome::json(LicenceRows(rows)))
    }
}
