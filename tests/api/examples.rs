//! Every operation's documented request example works against demo mode, sent the way Swagger
//! UI's "Try it out" sends it: `tenantFilter` and a GET's parameters in the query, a POST's
//! parameters as its JSON body.

use crate::helpers::spawn_app;
use serde_json::Value;

fn query_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[tokio::test]
async fn every_documented_example_succeeds_against_demo_mode() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let document: Value = app.get_json("/api/openapi.json", &token).await;
    let mut tried = 0;
    let mut failures = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let (method, operation) = item.as_object().unwrap().iter().next().unwrap();
        if operation["x-cipp-implemented"] != Value::Bool(true) {
            continue;
        }
        let mut query: Vec<(String, String)> = Vec::new();
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if let Some(text) = parameter.get("example").and_then(query_text) {
                query.push((parameter["name"].as_str().unwrap().to_owned(), text));
            }
        }
        let body = operation["requestBody"]["content"]["application/json"]["example"].clone();
        let url = format!("{}{path}", app.address);
        let request = match method.as_str() {
            "get" => app.http.get(&url),
            _ => app.http.post(&url),
        }
        .query(&query)
        .bearer_auth(&token);
        let request = if body.is_null() {
            request
        } else {
            request.json(&body)
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        tried += 1;
        if !(200..300).contains(&status) {
            let text = response.text().await.unwrap_or_default();
            failures.push(format!("{path}: {status} {}", &text[..text.len().min(300)]));
        }
    }
    assert!(
        failures.is_empty(),
        "examples that failed:\n{}",
        failures.join("\n")
    );
    assert!(tried >= 10, "only {tried} operations were tried");
    app.stop();
}
