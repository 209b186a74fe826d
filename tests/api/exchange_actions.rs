//! The Exchange mailbox actions of the user pages (`CippExchangeActions`): each against the
//! simulator's Exchange, with its effect read back at the simulator; roles, bad input, Exchange's
//! failures, and a change Exchange accepts but does not show.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

/// Runs one cmdlet at the simulator's Exchange directly (no token): `(status, value or error)`.
async fn exo(app: &TestApp, tenant: &str, cmdlet: &str, parameters: Value) -> (u16, Value) {
    let response = app
        .http
        .post(
            app.sim
                .join(&format!("_sim/exchange/{tenant}/invoke"))
                .unwrap(),
        )
        .json(&json!({"cmdlet": cmdlet, "parameters": parameters}))
        .send()
        .await
        .expect("sim invoke");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("sim invoke JSON");
    (status, body)
}

/// The one object a `Get-*` cmdlet gives for `identity`.
async fn read(app: &TestApp, tenant: &str, cmdlet: &str, identity: &str) -> Value {
    let (status, body) = exo(app, tenant, cmdlet, json!({"Identity": identity})).await;
    assert_eq!(status, 200, "{cmdlet} {identity}: {body}");
    body["value"][0].clone()
}

/// User mailboxes of the tenant, as `Get-Mailbox` shows them.
async fn user_mailboxes(app: &TestApp, tenant: &str) -> Vec<Value> {
    let (_, body) = exo(
        app,
        tenant,
        "Get-Mailbox",
        json!({"RecipientTypeDetails": ["UserMailbox"], "ResultSize": 20}),
    )
    .await;
    let list = body["value"].as_array().unwrap().clone();
    assert!(list.len() >= 3, "the tenant has user mailboxes: {body}");
    list
}

fn upn(mailbox: &Value) -> String {
    mailbox["UserPrincipalName"].as_str().unwrap().to_owned()
}

async fn post(app: &TestApp, name: &str, body: Value) -> (u16, Value) {
    let token = app.token("editor").await;
    let response = app.post(&format!("/api/{name}"), Some(&token), body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The first text of `Results` (a string or a list), or of a bare list.
fn first_text(body: &Value) -> String {
    let value = if body.is_array() {
        body
    } else {
        &body["Results"]
    };
    match value {
        Value::Array(items) => items
            .last()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        other => other.as_str().unwrap_or_default().to_owned(),
    }
}

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

#[tokio::test]
async fn the_auto_expanding_archive_quotas_and_message_sizes_are_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mailboxes = user_mailboxes(&app, &tenant).await;
    let without_archive = mailboxes
        .iter()
        .find(|m| m["ArchiveGuid"] == ZERO_GUID)
        .cloned()
        .expect("a mailbox without an archive");
    let user = mailboxes[0].clone();
    let (u, id) = (
        upn(&user),
        user["ExternalDirectoryObjectId"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    // Without an archive, Exchange refuses, and the answer is CIPP's failure text.
    {
        let bare = upn(&without_archive);
        let (status, body) = post(
            &app,
            "ExecEnableAutoExpandingArchive",
            json!({"tenantFilter": tenant, "ID": bare, "username": bare}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        let text = results(&body);
        assert!(
            text.starts_with(&format!(
                "Failed to set auto-expanding archive for {bare}. Error: "
            )),
            "{body}"
        );
        assert!(text.contains("doesn't have an archive"), "{body}");
    }

    if user["ArchiveGuid"] == ZERO_GUID {
        let (status, body) = exo(
            &app,
            &tenant,
            "Enable-Mailbox",
            json!({"Identity": u, "Archive": true}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = post(
        &app,
        "ExecEnableAutoExpandingArchive",
        json!({"tenantFilter": tenant, "ID": id, "username": u}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully enabled auto-expanding archive for {u}")
    );
    assert_eq!(
        read(&app, &tenant, "Get-Mailbox", &u).await["AutoExpandingArchiveEnabled"],
        true
    );

    // Quotas: the page sends one tick and a size as text.
    let (status, body) = post(
        &app,
        "ExecSetMailboxQuota",
        json!({"tenantFilter": tenant, "user": u, "quota": "45GB", "ProhibitSendQuota": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([format!("Changed ProhibitSendQuota for {u} - ")])
    );
    let (status, body) = post(
        &app,
        "ExecSetMailboxQuota",
        json!({"tenantFilter": tenant, "user": u, "quota": "Unlimited", "IssueWarningQuota": "true",
               "ProhibitSendReceiveQuota": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([
            format!("Changed ProhibitSendReceiveQuota for {u} - "),
            format!("Changed IssueWarningQuota for {u} - ")
        ])
    );
    let mailbox = read(&app, &tenant, "Get-Mailbox", &u).await;
    assert_eq!(mailbox["ProhibitSendQuota"], "45 GB (48,318,382,080 bytes)");
    assert_eq!(mailbox["ProhibitSendReceiveQuota"], "Unlimited");
    assert_eq!(mailbox["IssueWarningQuota"], "Unlimited");

    // Message sizes in MB (numbers as text too), sent to Exchange in bytes.
    let (status, body) = post(
        &app,
        "ExecSetMailboxEmailSize",
        json!({"tenantFilter": tenant, "UPN": u, "id": id, "maxSendSize": 50, "maxReceiveSize": "60"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Set mailbox email max size for {u} to Send: 50MB Receive: 60MB")
    );
    let mailbox = read(&app, &tenant, "Get-Mailbox", &u).await;
    assert_eq!(mailbox["MaxSendSize"], "50 MB (52,428,800 bytes)");
    assert_eq!(mailbox["MaxReceiveSize"], "60 MB (62,914,560 bytes)");
    let (status, body) = post(
        &app,
        "ExecSetMailboxEmailSize",
        json!({"tenantFilter": tenant, "UPN": u, "maxReceiveSize": 20}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Set mailbox email max size for {u} to Receive: 20MB")
    );
    let mailbox = read(&app, &tenant, "Get-Mailbox", &u).await;
    assert_eq!(mailbox["MaxSendSize"], "50 MB (52,428,800 bytes)");
    assert_eq!(mailbox["MaxReceiveSize"], "20 MB (20,971,520 bytes)");
    app.stop();
}

#[tokio::test]
async fn the_locale_calendar_processing_and_the_folder_assistant_are_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mailboxes = user_mailboxes(&app, &tenant).await;
    let user = mailboxes[1].clone();
    let u = upn(&user);

    let (status, body) = post(
        &app,
        "ExecSetMailboxLocale",
        json!({"tenantFilter": tenant, "user": u, "locale": "de-DE"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(results(&body), format!("Set locale for {u} to de-DE"));
    let regional = read(&app, &tenant, "Get-MailboxRegionalConfiguration", &u).await;
    assert_eq!(regional["Language"], "de-DE");
    // CIPP sends null formats: they follow the language again.
    assert_eq!(regional["DateFormat"], "dd/MM/yyyy");
    assert_eq!(regional["DefaultFolderNameMatchingUserLanguage"], true);

    let (status, body) = post(
        &app,
        "ExecSetCalendarProcessing",
        json!({"tenantFilter": tenant, "UPN": u, "automaticallyProcess": true, "allowConflicts": true,
               "deleteSubject": false, "bookingWindowInDays": "30", "maxConflicts": 0,
               "additionalResponse": "Booked by the front desk"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Calendar processing settings for {u} have been updated successfully")
    );
    let calendar = read(&app, &tenant, "Get-CalendarProcessing", &u).await;
    assert_eq!(calendar["AutomateProcessing"], "AutoUpdate");
    assert_eq!(calendar["AllowConflicts"], true);
    // Absent switches are false, as CIPP's casts make them.
    assert_eq!(calendar["AllowRecurringMeetings"], false);
    assert_eq!(calendar["DeleteSubject"], false);
    assert_eq!(calendar["BookingWindowInDays"], 30);
    // 0 leaves the number alone.
    assert_eq!(calendar["MaximumConflictInstances"], 0);
    assert_eq!(calendar["AdditionalResponse"], "Booked by the front desk");

    // The page sends the Exchange GUID as the identity and names the mailbox by its UPN.
    let guid = user["ExchangeGuid"].as_str().unwrap().to_owned();
    let (status, body) = post(
        &app,
        "ExecStartManagedFolderAssistant",
        json!({"tenantFilter": tenant, "ID": guid, "UserPrincipalName": u}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully started Managed Folder Assistant for mailbox {u}.")
    );
    let runs: Value = app
        .http
        .get(
            app.sim
                .join(&format!("_sim/exchange/{tenant}/assistant-runs"))
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["UserPrincipalName"], json!(u));
    assert_eq!(runs[0]["Identity"], json!(guid));
    assert_eq!(runs[0]["FullCrawl"], true);
    app.stop();
}

#[tokio::test]
async fn retention_policies_are_created_changed_applied_and_deleted_as_exchange_then_shows() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mailboxes = user_mailboxes(&app, &tenant).await;
    let (a, b) = (upn(&mailboxes[0]), upn(&mailboxes[1]));
    let token = app.token("editor").await;

    // Listing: the frontend GETs it and reads `Name` from a bare array.
    let listed: Value = app
        .get_json(
            &format!("/api/ExecManageRetentionPolicies?tenantFilter={tenant}"),
            &token,
        )
        .await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["Name"] == "Default MRM Policy"),
        "{listed}"
    );

    let (status, body) = post(
        &app,
        "ExecManageRetentionPolicies",
        json!({"tenantFilter": tenant, "CreatePolicies": [
            {"Name": "Legal 7y", "RetentionPolicyTagLinks": ["5 Year Delete", "Junk Email"]}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!(["Successfully created retention policy: Legal 7y"])
    );
    let one: Value = app
        .get_json(
            &format!("/api/ExecManageRetentionPolicies?tenantFilter={tenant}&name=Legal%207y"),
            &token,
        )
        .await;
    assert_eq!(
        one[0]["RetentionPolicyTagLinks"],
        json!(["5 Year Delete", "Junk Email"])
    );

    let (status, body) = post(
        &app,
        "ExecManageRetentionPolicies",
        json!({"tenantFilter": tenant, "ModifyPolicies": [
            {"Identity": "Legal 7y", "AddTags": ["Never Delete"], "RemoveTags": ["Junk Email"]}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!(["Successfully modified retention policy: Legal 7y"])
    );
    let policy = read(&app, &tenant, "Get-RetentionPolicy", "Legal 7y").await;
    assert_eq!(
        policy["RetentionPolicyTagLinks"],
        json!(["5 Year Delete", "Never Delete"])
    );

    let (status, body) = post(
        &app,
        "ExecSetMailboxRetentionPolicies",
        json!({"tenantFilter": tenant, "PolicyName": "Legal 7y", "Mailboxes": [a, b]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([
            format!("Successfully applied retention policy 'Legal 7y' to {a}"),
            format!("Successfully applied retention policy 'Legal 7y' to {b}")
        ])
    );
    for m in [&a, &b] {
        assert_eq!(
            read(&app, &tenant, "Get-Mailbox", m).await["RetentionPolicy"],
            "Legal 7y"
        );
    }

    // One unknown mailbox among them: 207, each line saying what happened.
    let ghost = format!("ghost@{tenant}");
    let (status, body) = post(
        &app,
        "ExecSetMailboxRetentionPolicies",
        json!({"tenantFilter": tenant, "PolicyName": "Default MRM Policy", "Mailboxes": [a, ghost]}),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    let lines = body["Results"].as_array().unwrap();
    assert_eq!(
        lines[0],
        json!(format!(
            "Successfully applied retention policy 'Default MRM Policy' to {a}"
        ))
    );
    assert!(
        lines[1].as_str().unwrap().starts_with(&format!(
            "Failed to apply retention policy 'Default MRM Policy' to {ghost}: "
        )),
        "{body}"
    );

    // Still assigned to b: CIPP refuses to delete it.
    let (status, body) = post(
        &app,
        "ExecManageRetentionPolicies",
        json!({"tenantFilter": tenant, "DeletePolicies": ["Legal 7y"]}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    // A failure's lines come in `Results`, as every failure of this service.
    assert_eq!(
        body["Results"],
        json!(["Cannot delete retention policy Legal 7y - still assigned to mailboxes"])
    );
    let (status, _) = post(
        &app,
        "ExecSetMailboxRetentionPolicies",
        json!({"tenantFilter": tenant, "PolicyName": "Default MRM Policy", "Mailboxes": [b]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &app,
        "ExecManageRetentionPolicies",
        json!({"tenantFilter": tenant, "DeletePolicies": ["Legal 7y"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!(["Successfully deleted retention policy: Legal 7y"])
    );
    let (status, _) = exo(
        &app,
        &tenant,
        "Get-RetentionPolicy",
        json!({"Identity": "Legal 7y"}),
    )
    .await;
    assert_eq!(status, 404);

    // A name that exists already is Exchange's refusal, with CIPP's line.
    let (status, body) = post(
        &app,
        "ExecManageRetentionPolicies",
        json!({"tenantFilter": tenant, "CreatePolicies": [{"Name": "Default MRM Policy"}]}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        first_text(&body).starts_with("Failed to create retention policy Default MRM Policy: "),
        "{body}"
    );
    // A policy that does not exist cannot be applied.
    let (status, body) = post(
        &app,
        "ExecSetMailboxRetentionPolicies",
        json!({"tenantFilter": tenant, "PolicyName": "No Such Policy", "Mailboxes": [a]}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        first_text(&body).starts_with(&format!(
            "Failed to apply retention policy 'No Such Policy' to {a}: "
        )),
        "{body}"
    );
    app.stop();
}

const ACTIONS: [&str; 12] = [
    "ExecEnableAutoExpandingArchive",
    "ExecSetMailboxQuota",
    "ExecSetMailboxLocale",
    "ExecSetMailboxEmailSize",
    "ExecSetCalendarProcessing",
    "ExecStartManagedFolderAssistant",
    "ExecSetMailboxRetentionPolicies",
    "ExecManageRetentionPolicies",
    "ExecHideFromGAL",
    "ExecCopyForSent",
    "ExecSetLitigationHold",
    "ExecSetRetentionHold",
];

#[tokio::test]
async fn a_reader_cannot_use_any_mailbox_action() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let readonly = app.token("readonly").await;
    for name in ACTIONS {
        let response = app
            .post(
                &format!("/api/{name}"),
                Some(&readonly),
                json!({"tenantFilter": tenant, "ID": "x@y.example"}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 403, "{name}");
    }
    // Listing the policies needs the write role too, as in CIPP.
    let response = app
        .get(
            &format!("/api/ExecManageRetentionPolicies?tenantFilter={tenant}"),
            Some(&readonly),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    app.stop();
}

#[tokio::test]
async fn bad_input_to_a_mailbox_action_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let user = format!("someone@{tenant}");
    let cases = [
        (
            "ExecEnableAutoExpandingArchive",
            json!({"username": user}),
            "ID",
        ),
        (
            "ExecEnableAutoExpandingArchive",
            json!({"ID": "../users"}),
            "ID",
        ),
        (
            "ExecSetMailboxQuota",
            json!({"user": user, "quota": "lots", "ProhibitSendQuota": true}),
            "quota",
        ),
        (
            "ExecSetMailboxQuota",
            json!({"user": user, "ProhibitSendQuota": true}),
            "quota",
        ),
        (
            "ExecSetMailboxQuota",
            json!({"user": user, "quota": "10GB"}),
            "ProhibitSendQuota",
        ),
        (
            "ExecSetMailboxQuota",
            json!({"quota": "10GB", "ProhibitSendQuota": true}),
            "user",
        ),
        (
            "ExecSetMailboxLocale",
            json!({"user": user, "locale": "en"}),
            "locale",
        ),
        (
            "ExecSetMailboxLocale",
            json!({"user": user, "locale": "english please"}),
            "locale",
        ),
        ("ExecSetMailboxLocale", json!({"locale": "en-US"}), "user"),
        ("ExecSetMailboxEmailSize", json!({"maxSendSize": 10}), "id"),
        (
            "ExecSetMailboxEmailSize",
            json!({"UPN": user}),
            "maxSendSize",
        ),
        (
            "ExecSetMailboxEmailSize",
            json!({"UPN": user, "maxSendSize": 151}),
            "maxSendSize",
        ),
        (
            "ExecSetMailboxEmailSize",
            json!({"UPN": user, "maxReceiveSize": 0}),
            "maxReceiveSize",
        ),
        (
            "ExecSetMailboxEmailSize",
            json!({"UPN": user, "maxSendSize": "big"}),
            "maxSendSize",
        ),
        (
            "ExecSetCalendarProcessing",
            json!({"allowConflicts": true}),
            "UPN",
        ),
        (
            "ExecSetCalendarProcessing",
            json!({"UPN": user, "allowConflicts": "maybe"}),
            "allowConflicts",
        ),
        (
            "ExecSetCalendarProcessing",
            json!({"UPN": user, "bookingWindowInDays": "soon"}),
            "bookingWindowInDays",
        ),
        ("ExecStartManagedFolderAssistant", json!({}), "Id"),
        (
            "ExecSetMailboxRetentionPolicies",
            json!({"Mailboxes": [user]}),
            "PolicyName",
        ),
        (
            "ExecSetMailboxRetentionPolicies",
            json!({"PolicyName": "P", "Mailboxes": []}),
            "Mailboxes",
        ),
        (
            "ExecManageRetentionPolicies",
            json!({"CreatePolicies": [{"RetentionPolicyTagLinks": ["Junk Email"]}]}),
            "CreatePolicies[0].Name",
        ),
        (
            "ExecManageRetentionPolicies",
            json!({"ModifyPolicies": [{"Name": "New"}]}),
            "ModifyPolicies[0].Identity",
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
async fn an_exchange_failure_surfaces_with_cipps_text_and_status() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let u = upn(&user_mailboxes(&app, &tenant).await[2]);
    // Each action's cmdlet fails alone (a cmdlet-scoped fault); every other cmdlet answers.
    let cases = [
        (
            "ExecEnableAutoExpandingArchive",
            "Enable-Mailbox",
            json!({"ID": u, "username": u}),
            format!("Failed to set auto-expanding archive for {u}. Error: "),
        ),
        (
            "ExecSetMailboxQuota",
            "Set-Mailbox",
            json!({"user": u, "quota": "10GB", "IssueWarningQuota": true}),
            format!("Could not adjust mailbox quota for {u}. Error: "),
        ),
        (
            "ExecSetMailboxLocale",
            "Set-MailboxRegionalConfiguration",
            json!({"user": u, "locale": "fr-FR"}),
            format!("Failed to set locale for {u}. Error: "),
        ),
        (
            "ExecSetMailboxEmailSize",
            "Set-Mailbox",
            json!({"UPN": u, "maxSendSize": 20}),
            format!("Failed to set mailbox email max size for {u}. Error: "),
        ),
        (
            "ExecSetCalendarProcessing",
            "Set-CalendarProcessing",
            json!({"UPN": u, "automaticallyAccept": true}),
            format!("Could not update calendar processing settings for {u}. Error: "),
        ),
        (
            "ExecStartManagedFolderAssistant",
            "Start-ManagedFolderAssistant",
            json!({"Id": u}),
            format!("Failed to start Managed Folder Assistant for mailbox {u}. Error: "),
        ),
        (
            "ExecSetMailboxRetentionPolicies",
            "Set-Mailbox",
            json!({"PolicyName": "Default MRM Policy", "Mailboxes": [u]}),
            format!("Failed to apply retention policy 'Default MRM Policy' to {u}: "),
        ),
        (
            "ExecManageRetentionPolicies",
            "New-RetentionPolicy",
            json!({"CreatePolicies": [{"Name": "Ops"}]}),
            "Failed to create retention policy Ops: ".to_owned(),
        ),
        (
            "ExecManageRetentionPolicies",
            "Get-RetentionPolicy",
            json!({}),
            "Failed to retrieve retention policies: ".to_owned(),
        ),
        (
            "ExecHideFromGAL",
            "Set-Mailbox",
            json!({"ID": u, "HideFromGAL": true}),
            format!("Failed to set {u} to hidden in GAL. Error: "),
        ),
    ];
    for (name, cmdlet, mut body, prefix) in cases {
        let fault = app
            .add_fault(json!({"cmdlet": cmdlet, "status": 500}))
            .await;
        body["tenantFilter"] = json!(tenant);
        let (status, answer) = post(&app, name, body).await;
        app.http
            .delete(app.sim.join(&format!("_sim/faults/{fault}")).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(status, 500, "{name}: {answer}");
        assert!(first_text(&answer).starts_with(&prefix), "{name}: {answer}");
    }
    // An unknown mailbox is Exchange's 404, with CIPP's text naming it.
    let ghost = format!("ghost@{tenant}");
    let (status, answer) = post(
        &app,
        "ExecSetMailboxLocale",
        json!({"tenantFilter": tenant, "user": ghost, "locale": "fr-FR"}),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert!(
        results(&answer).starts_with(&format!("Failed to set locale for {ghost}. Error: ")),
        "{answer}"
    );
    app.stop();
}

#[tokio::test]
async fn a_change_exchange_accepts_but_does_not_show_is_reported_not_claimed() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mailboxes = user_mailboxes(&app, &tenant).await;
    let u = upn(&mailboxes[0]);
    let ps = |b: bool| if b { "True" } else { "False" };
    let now = read(&app, &tenant, "Get-Mailbox", &u).await;
    let flag = |name: &str| now[name].as_bool().unwrap();
    let (hidden, copy, litigation, retention) = (
        flag("HiddenFromAddressListsEnabled"),
        flag("MessageCopyForSentAsEnabled"),
        flag("LitigationHoldEnabled"),
        flag("RetentionHoldEnabled"),
    );
    // A mailbox with an archive that does not expand yet.
    let expanding = upn(&mailboxes[1]);
    if mailboxes[1]["ArchiveGuid"] == ZERO_GUID {
        exo(
            &app,
            &tenant,
            "Enable-Mailbox",
            json!({"Identity": expanding, "Archive": true}),
        )
        .await;
    }
    assert_eq!(mailboxes[1]["AutoExpandingArchiveEnabled"], false);
    let (status, _) = exo(
        &app,
        &tenant,
        "New-RetentionPolicy",
        json!({"Name": "Lag test"}),
    )
    .await;
    assert_eq!(status, 200);
    // A forced 200 on the write: Exchange acknowledges it without applying it (replication
    // lag), so the read-back still shows the old value.
    let cases = vec![
        (
            "ExecSetMailboxQuota",
            "Set-Mailbox",
            json!({"user": u, "quota": "12GB", "ProhibitSendQuota": true}),
            format!("Exchange accepted the quota 12GB for {u}, but reading it back shows ProhibitSendQuota is "),
        ),
        (
            "ExecSetMailboxEmailSize",
            "Set-Mailbox",
            json!({"UPN": u, "maxSendSize": 21}),
            format!("Exchange accepted the email max size for {u}, but reading it back shows MaxSendSize is 35 MB (36,700,160 bytes) instead of 22020096 bytes."),
        ),
        (
            "ExecSetMailboxLocale",
            "Set-MailboxRegionalConfiguration",
            json!({"user": u, "locale": "is-IS"}),
            format!("Exchange accepted the locale is-IS for {u}, but reading it back shows Language is "),
        ),
        (
            "ExecSetCalendarProcessing",
            "Set-CalendarProcessing",
            json!({"UPN": u, "allowConflicts": true}),
            format!("Exchange accepted the calendar processing settings for {u}, but reading it back shows AutomateProcessing is AutoUpdate instead of None, AllowConflicts is False instead of True"),
        ),
        (
            "ExecSetMailboxRetentionPolicies",
            "Set-Mailbox",
            json!({"PolicyName": "Lag test", "Mailboxes": [u]}),
            format!("Exchange accepted retention policy 'Lag test' for {u}, but reading it back shows RetentionPolicy is Default MRM Policy instead of Lag test."),
        ),
        (
            "ExecHideFromGAL",
            "Set-Mailbox",
            json!({"ID": u, "HideFromGAL": !hidden}),
            format!(
                "Exchange accepted {} {u} from the GAL, but reading it back shows HiddenFromAddressListsEnabled is {} instead of {}.",
                if hidden { "unhiding" } else { "hiding" },
                ps(hidden),
                ps(!hidden)
            ),
        ),
        (
            "ExecCopyForSent",
            "Set-Mailbox",
            json!({"ID": u, "messageCopyState": !copy}),
            format!(
                "Exchange accepted the sent items copy of {u}, but reading it back shows MessageCopyForSentAsEnabled is {} instead of {}",
                ps(copy),
                ps(!copy)
            ),
        ),
        (
            "ExecSetLitigationHold",
            "Set-Mailbox",
            json!({"Identity": u, "UPN": u, "disable": litigation}),
            format!(
                "Exchange accepted the litigation hold of {u}, but reading it back shows LitigationHoldEnabled is {} instead of {}.",
                ps(litigation),
                ps(!litigation)
            ),
        ),
        (
            "ExecSetRetentionHold",
            "Set-Mailbox",
            json!({"Identity": u, "UPN": u, "disable": retention}),
            format!(
                "Exchange accepted the retention hold of {u}, but reading it back shows RetentionHoldEnabled is {} instead of {}.",
                ps(retention),
                ps(!retention)
            ),
        ),
        (
            "ExecManageRetentionPolicies",
            "New-RetentionPolicy",
            json!({"CreatePolicies": [{"Name": "Lagging"}]}),
            "Exchange accepted creating retention policy Lagging, but reading it back failed, so it is not confirmed: ".to_owned(),
        ),
        (
            "ExecEnableAutoExpandingArchive",
            "Enable-Mailbox",
            json!({"ID": expanding, "username": expanding}),
            format!("Exchange accepted the auto-expanding archive of {expanding}, but reading it back shows AutoExpandingArchiveEnabled is False instead of True."),
        ),
    ];
    for (name, cmdlet, mut body, prefix) in cases {
        app.add_fault(json!({"cmdlet": cmdlet, "status": 200, "count": 1}))
            .await;
        body["tenantFilter"] = json!(tenant);
        let (status, answer) = post(&app, name, body).await;
        assert_eq!(status, 500, "{name}: {answer}");
        let text = first_text(&answer);
        assert!(text.starts_with(&prefix), "{name}: {answer}");
        assert!(!text.contains("Successfully"), "{name}: {answer}");
    }

    // A read-back that fails is reported as unconfirmed, not as done.
    app.add_fault(json!({"cmdlet": "Get-Mailbox", "status": 400, "count": 1}))
        .await;
    let (status, answer) = post(
        &app,
        "ExecSetRetentionHold",
        json!({"tenantFilter": tenant, "Identity": u, "UPN": u, "disable": true}),
    )
    .await;
    assert_eq!(status, 500, "{answer}");
    assert!(
        results(&answer).starts_with(&format!(
            "Exchange accepted the retention hold of {u}, but reading it back failed, so it is not confirmed: "
        )),
        "{answer}"
    );
    app.stop();
}
