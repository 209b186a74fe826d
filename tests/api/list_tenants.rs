//! ListTenants: the GDAP customers, with the AllTenants selector, scoped to the caller.

use crate::helpers::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn list_tenants_returns_every_gdap_customer_with_cipps_fields() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let rows: Vec<Value> = app.get_json("/api/ListTenants", &token).await;
    assert_eq!(rows.len(), app.tenants.len());
    for tenant in &app.tenants {
        let row = rows
            .iter()
            .find(|r| r["customerId"] == tenant.customer_id.as_str())
            .expect("tenant listed");
        assert_eq!(
            row["defaultDomainName"],
            tenant.default_domain_name.as_str()
        );
        assert_eq!(
            row["initialDomainName"],
            tenant.initial_domain_name.as_str()
        );
        assert_eq!(row["displayName"], tenant.display_name.as_str());
        assert_eq!(
            row["delegatedPrivilegeStatus"],
            "granularDelegatedAdminPrivileges"
        );
        assert!(row["relationshipCount"].as_u64().unwrap() >= 1);
    }
    let names: Vec<String> = rows
        .iter()
        .map(|r| r["displayName"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by display name");
    app.stop();
}

#[tokio::test]
async fn the_all_tenants_selector_is_prepended_only_when_asked() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let rows: Vec<Value> = app
        .get_json("/api/ListTenants?AllTenantSelector=true", &token)
        .await;
    assert_eq!(rows[0]["customerId"], "AllTenants");
    assert_eq!(rows[0]["displayName"], "*All Tenants");
    assert_eq!(rows.len(), app.tenants.len() + 1);
    let one = &app.tenants[1];
    let rows: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListTenants?AllTenantSelector=true&tenantFilter={}",
                one.default_domain_name
            ),
            &token,
        )
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["customerId"], one.customer_id.as_str());
    let rows: Vec<Value> = app
        .get_json("/api/ListTenants?Mode=TenantList", &token)
        .await;
    assert!(
        rows[0]["portal_entra"]
            .as_str()
            .unwrap()
            .starts_with("https://entra.microsoft.com/")
    );
    app.stop();
}
