//! The calls every CIPP page makes (frontend-contract §1) and Static Web Apps mode.

use crate::helpers::{results, spawn_app, spawn_app_with};
use base64::Engine;
use serde_json::{Value, json};

fn principal(upn: &str, roles: &[&str]) -> String {
    let body =
        json!({"identityProvider": "aad", "userId": "u-1", "userDetails": upn, "userRoles": roles});
    base64::engine::general_purpose::STANDARD.encode(body.to_string())
}

#[tokio::test]
async fn the_shell_calls_return_what_the_frontend_renders() {
    let app = spawn_app_with(|s| {
        s.feature_flags.insert("BestPracticeAnalyser".into(), true);
    })
    .await;
    let token = app.token("editor").await;

    let flags: Value = app.get_json("/api/ListFeatureFlags", &token).await;
    let flags = flags.as_array().expect("an array");
    assert!(!flags.is_empty());
    for flag in flags {
        assert!(
            flag["Id"].is_string() && flag["Enabled"].is_boolean() && flag["Pages"].is_array(),
            "{flag}"
        );
        assert_ne!(flag["Hidden"], true);
    }
    let bpa = flags
        .iter()
        .find(|f| f["Id"] == "BestPracticeAnalyser")
        .unwrap();
    assert_eq!(
        bpa["Enabled"], true,
        "configuration wins over CIPP's default"
    );

    let alerts: Value = app
        .get_json("/api/GetCippAlerts?localversion=10.9.0", &token)
        .await;
    let alerts = alerts.as_array().expect("an array");
    assert!(
        alerts
            .iter()
            .any(|a| a["title"] == "Demo mode" && a["maintenance"] == true)
    );

    let notes: Value = app.get_json("/api/ListGitHubReleaseNotes", &token).await;
    assert_eq!(notes, json!([]));

    let tenants: Value = app
        .get_json("/api/listTenants?AllTenantSelector=true", &token)
        .await;
    let tenants = tenants.as_array().expect("an array");
    assert_eq!(tenants[0]["defaultDomainName"], "AllTenants");
    for tenant in &tenants[1..] {
        for field in [
            "defaultDomainName",
            "displayName",
            "customerId",
            "initialDomainName",
        ] {
            assert!(tenant[field].is_string(), "{field} in {tenant}");
        }
    }
    app.stop();
}

#[tokio::test]
async fn alerts_name_a_tenant_whose_token_requests_fail() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    // One tenant's token requests fail from the start (say, consent was withdrawn).
    let broken = app.tenant(2).clone();
    app.add_fault(
        json!({"path": format!("/{}/oauth2/v2.0/token", broken.customer_id), "status": 400}),
    )
    .await;
    let tenants: Value = app.get_json("/api/ListTenants", &token).await;
    let row = tenants
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["customerId"] == broken.customer_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["RequiresRefresh"], true, "{row}");
    assert!(!row["LastGraphError"].as_str().unwrap().is_empty());
    let alerts: Value = app.get_json("/api/GetCippAlerts", &token).await;
    let alerts = alerts.as_array().unwrap();
    let named: Vec<&Value> = alerts
        .iter()
        .filter(|a| {
            a["Alert"]
                .as_str()
                .unwrap_or_default()
                .contains(&broken.default_domain_name)
        })
        .collect();
    assert_eq!(named.len(), 1, "{alerts:?}");
    assert_eq!(named[0]["type"], "warning");
    app.stop();
}

#[tokio::test]
async fn without_static_web_apps_mode_the_principal_header_grants_nothing() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/api/me", app.address))
        .header(
            "x-ms-client-principal",
            principal("ada@partner.example", &["superadmin"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    app.stop();
}

#[tokio::test]
async fn with_static_web_apps_mode_the_principal_roles_decide_like_a_token_role() {
    let app = spawn_app_with(|s| s.static_web_apps = true).await;
    let tenant = app.tenant(1).clone();
    let users: Vec<Value> = app
        .get(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            Some(&app.token("readonly").await),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = users[0]["id"].as_str().unwrap();
    let call = |roles: &'static [&'static str]| {
        let app = &app;
        let body = json!({"tenantFilter": tenant.default_domain_name, "ID": id, "Enable": true});
        async move {
            app.http
                .post(format!("{}/api/ExecDisableUser", app.address))
                .header(
                    "x-ms-client-principal",
                    principal("ada@partner.example", roles),
                )
                .header("X-CIPP-Version", "8.0.0")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        call(&["authenticated", "anonymous", "editor"])
            .await
            .status()
            .as_u16(),
        200
    );
    let refused = call(&["authenticated", "readonly"]).await;
    assert_eq!(refused.status().as_u16(), 403);
    let via_header: Value = refused.json().await.unwrap();
    let via_token: Value = app
        .post(
            "/api/ExecDisableUser",
            Some(&app.token("readonly").await),
            json!({"tenantFilter": tenant.default_domain_name, "ID": id}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        results(&via_header),
        results(&via_token),
        "the same refusal as for a bearer caller"
    );
    let no_role = call(&["authenticated", "anonymous"]).await;
    assert_eq!(no_role.status().as_u16(), 403);
    let me: Value = app
        .http
        .get(format!("{}/api/me", app.address))
        .header(
            "x-ms-client-principal",
            principal("ada@partner.example", &["authenticated", "admin"]),
        )
        .header("X-CIPP-Version", "8.0.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["clientPrincipal"]["userDetails"], "ada@partner.example");
    assert!(
        me["clientPrincipal"]["userRoles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin"))
    );
    assert_eq!(me["initialSetupComplete"], true);
    // Bearer tokens keep working beside it.
    assert_eq!(
        app.get("/api/me", Some(&app.token("readonly").await))
            .await
            .status()
            .as_u16(),
        200
    );
    app.stop();
}

#[tokio::test]
async fn user_settings_are_read_back_also_after_a_restart() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().to_owned();
    let dir = data_dir.clone();
    let app = spawn_app_with(move |s| s.data_dir = dir).await;
    let token = app.token("editor").await;
    let empty: Value = app.get_json("/api/ListUserSettings", &token).await;
    assert_eq!(
        empty["paletteMode"], "light",
        "CIPP's defaults before anything is saved"
    );
    let saved = app
        .post(
            "/api/ExecUserSettings",
            Some(&token),
            json!({"user": "c1990000-0000-4000-8000-000000000012", "currentSettings": {"paletteMode": "dark", "usageLocation": {"label": "Netherlands", "value": "NL"}, "CurrentTenant": "dropped"}}),
        )
        .await;
    assert_eq!(saved.status().as_u16(), 200);
    let body: Value = saved.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"Results": "Successfully added user settings"}])
    );
    let read: Value = app.get_json("/api/ListUserSettings", &token).await;
    assert_eq!(read["paletteMode"], "dark");
    assert_eq!(read["usageLocation"]["value"], "NL");
    assert!(read.get("CurrentTenant").is_none());
    // Someone else's settings, or everyone's, are for admins only.
    let other = app
        .post(
            "/api/ExecUserSettings",
            Some(&token),
            json!({"user": "allUsers", "currentSettings": {"paletteMode": "dark"}}),
        )
        .await;
    assert_eq!(other.status().as_u16(), 403);
    app.stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let dir = data_dir.clone();
    let restarted = spawn_app_with(move |s| s.data_dir = dir).await;
    let token = restarted.token("editor").await;
    let read: Value = restarted
        .get("/api/ListUserSettings", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["paletteMode"], "dark", "kept across the restart");
    assert_eq!(read["UserSpecificSettings"]["usageLocation"]["value"], "NL");
    restarted.stop();
}
