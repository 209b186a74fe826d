//! Fault injection beyond plain statuses, and refresh-token behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cipp_sim::SimConfig;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_drop_fault_closes_the_connection_without_an_answer() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.tenants[0].customer_id).await;
    add_fault(
        &h,
        &c,
        json!({"path": "/v1.0/organization", "drop": true, "count": 1}),
    )
    .await;
    let err = c
        .get(url(&h, "/v1.0/organization"))
        .bearer_auth(&token)
        .send()
        .await
        .expect_err("no answer expected");
    assert!(!err.is_status());
    // A new connection works again once the fault is spent.
    let fresh = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(h.ca_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let resp = fresh
        .get(url(&h, "/v1.0/organization"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    h.stop().await;
}

#[tokio::test]
async fn a_malformed_fault_sends_a_200_with_truncated_json() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.tenants[0].customer_id).await;
    add_fault(
        &h,
        &c,
        json!({"path": "/v1.0/users", "malformed": true, "count": 1}),
    )
    .await;
    let resp = c
        .get(url(&h, "/v1.0/users?$top=5"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let text = resp.text().await.unwrap();
    assert!(text.starts_with('{'));
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    h.stop().await;
}

async fn token_error(
    h: &cipp_sim::SimHandle,
    c: &reqwest::Client,
    tenant: &str,
) -> (StatusCode, Value) {
    let app = SimConfig::default().partner_app;
    json_of(
        c.post(url(h, &format!("/{tenant}/oauth2/v2.0/token")))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", app.client_id.as_str()),
                ("client_secret", app.client_secret.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn aadsts_faults_give_entras_error_for_that_code() {
    let (h, c) = sim().await;
    let tenant = h.tenants[0].customer_id.clone();
    for (code, status, error) in [
        (65001, 400, "invalid_grant"),
        (700082, 400, "invalid_grant"),
        (53003, 400, "invalid_grant"),
        (7000215, 401, "invalid_client"),
    ] {
        add_fault(
            &h,
            &c,
            json!({"path": format!("/{tenant}/oauth2"), "aadsts": code, "count": 1}),
        )
        .await;
        let (got, body) = token_error(&h, &c, &tenant).await;
        assert_eq!(got.as_u16(), status, "AADSTS{code}");
        assert_eq!(body["error"], error);
        assert_eq!(body["error_codes"], json!([code]));
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("AADSTS{code}: "))
        );
    }
    // Spent: the next token request succeeds.
    let (got, _) = token_error(&h, &c, &tenant).await;
    assert_eq!(got, StatusCode::OK);
    h.stop().await;
}

#[tokio::test]
async fn graph_503_and_504_faults_carry_graph_bodies_and_retry_after() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.tenants[0].customer_id).await;
    for (status, code, retry) in [
        (503, "serviceNotAvailable", Some("2.5")),
        (504, "GatewayTimeout", None),
        (429, "TooManyRequests", Some("3")),
    ] {
        let mut spec = json!({"path": "/v1.0/domains", "status": status, "count": 1});
        if let Some(r) = retry {
            spec["retry_after"] = serde_json::from_str(r).unwrap();
        }
        add_fault(&h, &c, spec).await;
        let resp = c
            .get(url(&h, "/v1.0/domains"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status);
        assert_eq!(
            resp.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned())
                .as_deref(),
            retry
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }
    h.stop().await;
}

#[tokio::test]
async fn a_fault_needs_exactly_one_action_or_a_latency() {
    let (h, c) = sim().await;
    for spec in [
        json!({"path": "/v1.0"}),
        json!({"path": "/v1.0", "drop": true, "status": 500}),
    ] {
        let resp = c
            .post(url(&h, "/_sim/faults"))
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{spec}");
    }
    h.stop().await;
}

async fn refresh(
    h: &cipp_sim::SimHandle,
    c: &reqwest::Client,
    tenant: &str,
    token: &str,
    scope: &str,
) -> (StatusCode, Value) {
    let app = SimConfig::default().partner_app;
    json_of(
        c.post(url(h, &format!("/{tenant}/oauth2/v2.0/token")))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", app.client_id.as_str()),
                ("client_secret", app.client_secret.as_str()),
                ("refresh_token", token),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims
}

#[tokio::test]
async fn refresh_tokens_rotate_without_revoking_the_previous_one() {
    let (h, c) = sim().await;
    let rt: Value = c
        .get(url(&h, "/_sim/partner-refresh-token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = rt["refresh_token"].as_str().unwrap().to_owned();
    let tenant = h.tenants[0].customer_id.clone();
    let (status, a) = refresh(
        &h,
        &c,
        &tenant,
        &first,
        "https://graph.microsoft.com/.default offline_access",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let second = a["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    // The first one still works, and so does the second.
    let (status, b) = refresh(
        &h,
        &c,
        &tenant,
        &first,
        "https://outlook.office365.com/.default",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = refresh(
        &h,
        &c,
        &tenant,
        &second,
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(b["refresh_token"], a["refresh_token"]);

    // Delegated tokens and app-only tokens are told apart by their claims.
    let delegated = claims(a["access_token"].as_str().unwrap());
    assert_eq!(delegated["idtyp"], "user");
    assert!(
        delegated["scp"]
            .as_str()
            .unwrap()
            .contains("User.ReadWrite.All")
    );
    assert_eq!(delegated["upn"], rt["user_principal_name"]);
    assert!(delegated.get("roles").is_none());
    let exo = claims(b["access_token"].as_str().unwrap());
    assert_eq!(exo["aud"], "https://outlook.office365.com");
    let app = claims(&graph_token(&h, &c, &tenant).await);
    assert_eq!(app["idtyp"], "app");
    assert!(
        app["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "User.ReadWrite.All")
    );
    assert!(app.get("scp").is_none());
    assert!(app.get("upn").is_none());
    h.stop().await;
}
