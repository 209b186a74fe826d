//! The `cipp-sim` binary: starts, prints its JSON line, and serves over HTTPS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_one_json_line_and_serves_what_it_describes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cipp-sim"))
        .args(["--bind", "127.0.0.1:0", "--seed", "7", "--tenants", "4"])
        .args(["--users", "150", "--cert-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let info: Value = serde_json::from_str(line.trim()).unwrap();
    let base = info["base_url"].as_str().unwrap();
    assert!(base.starts_with("https://127.0.0.1:"));
    assert!(!base.ends_with(":0"));
    assert!(info["partner_tenant_id"].as_str().unwrap().len() == 36);
    assert!(!info["partner_client_id"].as_str().unwrap().is_empty());
    assert!(!info["partner_client_secret"].as_str().unwrap().is_empty());
    let tenants = info["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 4);
    assert_eq!(tenants[0]["userCount"], 150);
    for key in [
        "customerId",
        "defaultDomainName",
        "initialDomainName",
        "displayName",
    ] {
        assert!(tenants[0][key].is_string(), "{key} missing");
    }

    let pem = std::fs::read(info["ca_pem_path"].as_str().unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .build()
        .unwrap();
    let token: Value = client
        .post(format!(
            "{base}/{}/oauth2/v2.0/token",
            tenants[0]["customerId"].as_str().unwrap()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", info["partner_client_id"].as_str().unwrap()),
            (
                "client_secret",
                info["partner_client_secret"].as_str().unwrap(),
            ),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users: Value = client
        .get(format!("{base}/v1.0/users?$top=999"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["value"].as_array().unwrap().len(), 150);
    drop(running);
}

#[test]
fn an_unknown_flag_exits_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_cipp-sim"))
        .arg("--frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: cipp-sim"));
}
