//! ExecRequirePasswordChange and ExecClrOnPremAttributes, upstream's newer Users operations,
//! read back at the simulator.

use crate::helpers::{results, spawn_app};
use cipp_users_domain::demo::{DELETED_USER_ID, SYNCED_USER, TENANT, TENANT_ID, USER, USER_ID};
use serde_json::{Value, json};

#[tokio::test]
async fn requiring_a_password_change_sets_the_flag_without_resetting_the_password() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let before = app.sim_user(TENANT_ID, USER_ID).await;
    let response = app
        .post(
            "/api/ExecRequirePasswordChange",
            Some(&token),
            json!({"tenantFilter": TENANT, "ID": USER}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Successfully set password change at next logon to required for {USER}")
    );
    let after = app.sim_user(TENANT_ID, USER_ID).await;
    assert_eq!(
        after["passwordProfile"]["forceChangePasswordNextSignIn"],
        true
    );
    assert_eq!(
        after["lastPasswordChangeDateTime"], before["lastPasswordChangeDateTime"],
        "the password itself was not changed"
    );
    app.stop();
}

#[tokio::test]
async fn a_synced_user_is_refused_with_cipps_text_and_a_reader_is_refused_outright() {
    let app = spawn_app().await;
    let editor = app.token("editor").await;
    let synced = app
        .post(
            "/api/ExecRequirePasswordChange",
            Some(&editor),
            json!({"tenantFilter": TENANT, "ID": SYNCED_USER}),
        )
        .await;
    assert_eq!(synced.status(), 409);
    let body: Value = synced.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!(
            "Cannot set must-change-password for {SYNCED_USER}. This user is directory synced; manage password change requirements in on-premises Active Directory."
        )
    );
    let reader = app.token("readonly").await;
    let refused = app
        .post(
            "/api/ExecRequirePasswordChange",
            Some(&reader),
            json!({"tenantFilter": TENANT, "ID": USER}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let bad = app
        .post(
            "/api/ExecRequirePasswordChange",
            Some(&editor),
            json!({"tenantFilter": TENANT, "ID": "not a user"}),
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("ID"));
    app.stop();
}

#[tokio::test]
async fn a_graph_refusal_surfaces_as_cipps_failure_text() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    app.add_fault(json!({"path": format!("/v1.0/users/{USER}"), "method": "PATCH", "status": 403}))
        .await;
    let response = app
        .post(
            "/api/ExecRequirePasswordChange",
            Some(&token),
            json!({"tenantFilter": TENANT, "ID": USER}),
        )
        .await;
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert!(
        results(&body).starts_with(&format!(
            "Failed to set password change at next logon for {USER}. Error: "
        )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn leftover_on_premises_attributes_of_a_user_taken_to_the_cloud_are_cleared() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let synced = app.sim_user(TENANT_ID, SYNCED_USER).await;
    let synced_id = synced["id"].as_str().unwrap().to_owned();
    assert!(synced["onPremisesSamAccountName"].is_string());
    // Synced users keep their attributes: Graph refuses to clear them.
    let refused = app
        .post(
            "/api/ExecClrOnPremAttributes",
            Some(&token),
            json!({"tenantFilter": TENANT, "ID": synced_id}),
        )
        .await;
    assert_eq!(refused.status(), 400, "{}", refused.text().await.unwrap());
    let cloud = app
        .post(
            "/api/ExecSetCloudManaged",
            Some(&token),
            json!({"tenantFilter": TENANT, "ID": synced_id, "displayName": "Enrico Braun", "type": "User", "isCloudManaged": true}),
        )
        .await;
    assert_eq!(cloud.status(), 200, "{}", cloud.text().await.unwrap());
    let response = app
        .post(
            "/api/ExecClrOnPremAttributes",
            Some(&token),
            json!({"tenantFilter": TENANT, "ID": synced_id, "Attributes": [{"label": "SAM", "value": "onpremisessamaccountname"}, "onPremisesDomainName"]}),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!(
            "Successfully cleared onPremisesSamAccountName, onPremisesDomainName for user {synced_id}"
        )
    );
    let after = app.sim_user(TENANT_ID, &synced_id).await;
    assert!(after["onPremisesSamAccountName"].is_null());
    assert!(after["onPremisesDomainName"].is_null());
    assert!(
        after["onPremisesDistinguishedName"].is_string(),
        "only the named ones are cleared"
    );
    app.stop();
}

#[tokio::test]
async fn a_deleted_user_is_restored_before_its_attributes_are_cleared() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let response = app
        .post(
            "/api/ExecClrOnPremAttributes",
            Some(&token),
            json!({"tenantFilter": TENANT, "ID": DELETED_USER_ID}),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let restored = app.sim_user(TENANT_ID, DELETED_USER_ID).await;
    assert!(restored["deletedDateTime"].is_null(), "{restored}");
    assert!(restored["onPremisesImmutableId"].is_null());
    app.stop();
}

#[tokio::test]
async fn an_attribute_outside_the_clearable_seven_is_a_400_naming_attributes() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    app.reset_sim_stats().await;
    let response = app
        .post(
            "/api/ExecClrOnPremAttributes",
            Some(&token),
            json!({"tenantFilter": TENANT, "ID": USER_ID, "Attributes": ["onPremisesSyncEnabled"]}),
        )
        .await;
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("Attributes")
            && text.contains("'onPremisesSyncEnabled' is not a clearable on-premises attribute"),
        "{text}"
    );
    assert_eq!(
        app.sim_count("/users", None).await,
        0,
        "nothing was read or written"
    );
    let reader = app.token("readonly").await;
    let refused = app
        .post(
            "/api/ExecClrOnPremAttributes",
            Some(&reader),
            json!({"tenantFilter": TENANT, "ID": USER_ID}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    app.stop();
}
