//! ExecBulkLicense, ExecReprocessUserLicenses, ExecRemoveAdminRole and ExecSetUserPhoto against
//! the simulator: every change is read back through the read operations.

use crate::helpers::{TestApp, spawn_app};
use base64::Engine;
use serde_json::{Value, json};

const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const UNSOLD_SKU: &str = "00000000-1111-2222-3333-444444444444";

async fn user(app: &TestApp, tenant: &str, token: &str, id: &str) -> Value {
    let rows: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={tenant}&UserID={id}"),
            token,
        )
        .await;
    rows[0].clone()
}

fn skus(user: &Value) -> Vec<String> {
    user["assignedLicenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["skuId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn bulk_licence_removal_and_addition_are_read_back_and_an_unsold_sku_reports_graphs_text() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    let licensed = users
        .iter()
        .find(|u| {
            u["assignedLicenses"]
                .as_array()
                .is_some_and(|l| l.len() == 1)
        })
        .unwrap();
    let id = licensed["id"].as_str().unwrap();
    let upn = licensed["userPrincipalName"].as_str().unwrap();
    let sku = skus(licensed)[0].clone();

    let remove = json!([{"tenantFilter": tenant, "userIds": id, "LicenseOperation": "Remove",
        "LicensesToRemove": [{"label": "E3", "value": sku}]}]);
    let response = app.post("/api/ExecBulkLicense", Some(&token), remove).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([format!(
            "Successfully set licenses for {upn}. It may take 2\u{2013}5 minutes before the changes become visible."
        )])
    );
    let read = user(&app, &tenant, &token, id).await;
    assert!(skus(&read).is_empty());
    assert_eq!(read["LicJoined"], "");

    let add = json!([{"tenantFilter": tenant, "userIds": [id], "LicenseOperation": "add",
        "Licenses": [{"label": "E3", "value": sku}]}]);
    let response = app.post("/api/ExecBulkLicense", Some(&token), add).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        skus(&user(&app, &tenant, &token, id).await),
        vec![sku.clone()]
    );

    // One item fails, one needs nothing: 207 with each user's outcome.
    let mixed = json!([
        {"tenantFilter": tenant, "userIds": id, "LicenseOperation": "Add", "Licenses": [{"value": UNSOLD_SKU}]},
        {"tenantFilter": tenant, "userIds": id, "LicenseOperation": "Remove", "LicensesToRemove": [{"value": UNSOLD_SKU}]},
    ]);
    let response = app.post("/api/ExecBulkLicense", Some(&token), mixed).await;
    assert_eq!(response.status().as_u16(), 207);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!([
            format!("No license changes needed for user {upn}"),
            format!(
                "Failed to assign licenses for user {upn}: License {UNSOLD_SKU} does not correspond to a valid company License."
            ),
        ])
    );
    app.stop();
}

#[tokio::test]
async fn bulk_licence_input_is_checked_and_readonly_is_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let editor = app.token("editor").await;
    for (body, field) in [
        (json!([]), "array"),
        // One object is read as a list of one (the frontend's single-row menu sends that).
        (json!({"tenantFilter": tenant}), "[0].LicenseOperation"),
        (
            json!([{"userIds": GLOBAL_ADMIN, "LicenseOperation": "Add"}]),
            "[0].tenantFilter",
        ),
        (
            json!([{"tenantFilter": tenant, "userIds": "not-a-guid", "LicenseOperation": "Add"}]),
            "[0].userIds",
        ),
        (
            json!([{"tenantFilter": tenant, "userIds": GLOBAL_ADMIN, "LicenseOperation": "Add", "Licenses": [{"value": "E3"}]}]),
            "[0].Licenses",
        ),
        (
            json!([{"tenantFilter": tenant, "userIds": GLOBAL_ADMIN, "LicenseOperation": "Swap"}]),
            "[0].LicenseOperation",
        ),
    ] {
        let response = app.post("/api/ExecBulkLicense", Some(&editor), body).await;
        assert_eq!(response.status().as_u16(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(body["Results"].as_str().unwrap().contains(field), "{body}");
    }
    let readonly = app.token("readonly").await;
    let response = app
        .post(
            "/api/ExecBulkLicense",
            Some(&readonly),
            json!([{"tenantFilter": tenant}]),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    app.stop();
}

#[tokio::test]
async fn reprocessing_licences_answers_cipps_text_and_graphs_failure() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    let id = users[0]["id"].as_str().unwrap();
    let response = app
        .post(
            "/api/ExecReprocessUserLicenses",
            Some(&token),
            json!({"tenantFilter": tenant, "ID": id, "userPrincipalName": "a@b.c"}),
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        "Successfully reprocessed license assignments for user a@b.c. License assignment states will be updated shortly."
    );
    let missing = "00000000-0000-0000-0000-0000000000ff";
    let response = app
        .post(
            "/api/ExecReprocessUserLicenses",
            Some(&token),
            json!({"tenantFilter": tenant, "ID": missing}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["Results"].as_str().unwrap().starts_with(&format!(
            "Failed to reprocess license assignments for {missing}. Resource"
        )),
        "{body}"
    );
    let response = app
        .post(
            "/api/ExecReprocessUserLicenses",
            Some(&token),
            json!({"tenantFilter": tenant}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap().contains("ID"));
    let readonly = app.token("readonly").await;
    let response = app
        .post(
            "/api/ExecReprocessUserLicenses",
            Some(&readonly),
            json!({"tenantFilter": tenant, "ID": id}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    app.stop();
}

async fn global_admins(app: &TestApp, tenant: &str, token: &str) -> (String, Vec<String>) {
    let body: Value = app
        .get_json(
            &format!("/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=directoryRoles"),
            token,
        )
        .await;
    let role = body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roleTemplateId"] == GLOBAL_ADMIN)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body: Value = app
        .get_json(
            &format!(
                "/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=directoryRoles/{role}/members"
            ),
            token,
        )
        .await;
    let members = body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    (role, members)
}

#[tokio::test]
async fn removing_an_admin_role_is_read_back_and_a_second_removal_fails_with_graphs_text() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("admin").await;
    let (role, members) = global_admins(&app, &tenant, &token).await;
    let member = members[0].clone();
    let response = app
        .post(
            "/api/ExecRemoveAdminRole",
            Some(&token),
            json!({"tenantFilter": {"value": tenant}, "RoleTemplateId": GLOBAL_ADMIN,
                   "RoleName": {"label": "Global Administrator", "value": GLOBAL_ADMIN},
                   "Users": [{"label": "Someone", "value": member}]}),
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!(["Successfully removed Someone from admin role Global Administrator."])
    );
    assert!(
        !global_admins(&app, &tenant, &token)
            .await
            .1
            .contains(&member)
    );

    let response = app
        .post(
            "/api/ExecRemoveAdminRole",
            Some(&token),
            json!({"tenantFilter": tenant, "RoleId": role, "RoleName": "Global Administrator", "Users": [member]}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!([format!(
            "Failed to remove {member} from admin role Global Administrator. Resource '{member}' does not exist or one of its queried reference-property objects are not present."
        )])
    );

    let response = app
        .post(
            "/api/ExecRemoveAdminRole",
            Some(&token),
            json!({"tenantFilter": tenant, "Users": [member]}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!([
            "TenantFilter, RoleId or RoleTemplateId, and Users are required to remove an admin role assignment."
        ])
    );
    let response = app
        .post(
            "/api/ExecRemoveAdminRole",
            Some(&token),
            json!({"tenantFilter": tenant, "RoleId": "x", "Users": [member]}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap().contains("RoleId"));
    let readonly = app.token("readonly").await;
    let response = app
        .post(
            "/api/ExecRemoveAdminRole",
            Some(&readonly),
            json!({"tenantFilter": tenant}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    app.stop();
}

fn png() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend_from_slice(b"not really the rest of a png");
    bytes
}

#[tokio::test]
async fn a_photo_set_is_served_back_and_removing_it_leaves_none() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).default_domain_name.clone();
    let token = app.token("editor").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    let id = users[0]["id"].as_str().unwrap();
    let data = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png())
    );
    let response = app
        .post(
            "/api/ExecSetUserPhoto",
            Some(&token),
            json!({"tenantFilter": tenant, "userId": id, "action": "set", "photoData": data}),
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!(["Successfully set user profile picture."])
    );
    let photo = app
        .get(
            &format!("/api/ListUserPhoto?tenantFilter={tenant}&UserID={id}"),
            Some(&token),
        )
        .await;
    assert_eq!(photo.status().as_u16(), 200);
    assert_eq!(photo.bytes().await.unwrap().to_vec(), png());

    let remove = format!("/api/ExecSetUserPhoto?tenantFilter={tenant}&userId={id}&action=Remove");
    let body: Value = app
        .post(&remove, Some(&token), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["Results"],
        json!(["Successfully removed user profile picture."])
    );
    let photo = app
        .get(
            &format!("/api/ListUserPhoto?tenantFilter={tenant}&UserID={id}"),
            Some(&token),
        )
        .await;
    assert_eq!(photo.status().as_u16(), 404);
    let body: Value = app
        .post(&remove, Some(&token), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["Results"],
        json!(["User does not have a profile picture to remove."])
    );
    app.stop();
}

#[tokio::test]
async fn photo_input_errors_name_the_field_and_readonly_is_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).default_domain_name.clone();
    let token = app.token("editor").await;
    let id = GLOBAL_ADMIN;
    let text = base64::engine::general_purpose::STANDARD.encode(b"plain text, not an image");
    for (body, expected) in [
        (
            json!({"tenantFilter": tenant, "action": "set"}),
            "Failed to set user profile picture: userId: User ID is required",
        ),
        (
            json!({"tenantFilter": tenant, "userId": id, "action": "rotate"}),
            "Failed to rotate user profile picture: action: Invalid action. Must be 'set' or 'remove'",
        ),
        (
            json!({"tenantFilter": tenant, "userId": id, "action": "set"}),
            "Failed to set user profile picture: photoData: Photo data is required when setting a profile picture",
        ),
        (
            json!({"tenantFilter": tenant, "userId": id, "action": "set", "photoData": "%%%"}),
            "Failed to set user profile picture: photoData: Invalid base64 photo data",
        ),
        (
            json!({"tenantFilter": tenant, "userId": id, "action": "set", "photoData": text}),
            "Failed to set user profile picture: photoData: not a JPEG, PNG, GIF or BMP image",
        ),
    ] {
        let response = app.post("/api/ExecSetUserPhoto", Some(&token), body).await;
        assert_eq!(response.status().as_u16(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["Results"][0].as_str().unwrap().starts_with(expected),
            "{body}"
        );
    }
    let readonly = app.token("readonly").await;
    let response = app
        .post(
            "/api/ExecSetUserPhoto",
            Some(&readonly),
            json!({"tenantFilter": tenant}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    app.stop();
}

#[tokio::test]
async fn a_user_without_usage_location_gets_the_default_and_the_licence_on_retry() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    let sku = users
        .iter()
        .find_map(|u| skus(u).into_iter().next())
        .unwrap();
    let target = users.iter().find(|u| !skus(u).contains(&sku)).unwrap();
    let id = target["id"].as_str().unwrap();
    let upn = target["userPrincipalName"].as_str().unwrap();
    let response = app
        .post(
            "/api/PatchUser",
            Some(&token),
            json!([{"id": id, "tenantFilter": tenant, "usageLocation": null}]),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        user(&app, &tenant, &token, id).await["usageLocation"],
        Value::Null
    );

    let add = json!([{"tenantFilter": tenant, "userIds": id, "LicenseOperation": "Add",
        "Licenses": [{"value": sku}]}]);
    let response = app.post("/api/ExecBulkLicense", Some(&token), add).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([format!(
            "Successfully set licenses for {upn} after setting usage location. It may take 2\u{2013}5 minutes before the changes become visible."
        )])
    );
    let read = user(&app, &tenant, &token, id).await;
    assert_eq!(read["usageLocation"], "US");
    assert!(skus(&read).contains(&sku));
    app.stop();
}

#[tokio::test]
async fn a_photo_over_four_megabytes_is_refused_with_cipps_size_text() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).default_domain_name.clone();
    let token = app.token("editor").await;
    let mut big = png();
    big.resize(4 * 1024 * 1024 + 100 * 1024, 0);
    let data = base64::engine::general_purpose::STANDARD.encode(&big);
    let response = app
        .post(
            "/api/ExecSetUserPhoto",
            Some(&token),
            json!({"tenantFilter": tenant, "userId": GLOBAL_ADMIN, "action": "set", "photoData": data}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!([
            "Failed to set user profile picture: photoData: Photo size exceeds 4MB limit. Current size: 4.1MB"
        ])
    );
    app.stop();
}

#[tokio::test]
async fn assigning_more_licences_than_the_tenant_bought_reports_each_users_outcome_with_207() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    let all: Vec<String> = users.iter().flat_map(skus).collect();
    let sku = all
        .iter()
        .min_by_key(|s| all.iter().filter(|x| x == s).count())
        .unwrap()
        .clone();
    let holders = all.iter().filter(|x| **x == sku).count();
    let free = holders / 10 + 5;
    let targets: Vec<&Value> = users
        .iter()
        .filter(|u| !skus(u).contains(&sku) && u["usageLocation"].is_string())
        .take(free + 2)
        .collect();
    assert_eq!(targets.len(), free + 2, "the small tenant has enough users");
    let items: Vec<Value> = targets
        .iter()
        .map(|u| json!({"tenantFilter": tenant, "userIds": u["id"], "LicenseOperation": "Add", "Licenses": [{"value": sku}]}))
        .collect();
    let response = app
        .post("/api/ExecBulkLicense", Some(&token), json!(items))
        .await;
    assert_eq!(response.status().as_u16(), 207);
    let body: Value = response.json().await.unwrap();
    let results: Vec<&str> = body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(results.len(), free + 2);
    let refused = "does not have any available licenses.";
    assert_eq!(
        results
            .iter()
            .filter(|r| r.starts_with("Successfully set licenses for "))
            .count(),
        free
    );
    assert_eq!(results.iter().filter(|r| r.starts_with("Failed to assign licenses for user ") && r.ends_with(refused)).count(), 2);
    app.stop();
}

#[tokio::test]
async fn a_single_licence_request_sent_as_one_object_is_carried_out() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    let licensed = users
        .iter()
        .find(|u| !skus(u).is_empty())
        .expect("a licensed user");
    let id = licensed["id"].as_str().unwrap();
    let upn = licensed["userPrincipalName"].as_str().unwrap();
    let one = json!({"tenantFilter": tenant, "userIds": id, "LicenseOperation": "Remove",
        "RemoveAllLicenses": true});
    let response = app.post("/api/ExecBulkLicense", Some(&token), one).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([format!(
            "Successfully set licenses for {upn}. It may take 2\u{2013}5 minutes before the changes become visible."
        )])
    );
    assert!(skus(&user(&app, &tenant, &token, id).await).is_empty());
    app.stop();
}

#[tokio::test]
async fn removing_an_admin_role_from_a_member_and_a_non_member_answers_207_with_both_outcomes() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("admin").await;
    let (role, members) = global_admins(&app, &tenant, &token).await;
    let member = members[0].clone();
    let stranger = "00000000-0000-4000-8000-00000000beef";
    let response = app
        .post(
            "/api/ExecRemoveAdminRole",
            Some(&token),
            json!({"tenantFilter": tenant, "RoleId": role, "RoleName": "Global Administrator",
                   "Users": [member, stranger]}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 207);
    let body: Value = response.json().await.unwrap();
    let results = body["Results"].as_array().unwrap();
    assert_eq!(
        results[0],
        format!("Successfully removed {member} from admin role Global Administrator.")
    );
    assert!(
        results[1].as_str().unwrap().starts_with(&format!(
            "Failed to remove {stranger} from admin role Global Administrator."
        )),
        "{body}"
    );
    app.stop();
}
