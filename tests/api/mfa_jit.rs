//! The MFA report (ListMFAUsers) and the JIT admin list (ListJITAdmin) against the simulator's
//! seeded policies, registrations, roles and schema-extension values.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

const NOT_LICENSED: &str =
    "MFA registration not available - licensing required for Conditional Access reporting";

async fn call(app: &TestApp, token: &str, path_and_query: &str) -> (u16, Value) {
    let response = app.get(path_and_query, Some(token)).await;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn policy<'r>(row: &'r Value, name: &str) -> Option<&'r Value> {
    row["CAPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["DisplayName"] == name)
}

#[tokio::test]
async fn list_mfa_users_reports_each_users_mfa_coverage_as_cipp_does() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = &tenant.default_domain_name;
    let token = app.token("readonly").await;
    let (status, rows) = call(
        &app,
        &token,
        &format!("/api/ListMFAUsers?tenantFilter={domain}"),
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().unwrap();
    let users: Vec<Value> = app
        .get(
            &format!("/api/ListUsers?tenantFilter={domain}"),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rows.len(), users.len(), "one row per user");
    for row in rows {
        assert_eq!(row["Tenant"], json!(domain));
        assert_eq!(row["PartitionKey"], "users");
        assert_eq!(
            row["RowKey"],
            json!(row["UPN"].as_str().unwrap().replace('#', ""))
        );
        assert_eq!(row["CoveredBySD"], false, "security defaults are off");
        assert!(row["PerUser"].is_string(), "{row}");
        assert!(row["MFARegistration"].is_boolean(), "{row}");
        assert!(row["MFAMethods"].is_array());
        assert!(
            policy(row, "Block legacy authentication").is_none(),
            "only MFA policies count"
        );
        let all_users = policy(row, "Require MFA for all users").expect("the all-users policy");
        assert_eq!(all_users["AllApps"], true);
        let covered = row["CoveredByCA"].as_str().unwrap();
        if all_users["UserIncluded"] == true {
            assert_eq!(covered, "Enforced - All Apps", "{row}");
        } else {
            assert_eq!(all_users["ExcludedViaGroup"], "MFA Exclusions", "{row}");
        }
    }
    let admin = rows
        .iter()
        .find(|r| r["UPN"].as_str().unwrap().starts_with("admin@"))
        .expect("the seeded admin");
    assert_eq!(admin["IsAdmin"], true);
    assert!(
        policy(admin, "Require MFA for administrators").is_some(),
        "role-targeted policies reach role holders: {admin}"
    );
    assert!(rows.iter().any(|r| r["IsAdmin"] == false));
    let guest = rows
        .iter()
        .find(|r| r["UserType"] == "Guest")
        .expect("a seeded guest");
    let guests_policy = policy(guest, "Require MFA for guests").expect("guest policy");
    assert_eq!(guests_policy["AllApps"], false);
    assert!(
        rows.iter()
            .filter(|r| r["UserType"] == "Member")
            .all(|r| policy(r, "Require MFA for guests").is_none())
    );
    assert!(
        rows.iter()
            .any(|r| policy(r, "Require MFA for all users").unwrap()["UserIncluded"] == false),
        "someone is excluded through MFA Exclusions"
    );
    app.stop();
}

#[tokio::test]
async fn without_the_registration_report_no_policies_are_read_and_the_rows_say_licensing_is_required()
 {
    let app = spawn_app().await;
    let tenant = app.tenant(2).clone();
    app.add_fault(json!({
        "path": "/beta/reports/authenticationMethods/userRegistrationDetails",
        "tenant": tenant.customer_id,
        "status": 403,
    }))
    .await;
    app.reset_sim_stats().await;
    let token = app.token("readonly").await;
    let (status, rows) = call(
        &app,
        &token,
        &format!("/api/ListMFAUsers?tenantFilter={}", tenant.customer_id),
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    for row in rows.as_array().unwrap() {
        assert_eq!(
            row["Tenant"],
            json!(tenant.customer_id),
            "the filter as sent"
        );
        assert_eq!(row["CoveredByCA"], NOT_LICENSED);
        assert_eq!(row["MFARegistration"], Value::Null);
        assert_eq!(row["MFACapable"], Value::Null);
        assert_eq!(row["CAPolicies"], json!([]));
        assert!(row["IsAdmin"].is_boolean(), "assignments are still read");
    }
    assert_eq!(app.sim_count("conditionalAccess/policies", None).await, 0);
    app.stop();
}

#[tokio::test]
async fn a_failed_user_read_is_a_500_with_graphs_text_and_a_missing_tenant_a_400() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let token = app.token("readonly").await;
    let (status, body) = call(&app, &token, "/api/ListMFAUsers").await;
    assert_eq!(status, 400);
    assert_eq!(results(&body), "tenantFilter is required");
    let (status, body) = call(
        &app,
        &token,
        "/api/ListMFAUsers?tenantFilter=nowhere.example",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        results(&body).starts_with("tenantFilter: 'nowhere.example'"),
        "{body}"
    );
    app.add_fault(json!({"path": "/v1.0/users", "tenant": tenant.customer_id, "status": 403}))
        .await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListMFAUsers?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(results(&body).contains("Insufficient privileges"), "{body}");
    app.stop();
}

#[tokio::test]
async fn list_mfa_users_for_all_tenants_answers_inline_with_a_row_for_a_tenant_that_failed() {
    let app = spawn_app().await;
    let failing = app.tenant(2).clone();
    app.add_fault(json!({"path": "/v1.0/users", "tenant": failing.customer_id, "status": 403}))
        .await;
    let token = app.token("readonly").await;
    let (status, rows) = call(&app, &token, "/api/ListMFAUsers?tenantFilter=AllTenants").await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().unwrap();
    let failed: Vec<&Value> = rows
        .iter()
        .filter(|r| r["Tenant"] == json!(failing.default_domain_name))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["UPN"], json!(failing.default_domain_name));
    assert_eq!(failed[0]["CoveredByCA"], "Could not connect to tenant");
    assert_eq!(failed[0]["AccountEnabled"], "none");
    assert!(
        failed[0]["CippStatus"]
            .as_str()
            .unwrap()
            .starts_with("Could not connect to tenant."),
        "{}",
        failed[0]
    );
    for other in [app.tenant(0), app.tenant(1)] {
        let count = rows
            .iter()
            .filter(|r| r["Tenant"] == json!(other.default_domain_name) && r["ID"].is_string())
            .count();
        assert!(
            count >= other.user_count,
            "{} rows for {}",
            count,
            other.default_domain_name
        );
    }
    app.stop();
}

#[tokio::test]
async fn the_custom_role_reads_mfa_only_in_its_tenant_and_never_jit_admins() {
    let app = spawn_app().await;
    let custom = app.token("custom").await;
    let (status, body) = call(
        &app,
        &custom,
        &format!(
            "/api/ListMFAUsers?tenantFilter={}",
            app.tenant(1).default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(results(&body), "Access to this tenant is not allowed");
    let own = app.tenant(0).default_domain_name.clone();
    let (status, body) = call(
        &app,
        &custom,
        &format!("/api/ListMFAUsers?tenantFilter={own}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &app,
        &custom,
        &format!("/api/ListJITAdmin?tenantFilter={own}"),
    )
    .await;
    assert_eq!(
        status, 403,
        "Identity.Role.Read is not in Identity.User.*: {body}"
    );
    app.stop();
}

#[tokio::test]
async fn list_jit_admin_lists_the_users_with_jit_values_and_what_they_are_members_of() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let token = app.token("readonly").await;
    app.reset_sim_stats().await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListJITAdmin?TenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Metadata"], json!({"Method": "BulkRequest"}));
    let rows = body["Results"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        3,
        "the seeded user without JIT values is left out: {body}"
    );
    let active = rows
        .iter()
        .find(|r| r["jitAdminEnabled"] == true)
        .expect("an active JIT admin");
    assert!(
        active["jitAdminReason"]
            .as_str()
            .unwrap()
            .contains("CHG0042")
    );
    for key in [
        "id",
        "displayName",
        "userPrincipalName",
        "accountEnabled",
        "jitAdminExpiration",
        "jitAdminStartDate",
        "jitAdminCreatedBy",
    ] {
        assert!(!active[key].is_null(), "{key} in {active}");
    }
    for row in rows {
        let member_of = row["memberOf"].as_array().unwrap();
        assert!(
            member_of.iter().any(|m| m["displayName"] == "All Company"),
            "{row}"
        );
        assert!(member_of.iter().all(|m| m["id"].is_string()));
    }
    assert_eq!(app.sim_count("schemaExtensions", None).await, 1);
    assert!(app.sim_count("$batch", Some(&tenant.customer_id)).await >= 2);
    app.stop();
}

#[tokio::test]
async fn list_jit_admin_for_all_tenants_tags_rows_and_a_failed_read_is_a_500() {
    let app = spawn_app().await;
    let failing = app.tenant(2).clone();
    let token = app.token("readonly").await;
    app.add_fault(json!({"path": "/beta/$batch", "tenant": failing.customer_id, "status": 403}))
        .await;
    let (status, body) = call(&app, &token, "/api/ListJITAdmin?tenantFilter=AllTenants").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Metadata"], json!({}));
    let rows = body["Results"].as_array().unwrap();
    for ok in [app.tenant(0), app.tenant(1)] {
        let count = rows
            .iter()
            .filter(|r| r["Tenant"] == json!(ok.default_domain_name) && r["id"].is_string())
            .count();
        assert_eq!(count, 3, "{body}");
    }
    let failed = rows
        .iter()
        .find(|r| r["Tenant"] == json!(failing.default_domain_name))
        .unwrap();
    assert!(
        failed["CippStatus"]
            .as_str()
            .unwrap()
            .contains("Failed to retrieve JIT admin users"),
        "{failed}"
    );
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListJITAdmin?tenantFilter={}",
            failing.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        results(&body).starts_with("Failed to retrieve JIT admin users: "),
        "{body}"
    );
    let (status, body) = call(&app, &token, "/api/ListJITAdmin").await;
    assert_eq!(status, 400);
    assert_eq!(results(&body), "tenantFilter is required");
    app.stop();
}
