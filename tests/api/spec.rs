//! The OpenAPI document: served, committed, and faithful to upstream for what is implemented.

use crate::helpers::{check_generated, spawn_app};
use serde_json::Value;

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let registry = cipp_api::registry::Registry::load().unwrap();
    check_generated(
        "openapi/openapi.json",
        None,
        &cipp_api::spec::openapi_json(&registry),
    );
}

fn parameter_names(operation: &Value, components: &Value) -> Vec<String> {
    let mut names: Vec<String> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| match p.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let key = reference.rsplit('/').next()?;
                components["parameters"][key]["name"]
                    .as_str()
                    .map(str::to_owned)
            }
            None => p["name"].as_str().map(str::to_owned),
        })
        .collect();
    let body = &operation["requestBody"]["content"]["application/json"]["schema"]["properties"];
    if let Some(properties) = body.as_object() {
        names.extend(properties.keys().map(|k| format!("body:{k}")));
    }
    names.sort_by_key(|n| n.to_lowercase());
    names
}

fn single_operation(path_item: &Value) -> (&str, &Value) {
    let (method, operation) = path_item.as_object().unwrap().iter().next().unwrap();
    (method.as_str(), operation)
}

#[test]
fn implemented_operations_match_their_upstream_entries() {
    let upstream: Value =
        serde_json::from_str(include_str!("../../openapi/upstream-operations.json")).unwrap();
    let registry = cipp_api::registry::Registry::load().unwrap();
    let ours = serde_json::to_value(cipp_api::spec::openapi(&registry)).unwrap();
    let mut compared = 0;
    for op in registry.all().iter().filter(|o| o.implemented()) {
        let path = format!("/api/{}", op.spec.name);
        let Some(theirs) = upstream["paths"].get(&path) else {
            // `me` is answered by CIPP's access check, and `ExecConverttoSharedMailbox` is a
            // legacy name upstream no longer lists: neither has an upstream entry.
            assert!(
                ["me", "ExecConverttoSharedMailbox"].contains(&op.spec.name.as_str()),
                "{path} has no upstream entry"
            );
            continue;
        };
        let (their_method, theirs) = single_operation(theirs);
        let (our_method, mine) = single_operation(&ours["paths"][&path]);
        assert_eq!(our_method, their_method, "{path} method");
        for field in ["operationId", "tags", "x-cipp-role"] {
            assert_eq!(mine[field], theirs[field], "{path} {field}");
        }
        // We accept every parameter in the query or the body, so the place upstream documents
        // does not matter; every name upstream documents must be one of ours.
        let bare = |names: Vec<String>| -> std::collections::BTreeSet<String> {
            names
                .into_iter()
                .map(|n| n.trim_start_matches("body:").to_lowercase())
                .collect()
        };
        let mine_names = bare(parameter_names(mine, &ours["components"]));
        let their_names = bare(parameter_names(theirs, &upstream["components"]));
        let missing: Vec<&String> = their_names.difference(&mine_names).collect();
        assert!(
            missing.is_empty(),
            "{path}: upstream parameters we do not take: {missing:?}"
        );
        compared += 1;
    }
    assert!(compared >= 3);
}

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let app = spawn_app().await;
    let served: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let registry = cipp_api::registry::Registry::load().unwrap();
    assert_eq!(
        served,
        serde_json::to_value(cipp_api::spec::openapi(&registry)).unwrap()
    );
    assert_eq!(served["paths"].as_object().unwrap().len(), 92);
    app.stop();
}

#[tokio::test]
async fn swagger_ui_loads_without_any_external_url() {
    let app = spawn_app().await;
    let index = app.get("/swagger-ui/", None).await;
    assert_eq!(index.status().as_u16(), 200);
    let html = index.text().await.unwrap();
    let references: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.ends_with(".js") || s.ends_with(".css") || s.ends_with(".png"))
        .collect();
    assert!(!references.is_empty());
    for reference in references {
        assert!(
            !reference.contains("//"),
            "{reference} is not served locally"
        );
        let asset = app
            .get(
                &format!("/swagger-ui/{}", reference.trim_start_matches("./")),
                None,
            )
            .await;
        assert_eq!(asset.status().as_u16(), 200, "{reference}");
    }
    let initializer = app
        .get("/swagger-ui/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("/api/openapi.json"));
    assert!(!initializer.contains("https://"), "{initializer}");
    app.stop();
}
