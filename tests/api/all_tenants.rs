//! `tenantFilter=AllTenants`, answered inline over many tenants: failures and unfinished tenants
//! become rows of their own, a time budget bounds the request, and scope narrows the tenants.

use crate::helpers::{TestApp, spawn_app_with};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn add_tenants(app: &TestApp, count: usize, users: usize) -> Vec<Value> {
    let added: Value = app
        .http
        .post(app.sim.join("_sim/tenants").unwrap())
        .json(&json!({"count": count, "users": users}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = app.token("readonly").await;
    let refreshed = app
        .get("/api/ListTenants?TriggerRefresh=true", Some(&token))
        .await;
    assert_eq!(refreshed.status().as_u16(), 200);
    added["tenants"].as_array().unwrap().clone()
}

fn rows_by_tenant(rows: &[Value]) -> HashMap<String, Vec<&Value>> {
    let mut by_tenant: HashMap<String, Vec<&Value>> = HashMap::new();
    for row in rows {
        by_tenant
            .entry(row["Tenant"].as_str().unwrap().to_owned())
            .or_default()
            .push(row);
    }
    by_tenant
}

#[tokio::test]
async fn list_users_over_fifty_tenants_reports_the_failing_one_as_a_row() {
    let app = spawn_app_with(|s| {
        s.demo.big_tenant_users = 300;
        s.all_tenants_budget = Duration::from_secs(30);
    })
    .await;
    let added = add_tenants(&app, 47, 12).await;
    let failing = added[5].clone();
    app.add_fault(json!({"path": format!("/{}/oauth2/v2.0/token", failing["customerId"].as_str().unwrap()), "aadsts": 65001})).await;
    app.add_fault(json!({"path": "/", "tenant": failing["customerId"], "status": 401}))
        .await;
    let token = app.token("readonly").await;
    let response = app
        .get("/api/ListUsers?tenantFilter=AllTenants", Some(&token))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let rows: Vec<Value> = response.json().await.unwrap();
    let by_tenant = rows_by_tenant(&rows);
    assert_eq!(by_tenant.len(), 50, "every tenant has rows");
    let failed = &by_tenant[failing["defaultDomainName"].as_str().unwrap()];
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["CippStatus"]
            .as_str()
            .unwrap()
            .starts_with("Could not connect to tenant. "),
        "{}",
        failed[0]
    );
    for tenant in app.tenants.iter() {
        assert_eq!(
            by_tenant[&tenant.default_domain_name].len(),
            tenant.user_count,
            "{}",
            tenant.default_domain_name
        );
    }
    for tenant in added
        .iter()
        .filter(|t| t["customerId"] != failing["customerId"])
    {
        let rows = &by_tenant[tenant["defaultDomainName"].as_str().unwrap()];
        assert_eq!(rows.len(), 12);
        assert!(rows.iter().all(|r| r["userPrincipalName"].is_string()));
    }
    app.stop();
}

#[tokio::test]
async fn with_injected_latency_all_tenants_finishes_within_its_budget() {
    let budget = Duration::from_secs(20);
    let app = spawn_app_with(|s| {
        s.demo.big_tenant_users = 300;
        s.all_tenants_budget = budget;
    })
    .await;
    add_tenants(&app, 47, 12).await;
    app.add_fault(json!({"path": "/beta/users", "latency_ms": 100}))
        .await;
    let token = app.token("readonly").await;
    let started = Instant::now();
    let rows: Vec<Value> = app
        .get_json("/api/ListUsers?tenantFilter=AllTenants", &token)
        .await;
    let elapsed = started.elapsed();
    assert!(elapsed < budget, "took {elapsed:?}");
    let by_tenant = rows_by_tenant(&rows);
    assert_eq!(by_tenant.len(), 50);
    assert!(
        rows.iter().all(|r| r.get("CippStatus").is_none()),
        "no tenant failed or ran out of time"
    );
    app.stop();
}

#[tokio::test]
async fn tenants_not_finished_within_the_budget_say_so() {
    let app = spawn_app_with(|s| {
        s.demo.big_tenant_users = 300;
        s.all_tenants_budget = Duration::from_secs(2);
        s.all_tenants_concurrency = 4;
    })
    .await;
    add_tenants(&app, 7, 5).await;
    app.add_fault(json!({"path": "/beta/users", "latency_ms": 1500}))
        .await;
    let token = app.token("readonly").await;
    let started = Instant::now();
    let rows: Vec<Value> = app
        .get_json("/api/ListUsers?tenantFilter=AllTenants", &token)
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "the budget bounds the request: {:?}",
        started.elapsed()
    );
    let unfinished: Vec<&Value> = rows
        .iter()
        .filter(|r| {
            r["CippStatus"]
                .as_str()
                .is_some_and(|s| s.starts_with("Not finished within the 2 s time budget"))
        })
        .collect();
    assert!(!unfinished.is_empty());
    assert_eq!(
        rows_by_tenant(&rows).len(),
        10,
        "every tenant is accounted for"
    );
    app.stop();
}

#[tokio::test]
async fn the_custom_role_sees_only_its_tenant_in_all_tenants() {
    let app = spawn_app_with(|s| s.demo.big_tenant_users = 300).await;
    let token = app.token("custom").await;
    let rows: Vec<Value> = app
        .get_json("/api/ListUsers?tenantFilter=AllTenants", &token)
        .await;
    let by_tenant = rows_by_tenant(&rows);
    assert_eq!(
        by_tenant.keys().collect::<Vec<_>>(),
        vec![&app.tenant(0).default_domain_name]
    );
    assert_eq!(rows.len(), app.tenant(0).user_count);
    app.stop();
}

#[tokio::test]
async fn list_graph_request_answers_all_tenants_inline() {
    let app = spawn_app_with(|s| s.demo.big_tenant_users = 300).await;
    let token = app.token("readonly").await;
    let body: Value = app.get_json("/api/ListGraphRequest?tenantFilter=AllTenants&Endpoint=users&$select=id,userPrincipalName", &token).await;
    let rows = body["Results"].as_array().unwrap();
    let total: usize = app.tenants.iter().map(|t| t.user_count).sum();
    assert_eq!(rows.len(), total);
    assert!(rows.iter().all(|r| r["CippStatus"] == "Good"));
    assert_eq!(body["Metadata"]["TenantFilter"], "AllTenants");
    assert!(
        body["Metadata"].get("Queued").is_none(),
        "never queue-and-poll"
    );
    app.stop();
}
