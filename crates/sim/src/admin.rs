//! The unauthenticated test API under `/_sim/…`. Its requests are never counted in stats.

use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::FaultSpec;
use crate::state::{Sim, StatRow};
use crate::user::User;

fn bad(msg: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": msg.to_string()}))
}

fn not_found(msg: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::NotFound().json(json!({"error": msg.to_string()}))
}

#[derive(Deserialize)]
struct AddTenants {
    count: usize,
    #[serde(default)]
    users: Option<usize>,
}

pub(crate) fn handle(sim: &Sim, method: &str, path: &str, body: &[u8]) -> HttpResponse {
    let rest = path.trim_start_matches("/_sim").trim_matches('/');
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(answer) = crate::mfa_push::admin(sim, method, &segs, body) {
        return answer;
    }
    match (method, segs.as_slice()) {
        ("POST", ["faults"]) => add_fault(sim, body),
        ("DELETE", ["faults"]) => {
            sim.faults.lock().clear();
            HttpResponse::NoContent().finish()
        }
        ("DELETE", ["faults", id]) => {
            if sim.faults.lock().remove(id) {
                HttpResponse::NoContent().finish()
            } else {
                not_found(format!("no fault '{id}'"))
            }
        }
        ("GET", ["exchange"]) => HttpResponse::Ok()
            .json(json!({"error_format": crate::exchange::error_format(sim).name()})),
        ("PUT" | "POST", ["exchange"]) => {
            let body: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => return bad(e),
            };
            let Some(format) = body
                .get("error_format")
                .and_then(Value::as_str)
                .and_then(crate::exchange::ErrorFormat::parse)
            else {
                return bad(
                    "error_format must be one of pipe, json, innererror, innererror-camel, message",
                );
            };
            *sim.exo_error_format.lock() = format;
            HttpResponse::Ok().json(json!({"error_format": format.name()}))
        }
        ("GET", ["writes"]) => HttpResponse::Ok().json(sim.writes.view()),
        ("DELETE", ["writes"]) => {
            sim.writes.clear();
            HttpResponse::NoContent().finish()
        }
        ("GET", ["stats"]) => stats(sim),
        ("DELETE", ["stats"]) => {
            sim.stats.lock().clear();
            HttpResponse::NoContent().finish()
        }
        ("GET", ["tenants"]) => {
            let registry = sim.registry.read();
            let rows: Vec<Value> = registry
                .customers
                .iter()
                .map(|t| tenant_row(&t.info()))
                .collect();
            HttpResponse::Ok().json(json!({"tenants": rows}))
        }
        ("POST", ["tenants"]) => add_tenants(sim, body),
        ("GET", ["partner-refresh-token"]) => {
            let token = crate::tokens::issue_partner_refresh_token(sim);
            let registry = sim.registry.read();
            HttpResponse::Ok().json(json!({
                "refresh_token": token,
                "client_id": sim.apps.partner.client_id,
                "tenant_id": registry.partner_id(),
                "user_principal_name": sim.partner_admin_upn,
            }))
        }
        ("GET", ["sharepoint", tenant, "sites"]) => match sim.resolve_tenant(tenant) {
            Some(t) => HttpResponse::Ok().json(crate::graph::sharepoint::admin_sites(sim, &t)),
            None => not_found(format!("no tenant '{tenant}'")),
        },
        ("GET", ["incident", tenant]) => match sim.resolve_tenant(tenant) {
            Some(t) => match t.incident.get() {
                Some(incident) => HttpResponse::Ok().json(incident.admin_view()),
                None => not_found(format!("tenant '{tenant}' has no planted incident")),
            },
            None => not_found(format!("no tenant '{tenant}'")),
        },
        ("GET" | "POST", ["exchange", tenant, what]) => {
            crate::exchange::mailbox_settings::admin(sim, method, tenant, what, body)
        }
        ("GET", ["users", tenant, id]) => {
            let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
            let Some(t) = sim.resolve_tenant(tenant) else {
                return not_found(format!("no tenant '{tenant}'"));
            };
            let store = t.users.read();
            match store.get(&id) {
                Some(u) => HttpResponse::Ok().json(stored_user(u)),
                None => match store.deleted_by_id(&id) {
                    Some((_, u)) => HttpResponse::Ok().json(stored_user(u)),
                    None => not_found(format!("no user '{id}'")),
                },
            }
        }
        _ => not_found(format!("no admin route {method} {path}")),
    }
}

/// Every stored property (the password profile flags included) plus the manager id.
fn stored_user(u: &User) -> Value {
    let mut obj = serde_json::Map::new();
    for (i, prop) in crate::user::PROPS.iter().enumerate() {
        obj.insert(prop.name.to_owned(), u.get(i).clone());
    }
    obj.insert("managerId".into(), json!(u.manager));
    Value::Object(obj)
}

fn tenant_row(info: &crate::TenantInfo) -> Value {
    json!({
        "customerId": info.customer_id,
        "defaultDomainName": info.default_domain_name,
        "initialDomainName": info.initial_domain_name,
        "displayName": info.display_name,
        "userCount": info.user_count,
    })
}

fn add_fault(sim: &Sim, body: &[u8]) -> HttpResponse {
    let spec: FaultSpec = match serde_json::from_slice(body) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let tenant_id = spec
        .tenant
        .as_deref()
        .and_then(|t| sim.resolve_tenant(t))
        .map(|found| found.id.clone());
    match sim.faults.lock().add(spec, tenant_id) {
        Ok(id) => HttpResponse::Created().json(json!({"id": id})),
        Err(e) => bad(e),
    }
}

fn stats(sim: &Sim) -> HttpResponse {
    let stats = sim.stats.lock();
    let mut rows: Vec<StatRow> = stats
        .iter()
        .map(|(k, count)| StatRow {
            method: k.method.clone(),
            path: k.path.clone(),
            tenant: k.tenant.clone(),
            status: k.status,
            count: *count,
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.path, &a.method, &a.tenant, a.status).cmp(&(&b.path, &b.method, &b.tenant, b.status))
    });
    let total: u64 = rows.iter().map(|r| r.count).sum();
    HttpResponse::Ok().json(json!({"requests": rows, "total": total}))
}

fn add_tenants(sim: &Sim, body: &[u8]) -> HttpResponse {
    let req: AddTenants = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    if req.count == 0 || req.count > 1000 {
        return bad("count must be between 1 and 1000");
    }
    let users = req.users.unwrap_or(25).max(1);
    // Reserve the indices first, then generate outside the lock: big tenants take a while.
    let start = {
        let mut registry = sim.registry.write();
        let start = registry.next_customer_index;
        registry.next_customer_index += req.count as u64;
        start
    };
    let made: Vec<_> = (0..req.count as u64)
        .map(|i| crate::seed::customer_tenant(sim.seed, start + i, users, "active"))
        .collect();
    let mut registry = sim.registry.write();
    let mut rows = Vec::new();
    for tenant in made {
        crate::seed_reads::enrich_tenant(sim.seed, &tenant);
        rows.push(tenant_row(&tenant.info()));
        registry.add(tenant, false);
    }
    HttpResponse::Ok().json(json!({"tenants": rows}))
}
