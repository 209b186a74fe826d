//! The Exchange writes (forwarding, out of office, mailbox type, archive, junk-mail lists)
//! against the simulator's Exchange Online; every effect is read back through the API.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

/// Licensed member users of a tenant: they have mailboxes in the simulator.
async fn mailbox_users(app: &TestApp, tenant: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    users
        .into_iter()
        .filter(|u| {
            u["userType"] == "Member" && !u["assignedLicenses"].as_array().unwrap().is_empty()
        })
        .collect()
}

fn upn(user: &Value) -> String {
    user["userPrincipalName"].as_str().unwrap().to_owned()
}

async fn details(app: &TestApp, tenant: &str, user: &str) -> Value {
    let token = app.token("readonly").await;
    let body: Value = app
        .get_json(
            &format!("/api/ListUserMailboxDetails?tenantFilter={tenant}&UserID={user}"),
            &token,
        )
        .await;
    body[0].clone()
}

async fn post(app: &TestApp, name: &str, body: Value) -> (u16, Value) {
    let token = app.token("editor").await;
    let response = app.post(&format!("/api/{name}"), Some(&token), body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn forwarding_to_an_internal_then_external_address_then_disabling_it_is_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let users = mailbox_users(&app, &tenant).await;
    let (user, target) = (upn(&users[0]), upn(&users[1]));

    let (status, body) = post(
        &app,
        "ExecEmailForward",
        json!({"tenantFilter": tenant, "userid": user, "ForwardOption": "internalAddress",
               "ForwardInternal": {"label": "Target", "value": target}, "KeepCopy": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([format!(
            "Successfully set forwarding for {user} to Internal Address {target} with keeping a copy set to True"
        )])
    );
    let read = details(&app, &tenant, &user).await;
    assert_eq!(read["ForwardAndDeliver"], true);
    assert!(read["Mailbox"]["ForwardingAddress"].is_string(), "{read}");
    assert!(read["Mailbox"]["ForwardingSmtpAddress"].is_null(), "{read}");

    let (status, body) = post(
        &app,
        "ExecEmailForward",
        json!({"tenantFilter": tenant, "userID": user, "forwardOption": "ExternalAddress",
               "ForwardExternal": "outside@elsewhere.example", "KeepCopy": "no"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([format!(
            "Successfully set forwarding for {user} to External Address outside@elsewhere.example with keeping a copy set to False"
        )])
    );
    let read = details(&app, &tenant, &user).await;
    assert_eq!(read["ForwardingAddress"], "outside@elsewhere.example");
    assert_eq!(read["ForwardAndDeliver"], false);
    assert!(read["Mailbox"]["ForwardingAddress"].is_null(), "{read}");

    let (status, body) = post(
        &app,
        "ExecEmailForward",
        json!({"tenantFilter": tenant, "username": user, "userid": user, "ForwardOption": "disabled"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([
            format!("Disabling forwarding for {user}"),
            format!("Successfully disabled forwarding for {user}")
        ])
    );
    let read = details(&app, &tenant, &user).await;
    assert!(read["ForwardingAddress"].is_null(), "{read}");
    app.stop();
}

#[tokio::test]
async fn out_of_office_is_set_then_scheduled_and_graph_sees_it() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = mailbox_users(&app, &domain).await[0].clone();
    let (id, user_upn) = (user["id"].as_str().unwrap().to_owned(), upn(&user));
    let token = app.token("readonly").await;
    let settings = || async {
        let body: Value = app
            .get_json(
                &format!("/api/ListGraphRequest?tenantFilter={domain}&Endpoint=users/{id}/mailboxSettings"),
                &token,
            )
            .await;
        let results = &body["Results"];
        let settings = if results.is_array() {
            results[0].clone()
        } else {
            results.clone()
        };
        settings["automaticRepliesSetting"].clone()
    };

    let (status, body) = post(
        &app,
        "ExecSetOoO",
        json!({"tenantFilter": domain, "userId": user_upn,
               "AutoReplyState": {"label": "Enabled", "value": "Enabled"}, "input": "<p>Away</p>"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Set Out-of-office for {user_upn} to Enabled.")
    );
    let read = settings().await;
    assert_eq!(read["status"], "alwaysEnabled", "{read}");
    assert_eq!(read["externalAudience"], "all");
    assert!(
        read["internalReplyMessage"]
            .as_str()
            .unwrap()
            .contains("Away")
    );
    assert!(
        read["externalReplyMessage"]
            .as_str()
            .unwrap()
            .contains("Away")
    );

    // 2026-08-08 10:00 UTC to 2026-08-15 10:00 UTC, shown in Amsterdam's summer time.
    let (status, body) = post(
        &app,
        "ExecSetOoO",
        json!({"tenantFilter": domain, "userId": user_upn, "AutoReplyState": "Scheduled",
               "StartTime": 1786183200, "EndTime": "1786788000", "InternalMessage": "<p>Back soon</p>",
               "ExternalMessage": "", "CreateOOFEvent": true, "timezone": "Europe/Amsterdam"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Scheduled Out-of-office for {user_upn} between 8/8/2026 12:00:00 PM and 8/15/2026 12:00:00 PM"
        )
    );
    let read = settings().await;
    assert_eq!(read["status"], "scheduled", "{read}");
    // No external message was sent, so CIPP's audience is None; the old message stays.
    assert_eq!(read["externalAudience"], "none");
    assert!(
        read["externalReplyMessage"]
            .as_str()
            .unwrap()
            .contains("Away")
    );
    assert!(
        read["internalReplyMessage"]
            .as_str()
            .unwrap()
            .contains("Back soon")
    );
    assert!(
        read["scheduledStartDateTime"]["dateTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-08-08T10:00:00"),
        "{read}"
    );

    let (status, body) = post(
        &app,
        "ExecSetOoO",
        json!({"tenantFilter": domain, "userId": user_upn, "AutoReplyState": {"value": "Disabled"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(settings().await["status"], "disabled");
    app.stop();
}

#[tokio::test]
async fn converting_a_mailbox_and_the_legacy_shared_alias_are_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mut user = None;
    for candidate in mailbox_users(&app, &tenant).await {
        if details(&app, &tenant, &upn(&candidate)).await["RecipientTypeDetails"] == "UserMailbox" {
            user = Some(upn(&candidate));
            break;
        }
    }
    let user = user.expect("a user mailbox in the seed");

    let (status, body) = post(
        &app,
        "ExecConvertMailbox",
        json!({"tenantFilter": tenant, "ID": user, "MailboxType": "shared"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully converted {user} to a shared mailbox")
    );
    assert_eq!(
        details(&app, &tenant, &user).await["RecipientTypeDetails"],
        "SharedMailbox"
    );

    let (status, body) = post(
        &app,
        "ExecConvertMailbox",
        json!({"tenantFilter": tenant, "ID": user, "MailboxType": "Regular"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        details(&app, &tenant, &user).await["RecipientTypeDetails"],
        "UserMailbox"
    );

    let token = app.token("editor").await;
    let response = app
        .get(
            &format!("/api/ExecConverttoSharedMailbox?tenantFilter={tenant}&ID={user}"),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Successfully converted {user} to a Shared mailbox")
    );
    assert_eq!(
        details(&app, &tenant, &user).await["RecipientTypeDetails"],
        "SharedMailbox"
    );
    // The legacy name converts back to a user mailbox when asked to.
    let response = app
        .get(
            &format!(
                "/api/ExecConverttoSharedMailbox?tenantFilter={tenant}&ID={user}&ConvertToUser=true"
            ),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Successfully converted {user} to a Regular mailbox")
    );
    assert_eq!(
        details(&app, &tenant, &user).await["RecipientTypeDetails"],
        "UserMailbox"
    );
    app.stop();
}

#[tokio::test]
async fn enabling_the_archive_is_read_back_and_enabling_it_again_is_exchanges_failure() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mut user = None;
    for candidate in mailbox_users(&app, &tenant).await {
        if details(&app, &tenant, &upn(&candidate)).await["ArchiveMailBox"] == false {
            user = Some(candidate);
            break;
        }
    }
    let user = user.expect("a mailbox without an archive in the seed");
    let (id, name) = (user["id"].as_str().unwrap().to_owned(), upn(&user));

    let token = app.token("editor").await;
    let response = app
        .get(
            &format!("/api/ExecEnableArchive?tenantFilter={tenant}&id={id}&username={name}"),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Successfully set archive for {name} to True")
    );
    assert_eq!(details(&app, &tenant, &name).await["ArchiveMailBox"], true);

    // Without `username` the texts name the id.
    let (status, body) = post(
        &app,
        "ExecEnableArchive",
        json!({"tenantFilter": tenant, "ID": id}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        results(&body).starts_with(&format!("Failed to set archive for {id}. Error: ")),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn removing_one_trusted_or_blocked_sender_keeps_the_others() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    let rows_of = |user: String| {
        let token = token.clone();
        let tenant = tenant.clone();
        let app = &app;
        async move {
            let rows: Vec<Value> = app
                .get_json(
                    &format!("/api/ListUserTrustedBlockedSenders?tenantFilter={tenant}&UserID={user}&userPrincipalName={user}"),
                    &token,
                )
                .await;
            rows
        }
    };
    let mut found = None;
    for candidate in mailbox_users(&app, &tenant).await {
        let rows = rows_of(upn(&candidate)).await;
        if !rows.is_empty() {
            found = Some((upn(&candidate), rows));
            break;
        }
    }
    let (user, before) = found.expect("a mailbox with junk-mail entries in the seed");
    let gone = &before[0];
    let (property, value) = (
        gone["TypeProperty"].as_str().unwrap(),
        gone["Value"].as_str().unwrap(),
    );

    let (status, body) = post(
        &app,
        "RemoveTrustedBlockedSender",
        json!({"tenantFilter": tenant, "userPrincipalName": user, "typeProperty": property, "value": value}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully removed '{value}' from {property} for {user}")
    );
    let after = rows_of(user.clone()).await;
    assert_eq!(after.len(), before.len() - 1);
    assert!(
        !after
            .iter()
            .any(|r| r["TypeProperty"] == property && r["Value"] == value)
    );
    app.stop();
}

#[tokio::test]
async fn mailbox_writes_refuse_readonly_callers_and_name_missing_or_bad_parameters() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let readonly = app.token("readonly").await;
    for name in [
        "ExecEmailForward",
        "ExecSetOoO",
        "ExecConvertMailbox",
        "ExecConverttoSharedMailbox",
        "ExecEnableArchive",
        "RemoveTrustedBlockedSender",
    ] {
        let response = app
            .post(
                &format!("/api/{name}"),
                Some(&readonly),
                json!({"tenantFilter": tenant, "ID": "x@y.example"}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 403, "{name}");
    }
    let user = "someone@nowhere.example";
    let cases = [
        (
            "ExecEmailForward",
            json!({"forwardOption": "disabled"}),
            "userID",
        ),
        ("ExecEmailForward", json!({"userID": user}), "forwardOption"),
        (
            "ExecEmailForward",
            json!({"userID": user, "forwardOption": "sideways"}),
            "forwardOption",
        ),
        (
            "ExecEmailForward",
            json!({"userID": user, "forwardOption": "internalAddress"}),
            "ForwardInternal",
        ),
        (
            "ExecEmailForward",
            json!({"userID": user, "forwardOption": "ExternalAddress", "ForwardExternal": ""}),
            "ForwardExternal",
        ),
        // A mailbox is named by its user principal name or object id, nothing else.
        (
            "ExecEmailForward",
            json!({"userID": "../users", "forwardOption": "disabled"}),
            "userID",
        ),
        (
            "ExecConverttoSharedMailbox",
            json!({"ID": "not a mailbox"}),
            "ID",
        ),
        ("ExecSetOoO", json!({"AutoReplyState": "Enabled"}), "userId"),
        // The scheduling flags are booleans.
        (
            "ExecSetOoO",
            json!({"userId": user, "AutoReplyState": "Scheduled", "CreateOOFEvent": "sometimes"}),
            "CreateOOFEvent",
        ),
        ("ExecSetOoO", json!({"userId": user}), "AutoReplyState"),
        (
            "ExecSetOoO",
            json!({"userId": user, "AutoReplyState": {"value": "Sometimes"}}),
            "AutoReplyState",
        ),
        (
            "ExecSetOoO",
            json!({"userId": user, "AutoReplyState": "Scheduled", "StartTime": "99999999999999999999"}),
            "StartTime",
        ),
        ("ExecConvertMailbox", json!({"MailboxType": "Shared"}), "ID"),
        ("ExecConvertMailbox", json!({"ID": user}), "MailboxType"),
        (
            "ExecConvertMailbox",
            json!({"ID": user, "MailboxType": "Kiosk"}),
            "MailboxType",
        ),
        ("ExecConverttoSharedMailbox", json!({}), "ID"),
        ("ExecEnableArchive", json!({"username": user}), "id"),
        (
            "RemoveTrustedBlockedSender",
            json!({"typeProperty": "TrustedSendersAndDomains", "value": "a.example"}),
            "userPrincipalName",
        ),
        (
            "RemoveTrustedBlockedSender",
            json!({"userPrincipalName": user, "value": "a.example"}),
            "typeProperty",
        ),
        (
            "RemoveTrustedBlockedSender",
            json!({"userPrincipalName": user, "typeProperty": "Friends", "value": "a.example"}),
            "typeProperty",
        ),
        (
            "RemoveTrustedBlockedSender",
            json!({"userPrincipalName": user, "typeProperty": "BlockedSendersAndDomains"}),
            "value",
        ),
    ];
    for (name, mut body, field) in cases {
        body["tenantFilter"] = json!(tenant);
        let (status, answer) = post(&app, name, body.clone()).await;
        assert_eq!(status, 400, "{name} {body}: {answer}");
        assert!(
            results(&answer).starts_with(field),
            "{name} {body}: {answer} should name {field}"
        );
    }
    app.stop();
}

#[tokio::test]
async fn an_unknown_mailbox_gives_cipps_failure_text_with_an_error_status() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let ghost = "ghost@nowhere.example";
    let cases = [
        (
            "ExecEmailForward",
            json!({"userID": ghost, "forwardOption": "disabled"}),
            format!("Failed to set forwarding for {ghost}. Error: "),
        ),
        (
            "ExecSetOoO",
            json!({"userId": ghost, "AutoReplyState": "Disabled"}),
            format!(
                "Could not set Out of Office for user: {ghost}. Error: Could not add OOO for {ghost}. Error: "
            ),
        ),
        (
            "ExecConvertMailbox",
            json!({"ID": ghost, "MailboxType": "Equipment"}),
            format!("Failed to convert {ghost} to a Equipment mailbox. Error: "),
        ),
        (
            "ExecEnableArchive",
            json!({"id": ghost, "username": "Ghost"}),
            "Failed to set archive for Ghost. Error: ".to_owned(),
        ),
        (
            "RemoveTrustedBlockedSender",
            json!({"userPrincipalName": ghost, "typeProperty": "BlockedSendersAndDomains", "value": "spam.example"}),
            format!("Failed to remove junk email configuration entry for {ghost}. Error: "),
        ),
    ];
    for (name, mut body, prefix) in cases {
        body["tenantFilter"] = json!(tenant);
        let (status, answer) = post(&app, name, body).await;
        // An unknown mailbox is a 404 where Exchange says so, else Exchange's refusal (400).
        assert!(matches!(status, 400 | 404), "{name}: {status} {answer}");
        // ExecEmailForward answers an array, as CIPP does; the others a string.
        let text = match &answer["Results"] {
            Value::Array(items) => items[0].as_str().unwrap().to_owned(),
            other => other.as_str().unwrap().to_owned(),
        };
        assert!(text.starts_with(&prefix), "{name}: {answer}");
        assert!(
            text.contains(ghost),
            "{name}: Exchange's text names the mailbox: {answer}"
        );
    }
    app.stop();
}

#[tokio::test]
async fn hiding_from_the_gal_the_holds_and_the_sent_items_copy_are_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let user = mailbox_users(&app, &tenant).await[0].clone();
    let (upn, id) = (upn(&user), user["id"].as_str().unwrap().to_owned());

    let (status, body) = post(
        &app,
        "ExecHideFromGAL",
        json!({"tenantFilter": tenant, "ID": upn, "HideFromGAL": "true"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully hidden {upn} from GAL.")
    );
    assert_eq!(
        details(&app, &tenant, &upn).await["HiddenFromAddressLists"],
        true
    );
    let (_, body) = post(
        &app,
        "ExecHideFromGAL",
        json!({"tenantFilter": tenant, "ID": upn, "HideFromGAL": false}),
    )
    .await;
    assert_eq!(
        results(&body),
        format!("Successfully unhidden {upn} from GAL.")
    );
    assert_eq!(
        details(&app, &tenant, &upn).await["HiddenFromAddressLists"],
        false
    );

    let (status, body) = post(
        &app,
        "ExecSetLitigationHold",
        json!({"tenantFilter": tenant, "Identity": id, "UPN": upn, "days": 365}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Litigation hold for {upn} with Id {id} has been set to True for 365 days")
    );
    assert_eq!(details(&app, &tenant, &upn).await["LitigationHold"], true);
    let (_, body) = post(
        &app,
        "ExecSetLitigationHold",
        json!({"tenantFilter": tenant, "Identity": id, "UPN": upn, "disable": true}),
    )
    .await;
    assert_eq!(
        results(&body),
        format!("Litigation hold for {upn} with Id {id} has been set to False")
    );
    assert_eq!(details(&app, &tenant, &upn).await["LitigationHold"], false);

    let (_, body) = post(
        &app,
        "ExecSetRetentionHold",
        json!({"tenantFilter": tenant, "Identity": id, "UPN": upn}),
    )
    .await;
    assert_eq!(
        results(&body),
        format!("Retention hold for {upn} with Id {id} has been set to True")
    );
    assert_eq!(details(&app, &tenant, &upn).await["RetentionHold"], true);

    let (status, body) = post(
        &app,
        "ExecCopyForSent",
        json!({"tenantFilter": tenant, "ID": upn, "messageCopyState": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Successfully set message copy for 'Send as' as True and 'Sent on behalf' as True on {upn}."
        )
    );
    let mailbox = details(&app, &tenant, &upn).await;
    assert_eq!(mailbox["Mailbox"]["MessageCopyForSentAsEnabled"], true);
    assert_eq!(
        mailbox["Mailbox"]["MessageCopyForSendOnBehalfEnabled"],
        true
    );

    // A mailbox Exchange does not know: its 404 and CIPP's failure text.
    let (status, body) = post(
        &app,
        "ExecSetRetentionHold",
        json!({"tenantFilter": tenant, "Identity": format!("nobody@{tenant}"), "UPN": "nobody"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        results(&body).starts_with("Could not set retention hold for nobody with Id nobody@"),
        "{body}"
    );
    app.stop();
}

async fn rules(app: &TestApp, tenant: &str, upn: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    app.get_json(
        &format!("/api/ListUserMailboxRules?tenantFilter={tenant}&UserID={upn}"),
        &token,
    )
    .await
}

#[tokio::test]
async fn a_mailbox_rule_is_disabled_enabled_and_removed_as_the_rule_list_asks() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mut found = None;
    for user in mailbox_users(&app, &tenant).await {
        let list = rules(&app, &tenant, &upn(&user)).await;
        if let Some(rule) = list.first() {
            found = Some((upn(&user), rule.clone()));
            break;
        }
    }
    let (user, rule) = found.expect("a mailbox with a rule in the seed");
    let (id, name) = (
        rule["Identity"].as_str().unwrap().to_owned(),
        rule["Name"].as_str().unwrap().to_owned(),
    );
    let base =
        json!({"tenantFilter": tenant, "ruleId": id, "ruleName": name, "userPrincipalName": user});
    let mut disable = base.clone();
    disable["Disable"] = json!(true);
    let (status, body) = post(&app, "ExecSetMailboxRule", disable).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully set mailbox rule {name} for {user} to Disabled")
    );
    let read = rules(&app, &tenant, &user).await;
    let now = read.iter().find(|r| r["Identity"] == id.as_str()).unwrap();
    assert_eq!(now["Enabled"], false, "{now}");
    let mut enable = base.clone();
    enable["Enable"] = json!(true);
    let (_, body) = post(&app, "ExecSetMailboxRule", enable).await;
    assert_eq!(
        results(&body),
        format!("Successfully set mailbox rule {name} for {user} to Enabled")
    );
    let (status, _) = post(&app, "ExecSetMailboxRule", base.clone()).await;
    assert_eq!(status, 400, "no state is named");

    let (status, body) = post(&app, "ExecRemoveMailboxRule", base.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully deleted mailbox rule {name} for {user}")
    );
    assert!(
        rules(&app, &tenant, &user)
            .await
            .iter()
            .all(|r| r["Identity"] != id.as_str())
    );
    let (status, body) = post(&app, "ExecRemoveMailboxRule", base).await;
    assert_eq!(status, 404, "{body}");
    assert!(results(&body).starts_with(&format!("Failed to delete rule for {user}. Error: ")));
    app.stop();
}
