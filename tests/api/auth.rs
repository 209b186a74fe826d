//! Authentication and roles over real HTTP.

use crate::helpers::{results, spawn_app, spawn_app_with};
use serde_json::{Value, json};

#[tokio::test]
async fn a_request_without_a_token_gets_401_with_a_results_text() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let response = app
        .get(&format!("/api/ListUsers?tenantFilter={tenant}"), None)
        .await;
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(results(&body).contains("bearer token"));
    app.stop();
}

#[tokio::test]
async fn a_forged_or_garbled_token_gets_401() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let token = app.token("editor").await;
    // Flip one character of the signature.
    let mut forged = token.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for bad in [forged.as_str(), "not-a-jwt", "a.b.c"] {
        let response = app
            .get(&format!("/api/ListUsers?tenantFilter={tenant}"), Some(bad))
            .await;
        assert_eq!(response.status().as_u16(), 401, "token {bad:.20}");
    }
    app.stop();
}

#[tokio::test]
async fn readonly_is_refused_exec_disable_user_with_cipps_text_and_editor_is_allowed() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let users: Value = app
        .get(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            Some(&app.token("readonly").await),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = users[0]["id"].as_str().unwrap().to_owned();
    let body = json!({"tenantFilter": tenant.default_domain_name, "ID": id, "Enable": true});

    let refused = app
        .post(
            "/api/ExecDisableUser",
            Some(&app.token("readonly").await),
            body.clone(),
        )
        .await;
    assert_eq!(refused.status().as_u16(), 403);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(
        results(&refused),
        "Access to this CIPP API endpoint is not allowed, the 'readonly' base role does not have the required permission: Identity.User.ReadWrite"
    );

    let allowed = app
        .post(
            "/api/ExecDisableUser",
            Some(&app.token("editor").await),
            body,
        )
        .await;
    assert_eq!(allowed.status().as_u16(), 200);
    app.stop();
}

#[tokio::test]
async fn the_custom_role_is_refused_on_every_tenant_but_its_own() {
    let app = spawn_app().await;
    let token = app.token("custom").await;
    let own = app.tenant(0).clone();
    let response = app
        .get(
            &format!("/api/ListUsers?tenantFilter={}", own.default_domain_name),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    for other in app.tenants.iter().skip(1) {
        for name in [
            &other.default_domain_name,
            &other.customer_id,
            &other.initial_domain_name,
        ] {
            let response = app
                .get(&format!("/api/ListUsers?tenantFilter={name}"), Some(&token))
                .await;
            assert_eq!(response.status().as_u16(), 403, "tenant {name}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(results(&body), "Access to this tenant is not allowed");
        }
    }
    // Its permissions are Identity.User.*: tenant listing (CIPP.Core.Read) is not among them.
    let response = app.get("/api/ListTenants", Some(&token)).await;
    assert_eq!(response.status().as_u16(), 403);
    app.stop();
}

#[tokio::test]
async fn v1_tokens_are_accepted_by_default() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let claims = decode_claims(&token);
    assert_eq!(claims["ver"], "1.0");
    assert!(
        claims["iss"]
            .as_str()
            .unwrap()
            .starts_with("https://sts.windows.net/")
    );
    let response = app.get("/api/me", Some(&token)).await;
    assert_eq!(response.status().as_u16(), 200);
    app.stop();
}

#[tokio::test]
async fn v2_tokens_are_accepted_when_the_api_app_asks_for_them() {
    let app = spawn_app_with(|s| s.demo.v2_tokens = true).await;
    let token = app.token("readonly").await;
    let claims = decode_claims(&token);
    assert_eq!(claims["ver"], "2.0");
    assert!(claims["iss"].as_str().unwrap().ends_with("/v2.0"));
    let response = app.get("/api/me", Some(&token)).await;
    assert_eq!(response.status().as_u16(), 200);
    app.stop();
}

#[tokio::test]
async fn me_lists_the_callers_role_and_expanded_permissions() {
    let app = spawn_app().await;
    let body: Value = app
        .get("/api/me", Some(&app.token("editor").await))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["clientPrincipal"]["appRole"], json!(["editor"]));
    // What the frontend's pages read to decide access, as for a signed-in user.
    assert_eq!(
        body["clientPrincipal"]["userRoles"],
        json!(["editor", "authenticated", "anonymous"])
    );
    assert_eq!(body["clientPrincipal"]["identityProvider"], "aad");
    assert_eq!(body["initialSetupComplete"], true);
    let permissions: Vec<&str> = body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(permissions.contains(&"Identity.User.ReadWrite"));
    assert!(permissions.contains(&"CIPP.Core.Read"));
    assert!(!permissions.iter().any(|p| p.starts_with("CIPP.Admin.")));
    let custom: Value = app
        .get("/api/me", Some(&app.token("custom").await))
        .await
        .json()
        .await
        .unwrap();
    let custom_permissions: Vec<&str> = custom["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!custom_permissions.is_empty());
    assert!(
        custom_permissions
            .iter()
            .all(|p| p.starts_with("Identity.User."))
    );
    app.stop();
}

#[tokio::test]
async fn health_endpoints_need_no_token() {
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"status": "ok"}));
    }
    app.stop();
}

fn decode_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
