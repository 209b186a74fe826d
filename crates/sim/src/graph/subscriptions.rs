//! What `subscribedSkus` says beyond counts, and `GET directory/subscriptions` (the commerce
//! subscriptions behind each SKU), as CIPP's licence overview reads them.
//!
//! Every seeded SKU has one subscription, a yearly (NCE) term that renews in 120 days; Exchange
//! Online (Plan 1) is a monthly one. Ids derive from the tenant and SKU, so they are stable.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::seed::{
    SKU_BUSINESS_PREMIUM, SKU_BUSINESS_STANDARD, SKU_EXO_PLAN1, SKU_M365_E3, SKU_O365_E3, guid,
    timestamp,
};
use crate::seed_reads::rng_for_id;

type Answer = Result<HttpResponse, GraphError>;

const EXO_ENTERPRISE: (&str, &str) = (
    "efb87545-963c-4e0d-99df-69c6916d9eb0",
    "EXCHANGE_S_ENTERPRISE",
);
const EXO_STANDARD: (&str, &str) = (
    "9aaf7827-d63c-4b61-89c3-182f06f82e5c",
    "EXCHANGE_S_STANDARD",
);
const SPO_ENTERPRISE: (&str, &str) = (
    "5dbe027f-2339-4123-9542-606e4d348a72",
    "SHAREPOINTENTERPRISE",
);
const SPO_STANDARD: (&str, &str) = ("c7699d2e-19aa-44de-8edf-1736da088ca1", "SHAREPOINTSTANDARD");
const TEAMS: (&str, &str) = ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1");
const APPS: (&str, &str) = ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION");
const INTUNE: (&str, &str) = ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A");
const AAD_P1: (&str, &str) = ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM");

/// The service plans of a seeded SKU, as `subscribedSkus` lists them.
pub(crate) fn service_plans(sku: &str) -> Value {
    let plans: &[(&str, &str)] = match sku {
        SKU_O365_E3 => &[EXO_ENTERPRISE, SPO_ENTERPRISE, TEAMS, APPS],
        SKU_M365_E3 => &[EXO_ENTERPRISE, SPO_ENTERPRISE, TEAMS, APPS, INTUNE, AAD_P1],
        SKU_BUSINESS_PREMIUM => &[EXO_STANDARD, SPO_STANDARD, TEAMS, APPS, INTUNE, AAD_P1],
        SKU_BUSINESS_STANDARD => &[EXO_STANDARD, SPO_STANDARD, TEAMS, APPS],
        SKU_EXO_PLAN1 => &[EXO_STANDARD],
        _ => &[],
    };
    Value::Array(
        plans
            .iter()
            .map(|(id, name)| {
                json!({"servicePlanId": id, "servicePlanName": name, "provisioningStatus": "Success", "appliesTo": "User"})
            })
            .collect(),
    )
}

/// The id of the one subscription behind a tenant's SKU.
pub(crate) fn subscription_id(seed: u64, tenant: &str, sku: &str) -> String {
    guid(&mut rng_for_id(seed, &format!("{tenant}/{sku}"), 0x5B5C))
}

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    match (method, s) {
        ("GET", ["directory", "subscriptions"]) => Some(list(ctx)),
        _ => None,
    }
}

fn list(ctx: &Ctx<'_>) -> Answer {
    let store = ctx.tenant.users.read();
    let mut skus: Vec<(String, usize)> = Vec::new();
    for (_, user) in store.iter_after(None) {
        let held = crate::user::prop_index("assignedLicenses")
            .and_then(|i| user.get(i).as_array().cloned())
            .unwrap_or_default();
        for sku in held
            .iter()
            .filter_map(|l| l.get("skuId").and_then(Value::as_str))
        {
            match skus.iter_mut().find(|(s, _)| s == sku) {
                Some((_, n)) => *n += 1,
                None => skus.push((sku.to_owned(), 1)),
            }
        }
    }
    drop(store);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let day = 86_400;
    let rows: Vec<Value> = skus
        .iter()
        .map(|(sku, held)| {
            let monthly = sku == SKU_EXO_PLAN1;
            let (created, next) = if monthly {
                (now - 10 * day, now + 20 * day)
            } else {
                (now - 245 * day, now + 120 * day)
            };
            let id = subscription_id(ctx.sim.seed, &ctx.tenant.id, sku);
            json!({
                "id": id,
                "commerceSubscriptionId": id,
                "ocpSubscriptionId": id,
                "skuId": sku,
                "skuPartNumber": super::reads::sku_part_number(sku),
                "status": "Enabled",
                "totalLicenses": ctx.sim.licences.enabled(&ctx.tenant.id, sku, *held),
                "isTrial": false,
                "createdDateTime": timestamp(created),
                "nextLifecycleDateTime": timestamp(next),
                "ownerId": ctx.tenant.id,
                "ownerTenantId": ctx.tenant.id,
                "ownerType": "Company",
                "serviceStatus": [],
            })
        })
        .collect();
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context("directory/subscriptions"), "value": rows}),
    ))
}
