//! Helpers shared by the integration tests: start a simulator, get tokens, call it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cipp_sim::{SimConfig, SimHandle, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The tests' configuration; [`sim_with`] gives each simulator a temporary certificate folder.
pub fn config() -> SimConfig {
    SimConfig {
        big_tenant_users: 300,
        ..SimConfig::default()
    }
}

/// A running simulator and its certificate folder, removed when the test drops it.
pub struct TestSim {
    handle: SimHandle,
    _cert_dir: tempfile::TempDir,
}

impl std::ops::Deref for TestSim {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

pub async fn sim_with(mut config: SimConfig) -> (TestSim, reqwest::Client) {
    let cert_dir = tempfile::tempdir().unwrap();
    config.cert_dir = cert_dir.path().to_owned();
    let handle = start(config).await.expect("simulator starts");
    let cert = reqwest::Certificate::from_pem(handle.ca_pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .unwrap();
    let handle = TestSim {
        handle,
        _cert_dir: cert_dir,
    };
    (handle, client)
}

pub async fn sim() -> (TestSim, reqwest::Client) {
    sim_with(config()).await
}

pub fn url(h: &SimHandle, path: &str) -> String {
    format!("{}{}", h.base_url.as_str().trim_end_matches('/'), path)
}

pub async fn token_for(h: &SimHandle, c: &reqwest::Client, tenant: &str, scope: &str) -> String {
    let app = SimConfig::default().partner_app;
    let resp = c
        .post(url(h, &format!("/{tenant}/oauth2/v2.0/token")))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

pub async fn graph_token(h: &SimHandle, c: &reqwest::Client, tenant: &str) -> String {
    token_for(h, c, tenant, "https://graph.microsoft.com/.default").await
}

pub async fn exo_token(h: &SimHandle, c: &reqwest::Client, tenant: &str) -> String {
    token_for(h, c, tenant, "https://outlook.office365.com/.default").await
}

pub async fn json_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn add_fault(h: &SimHandle, c: &reqwest::Client, spec: Value) {
    let resp = c
        .post(url(h, "/_sim/faults"))
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED, "{spec}");
}

/// Runs an Exchange cmdlet in `tenant` (the tenant id) and returns (status, body).
pub async fn cmdlet(
    h: &SimHandle,
    c: &reqwest::Client,
    token: &str,
    tenant: &str,
    name: &str,
    params: Value,
) -> (StatusCode, Value) {
    let resp = c
        .post(url(h, &format!("/adminapi/beta/{tenant}/InvokeCommand")))
        .bearer_auth(token)
        .header(
            "X-AnchorMailbox",
            format!("APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tenant}"),
        )
        .json(&json!({"CmdletInput": {"CmdletName": name, "Parameters": params}}))
        .send()
        .await
        .unwrap();
    json_of(resp).await
}

pub async fn stats(h: &SimHandle, c: &reqwest::Client) -> Value {
    c.get(url(h, "/_sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub fn stat_count(stats: &Value, method: &str, path: &str, status: u16) -> u64 {
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == method && r["path"] == path && r["status"] == status)
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}
