//! ExecResetMFA, ExecCreateTAP, ExecPerUserMFA, ExecSetDefaultMFAMethod,
//! ExecPasswordNeverExpires, ExecDismissRiskyUser, ExecClrImmId and ExecSetCloudManaged against
//! the simulator: each performed and its effect read back; readonly callers refused, missing or
//! bad parameters named, Graph failures answered with CIPP's texts. The user-id checks and the
//! unconfirmed-answer checks also cover ExecResetPass, ExecRevokeSessions and RemoveUser.

use crate::helpers::{TestApp, correlation_id, results, spawn_app};
use serde_json::{Value, json};

async fn users(app: &TestApp, tenant: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    app.get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await
}

fn members(users: &[Value], synced: bool) -> Vec<Value> {
    users
        .iter()
        .filter(|u| u["onPremisesSyncEnabled"] == synced && u["userType"] != "Guest")
        .cloned()
        .collect()
}

/// Graph read through the API's own proxy (`ListGraphRequest`); the `Results` rows.
async fn graph_rows(app: &TestApp, tenant: &str, endpoint: &str, version: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    let response = app
        .http
        .get(format!("{}/api/ListGraphRequest", app.address))
        .query(&[
            ("tenantFilter", tenant),
            ("Endpoint", endpoint),
            ("Version", version),
        ])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{endpoint}");
    let body: Value = response.json().await.unwrap();
    body["Results"].as_array().cloned().unwrap_or_default()
}

async fn methods(app: &TestApp, tenant: &str, user: &str) -> Vec<Value> {
    graph_rows(
        app,
        tenant,
        &format!("users/{user}/authentication/methods"),
        "v1.0",
    )
    .await
}

fn of_type(methods: &[Value], short: &str) -> Vec<Value> {
    let wanted = format!("#microsoft.graph.{short}AuthenticationMethod");
    methods
        .iter()
        .filter(|m| m["@odata.type"] == wanted.as_str())
        .cloned()
        .collect()
}

/// A cloud member of the tenant with a Microsoft Authenticator registration.
async fn authenticator_user(app: &TestApp, tenant: &str) -> (Value, Vec<Value>) {
    for user in members(&users(app, tenant).await, false) {
        let registered = methods(app, tenant, user["id"].as_str().unwrap()).await;
        if !of_type(&registered, "microsoftAuthenticator").is_empty() {
            return (user, registered);
        }
    }
    panic!("no seeded user with Microsoft Authenticator in {tenant}");
}

async fn call(app: &TestApp, token: &str, name: &str, body: Value) -> (u16, Value) {
    let response = app.post(&format!("/api/{name}"), Some(token), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn get_call(app: &TestApp, token: &str, path_and_query: &str) -> (u16, Value) {
    let response = app.get(path_and_query, Some(token)).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

const GHOST: &str = "6a3b7c1e-0000-4000-8000-00000000dead";

#[tokio::test]
async fn reset_mfa_removes_one_method_then_all_but_the_password() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let (user, before) = authenticator_user(&app, &tenant).await;
    let (id, upn) = (
        user["id"].as_str().unwrap(),
        user["userPrincipalName"].as_str().unwrap(),
    );
    let token = app.token("editor").await;
    let one = &of_type(&before, "microsoftAuthenticator")[0];
    let (status, body) = call(
        &app,
        &token,
        "ExecResetMFA",
        json!({"tenantFilter": tenant, "ID": upn, "MethodId": one["id"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully removed MFA method (microsoftAuthenticatorMethod) for user {upn}")
    );
    let after_one = methods(&app, &tenant, id).await;
    assert_eq!(after_one.len(), before.len() - 1);
    let removable: Vec<String> = after_one
        .iter()
        .filter(|m| m["@odata.type"] != "#microsoft.graph.passwordAuthenticationMethod")
        .map(|m| {
            m["@odata.type"]
                .as_str()
                .unwrap()
                .trim_start_matches("#microsoft.graph.")
                .replace("Authentication", "")
        })
        .collect();
    let (status, body) = call(
        &app,
        &token,
        "ExecResetMFA",
        json!({"tenantFilter": tenant, "ID": upn}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let expected = if removable.is_empty() {
        format!("No MFA methods found for user {upn}")
    } else {
        format!(
            "Successfully removed MFA methods ({}) for user {upn}. User must supply MFA at next logon",
            removable.join(", ")
        )
    };
    assert_eq!(results(&body), expected);
    let left = methods(&app, &tenant, id).await;
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0]["@odata.type"],
        "#microsoft.graph.passwordAuthenticationMethod"
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecResetMFA",
        json!({"tenantFilter": tenant, "ID": upn}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        results(&body),
        format!("No MFA methods found for user {upn}")
    );
    let ghost = format!("ghost@{tenant}");
    let (status, body) = call(
        &app,
        &token,
        "ExecResetMFA",
        json!({"tenantFilter": tenant, "ID": ghost}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        results(&body),
        format!(
            "Failed to get MFA methods for user {ghost}. Error: Resource '{ghost}' does not exist or one of its queried reference-property objects are not present."
        )
    );
    app.stop();
}

#[tokio::test]
async fn create_tap_shows_the_pass_once_to_the_caller_and_never_in_the_audit_row() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let user = members(&users(&app, &tenant).await, false)[0].clone();
    let id = user["id"].as_str().unwrap();
    let token = app.token("editor").await;
    let response = app
        .post(
            "/api/ExecCreateTAP",
            Some(&token),
            json!({"tenantFilter": tenant, "ID": id, "lifetimeInMinutes": "120", "isUsableOnce": true}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let correlation = correlation_id(&response);
    let body: Value = response.json().await.unwrap();
    let rows = body["Results"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let pass = rows[0]["copyField"].as_str().unwrap().to_owned();
    assert_eq!(pass.chars().count(), 8);
    assert_eq!(rows[0]["temporaryAccessPass"], pass.as_str());
    assert_eq!(
        rows[0]["resultText"],
        format!(
            "The TAP for {id} is {pass} - This TAP is usable for the next 120 minutes (one-time use only)"
        )
    );
    assert_eq!(rows[0]["lifetimeInMinutes"], 120);
    assert_eq!(rows[0]["isUsableOnce"], true);
    assert_eq!(rows[0]["userId"], id);
    assert_eq!(rows[0]["state"], "success");
    assert_eq!(
        rows[1],
        json!({"resultText": format!("User ID: {id}"), "copyField": id, "state": "success"})
    );
    // Graph keeps the pass as a method and never shows the secret again.
    let taps = of_type(&methods(&app, &tenant, id).await, "temporaryAccessPass");
    assert_eq!(taps.len(), 1);
    assert!(taps[0]["temporaryAccessPass"].is_null());
    assert_eq!(taps[0]["isUsableOnce"], true);
    // The audit row has the outcome and not the pass.
    let superadmin = app.token("superadmin").await;
    let logs: Vec<Value> = app
        .get_json(
            "/api/ListLogs?Filter=true&Severity=Info,Warning,Error,Debug",
            &superadmin,
        )
        .await;
    let row: Vec<&Value> = logs
        .iter()
        .filter(|r| r["LogData"]["CorrelationId"] == correlation.as_str())
        .collect();
    assert_eq!(row.len(), 1);
    let stored = row[0].to_string();
    assert!(!stored.contains(&pass), "{stored}");
    assert_eq!(
        row[0]["Message"],
        format!(
            "Created Temporary Access Pass (TAP) for {id} with Lifetime: 120 minutes, one-time use, starts immediately"
        )
    );
    app.stop();
}

#[tokio::test]
async fn create_tap_with_a_later_start_replaces_the_old_pass_and_says_when() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).default_domain_name.clone();
    let user = members(&users(&app, &tenant).await, false)[0].clone();
    let id = user["id"].as_str().unwrap();
    let token = app.token("editor").await;
    let (status, _) = call(
        &app,
        &token,
        "ExecCreateTAP",
        json!({"tenantFilter": tenant, "ID": id}),
    )
    .await;
    assert_eq!(status, 200);
    // 2040-01-02 03:04:05 UTC as Unix seconds, the form the CIPP frontend sends.
    let (status, body) = get_call(
        &app,
        &token,
        &format!("/api/ExecCreateTAP?tenantFilter={tenant}&ID={id}&startDateTime=2209086245"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let first = &body["Results"][0];
    let pass = first["copyField"].as_str().unwrap();
    assert_eq!(
        first["resultText"],
        format!(
            "The TAP for {id} is {pass} - This TAP is usable for the next 60 minutes starting at 2040-01-02 03:04:05 UTC"
        )
    );
    let taps = of_type(&methods(&app, &tenant, id).await, "temporaryAccessPass");
    assert_eq!(taps.len(), 1, "one pass per user");
    assert_eq!(taps[0]["methodUsabilityReason"], "NotYetValid");
    assert_eq!(taps[0]["startDateTime"], "2040-01-02T03:04:05Z");
    app.stop();
}

#[tokio::test]
async fn create_tap_names_bad_input_and_passes_on_graphs_refusal() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let user = members(&users(&app, &tenant).await, false)[0].clone();
    let id = user["id"].as_str().unwrap();
    let token = app.token("editor").await;
    for (field, body) in [
        (
            "lifetimeInMinutes",
            json!({"tenantFilter": tenant, "ID": id, "lifetimeInMinutes": "an hour"}),
        ),
        (
            "startDateTime",
            json!({"tenantFilter": tenant, "ID": id, "startDateTime": "soon"}),
        ),
        ("ID", json!({"tenantFilter": tenant})),
    ] {
        let (status, answer) = call(&app, &token, "ExecCreateTAP", body).await;
        assert_eq!(status, 400, "{field}: {answer}");
        assert!(results(&answer).starts_with(field), "{answer}");
    }
    let (status, answer) = call(
        &app,
        &token,
        "ExecCreateTAP",
        json!({"tenantFilter": tenant, "ID": id, "lifetimeInMinutes": 5}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        results(&answer),
        format!(
            "Failed to create Temporary Access Pass (TAP) for {id}: The lifetime of the temporary access pass must be between 10 and 43200 minutes."
        )
    );
    let (status, answer) = call(
        &app,
        &token,
        "ExecCreateTAP",
        json!({"tenantFilter": tenant, "ID": GHOST}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        results(&answer).starts_with(&format!(
            "Failed to create Temporary Access Pass (TAP) for {GHOST}: Resource '{GHOST}' does not exist"
        )),
        "{answer}"
    );
    app.stop();
}

#[tokio::test]
async fn per_user_mfa_is_set_and_read_back_and_a_refused_patch_is_not_a_success() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let user = members(&users(&app, &tenant).await, false)[1].clone();
    let upn = user["userPrincipalName"].as_str().unwrap();
    let token = app.token("editor").await;
    for state in ["enforced", "disabled"] {
        let (status, body) = call(
            &app,
            &token,
            "ExecPerUserMFA",
            json!({"tenantFilter": tenant, "userPrincipalName": upn, "userId": user["id"], "State": {"label": state, "value": state}}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({"Results": [format!("Successfully set Per user MFA State for {upn}")]})
        );
        let read: Vec<Value> = app
            .get_json(
                &format!("/api/ListPerUserMFA?tenantFilter={tenant}&userId={upn}"),
                &token,
            )
            .await;
        assert_eq!(read[0]["PerUserMFAState"], state);
    }
    let (status, body) = call(
        &app,
        &token,
        "ExecPerUserMFA",
        json!({"tenantFilter": tenant, "userId": GHOST, "State": "enabled"}),
    )
    .await;
    assert_eq!(status, 404, "CIPP says success here; we do not");
    let text = body["Results"][0].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "Failed to set MFA State to enabled for {GHOST}. Error: Resource '{GHOST}' does not exist"
        )),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecPerUserMFA",
        json!({"tenantFilter": tenant, "userId": GHOST, "State": "sometimes"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(results(&body).starts_with("State must be one of"), "{body}");
    app.stop();
}

#[tokio::test]
async fn the_default_mfa_method_is_set_and_read_back_from_sign_in_preferences() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let (user, _) = authenticator_user(&app, &tenant).await;
    let id = user["id"].as_str().unwrap();
    let token = app.token("editor").await;
    let (status, body) = call(
        &app,
        &token,
        "ExecSetDefaultMFAMethod",
        json!({"tenantFilter": tenant, "ID": id, "MethodType": {"label": "Authenticator app (OTP)", "value": "oath"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"Results": [format!("Successfully set the default MFA method to oath for user {id}")]})
    );
    let prefs = graph_rows(
        &app,
        &tenant,
        &format!("users/{id}/authentication/signInPreferences"),
        "beta",
    )
    .await;
    assert_eq!(
        prefs[0]["userPreferredMethodForSecondaryAuthentication"],
        "oath"
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecSetDefaultMFAMethod",
        json!({"tenantFilter": tenant, "ID": id, "MethodType": "pigeon"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"Results": ["'pigeon' is not a valid default MFA method. Valid values are: push, oath, voiceMobile, voiceAlternateMobile, voiceOffice, sms"], "code": "invalid_input"})
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecSetDefaultMFAMethod",
        json!({"tenantFilter": tenant, "ID": GHOST, "MethodType": "push"}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body["Results"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "Failed to set the default MFA method for user {GHOST}. Error: Resource '{GHOST}' does not exist"
            )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn password_never_expires_sets_the_password_policy() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).clone();
    let user = members(&users(&app, &tenant.default_domain_name).await, false)[0].clone();
    let (id, upn) = (
        user["id"].as_str().unwrap(),
        user["userPrincipalName"].as_str().unwrap(),
    );
    let token = app.token("editor").await;
    let (status, body) = call(
        &app,
        &token,
        "ExecPasswordNeverExpires",
        json!({"tenantFilter": tenant.default_domain_name, "userId": id, "userPrincipalName": upn,
               "PasswordPolicy": {"label": "Password never expires", "value": "DisablePasswordExpiration"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"Results": [format!("Successfully set PasswordPolicy for user {upn} to Password never expires")]})
    );
    assert_eq!(
        app.sim_user(&tenant.customer_id, id).await["passwordPolicies"],
        "DisablePasswordExpiration"
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecPasswordNeverExpires",
        json!({"tenantFilter": tenant.default_domain_name, "userId": id, "userPrincipalName": upn}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"Results": [format!("Successfully set PasswordPolicy for user {upn} to ")]})
    );
    assert_eq!(
        app.sim_user(&tenant.customer_id, id).await["passwordPolicies"],
        "None"
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecPasswordNeverExpires",
        json!({"tenantFilter": tenant.default_domain_name, "userId": id, "PasswordPolicy": "Forever"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(results(&body).starts_with("PasswordPolicy"), "{body}");
    let (status, body) = call(
        &app,
        &token,
        "ExecPasswordNeverExpires",
        json!({"tenantFilter": tenant.default_domain_name, "userId": GHOST, "userPrincipalName": "ghost@x", "PasswordPolicy": "None"}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body["Results"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "Failed to set PasswordPolicy for user ghost@x to None. Error: Resource '{GHOST}' does not exist"
            )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn dismissing_a_risky_user_clears_the_risk() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let mut found = None;
    for index in [1, 2, 0] {
        let tenant = app.tenant(index).default_domain_name.clone();
        let risky = graph_rows(&app, &tenant, "riskyUsers", "beta").await;
        if let Some(user) = risky.into_iter().find(|r| r["riskState"] == "atRisk") {
            found = Some((tenant, user));
            break;
        }
    }
    let (tenant, risky) = found.expect("a seeded risky user");
    let id = risky["id"].as_str().unwrap();
    let (status, body) = get_call(
        &app,
        &token,
        &format!(
            "/api/ExecDismissRiskyUser?tenantFilter={tenant}&userId={id}&userDisplayName=Ada%20Lovelace"
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        "Successfully dismissed User Risk for user Ada Lovelace. "
    );
    let after = graph_rows(&app, &tenant, &format!("riskyUsers/{id}"), "beta").await;
    assert_eq!(after[0]["riskState"], "dismissed");
    assert_eq!(after[0]["riskLevel"], "none");
    let (status, body) = call(
        &app,
        &token,
        "ExecDismissRiskyUser",
        json!({"tenantFilter": tenant, "userId": GHOST, "userDisplayName": "Nobody"}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        results(&body).starts_with(&format!(
            "Failed to dismiss user risk for Nobody. Resource '{GHOST}' does not exist"
        )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn a_synced_user_made_cloud_managed_can_have_its_immutable_id_cleared() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = members(&users(&app, &domain).await, true)[0].clone();
    let (id, name) = (
        user["id"].as_str().unwrap(),
        user["displayName"].as_str().unwrap(),
    );
    assert!(
        app.sim_user(&tenant.customer_id, id).await["onPremisesImmutableId"].is_string(),
        "a synced user has an immutable id"
    );
    let token = app.token("editor").await;
    // While AD is the source of authority, Graph refuses the change.
    let (status, body) = call(
        &app,
        &token,
        "ExecClrImmId",
        json!({"tenantFilter": domain, "ID": id}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        results(&body),
        format!(
            "Failed to clear immutable ID for {id}. Error: Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
        )
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecSetCloudManaged",
        json!({"tenantFilter": domain, "ID": id, "displayName": name, "type": "User", "isCloudManaged": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully set User {name} ({id}) source of authority to cloud-managed")
    );
    assert_eq!(
        app.sim_user(&tenant.customer_id, id).await["onPremisesSyncEnabled"],
        false
    );
    let behaviour = graph_rows(
        &app,
        &domain,
        &format!("users/{id}/onPremisesSyncBehavior"),
        "beta",
    )
    .await;
    assert_eq!(behaviour[0]["isCloudManaged"], true);
    let (status, body) = call(
        &app,
        &token,
        "ExecClrImmId",
        json!({"tenantFilter": domain, "ID": id}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully cleared immutable ID for user {id}")
    );
    assert!(app.sim_user(&tenant.customer_id, id).await["onPremisesImmutableId"].is_null());
    let (status, body) = call(
        &app,
        &token,
        "ExecSetCloudManaged",
        json!({"tenantFilter": domain, "ID": id, "displayName": name, "type": "user", "isCloudManaged": "false"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully set user {name} ({id}) source of authority to on-premises managed")
    );
    assert_eq!(
        app.sim_user(&tenant.customer_id, id).await["onPremisesSyncEnabled"],
        true
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecSetCloudManaged",
        json!({"tenantFilter": domain, "ID": GHOST, "displayName": "Nobody", "type": "User", "isCloudManaged": true}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        results(&body).starts_with(&format!(
            "Failed to set User Nobody ({GHOST}) source of authority to cloud-managed: Resource '{GHOST}' does not exist"
        )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn clearing_the_immutable_id_of_a_deleted_user_restores_it_first() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).clone();
    let domain = tenant.default_domain_name.clone();
    let user = members(&users(&app, &domain).await, false)[0].clone();
    let id = user["id"].as_str().unwrap();
    let token = app.token("editor").await;
    let (status, _) = call(
        &app,
        &token,
        "RemoveUser",
        json!({"tenantFilter": domain, "ID": id}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(app.sim_user(&tenant.customer_id, id).await["deletedDateTime"].is_string());
    let (status, body) = call(
        &app,
        &token,
        "ExecClrImmId",
        json!({"tenantFilter": domain, "ID": id}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully cleared immutable ID for user {id}")
    );
    assert!(app.sim_user(&tenant.customer_id, id).await["deletedDateTime"].is_null());
    let (status, body) = call(
        &app,
        &token,
        "ExecClrImmId",
        json!({"tenantFilter": domain, "ID": GHOST}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        results(&body).starts_with(&format!(
            "Failed to clear immutable ID for {GHOST}. Error: Resource '{GHOST}' does not exist"
        )),
        "{body}"
    );
    app.stop();
}

const OPERATIONS: [(&str, &str); 8] = [
    ("ExecResetMFA", "Identity.User.ReadWrite"),
    ("ExecCreateTAP", "Identity.User.ReadWrite"),
    ("ExecPerUserMFA", "Identity.User.ReadWrite"),
    ("ExecSetDefaultMFAMethod", "Identity.User.ReadWrite"),
    ("ExecPasswordNeverExpires", "Identity.User.ReadWrite"),
    ("ExecDismissRiskyUser", "Identity.User.ReadWrite"),
    ("ExecClrImmId", "Identity.User.ReadWrite"),
    ("ExecSetCloudManaged", "Identity.DirSync.ReadWrite"),
];

#[tokio::test]
async fn the_credential_actions_refuse_readonly_callers() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    app.reset_sim_stats().await;
    for (name, role) in OPERATIONS {
        let body = json!({"tenantFilter": tenant, "ID": GHOST, "userId": GHOST, "State": "enabled",
                          "MethodType": "push", "type": "User"});
        let (status, answer) = call(&app, &token, name, body).await;
        assert_eq!(status, 403, "{name}");
        assert!(
            results(&answer).contains(&format!(
                "'readonly' base role does not have the required permission: {role}"
            )),
            "{name}: {answer}"
        );
    }
    let stats = app.sim_stats().await;
    let graph_calls = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let path = r["path"].as_str().unwrap();
            path.starts_with("/v1.0/") || path.starts_with("/beta/")
        })
        .count();
    assert_eq!(graph_calls, 0, "nothing reaches Graph: {stats}");
    app.stop();
}

#[tokio::test]
async fn the_credential_actions_name_a_missing_parameter() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    for (name, body, field) in [
        ("ExecResetMFA", json!({}), "ID"),
        ("ExecCreateTAP", json!({}), "ID"),
        ("ExecPerUserMFA", json!({"State": "enabled"}), "userId"),
        ("ExecPerUserMFA", json!({"userId": GHOST}), "State"),
        (
            "ExecSetDefaultMFAMethod",
            json!({"MethodType": "push"}),
            "ID",
        ),
        (
            "ExecSetDefaultMFAMethod",
            json!({"ID": GHOST}),
            "MethodType",
        ),
        ("ExecPasswordNeverExpires", json!({}), "userId"),
        ("ExecDismissRiskyUser", json!({}), "userId"),
        ("ExecClrImmId", json!({}), "ID"),
        ("ExecSetCloudManaged", json!({"type": "User"}), "ID"),
        ("ExecSetCloudManaged", json!({"ID": GHOST}), "type"),
    ] {
        let mut body = body;
        body["tenantFilter"] = json!(tenant);
        let (status, answer) = call(&app, &token, name, body).await;
        assert_eq!(status, 400, "{name} {field}: {answer}");
        assert_eq!(results(&answer), format!("{field} is required"), "{name}");
    }
    for (body, field) in [
        (
            json!({"ID": GHOST, "type": "Printer", "isCloudManaged": true}),
            "type",
        ),
        (
            json!({"ID": GHOST, "type": "User", "isCloudManaged": "maybe"}),
            "isCloudManaged",
        ),
    ] {
        let mut body = body;
        body["tenantFilter"] = json!(tenant);
        let (status, answer) = call(&app, &token, "ExecSetCloudManaged", body).await;
        assert_eq!(status, 400, "{field}: {answer}");
        assert!(results(&answer).starts_with(field), "{answer}");
    }
    app.stop();
}

#[tokio::test]
async fn per_user_mfa_takes_the_frontends_capitalised_state_and_sends_graphs_spelling() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let user = members(&users(&app, &tenant).await, false)[2].clone();
    let upn = user["userPrincipalName"].as_str().unwrap();
    let token = app.token("editor").await;
    let (status, body) = call(
        &app,
        &token,
        "ExecPerUserMFA",
        json!({"tenantFilter": tenant, "userPrincipalName": upn, "userId": user["id"], "State": {"label": "Enforced", "value": "Enforced"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let read: Vec<Value> = app
        .get_json(
            &format!("/api/ListPerUserMFA?tenantFilter={tenant}&userId={upn}"),
            &token,
        )
        .await;
    assert_eq!(read[0]["PerUserMFAState"], "enforced");
    app.stop();
}

#[tokio::test]
async fn a_default_mfa_method_in_another_case_is_sent_in_graphs_spelling() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let (user, _) = authenticator_user(&app, &tenant).await;
    let id = user["id"].as_str().unwrap();
    let token = app.token("editor").await;
    let (status, body) = call(
        &app,
        &token,
        "ExecSetDefaultMFAMethod",
        json!({"tenantFilter": tenant, "ID": id, "MethodType": "OATH"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"Results": [format!("Successfully set the default MFA method to oath for user {id}")]})
    );
    app.stop();
}

/// Every operation here with the field that carries its user id into a Graph path.
const USER_ID_FIELDS: [(&str, &str); 11] = [
    ("ExecResetPass", "ID"),
    ("ExecRevokeSessions", "id"),
    ("ExecResetMFA", "ID"),
    ("ExecCreateTAP", "ID"),
    ("ExecPerUserMFA", "userId"),
    ("ExecSetDefaultMFAMethod", "ID"),
    ("ExecPasswordNeverExpires", "userId"),
    ("ExecDismissRiskyUser", "userId"),
    ("ExecClrImmId", "ID"),
    ("ExecSetCloudManaged", "ID"),
    ("RemoveUser", "ID"),
];

#[tokio::test]
async fn a_user_id_that_could_leave_its_path_segment_is_refused_before_graph_is_called() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("superadmin").await;
    app.reset_sim_stats().await;
    for bad in ["../me", "a/b@contoso.example", "x?y=1@contoso.example"] {
        for (name, field) in USER_ID_FIELDS {
            let mut body = json!({"tenantFilter": tenant, "State": "enabled",
                                  "MethodType": "push", "type": "User"});
            body[field] = json!(bad);
            let (status, answer) = call(&app, &token, name, body).await;
            assert_eq!(status, 400, "{name} {bad}: {answer}");
            assert!(
                results(&answer).starts_with(&format!("{field}: expected a user's object id")),
                "{name} {bad}: {answer}"
            );
        }
    }
    let stats = app.sim_stats().await;
    let user_calls: Vec<&Value> = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let path = r["path"].as_str().unwrap();
            path.contains("users") || path.contains("$batch")
        })
        .collect();
    assert!(
        user_calls.is_empty(),
        "nothing reaches Graph: {user_calls:?}"
    );
    app.stop();
}

#[tokio::test]
async fn a_graph_answer_that_confirms_nothing_is_not_reported_as_success() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let user = members(&users(&app, &domain).await, false)[0].clone();
    let id = user["id"].as_str().unwrap();
    let token = app.token("editor").await;
    // A 200 without the created pass: nothing the caller could use was issued.
    app.add_fault(
        json!({"path": format!("/beta/users/{id}/authentication/temporaryAccessPassMethods"),
                         "method": "POST", "status": 200, "count": 1}),
    )
    .await;
    let (status, body) = call(
        &app,
        &token,
        "ExecCreateTAP",
        json!({"tenantFilter": domain, "ID": id}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Failed to create Temporary Access Pass (TAP) for {id}: Graph's answer holds no pass"
        )
    );
    // A 200 without Graph's `value: true`: the sessions are not known to be revoked.
    app.add_fault(
        json!({"path": format!("/beta/users/{id}/invalidateAllRefreshTokens"),
                         "method": "POST", "status": 200, "count": 1}),
    )
    .await;
    let (status, body) = call(
        &app,
        &token,
        "ExecRevokeSessions",
        json!({"tenantFilter": domain, "id": id, "Username": "ada@x"}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        results(&body),
        "Failed to revoke sessions for ada@x. Error: Graph did not confirm that the sessions were revoked"
    );
    app.stop();
}
