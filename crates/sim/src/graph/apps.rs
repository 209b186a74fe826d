//! Enterprise applications and delegated consents:
//!
//! - `GET /servicePrincipals` (`$select`, `$top`, `$skiptoken` paging, `$count`, and `$filter`
//!   clauses joined by `and`: `prop eq|ne|ge|gt|le|lt value` and `prop in ('a','b')` on any
//!   property, e.g. `createdDateTime ge 2026-11-28T00:00:00Z`, `appId in (…)`), `GET|PATCH|DELETE
//!   /servicePrincipals/{id}` (also `servicePrincipals(appId='…')`; PATCH takes
//!   `accountEnabled`, `tags`, `notes`, answers 204; DELETE also removes the app's grants).
//! - `GET /users/{id|upn}/oauth2PermissionGrants`, `GET /oauth2PermissionGrants` (`$filter` on
//!   `clientId`, `principalId`, `resourceId`, `consentType` with `eq`), `GET|DELETE
//!   /oauth2PermissionGrants/{id}` (204, then 404).
//! - `GET /users/{id|upn}/appRoleAssignments`: none are seeded, so an empty list.
//!
//! Each tenant has a few Microsoft first-party service principals created with the tenant, and
//! a customer tenant with a planted incident also has the consented malicious app and a benign
//! app, both new (`crate::incident`). Built per tenant on first use.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use parking_lot::Mutex;
use serde_json::{Map, Value, json};

use super::reads::{collection, select};
use super::{Ctx, GraphError, ok_json};
use crate::incident::{self, MALICIOUS_APP_ID, MALICIOUS_APP_NAME};
use crate::seed::guid;
use crate::seed_reads::rng_for_id;
use crate::state::Tenant;

type Answer = Result<HttpResponse, GraphError>;

const APPS_PURPOSE: u64 = 0x0000_A995_0000_0001;
/// Microsoft's own tenant, the owner of every first-party application.
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const GRANT_SCOPE: &str = "Mail.ReadWrite Mail.Send offline_access User.Read";

const FIRST_PARTY: &[(&str, &str)] = &[
    (GRAPH_APP_ID, "Microsoft Graph"),
    (
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
    ),
    (
        "00000003-0000-0ff1-ce00-000000000000",
        "Office 365 SharePoint Online",
    ),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"),
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"),
];

pub(crate) struct TenantApps {
    pub sps: Vec<Map<String, Value>>,
    pub grants: Vec<Map<String, Value>>,
}

/// Every tenant's applications, by tenant id.
#[derive(Default)]
pub(crate) struct AppState {
    tenants: Mutex<HashMap<String, Arc<Mutex<TenantApps>>>>,
}

impl AppState {
    pub fn tenant(&self, seed: u64, tenant: &Tenant) -> Arc<Mutex<TenantApps>> {
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

fn sp(
    id: &str,
    app_id: &str,
    name: &str,
    publisher: &str,
    owner: &str,
    created: &str,
) -> Map<String, Value> {
    let value = json!({
        "id": id,
        "appId": app_id,
        "displayName": name,
        "appDisplayName": name,
        "publisherName": publisher,
        "createdDateTime": created,
        "accountEnabled": true,
        "servicePrincipalType": "Application",
        "appOwnerOrganizationId": owner,
        "signInAudience": "AzureADMultipleOrgs",
        "servicePrincipalNames": [app_id],
        "notes": null,
        "tags": [],
    });
    value.as_object().cloned().unwrap_or_default()
}

fn build(seed: u64, tenant: &Tenant) -> TenantApps {
    let mut rng = rng_for_id(seed, &tenant.id, APPS_PURPOSE);
    let planted = tenant.incident.get();
    let mut sps: Vec<Map<String, Value>> = FIRST_PARTY
        .iter()
        .map(|(app_id, name)| {
            // Drawn for every app so the ids do not depend on whether an incident exists.
            let drawn = guid(&mut rng);
            let id = match planted {
                Some(inc) if *app_id == GRAPH_APP_ID => inc.graph_sp_id.clone(),
                _ => drawn,
            };
            sp(
                &id,
                app_id,
                name,
                "Microsoft Services",
                MICROSOFT_TENANT,
                &tenant.created,
            )
        })
        .collect();
    let mut grants = Vec::new();
    if let Some(inc) = planted {
        sps.push(sp(
            &inc.benign_sp_id,
            &inc.benign_app_id,
            incident::BENIGN_APP_NAME,
            &tenant.display_name,
            &tenant.id,
            &inc.stamp(incident::at::BENIGN_APP),
        ));
        sps.push(sp(
            &inc.malicious_sp_id,
            MALICIOUS_APP_ID,
            MALICIOUS_APP_NAME,
            MALICIOUS_APP_NAME,
            "c2a1f4d0-5b8e-4f7a-9d3c-1e2b3a4c5d6e",
            &inc.stamp(incident::at::CONSENT),
        ));
        let grant = json!({
            "id": inc.grant_id,
            "clientId": inc.malicious_sp_id,
            "consentType": "Principal",
            "principalId": inc.user_id,
            "resourceId": inc.graph_sp_id,
            "scope": GRANT_SCOPE,
        });
        grants.extend(grant.as_object().cloned());
    }
    TenantApps { sps, grants }
}

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("GET", ["servicePrincipals"]) => list_sps(ctx),
        (_, ["servicePrincipals", key]) => match method {
            "GET" => get_sp(ctx, &sp_key(key)),
            "PATCH" => patch_sp(ctx, &sp_key(key)),
            "DELETE" => delete_sp(ctx, &sp_key(key)),
            _ => return None,
        },
        (_, [seg]) if seg.starts_with("servicePrincipals(") => {
            let key = SpKey::AppId(
                seg.trim_start_matches("servicePrincipals(")
                    .trim_start_matches("appId=")
                    .trim_end_matches(')')
                    .trim_matches('\'')
                    .to_owned(),
            );
            match method {
                "GET" => get_sp(ctx, &key),
                "PATCH" => patch_sp(ctx, &key),
                "DELETE" => delete_sp(ctx, &key),
                _ => return None,
            }
        }
        ("GET", ["users", key, "oauth2PermissionGrants"]) => user_grants(ctx, key),
        ("GET", ["users", key, "appRoleAssignments"]) => user_app_roles(ctx, key),
        ("GET", ["oauth2PermissionGrants"]) => list_grants(ctx),
        ("GET", ["oauth2PermissionGrants", id]) => get_grant(ctx, id),
        ("DELETE", ["oauth2PermissionGrants", id]) => delete_grant(ctx, id),
        _ => return None,
    };
    Some(answer)
}

enum SpKey {
    Id(String),
    AppId(String),
}

fn sp_key(raw: &str) -> SpKey {
    SpKey::Id(raw.to_owned())
}

fn matches_key(sp: &Map<String, Value>, key: &SpKey) -> bool {
    let (field, want) = match key {
        SpKey::Id(id) => ("id", id),
        SpKey::AppId(id) => ("appId", id),
    };
    sp.get(field)
        .and_then(Value::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case(want))
}

fn key_text(key: &SpKey) -> &str {
    match key {
        SpKey::Id(s) | SpKey::AppId(s) => s,
    }
}

fn apps(ctx: &Ctx<'_>) -> Arc<Mutex<TenantApps>> {
    ctx.sim.enterprise_apps.tenant(ctx.sim.seed, &ctx.tenant)
}

/// One `$filter` clause.
enum Clause {
    Cmp(String, String, String),
    In(String, Vec<String>),
}

fn unsupported(raw: &str) -> GraphError {
    GraphError::bad_request(
        "Request_UnsupportedQuery",
        format!("Unsupported or invalid query filter clause specified: '{raw}'."),
    )
}

/// Splits on ` and ` outside quotes and parentheses.
fn split_and(raw: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut current = String::new();
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
        if !quoted && depth == 0 && c == ' ' {
            let ahead: String = chars[i..chars.len().min(i + 5)].iter().collect();
            if ahead.eq_ignore_ascii_case(" and ") {
                parts.push(std::mem::take(&mut current));
                i += 5;
                continue;
            }
        }
        current.push(c);
        i += 1;
    }
    parts.push(current);
    parts
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    v.strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .map_or_else(|| v.to_owned(), |x| x.replace("''", "'"))
}

fn parse_filter(raw: &str) -> Result<Vec<Clause>, GraphError> {
    let mut out = Vec::new();
    for part in split_and(raw) {
        let mut clause = part.trim();
        // A whole clause in parentheses, e.g. `(appId eq 'x')`.
        while clause.starts_with('(') && clause.ends_with(')') && split_and(clause).len() == 1 {
            clause = clause[1..clause.len() - 1].trim();
        }
        let mut words = clause.splitn(3, ' ');
        let (Some(field), Some(op), Some(value)) = (words.next(), words.next(), words.next())
        else {
            return Err(unsupported(raw));
        };
        let op = op.to_ascii_lowercase();
        if op == "in" {
            let inner = value
                .trim()
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .ok_or_else(|| unsupported(raw))?;
            let values = inner
                .split(',')
                .map(unquote)
                .filter(|v| !v.is_empty())
                .collect();
            out.push(Clause::In(field.to_owned(), values));
        } else if matches!(op.as_str(), "eq" | "ne" | "ge" | "gt" | "le" | "lt") {
            out.push(Clause::Cmp(field.to_owned(), op, unquote(value)));
        } else {
            return Err(unsupported(raw));
        }
    }
    Ok(out)
}

fn field_text(item: &Map<String, Value>, field: &str) -> Option<String> {
    let (_, v) = item.iter().find(|(k, _)| k.eq_ignore_ascii_case(field))?;
    Some(match v {
        Value::String(s) => s.to_ascii_lowercase(),
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn keeps(clauses: &[Clause], item: &Map<String, Value>) -> Result<bool, GraphError> {
    for clause in clauses {
        let ok = match clause {
            Clause::In(field, values) => {
                let have = field_text(item, field).ok_or_else(|| unknown_property(field))?;
                values.iter().any(|v| v.eq_ignore_ascii_case(&have))
            }
            Clause::Cmp(field, op, want) => {
                let have = field_text(item, field).ok_or_else(|| unknown_property(field))?;
                let ord = have.as_str().cmp(want.to_ascii_lowercase().as_str());
                use std::cmp::Ordering::{Equal, Greater, Less};
                match op.as_str() {
                    "eq" => ord == Equal,
                    "ne" => ord != Equal,
                    "ge" => matches!(ord, Greater | Equal),
                    "gt" => ord == Greater,
                    "le" => matches!(ord, Less | Equal),
                    _ => ord == Less,
                }
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn unknown_property(field: &str) -> GraphError {
    GraphError::bad_request(
        "Request_BadRequest",
        format!(
            "Could not find a property named '{field}' on type 'microsoft.graph.servicePrincipal'."
        ),
    )
}

fn filtered(ctx: &Ctx<'_>, items: &[Map<String, Value>]) -> Result<Vec<Value>, GraphError> {
    let clauses = match ctx.option("$filter") {
        Some(f) if !f.trim().is_empty() => parse_filter(f)?,
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for item in items {
        if keeps(&clauses, item)? {
            out.push(Value::Object(select(ctx, item.clone())));
        }
    }
    Ok(out)
}

fn list_sps(ctx: &Ctx<'_>) -> Answer {
    let data = apps(ctx);
    let items = filtered(ctx, &data.lock().sps)?;
    collection(ctx, "servicePrincipals", items, 100)
}

fn not_found(key: &str) -> GraphError {
    GraphError::not_found(key)
}

fn get_sp(ctx: &Ctx<'_>, key: &SpKey) -> Answer {
    let data = apps(ctx);
    let guard = data.lock();
    let found = guard
        .sps
        .iter()
        .find(|s| matches_key(s, key))
        .ok_or_else(|| not_found(key_text(key)))?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(ctx.context("servicePrincipals/$entity")),
    );
    body.extend(select(ctx, found.clone()));
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

fn patch_sp(ctx: &Ctx<'_>, key: &SpKey) -> Answer {
    let body = ctx.json_body()?;
    let Some(changes) = body.as_object() else {
        return Err(GraphError::bad_request(
            "BadRequest",
            "Unable to read JSON request payload.",
        ));
    };
    for (name, value) in changes {
        let ok = match name.as_str() {
            "accountEnabled" => value.is_boolean(),
            "tags" => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            "notes" => value.is_string() || value.is_null(),
            "id" | "appId" | "createdDateTime" | "appOwnerOrganizationId" => {
                return Err(GraphError::bad_request(
                    "Request_BadRequest",
                    format!("Property '{name}' is read-only and cannot be set."),
                ));
            }
            _ => {
                return Err(GraphError::bad_request(
                    "Request_BadRequest",
                    format!(
                        "Property '{name}' does not exist as a declared property or extension property."
                    ),
                ));
            }
        };
        if !ok {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "Invalid value specified for property '{name}' of resource 'ServicePrincipal'."
                ),
            ));
        }
    }
    let data = apps(ctx);
    let mut guard = data.lock();
    let found = guard
        .sps
        .iter_mut()
        .find(|s| matches_key(s, key))
        .ok_or_else(|| not_found(key_text(key)))?;
    for (name, value) in changes {
        found.insert(name.clone(), value.clone());
    }
    Ok(HttpResponse::NoContent().finish())
}

fn delete_sp(ctx: &Ctx<'_>, key: &SpKey) -> Answer {
    let data = apps(ctx);
    let mut guard = data.lock();
    let pos = guard
        .sps
        .iter()
        .position(|s| matches_key(s, key))
        .ok_or_else(|| not_found(key_text(key)))?;
    let removed = guard.sps.remove(pos);
    let id = removed.get("id").cloned().unwrap_or(Value::Null);
    guard
        .grants
        .retain(|g| g.get("clientId") != Some(&id) && g.get("resourceId") != Some(&id));
    Ok(HttpResponse::NoContent().finish())
}

fn user_id(ctx: &Ctx<'_>, key: &str) -> Result<String, GraphError> {
    let store = ctx.tenant.users.read();
    store
        .get(key)
        .map(|u| u.id().to_owned())
        .ok_or_else(|| not_found(key))
}

fn user_grants(ctx: &Ctx<'_>, key: &str) -> Answer {
    let id = user_id(ctx, key)?;
    let data = apps(ctx);
    let items: Vec<Value> = data
        .lock()
        .grants
        .iter()
        .filter(|g| g.get("principalId").and_then(Value::as_str) == Some(id.as_str()))
        .map(|g| Value::Object(select(ctx, g.clone())))
        .collect();
    collection(ctx, "oauth2PermissionGrants", items, 100)
}

fn user_app_roles(ctx: &Ctx<'_>, key: &str) -> Answer {
    let id = user_id(ctx, key)?;
    collection(
        ctx,
        &format!("users('{id}')/appRoleAssignments"),
        Vec::new(),
        100,
    )
}

fn list_grants(ctx: &Ctx<'_>) -> Answer {
    let clauses = match ctx.option("$filter") {
        Some(f) if !f.trim().is_empty() => parse_filter(f)?,
        _ => Vec::new(),
    };
    for clause in &clauses {
        let supported = matches!(clause, Clause::Cmp(field, op, _)
            if op == "eq" && ["clientId", "principalId", "resourceId", "consentType"]
                .iter()
                .any(|f| f.eq_ignore_ascii_case(field)));
        if !supported {
            return Err(GraphError::bad_request(
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified for oauth2PermissionGrants.",
            ));
        }
    }
    let data = apps(ctx);
    let mut items = Vec::new();
    for grant in &data.lock().grants {
        if keeps(&clauses, grant)? {
            items.push(Value::Object(select(ctx, grant.clone())));
        }
    }
    collection(ctx, "oauth2PermissionGrants", items, 100)
}

fn get_grant(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = apps(ctx);
    let guard = data.lock();
    let grant = guard
        .grants
        .iter()
        .find(|g| g.get("id").and_then(Value::as_str) == Some(id))
        .ok_or_else(|| not_found(id))?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(ctx.context("oauth2PermissionGrants/$entity")),
    );
    body.extend(select(ctx, grant.clone()));
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

fn delete_grant(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = apps(ctx);
    let mut guard = data.lock();
    let before = guard.grants.len();
    // Grant ids are case-sensitive base64url text.
    guard
        .grants
        .retain(|g| g.get("id").and_then(Value::as_str) != Some(id));
    if guard.grants.len() == before {
        return Err(not_found(id));
    }
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn filters_split_on_and_outside_quotes_and_parentheses() {
        let parts =
            split_and("(appId in ('a and b','c')) and createdDateTime ge 2026-01-01T00:00:00Z");
        assert_eq!(parts.len(), 2);
        let clauses = parse_filter("appId in ('A','b') and accountEnabled eq true").unwrap();
        let item = json!({"appId": "a", "accountEnabled": true});
        assert!(keeps(&clauses, item.as_object().unwrap()).unwrap());
        let item = json!({"appId": "c", "accountEnabled": true});
        assert!(!keeps(&clauses, item.as_object().unwrap()).unwrap());
    }

    #[test]
    fn an_unknown_operator_is_refused() {
        assert!(parse_filter("appId has 'x'").is_err());
        assert!(parse_filter("appId").is_err());
    }
}
