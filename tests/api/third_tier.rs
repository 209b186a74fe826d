//! The third tier: what the user pages call beyond tiers 1 and 2 (README "Third tier").
//! `ListmailboxPermissions` live and as the Exchange tab asks for it (the report by user),
//! `ExecCACheck` as the Conditional Access tab posts it, and `ListBrandingSettings` as every
//! table's toolbar reads it; each with its refusals and bad input.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

/// Two licensed cloud members of `domain`: (mailbox owner, trustee), as UPNs.
async fn two_users(app: &TestApp, domain: &str) -> (String, String) {
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &token)
        .await;
    let upns: Vec<String> = users
        .iter()
        .filter(|u| {
            u["userType"] == "Member" && !u["assignedLicenses"].as_array().unwrap().is_empty()
        })
        .map(|u| u["userPrincipalName"].as_str().unwrap().to_owned())
        .skip(3)
        .take(2)
        .collect();
    (upns[0].clone(), upns[1].clone())
}

async fn grant_all(app: &TestApp, domain: &str, owner: &str, trustee: &str) {
    let editor = app.token("editor").await;
    let answer = app
        .post(
            "/api/ExecModifyMBPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": [
                {"UserID": [{"label": "t", "value": trustee}], "PermissionLevel": "FullAccess",
                    "Modification": "Add", "AutoMap": false},
                {"UserID": [{"label": "t", "value": trustee}], "PermissionLevel": "SendAs", "Modification": "Add"},
                {"UserID": [{"label": "t", "value": trustee}], "PermissionLevel": "SendOnBehalf", "Modification": "Add"}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app.get(path, Some(token)).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_mailboxs_permissions_list_every_grant_made_on_it() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, trustee) = two_users(&app, &domain).await;
    let reader = app.token("readonly").await;
    let path = format!("/api/ListmailboxPermissions?tenantFilter={domain}&userId={owner}");

    let (status, before) = get(&app, &reader, &path).await;
    assert_eq!(status, 200, "{before}");
    assert!(!before.to_string().contains(&trustee), "{before}");

    grant_all(&app, &domain, &owner, &trustee).await;
    let (status, rows) = get(&app, &reader, &path).await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().unwrap().clone();
    let holds = |user: &str, rights: Value| {
        rows.iter().any(|r| {
            r["User"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                .contains(&user.to_lowercase())
                && r["Permissions"] == rights
        })
    };
    assert!(holds(&trustee, json!("FullAccess")), "{rows:?}");
    assert!(holds(&trustee, json!(["SendAs"])), "{rows:?}");
    let alias = trustee.split('@').next().unwrap();
    assert!(holds(alias, json!("SendOnBehalf")), "{rows:?}");
    // CIPP keeps the mailbox's own entry.
    assert!(
        holds("NT AUTHORITY\\SELF", json!("FullAccess, ReadPermission")),
        "{rows:?}"
    );
    app.stop();
}

#[tokio::test]
async fn the_exchange_tab_reads_which_mailboxes_a_user_can_open() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, trustee) = two_users(&app, &domain).await;
    grant_all(&app, &domain, &owner, &trustee).await;
    let reader = app.token("readonly").await;
    // As exchange.jsx asks: the report, by user, for the user shown.
    let (status, rows) = get(
        &app,
        &reader,
        &format!(
            "/api/ListMailboxPermissions?tenantFilter={domain}&UseReportDB=true&ByUser=true&User={}",
            trustee.replace('@', "%40")
        ),
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["User"], trustee);
    assert_eq!(row["MailboxCount"], 1);
    assert_eq!(row["Tenant"], domain);
    assert_eq!(row["UserMailboxType"], "UserMailbox");
    assert_eq!(row["Permissions"][0]["MailboxUPN"], owner);
    assert_eq!(row["Permissions"][0]["AccessRights"], "FullAccess");

    // By mailbox: the owner's mailbox lists the trustee, and SELF never shows.
    let (status, report) = get(
        &app,
        &reader,
        &format!("/api/ListmailboxPermissions?tenantFilter={domain}&UseReportDB=true"),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let mailbox = report
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["MailboxUPN"] == owner)
        .expect("the owner's mailbox in the report");
    assert_eq!(mailbox["Permissions"][0]["User"], trustee);
    assert!(!report.to_string().contains("NT AUTHORITY"), "{report}");
    app.stop();
}

#[tokio::test]
async fn mailbox_permissions_refuse_the_wrong_role_and_name_a_missing_mailbox() {
    let app = spawn_app().await;
    let domain = app.tenant(0).default_domain_name.clone();
    // The custom role holds Identity.User.* only, not Exchange.Mailbox.Read.
    let custom = app.token("custom").await;
    let (status, _) = get(
        &app,
        &custom,
        &format!("/api/ListmailboxPermissions?tenantFilter={domain}&userId=someone@{domain}"),
    )
    .await;
    assert_eq!(status, 403);

    let reader = app.token("readonly").await;
    let (status, body) = get(
        &app,
        &reader,
        &format!("/api/ListmailboxPermissions?tenantFilter={domain}"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(results(&body), "userId is required");

    let (status, body) = get(
        &app,
        &reader,
        &format!("/api/ListmailboxPermissions?tenantFilter={domain}&userId=not%20a%20user"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(results(&body).contains("userId"), "{body}");
    app.stop();
}

#[tokio::test]
async fn an_exchange_failure_reading_permissions_surfaces_with_its_status() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, _) = two_users(&app, &domain).await;
    app.add_fault(json!({"cmdlet": "Get-MailboxPermission", "status": 500}))
        .await;
    let reader = app.token("readonly").await;
    let (status, body) = get(
        &app,
        &reader,
        &format!("/api/ListmailboxPermissions?tenantFilter={domain}&userId={owner}"),
    )
    .await;
    assert!(status >= 500, "{status} {body}");
    assert!(!results(&body).is_empty(), "{body}");
    let (status, body) = get(
        &app,
        &reader,
        &format!("/api/ListmailboxPermissions?tenantFilter={domain}&UseReportDB=true&ByUser=true"),
    )
    .await;
    assert!(status >= 500, "{status} {body}");
    assert!(
        results(&body).starts_with("Failed to generate mailbox permission report: "),
        "{body}"
    );
    app.stop();
}

/// A user of `domain` as ListUsers answers it, by index.
async fn user_id(app: &TestApp, domain: &str) -> String {
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &token)
        .await;
    users[1]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_conditional_access_check_evaluates_the_tenants_policies_for_the_user() {
    let app = spawn_app().await;
    let domain = app.tenant(0).default_domain_name.clone();
    let id = user_id(&app, &domain).await;
    let reader = app.token("readonly").await;
    app.reset_sim_stats().await;
    // As conditional-access.jsx posts it.
    let response = app
        .post(
            "/api/ExecCACheck",
            Some(&reader),
            json!({
                "tenantFilter": domain,
                "userId": {"label": "A user", "value": id},
                "includeApplications": {"label": "Office 365", "value": "67ad5377-2d78-4ac2-a867-6300cda00e85"},
                "ClientAppType": {"label": "Browser", "value": "browser"},
                "DevicePlatform": {"label": "Windows", "value": "windows"},
                "IpAddress": "203.0.113.7",
            }),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let value = body["Results"]["value"].as_array().expect("Results.value");
    assert!(!value.is_empty(), "{body}");
    for row in value {
        for field in ["displayName", "state", "policyApplies", "analysisReasons"] {
            assert!(row.get(field).is_some(), "{field} missing: {row}");
        }
    }
    assert_eq!(
        app.sim_count("/beta/identity/conditionalAccess/evaluate", None)
            .await,
        1
    );

    // A user the tenant does not have: CIPP's text before Graph's.
    let response = app
        .post(
            "/api/ExecCACheck",
            Some(&reader),
            json!({"tenantFilter": domain, "userID": {"value": "00000000-0000-4000-8000-00000000dead"}}),
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert!(status >= 400, "{status} {body}");
    assert!(
        results(&body).starts_with("Failed to execute check: "),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn the_conditional_access_check_refuses_the_wrong_role_and_needs_a_user() {
    let app = spawn_app().await;
    let domain = app.tenant(0).default_domain_name.clone();
    let id = user_id(&app, &domain).await;
    let custom = app.token("custom").await;
    let response = app
        .post(
            "/api/ExecCACheck",
            Some(&custom),
            json!({"tenantFilter": domain, "userID": {"value": id}}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);

    let reader = app.token("readonly").await;
    let response = app
        .post(
            "/api/ExecCACheck",
            Some(&reader),
            json!({"tenantFilter": domain}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(results(&body).contains("userID"), "{body}");

    // A Graph failure keeps CIPP's text.
    app.add_fault(json!({"path": "/beta/identity/conditionalAccess/evaluate", "status": 503}))
        .await;
    let response = app
        .post(
            "/api/ExecCACheck",
            Some(&reader),
            json!({"tenantFilter": domain, "userID": {"value": id}}),
        )
        .await;
    assert!(response.status().as_u16() >= 500);
    let body: Value = response.json().await.unwrap();
    assert!(
        results(&body).starts_with("Failed to execute check: "),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn branding_is_cipps_default_for_every_table_and_a_bad_flag_is_named() {
    let app = spawn_app().await;
    let reader = app.token("readonly").await;
    for path in [
        "/api/ListBrandingSettings",
        "/api/ListBrandingSettings?includeGallery=true",
    ] {
        let (status, body) = get(&app, &reader, path).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["colour"], "#F77F00");
        assert_eq!(body["coverStock"], "/reportImages/soc.jpg");
        assert_eq!(body["logoUploads"], json!([]));
        assert_eq!(body["showFooter"], true);
        assert_eq!(body["reportDefaults"], json!({}));
    }
    let (status, body) = get(
        &app,
        &reader,
        "/api/ListBrandingSettings?includeGallery=sometimes",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(results(&body).contains("includeGallery"), "{body}");
    // Without a token there is no branding.
    let response = app.get("/api/ListBrandingSettings", None).await;
    assert_eq!(response.status().as_u16(), 401);
    app.stop();
}

async fn onedrive_owners(app: &TestApp, tenant: &str) -> Vec<String> {
    let body: Value = app
        .http
        .get(
            app.sim
                .join(&format!("_sim/sharepoint/{tenant}/sites"))
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["owner"].as_str().unwrap().to_lowercase())
        .collect()
}

#[tokio::test]
async fn provisioning_a_onedrive_creates_the_users_site() {
    let app = spawn_app().await;
    // The big tenant has licensed members whose OneDrive does not exist yet.
    let tenant = app.big_tenant().clone();
    let domain = tenant.default_domain_name.clone();
    let reader = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &reader)
        .await;
    let before = onedrive_owners(&app, &tenant.customer_id).await;
    let upn = users
        .iter()
        .filter(|u| {
            u["userType"] == "Member"
                && u["assignedLicenses"]
                    .as_array()
                    .unwrap()
                    .iter()
                    // Exchange Online (Plan 1) alone brings no OneDrive.
                    .any(|l| l["skuId"] != "4b9405b0-7788-4568-add1-99614e613b69")
        })
        .map(|u| u["userPrincipalName"].as_str().unwrap().to_owned())
        .find(|upn| !before.contains(&upn.to_lowercase()))
        .expect("a licensed member without a OneDrive");

    let editor = app.token("editor").await;
    let response = app
        .post(
            "/api/ExecOneDriveProvision",
            Some(&editor),
            json!({"tenantFilter": domain, "UserPrincipalName": upn}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Successfully requested personal site for {upn}")
    );
    let after = onedrive_owners(&app, &tenant.customer_id).await;
    assert!(after.contains(&upn.to_lowercase()), "no site for {upn}");
    assert_eq!(after.len(), before.len() + 1);

    // Wrong role, bad input.
    let response = app
        .post(
            "/api/ExecOneDriveProvision",
            Some(&reader),
            json!({"tenantFilter": domain, "UserPrincipalName": upn}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    let response = app
        .post(
            "/api/ExecOneDriveProvision",
            Some(&editor),
            json!({"tenantFilter": domain}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(results(&body).contains("UserPrincipalName"), "{body}");

    // SharePoint failing: CIPP's text.
    app.add_fault(json!({"path": "/_sp/", "method": "POST", "status": 503}))
        .await;
    let response = app
        .post(
            "/api/ExecOneDriveProvision",
            Some(&editor),
            json!({"tenantFilter": domain, "UserPrincipalName": upn}),
        )
        .await;
    assert!(response.status().as_u16() >= 500);
    let body: Value = response.json().await.unwrap();
    assert!(
        results(&body).starts_with(&format!(
            "Failed to request personal site for {upn}. Error: "
        )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn the_guest_list_shows_an_invited_guest_as_pending_and_refuses_what_it_cannot_do() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let editor = app.token("editor").await;
    let response = app
        .post(
            "/api/AddGuest",
            Some(&editor),
            json!({"tenantFilter": domain, "displayName": "Third Tier Guest",
                   "mail": "third.tier@partner.example", "sendInvite": true}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);

    let reader = app.token("readonly").await;
    // As guest-users/index.js asks.
    let (status, rows) = get(
        &app,
        &reader,
        &format!("/api/ListGuestUsers?tenantFilter={domain}"),
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().unwrap();
    let invited = rows
        .iter()
        .find(|r| r["mail"] == "third.tier@partner.example")
        .expect("the invited guest");
    assert_eq!(invited["status"], "Pending Acceptance", "{invited}");
    assert_eq!(invited["sourceDomain"], "partner.example");
    for field in [
        "id",
        "displayName",
        "userPrincipalName",
        "accountEnabled",
        "externalUserState",
        "createdDateTime",
        "lastSignInDateTime",
        "daysSinceSignIn",
        "sponsors",
    ] {
        assert!(invited.get(field).is_some(), "{field} missing: {invited}");
    }
    assert!(
        rows.iter().all(|r| [
            "Active",
            "Pending Acceptance",
            "Stale",
            "Never Signed In",
            "Disabled",
            "Unknown"
        ]
        .contains(&r["status"].as_str().unwrap())),
        "{rows:?}"
    );

    // The custom role may not see this tenant; no reporting database; a count that is none.
    let custom = app.token("custom").await;
    let (status, _) = get(
        &app,
        &custom,
        &format!("/api/ListGuestUsers?tenantFilter={domain}"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = get(
        &app,
        &reader,
        &format!("/api/ListGuestUsers?tenantFilter={domain}&UseReportDB=true"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(results(&body).contains("UseReportDB"), "{body}");
    let (status, body) = get(
        &app,
        &reader,
        &format!("/api/ListGuestUsers?tenantFilter={domain}&staleDays=soon"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(results(&body).contains("staleDays"), "{body}");

    // Graph failing: CIPP's text.
    app.add_fault(json!({"path": "/beta/users", "status": 503}))
        .await;
    let (status, body) = get(
        &app,
        &reader,
        &format!("/api/ListGuestUsers?tenantFilter={domain}"),
    )
    .await;
    assert!(status >= 500, "{status} {body}");
    assert!(
        results(&body).starts_with("Failed to list guest users: "),
        "{body}"
    );
    app.stop();
}
