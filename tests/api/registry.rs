//! Every operation in the repository's copy of scope.json answers: implemented or 501; unknown
//! names 404; the order of answers is 404, 401, 403, 501.

use crate::helpers::{results, spawn_app};
use serde_json::Value;

fn scope_names() -> Vec<String> {
    let scope: Value = serde_json::from_str(include_str!("../../openapi/scope.json")).unwrap();
    scope["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_scope_operation_answers_implemented_or_501() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let names = scope_names();
    assert_eq!(names.len(), 92);
    let registry = cipp_api::registry::Registry::load().unwrap();
    for name in &names {
        let implemented = registry.find(name).unwrap().implemented();
        let response = app.get(&format!("/api/{name}"), Some(&token)).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if implemented {
            assert_ne!(status, 501, "{name} is implemented");
            assert_ne!(status, 404, "{name}");
        } else {
            assert_eq!(status, 501, "{name}");
            assert_eq!(results(&body), format!("{name} is not implemented yet"));
        }
    }
    app.stop();
}

#[tokio::test]
async fn an_unknown_name_is_404_even_without_a_token() {
    let app = spawn_app().await;
    for path in ["/api/NoSuchThing", "/api/ListUsers/extra", "/api/"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status().as_u16(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(results(&body), "Endpoint not found");
    }
    app.stop();
}

#[tokio::test]
async fn route_names_match_in_any_case_and_with_any_verb() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let tenant = app.tenant(0).default_domain_name.clone();
    for path in ["/api/listusers", "/api/LISTUSERS", "/api/ListUsers"] {
        let url = format!("{}{path}?tenantFilter={tenant}", app.address);
        for method in [
            reqwest::Method::GET,
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
        ] {
            let response = app
                .http
                .request(method.clone(), &url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200, "{method} {path}");
        }
    }
    app.stop();
}

#[tokio::test]
async fn answers_come_in_the_order_404_401_403_501() {
    let app = spawn_app().await;
    // No token: 401 before anything the operation would say.
    assert_eq!(
        app.get("/api/ExecOffboardUser", None)
            .await
            .status()
            .as_u16(),
        401
    );
    // Readonly on a write: 403 before the operation runs.
    let readonly = app.token("readonly").await;
    assert_eq!(
        app.get("/api/ExecJITAdmin", Some(&readonly))
            .await
            .status()
            .as_u16(),
        403
    );
    // Allowed but not built: 501. Every operation in scope.json is built today, so the check
    // runs for any that a later scope.json adds before its declaration lands.
    let registry = cipp_api::registry::Registry::load().unwrap();
    let superadmin = app.token("superadmin").await;
    let unbuilt: Vec<&str> = registry
        .all()
        .iter()
        .filter(|o| !o.implemented())
        .map(|o| o.spec.name.as_str())
        .collect();
    for name in &unbuilt {
        let response = app.get(&format!("/api/{name}"), Some(&superadmin)).await;
        assert_eq!(response.status().as_u16(), 501, "{name}");
    }
    assert_eq!(
        registry
            .coverage_table()
            .contains("501 not implemented yet"),
        !unbuilt.is_empty()
    );
    app.stop();
}

#[test]
fn the_readme_coverage_table_is_the_generated_one() {
    let registry = cipp_api::registry::Registry::load().unwrap();
    crate::helpers::check_generated(
        "README.md",
        Some(("<!-- coverage:start -->\n", "<!-- coverage:end -->")),
        &format!("{}\n", registry.coverage_table()),
    );
}
