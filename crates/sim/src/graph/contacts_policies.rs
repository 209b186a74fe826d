//! Directory reads the user pages make that no other module answers:
//!
//! - `GET /contacts` and `/contacts/{id}`: the tenant's organisational contacts (three per tenant,
//!   derived from the tenant, never written), with `$select` (an unknown property is Graph's 400
//!   `Could not find a property named '…' on type 'microsoft.graph.orgContact'`), `$top` paging
//!   and `$count`. The Exchange settings form lists them as forwarding targets.
//! - `GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`:
//!   the tenant's Temporary Access Pass policy (enabled for all users, 60–480 minutes, not
//!   forced one-time), which the user actions' TAP form reads before creating a pass.

use serde_json::{Map, Value, json};

use super::reads::collection;
use super::{Ctx, GraphError, ok_json};
use actix_web::http::StatusCode;

type Answer = Result<actix_web::HttpResponse, GraphError>;

/// orgContact's v1.0 properties, in the order Graph returns them.
const CONTACT_PROPS: &[&str] = &[
    "id",
    "deletedDateTime",
    "addresses",
    "companyName",
    "department",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "onPremisesLastSyncDateTime",
    "onPremisesSyncEnabled",
    "phones",
    "proxyAddresses",
    "surname",
];

/// (given name, surname, company, job title) of the three contacts every tenant has.
const PEOPLE: &[(&str, &str, &str, &str)] = &[
    (
        "Avery",
        "Lindqvist",
        "Northshore Supplies",
        "Account Manager",
    ),
    ("Bruno", "Okafor", "Helix Legal", "Counsel"),
    ("Chiara", "Mendes", "Tidewater Audit", "Auditor"),
];

pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("GET", ["contacts"]) => list_contacts(ctx),
        ("GET", ["contacts", id]) => get_contact(ctx, id),
        (
            "GET",
            [
                "policies",
                "authenticationMethodsPolicy",
                "authenticationMethodConfigurations",
                id,
            ],
        ) if id.eq_ignore_ascii_case("TemporaryAccessPass") => tap_policy(ctx),
        _ => return None,
    };
    Some(answer)
}

fn contacts(ctx: &Ctx<'_>) -> Vec<Map<String, Value>> {
    let tenant = &ctx.tenant;
    // Ids derived from the tenant's, so they are stable across restarts and differ per tenant.
    let stem = tenant.id.get(..24).unwrap_or("00000000-0000-0000-0000-");
    PEOPLE
        .iter()
        .enumerate()
        .map(|(n, (given, surname, company, title))| {
            let domain = format!("{}.example", company.to_ascii_lowercase().replace(' ', ""));
            let nick = format!(
                "{}.{}",
                given.to_ascii_lowercase(),
                surname.to_ascii_lowercase()
            );
            let mail = format!("{nick}@{domain}");
            let mut c = Map::new();
            for prop in CONTACT_PROPS {
                let v = match *prop {
                    "id" => json!(format!("{stem}c0a7{:08x}", n + 1)),
                    "addresses" => json!([]),
                    "companyName" => json!(company),
                    "displayName" => json!(format!("{given} {surname}")),
                    "givenName" => json!(given),
                    "jobTitle" => json!(title),
                    "mail" => json!(mail),
                    "mailNickname" => json!(nick),
                    "phones" => json!([]),
                    "proxyAddresses" => json!([format!("SMTP:{mail}")]),
                    "surname" => json!(surname),
                    _ => Value::Null,
                };
                c.insert((*prop).to_owned(), v);
            }
            c
        })
        .collect()
}

fn selected(ctx: &Ctx<'_>, c: Map<String, Value>) -> Result<Value, GraphError> {
    let Some(list) = ctx.option("$select").filter(|l| !l.trim().is_empty()) else {
        return Ok(Value::Object(c));
    };
    let mut out = Map::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let prop = CONTACT_PROPS
            .iter()
            .find(|p| p.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                GraphError::bad_request(
                    "BadRequest",
                    format!(
                        "Parsing OData Select and Expand failed: Could not find a property named '{name}' on type 'microsoft.graph.orgContact'."
                    ),
                )
            })?;
        out.insert(
            (*prop).to_owned(),
            c.get(*prop).cloned().unwrap_or(Value::Null),
        );
    }
    Ok(Value::Object(out))
}

fn list_contacts(ctx: &Ctx<'_>) -> Answer {
    let items = contacts(ctx)
        .into_iter()
        .map(|c| selected(ctx, c))
        .collect::<Result<Vec<_>, _>>()?;
    collection(ctx, "contacts", items, 100)
}

fn get_contact(ctx: &Ctx<'_>, id: &str) -> Answer {
    let found = contacts(ctx)
        .into_iter()
        .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
        .ok_or_else(|| GraphError::not_found(id))?;
    let mut body = match selected(ctx, found)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    body.insert(
        "@odata.context".into(),
        json!(ctx.context("contacts/$entity")),
    );
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

fn tap_policy(ctx: &Ctx<'_>) -> Answer {
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context("policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity"),
            "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
            "id": "TemporaryAccessPass",
            "state": "enabled",
            "defaultLifetimeInMinutes": 60,
            "defaultLength": 8,
            "minimumLifetimeInMinutes": 60,
            "maximumLifetimeInMinutes": 480,
            "isUsableOnce": false,
            "excludeTargets": [],
            "includeTargets@odata.context": ctx.context("policies/authenticationMethodsPolicy/authenticationMethodConfigurations('TemporaryAccessPass')/microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration/includeTargets"),
            "includeTargets": [{
                "targetType": "group",
                "id": "all_users",
                "isRegistrationRequired": false,
            }],
        }),
    ))
}
