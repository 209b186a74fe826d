//! `Idempotency-Key` and `WhatIf=true` on writes, through the generic dispatch: one change at
//! the simulator however often (and however concurrently, on however many replicas) a keyed
//! request comes; no write at all in a dry run, for every write operation.

use crate::helpers::{
    TestApp, drop_database, fresh_database, postgres_url, spawn_app, spawn_app_with,
};
use cipp_users_domain::demo::{TENANT, TENANT_ID, USER, USER_ID};
use reqwest::Response;
use serde_json::{Value, json};

const RESET: &str = "/api/ExecResetPass";

fn reset_body() -> Value {
    json!({"tenantFilter": TENANT, "ID": USER, "displayName": "Kenji Robbins", "MustChange": false})
}

async fn keyed_post(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Response {
    app.http
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn sim_writes(app: &TestApp) -> u64 {
    let view: Value = app
        .http
        .get(app.sim.join("_sim/writes").expect("url"))
        .send()
        .await
        .expect("writes")
        .json()
        .await
        .expect("writes JSON");
    view["count"].as_u64().expect("a count")
}

async fn answer_of(response: Response) -> (u16, Option<String>, String) {
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("Idempotent-Replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, replayed, response.text().await.expect("a body"))
}

/// The writes one reset makes at the simulator, measured with a key of its own.
async fn writes_of_one_reset(app: &TestApp, token: &str) -> u64 {
    let before = sim_writes(app).await;
    let response = keyed_post(app, RESET, token, "measure-one-reset", &reset_body()).await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let writes = sim_writes(app).await - before;
    assert!(writes >= 1, "a reset makes at least one write");
    writes
}

#[tokio::test]
async fn the_same_post_with_the_same_key_twice_changes_once_and_answers_the_same() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let one_reset = writes_of_one_reset(&app, &token).await;
    let before = sim_writes(&app).await;
    let first =
        answer_of(keyed_post(&app, RESET, &token, "reset-kenji-1", &reset_body()).await).await;
    let second =
        answer_of(keyed_post(&app, RESET, &token, "reset-kenji-1", &reset_body()).await).await;
    assert_eq!(first.0, 200, "{}", first.2);
    assert_eq!(first.1, None, "the first answer is not a replay");
    assert_eq!(second.1.as_deref(), Some("true"));
    assert_eq!(
        (first.0, &first.2),
        (second.0, &second.2),
        "identical answers"
    );
    assert_eq!(
        sim_writes(&app).await - before,
        one_reset,
        "one change at the simulator"
    );
    // The kept answer holds the new password, sealed: not readable in the store.
    let password = serde_json::from_str::<Value>(&first.2).expect("JSON")["Results"]["copyField"]
        .as_str()
        .expect("the new password is shown")
        .to_owned();
    let principal = format!(
        "app:{}",
        cipp_api::demo::DEMO_CLIENTS
            .iter()
            .find(|c| c.role == "editor")
            .expect("the editor client")
            .client_id
    );
    let stored = app
        .store
        .idempotency_stored_answer(&principal, "reset-kenji-1")
        .await
        .expect("store")
        .expect("the answer is kept");
    assert!(!String::from_utf8_lossy(&stored).contains(&password));
    assert!(
        !stored
            .windows(password.len())
            .any(|w| w == password.as_bytes())
    );
    app.stop();
}

#[tokio::test]
async fn concurrent_posts_with_one_key_change_once_and_get_one_answer() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let one_reset = writes_of_one_reset(&app, &token).await;
    let before = sim_writes(&app).await;
    let body = reset_body();
    let sends = (0..4).map(|_| keyed_post(&app, RESET, &token, "reset-at-once", &body));
    let answers = futures::future::join_all(
        futures::future::join_all(sends)
            .await
            .into_iter()
            .map(answer_of),
    )
    .await;
    assert!(answers.iter().all(|a| a.0 == 200), "{answers:?}");
    assert!(
        answers.iter().all(|a| a.2 == answers[0].2),
        "one answer for all"
    );
    assert_eq!(
        answers.iter().filter(|a| a.1.is_none()).count(),
        1,
        "one ran, the rest replayed"
    );
    assert_eq!(
        sim_writes(&app).await - before,
        one_reset,
        "one change at the simulator"
    );
    app.stop();
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_422_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let first = keyed_post(&app, RESET, &token, "reused", &reset_body()).await;
    assert_eq!(first.status(), 200);
    let before = sim_writes(&app).await;
    let mut other = reset_body();
    other["MustChange"] = json!(true);
    let second = keyed_post(&app, RESET, &token, "reused", &other).await;
    assert_eq!(second.status(), 422);
    let body: Value = second.json().await.expect("JSON");
    assert_eq!(body["code"], "idempotency_key_reused");
    assert!(
        body["Results"]
            .as_str()
            .is_some_and(|t| t.contains("Idempotency-Key"))
    );
    // Another operation with the same key is another request too.
    let third = keyed_post(
        &app,
        "/api/ExecRevokeSessions",
        &token,
        "reused",
        &json!({"tenantFilter": TENANT, "ID": USER, "Username": USER}),
    )
    .await;
    assert_eq!(third.status(), 422);
    assert_eq!(sim_writes(&app).await, before);
    app.stop();
}

#[tokio::test]
async fn a_refused_first_request_frees_its_key_for_the_corrected_retry() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let missing_id = json!({"tenantFilter": TENANT});
    let refused = keyed_post(&app, RESET, &token, "fix-and-retry", &missing_id).await;
    assert_eq!(refused.status(), 400);
    let retried = keyed_post(&app, RESET, &token, "fix-and-retry", &reset_body()).await;
    assert_eq!(retried.status(), 200);
    assert!(retried.headers().get("Idempotent-Replayed").is_none());
    let bad_key = keyed_post(&app, RESET, &token, &"k".repeat(300), &reset_body()).await;
    assert_eq!(bad_key.status(), 400);
    assert!(
        bad_key
            .text()
            .await
            .unwrap_or_default()
            .contains("Idempotency-Key")
    );
    app.stop();
}

#[tokio::test]
async fn two_replicas_on_one_postgresql_run_a_keyed_request_once() {
    let Some(server) = postgres_url("two_replicas_on_one_postgresql_run_a_keyed_request_once")
    else {
        return;
    };
    let (database, name) = fresh_database(&server).await;
    // Every replica of one deployment has the same encryption key; each opens the other's answers.
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let configure = |settings: &mut cipp_api::settings::Settings| {
        settings.database_url = Some(secrecy::SecretString::from(database.clone()));
        settings.encryption_key = Some(secrecy::SecretString::from(key.to_owned()));
    };
    let first = spawn_app_with(configure).await;
    let second = spawn_app_with(configure).await;
    let token_first = first.token("editor").await;
    let token_second = second.token("editor").await;
    let one_reset = writes_of_one_reset(&first, &token_first).await;
    let before = (sim_writes(&first).await, sim_writes(&second).await);
    let a = answer_of(keyed_post(&first, RESET, &token_first, "two-replicas", &reset_body()).await)
        .await;
    let b =
        answer_of(keyed_post(&second, RESET, &token_second, "two-replicas", &reset_body()).await)
            .await;
    assert_eq!(a.0, 200, "{}", a.2);
    assert_eq!((b.0, b.1.as_deref()), (200, Some("true")), "{}", b.2);
    assert_eq!(a.2, b.2, "identical answers from both replicas");
    let after = (sim_writes(&first).await, sim_writes(&second).await);
    assert_eq!(
        after.0 - before.0 + after.1 - before.1,
        one_reset,
        "one change in all"
    );
    first.stop();
    second.stop();
    drop_database(&server, &name).await;
}

/// Every write operation's documented example, sent with `WhatIf=true` as Swagger UI sends it.
#[tokio::test]
async fn whatif_on_every_write_sends_no_write_to_the_simulator() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let document: Value = app.get_json("/api/openapi.json", &token).await;
    let jobs_before = app.jobs.all().await.expect("jobs").len();
    app.http
        .delete(app.sim.join("_sim/writes").expect("url"))
        .send()
        .await
        .expect("reset writes");
    let mut tried = Vec::new();
    let mut failures = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let (method, operation) = item
            .as_object()
            .expect("item")
            .iter()
            .next()
            .expect("an operation");
        if operation["x-cipp-implemented"] != json!(true)
            || operation["x-cipp-writes"] != json!(true)
        {
            continue;
        }
        let mut query: Vec<(String, String)> = vec![("WhatIf".into(), "true".into())];
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["in"] == "query"
                && let Some(text) = parameter["example"].as_str()
            {
                query.push((
                    parameter["name"].as_str().unwrap_or_default().to_owned(),
                    text.to_owned(),
                ));
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
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        tried.push(path.clone());
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !(200..300).contains(&status) || answer["WhatIf"] != json!(true) {
            failures.push(format!("{path}: {status} {}", &text[..text.len().min(300)]));
        }
    }
    assert!(
        failures.is_empty(),
        "dry runs that failed:\n{}",
        failures.join("\n")
    );
    assert!(
        tried.len() >= 40,
        "only {} write operations were tried",
        tried.len()
    );
    let writes: Value = app
        .http
        .get(app.sim.join("_sim/writes").expect("url"))
        .send()
        .await
        .expect("writes")
        .json()
        .await
        .expect("JSON");
    assert_eq!(writes["count"], 0, "writes reached the simulator: {writes}");
    assert_eq!(
        app.jobs.all().await.expect("jobs").len(),
        jobs_before,
        "no job was queued"
    );
    app.stop();
}

#[tokio::test]
async fn a_dry_run_lists_its_writes_in_order_and_the_same_call_for_real_makes_them() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let body = json!({"tenantFilter": TENANT, "ID": USER, "Enable": false});
    let dry = app
        .post(
            "/api/ExecDisableUser?WhatIf=true",
            Some(&token),
            body.clone(),
        )
        .await;
    assert_eq!(dry.status(), 200);
    let dry: Value = dry.json().await.expect("JSON");
    assert_eq!(dry["WhatIf"], true);
    assert!(
        dry["WhatIfNote"]
            .as_str()
            .is_some_and(|n| n.contains("nothing was changed"))
    );
    let planned = dry["PlannedWrites"].as_array().expect("planned writes");
    assert_eq!(planned.len(), 1, "{dry}");
    assert_eq!(planned[0]["Method"], "PATCH");
    assert_eq!(planned[0]["Body"], json!({"accountEnabled": false}));
    let user = app.sim_user(TENANT_ID, USER_ID).await;
    assert_eq!(user["accountEnabled"], true, "the dry run changed nothing");
    let real = app.post("/api/ExecDisableUser", Some(&token), body).await;
    assert_eq!(real.status(), 200);
    let real: Value = real.json().await.expect("JSON");
    assert!(real.get("WhatIf").is_none());
    let user = app.sim_user(TENANT_ID, USER_ID).await;
    assert_eq!(user["accountEnabled"], false);
    let bad = app
        .post(
            "/api/ExecDisableUser?WhatIf=perhaps",
            Some(&token),
            json!({"tenantFilter": TENANT, "ID": USER}),
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap_or_default().contains("WhatIf"));
    app.stop();
}
