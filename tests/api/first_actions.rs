//! ExecResetPass, ExecRevokeSessions and RemoveUser against the simulator: each performed and
//! read back; wrong role, bad parameters and Graph failures answered as CIPP does.

use crate::helpers::{TestApp, results, spawn_app};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashSet;

async fn users(app: &TestApp, tenant: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    app.get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await
}

fn pick(users: &[Value], synced: bool) -> Value {
    users
        .iter()
        .find(|u| u["onPremisesSyncEnabled"] == synced && u["userType"] != "Guest")
        .cloned()
        .expect("a seeded user of that kind")
}

fn satisfies_classic_rules(password: &str) -> bool {
    const UPPER: &str = "ABCDEFGHKLMNPRSTUVWXYZ";
    const LOWER: &str = "abcdefghkmnrstuvwxyz";
    const DIGITS: &str = "23456789";
    const SPECIAL: &str = "$%&*#";
    password.chars().count() == 14
        && [UPPER, LOWER, DIGITS, SPECIAL]
            .iter()
            .all(|class| password.chars().any(|c| class.contains(c)))
        && password
            .chars()
            .all(|c| [UPPER, LOWER, DIGITS, SPECIAL].concat().contains(c))
}

#[tokio::test]
async fn reset_pass_sets_a_new_password_on_a_cloud_user_and_shows_it_once() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let user = pick(&users(&app, &tenant.default_domain_name).await, false);
    let id = user["id"].as_str().unwrap();
    let before = app.sim_user(&tenant.customer_id, id).await;
    let token = app.token("editor").await;
    let response = app
        .post("/api/ExecResetPass", Some(&token), json!({"tenantFilter": tenant.default_domain_name, "ID": id, "displayName": "Ada", "MustChange": true}))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let result = &body["Results"];
    assert_eq!(result["state"], "success");
    let password = result["copyField"].as_str().unwrap();
    assert!(satisfies_classic_rules(password), "{password}");
    assert_eq!(
        result["resultText"],
        format!(
            "Successfully reset the password for Ada, {id}. User must change password is set to True. The new password is {password}"
        )
    );
    let after = app.sim_user(&tenant.customer_id, id).await;
    assert_eq!(
        after["passwordProfile"]["forceChangePasswordNextSignIn"],
        true
    );
    assert_ne!(
        after["lastPasswordChangeDateTime"],
        before["lastPasswordChangeDateTime"]
    );
    app.stop();
}

#[tokio::test]
async fn reset_pass_on_a_synced_user_goes_through_password_writeback() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let user = pick(&users(&app, &tenant.default_domain_name).await, true);
    let id = user["id"].as_str().unwrap();
    app.reset_sim_stats().await;
    let token = app.token("editor").await;
    let response = app
        .post(
            "/api/ExecResetPass",
            Some(&token),
            json!({"tenantFilter": tenant.default_domain_name, "ID": id}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let text = body["Results"]["resultText"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "Password reset accepted for {id}, {id}. The new password is "
        )),
        "{text}"
    );
    assert_eq!(
        app.sim_count("/resetPassword", Some(&tenant.customer_id))
            .await,
        1
    );
    app.stop();
}

#[tokio::test]
async fn a_thousand_resets_give_a_thousand_different_valid_passwords() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let all = users(&app, &tenant.default_domain_name).await;
    let cloud: Vec<String> = all
        .iter()
        .filter(|u| u["onPremisesSyncEnabled"] == false && u["userType"] != "Guest")
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let token = app.token("editor").await;
    let passwords: Vec<String> = futures::stream::iter(0..1000)
        .map(|i| {
            let (app, token, tenant) = (&app, &token, &tenant);
            let id = cloud[i % cloud.len()].clone();
            async move {
                let response = app
                    .post(
                        "/api/ExecResetPass",
                        Some(token),
                        json!({"tenantFilter": tenant.customer_id, "ID": id}),
                    )
                    .await;
                assert_eq!(response.status().as_u16(), 200);
                let body: Value = response.json().await.unwrap();
                body["Results"]["copyField"].as_str().unwrap().to_owned()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(passwords.iter().all(|p| satisfies_classic_rules(p)));
    assert_eq!(passwords.iter().collect::<HashSet<_>>().len(), 1000);
    app.stop();
}

#[tokio::test]
async fn revoke_sessions_moves_the_sessions_valid_from_time() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).clone();
    let user = pick(&users(&app, &tenant.default_domain_name).await, false);
    let id = user["id"].as_str().unwrap();
    let before =
        app.sim_user(&tenant.customer_id, id).await["signInSessionsValidFromDateTime"].clone();
    let token = app.token("editor").await;
    let response = app
        .get(
            &format!(
                "/api/ExecRevokeSessions?tenantFilter={}&id={id}&Username=ada@x",
                tenant.default_domain_name
            ),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(results(&body), "Successfully revoked sessions for ada@x");
    let after =
        app.sim_user(&tenant.customer_id, id).await["signInSessionsValidFromDateTime"].clone();
    assert_ne!(before, after);
    app.stop();
}

#[tokio::test]
async fn remove_user_soft_deletes_the_user() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).clone();
    let user = pick(&users(&app, &tenant.default_domain_name).await, false);
    let (id, upn) = (
        user["id"].as_str().unwrap(),
        user["userPrincipalName"].as_str().unwrap(),
    );
    let token = app.token("editor").await;
    let response = app
        .post(
            "/api/RemoveUser",
            Some(&token),
            json!({"tenantFilter": tenant.default_domain_name, "ID": id, "userPrincipalName": upn}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Successfully deleted user with ID: '{id}' and Username: '{upn}'")
    );
    let listed = users(&app, &tenant.default_domain_name).await;
    assert!(!listed.iter().any(|u| u["id"] == id));
    assert!(
        app.sim_user(&tenant.customer_id, id).await["deletedDateTime"].is_string(),
        "in deleted items"
    );
    app.stop();
}

#[tokio::test]
async fn the_first_actions_refuse_readonly_callers() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).default_domain_name.clone();
    let token = app.token("readonly").await;
    for name in ["ExecResetPass", "ExecRevokeSessions", "RemoveUser"] {
        let response = app
            .post(
                &format!("/api/{name}"),
                Some(&token),
                json!({"tenantFilter": tenant, "ID": "x", "id": "x"}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 403, "{name}");
        let body: Value = response.json().await.unwrap();
        assert!(results(&body).contains(
            "'readonly' base role does not have the required permission: Identity.User.ReadWrite"
        ));
    }
    app.stop();
}

#[tokio::test]
async fn the_first_actions_name_a_missing_parameter() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).default_domain_name.clone();
    let token = app.token("editor").await;
    for (name, field) in [
        ("ExecResetPass", "ID"),
        ("ExecRevokeSessions", "id"),
        ("RemoveUser", "ID"),
    ] {
        let response = app
            .post(
                &format!("/api/{name}"),
                Some(&token),
                json!({"tenantFilter": tenant}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 400, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(results(&body), format!("{field} is required"));
    }
    let response = app
        .post(
            "/api/ExecResetPass",
            Some(&token),
            json!({"tenantFilter": tenant, "ID": "x", "MustChange": "sometimes"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    app.stop();
}

#[tokio::test]
async fn graph_failures_come_back_in_cipps_words() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).default_domain_name.clone();
    let token = app.token("editor").await;
    let ghost = "ghost@nowhere.example";
    let cases = [
        (
            "ExecResetPass",
            json!({"tenantFilter": tenant, "ID": ghost}),
            format!("Failed to reset password for {ghost}, {ghost}. Error: "),
        ),
        (
            "ExecRevokeSessions",
            json!({"tenantFilter": tenant, "id": ghost, "Username": ghost}),
            format!("Failed to revoke sessions for {ghost}. Error: "),
        ),
        (
            "RemoveUser",
            json!({"tenantFilter": tenant, "ID": ghost}),
            format!("Failed to delete user with ID: '{ghost}'. Error: "),
        ),
    ];
    for (name, body, prefix) in cases {
        let response = app.post(&format!("/api/{name}"), Some(&token), body).await;
        assert_eq!(response.status().as_u16(), 404, "{name}");
        let answer: Value = response.json().await.unwrap();
        let text = results(&answer);
        assert!(text.starts_with(&prefix), "{text}");
        assert!(
            text.contains("does not exist"),
            "Graph's own reason is kept: {text}"
        );
    }
    app.stop();
}
