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
    let ours = cipp_api::spec::document(&registry);
    let mut compared = 0;
    for op in registry.all().iter().filter(|o| o.implemented()) {
        let path = format!("/api/{}", op.spec.name);
        let Some(theirs) = upstream["paths"].get(&path) else {
            // `me` is answered by CIPP's access check, `ExecConverttoSharedMailbox` is a legacy
            // name upstream no longer lists, and `ListOffboardingProgress` is newer than the
            // upstream document copied here: none has an upstream entry.
            assert!(
                [
                    "me",
                    "ExecConverttoSharedMailbox",
                    "ListOffboardingProgress"
                ]
                .contains(&op.spec.name.as_str()),
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
    assert_eq!(served, cipp_api::spec::document(&registry));
    assert_eq!(served["paths"].as_object().unwrap().len(), 132);
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

fn resolve<'a>(schema: &'a Value, document: &'a Value) -> (&'a Value, Option<&'a str>) {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            (&document["components"]["schemas"][name], Some(name))
        }
        None => (schema, None),
    }
}

/// Whether a schema names its properties, all the way down to its rows; `GraphRow` (a Graph
/// object passed through) is the one open object allowed, and is reported in `open`.
fn names_properties(schema: &Value, document: &Value, open: &mut bool) -> bool {
    let (schema, name) = resolve(schema, document);
    if name == Some("GraphRow") {
        *open = true;
        return true;
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        return !properties.is_empty()
            && properties.values().all(|raw| {
                let (p, _) = resolve(raw, document);
                // A property that is itself an object or array must name its contents too. The
                // unresolved schema goes down, so a `$ref` to `GraphRow` is still seen as one.
                match p.get("type").and_then(Value::as_str) {
                    Some("object") | Some("array") => names_properties(raw, document, open),
                    _ if p.get("oneOf").is_some() || p.get("$ref").is_some() => {
                        names_properties(raw, document, open)
                    }
                    _ => true,
                }
            });
    }
    if let Some(raw) = schema.get("items") {
        let (items, _) = resolve(raw, document);
        return match items.get("type").and_then(Value::as_str) {
            Some("string") | Some("integer") | Some("number") | Some("boolean") => true,
            _ => names_properties(raw, document, open),
        };
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(variants) = schema.get(combinator).and_then(Value::as_array) {
            return variants.iter().all(|raw| {
                let (v, _) = resolve(raw, document);
                // `type` is one name, or several for a nullable scalar (`["integer", "null"]`).
                let scalar = |t: &Value| {
                    matches!(
                        t.as_str(),
                        Some("null" | "string" | "integer" | "number" | "boolean")
                    )
                };
                let scalar_type = match v.get("type") {
                    Some(Value::Array(types)) => !types.is_empty() && types.iter().all(scalar),
                    Some(t) => scalar(t),
                    None => false,
                };
                scalar_type || names_properties(raw, document, open)
            });
        }
    }
    false
}

#[test]
fn every_answer_of_a_built_operation_names_its_properties() {
    let registry = cipp_api::registry::Registry::load().unwrap();
    let document = cipp_api::spec::document(&registry);
    let mut vague = Vec::new();
    let mut open_rows = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let (_, operation) = single_operation(item);
        if operation["x-cipp-implemented"] != Value::Bool(true) {
            continue;
        }
        let mut open = false;
        for (status, response) in operation["responses"].as_object().unwrap() {
            let Some(content) = response.get("content").and_then(Value::as_object) else {
                assert_eq!(status, "431", "{path} {status} documents no body");
                continue;
            };
            for (content_type, media) in content {
                if content_type != "application/json" {
                    continue;
                }
                if !names_properties(&media["schema"], &document, &mut open) {
                    vague.push(format!("{path} {status}"));
                }
            }
        }
        if open {
            open_rows.push(format!("- `{}`", path.trim_start_matches("/api/")));
        }
    }
    assert!(
        vague.is_empty(),
        "answers without named properties: {vague:?}"
    );
    open_rows.sort();
    check_generated(
        "README.md",
        Some(("<!-- open-rows:start -->\n", "<!-- open-rows:end -->")),
        &format!("{}\n", open_rows.join("\n")),
    );
}

#[test]
fn parameters_are_documented_as_the_types_they_are() {
    let registry = cipp_api::registry::Registry::load().unwrap();
    let document = cipp_api::spec::document(&registry);
    let schema_of = |operation: &str, name: &str| -> Value {
        let item = &document["paths"][format!("/api/{operation}")];
        let (_, op) = single_operation(item);
        let from_query = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == name)
            .map(|p| p["schema"].clone());
        let from_body = op["requestBody"]["content"]["application/json"]["schema"]["properties"]
            .get(name)
            .cloned();
        let schema = from_query
            .or(from_body)
            .unwrap_or_else(|| panic!("{operation} documents no parameter {name}"));
        resolve(&schema, &document).0.clone()
    };
    let type_of = |schema: &Value| -> Vec<String> {
        match &schema["type"] {
            Value::String(t) => vec![t.clone()],
            Value::Array(types) => types
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    assert!(type_of(&schema_of("ExecDisableUser", "Enable")).contains(&"boolean".to_owned()));
    assert!(type_of(&schema_of("ListGraphRequest", "$top")).contains(&"integer".to_owned()));
    for (operation, name) in [
        ("ExecEmailForward", "forwardOption"),
        ("ExecPerUserMFA", "State"),
    ] {
        let schema = schema_of(operation, name);
        let values = schema["enum"].as_array().cloned().or_else(|| {
            // An optional enum is documented as oneOf [null, the enum].
            schema["oneOf"].as_array().and_then(|variants| {
                variants
                    .iter()
                    .map(|v| resolve(v, &document).0.clone())
                    .find_map(|v| v["enum"].as_array().cloned())
            })
        });
        assert!(
            values.is_some_and(|v| v.len() >= 2),
            "{operation} {name} is not a closed set: {schema}"
        );
    }
}

#[test]
fn no_two_types_share_one_schema_name() {
    let registry = cipp_api::registry::Registry::load().unwrap();
    assert_eq!(
        cipp_api::spec::component_clashes(&registry),
        Vec::<String>::new()
    );
}
