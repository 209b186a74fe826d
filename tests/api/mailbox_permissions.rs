//! ExecModifyMBPerms as the user page posts it: the dialog's add (single-mailbox form), the
//! bulk removal (`mailboxRequests`, rights joined with ", "), each effect read back through
//! ListUserMailboxDetails, and the 400 for a right that cannot be given.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

async fn details(app: &TestApp, domain: &str, upn: &str) -> Value {
    let token = app.token("readonly").await;
    let rows: Vec<Value> = app
        .get_json(
            &format!("/api/ListUserMailboxDetails?tenantFilter={domain}&UserID={upn}"),
            &token,
        )
        .await;
    rows[0].clone()
}

/// Two licensed cloud members: (mailbox owner, trustee), as UPNs.
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
        .skip(2)
        .take(2)
        .collect();
    (upns[0].clone(), upns[1].clone())
}

#[tokio::test]
async fn rights_given_in_the_dialog_show_on_the_mailbox_and_a_bulk_removal_takes_them_away() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, trustee) = two_users(&app, &domain).await;
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
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!([
            format!("Granted {trustee} FullAccess to {owner} with automapping False"),
            format!("Granted {trustee} SendAs permissions to {owner}"),
            format!("Granted {trustee} SendOnBehalf permissions to {owner}"),
        ])
    );
    let alias = trustee.split('@').next().unwrap().to_owned();
    let after = details(&app, &domain, &owner).await;
    let permissions = after["Permissions"].to_string();
    assert!(permissions.contains(&trustee), "{permissions}");
    assert!(
        after["Mailbox"]["GrantSendOnBehalfTo"]
            .to_string()
            .to_lowercase()
            .contains(&alias.to_lowercase()),
        "{}",
        after["Mailbox"]["GrantSendOnBehalfTo"]
    );

    let answer = app
        .post(
            "/api/ExecModifyMBPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "mailboxRequests": [{"userID": owner, "permissions": [
                {"UserID": trustee, "PermissionLevel": "FullAccess, SendAs", "Modification": "Remove"},
                {"UserID": trustee, "PermissionLevel": "SendOnBehalf", "Modification": "Remove"}]}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!([
            format!("Removed {trustee} from {owner} FullAccess permissions"),
            format!("Removed {trustee} SendAs permissions from {owner}"),
            format!("Removed {trustee} SendOnBehalf permissions from {owner}"),
        ])
    );
    let after = details(&app, &domain, &owner).await;
    assert!(
        !after["Permissions"].to_string().contains(&trustee),
        "{}",
        after["Permissions"]
    );
    assert!(
        !after["Mailbox"]["GrantSendOnBehalfTo"]
            .to_string()
            .to_lowercase()
            .contains(&alias.to_lowercase()),
        "{}",
        after["Mailbox"]["GrantSendOnBehalfTo"]
    );
    app.stop();
}

#[tokio::test]
async fn a_right_that_can_only_be_removed_sent_to_add_is_a_400_and_an_unknown_mailbox_a_404() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, trustee) = two_users(&app, &domain).await;
    let before = details(&app, &domain, &owner).await;
    let editor = app.token("editor").await;
    let answer = app
        .post(
            "/api/ExecModifyMBPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": owner, "permissions": [
                {"UserID": [trustee], "PermissionLevel": "FullAccess", "Modification": "Add"},
                {"UserID": [trustee], "PermissionLevel": "ReadPermission", "Modification": "Add"}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 400);
    let body: Value = answer.json().await.unwrap();
    assert!(results(&body).contains("ReadPermission"), "{body}");
    assert_eq!(
        details(&app, &domain, &owner).await["Permissions"],
        before["Permissions"]
    );
    // A mailbox owner Graph does not know: nothing done, a 404 with CIPP's line.
    let answer = app
        .post(
            "/api/ExecModifyMBPerms",
            Some(&editor),
            json!({"tenantFilter": domain, "userID": format!("nobody@{domain}"), "permissions": [
                {"UserID": [trustee], "PermissionLevel": "FullAccess", "Modification": "Add"}]}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 404);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!([format!("Could not find user nobody@{domain}")])
    );
    app.stop();
}

#[tokio::test]
async fn a_scheduled_reply_set_by_exec_set_ooo_is_read_back_by_list_ooo_to_the_minute() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (owner, _) = two_users(&app, &domain).await;
    let editor = app.token("editor").await;
    // 2026-08-09 08:00 and 2026-08-16 08:00 UTC.
    let answer = app
        .post(
            "/api/ExecSetOoO",
            Some(&editor),
            json!({"tenantFilter": domain, "userId": owner, "AutoReplyState": "Scheduled",
                "StartTime": 1786262400, "EndTime": 1786867200,
                "InternalMessage": "<p>Back soon</p>", "ExternalMessage": "<p>Away</p>"}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let readonly = app.token("readonly").await;
    let reply: Value = app
        .get_json(
            &format!("/api/ListOoO?tenantFilter={domain}&userid={owner}"),
            &readonly,
        )
        .await;
    assert_eq!(reply["AutoReplyState"], "Scheduled");
    assert_eq!(reply["StartTime"], "2026-08-09 08:00");
    assert_eq!(reply["EndTime"], "2026-08-16 08:00");
    assert!(
        reply["InternalMessage"]
            .as_str()
            .unwrap()
            .contains("Back soon"),
        "{reply}"
    );
    let missing = app
        .get(
            &format!("/api/ListOoO?tenantFilter={domain}&userid=nobody@{domain}"),
            Some(&readonly),
        )
        .await;
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.unwrap();
    assert!(
        results(&body).starts_with(&format!(
            "Could not retrieve out of office message for nobody@{domain}. Error: "
        )),
        "{body}"
    );
    app.stop();
}
