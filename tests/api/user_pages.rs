//! The user pages end to end: each page's calls replayed as the CIPP frontend (10.9) sends them
//! (verb, parameter names and spelling, `{label, value}` objects) against demo mode, each answer
//! checked for the fields the page reads. The README's "User pages and their calls" lists the
//! same calls; the tier-2 reads other engineers build (ListGroups, ListLicenses, ListMailboxes,
//! ListCSPsku, ListCustomDataMappings, ListExtensionsConfig, ListGraphBulkRequest,
//! ListGraphExplorerPresets) are not replayed here.

use crate::helpers::{TestApp, spawn_app};
use serde_json::{Value, json};

/// Sends one call as the frontend does: GET with a query, POST with a JSON body.
async fn call(app: &TestApp, token: &str, verb: &str, path: &str, body: Value) -> (u16, Value) {
    let response = if verb == "GET" {
        app.get(path, Some(token)).await
    } else {
        app.post(path, Some(token), body).await
    };
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A successful call whose answer has every named field (a `/`-separated path into it).
async fn reads(
    app: &TestApp,
    token: &str,
    verb: &str,
    path: &str,
    body: Value,
    fields: &[&str],
) -> Value {
    let (status, answer) = call(app, token, verb, path, body).await;
    assert_eq!(status, 200, "{verb} {path}: {answer}");
    for field in fields {
        let mut at = &answer;
        for part in field.split('/') {
            at = match part.parse::<usize>() {
                Ok(i) => &at[i],
                Err(_) => at.get(part).unwrap_or_else(|| {
                    panic!("{verb} {path}: no `{field}` (stopped at `{part}`) in {answer}")
                }),
            };
        }
    }
    answer
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `$select` of the users list (users/index.js), as sent.
const LIST_SELECT: &str = "id,accountEnabled,businessPhones,city,createdDateTime,companyName,country,department,displayName,faxNumber,givenName,isResourceAccount,jobTitle,mail,mailNickname,mobilePhone,officeLocation,otherMails,postalCode,preferredDataLocation,preferredLanguage,proxyAddresses,showInAddressList,state,streetAddress,surname,usageLocation,userPrincipalName,userType,assignedLicenses,licenseAssignmentStates,onPremisesSyncEnabled,OnPremisesImmutableId,onPremisesLastSyncDateTime,onPremisesDistinguishedName";

#[tokio::test]
async fn the_shell_knows_a_bearer_caller_and_its_account_menu_photo_is_never_a_400() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    // layouts/index.js and account-popover.js: /api/me, then the photo of `userDetails`.
    let me = reads(
        &app,
        &token,
        "GET",
        "/api/me",
        Value::Null,
        &[
            "clientPrincipal/userRoles",
            "clientPrincipal/userDetails",
            "clientPrincipal/identityProvider",
            "permissions",
        ],
    )
    .await;
    let roles = me["clientPrincipal"]["userRoles"].as_array().unwrap();
    assert!(roles.contains(&json!("editor")), "{me}");
    assert!(roles.contains(&json!("authenticated")), "{me}");
    let details = me["clientPrincipal"]["userDetails"].as_str().unwrap();
    let (status, body) = call(
        &app,
        &token,
        "GET",
        &format!("/api/ListUserPhoto?UserID={}", enc(details)),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["Results"], "No photo found for this user");
    // Every table's toolbar reads the report branding.
    reads(
        &app,
        &token,
        "GET",
        "/api/ListBrandingSettings",
        Value::Null,
        &["colour", "logo"],
    )
    .await;
    app.stop();
}

#[tokio::test]
async fn the_users_list_gets_every_property_it_selects() {
    let app = spawn_app().await;
    let domain = app.tenant(0).default_domain_name.clone();
    let token = app.token("readonly").await;
    let answer = reads(
        &app,
        &token,
        "GET",
        &format!(
            "/api/ListGraphRequest?Endpoint=users&manualPagination=true&$select={LIST_SELECT}&$count=true&$orderby=displayName&$top=999&tenantFilter={domain}"
        ),
        Value::Null,
        &["Results/0"],
    )
    .await;
    let rows = answer["Results"].as_array().unwrap();
    for row in rows {
        for field in LIST_SELECT.split(',') {
            // Graph answers the name as declared (`onPremisesImmutableId`), whatever the case sent.
            assert!(
                row.as_object()
                    .unwrap()
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case(field)),
                "{field} missing: {row}"
            );
        }
    }
    let licensed = rows
        .iter()
        .find(|r| !r["assignedLicenses"].as_array().unwrap().is_empty())
        .expect("a licensed user");
    assert_eq!(
        licensed["licenseAssignmentStates"][0]["skuId"],
        licensed["assignedLicenses"][0]["skuId"]
    );
    // A property Graph does not know is Graph's 400, passed on.
    let (status, body) = call(
        &app,
        &token,
        "GET",
        &format!(
            "/api/ListGraphRequest?Endpoint=users&$select=id,notAProperty&tenantFilter={domain}"
        ),
        Value::Null,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("Could not find a property named 'notAProperty'"),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn adding_users_one_at_a_time_and_in_bulk_works_from_the_add_pages() {
    let app = spawn_app().await;
    let domain = app.tenant(0).default_domain_name.clone();
    let editor = app.token("editor").await;
    // CippAddEditUser: defaults, domains and the user picker.
    let (status, defaults) = call(
        &app,
        &editor,
        "GET",
        &format!("/api/ListNewUserDefaults?TenantFilter={domain}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{defaults}");
    assert!(defaults.is_array(), "{defaults}");
    reads(
        &app,
        &editor,
        "GET",
        &format!(
            "/api/ListGraphRequest?Endpoint=domains&$count=true&$top=99&tenantFilter={domain}"
        ),
        Value::Null,
        &["Results/0/id", "Results/0/isDefault"],
    )
    .await;
    reads(
        &app,
        &editor,
        "GET",
        &format!("/api/ListGraphRequest?Endpoint=users&$select=id,userPrincipalName,displayName&$top=999&tenantFilter={domain}"),
        Value::Null,
        &["Results/0/id", "Results/0/userPrincipalName", "Results/0/displayName"],
    )
    .await;
    // add.jsx
    reads(
        &app,
        &editor,
        "POST",
        "/api/AddUser",
        json!({"tenantFilter": domain, "username": "page.added", "primDomain": {"label": domain, "value": domain},
               "givenName": "Page", "surname": "Added", "displayName": "Page Added",
               "usageLocation": {"label": "Netherlands", "value": "NL"}}),
        &["Results"],
    )
    .await;
    // bulk-add.js
    reads(
        &app,
        &editor,
        "POST",
        "/api/AddUserBulk",
        json!({"tenantFilter": domain, "BulkUser": [
            {"mailNickName": "page.bulk", "domain": domain, "displayName": "Page Bulk"}]}),
        &["Results"],
    )
    .await;
    let users = reads(
        &app,
        &editor,
        "GET",
        &format!("/api/ListGraphRequest?Endpoint=users&$select=id,userPrincipalName&$top=999&tenantFilter={domain}"),
        Value::Null,
        &["Results"],
    )
    .await;
    for upn in [
        format!("page.added@{domain}"),
        format!("page.bulk@{domain}"),
    ] {
        assert!(
            users["Results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["userPrincipalName"] == upn),
            "{upn} not created"
        );
    }
    app.stop();
}

/// A licensed member of `domain`: (id, UPN).
async fn member(app: &TestApp, token: &str, domain: &str) -> (String, String) {
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), token)
        .await;
    let user = users
        .iter()
        .filter(|u| {
            u["userType"] == "Member" && !u["assignedLicenses"].as_array().unwrap().is_empty()
        })
        .nth(2)
        .unwrap();
    (
        user["id"].as_str().unwrap().to_owned(),
        user["userPrincipalName"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_edit_page_reads_the_user_and_saves_it() {
    let app = spawn_app().await;
    let domain = app.tenant(0).default_domain_name.clone();
    let editor = app.token("editor").await;
    let (id, upn) = member(&app, &editor, &domain).await;
    // user/edit.jsx and CippAddEditUser
    let user = reads(
        &app,
        &editor,
        "GET",
        &format!("/api/ListUsers?UserId={id}&tenantFilter={domain}"),
        Value::Null,
        &[
            "0/id",
            "0/givenName",
            "0/surname",
            "0/displayName",
            "0/userPrincipalName",
            "0/usageLocation",
            "0/jobTitle",
            "0/assignedLicenses",
            "0/otherMails",
        ],
    )
    .await;
    reads(
        &app,
        &editor,
        "GET",
        &format!("/api/ListUserGroups?userId={id}&tenantFilter={domain}"),
        Value::Null,
        &[],
    )
    .await;
    let (local, upn_domain) = upn.split_once('@').unwrap();
    reads(
        &app,
        &editor,
        "POST",
        "/api/EditUser",
        json!({"tenantFilter": domain, "id": id, "username": local, "Domain": upn_domain,
               "givenName": user[0]["givenName"], "surname": user[0]["surname"],
               "displayName": user[0]["displayName"], "jobTitle": "Edited From The Page"}),
        &["Results"],
    )
    .await;
    let after = reads(
        &app,
        &editor,
        "GET",
        &format!("/api/ListUsers?UserId={id}&tenantFilter={domain}"),
        Value::Null,
        &["0/jobTitle"],
    )
    .await;
    assert_eq!(after[0]["jobTitle"], "Edited From The Page");
    app.stop();
}

#[tokio::test]
async fn the_user_view_and_its_tabs_get_what_they_read() {
    let app = spawn_app().await;
    let domain = app.tenant(0).default_domain_name.clone();
    let token = app.token("readonly").await;
    let (id, upn) = member(&app, &token, &domain).await;
    // user/index.jsx
    reads(
        &app,
        &token,
        "GET",
        &format!("/api/ListUsers?UserId={id}&tenantFilter={domain}"),
        Value::Null,
        &[
            "0/id",
            "0/userPrincipalName",
            "0/LicJoined",
            "0/accountEnabled",
        ],
    )
    .await;
    reads(
        &app,
        &token,
        "GET",
        &format!("/api/ListUserSigninLogs?UserId={id}&tenantFilter={domain}&top=50"),
        Value::Null,
        &[],
    )
    .await;
    // CippUserInfoCard's photo: the photo or CIPP's 404, never a 400.
    let (status, _) = call(
        &app,
        &token,
        "GET",
        &format!("/api/ListUserPhoto?TenantFilter={domain}&UserId={id}&t=1"),
        Value::Null,
    )
    .await;
    assert!(status == 200 || status == 404, "{status}");

    // user/exchange.jsx
    reads(
        &app,
        &token,
        "GET",
        &format!("/api/ListUserMailboxDetails?UserId={id}&tenantFilter={domain}&userMail={upn}"),
        Value::Null,
        &["0/Mailbox", "0/Permissions"],
    )
    .await;
    let access = reads(
        &app,
        &token,
        "GET",
        &format!(
            "/api/ListMailboxPermissions?tenantFilter={domain}&UseReportDB=true&ByUser=true&User={}",
            enc(&upn)
        ),
        Value::Null,
        &[],
    )
    .await;
    assert!(access.is_array(), "{access}");
    for (path, fields) in [
        (
            format!("/api/ListOoO?UserId={id}&tenantFilter={domain}"),
            vec!["AutoReplyState"],
        ),
        (
            format!("/api/ListCalendarPermissions?UserId={id}&tenantFilter={domain}"),
            vec!["0/User", "0/AccessRights", "0/FolderName"],
        ),
        (
            format!("/api/ListContactPermissions?UserId={id}&tenantFilter={domain}"),
            vec!["0/User", "0/AccessRights", "0/FolderName"],
        ),
        (
            format!("/api/ListUserMailboxRules?UserId={id}&tenantFilter={domain}"),
            vec![],
        ),
        (
            format!(
                "/api/ListUserTrustedBlockedSenders?UserId={id}&userPrincipalName={upn}&tenantFilter={domain}"
            ),
            vec![],
        ),
        (
            format!(
                "/api/ListGraphRequest?Endpoint=users&tenantFilter={domain}&$select=id,displayName,userPrincipalName,mail&$top=999"
            ),
            vec!["Results/0/mail"],
        ),
        (
            format!(
                "/api/ListGraphRequest?Endpoint=groups&tenantFilter={domain}&$filter={}&$select=id,displayName,mail,description&$top=999",
                enc("securityEnabled eq true and mailEnabled eq true")
            ),
            vec!["Results"],
        ),
        // CippExchangeSettingsForm's forwarding targets.
        (
            format!(
                "/api/ListGraphRequest?Endpoint=contacts&tenantFilter={domain}&$select=displayName,mail,mailNickname&$top=999"
            ),
            vec![
                "Results/0/displayName",
                "Results/0/mail",
                "Results/0/mailNickname",
            ],
        ),
    ] {
        reads(&app, &token, "GET", &path, Value::Null, &fields).await;
    }

    // A contact property Graph does not know is Graph's 400, passed on.
    let (status, body) = call(
        &app,
        &token,
        "GET",
        &format!("/api/ListGraphRequest?Endpoint=contacts&tenantFilter={domain}&$select=displayName,notAProperty"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("on type 'microsoft.graph.orgContact'"),
        "{body}"
    );

    // user/conditional-access.jsx: the application picker, then the check.
    let apps = reads(
        &app,
        &token,
        "GET",
        &format!("/api/ListGraphRequest?Endpoint=ServicePrincipals&manualPagination=true&$select=id,displayName&$count=true&$orderby=displayName&$top=999&tenantFilter={domain}"),
        Value::Null,
        &["Results/0/id", "Results/0/displayName"],
    )
    .await;
    let sp = &apps["Results"][0];
    reads(
        &app,
        &token,
        "POST",
        "/api/ExecCACheck",
        json!({"userId": {"value": id}, "tenantFilter": domain,
               "includeApplications": {"label": sp["displayName"], "value": sp["id"]}}),
        &["Results/value"],
    )
    .await;

    // CippUserActions' TAP form reads the tenant's policy first.
    reads(
        &app,
        &token,
        "GET",
        &format!("/api/ListGraphRequest?Endpoint={}&tenantFilter={domain}", enc("policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass")),
        Value::Null,
        &["Results/0/state", "Results/0/isUsableOnce", "Results/0/maximumLifetimeInMinutes"],
    )
    .await;
    app.stop();
}
