//! The user detail reads (counts, groups, devices, sign-ins, deleted items, photo, Conditional
//! Access what-if, per-user MFA) against the simulator's seeded directory.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

/// A small seeded tenant: not the custom role's (tenant 0), and quick to list.
fn small(app: &TestApp) -> cipp_sim::TenantInfo {
    app.tenant(1).clone()
}

async fn users_of(app: &TestApp, token: &str, domain: &str) -> Vec<Value> {
    app.get_json(&format!("/api/ListUsers?tenantFilter={domain}"), token)
        .await
}

fn admin_of(users: &[Value]) -> Value {
    users
        .iter()
        .find(|u| u["username"] == "admin")
        .expect("the seeded admin")
        .clone()
}

async fn call(app: &TestApp, token: &str, path_and_query: &str) -> (u16, Value) {
    let response = app.get(path_and_query, Some(token)).await;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

const NOBODY: &str = "00000000-0000-4000-8000-000000000000";

#[tokio::test]
async fn list_user_counts_counts_users_licensed_users_admins_and_guests() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let users = users_of(&app, &token, &tenant.default_domain_name).await;
    let (status, counts) = call(
        &app,
        &token,
        &format!(
            "/api/ListUserCounts?TenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts["Users"], json!(users.len()));
    let licensed = users
        .iter()
        .filter(|u| !u["assignedLicenses"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(counts["LicUsers"], json!(licensed));
    let guests = users.iter().filter(|u| u["userType"] == "Guest").count();
    assert_eq!(counts["Guests"], json!(guests));
    assert!(counts["Gas"].as_u64().unwrap() >= 1, "{counts}");
    app.stop();
}

#[tokio::test]
async fn list_user_counts_for_all_tenants_says_not_supported_as_cipp_does() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let (status, counts) = call(&app, &token, "/api/ListUserCounts?tenantFilter=AllTenants").await;
    assert_eq!(status, 200);
    assert_eq!(
        counts,
        json!({"Users": "Not Supported", "LicUsers": "Not Supported", "Gas": "Not Supported", "Guests": "Not Supported"})
    );
    app.stop();
}

#[tokio::test]
async fn a_failed_count_is_a_500_naming_it_and_the_custom_role_is_kept_to_its_tenant() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let custom = app.token("custom").await;
    let (status, body) = call(
        &app,
        &custom,
        &format!(
            "/api/ListUserCounts?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(results(&body), "Access to this tenant is not allowed");
    let own = app.tenant(0).clone();
    app.add_fault(json!({"path": "/beta/directoryRoles", "status": 403}))
        .await;
    let (status, body) = call(
        &app,
        &custom,
        &format!(
            "/api/ListUserCounts?tenantFilter={}",
            own.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        results(&body).starts_with("Failed to retrieve counts for: GAs"),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn list_user_groups_classifies_the_users_groups_as_cipp_does() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let admin = admin_of(&users_of(&app, &token, &tenant.default_domain_name).await);
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListUserGroups?tenantFilter={}&userId={}",
            tenant.default_domain_name,
            admin["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let groups = body.as_array().unwrap();
    let names: Vec<&str> = groups
        .iter()
        .map(|g| g["DisplayName"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "ordered by displayName");
    let find = |name: &str| groups.iter().find(|g| g["DisplayName"] == name).unwrap();
    assert_eq!(find("All Company")["calculatedGroupType"], "m365");
    assert_eq!(find("All Company")["groupType"], "Microsoft 365");
    assert_eq!(find("All Company")["GroupTypes"], "Unified");
    assert_eq!(find("IT Admins")["calculatedGroupType"], "generic");
    assert_eq!(find("IT Admins")["IsAssignableToRole"], true);
    assert_eq!(
        find("Executives Secure")["groupType"],
        "Mail-Enabled Security"
    );
    for group in groups {
        for key in [
            "id",
            "Mail",
            "MailEnabled",
            "SecurityGroup",
            "OnPremisesSync",
        ] {
            assert!(group.get(key).is_some(), "{key} in {group}");
        }
    }
    assert!(
        !names.contains(&"Global Administrator"),
        "roles are not groups"
    );
    app.stop();
}

#[tokio::test]
async fn list_user_groups_needs_a_user_id_and_a_known_user() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListUserGroups?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(results(&body), "userId is required");
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListUserGroups?tenantFilter={}&userId={NOBODY}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(results(&body).contains("does not exist"), "{body}");
    let custom = app.token("custom").await;
    let (status, _) = call(
        &app,
        &custom,
        &format!(
            "/api/ListUserGroups?tenantFilter={}&userId={NOBODY}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403);
    app.stop();
}

#[tokio::test]
async fn list_user_devices_returns_owned_devices_with_their_intune_ids() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let users = users_of(&app, &token, &tenant.default_domain_name).await;
    let mut seen = 0;
    let mut with_intune = 0;
    for user in users.iter().filter(|u| u["userType"] == "Member").take(8) {
        let (status, body) = call(
            &app,
            &token,
            &format!(
                "/api/ListUserDevices?tenantFilter={}&UserID={}",
                tenant.default_domain_name,
                user["id"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        for device in body.as_array().unwrap() {
            seen += 1;
            assert!(device["ID"].is_string());
            assert!(device["onPremisesSyncEnabled"].is_boolean());
            let created = device["createdDateTime"].as_str().unwrap();
            assert!(
                created.starts_with("\r\n") && created.contains(", 20"),
                "PowerShell date text: {created:?}"
            );
            if device["EPMID"].is_string() {
                with_intune += 1;
                assert_eq!(device["managementType"], "MDM");
            }
        }
    }
    assert!(seen > 0, "seeded users own devices");
    assert!(with_intune > 0, "some are Intune-managed");
    app.stop();
}

#[tokio::test]
async fn list_user_devices_needs_a_user_id_and_a_known_user() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let base = format!(
        "/api/ListUserDevices?tenantFilter={}",
        tenant.default_domain_name
    );
    let (status, body) = call(&app, &token, &base).await;
    assert_eq!(status, 400);
    assert_eq!(results(&body), "UserID is required");
    let (status, body) = call(&app, &token, &format!("{base}&UserID={NOBODY}")).await;
    assert_eq!(status, 404, "{body}");
    assert!(results(&body).contains(NOBODY), "{body}");
    let custom = app.token("custom").await;
    let (status, _) = call(&app, &custom, &format!("{base}&UserID={NOBODY}")).await;
    assert_eq!(status, 403);
    app.stop();
}

#[tokio::test]
async fn list_user_signin_logs_returns_the_users_sign_ins_newest_first() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let users = users_of(&app, &token, &tenant.default_domain_name).await;
    let mut failures = 0;
    for user in users.iter().take(6) {
        let id = user["id"].as_str().unwrap();
        let (status, body) = call(
            &app,
            &token,
            &format!(
                "/api/ListUserSigninLogs?tenantFilter={}&UserID={id}",
                tenant.default_domain_name
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let records = body.as_array().unwrap();
        assert!(!records.is_empty(), "every seeded user has signed in");
        assert!(records.iter().all(|r| r["userId"] == id));
        let times: Vec<&str> = records
            .iter()
            .map(|r| r["createdDateTime"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
        for record in records {
            assert!(record["status"]["errorCode"].is_number(), "{record}");
            assert!(record["location"]["countryOrRegion"].is_string());
        }
        failures += records
            .iter()
            .filter(|r| r["status"]["errorCode"] != 0)
            .count();
    }
    assert!(failures > 0, "some sign-ins failed");
    let admin = admin_of(&users);
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListUserSigninLogs?tenantFilter={}&UserID={}&top=1",
            tenant.default_domain_name,
            admin["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 1);
    app.stop();
}

#[tokio::test]
async fn list_user_signin_logs_refuses_bad_input_reports_unknown_users_and_failures() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let base = format!(
        "/api/ListUserSigninLogs?tenantFilter={}",
        tenant.default_domain_name
    );
    let (status, body) = call(&app, &token, &base).await;
    assert_eq!(status, 400);
    assert_eq!(results(&body), "UserID is required");
    let (status, body) = call(&app, &token, &format!("{base}&UserID={NOBODY}&top=lots")).await;
    assert_eq!(status, 400);
    assert!(results(&body).contains("top"), "{body}");
    let (status, body) = call(&app, &token, &format!("{base}&UserID={NOBODY}")).await;
    assert_eq!(status, 404, "{body}");
    assert!(results(&body).contains("does not exist"), "{body}");
    app.add_fault(json!({"path": "/beta/auditLogs/signIns", "status": 403}))
        .await;
    let (status, body) = call(&app, &token, &format!("{base}&UserID={NOBODY}")).await;
    assert_eq!(status, 500);
    assert!(
        results(&body).starts_with(&format!(
            "Failed to retrieve Sign In report for user {NOBODY} : Error: "
        )),
        "{body}"
    );
    let custom = app.token("custom").await;
    let (status, _) = call(&app, &custom, &format!("{base}&UserID={NOBODY}")).await;
    assert_eq!(status, 403);
    app.stop();
}

#[tokio::test]
async fn list_deleted_items_lists_the_recycle_bin_with_target_types() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListDeletedItems?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let items = body.as_array().unwrap();
    let users: Vec<&Value> = items.iter().filter(|i| i["TargetType"] == "User").collect();
    assert!(users.len() >= 2, "{body}");
    assert!(users.iter().all(|u| u["deletedDateTime"].is_string()));
    assert!(items.iter().any(|i| i["TargetType"] == "Group"), "{body}");
    let first_group = items
        .iter()
        .position(|i| i["TargetType"] == "Group")
        .unwrap();
    let last_user = items
        .iter()
        .rposition(|i| i["TargetType"] == "User")
        .unwrap();
    assert!(
        last_user < first_group,
        "users come before groups, as in CIPP"
    );
    app.stop();
}

#[tokio::test]
async fn a_failed_deleted_items_read_is_a_500_and_never_a_shorter_list() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    app.add_fault(
        json!({"path": "/beta/directory/deletedItems/microsoft.graph.user", "status": 403}),
    )
    .await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListDeletedItems?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        results(&body).starts_with("Failed to retrieve deleted items: user"),
        "{body}"
    );
    // Tenant.Directory.Read is not among the custom role's permissions.
    let custom = app.token("custom").await;
    let (status, _) = call(
        &app,
        &custom,
        &format!(
            "/api/ListDeletedItems?tenantFilter={}",
            app.tenant(0).default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403);
    app.stop();
}

#[tokio::test]
async fn list_user_photo_answers_image_bytes_or_404_when_there_is_none() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let users = users_of(&app, &token, &tenant.default_domain_name).await;
    let (mut photos, mut missing) = (0, 0);
    for user in users.iter().take(12) {
        let response = app
            .get(
                &format!(
                    "/api/ListUserPhoto?TenantFilter={}&UserId={}&t=1",
                    tenant.default_domain_name,
                    user["id"].as_str().unwrap()
                ),
                Some(&token),
            )
            .await;
        match response.status().as_u16() {
            200 => {
                let content_type = response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                assert!(content_type.starts_with("image/"), "{content_type}");
                let bytes = response.bytes().await.unwrap();
                assert_eq!(&bytes[..4], b"\x89PNG");
                photos += 1;
            }
            404 => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(results(&body), "No photo found for this user");
                missing += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        photos > 0 && missing > 0,
        "{photos} photos, {missing} without"
    );
    app.stop();
}

#[tokio::test]
async fn list_user_photo_checks_the_callers_tenants_and_its_input() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let custom = app.token("custom").await;
    let (status, body) = call(
        &app,
        &custom,
        &format!(
            "/api/ListUserPhoto?tenantFilter={}&UserID={NOBODY}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(results(&body), "Access to this tenant is not allowed");
    let own = app.tenant(0).clone();
    let (status, body) = call(
        &app,
        &custom,
        &format!(
            "/api/ListUserPhoto?tenantFilter={}&UserID={NOBODY}",
            own.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(results(&body).contains("does not exist"), "{body}");
    let (status, body) = call(
        &app,
        &custom,
        &format!(
            "/api/ListUserPhoto?tenantFilter={}",
            own.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(results(&body), "UserID is required");

    // Without tenantFilter, as the user page often asks: CIPP reads the partner's own tenant,
    // where a customer's user has no photo, so the answer is its 404, never a 400.
    let readonly = app.token("readonly").await;
    let user = users_of(&app, &readonly, &tenant.default_domain_name).await[0].clone();
    let id = user["id"].as_str().unwrap();
    app.reset_sim_stats().await;
    let (status, body) = call(&app, &readonly, &format!("/api/ListUserPhoto?UserID={id}")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(results(&body), "No photo found for this user");
    assert_eq!(
        app.sim_count("/photo/", None).await,
        1,
        "read in the partner tenant"
    );
    // A caller limited to some tenants gets the same answer without any read.
    let (status, _) = call(&app, &custom, &format!("/api/ListUserPhoto?UserID={id}")).await;
    assert_eq!(status, 404);
    assert_eq!(app.sim_count("/photo/", None).await, 1);
    app.stop();
}

#[tokio::test]
async fn list_user_conditional_access_policies_evaluates_the_tenants_policies_for_the_user() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let admin = admin_of(&users_of(&app, &token, &tenant.default_domain_name).await);
    let base = format!(
        "/api/ListUserConditionalAccessPolicies?tenantFilter={}",
        tenant.default_domain_name
    );
    let (status, body) = call(
        &app,
        &token,
        &format!("{base}&UserID={}", admin["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let results_list = body.as_array().unwrap();
    let admins = results_list
        .iter()
        .find(|p| p["displayName"] == "Require MFA for administrators")
        .unwrap();
    assert_eq!(admins["policyApplies"], true);
    let all_users = results_list
        .iter()
        .find(|p| p["displayName"] == "Require MFA for all users")
        .unwrap();
    assert_eq!(
        all_users["policyApplies"], false,
        "the admin is excluded by group"
    );
    let (status, body) = call(&app, &token, &format!("{base}&UserID={NOBODY}")).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = call(&app, &token, &base).await;
    assert_eq!(status, 400);
    app.stop();
}

#[tokio::test]
async fn list_per_user_mfa_reads_one_user_or_all_users() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let base = format!(
        "/api/ListPerUserMFA?tenantFilter={}",
        tenant.default_domain_name
    );
    let (status, body) = call(&app, &token, &format!("{base}&allUsers=true")).await;
    assert_eq!(status, 200, "{body}");
    let all = body.as_array().unwrap();
    assert_eq!(all.len(), tenant.user_count);
    let states: Vec<&str> = all
        .iter()
        .map(|u| u["perUserMfaState"].as_str().unwrap())
        .collect();
    assert!(
        states
            .iter()
            .all(|s| ["disabled", "enabled", "enforced"].contains(s))
    );
    assert!(states.contains(&"disabled") && states.iter().any(|s| *s != "disabled"));
    let one = &all[1];
    let upn = one["userPrincipalName"].as_str().unwrap();
    let (status, body) = call(&app, &token, &format!("{base}&userId={upn}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!([{"PerUserMFAState": one["perUserMfaState"], "UserPrincipalName": upn}])
    );
    let (status, body) = call(&app, &token, &base).await;
    assert_eq!(status, 400);
    assert_eq!(results(&body), "userId is required");
    let (status, body) = call(&app, &token, &format!("{base}&userId={NOBODY}")).await;
    assert_eq!(status, 404, "{body}");
    let custom = app.token("custom").await;
    let (status, _) = call(&app, &custom, &format!("{base}&allUsers=true")).await;
    assert_eq!(status, 403);
    app.stop();
}
