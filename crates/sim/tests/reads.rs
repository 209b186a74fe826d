//! The directory reads beyond users (sign-ins, memberships, roles, devices, Conditional Access,
//! authentication methods, MFA state, photos, deleted objects) over real HTTPS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cipp_sim::{SimConfig, SimHandle, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A running simulator and its certificate folder, removed when the test drops it.
struct TestSim {
    handle: SimHandle,
    _cert_dir: tempfile::TempDir,
}

impl std::ops::Deref for TestSim {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

async fn sim() -> (TestSim, reqwest::Client) {
    let cert_dir = tempfile::tempdir().unwrap();
    let config = SimConfig {
        cert_dir: cert_dir.path().to_owned(),
        big_tenant_users: 60,
        ..SimConfig::default()
    };
    let handle = start(config).await.expect("simulator starts");
    let cert = reqwest::Certificate::from_pem(handle.ca_pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .unwrap();
    let handle = TestSim {
        handle,
        _cert_dir: cert_dir,
    };
    (handle, client)
}

fn url(h: &SimHandle, path: &str) -> String {
    format!("{}{}", h.base_url.as_str().trim_end_matches('/'), path)
}

async fn token(h: &SimHandle, c: &reqwest::Client, tenant: &str) -> String {
    let app = SimConfig::default().partner_app;
    let body: Value = c
        .post(url(h, &format!("/{tenant}/oauth2/v2.0/token")))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn get(c: &reqwest::Client, url: &str, token: &str) -> (StatusCode, Value) {
    let resp = c
        .get(url)
        .bearer_auth(token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn admin_id(h: &SimHandle, c: &reqwest::Client, t: &str) -> String {
    let (_, list) = get(
        c,
        &url(h, "/v1.0/users?$select=id,userPrincipalName&$top=1"),
        t,
    )
    .await;
    list["value"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sign_ins_filter_by_user_and_come_newest_first_with_locations_and_failures() {
    let (h, c) = sim().await;
    let t = token(&h, &c, &h.tenants[1].customer_id).await;
    let id = admin_id(&h, &c, &t).await;
    let (status, body) = get(
        &c,
        &url(
            &h,
            &format!("/beta/auditLogs/signIns?$filter=(userId eq '{id}')&$top=3&$orderby=createdDateTime desc"),
        ),
        &t,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let records = body["value"].as_array().unwrap();
    assert!(!records.is_empty() && records.len() <= 3);
    assert!(records.iter().all(|r| r["userId"] == json!(id)));
    let (_, all) = get(
        &c,
        &url(&h, "/beta/auditLogs/signIns?$filter=status/errorCode ne 0"),
        &t,
    )
    .await;
    let failed = all["value"].as_array().unwrap();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|r| r["status"]["errorCode"] != json!(0)));
    assert!(failed.iter().all(|r| r["location"]["city"].is_string()));
    // Same seed, same records.
    let (_, again) = get(
        &c,
        &url(&h, "/beta/auditLogs/signIns?$filter=status/errorCode ne 0"),
        &t,
    )
    .await;
    assert_eq!(all["value"], again["value"]);
    h.stop().await;
}

#[tokio::test]
async fn member_of_casts_to_groups_and_role_members_can_be_counted() {
    let (h, c) = sim().await;
    let t = token(&h, &c, &h.tenants[1].customer_id).await;
    let id = admin_id(&h, &c, &t).await;
    let (status, all) = get(&c, &url(&h, &format!("/beta/users/{id}/memberOf")), &t).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let types: Vec<&str> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["@odata.type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"#microsoft.graph.group"));
    assert!(types.contains(&"#microsoft.graph.directoryRole"));
    let (_, groups) = get(
        &c,
        &url(&h, &format!("/beta/users/{id}/memberOf/$/microsoft.graph.group?$select=id,displayName&$orderby=displayName asc")),
        &t,
    )
    .await;
    let groups = groups["value"].as_array().unwrap();
    assert!(
        groups
            .iter()
            .all(|g| g["@odata.type"] == "#microsoft.graph.group")
    );
    assert!(
        groups.iter().all(|g| g.get("mailEnabled").is_none()),
        "$select applies"
    );
    let (status, count) = get(
        &c,
        &url(&h, "/beta/directoryRoles/roleTemplateId=62e90394-69f5-4237-9190-012177145e10/members/$count"),
        &t,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(count.as_u64().unwrap() >= 1, "{count}");
    let (status, licensed) = get(
        &c,
        &url(
            &h,
            "/beta/users/$count?$top=1&$filter=assignedLicenses/$count ne 0",
        ),
        &t,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{licensed}");
    let (_, users) = get(&c, &url(&h, "/beta/users/$count"), &t).await;
    assert!(licensed.as_u64().unwrap() < users.as_u64().unwrap());
    let (status, unknown) = get(
        &c,
        &url(
            &h,
            "/beta/users/00000000-0000-4000-8000-000000000000/memberOf",
        ),
        &t,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    h.stop().await;
}

#[tokio::test]
async fn photos_are_bytes_or_image_not_found_and_mfa_state_round_trips() {
    let (h, c) = sim().await;
    let t = token(&h, &c, &h.tenants[1].customer_id).await;
    let (_, list) = get(
        &c,
        &url(&h, "/v1.0/users?$select=id,perUserMfaState&$top=15"),
        &t,
    )
    .await;
    let users = list["value"].as_array().unwrap();
    assert!(users.iter().all(|u| u["perUserMfaState"].is_string()));
    let (mut found, mut missing) = (0, 0);
    for user in users {
        let id = user["id"].as_str().unwrap();
        let resp = c
            .get(url(&h, &format!("/v1.0/users/{id}/photo/$value")))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::OK {
            assert_eq!(resp.headers()["content-type"], "image/png");
            assert_eq!(&resp.bytes().await.unwrap()[..4], b"\x89PNG");
            found += 1;
        } else {
            assert_eq!(resp.status(), StatusCode::NOT_FOUND);
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "ImageNotFound");
            missing += 1;
        }
    }
    assert!(found > 0 && missing > 0);
    let id = users[3]["id"].as_str().unwrap();
    let resp = c
        .patch(url(
            &h,
            &format!("/beta/users/{id}/authentication/requirements"),
        ))
        .bearer_auth(&t)
        .json(&json!({"perUserMfaState": "enforced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, state) = get(
        &c,
        &url(&h, &format!("/beta/users/{id}/authentication/requirements")),
        &t,
    )
    .await;
    assert_eq!(state["perUserMfaState"], "enforced");
    let (_, user) = get(
        &c,
        &url(&h, &format!("/v1.0/users/{id}?$select=perUserMfaState")),
        &t,
    )
    .await;
    assert_eq!(user["perUserMfaState"], "enforced");
    h.stop().await;
}

#[tokio::test]
async fn policies_methods_registration_devices_and_deleted_objects_are_served() {
    let (h, c) = sim().await;
    let t = token(&h, &c, &h.tenants[1].customer_id).await;
    let id = admin_id(&h, &c, &t).await;
    let (_, policies) = get(
        &c,
        &url(&h, "/beta/identity/conditionalAccess/policies?$top=999&$filter=state eq 'enabled'&$select=id,displayName,state,grantControls,conditions"),
        &t,
    )
    .await;
    let policies = policies["value"].as_array().unwrap();
    assert!(policies.len() >= 3);
    assert!(policies.iter().all(|p| p["state"] == "enabled"));
    let (_, methods) = get(
        &c,
        &url(&h, &format!("/v1.0/users/{id}/authentication/methods")),
        &t,
    )
    .await;
    let methods = methods["value"].as_array().unwrap();
    assert!(
        methods
            .iter()
            .any(|m| m["id"] == "28c10230-6103-485e-b985-444c60001490")
    );
    assert!(methods.len() >= 2, "the admin has MFA methods");
    let (_, report) = get(
        &c,
        &url(&h, "/beta/reports/authenticationMethods/userRegistrationDetails?$top=999&$select=userPrincipalName,isMfaRegistered,isMfaCapable,methodsRegistered"),
        &t,
    )
    .await;
    let rows = report["value"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["isMfaRegistered"] == true));
    assert!(rows.iter().any(|r| r["isMfaRegistered"] == false));
    let (_, owned) = get(&c, &url(&h, "/beta/devices"), &t).await;
    assert!(!owned["value"].as_array().unwrap().is_empty());
    let (_, deleted_users) = get(
        &c,
        &url(&h, "/beta/directory/deletedItems/microsoft.graph.user"),
        &t,
    )
    .await;
    assert!(deleted_users["value"].as_array().unwrap().len() >= 2);
    let (_, deleted_groups) = get(
        &c,
        &url(&h, "/beta/directory/deletedItems/microsoft.graph.group"),
        &t,
    )
    .await;
    assert_eq!(deleted_groups["value"].as_array().unwrap().len(), 1);
    let (status, _) = get(
        &c,
        &url(
            &h,
            "/beta/directory/deletedItems/microsoft.graph.servicePrincipal",
        ),
        &t,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let resp = c
        .post(url(&h, "/beta/identity/conditionalAccess/evaluate"))
        .bearer_auth(&t)
        .json(&json!({
            "conditionalAccessWhatIfSubject": {"@odata.type": "#microsoft.graph.userSubject", "userId": id},
            "conditionalAccessContext": {"@odata.type": "#microsoft.graph.whatIfApplicationContext", "includeApplications": ["67ad5377-2d78-4ac2-a867-6300cda00e85"]},
            "conditionalAccessWhatIfConditions": {}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let what_if: Value = resp.json().await.unwrap();
    assert!(
        what_if["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["policyApplies"] == true)
    );
    h.stop().await;
}
