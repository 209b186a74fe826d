//! Teams Phone numbers (Graph beta `admin/teams/telephoneNumberManagement`):
//! `GET numberAssignments` (paged, five a page, `@odata.nextLink` with `$skiptoken`) and
//! `POST numberAssignments/unassignNumber` (`{telephoneNumber, numberType}` → 202, the number
//! becomes unassigned; an unknown number → 404, one already unassigned → 400).
//!
//! Seeded per tenant on first use, from the users then: the first enabled licensed member
//! holds two numbers (primary and alternate), the next two one each, and three numbers are
//! unassigned.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use parking_lot::Mutex;
use rand::Rng;
use serde_json::{Map, Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::seed::{SKU_EXO_PLAN1, guid};
use crate::seed_reads::rng_for_id;
use crate::state::Tenant;
use crate::user::{idx, prop_index};

type Answer = Result<HttpResponse, GraphError>;

const TEAMS_PURPOSE: u64 = 0x0000_7EA5_0000_0001;
const PAGE: usize = 5;

/// A tenant's numbers, each a Graph `numberAssignment` object.
type Numbers = Arc<Mutex<Vec<Map<String, Value>>>>;

/// Every tenant's numbers, by tenant id, built on first use.
#[derive(Default)]
pub(crate) struct TeamsState {
    tenants: Mutex<HashMap<String, Numbers>>,
}

impl TeamsState {
    fn tenant(&self, seed: u64, tenant: &Tenant) -> Numbers {
        if let Some(found) = self.tenants.lock().get(&tenant.id) {
            return Arc::clone(found);
        }
        let built = Arc::new(Mutex::new(build(seed, tenant)));
        Arc::clone(
            self.tenants
                .lock()
                .entry(tenant.id.clone())
                .or_insert(built),
        )
    }
}

fn build(seed: u64, tenant: &Tenant) -> Vec<Map<String, Value>> {
    let mut rng = rng_for_id(seed, &tenant.id, TEAMS_PURPOSE);
    let holders: Vec<String> = {
        let store = tenant.users.read();
        store
            .iter_after(None)
            .map(|(_, u)| u)
            .filter(|u| u.get(idx::USER_TYPE).as_str() == Some("Member"))
            .filter(|u| {
                prop_index("accountEnabled").is_some_and(|i| u.get(i).as_bool() == Some(true))
            })
            .filter(|u| {
                prop_index("assignedLicenses")
                    .and_then(|i| u.get(i).as_array())
                    .is_some_and(|l| {
                        l.iter()
                            .any(|x| x.get("skuId").and_then(Value::as_str) != Some(SKU_EXO_PLAN1))
                    })
            })
            // Not the tenant's admin (the first user), so tests offboarding it are not surprised.
            .skip(1)
            .take(3)
            .map(|u| u.id().to_owned())
            .collect()
    };
    let location = guid(&mut rng);
    let operator = guid(&mut rng);
    let base: u32 = rng.random_range(1000..8000);
    let country = tenant.country_code;
    let mut plan: Vec<(Option<&str>, Option<&'static str>, &'static str)> = Vec::new();
    if let Some(first) = holders.first() {
        plan.push((Some(first), Some("primary"), "callingPlan"));
        plan.push((Some(first), Some("alternate"), "operatorConnect"));
    }
    for other in holders.iter().skip(1) {
        plan.push((Some(other), Some("primary"), "callingPlan"));
    }
    for _ in 0..3 {
        plan.push((None, None, "callingPlan"));
    }
    plan.into_iter()
        .enumerate()
        .map(|(n, (target, category, number_type))| {
            let mut m = Map::new();
            m.insert("id".into(), json!(guid(&mut rng)));
            m.insert(
                "telephoneNumber".into(),
                json!(format!("+1425555{:04}", base + n as u32)),
            );
            m.insert(
                "operatorId".into(),
                if number_type == "operatorConnect" {
                    json!(operator)
                } else {
                    Value::Null
                },
            );
            m.insert("numberType".into(), json!(number_type));
            m.insert("activationState".into(), json!("activated"));
            m.insert("capabilities".into(), json!(["userAssignment"]));
            m.insert("city".into(), json!(tenant.city));
            m.insert("locationId".into(), json!(location));
            m.insert("civicAddressId".into(), json!(location));
            m.insert("networkSiteId".into(), Value::Null);
            m.insert("assignmentTargetId".into(), json!(target));
            m.insert("assignmentCategory".into(), json!(category));
            m.insert(
                "assignmentStatus".into(),
                json!(if target.is_some() {
                    "userAssigned"
                } else {
                    "unassigned"
                }),
            );
            m.insert("isoCountryCode".into(), json!(country));
            m.insert("numberSource".into(), json!("online"));
            m.insert("portInStatus".into(), json!("completed"));
            m.insert(
                "supportedCapabilities".into(),
                json!([
                    "userAssignment",
                    "conferenceAssignment",
                    "voiceApplicationAssignment"
                ]),
            );
            m.insert("reverseNumberLookupOptions".into(), json!([]));
            m
        })
        .collect()
}

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    if !ctx.beta() {
        return None;
    }
    let answer = match (method, s) {
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
            ],
        ) => list(ctx),
        (
            "POST",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
                "unassignNumber",
            ],
        ) => unassign(ctx),
        _ => return None,
    };
    Some(answer)
}

fn list(ctx: &Ctx<'_>) -> Answer {
    let numbers = ctx.sim.teams.tenant(ctx.sim.seed, &ctx.tenant);
    let numbers = numbers.lock();
    let skip = ctx
        .option("$skiptoken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let page: Vec<Value> = numbers
        .iter()
        .skip(skip)
        .take(PAGE)
        .cloned()
        .map(Value::Object)
        .collect();
    let mut body = json!({
        "@odata.context": ctx.context("admin/teams/telephoneNumberManagement/numberAssignments"),
        "value": page,
    });
    if skip + PAGE < numbers.len() {
        body["@odata.nextLink"] = json!(format!(
            "{}/admin/teams/telephoneNumberManagement/numberAssignments?$skiptoken={}",
            ctx.service_root(),
            skip + PAGE
        ));
    }
    Ok(ok_json(StatusCode::OK, &body))
}

fn unassign(ctx: &Ctx<'_>) -> Answer {
    let body = ctx.json_body()?;
    let number = body
        .get("telephoneNumber")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let number_type = body
        .get("numberType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if number.is_empty() || number_type.is_empty() {
        return Err(GraphError::bad_request(
            "BadRequest",
            "The telephoneNumber and numberType parameters are required.",
        ));
    }
    let numbers = ctx.sim.teams.tenant(ctx.sim.seed, &ctx.tenant);
    let mut numbers = numbers.lock();
    let Some(entry) = numbers
        .iter_mut()
        .find(|m| m.get("telephoneNumber").and_then(Value::as_str) == Some(number.as_str()))
    else {
        return Err(GraphError::new(
            404,
            "NotFound",
            format!("Telephone number '{number}' was not found in the tenant."),
        ));
    };
    if !entry
        .get("numberType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(&number_type))
    {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("Telephone number '{number}' is not of type '{number_type}'."),
        ));
    }
    if entry.get("assignmentStatus").and_then(Value::as_str) == Some("unassigned") {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("Telephone number '{number}' is not assigned."),
        ));
    }
    entry.insert("assignmentTargetId".into(), Value::Null);
    entry.insert("assignmentCategory".into(), Value::Null);
    entry.insert("assignmentStatus".into(), json!("unassigned"));
    Ok(HttpResponse::build(StatusCode::ACCEPTED)
        .insert_header((
            "Location",
            format!(
                "{}/admin/teams/telephoneNumberManagement/numberAssignments/operations/{}",
                ctx.service_root(),
                uuid::Uuid::new_v4()
            ),
        ))
        .finish())
}
