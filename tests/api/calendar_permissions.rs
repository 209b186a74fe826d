//! The user page's calendar and contacts panels against the simulator: the lists, adding and
//! removing people (the off-canvas posts `permissions` as an object keyed "0"), the settings
//! form's single calendar edit, and the 400s.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

/// A folder's entries as `ListCalendarPermissions` or `ListContactPermissions` lists them.
async fn entries(app: &TestApp, list: &str, domain: &str, upn: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    app.get_json(
        &format!("/api/{list}?tenantFilter={domain}&UserID={upn}"),
        &token,
    )
    .await
}

async fn calendar(app: &TestApp, domain: &str, upn: &str) -> Vec<Value> {
    entries(app, "ListCalendarPermissions", domain, upn).await
}

async fn contacts(app: &TestApp, domain: &str, upn: &str) -> Vec<Value> {
    entries(app, "ListContactPermissions", domain, upn).await
}

/// Two licensed members: (mailbox owner UPN, trustee UPN, trustee display name).
async fn two_users(app: &TestApp, domain: &str) -> (String, String, String) {
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &token)
        .await;
    let mut members = users.into_iter().filter(|u| {
        u["userType"] == "Member" && !u["assignedLicenses"].as_array().unwrap().is_empty()
    });
    let owner = members.next().unwrap();
    let trustee = members.next().unwrap();
    (
        owner["userPrincipalName"].as_str().unwrap().to_owned(),
        trustee["userPrincipalName"].as_str().unwrap().to_owned(),
        trustee["displayName"].as_str().unwrap().to_owned(),
    )
}

fn rights_of<'r>(rows: &'r [Value], who: &str) -> Option<&'r Value> {
    rows.iter()
        .find(|r| r["User"] == who)
        .map(|r| &r["AccessRights"])
}

#[tokio::test]
async fn a_person_added_to_a_calendar_is_listed_with_the_rights_and_is_gone_after_removal() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, trustee, display) = two_users(&app, &domain).await;
    let before = calendar(&app, &domain, &owner).await;
    assert_eq!(
        rights_of(&before, "Default"),
        Some(&json!(["AvailabilityOnly"]))
    );
    assert!(
        before
            .iter()
            .all(|r| r["FolderName"] == "Calendar" && r["MailboxInfo"].is_object())
    );

    let editor = app.token("editor").await;
    let answer = app
        .post(
            "/api/ExecModifyCalPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": [{
                "UserID": [{"label": display, "value": trustee}],
                "PermissionLevel": {"label": "Reviewer", "value": "Reviewer"},
                "FolderName": "Calendar", "Modification": "Add", "CanViewPrivateItems": true}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["Results"][0],
        format!(
            "Successfully set permissions on folder {owner}:\\Calendar. The user {trustee} now has Reviewer permissions on this folder. The user can also view private items."
        )
    );
    assert_eq!(
        rights_of(&calendar(&app, &domain, &owner).await, &display),
        Some(&json!(["Reviewer"]))
    );

    // The settings form's single edit changes the same entry.
    let answer = app
        .post(
            "/api/ExecEditCalendarPermissions",
            Some(&editor),
            json!({"tenantFilter": domain, "userid": owner, "UserToGetPermissions": trustee,
                "Permissions": "Editor", "FolderName": "Calendar"}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(
        rights_of(&calendar(&app, &domain, &owner).await, &display),
        Some(&json!(["Editor"]))
    );

    // The off-canvas removes by the listed name, with `permissions` keyed "0".
    let answer = app
        .post(
            "/api/ExecModifyCalPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": {"0": {
                "UserID": display, "PermissionLevel": "Editor", "FolderName": "Calendar",
                "Modification": "Remove"}}}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["Results"][0],
        format!("Successfully removed access for {display} from calendar {owner}:\\Calendar")
    );
    assert_eq!(
        rights_of(&calendar(&app, &domain, &owner).await, &display),
        None
    );

    // Removing again: Exchange finds no entry, and the answer says so with its status.
    let answer = app
        .post(
            "/api/ExecModifyCalPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": [{
                "UserID": display, "Modification": "Remove"}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 404);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["Results"][0].as_str().unwrap().starts_with(&format!(
            "Failed to set calendar permissions for {display} on {owner} : "
        )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn a_calendar_change_without_what_it_needs_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, trustee, _) = two_users(&app, &domain).await;
    let editor = app.token("editor").await;
    let answer = app
        .post(
            "/api/ExecModifyCalPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": [{
                "UserID": [trustee], "Modification": "Add"}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 400);
    let body: Value = answer.json().await.unwrap();
    assert!(results(&body).contains("PermissionLevel"), "{body}");
    // A level that is no folder role is refused before Exchange is asked.
    let answer = app
        .post(
            "/api/ExecModifyContactPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": [{
                "UserID": [trustee], "PermissionLevel": "Boss", "Modification": "Add"}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 400);
    let body: Value = answer.json().await.unwrap();
    assert!(
        results(&body).contains("'Boss' is not a folder permission"),
        "{body}"
    );
    let answer = app
        .post(
            "/api/ExecEditCalendarPermissions",
            Some(&editor),
            json!({"tenantFilter": domain, "userid": owner}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 400);
    let readonly = app.token("readonly").await;
    let answer = app
        .get(
            &format!("/api/ListCalendarPermissions?tenantFilter={domain}&UseReportDB=true"),
            Some(&readonly),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 400);
    app.stop();
}

#[tokio::test]
async fn a_person_added_to_the_contacts_folder_is_listed_and_is_gone_after_removal() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, trustee, display) = two_users(&app, &domain).await;
    let before = contacts(&app, &domain, &owner).await;
    assert_eq!(rights_of(&before, "Default"), Some(&json!(["None"])));
    assert!(before.iter().all(|r| r["FolderName"] == "Contacts"));

    let editor = app.token("editor").await;
    let answer = app
        .post(
            "/api/ExecModifyContactPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": [{
                "UserID": [{"label": display, "value": trustee}],
                "PermissionLevel": {"label": "Editor", "value": "Editor"},
                "Modification": "Add", "SendNotificationToUser": true}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["Results"][0],
        format!(
            "Successfully set permissions on contact folder {owner}:\\Contacts. The user {trustee} now has Editor permissions on this folder. A notification has been sent to the user."
        )
    );
    let after = contacts(&app, &domain, &owner).await;
    assert_eq!(rights_of(&after, &display), Some(&json!(["Editor"])));

    let answer = app
        .post(
            "/api/ExecModifyContactPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": {"0": {
                "UserID": display, "PermissionLevel": "Editor", "FolderName": "Contacts",
                "Modification": "Remove"}}}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["Results"][0],
        format!("Successfully removed access for {display} from contact folder {owner}:\\Contacts")
    );
    let after = contacts(&app, &domain, &owner).await;
    assert_eq!(rights_of(&after, &display), None);
    // The calendar is untouched by the contacts changes.
    assert_eq!(
        rights_of(&calendar(&app, &domain, &owner).await, &display),
        None
    );
    app.stop();
}
