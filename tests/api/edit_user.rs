//! PatchUser, EditUserAliases and EditUser against the simulator: every change is read back
//! through ListUsers, ListUserGroups or the simulator's stored user.

use crate::helpers::{TestApp, spawn_app};
use serde_json::{Value, json};

async fn users(app: &TestApp, tenant: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    app.get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await
}

/// Licensed cloud members (they have mailboxes), then synced ones.
pub(crate) async fn cloud_and_synced(app: &TestApp, tenant: &str) -> (Vec<Value>, Vec<Value>) {
    let all = users(app, tenant).await;
    let members = |synced: bool| -> Vec<Value> {
        all.iter()
            .filter(|u| {
                u["userType"] == "Member"
                    && u["onPremisesSyncEnabled"] == synced
                    && !u["assignedLicenses"].as_array().unwrap().is_empty()
            })
            .cloned()
            .collect()
    };
    (members(false), members(true))
}

pub(crate) async fn call(app: &TestApp, role: &str, name: &str, body: Value) -> (u16, Value) {
    let token = app.token(role).await;
    let response = app.post(&format!("/api/{name}"), Some(&token), body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

pub(crate) fn lines(body: &Value) -> Vec<String> {
    body["Results"]
        .as_array()
        .unwrap_or_else(|| panic!("no Results array in {body}"))
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn s(user: &Value, field: &str) -> String {
    user[field].as_str().unwrap().to_owned()
}

pub(crate) async fn user_groups(app: &TestApp, tenant: &str, id: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    app.get_json(
        &format!("/api/ListUserGroups?tenantFilter={tenant}&userId={id}"),
        &token,
    )
    .await
}

pub(crate) async fn all_groups(app: &TestApp, tenant: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    let body: Value = app
        .get_json(
            &format!("/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=groups"),
            &token,
        )
        .await;
    body["Results"].as_array().cloned().unwrap()
}

#[tokio::test]
async fn patch_user_patches_properties_and_the_manager_and_both_are_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let (cloud, _) = cloud_and_synced(&app, &domain).await;
    let (user, manager) = (&cloud[0], &cloud[1]);
    let (status, body) = call(
        &app,
        "editor",
        "PatchUser",
        json!([{"id": s(user, "id"), "tenantFilter": domain, "jobTitle": "Chief Tester",
                "city": "Oslo", "manager": s(manager, "userPrincipalName")}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body),
        ["Successfully patched 1 user and updated 1 manager assignment across 1 tenant"]
    );
    let token = app.token("readonly").await;
    let read: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListUsers?tenantFilter={domain}&UserID={}",
                s(user, "id")
            ),
            &token,
        )
        .await;
    assert_eq!(read[0]["jobTitle"], "Chief Tester");
    assert_eq!(read[0]["city"], "Oslo");
    let stored = app.sim_user(&tenant.customer_id, &s(user, "id")).await;
    assert_eq!(stored["managerId"], manager["id"]);
    app.stop();
}

#[tokio::test]
async fn patch_user_counts_users_and_tenants_across_two_tenants() {
    let app = spawn_app().await;
    let (a, b) = (
        app.tenant(1).default_domain_name.clone(),
        app.tenant(2).default_domain_name.clone(),
    );
    let ua = cloud_and_synced(&app, &a).await.0[0].clone();
    let ub = cloud_and_synced(&app, &b).await.0[0].clone();
    let (status, body) = call(
        &app,
        "editor",
        "PatchUser",
        json!([
            {"id": s(&ua, "id"), "tenantFilter": a, "department": "QA"},
            {"id": s(&ub, "userPrincipalName"), "tenantFilter": b, "department": "QA"}
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body),
        ["Successfully patched 2 users across 2 tenants"]
    );
    for (t, u) in [(&a, &ua), (&b, &ub)] {
        let token = app.token("readonly").await;
        let read: Vec<Value> = app
            .get_json(
                &format!("/api/ListUsers?tenantFilter={t}&UserID={}", s(u, "id")),
                &token,
            )
            .await;
        assert_eq!(read[0]["department"], "QA");
    }
    app.stop();
}

#[tokio::test]
async fn patch_user_reports_a_synced_users_refusal_and_an_unknown_user_with_400() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (_, synced) = cloud_and_synced(&app, &domain).await;
    let synced_id = s(&synced[0], "id");
    let nobody = "00000000-0000-4000-8000-00000000dead";
    let (status, body) = call(
        &app,
        "editor",
        "PatchUser",
        json!([{"id": synced_id, "tenantFilter": domain, "city": "Bergen"},
               {"id": nobody, "tenantFilter": domain, "city": "Bergen"}]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let got = lines(&body);
    assert_eq!(
        got[0],
        format!(
            "Failed to patch user {synced_id} in tenant {domain}: Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
        )
    );
    assert!(
        got[1].starts_with(&format!(
            "Failed to patch user {nobody} in tenant {domain}: Resource '{nobody}' does not exist"
        )),
        "{body}"
    );
    assert_eq!(got[2], "Successfully patched 0 of 2 users");
    app.stop();
}

#[tokio::test]
async fn patch_user_refuses_missing_ids_readonly_callers_and_sponsors_that_are_not_users() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (status, body) = call(
        &app,
        "editor",
        "PatchUser",
        json!([{"tenantFilter": domain, "city": "X"}]),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        lines(&body),
        ["Failed to patch user(s). Some users are missing id or tenantFilter"]
    );
    let (status, _) = call(
        &app,
        "readonly",
        "PatchUser",
        json!([{"id": "x@y", "tenantFilter": domain}]),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &app,
        "editor",
        "PatchUser",
        json!({"id": "x@y", "tenantFilter": domain, "sponsor": "not a user"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["Results"].as_str().unwrap().contains("sponsor"),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn edit_user_aliases_adds_makes_primary_and_removes_addresses_read_back_from_the_directory() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = cloud_and_synced(&app, &domain).await.0[0].clone();
    let id = s(&user, "id");
    let upn = s(&user, "userPrincipalName");
    let (a1, a2) = (format!("alias.one@{domain}"), format!("alias.two@{domain}"));

    let (status, body) = call(
        &app,
        "editor",
        "EditUserAliases",
        json!({"tenantFilter": domain, "id": id, "AddedAliases": format!("{a1}, {a2}")}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(lines(&body), ["Success. Added new aliases to user."]);
    let stored = app.sim_user(&tenant.customer_id, &id).await;
    let proxies: Vec<String> = serde_json::from_value(stored["proxyAddresses"].clone()).unwrap();
    assert!(proxies.contains(&format!("smtp:{a1}")), "{proxies:?}");
    assert!(proxies.contains(&format!("smtp:{a2}")), "{proxies:?}");

    let (status, body) = call(
        &app,
        "editor",
        "EditUserAliases",
        json!({"tenantFilter": domain, "id": id, "MakePrimary": a1, "RemovedAliases": a2}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body),
        [
            "Success. Set new primary address.",
            "Success. Removed specified aliases from user."
        ]
    );
    let stored = app.sim_user(&tenant.customer_id, &id).await;
    let proxies: Vec<String> = serde_json::from_value(stored["proxyAddresses"].clone()).unwrap();
    assert_eq!(proxies[0], format!("SMTP:{a1}"));
    assert!(
        !proxies
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&format!("smtp:{a2}")))
    );
    assert!(
        proxies
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&format!("smtp:{upn}")))
    );
    assert_eq!(stored["mail"], json!(a1));
    app.stop();
}

#[tokio::test]
async fn edit_user_aliases_answers_missing_ids_no_changes_and_unknown_users_as_cipp_words_them() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (status, body) = call(
        &app,
        "editor",
        "EditUserAliases",
        json!({"tenantFilter": domain}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        lines(&body),
        ["Failed to manage aliases. No user ID provided"]
    );
    let (status, body) = call(
        &app,
        "editor",
        "EditUserAliases",
        json!({"tenantFilter": domain, "id": "a@b"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(lines(&body), ["No alias changes specified."]);
    let (status, body) = call(
        &app,
        "editor",
        "EditUserAliases",
        json!({"tenantFilter": domain, "id": format!("nobody@{domain}"), "AddedAliases": format!("x@{domain}")}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        lines(&body)[0].starts_with("Failed to manage aliases: "),
        "{body}"
    );
    let (status, body) = call(
        &app,
        "editor",
        "EditUserAliases",
        json!({"tenantFilter": domain, "id": "a@b", "AddedAliases": "x@y,,z@y"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["Results"].as_str().unwrap().contains("AddedAliases"));
    let (status, _) = call(
        &app,
        "readonly",
        "EditUserAliases",
        json!({"tenantFilter": domain, "id": "a@b"}),
    )
    .await;
    assert_eq!(status, 403);
    app.stop();
}

#[tokio::test]
async fn edit_user_edits_properties_licences_groups_and_manager_and_all_are_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let (cloud, _) = cloud_and_synced(&app, &domain).await;
    let (user, manager) = (cloud[0].clone(), cloud[2].clone());
    let id = s(&user, "id");
    let upn = s(&user, "userPrincipalName");
    let (local, upn_domain) = upn.split_once('@').unwrap();

    let groups = all_groups(&app, &domain).await;
    let mine = user_groups(&app, &domain, &id).await;
    let is_member = |gid: &str| mine.iter().any(|g| g["id"] == gid);
    let graph_group = |g: &&Value| {
        g["mailEnabled"] == false && g["onPremisesSyncEnabled"] != true
            || g["groupTypes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "Unified")
    };
    let to_add = groups
        .iter()
        .filter(graph_group)
        .find(|g| !is_member(g["id"].as_str().unwrap()))
        .expect("a Graph group the user is not in")
        .clone();
    let to_remove = groups
        .iter()
        .filter(graph_group)
        .find(|g| is_member(g["id"].as_str().unwrap()))
        .expect("a Graph group the user is in")
        .clone();
    let new_sku = "f245ecc8-75af-4f8e-b61f-27d8114de5f3";

    let (status, body) = call(
        &app,
        "editor",
        "EditUser",
        json!({
            "tenantFilter": domain, "id": id, "username": local,
            "primDomain": {"label": upn_domain, "value": upn_domain},
            "displayName": "Edited Name", "jobTitle": "Edited Title", "department": "",
            "usageLocation": "NO", "clearProperties": ["department"],
            "licenses": [{"label": ["Business Standard"], "value": new_sku}],
            "AddToGroups": [{"label": to_add["displayName"], "value": to_add["id"], "addedFields": {}}],
            "RemoveFromGroups": [{"label": to_remove["displayName"], "value": to_remove["id"], "addedFields": {}}],
            "setManager": {"label": "m", "value": s(&manager, "userPrincipalName")}
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body),
        [
            "Success. The user has been edited.".to_owned(),
            format!(
                "Successfully set licenses for {upn}. It may take 2\u{2013}5 minutes before the changes become visible."
            ),
            format!(
                "Success. Edited Name has been added to {}",
                to_add["displayName"].as_str().unwrap()
            ),
            format!(
                "Success. Edited Name has been removed from {}",
                to_remove["displayName"].as_str().unwrap()
            ),
            format!(
                "Set {upn}'s manager to {}",
                s(&manager, "userPrincipalName")
            ),
        ]
    );
    let token = app.token("readonly").await;
    let read: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={domain}&UserID={id}"),
            &token,
        )
        .await;
    assert_eq!(read[0]["displayName"], "Edited Name");
    assert_eq!(read[0]["jobTitle"], "Edited Title");
    assert_eq!(read[0]["department"], Value::Null);
    let stored = app.sim_user(&tenant.customer_id, &id).await;
    assert_eq!(
        stored["assignedLicenses"],
        json!([{"disabledPlans": [], "skuId": new_sku}])
    );
    assert_eq!(stored["managerId"], manager["id"]);
    let after = user_groups(&app, &domain, &id).await;
    assert!(after.iter().any(|g| g["id"] == to_add["id"]));
    assert!(!after.iter().any(|g| g["id"] == to_remove["id"]));
    app.stop();
}

#[tokio::test]
async fn edit_user_on_a_synced_user_reports_cipps_failure_with_an_error_status() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (_, synced) = cloud_and_synced(&app, &domain).await;
    let user = &synced[0];
    let upn = s(user, "userPrincipalName");
    let (local, upn_domain) = upn.split_once('@').unwrap();
    let (status, body) = call(
        &app,
        "editor",
        "EditUser",
        json!({"tenantFilter": domain, "id": s(user, "id"), "username": local,
               "Domain": upn_domain, "jobTitle": "Not Allowed"}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        lines(&body),
        [
            "Failed to edit user. Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
        ]
    );
    app.stop();
}

#[tokio::test]
async fn edit_user_refuses_missing_ids_sherweb_licences_unknown_users_and_readonly_callers() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (status, body) = call(&app, "editor", "EditUser", json!({"tenantFilter": domain})).await;
    assert_eq!(status, 400);
    assert_eq!(lines(&body), ["Failed to edit user. No user ID provided"]);
    let base = json!({"tenantFilter": domain, "id": "a@b", "username": "a", "Domain": domain});
    for (field, value) in [
        ("sherwebLicense", json!({"label": "x", "value": "sku"})),
        ("Scheduled", json!({"enabled": true})),
    ] {
        let mut b = base.clone();
        b[field] = value;
        let (status, body) = call(&app, "editor", "EditUser", b).await;
        assert_eq!(status, 400, "{field}: {body}");
        assert!(body["Results"].as_str().unwrap().contains(field), "{body}");
    }
    let mut b = base.clone();
    b["username"] = Value::Null;
    let (status, body) = call(&app, "editor", "EditUser", b).await;
    assert_eq!(status, 400);
    assert!(body["Results"].as_str().unwrap().contains("username"));

    let nobody = format!("nobody@{domain}");
    let (status, body) = call(
        &app,
        "editor",
        "EditUser",
        json!({"tenantFilter": domain, "id": nobody, "username": "nobody", "Domain": domain}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        lines(&body)[0].starts_with("Failed to edit user. "),
        "{body}"
    );
    let (status, _) = call(&app, "readonly", "EditUser", base).await;
    assert_eq!(status, 403);
    app.stop();
}

#[tokio::test]
async fn edit_user_gives_the_new_password_to_the_caller_and_keeps_it_out_of_the_audit_row() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = cloud_and_synced(&app, &domain).await.0[0].clone();
    let upn = s(&user, "userPrincipalName");
    let (local, upn_domain) = upn.split_once('@').unwrap();
    let password = "Edited-Secret-4821";
    let token = app.token("editor").await;
    let response = app
        .post(
            "/api/EditUser",
            Some(&token),
            json!({"tenantFilter": domain, "id": s(&user, "id"), "username": local,
                   "Domain": upn_domain, "password": password, "MustChangePass": "true"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let correlation = crate::helpers::correlation_id(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        lines(&body),
        [
            "Success. The user has been edited.".to_owned(),
            format!("Success. The password has been set to {password}"),
        ]
    );
    let stored = app.sim_user(&tenant.customer_id, &s(&user, "id")).await;
    assert_eq!(
        stored["passwordProfile"]["forceChangePasswordNextSignIn"],
        true
    );
    let superadmin = app.token("superadmin").await;
    let logs: Vec<Value> = app
        .get_json(
            "/api/ListLogs?Filter=true&Severity=Info,Warning,Error,Debug",
            &superadmin,
        )
        .await;
    let rows: Vec<&Value> = logs
        .iter()
        .filter(|r| r["LogData"]["CorrelationId"] == correlation.as_str())
        .collect();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].to_string().contains(password), "{}", rows[0]);
    assert_eq!(
        rows[0]["Message"],
        "Success. The user has been edited. Success. The password has been set"
    );
    app.stop();
}
