//! ListUsers against the simulator.

use crate::helpers::{results, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn list_users_returns_the_seeded_users_with_cipps_computed_fields() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).clone();
    let token = app.token("readonly").await;
    let response = app
        .get(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let users: Vec<Value> = response.json().await.unwrap();
    assert_eq!(users.len(), tenant.user_count);
    for user in &users {
        let upn = user["userPrincipalName"].as_str().unwrap();
        let (name, domain) = upn.split_once('@').unwrap();
        assert_eq!(user["username"], name);
        assert_eq!(user["primDomain"]["value"], domain);
        assert_eq!(user["primDomain"]["label"], domain);
        assert!(user["onPremisesSyncEnabled"].is_boolean());
        assert!(user["Aliases"].is_string());
        assert!(user["LicJoined"].is_string());
        assert!(user["id"].is_string());
        assert!(user["accountEnabled"].is_boolean());
    }
    assert!(
        users
            .iter()
            .any(|u| !u["LicJoined"].as_str().unwrap().is_empty()),
        "some users are licensed"
    );
    assert!(
        users.iter().any(|u| u["manager"]["id"].is_string()),
        "some users have managers"
    );
    assert!(
        users
            .iter()
            .any(|u| u["Aliases"].as_str().unwrap().contains("SMTP:"))
    );
    app.stop();
}

#[tokio::test]
async fn list_users_accepts_the_tenant_id_and_the_initial_domain() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).clone();
    let token = app.token("readonly").await;
    for name in [
        &tenant.customer_id,
        &tenant.initial_domain_name,
        &tenant.default_domain_name.to_uppercase(),
    ] {
        let response = app
            .get(&format!("/api/ListUsers?TenantFilter={name}"), Some(&token))
            .await;
        assert_eq!(response.status().as_u16(), 200, "{name}");
        let users: Vec<Value> = response.json().await.unwrap();
        assert_eq!(users.len(), tenant.user_count);
    }
    app.stop();
}

#[tokio::test]
async fn list_users_of_the_big_tenant_returns_every_user_over_several_graph_pages() {
    let app = spawn_app().await;
    let tenant = app.big_tenant().clone();
    assert!(tenant.user_count >= 2000);
    let token = app.token("readonly").await;
    app.reset_sim_stats().await;
    let response = app
        .get(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let users: Vec<Value> = response.json().await.unwrap();
    assert_eq!(users.len(), tenant.user_count);
    let mut ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), tenant.user_count, "every user exactly once");
    let pages = app
        .sim_count("/beta/users", Some(&tenant.customer_id))
        .await;
    assert!(
        pages >= 3,
        "2000+ users at 999 a page take at least 3 Graph requests, saw {pages}"
    );
    app.stop();
}

#[tokio::test]
async fn list_users_with_a_user_id_returns_that_one_user() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).clone();
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            &token,
        )
        .await;
    let user = &users[3];
    for key in [
        user["id"].as_str().unwrap(),
        user["userPrincipalName"].as_str().unwrap(),
    ] {
        let response = app
            .http
            .get(format!("{}/api/ListUsers", app.address))
            .query(&[
                ("tenantFilter", tenant.default_domain_name.as_str()),
                ("UserID", key),
            ])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{key}: {body}");
        let one = body.as_array().unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0]["id"], user["id"]);
        assert_eq!(one[0]["username"], user["username"]);
    }
    app.stop();
}

#[tokio::test]
async fn list_users_passes_a_graph_filter() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).clone();
    let token = app.token("readonly").await;
    let all: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            &token,
        )
        .await;
    let disabled = all.iter().filter(|u| u["accountEnabled"] == false).count();
    let filter = "accountEnabled eq false";
    let response = app
        .http
        .get(format!("{}/api/ListUsers", app.address))
        .query(&[
            ("tenantFilter", tenant.default_domain_name.as_str()),
            ("graphFilter", filter),
        ])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let filtered: Vec<Value> = response.json().await.unwrap();
    assert_eq!(filtered.len(), disabled);
    assert!(filtered.iter().all(|u| u["accountEnabled"] == false));
    app.stop();
}

#[tokio::test]
async fn an_unknown_tenant_is_a_400_that_names_it_and_a_missing_one_says_so() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let response = app
        .get("/api/ListUsers?tenantFilter=nowhere.example", Some(&token))
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(results(&body).contains("nowhere.example"), "{body}");
    let response = app.get("/api/ListUsers", Some(&token)).await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(results(&body).contains("tenantFilter"), "{body}");
    app.stop();
}

#[tokio::test]
async fn an_unknown_user_id_is_a_404_with_graphs_text() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).clone();
    let token = app.token("readonly").await;
    let response = app
        .get(
            &format!(
                "/api/ListUsers?tenantFilter={}&UserID=00000000-0000-0000-0000-000000000000",
                tenant.default_domain_name
            ),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(results(&body).contains("does not exist"), "{body}");
    app.stop();
}

#[tokio::test]
async fn include_logon_details_adds_the_last_sign_in_from_the_audit_log() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            &token,
        )
        .await;
    let mut with_sign_in = 0;
    for user in users.iter().filter(|u| u["userType"] == "Member").take(8) {
        let id = user["id"].as_str().unwrap();
        let answer: Value = app
            .get_json(
                &format!(
                    "/api/ListUsers?tenantFilter={}&UserID={id}&IncludeLogonDetails=true",
                    tenant.default_domain_name
                ),
                &token,
            )
            .await;
        let row = &answer.as_array().unwrap_or_else(|| panic!("{answer}"))[0];
        for field in [
            "LastSigninApplication",
            "LastSigninDate",
            "LastSigninStatus",
            "LastSigninResult",
            "LastSigninFailureReason",
        ] {
            assert!(row.get(field).is_some(), "{field} in {row}");
        }
        if row["LastSigninStatus"].is_string() {
            with_sign_in += 1;
            let status = row["LastSigninStatus"].as_str().unwrap();
            assert!(
                status == "UserLoggedIn" || status == "UserLoginFailed",
                "{status}"
            );
            let date = row["LastSigninDate"].as_str().unwrap();
            assert!(
                date.starts_with("\r\n") && date.ends_with(" AM\r\n\r\n")
                    || date.ends_with(" PM\r\n\r\n"),
                "{date:?}"
            );
            if status == "UserLoggedIn" {
                assert_eq!(row["LastSigninFailureReason"], "Successfully signed in");
            }
        }
    }
    assert!(
        with_sign_in > 0,
        "some seeded users signed in during the last 7 days"
    );
    // Without IncludeLogonDetails the fields are absent, as in CIPP.
    let id = users[0]["id"].as_str().unwrap();
    let plain: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListUsers?tenantFilter={}&UserID={id}",
                tenant.default_domain_name
            ),
            &token,
        )
        .await;
    assert!(plain[0].get("LastSigninDate").is_none());
    // A typed boolean: `false` leaves them out too (CIPP adds them for any non-empty value).
    let declined: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListUsers?tenantFilter={}&UserID={id}&IncludeLogonDetails=false",
                tenant.default_domain_name
            ),
            &token,
        )
        .await;
    assert!(declined[0].get("LastSigninDate").is_none());
    app.stop();
}

#[tokio::test]
async fn one_user_carries_the_custom_attributes_of_the_user_settings() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    let id = users[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/ListUsers?tenantFilter={tenant}&UserID={id}");
    let before: Vec<Value> = app.get_json(&path, &token).await;
    assert!(
        before[0].get("employeeOrgData").is_none(),
        "not among CIPP's base properties: {}",
        before[0]
    );
    // The caller's own settings name a custom attribute; names that are not plain property
    // names are left out, as CIPP does.
    let response = app
        .post(
            "/api/ExecUserSettings",
            Some(&token),
            json!({"currentSettings": {"userAttributes": [
                {"label": "employeeOrgData", "value": "employeeOrgData"},
                {"label": "bad-name", "value": "bad-name"}]}}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let after: Vec<Value> = app.get_json(&path, &token).await;
    assert!(
        after[0].get("employeeOrgData").is_some(),
        "the custom attribute is selected: {}",
        after[0]
    );
    assert!(after[0].get("bad-name").is_none());
    // CIPP's computed fields are still there.
    assert_eq!(after[0]["id"], json!(id));
    assert!(after[0].get("primDomain").is_some());
    app.stop();
}
