//! ExecDisableUser against the simulator: the change is read back through ListUsers.

use crate::helpers::{results, spawn_app};
use serde_json::{Value, json};

async fn first_user(
    app: &crate::helpers::TestApp,
    tenant: &str,
    token: &str,
    synced: bool,
) -> Value {
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), token)
        .await;
    users
        .into_iter()
        .find(|u| u["onPremisesSyncEnabled"] == synced && u["accountEnabled"] == true)
        .expect("a matching seeded user")
}

#[tokio::test]
async fn disabling_by_post_body_then_enabling_by_get_query_is_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let token = app.token("editor").await;
    let user = first_user(&app, &tenant, &token, false).await;
    let id = user["id"].as_str().unwrap();

    let response = app
        .post(
            "/api/ExecDisableUser",
            Some(&token),
            json!({"tenantFilter": {"label": "Demo", "value": tenant}, "ID": id}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Successfully set account enabled state to False for {id}")
    );
    let read: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={tenant}&UserID={id}"),
            &token,
        )
        .await;
    assert_eq!(read[0]["accountEnabled"], false);

    let response = app
        .get(
            &format!("/api/execdisableuser?ID={id}&tenantFilter={tenant}&Enable=true"),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Successfully set account enabled state to True for {id}")
    );
    let read: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={tenant}&UserID={id}"),
            &token,
        )
        .await;
    assert_eq!(read[0]["accountEnabled"], true);
    app.stop();
}

#[tokio::test]
async fn a_synced_user_is_changed_but_the_answer_is_cipps_ad_sync_warning() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).clone();
    let token = app.token("editor").await;
    let user = first_user(&app, &tenant.default_domain_name, &token, true).await;
    let id = user["id"].as_str().unwrap();
    let response = app
        .post(
            "/api/ExecDisableUser",
            Some(&token),
            json!({"tenantFilter": tenant.default_domain_name, "ID": id, "Enable": "false"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!(
            "Failed to set sign-in state for {id}. Error: WARNING: User {id} is AD Sync enabled. Please enable/disable in the local AD."
        )
    );
    assert_eq!(
        app.sim_user(&tenant.customer_id, id).await["accountEnabled"],
        false,
        "the change was made"
    );
    app.stop();
}

#[tokio::test]
async fn bad_or_missing_parameters_are_400s_naming_the_field() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let token = app.token("editor").await;
    let cases = [
        (json!({"tenantFilter": tenant}), "ID"),
        (
            json!({"tenantFilter": tenant, "ID": "x", "Enable": "maybe"}),
            "Enable",
        ),
        (json!({"ID": "x"}), "tenantFilter"),
    ];
    for (body, field) in cases {
        let response = app
            .post("/api/ExecDisableUser", Some(&token), body.clone())
            .await;
        assert_eq!(response.status().as_u16(), 400, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert!(
            results(&answer).contains(field),
            "{answer} should name {field}"
        );
    }
    let response = app
        .http
        .post(format!("{}/api/ExecDisableUser", app.address))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    app.stop();
}

#[tokio::test]
async fn an_unknown_user_gives_cipps_failure_text() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let token = app.token("editor").await;
    let response = app
        .post(
            "/api/ExecDisableUser",
            Some(&token),
            json!({"tenantFilter": tenant, "ID": "ghost@nowhere.example"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(
        results(&body)
            .starts_with("Failed to set sign-in state for ghost@nowhere.example. Error: "),
        "{body}"
    );
    app.stop();
}
