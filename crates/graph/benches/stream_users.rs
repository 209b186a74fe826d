//! Streams every user of a big simulated tenant through `GraphClient::pages` and prints the
//! wall time and the process's peak RSS (`VmHWM`). A measurement, not a timed test: see
//! `crates/graph/BENCHMARKS.md` for how to run it and the numbers measured.
//!
//! The simulator runs in its own process. Either give its coordinates:
//!
//! - `SIM_BASE_URL` (Graph and Entra origin), `SIM_CA_PEM` (path of its CA certificate),
//!   `SIM_TENANT` (tenant id or domain), `SIM_CLIENT_ID`, `SIM_CLIENT_SECRET`;
//!
//! or let the benchmark start `cipp-sim` itself (`SIM_BIN`, default
//! `target/release/cipp-sim`; `SIM_USERS`, default 100000) and read the JSON line it prints.
//!
//! Options: `BENCH_SELECT` (the `$select`, default `id,userPrincipalName,displayName,mail,accountEnabled`),
//! `BENCH_COLLECT=1` to use `get_all` (everything held at once) instead of the stream, for comparison;
//! `BENCH_PARTNER=1` for partner (delegated) tokens, with the refresh token from the simulator's
//! `GET /_sim/partner-refresh-token`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cipp_graph::{GraphClient, GraphSettings, GraphVersion};
use futures::StreamExt;
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

struct Target {
    base_url: String,
    ca_pem: PathBuf,
    tenant: String,
    client_id: String,
    client_secret: String,
    expected_users: Option<u64>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Starts `cipp-sim` and reads its one-line JSON description.
fn start_sim() -> (Child, Target) {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = env("SIM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target/release/cipp-sim"));
    let users = env("SIM_USERS").unwrap_or_else(|| "100000".to_owned());
    eprintln!(
        "starting {} --users {users} --bind 127.0.0.1:0",
        bin.display()
    );
    let mut child = Command::new(&bin)
        .args(["--users", &users, "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}); build it with `cargo build --release -p cipp-sim` or set SIM_BASE_URL etc.",
                bin.display()
            )
        });
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let info: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("cipp-sim printed no JSON line ({e}): {line}"));
    let big = info["tenants"]
        .as_array()
        .and_then(|ts| {
            ts.iter()
                .max_by_key(|t| t["userCount"].as_u64().unwrap_or(0))
        })
        .cloned()
        .expect("cipp-sim listed no tenants");
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    let target = Target {
        base_url: s(&info["base_url"]),
        ca_pem: PathBuf::from(s(&info["ca_pem_path"])),
        tenant: s(&big["customerId"]),
        client_id: s(&info["partner_client_id"]),
        client_secret: s(&info["partner_client_secret"]),
        expected_users: big["userCount"].as_u64(),
    };
    (child, target)
}

fn target_from_env() -> Option<Target> {
    Some(Target {
        base_url: env("SIM_BASE_URL")?,
        ca_pem: PathBuf::from(env("SIM_CA_PEM")?),
        tenant: env("SIM_TENANT")?,
        client_id: env("SIM_CLIENT_ID")?,
        client_secret: env("SIM_CLIENT_SECRET")?,
        expected_users: None,
    })
}

/// A partner refresh token from the simulator's admin API.
async fn sim_refresh_token(target: &Target, settings: &GraphSettings) -> SecretString {
    let ca = reqwest::Certificate::from_pem(settings.extra_ca_pem.as_deref().unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_merge([ca])
        .build()
        .unwrap();
    let url = format!(
        "{}/_sim/partner-refresh-token",
        target.base_url.trim_end_matches('/')
    );
    let body: Value = http.get(url).send().await.unwrap().json().await.unwrap();
    SecretString::from(body["refresh_token"].as_str().unwrap().to_owned())
}

/// Peak resident set size of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::main]
async fn main() {
    let (child, target) = match target_from_env() {
        Some(t) => (None, t),
        None => {
            let (c, t) = start_sim();
            (Some(c), t)
        }
    };
    let base = Url::parse(&target.base_url).unwrap();
    let mut settings = GraphSettings::new(
        base.clone(),
        base,
        target.client_id.clone(),
        SecretString::from(target.client_secret.clone()),
    );
    settings.extra_ca_pem = Some(std::fs::read(&target.ca_pem).unwrap());
    settings.request_timeout = Duration::from_secs(120);
    let partner = env("BENCH_PARTNER").is_some_and(|v| v == "1");
    let mut builder = GraphClient::builder(settings.clone());
    if partner {
        builder = builder.partner_refresh_token(sim_refresh_token(&target, &settings).await);
    }
    let client = builder.build().unwrap();
    let select = env("BENCH_SELECT")
        .unwrap_or_else(|| "id,userPrincipalName,displayName,mail,accountEnabled".to_owned());
    let query = format!("users?$top=999&$select={select}");
    let collect = env("BENCH_COLLECT").is_some_and(|v| v == "1");

    // Token and connection first, so the timing covers paging only.
    client
        .get(
            &target.tenant,
            GraphVersion::V1,
            "users?$top=1&$select=id",
            &[],
        )
        .await
        .unwrap();
    let rss_before = peak_rss_kib();
    let started = Instant::now();
    let (users, pages) = if collect {
        let all = client
            .get_all(&target.tenant, GraphVersion::V1, &query, &[])
            .await
            .unwrap();
        (all.len() as u64, None)
    } else {
        let mut stream = Box::pin(client.pages(&target.tenant, GraphVersion::V1, &query, &[]));
        let (mut users, mut pages) = (0u64, 0u64);
        while let Some(page) = stream.next().await {
            let page = page.unwrap();
            users += page.items.len() as u64;
            pages += 1;
        }
        (users, Some(pages))
    };
    let elapsed = started.elapsed();
    let rss_peak = peak_rss_kib();

    println!(
        "mode:            {}",
        if collect {
            "get_all (collect)"
        } else {
            "pages (stream)"
        }
    );
    println!("tenant:          {}", target.tenant);
    println!("tokens:          {}", client.token_mode());
    println!("users:           {users}");
    if let Some(p) = pages {
        println!("pages:           {p}");
    }
    println!("wall time:       {:.2} s", elapsed.as_secs_f64());
    println!(
        "users/s:         {:.0}",
        users as f64 / elapsed.as_secs_f64()
    );
    if let (Some(before), Some(peak)) = (rss_before, rss_peak) {
        println!("peak RSS before: {:.1} MiB", before as f64 / 1024.0);
        println!("peak RSS after:  {:.1} MiB", peak as f64 / 1024.0);
    }
    if let Some(expected) = target.expected_users
        && expected != users
    {
        eprintln!("warning: the simulator reported {expected} users, {users} were streamed");
    }
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
}
