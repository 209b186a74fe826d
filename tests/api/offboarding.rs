//! Offboarding as the CIPP wizard drives it (submit, progress polling, the scheduled-task list)
//! against the simulator, with every effect read back; scheduled runs and the signed webhook.

use crate::helpers::{TestApp, spawn_app, spawn_app_with, webhook_receiver};
use serde_json::{Value, json};
use std::time::Duration;

/// A licensed member with a user mailbox (not shared yet), not synced from AD.
async fn offboardable_user(app: &TestApp, tenant: &str, skip: usize) -> Value {
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    users
        .into_iter()
        .filter(|u| {
            u["userType"] == "Member"
                && u["onPremisesSyncEnabled"] != true
                && u["accountEnabled"] == true
                && !u["assignedLicenses"].as_array().unwrap().is_empty()
        })
        .nth(skip)
        .expect("a licensed cloud user")
}

/// Polls as the wizard does until every row is `succeeded` or `failed`.
pub(crate) async fn finished_rows(app: &TestApp, deployment: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    for _ in 0..300 {
        let rows: Vec<Value> = app
            .get_json(
                &format!("/api/ListOffboardingProgress?DeploymentId={deployment}"),
                &token,
            )
            .await;
        if !rows.is_empty()
            && rows
                .iter()
                .all(|r| r["Status"] == "succeeded" || r["Status"] == "failed")
        {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the offboarding did not finish in 30 s");
}

#[tokio::test]
async fn the_wizards_submit_progress_and_task_list_have_the_shapes_the_frontend_reads() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = offboardable_user(&app, &domain, 0).await;
    let upn = user["userPrincipalName"].as_str().unwrap().to_owned();
    let id = user["id"].as_str().unwrap().to_owned();
    let editor = app.token("editor").await;
    // The body as CippWizardOffboarding sends it: objects for the tenant and users, switches,
    // lower-case postExecution, the UI's bookkeeping fields.
    let response = app
        .post(
            "/api/ExecOffboardUser",
            Some(&editor),
            json!({
                "tenantFilter": {"label": format!("Tenant ({domain})"), "value": domain, "addedFields": {}},
                "user": [{"label": format!("Someone ({upn})"), "value": upn}],
                "RevokeSessions": true, "DisableSignIn": true, "ConvertToShared": true,
                "RemoveLicenses": true, "HideFromGAL": true, "ResetPass": true,
                "OOO": "<p>I have left the company.</p>",
                "DeleteUser": false, "KeepCopy": false,
                "Scheduled": {"enabled": false},
                "postExecution": {"webhook": false, "email": false, "psa": false},
                "reference": "T-4711",
                "HIDDEN_defaultsSource": "user",
            }),
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([format!("Task Offboarding: {upn} scheduled to run now")])
    );
    let deployment = body["DeploymentId"]
        .as_str()
        .expect("a DeploymentId")
        .to_owned();

    let rows = finished_rows(&app, &deployment).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["Status"], "succeeded", "{row:#}");
    assert_eq!(row["Name"], upn.as_str());
    assert_eq!(row["Source"], "Offboarding");
    assert_eq!(row["TenantFilter"], domain.as_str());
    assert!(row["LastUpdate"].as_str().unwrap().ends_with('Z'));
    let titles: Vec<&str> = row["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Revoke all sessions",
            "Reset password",
            "Disable sign in",
            "Hide from Global Address List",
            "Set Out of Office message",
            "Convert to shared mailbox",
            "Remove licenses",
        ],
        "CIPP's order"
    );
    for step in row["Steps"].as_array().unwrap() {
        assert_eq!(step["Status"], "succeeded", "{step}");
        assert_eq!(step["Kind"], "");
        assert!(!step["Message"].as_str().unwrap().is_empty());
    }
    assert!(
        row["Steps"][1]["Message"]
            .as_str()
            .unwrap()
            .contains("not recorded")
    );

    // The finished job leaves its own audit row: who queued it, the reference, every step.
    let superadmin = app.token("superadmin").await;
    let logs: Vec<Value> = app
        .get_json(
            "/api/ListLogs?Filter=true&API=ExecOffboardUser&Severity=Info",
            &superadmin,
        )
        .await;
    let done = logs
        .iter()
        .find(|r| r["LogData"]["ActorKind"] == "job")
        .expect("the job's audit row");
    assert_eq!(done["LogData"]["Parameters"]["reference"], "T-4711");
    assert_eq!(done["LogData"]["Target"], upn.as_str());
    assert!(
        done["Message"].as_str().unwrap().starts_with(&format!(
            "Offboarding completed for {upn}: 0 of 7 steps failed."
        )),
        "{done}"
    );
    assert!(
        logs.iter().any(|r| r["LogData"]["ActorKind"] != "job"
            && r["LogData"]["Parameters"]["reference"] == "T-4711"),
        "the submit's row carries the reference too"
    );

    // Every effect, read back from the simulator.
    let state = app.sim_user(&tenant.customer_id, &id).await;
    assert_eq!(state["accountEnabled"], false, "{state}");
    assert_eq!(state["assignedLicenses"], json!([]));
    let readonly = app.token("readonly").await;
    let mailbox: Vec<Value> = app
        .get_json(
            &format!("/api/ListUserMailboxDetails?tenantFilter={domain}&UserID={upn}"),
            &readonly,
        )
        .await;
    assert_eq!(mailbox[0]["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(mailbox[0]["HiddenFromAddressLists"], true);

    // The offboarding page's task list, as it asks for it.
    let items: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListScheduledItems?Type=Invoke-CIPPOffboardingJob&&tenantFilter={domain}"
            ),
            &readonly,
        )
        .await;
    let item = items
        .iter()
        .find(|i| i["RowKey"] == row["TaskId"])
        .expect("the job is listed");
    assert_eq!(item["TaskState"], "Completed");
    assert_eq!(item["Parameters"]["Username"], upn.as_str());
    assert_eq!(item["Reference"], "T-4711");
    assert_eq!(item["Tenant"]["value"], domain.as_str());
    let results: Vec<Value> = serde_json::from_str(item["Results"].as_str().unwrap()).unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["Results"] == format!("Successfully revoked sessions for {upn}"))
    );
    assert!(item["ExecutedTime"].as_str().is_some());
    app.stop();
}

#[tokio::test]
async fn a_bad_offboarding_request_gets_every_problem_in_one_400_and_queues_nothing() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let editor = app.token("editor").await;
    let response = app
        .post(
            "/api/ExecOffboardUser",
            Some(&editor),
            json!({"tenantFilter": domain, "user": ["not-a-upn"],
                "Scheduled": {"enabled": true},
                "postExecution": {"email": true}}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    let texts: Vec<&str> = body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for expected in [
        "These user values do not look like userPrincipalNames (missing '@'): not-a-upn.",
        "'Scheduled.enabled' is true but 'Scheduled.date' is not a valid Unix timestamp.",
        "No offboarding actions were selected.",
        "'postExecution.email'",
    ] {
        assert!(
            texts.iter().any(|t| t.starts_with(expected)),
            "{expected}: {texts:?}"
        );
    }
    let readonly = app.token("readonly").await;
    let items: Vec<Value> = app.get_json("/api/ListScheduledItems", &readonly).await;
    assert!(
        items
            .iter()
            .all(|i| i["RowKey"] == cipp_users_domain::demo::DEMO_TASK_ID),
        "nothing was queued beside the demo's task: {items:?}"
    );
    // The progress read names its missing parameter.
    let response = app
        .get("/api/ListOffboardingProgress", Some(&readonly))
        .await;
    assert_eq!(response.status().as_u16(), 400);
    app.stop();
}

#[tokio::test]
async fn a_scheduled_offboarding_waits_for_its_time_then_runs_once() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = offboardable_user(&app, &domain, 1).await;
    let upn = user["userPrincipalName"].as_str().unwrap().to_owned();
    let id = user["id"].as_str().unwrap().to_owned();
    let editor = app.token("editor").await;
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + 3;
    let response = app
        .post(
            "/api/ExecOffboardUser",
            Some(&editor),
            json!({"tenantFilter": domain, "user": [upn], "RevokeSessions": true,
                "DisableSignIn": true, "Scheduled": {"enabled": true, "date": at}}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert!(
        body["Results"][0].as_str().unwrap().starts_with(&format!(
            "Successfully added task: Offboarding: {upn}. It will run in"
        )),
        "{body}"
    );
    assert!(
        body.get("DeploymentId").is_none(),
        "a scheduled job is watched from its task"
    );
    let readonly = app.token("readonly").await;
    let items: Vec<Value> = app
        .get_json(
            &format!("/api/ListScheduledItems?TaskState=Planned&SearchTitle=*{upn}"),
            &readonly,
        )
        .await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        app.sim_user(&tenant.customer_id, &id).await["accountEnabled"],
        true
    );
    let task = items[0]["RowKey"].as_str().unwrap().to_owned();
    let mut state = String::new();
    for _ in 0..150 {
        let items: Vec<Value> = app
            .get_json(&format!("/api/ListScheduledItems?Id={task}"), &readonly)
            .await;
        state = items[0]["TaskState"].as_str().unwrap().to_owned();
        if state == "Completed" || state == "Failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "Completed");
    assert!(
        time::OffsetDateTime::now_utc().unix_timestamp() >= at,
        "not before its time"
    );
    assert_eq!(
        app.sim_user(&tenant.customer_id, &id).await["accountEnabled"],
        false
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.sim_count("invalidateAllRefreshTokens", None).await,
        1,
        "run once"
    );
    app.stop();
}

#[tokio::test]
async fn a_queued_task_can_be_removed_and_then_never_runs() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = offboardable_user(&app, &domain, 2).await;
    let upn = user["userPrincipalName"].as_str().unwrap().to_owned();
    let id = user["id"].as_str().unwrap().to_owned();
    let editor = app.token("editor").await;
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + 2;
    app.post(
        "/api/ExecOffboardUser",
        Some(&editor),
        json!({"tenantFilter": domain, "user": [upn], "DisableSignIn": true,
            "Scheduled": {"enabled": true, "date": at}}),
    )
    .await;
    let readonly = app.token("readonly").await;
    let items: Vec<Value> = app
        .get_json(
            &format!("/api/ListScheduledItems?Name=Offboarding: {upn}"),
            &readonly,
        )
        .await;
    assert_eq!(items.len(), 1);
    let task = items[0]["RowKey"].as_str().unwrap().to_owned();
    // Reading is not removing.
    let refused = app
        .post(
            "/api/RemoveScheduledItem",
            Some(&readonly),
            json!({"id": task}),
        )
        .await;
    assert_eq!(refused.status().as_u16(), 403);
    let admin = app.token("admin").await;
    let response = app
        .post(
            "/api/RemoveScheduledItem",
            Some(&admin),
            json!({"id": task}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["Results"], "Task removed successfully.");
    let again = app
        .post(
            "/api/RemoveScheduledItem",
            Some(&admin),
            json!({"id": task}),
        )
        .await;
    assert_eq!(again.status().as_u16(), 404);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        app.sim_user(&tenant.customer_id, &id).await["accountEnabled"],
        true
    );
    app.stop();
}

#[tokio::test]
async fn the_webhook_is_signed_retried_after_a_503_and_reports_every_step() {
    let (url, seen) = webhook_receiver(1).await;
    let app = spawn_app_with(|s| {
        s.webhook_url = Some(url.parse().unwrap());
        s.webhook_secret = Some("hook-secret".to_owned().into());
    })
    .await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = offboardable_user(&app, &domain, 3).await;
    let upn = user["userPrincipalName"].as_str().unwrap().to_owned();
    let editor = app.token("editor").await;
    let response = app
        .post(
            "/api/ExecOffboardUser",
            Some(&editor),
            json!({"tenantFilter": domain, "user": [upn], "RevokeSessions": true,
                "postExecution": {"webhook": true}, "reference": "T-9"}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    let deployment = body["DeploymentId"].as_str().unwrap().to_owned();
    let rows = finished_rows(&app, &deployment).await;
    let notify = rows[0]["Steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(notify["Title"], "Notify via Webhook");
    assert_eq!(notify["Kind"], "notify");
    assert_eq!(notify["Status"], "succeeded", "{notify}");
    let calls = seen.lock().clone();
    assert_eq!(calls.len(), 2, "one 503, then delivered");
    let (body, signature) = &calls[1];
    assert_eq!(
        signature,
        &cipp_users_domain::task_notify::signature("hook-secret", body)
    );
    let sent: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(sent["Tenant"], domain.as_str());
    assert_eq!(sent["TaskInfo"]["Reference"], "T-9");
    assert_eq!(
        sent["Results"],
        json!([{"Results": format!("Successfully revoked sessions for {upn}")}])
    );
    app.stop();
}

async fn wait_for_task(app: &TestApp, name: &str) -> Value {
    let readonly = app.token("readonly").await;
    for _ in 0..150 {
        let items: Vec<Value> = app
            .get_json(&format!("/api/ListScheduledItems?Name={name}"), &readonly)
            .await;
        if let Some(item) = items.first()
            && (item["TaskState"] == "Completed" || item["TaskState"] == "Failed")
        {
            return item.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the task {name} did not finish");
}

#[tokio::test]
async fn a_scheduled_add_user_creates_the_user_at_its_time_and_a_scheduled_edit_changes_it() {
    let (hook, delivered) = webhook_receiver(0).await;
    let app = spawn_app_with(|s| {
        s.webhook_url = Some(hook.parse().unwrap());
        s.webhook_secret = Some("user-hook".to_owned().into());
    })
    .await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let editor = app.token("editor").await;
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + 2;
    let mut create = json!({"tenantFilter": domain, "username": "later.starter",
        "primDomain": {"label": domain, "value": domain}, "displayName": "Later Starter",
        "givenName": "Later", "surname": "Starter", "password": "Chosen-Passw0rd!x",
        "Scheduled": {"enabled": true, "date": at}, "reference": "HR-7",
        "PostExecution": {"Webhook": false, "Email": true, "PSA": false}});
    // E-mail is not available here: refused, nothing queued.
    let refused = app
        .post("/api/AddUser", Some(&editor), create.clone())
        .await;
    assert_eq!(refused.status().as_u16(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(body.to_string().contains("'PostExecution.email'"), "{body}");
    create["PostExecution"] = json!({"Webhook": true, "Email": false, "PSA": false});
    let response = app
        .post("/api/AddUser", Some(&editor), create.clone())
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!(["Successfully created scheduled task to create user Later Starter"])
    );
    // The same task again, while it waits: not queued twice.
    let again = app.post("/api/AddUser", Some(&editor), create).await;
    assert_eq!(again.status().as_u16(), 409);
    let readonly = app.token("readonly").await;
    let upn = format!("later.starter@{domain}");
    let exists = |users: &Vec<Value>| users.iter().any(|u| u["userPrincipalName"] == upn.as_str());
    let before: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &readonly)
        .await;
    assert!(!exists(&before), "not created before its time");
    let name = format!("New user creation: {upn}");
    let item = wait_for_task(&app, &name).await;
    assert_eq!(item["TaskState"], "Completed", "{item}");
    assert_eq!(item["Command"], "New-CIPPUserTask");
    assert_eq!(item["Reference"], "HR-7");
    assert_eq!(item["PostExecution"], "Webhook");
    assert_eq!(item["Parameters"]["UserObj"]["password"], "[redacted]");
    assert!(!item.to_string().contains("Chosen-Passw0rd"), "{item}");
    let after: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &readonly)
        .await;
    assert!(exists(&after), "created at its time");

    let at = time::OffsetDateTime::now_utc().unix_timestamp() + 1;
    let response = app
        .post(
            "/api/EditUser",
            Some(&editor),
            json!({"tenantFilter": domain, "id": upn, "username": "later.starter",
                "Domain": domain, "displayName": "Later Starter", "jobTitle": "Buyer",
                "Scheduled": {"enabled": true, "date": at}}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["Results"],
        json!(["Successfully created scheduled task to edit user Later Starter"])
    );
    let item = wait_for_task(&app, "Edit user: Later Starter").await;
    assert_eq!(item["TaskState"], "Completed", "{item}");
    assert_eq!(item["Command"], "Set-CIPPUser");
    let user: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={domain}&UserID={upn}"),
            &readonly,
        )
        .await;
    assert_eq!(user[0]["jobTitle"], "Buyer");

    // Only the create asked for the webhook: one notice, its task's, without the password.
    assert_eq!(item["PostExecution"], "");
    let calls = delivered.lock().clone();
    assert_eq!(calls.len(), 1, "the edit asked for no notice");
    let (body, signature) = &calls[0];
    assert_eq!(
        signature,
        &cipp_users_domain::task_notify::signature("user-hook", body)
    );
    let sent: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(sent["TaskInfo"]["Name"], name.as_str());
    assert_eq!(sent["TaskInfo"]["Command"], "New-CIPPUserTask");
    assert_eq!(sent["TaskInfo"]["Reference"], "HR-7");
    assert_eq!(sent["Results"][1]["Results"], format!("Username: {upn}"));
    assert!(!sent.to_string().contains("Chosen-Passw0rd"), "{sent}");
    app.stop();
}

#[tokio::test]
async fn a_finished_offboarding_can_be_rerun_whole_or_one_step_as_the_progress_view_asks() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = offboardable_user(&app, &domain, 4).await;
    let upn = user["userPrincipalName"].as_str().unwrap().to_owned();
    let editor = app.token("editor").await;
    let body: Value = app
        .post(
            "/api/ExecOffboardUser",
            Some(&editor),
            json!({"tenantFilter": domain, "user": [upn], "RevokeSessions": true,
                "DisableSignIn": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let deployment = body["DeploymentId"].as_str().unwrap().to_owned();
    let rows = finished_rows(&app, &deployment).await;
    let task = rows[0]["TaskId"].as_str().unwrap().to_owned();
    assert_eq!(app.sim_count("invalidateAllRefreshTokens", None).await, 1);

    // What the progress view's "re-run this step" button posts.
    let response = app
        .post(
            "/api/ExecOffboardUser?Action=RerunStep",
            Some(&editor),
            json!({"TaskId": task, "StepIndex": 0, "StepTitle": "Revoke all sessions",
                "tenantFilter": domain}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["Results"],
        format!("Task Offboarding: {upn} - re-run Revoke all sessions scheduled to run now")
    );
    let rows = finished_rows(&app, &deployment).await;
    assert_eq!(rows[0]["Status"], "succeeded");
    assert_eq!(app.sim_count("invalidateAllRefreshTokens", None).await, 2);

    let response = app
        .post(
            "/api/ExecOffboardUser?Action=Rerun",
            Some(&editor),
            json!({"TaskId": task, "tenantFilter": domain}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["Results"],
        format!("Task Offboarding: {upn} scheduled to run now")
    );
    finished_rows(&app, &deployment).await;
    assert_eq!(app.sim_count("invalidateAllRefreshTokens", None).await, 3);

    // No id, another tenant's view of it, no step index: CIPP's texts.
    for (query, body, status, text) in [
        (
            "Rerun",
            json!({"tenantFilter": domain}),
            400,
            "TaskId is required",
        ),
        (
            "Rerun",
            json!({"TaskId": task, "tenantFilter": app.tenant(2).default_domain_name}),
            404,
            "No offboarding task with that id exists in this tenant",
        ),
        (
            "RerunStep",
            json!({"TaskId": task, "tenantFilter": domain}),
            400,
            "StepIndex is required",
        ),
    ] {
        let response = app
            .post(
                &format!("/api/ExecOffboardUser?Action={query}"),
                Some(&editor),
                body,
            )
            .await;
        assert_eq!(response.status().as_u16(), status);
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["Results"].as_str().unwrap().ends_with(text),
            "{answer}"
        );
    }
    app.stop();
}

#[tokio::test]
async fn remove_permissions_takes_the_users_rights_on_other_mailboxes_away() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let leaver = offboardable_user(&app, &domain, 5).await;
    let other = offboardable_user(&app, &domain, 6).await;
    let leaver = leaver["userPrincipalName"].as_str().unwrap().to_owned();
    let other = other["userPrincipalName"].as_str().unwrap().to_owned();
    let editor = app.token("editor").await;
    // The leaver gets full access, Send As and Send on Behalf on the other mailbox first.
    let body: Value = app
        .post(
            "/api/ExecOffboardUser",
            Some(&editor),
            json!({"tenantFilter": domain, "user": [other],
                "AccessNoAutomap": [{"label": "x", "value": leaver}],
                "AccessSendAs": [leaver], "AccessSendOnBehalf": [leaver]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let rows = finished_rows(&app, body["DeploymentId"].as_str().unwrap()).await;
    assert_eq!(rows[0]["Status"], "succeeded", "{:#}", rows[0]);

    let body: Value = app
        .post(
            "/api/ExecOffboardUser",
            Some(&editor),
            json!({"tenantFilter": domain, "user": [leaver], "removePermissions": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let rows = finished_rows(&app, body["DeploymentId"].as_str().unwrap()).await;
    let step = &rows[0]["Steps"][0];
    assert_eq!(step["Title"], "Remove user's mailbox permissions");
    assert_eq!(step["Status"], "succeeded", "{step}");
    let message = step["Message"].as_str().unwrap();
    for right in ["FullAccess", "SendAs", "SendOnBehalf"] {
        assert!(
            message.contains(&format!(
                "Removed {right} permissions for {leaver} from {other}'s mailbox."
            )),
            "{message}"
        );
    }
    let readonly = app.token("readonly").await;
    let details: Vec<Value> = app
        .get_json(
            &format!("/api/ListUserMailboxDetails?tenantFilter={domain}&UserID={other}"),
            &readonly,
        )
        .await;
    assert_eq!(details[0]["Mailbox"]["GrantSendOnBehalfTo"], json!([]));
    assert!(
        !details[0]["Permissions"].to_string().contains(&leaver),
        "{}",
        details[0]["Permissions"]
    );
    app.stop();
}
