//! Sponsors through EditUser (`setSponsor`) and PatchUser (`sponsor`), read back from the
//! simulated directory; and Graph's refusal of a sponsor the user already has.

use crate::helpers::{results, spawn_app};
use cipp_graph::GraphVersion;
use cipp_users_domain::demo::{OTHER_USER, OTHER_USER_ID, TENANT, TENANT_ID, USER, USER_ID};
use serde_json::{Value, json};

async fn sponsors_of(app: &crate::helpers::TestApp, user: &str) -> Vec<String> {
    let answer = app
        .graph
        .get(
            TENANT_ID,
            GraphVersion::Beta,
            &format!("users/{user}/sponsors"),
            &[],
        )
        .await
        .expect("the sponsors");
    answer["value"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn edit_user_sets_the_sponsor_after_the_manager_and_says_so() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let body = json!({
        "tenantFilter": TENANT,
        "id": USER_ID,
        "username": USER.split('@').next().unwrap(),
        "Domain": TENANT,
        "displayName": "Kenji Robbins",
        "setManager": {"label": "Olga", "value": OTHER_USER},
        "setSponsor": {"label": "Olga", "value": OTHER_USER},
    });
    let response = app.post("/api/EditUser", Some(&token), body).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let answer: Value = response.json().await.unwrap();
    let lines: Vec<&str> = answer["Results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let manager = lines
        .iter()
        .position(|l| *l == format!("Set {USER}'s manager to {OTHER_USER}"));
    let sponsor = lines
        .iter()
        .position(|l| *l == format!("Set {USER}'s sponsor to {OTHER_USER}"));
    assert!(manager.is_some() && sponsor > manager, "{lines:?}");
    assert_eq!(sponsors_of(&app, USER_ID).await, [OTHER_USER_ID]);
    app.stop();
}

#[tokio::test]
async fn patch_user_sets_sponsors_and_reports_a_second_identical_sponsor_as_graphs_refusal() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let body = json!([{"id": USER_ID, "tenantFilter": TENANT, "sponsor": OTHER_USER, "jobTitle": "Sponsored"}]);
    let response = app.post("/api/PatchUser", Some(&token), body.clone()).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["Results"],
        json!(["Successfully patched 1 user and updated 1 sponsor assignment across 1 tenant"])
    );
    assert_eq!(sponsors_of(&app, USER_ID).await, [OTHER_USER_ID]);
    let again = app.post("/api/PatchUser", Some(&token), body).await;
    assert_eq!(again.status(), 400);
    let answer: Value = again.json().await.unwrap();
    let lines = answer["Results"].as_array().unwrap();
    assert!(
        lines[0].as_str().unwrap().starts_with(&format!("Failed to set sponsor for {USER_ID} in tenant {TENANT}: Failed to set {USER_ID}'s sponsor: One or more added object references already exist")),
        "{answer}"
    );
    assert_eq!(
        results(&json!({"Results": lines.last().unwrap()})),
        "Successfully patched 1 user and updated 0 sponsor assignments across 1 tenant"
    );
    app.stop();
}
