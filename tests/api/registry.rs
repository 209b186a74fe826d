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
    // Not implemented and no token: 401 before 501.
    assert_eq!(
        app.get("/api/ExecOffboardUser", None)
            .await
            .status()
            .as_u16(),
        401
    );
    // Readonly on a write that is not implemented: 403 before 501.
    let readonly = app.token("readonly").await;
    assert_eq!(
        app.get("/api/ExecJITAdmin", Some(&readonly))
            .await
            .status()
            .as_u16(),
        403
    );
    // Allowed but not built: 501.
    let editor = app.token("editor").await;
    assert_eq!(
        app.get("/api/ExecJITAdmin", Some(&editor))
            .await
            .status()
            .as_u16(),
        501
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
