//! ExecJITAdmin against the simulator: the new or existing user, the enable and expire tasks on
//! the job engine, the directory roles and group memberships they grant and take away, and the
//! JIT values of CIPP's schema extension that ListJITAdmin reads back.

use std::time::Duration;

use crate::helpers::{
    TestApp, correlation_id, drop_database, fresh_database, postgres_url, spawn_app,
    spawn_app_with, webhook_receiver,
};
use cipp_graph::GraphVersion;
use serde_json::{Value, json};

const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
/// Not active in a seeded tenant: the grant activates it first.
const PRIVILEGED_ROLE_ADMIN: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
const EXTENSION: &str = "extq7k2m9cp_cippUser";

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn exec(app: &TestApp, token: &str, body: Value) -> (u16, Value, String) {
    let response = app.post("/api/ExecJITAdmin", Some(token), body).await;
    let status = response.status().as_u16();
    let correlation = correlation_id(&response);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, correlation)
}

/// A group Graph lets us add members to: a plain security or Microsoft 365 group.
async fn writable_group(app: &TestApp, tenant_id: &str) -> (String, String) {
    let groups = app
        .graph
        .get_all(
            tenant_id,
            GraphVersion::V1,
            "groups?$select=id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled",
            &[],
        )
        .await
        .unwrap();
    let group = groups
        .iter()
        .find(|g| {
            let types = g["groupTypes"].to_string();
            g["onPremisesSyncEnabled"] != true
                && !types.contains("DynamicMembership")
                && (types.contains("Unified")
                    || (g["securityEnabled"] == true && g["mailEnabled"] == false))
        })
        .expect("a writable group");
    (
        group["id"].as_str().unwrap().to_owned(),
        group["displayName"].as_str().unwrap().to_owned(),
    )
}

/// Role template ids and group ids the user is a direct member of.
async fn memberships(app: &TestApp, tenant_id: &str, user: &str) -> (Vec<String>, Vec<String>) {
    let items = app
        .graph
        .get_all(
            tenant_id,
            GraphVersion::Beta,
            &format!("users/{user}/memberOf"),
            &[],
        )
        .await
        .unwrap();
    let roles = items
        .iter()
        .filter_map(|m| m["roleTemplateId"].as_str().map(str::to_owned))
        .collect();
    let groups = items
        .iter()
        .filter(|m| m["roleTemplateId"].is_null())
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .collect();
    (roles, groups)
}

async fn jit_rows(app: &TestApp, domain: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    let body: Value = app
        .get_json(&format!("/api/ListJITAdmin?tenantFilter={domain}"), &token)
        .await;
    body["Results"].as_array().unwrap().clone()
}

/// The task's state once it is no longer planned or running (polled, 100 ms apart).
async fn finished_task(app: &TestApp, name: &str) -> Value {
    let token = app.token("readonly").await;
    for _ in 0..150 {
        let items: Vec<Value> = app
            .get_json(
                &format!("/api/ListScheduledItems?Name={}", urlencoding(name)),
                &token,
            )
            .await;
        if let Some(item) = items.first()
            && item["TaskState"] != "Planned"
            && item["TaskState"] != "Running"
        {
            return item.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the task {name} did not finish");
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn a_new_jit_admin_is_created_granted_its_roles_and_group_and_loses_them_at_expiry() {
    let (hook, delivered) = webhook_receiver(0).await;
    let app = spawn_app_with(|s| {
        s.webhook_url = Some(hook.parse().unwrap());
        s.webhook_secret = Some("jit-hook".to_owned().into());
    })
    .await;
    let tenant = app.tenant(1).clone();
    let (tenant_id, domain) = (&tenant.customer_id, &tenant.default_domain_name);
    let (group, group_name) = writable_group(&app, tenant_id).await;
    let token = app.token("editor").await;
    let end = now() + 4;
    let (status, body, correlation) = exec(
        &app,
        &token,
        json!({
            "tenantFilter": {"label": domain, "value": domain},
            "userAction": "create",
            "FirstName": "Jit", "LastName": "Admin", "Username": "jit.admin",
            "Domain": {"label": domain, "value": domain},
            "usageLocation": {"label": "Netherlands", "value": "NL"},
            "AdminRoles": [
                {"label": "User Administrator", "value": USER_ADMIN},
                {"label": "Privileged Role Administrator", "value": PRIVILEGED_ROLE_ADMIN},
            ],
            "GroupMemberships": [{"label": group_name, "value": group}],
            "EndDate": end,
            "ExpireAction": {"label": "Remove Roles and Groups", "value": "RemoveRolesAndGroups"},
            "Reason": "Ticket 42",
            "postExecution": [{"label": "Webhook", "value": "Webhook"}],
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let upn = format!("jit.admin@{domain}");
    let results = body["Results"].as_array().unwrap();
    assert_eq!(results.len(), 5, "{body}");
    assert_eq!(
        results[0],
        json!({"resultText": format!("Created User: {upn}"), "copyField": upn, "state": "success"})
    );
    let password = results[1]["copyField"].as_str().unwrap().to_owned();
    assert_eq!(results[1]["resultText"], format!("Password: {password}"));
    assert!(password.len() >= 12, "{password}");
    let expires = results[2].as_str().unwrap();
    assert!(expires.starts_with("JIT Admin Expires: "), "{expires}");
    assert_eq!(
        results[3],
        format!("Queued JIT Admin enable task for {upn} to run now")
    );
    assert_eq!(
        results[4],
        format!("Scheduling JIT Admin RemoveRolesAndGroups task for {upn}")
    );

    // The user exists with the usage location and the JIT values, not yet enabled.
    let created = app
        .graph
        .get(
            tenant_id,
            GraphVersion::Beta,
            &format!("users/{upn}?$select=id,displayName,usageLocation,accountEnabled,{EXTENSION}"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(created["displayName"], "Jit Admin");
    assert_eq!(created["usageLocation"], "NL");
    let id = created["id"].as_str().unwrap().to_owned();

    // The enable task runs at once and grants both roles (activating one) and the group.
    let enable = finished_task(&app, &format!("JIT Admin (enable): {upn}")).await;
    assert_eq!(enable["TaskState"], "Completed", "{enable}");
    assert_eq!(enable["Command"], "Set-CIPPUserJITAdmin");
    assert_eq!(enable["Parameters"]["Action"], "AddRolesAndGroups");
    assert!(
        enable["Results"].as_str().unwrap().contains(&format!(
            "Added admin roles and group memberships for user Jit Admin ({upn}). Reason: Ticket 42"
        )),
        "{enable}"
    );
    let (roles, groups) = memberships(&app, tenant_id, &id).await;
    assert!(roles.contains(&USER_ADMIN.to_owned()), "{roles:?}");
    assert!(
        roles.contains(&PRIVILEGED_ROLE_ADMIN.to_owned()),
        "{roles:?}"
    );
    assert!(groups.contains(&group), "{groups:?}");
    let row = jit_rows(&app, domain)
        .await
        .into_iter()
        .find(|r| r["userPrincipalName"] == upn.as_str())
        .expect("ListJITAdmin lists the new admin");
    assert_eq!(row["jitAdminEnabled"], true);
    assert_eq!(row["jitAdminReason"], "Ticket 42");
    assert_eq!(
        row["jitAdminCreatedBy"],
        "Demo editor client (c1990000-0000-4000-8000-000000000012)"
    );
    let expiration = row["jitAdminExpiration"].as_str().unwrap();
    assert!(
        expiration.ends_with('Z') && expiration.len() == 20,
        "{expiration}"
    );

    // At the end the expire task takes the roles and the group away and clears the values.
    let expire = finished_task(&app, &format!("JIT Admin (RemoveRolesAndGroups): {upn}")).await;
    assert_eq!(expire["TaskState"], "Completed", "{expire}");
    assert!(now() >= end, "not before its time");
    let (roles, groups) = memberships(&app, tenant_id, &id).await;
    assert!(!roles.contains(&USER_ADMIN.to_owned()), "{roles:?}");
    assert!(
        !roles.contains(&PRIVILEGED_ROLE_ADMIN.to_owned()),
        "{roles:?}"
    );
    assert!(!groups.contains(&group), "{groups:?}");
    assert!(
        !jit_rows(&app, domain)
            .await
            .iter()
            .any(|r| r["userPrincipalName"] == upn.as_str()),
        "the JIT values are cleared"
    );

    // Each task ended by telling the webhook, signed, with its own outcome and never the
    // password.
    assert_eq!(enable["PostExecution"], "Webhook");
    assert_eq!(expire["PostExecution"], "Webhook");
    let calls = delivered.lock().clone();
    assert_eq!(calls.len(), 2, "one notice per task");
    let mut names = Vec::new();
    for (body, signature) in &calls {
        assert_eq!(
            signature,
            &cipp_users_domain::task_notify::signature("jit-hook", body)
        );
        let sent: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(sent["Tenant"], domain.as_str());
        assert_eq!(sent["TaskInfo"]["Command"], "Set-CIPPUserJITAdmin");
        assert_eq!(sent["TaskInfo"]["FailedSteps"], 0);
        assert!(!sent.to_string().contains(&password));
        names.push(sent["TaskInfo"]["Name"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        names,
        [
            format!("JIT Admin (enable): {upn}"),
            format!("JIT Admin (RemoveRolesAndGroups): {upn}")
        ]
    );
    let first: Value = serde_json::from_slice(&calls[0].0).unwrap();
    assert!(
        first["Results"][0]["Results"]
            .as_str()
            .unwrap()
            .starts_with("Added admin roles and group memberships"),
        "{first}"
    );

    // The password reached the caller only.
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
    assert!(!rows[0].to_string().contains(&password), "{}", rows[0]);
    app.stop();
}

#[tokio::test]
async fn an_existing_user_scheduled_for_later_shows_as_scheduled_gets_a_tap_and_is_disabled_by_the_expiry()
 {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let (tenant_id, domain) = (&tenant.customer_id, &tenant.default_domain_name);
    let users = app
        .graph
        .get_all(
            tenant_id,
            GraphVersion::V1,
            "users?$select=id,userPrincipalName,accountEnabled,userType,onPremisesSyncEnabled&$top=50",
            &[],
        )
        .await
        .unwrap();
    let user = users
        .iter()
        .find(|u| {
            u["accountEnabled"] == true
                && u["userType"] == "Member"
                && u["onPremisesSyncEnabled"] != true
        })
        .expect("a cloud member");
    let (id, upn) = (
        user["id"].as_str().unwrap().to_owned(),
        user["userPrincipalName"].as_str().unwrap().to_owned(),
    );
    let token = app.token("editor").await;
    let (start, end) = (now() + 3600, now() + 7200);
    let (status, body, _) = exec(
        &app,
        &token,
        json!({
            "tenantFilter": domain, "userAction": "select",
            "existingUser": {"label": upn, "value": id},
            "AdminRoles": [{"label": "User Administrator", "value": USER_ADMIN}],
            "StartDate": start, "EndDate": end,
            "ExpireAction": {"label": "Disable User", "value": "DisableUser"},
            "reason": "Quarterly review", "UseTAP": true,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let results = body["Results"].as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"resultText": format!("User: {upn}"), "copyField": upn, "state": "success"})
    );
    let tap = results[1]["copyField"].as_str().unwrap();
    assert!(!tap.is_empty(), "{body}");
    assert_eq!(
        results[1]["resultText"],
        format!("Temporary Access Pass: {tap}")
    );
    let tap_line = results[2].as_str().unwrap();
    assert!(
        tap_line.starts_with("This TAP is usable starting at ")
            && tap_line.ends_with(" UTC for the next 60 minutes"),
        "{tap_line}"
    );
    assert_eq!(
        results[3],
        format!("Scheduling JIT Admin enable task for {upn}")
    );
    assert_eq!(
        results[4],
        format!("Scheduling JIT Admin DisableUser task for {upn}")
    );

    // Both tasks wait; the user shows as a scheduled (not yet enabled) JIT admin.
    let readonly = app.token("readonly").await;
    let items: Vec<Value> = app
        .get_json(
            &format!("/api/ListScheduledItems?Type=Set-CIPPUserJITAdmin&tenantFilter={domain}"),
            &readonly,
        )
        .await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().all(|i| i["TaskState"] == "Planned"));
    let row = jit_rows(&app, domain)
        .await
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .expect("listed as scheduled");
    assert_eq!(row["jitAdminEnabled"], false);
    assert_eq!(row["jitAdminReason"], "Quarterly review");
    assert!(row["jitAdminStartDate"].is_string());
    let (roles, _) = memberships(&app, tenant_id, &id).await;
    assert!(!roles.contains(&USER_ADMIN.to_owned()));

    // The expire task's step, run now instead of in two hours.
    let expire = items
        .iter()
        .find(|i| i["Name"] == format!("JIT Admin (DisableUser): {upn}"))
        .unwrap();
    let job = app
        .jobs
        .job(expire["RowKey"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let due_in = job.run_at / 1_000_000 - now();
    assert!((7000..=7200).contains(&due_in), "due in {due_in} s");
    let payload: cipp_users_domain::jit_admin::JitTaskPayload =
        serde_json::from_value(job.payload).unwrap();
    let mut parameters = payload.parameters;
    parameters.tenant_filter = payload.tenant_id;
    let text = cipp_users_domain::jit_admin::run_action(&app.graph, &parameters)
        .await
        .unwrap();
    assert!(text.starts_with("Disabled user "), "{text}");
    assert_eq!(app.sim_user(tenant_id, &id).await["accountEnabled"], false);
    assert!(
        !jit_rows(&app, domain)
            .await
            .iter()
            .any(|r| r["id"] == id.as_str()),
        "the JIT values are cleared"
    );
    app.stop();
}

#[tokio::test]
async fn a_duration_over_the_configured_maximum_is_refused_with_cipps_text() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    app.store
        .kv_put("JITAdminSettings", &json!({"MaxDuration": "PT1H"}), None)
        .await
        .unwrap();
    let token = app.token("editor").await;
    let start = now() + 600;
    let (status, body, _) = exec(
        &app,
        &token,
        json!({"tenantFilter": domain, "existingUser": {"value": "someone@example.com"},
            "StartDate": start, "EndDate": start + 7200,
            "ExpireAction": {"value": "RemoveRoles"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["Results"],
        json!([
            "Requested JIT Admin duration (0.08 days) exceeds the maximum allowed duration of PT1H (0.04 days)"
        ])
    );
    let readonly = app.token("readonly").await;
    let items: Vec<Value> = app
        .get_json(
            "/api/ListScheduledItems?Type=Set-CIPPUserJITAdmin",
            &readonly,
        )
        .await;
    assert!(items.is_empty(), "{items:?}");
    app.stop();
}

#[tokio::test]
async fn the_wrong_role_is_403_and_bad_input_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let end = now() + 3600;
    let base = json!({"tenantFilter": domain, "existingUser": {"value": "someone@example.com"},
        "EndDate": end, "ExpireAction": {"value": "RemoveRoles"}});
    let readonly = app.token("readonly").await;
    let (status, body, _) = exec(&app, &readonly, base.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.to_string().contains("Identity.Role.ReadWrite"),
        "{body}"
    );

    let token = app.token("editor").await;
    let cases = [
        ("ExpireAction", json!(null)),
        ("ExpireAction", json!({"value": "Explode"})),
        ("EndDate", json!(null)),
        ("EndDate", json!("tomorrow")),
        ("AdminRoles", json!([{"label": "x", "value": "not-a-guid"}])),
        ("existingUser", json!({"value": "not a user"})),
        // No e-mail or PSA here, and no webhook is configured in this app.
        (
            "postExecution",
            json!([{"label": "Email", "value": "email"}]),
        ),
        (
            "postExecution",
            json!([{"label": "Webhook", "value": "Webhook"}]),
        ),
    ];
    for (field, value) in cases {
        let mut body = base.clone();
        if value.is_null() {
            body.as_object_mut().unwrap().remove(field);
        } else {
            body[field] = value;
        }
        let (status, answer, _) = exec(&app, &token, body).await;
        assert_eq!(status, 400, "{field}: {answer}");
        assert!(answer.to_string().contains(field), "{field}: {answer}");
    }
    let mut create = base.clone();
    create["userAction"] = json!("Create");
    create["Username"] = json!("jit");
    let (status, answer, _) = exec(&app, &token, create).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("Domain"), "{answer}");

    let mut nobody = base.clone();
    nobody.as_object_mut().unwrap().remove("existingUser");
    let (status, answer, _) = exec(&app, &token, nobody).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["Results"],
        json!(["Could not resolve username from existingUser value: "])
    );
    app.stop();
}

#[tokio::test]
async fn a_graph_refusal_of_the_new_user_is_cipps_400_and_nothing_is_scheduled() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    app.add_fault(json!({"path": "/beta/users", "method": "POST", "status": 403}))
        .await;
    let token = app.token("editor").await;
    let (status, body, _) = exec(
        &app,
        &token,
        json!({"tenantFilter": domain, "userAction": "create", "Username": "jit2",
            "Domain": domain, "FirstName": "Jit", "LastName": "Two",
            "AdminRoles": [{"value": USER_ADMIN}],
            "EndDate": now() + 3600, "ExpireAction": {"value": "DeleteUser"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let text = body["Results"][0].as_str().unwrap();
    assert!(
        text.starts_with("Failed to create JIT Admin user: "),
        "{text}"
    );
    let readonly = app.token("readonly").await;
    let items: Vec<Value> = app
        .get_json(
            "/api/ListScheduledItems?Type=Set-CIPPUserJITAdmin",
            &readonly,
        )
        .await;
    assert!(items.is_empty(), "{items:?}");
    app.stop();
}

async fn post_text(app: &TestApp, token: &str, name: &str, body: Value) -> (u16, Value) {
    let response = app.post(&format!("/api/{name}"), Some(token), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn jit_role_templates_are_added_edited_listed_and_removed() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let readonly = app.token("readonly").await;
    let roles = json!([{"label": "User Administrator", "value": USER_ADMIN}]);
    let (status, body) = post_text(
        &app,
        &token,
        "AddJITRoleTemplate",
        json!({"templateName": "Tier 1", "roles": roles}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let text = body["Results"].as_str().unwrap();
    let guid = text
        .strip_prefix("Created JIT Role Template 'Tier 1' with GUID ")
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();

    let listed: Vec<Value> = app
        .get_json(&format!("/api/ListJITRoleTemplates?GUID={guid}"), &readonly)
        .await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["templateName"], "Tier 1");
    assert_eq!(listed[0]["roles"], roles);
    assert_eq!(listed[0]["GUID"], guid.as_str());
    assert_eq!(
        listed[0]["createdBy"],
        "Demo editor client (c1990000-0000-4000-8000-000000000012)"
    );
    let all: Vec<Value> = app.get_json("/api/ListJITRoleTemplates", &readonly).await;
    let names: Vec<&str> = all
        .iter()
        .map(|t| t["templateName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Demo helpdesk", "Demo service desk", "Tier 1"]);

    // A name taken (any case) is refused; so is a template without roles.
    let (status, body) = post_text(
        &app,
        &token,
        "AddJITRoleTemplate",
        json!({"templateName": "demo HELPDESK", "roles": roles}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["Results"],
        "Failed to create JIT Role Template: A JIT Role Template with name 'demo HELPDESK' already exists"
    );
    let (status, body) = post_text(
        &app,
        &token,
        "AddJITRoleTemplate",
        json!({"templateName": "Empty", "roles": []}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("roles"), "{body}");

    let (status, body) = post_text(
        &app,
        &token,
        "EditJITRoleTemplate",
        json!({"GUID": guid, "templateName": "Tier 2",
            "roles": [{"label": "Helpdesk Administrator", "value": "729827e3-9c14-49f7-bb1b-9608f156bbb8"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        format!("Updated JIT Role Template 'Tier 2' (GUID: {guid})")
    );
    let listed: Vec<Value> = app
        .get_json(&format!("/api/ListJITRoleTemplates?GUID={guid}"), &readonly)
        .await;
    assert_eq!(listed[0]["templateName"], "Tier 2");
    assert_eq!(listed[0]["createdDate"].as_str().unwrap().len(), 20);
    assert!(listed[0]["modifiedBy"].is_string());
    let (status, _) = post_text(
        &app,
        &token,
        "EditJITRoleTemplate",
        json!({"GUID": "5eed0fff-0000-4000-8000-000000000fff", "templateName": "X", "roles": roles}),
    )
    .await;
    assert_eq!(status, 404);

    let (status, body) = post_text(
        &app,
        &readonly,
        "RemoveJITRoleTemplate",
        json!({"ID": guid}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) =
        post_text(&app, &token, "RemoveJITRoleTemplate", json!({"ID": guid})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        format!("Successfully deleted JIT Role Template with ID: {guid}")
    );
    let (status, body) =
        post_text(&app, &token, "RemoveJITRoleTemplate", json!({"ID": guid})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["Results"],
        format!("JIT Role Template with ID {guid} not found")
    );
    let (status, body) =
        post_text(&app, &token, "RemoveJITRoleTemplate", json!({"ID": "nope"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("ID"), "{body}");
    app.stop();
}

#[tokio::test]
async fn list_jit_allowed_roles_answers_unrestricted() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let body: Value = app.get_json("/api/ListJITAllowedRoles", &token).await;
    assert_eq!(body, json!({"Restricted": false, "AllowedRoleIds": []}));
    app.stop();
}

#[tokio::test]
async fn a_failed_lookup_of_an_existing_users_id_surfaces_graphs_error_and_nothing_is_scheduled() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let id = "0b7e3c55-1d2f-4a6b-9c8d-7e6f5a4b3c2d";
    app.add_fault(json!({"path": format!("/v1.0/users/{id}"), "method": "GET", "status": 503}))
        .await;
    let token = app.token("editor").await;
    let (status, body, _) = exec(
        &app,
        &token,
        json!({"tenantFilter": tenant.default_domain_name, "existingUser": {"value": id},
            "AdminRoles": [{"value": USER_ADMIN}],
            "EndDate": now() + 3600, "ExpireAction": {"value": "RemoveRoles"}}),
    )
    .await;
    assert!(status >= 500, "{status} {body}");
    assert!(
        body["Results"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    let readonly = app.token("readonly").await;
    let items: Vec<Value> = app
        .get_json(
            "/api/ListScheduledItems?Type=Set-CIPPUserJITAdmin",
            &readonly,
        )
        .await;
    assert!(items.is_empty(), "{items:?}");
    app.stop();
}

#[tokio::test]
async fn with_approvals_required_a_request_waits_for_an_approver_and_is_provisioned_once_approved()
{
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let (tenant_id, domain) = (&tenant.customer_id, &tenant.default_domain_name);
    app.store
        .kv_put(
            "JITAdminSettings",
            &json!({"RequireApproval": true, "ApproverRoles": "[\"admin\"]", "RequiredApprovals": 1}),
            None,
        )
        .await
        .unwrap();
    let users = app
        .graph
        .get_all(
            tenant_id,
            GraphVersion::V1,
            "users?$select=id,userPrincipalName,userType&$top=20",
            &[],
        )
        .await
        .unwrap();
    let user = users.iter().find(|u| u["userType"] == "Member").unwrap();
    let (id, upn) = (
        user["id"].as_str().unwrap().to_owned(),
        user["userPrincipalName"].as_str().unwrap().to_owned(),
    );
    let editor = app.token("editor").await;
    let admin = app.token("admin").await;
    let (status, body, _) = exec(
        &app,
        &editor,
        json!({"tenantFilter": domain, "existingUser": {"label": upn, "value": upn},
            "AdminRoles": [{"label": "User Administrator", "value": USER_ADMIN}],
            "EndDate": now() + 60, "ExpireAction": {"value": "RemoveRoles"}, "reason": "Ticket 7"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([format!(
            "JIT Admin request for {upn} submitted for approval. It needs 1 approval(s) from: admin."
        )])
    );
    let readonly = app.token("readonly").await;
    let tasks: Vec<Value> = app
        .get_json(
            "/api/ListScheduledItems?Type=Set-CIPPUserJITAdmin",
            &readonly,
        )
        .await;
    assert!(tasks.is_empty(), "nothing is provisioned yet: {tasks:?}");

    let list = |token: String| {
        let app = &app;
        let url = format!("/api/ListJITAdminRequests?tenantFilter={domain}");
        async move { app.get_json::<Vec<Value>>(&url, &token).await }
    };
    let rows = list(admin.clone()).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let request = rows[0]["RequestId"].as_str().unwrap().to_owned();
    assert_eq!(rows[0]["State"], "Pending");
    assert_eq!(rows[0]["Roles"], "User Administrator");
    assert_eq!(rows[0]["Approvals"], "0 of 1");
    assert_eq!(rows[0]["CanApprove"], true);
    assert_eq!(list(editor.clone()).await[0]["CanApprove"], false);

    let decide = |token: String, body: Value| {
        let app = &app;
        async move {
            let response = app
                .post("/api/ExecJITAdminRequestDecision", Some(&token), body)
                .await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = decide(
        editor.clone(),
        json!({"tenantFilter": domain, "RequestId": request, "Decision": "Approve"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["Results"],
        json!(["You cannot approve your own request."])
    );
    let (status, body) = decide(
        editor.clone(),
        json!({"tenantFilter": domain, "RequestId": request, "Decision": "Reject", "Note": "no"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["Results"],
        json!(["Only users with one of these roles can decide on this request: admin"])
    );
    let (status, body) = decide(
        admin.clone(),
        json!({"tenantFilter": domain, "RequestId": request, "Decision": "Reject"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["Results"],
        json!(["A note is required when rejecting a request."])
    );
    let (status, body) = decide(
        admin.clone(),
        json!({"tenantFilter": domain, "RequestId": request, "Decision": "Approve"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let lines: Vec<&str> = body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        lines[0],
        format!("Approved the JIT Admin request for {upn}.")
    );
    assert!(
        lines.contains(&format!("User: {upn}").as_str()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Sign-in credentials were not generated. The requester can create a TAP or reset the password from the JIT Admin page."),
        "{lines:?}"
    );

    let enable = finished_task(&app, &format!("JIT Admin (enable): {upn}")).await;
    assert_eq!(enable["TaskState"], "Completed", "{enable}");
    let (roles, _) = memberships(&app, tenant_id, &id).await;
    assert!(roles.contains(&USER_ADMIN.to_owned()), "{roles:?}");
    let row = jit_rows(&app, domain)
        .await
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap();
    assert_eq!(
        row["jitAdminCreatedBy"], "Demo editor client (c1990000-0000-4000-8000-000000000012)",
        "the requester, not the approver"
    );
    let rows = list(admin.clone()).await;
    assert_eq!(rows[0]["State"], "Completed");
    assert!(rows[0]["Results"].as_str().unwrap().contains("User: "));

    // Provisioned once: neither a second decision nor the requester can run it again.
    let (status, body) = decide(
        admin.clone(),
        json!({"tenantFilter": domain, "RequestId": request, "Decision": "Approve"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["Results"],
        json!(["This request is already completed."])
    );
    let (status, body, _) = exec(
        &app,
        &editor,
        json!({"tenantFilter": domain, "ApprovalRequestId": request}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["Results"],
        json!(["This JIT admin request is not approved or has already been provisioned."])
    );
    app.stop();
}

#[tokio::test]
async fn with_approvals_required_an_enable_task_no_completed_request_covers_is_blocked() {
    use cipp_jobs::{JobKind, JobRow, JobState, StepRow, StepState};
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    app.store
        .kv_put(
            "JITAdminSettings",
            &json!({"RequireApproval": true, "ApproverRoles": ["admin"]}),
            None,
        )
        .await
        .unwrap();
    let users = app
        .graph
        .get_all(
            &tenant.customer_id,
            GraphVersion::V1,
            "users?$select=id,userPrincipalName&$top=5",
            &[],
        )
        .await
        .unwrap();
    let (id, upn) = (
        users[0]["id"].as_str().unwrap().to_owned(),
        users[0]["userPrincipalName"].as_str().unwrap().to_owned(),
    );
    let payload = json!({
        "Command": "Set-CIPPUserJITAdmin",
        "TenantId": tenant.customer_id,
        "Parameters": {
            "TenantFilter": tenant.default_domain_name, "UserPrincipalName": upn,
            "Roles": [USER_ADMIN], "Groups": [], "Action": "AddRoles", "Reason": null,
            "Expiration": now() + 3600, "StartDate": now(), "CreatedBy": "someone",
            "Extension": EXTENSION,
        },
    });
    let job = JobRow {
        id: "j".into(),
        deployment_id: "d".into(),
        kind: "jit-admin".into(),
        tenant: tenant.default_domain_name.clone(),
        title: format!("JIT Admin (enable): {upn}"),
        reference: None,
        created_by: None,
        payload,
        state: JobState::Running,
        run_at: 0,
        created_at: 0,
        started_at: None,
        finished_at: None,
        failed_steps: 0,
    };
    let step = StepRow {
        idx: 0,
        name: "AddRoles".into(),
        idempotent: true,
        state: StepState::Running,
        message: None,
        started_at: None,
        ended_at: None,
        attempts: 1,
    };
    let before = memberships(&app, &tenant.customer_id, &id).await.0;
    let kind =
        cipp_users_domain::jit_admin::JitAdminJob::new(app.graph.clone(), app.store.clone(), None);
    let outcome = kind.run_step(&job, &step, &[]).await;
    assert_eq!(outcome.state, StepState::Failed);
    assert_eq!(
        outcome.message,
        format!("Blocked JIT Admin elevation of {upn}: no approved JIT Admin request covers it")
    );
    assert_eq!(memberships(&app, &tenant.customer_id, &id).await.0, before);
    app.stop();
}

/// Two approvers on two replicas sharing one PostgreSQL database decide on the same request at
/// once: one decision lands and provisions it, the other is told, and one enable task exists.
#[tokio::test]
async fn two_decisions_at_once_on_two_replicas_provision_the_request_once() {
    let test = "two_decisions_at_once_on_two_replicas_provision_the_request_once";
    let Some(server) = postgres_url(test) else {
        return;
    };
    let (database, name) = fresh_database(&server).await;
    let configure = |settings: &mut cipp_api::settings::Settings| {
        settings.database_url = Some(secrecy::SecretString::from(database.clone()));
    };
    let first = spawn_app_with(configure).await;
    let second = spawn_app_with(configure).await;
    let tenant = first.tenant(1).clone();
    let domain = &tenant.default_domain_name;
    first
        .store
        .kv_put(
            "JITAdminSettings",
            &json!({"RequireApproval": true, "ApproverRoles": ["admin", "superadmin"], "RequiredApprovals": 1}),
            None,
        )
        .await
        .unwrap();
    let upn = first
        .graph
        .get_all(
            &tenant.customer_id,
            GraphVersion::V1,
            "users?$select=userPrincipalName,userType&$top=20",
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .find(|u| u["userType"] == "Member")
        .unwrap()["userPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    let editor = first.token("editor").await;
    let (status, body, _) = exec(
        &first,
        &editor,
        json!({"tenantFilter": domain, "existingUser": {"label": upn, "value": upn},
            "AdminRoles": [{"label": "User Administrator", "value": USER_ADMIN}],
            "EndDate": now() + 60, "ExpireAction": {"value": "RemoveRoles"}, "reason": "Ticket 9"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let admin = second.token("admin").await;
    let rows: Vec<Value> = second
        .get_json(
            &format!("/api/ListJITAdminRequests?tenantFilter={domain}"),
            &admin,
        )
        .await;
    let request = rows[0]["RequestId"].as_str().unwrap().to_owned();

    let body = json!({"tenantFilter": domain, "RequestId": request, "Decision": "Approve"});
    let decide = async |app: &TestApp, token: String| {
        let response = app
            .post(
                "/api/ExecJITAdminRequestDecision",
                Some(&token),
                body.clone(),
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    };
    let superadmin = first.token("superadmin").await;
    let (a, b) = tokio::join!(decide(&first, superadmin), decide(&second, admin));
    let outcomes = [a, b];
    let landed: Vec<&(u16, Value)> = outcomes.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(landed.len(), 1, "exactly one decision lands: {outcomes:?}");
    assert_eq!(
        landed[0].1["Results"][0],
        format!("Approved the JIT Admin request for {upn}.")
    );
    let (status, told) = outcomes.iter().find(|(s, _)| *s != 200).unwrap();
    // Raced: the store refused the second write; or it came after and saw the first.
    let expected = match status {
        409 => json!(["This request was updated by someone else. Refresh and try again."]),
        _ => json!(["This request is already completed."]),
    };
    assert_eq!(told["Results"], expected, "{status}");

    let readonly = first.token("readonly").await;
    let tasks: Vec<Value> = first
        .get_json(
            &format!(
                "/api/ListScheduledItems?Name={}",
                urlencoding(&format!("JIT Admin (enable): {upn}"))
            ),
            &readonly,
        )
        .await;
    assert_eq!(tasks.len(), 1, "one enable task: {tasks:?}");
    first.stop();
    second.stop();
    drop_database(&server, &name).await;
}
