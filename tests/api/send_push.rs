//! ExecSendPush against the simulated Azure MFA connector: approve, deny, timeout and not
//! registered as CIPP words them, the typed-code check, the connector secret provisioned once
//! and kept sealed, and the connector's failures.

use crate::helpers::{TestApp, spawn_app};
use cipp_graph::GraphVersion;
use cipp_users_domain::demo::{OTHER_TENANT, TENANT, TENANT_ID};
use serde_json::{Value, json};

const MFA_APP: &str = "981f26a1-7f43-403b-a875-f8b09b8cd720";

/// Users of the demo tenant picked by their registered methods.
struct Users {
    with_authenticator: String,
    with_phone_only: String,
    with_nothing: String,
}

async fn users_by_methods(app: &TestApp) -> Users {
    let graph = app.graph.app_only();
    let page = graph
        .get(
            TENANT_ID,
            GraphVersion::V1,
            "users?$select=userPrincipalName&$top=80",
            &[],
        )
        .await
        .unwrap();
    let (mut authenticator, mut phone_only, mut nothing) = (None, None, None);
    for user in page["value"].as_array().unwrap() {
        let upn = user["userPrincipalName"].as_str().unwrap().to_owned();
        if upn.contains("#EXT#") {
            continue;
        }
        let methods = graph
            .get_all(
                TENANT_ID,
                GraphVersion::Beta,
                &format!("users/{upn}/authentication/methods"),
                &[],
            )
            .await
            .unwrap();
        let has = |t: &str| {
            methods
                .iter()
                .any(|m| m["@odata.type"] == format!("#microsoft.graph.{t}").as_str())
        };
        let app_method = has("microsoftAuthenticatorAuthenticationMethod");
        let code_method =
            has("phoneAuthenticationMethod") || has("softwareOathAuthenticationMethod");
        match (app_method, code_method) {
            (true, _) if authenticator.is_none() => authenticator = Some(upn),
            (false, true) if phone_only.is_none() => phone_only = Some(upn),
            (false, false) if nothing.is_none() => nothing = Some(upn),
            _ => {}
        }
    }
    Users {
        with_authenticator: authenticator.expect("a user with the Authenticator app"),
        with_phone_only: phone_only.expect("a user with only a phone"),
        with_nothing: nothing.expect("a user with no second factor"),
    }
}

async fn script(app: &TestApp, upn: &str, body: Value) {
    let response = app
        .http
        .put(
            app.sim
                .join(&format!("_sim/mfa/{TENANT_ID}/{upn}"))
                .unwrap(),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

async fn prompts(app: &TestApp, upn: &str) -> Vec<Value> {
    let body: Value = app
        .http
        .get(
            app.sim
                .join(&format!("_sim/mfa/{TENANT_ID}/{upn}"))
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["prompts"].as_array().unwrap().clone()
}

async fn push(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app.post("/api/ExecSendPush", Some(token), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// A push (no code) to `upn` in the demo tenant.
async fn push_to(app: &TestApp, token: &str, upn: &str) -> (u16, Value) {
    push(
        app,
        token,
        json!({"TenantFilter": TENANT, "UserEmail": upn}),
    )
    .await
}

#[tokio::test]
async fn an_approved_push_deny_timeout_and_not_registered_are_answered_as_cipp_words_them() {
    let app = spawn_app().await;
    let users = users_by_methods(&app).await;
    let reader = app.token("readonly").await;

    // The Authenticator user approves by default.
    let (status, body) = push_to(&app, &reader, &users.with_authenticator).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!({"resultText": "Received an MFA confirmation: Success\n", "state": "success"})
    );
    let sent = prompts(&app, &users.with_authenticator).await;
    assert_eq!(sent, vec![json!({"kind": "push", "result": "Success"})]);

    script(&app, &users.with_authenticator, json!({"push": "deny"})).await;
    let (status, body) = push_to(&app, &reader, &users.with_authenticator).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["Results"],
        json!({
            "resultText": "Authentication Failed! Does the user have Push/Phone call MFA configured? ErrorCode: PhoneAppDenied\n",
            "state": "error"
        })
    );

    script(&app, &users.with_authenticator, json!({"push": "timeout"})).await;
    let (status, body) = push_to(&app, &reader, &users.with_authenticator).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["Results"]["resultText"],
        "Authentication Failed! Does the user have Push/Phone call MFA configured? ErrorCode: PhoneAppNoResponse\n"
    );

    let (status, body) = push_to(&app, &reader, &users.with_nothing).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["Results"]["resultText"],
        "Authentication Failed! Does the user have Push/Phone call MFA configured? ErrorCode: AuthenticationMethodNotConfigured\n"
    );
    assert_eq!(body["Results"]["state"], "error");
    assert_eq!(prompts(&app, &users.with_authenticator).await.len(), 3);
    app.stop();
}

#[tokio::test]
async fn the_connector_secret_is_provisioned_once_kept_sealed_and_reused() {
    let app = spawn_app().await;
    let users = users_by_methods(&app).await;
    let reader = app.token("readonly").await;
    let graph = app.graph.app_only();
    let before = graph
        .get(
            TENANT_ID,
            GraphVersion::Beta,
            &format!("servicePrincipals?$filter=appId eq '{MFA_APP}'"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        before["value"],
        json!([]),
        "the tenant starts without the MFA app"
    );

    for _ in 0..2 {
        let (status, body) = push_to(&app, &reader, &users.with_authenticator).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["Results"]["state"], "success");
    }
    let after = graph
        .get(
            TENANT_ID,
            GraphVersion::Beta,
            &format!(
                "servicePrincipals?$filter=appId eq '{MFA_APP}'&$select=id,passwordCredentials"
            ),
            &[],
        )
        .await
        .unwrap();
    let credentials = after["value"][0]["passwordCredentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 1, "one secret for both pushes: {after}");
    assert_eq!(credentials[0]["displayName"], "CIPP MFA Connector");
    assert_eq!(app.sim_count("/addPassword", None).await, 1);

    let sealed = app
        .store
        .get_sealed_secret(&format!("mfa-connector:{TENANT_ID}"))
        .await
        .unwrap()
        .expect("the secret is kept");
    let hint = credentials[0]["hint"].as_str().unwrap();
    assert!(
        !String::from_utf8_lossy(&sealed).contains(hint),
        "the kept secret is sealed"
    );

    // Revoked at Entra: the next push provisions a new secret instead of failing.
    let sp_id = after["value"][0]["id"].as_str().unwrap();
    graph
        .post(
            TENANT_ID,
            GraphVersion::V1,
            &format!("servicePrincipals/{sp_id}/removePassword"),
            &json!({"keyId": credentials[0]["keyId"]}),
        )
        .await
        .unwrap();
    let (status, body) = push_to(&app, &reader, &users.with_authenticator).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Results"]["state"], "success");
    assert_eq!(app.sim_count("/addPassword", None).await, 2);
    app.stop();
}

#[tokio::test]
async fn a_typed_code_is_checked_without_a_push_and_refused_for_authenticator_users() {
    let app = spawn_app().await;
    let users = users_by_methods(&app).await;
    let reader = app.token("readonly").await;
    script(&app, &users.with_phone_only, json!({"otp": "424242"})).await;

    let (status, body) = push(
        &app,
        &reader,
        json!({"TenantFilter": TENANT, "UserEmail": users.with_phone_only, "OTP": "424242"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!({"resultText": "The MFA code was verified successfully.", "state": "success"})
    );
    let (_, body) = push(
        &app,
        &reader,
        json!({"TenantFilter": TENANT, "UserEmail": users.with_phone_only, "OTP": "111111"}),
    )
    .await;
    assert_eq!(
        body["Results"]["resultText"],
        "The MFA code was incorrect. Please check the code and try again."
    );
    let kinds: Vec<Value> = prompts(&app, &users.with_phone_only)
        .await
        .into_iter()
        .map(|p| p["kind"].clone())
        .collect();
    assert!(
        !kinds.contains(&json!("push")),
        "no push was sent for a code: {kinds:?}"
    );

    let (_, body) = push(
        &app,
        &reader,
        json!({"TenantFilter": TENANT, "UserEmail": users.with_authenticator, "OTP": "424242"}),
    )
    .await;
    assert_eq!(
        body["Results"]["resultText"],
        "This user has Microsoft Authenticator registered, so a push notification is required instead of a typed code."
    );
    let (_, body) = push(
        &app,
        &reader,
        json!({"TenantFilter": TENANT, "UserEmail": users.with_nothing, "OTP": "424242"}),
    )
    .await;
    assert_eq!(
        body["Results"]["resultText"],
        "Could not start an MFA verification session. Does the user have an authenticator (OTP) method registered?"
    );
    app.stop();
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_a_caller_outside_its_tenants_is_refused() {
    let app = spawn_app().await;
    let reader = app.token("readonly").await;
    for (body, field) in [
        (json!({"TenantFilter": TENANT}), "UserEmail"),
        (
            json!({"TenantFilter": TENANT, "UserEmail": "not a user"}),
            "UserEmail",
        ),
        (
            json!({"TenantFilter": TENANT, "UserEmail": "a@contoso.example", "OTP": "12ab56"}),
            "OTP",
        ),
    ] {
        let response = app.post("/api/ExecSendPush", Some(&reader), body).await;
        assert_eq!(response.status(), 400);
        let text = response.text().await.unwrap();
        assert!(text.contains(field), "{field}: {text}");
    }
    // Every base role holds Identity.User.Read; the custom role is refused outside its tenant.
    let custom = app.token("custom").await;
    let response = app
        .post(
            "/api/ExecSendPush",
            Some(&custom),
            json!({"TenantFilter": OTHER_TENANT, "UserEmail": "a@fabrikam.example"}),
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        app.sim_count("/StrongAuthenticationService.svc", None)
            .await,
        0
    );
    app.stop();
}

#[tokio::test]
async fn a_disabled_mfa_app_and_an_unreachable_graph_are_500s_with_upstreams_texts() {
    let app = spawn_app().await;
    let users = users_by_methods(&app).await;
    let reader = app.token("readonly").await;

    let fault = app
        .add_fault(
            json!({"path": "/beta/servicePrincipals", "method": "GET", "status": 403, "count": 1}),
        )
        .await;
    let (status, body) = push_to(&app, &reader, &users.with_authenticator).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["Results"]["state"], "error");
    assert!(body["Results"]["resultText"].as_str().unwrap().len() > 10);
    app.http
        .delete(app.sim.join(&format!("_sim/faults/{fault}")).unwrap())
        .send()
        .await
        .unwrap();

    // First push provisions the app; then an admin disables it.
    let (status, _) = push_to(&app, &reader, &users.with_authenticator).await;
    assert_eq!(status, 200);
    let graph = app.graph.app_only();
    graph
        .patch(
            TENANT_ID,
            GraphVersion::V1,
            &format!("servicePrincipals(appId='{MFA_APP}')"),
            &json!({"accountEnabled": false}),
        )
        .await
        .unwrap();
    let (status, body) = push_to(&app, &reader, &users.with_authenticator).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        body["Results"],
        json!({
            "resultText": format!("The Azure Multi-Factor Auth Client app ({MFA_APP}) is disabled in this tenant. Enable it with the 'Azure MFA push notification apps' baseline standard, or in Entra under Enterprise applications."),
            "state": "error"
        })
    );
    app.stop();
}
