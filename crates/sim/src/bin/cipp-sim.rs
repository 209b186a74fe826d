//! Runs the simulator in its own process, for benchmarks and manual demos.
//!
//! ```text
//! cipp-sim [--bind 127.0.0.1:7072] [--seed 42] [--tenants 3] [--users 2000] [--cert-dir DIR]
//! ```
//!
//! Once listening it prints one JSON line to stdout:
//! `{"base_url", "ca_pem_path", "partner_tenant_id", "partner_client_id",
//! "partner_client_secret", "tenants": [{customerId, defaultDomainName, initialDomainName,
//! displayName, userCount}]}`, then serves until the process is killed.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use cipp_sim::{SimConfig, start};

const USAGE: &str =
    "usage: cipp-sim [--bind ADDR:PORT] [--seed N] [--tenants N] [--users N] [--cert-dir DIR]";

fn parse(args: &[String]) -> Result<SimConfig, String> {
    let mut config = SimConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 7072)),
        ..SimConfig::default()
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (flag.as_str(), None),
        };
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?,
        };
        let bad = |e: &dyn std::fmt::Display| format!("invalid value for {name}: {e}\n{USAGE}");
        match name {
            "--bind" => config.bind = value.parse().map_err(|e| bad(&e))?,
            "--seed" => config.seed = value.parse().map_err(|e| bad(&e))?,
            "--tenants" => config.customer_tenants = value.parse().map_err(|e| bad(&e))?,
            "--users" => config.big_tenant_users = value.parse().map_err(|e| bad(&e))?,
            "--cert-dir" => config.cert_dir = PathBuf::from(value),
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let client_id = config.partner_app.client_id.clone();
    let client_secret = config.partner_app.client_secret.clone();
    let started = std::time::Instant::now();
    let handle = match start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("cipp-sim failed to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let line = serde_json::json!({
        "base_url": handle.base_url.as_str().trim_end_matches('/'),
        "ca_pem_path": handle.ca_pem_path,
        "partner_tenant_id": handle.partner_tenant_id,
        "partner_client_id": client_id,
        "partner_client_secret": client_secret,
        "tenants": handle.tenants,
    });
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    eprintln!(
        "cipp-sim listening on {} (started in {:?})",
        handle.base_url,
        started.elapsed()
    );
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
