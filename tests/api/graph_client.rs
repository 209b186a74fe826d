//! The Graph client against the simulator: one token request under concurrency, throttling
//! retried within bounds.

use crate::helpers::{TestApp, results, spawn_app};
use cipp_api::demo::{PARTNER_CLIENT_ID, PARTNER_CLIENT_SECRET};
use cipp_graph::{GraphClient, GraphSettings, GraphVersion, RetryPolicy};
use serde_json::{Value, json};
use std::time::Duration;

/// A client whose Graph, Entra and Exchange are all the simulator (nothing leaves loopback).
pub(crate) fn graph_client(app: &TestApp, ca: Vec<u8>) -> GraphClient {
    GraphClient::builder(GraphSettings {
        graph_base_url: app.sim.clone(),
        authority_host: app.sim.clone(),
        client_id: PARTNER_CLIENT_ID.to_owned(),
        client_secret: PARTNER_CLIENT_SECRET.to_owned().into(),
        extra_ca_pem: Some(ca),
        retry: RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        },
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(30),
        user_agent: "tests".into(),
    })
    .exchange_base_url(app.sim.clone())
    .build()
    .unwrap()
}

pub(crate) async fn sim_ca(app: &TestApp) -> Vec<u8> {
    std::fs::read(&app.ca_pem_path).unwrap()
}

#[tokio::test]
async fn a_hundred_concurrent_first_requests_for_one_tenant_make_one_token_request() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).customer_id.clone();
    let client = graph_client(&app, sim_ca(&app).await);
    app.reset_sim_stats().await;
    let calls = (0..100).map(|_| {
        let client = client.clone();
        let tenant = tenant.clone();
        async move {
            client
                .get(&tenant, GraphVersion::V1, "users?$top=1&$select=id", &[])
                .await
        }
    });
    let answers = futures::future::join_all(calls).await;
    assert!(
        answers.iter().all(Result::is_ok),
        "{:?}",
        answers.iter().find(|a| a.is_err())
    );
    assert_eq!(app.sim_count("/oauth2/v2.0/token", Some(&tenant)).await, 1);
    assert_eq!(app.sim_count("/v1.0/users", Some(&tenant)).await, 100);
    app.stop();
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_and_the_call_succeeds() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).clone();
    let token = app.token("editor").await;
    // Load the tenant list first, so the fault only meets the operation's own calls.
    let users: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            &token,
        )
        .await;
    let id = users[0]["id"].as_str().unwrap().to_owned();
    app.reset_sim_stats().await;
    app.add_fault(json!({"path": format!("/v1.0/users/{id}"), "method": "PATCH", "status": 429, "count": 2, "retry_after": 1})).await;
    let response = app
        .post(
            "/api/ExecDisableUser",
            Some(&token),
            json!({"tenantFilter": tenant.default_domain_name, "ID": id}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let stats = app.sim_stats().await;
    let patches: Vec<&Value> = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "PATCH")
        .collect();
    let with_status = |status: u64| {
        patches
            .iter()
            .filter(|r| r["status"] == status)
            .map(|r| r["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(with_status(429), 2);
    assert_eq!(with_status(204), 1);
    app.stop();
}

#[tokio::test]
async fn a_429_that_never_ends_gives_a_clear_error_after_the_bounded_attempts() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).clone();
    let token = app.token("editor").await;
    let users: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            &token,
        )
        .await;
    let id = users[0]["id"].as_str().unwrap().to_owned();
    app.reset_sim_stats().await;
    app.add_fault(json!({"path": "/v1.0/users", "status": 429, "retry_after": 1}))
        .await;
    let started = std::time::Instant::now();
    let response = app
        .post(
            "/api/ExecDisableUser",
            Some(&token),
            json!({"tenantFilter": tenant.default_domain_name, "ID": id}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 500);
    let body: Value = response.json().await.unwrap();
    let text = results(&body);
    assert!(
        text.starts_with(&format!("Failed to set sign-in state for {id}. Error: ")),
        "{text}"
    );
    assert!(
        text.contains("429") || text.to_lowercase().contains("throttl"),
        "{text}"
    );
    // The test settings allow 3 attempts; each honours Retry-After: 1.
    assert_eq!(
        app.sim_count("/v1.0/users", Some(&tenant.customer_id))
            .await,
        3
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    app.stop();
}
