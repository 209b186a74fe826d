//! The service binary as a real process: what survives SIGKILL, what reaches the logs, and two
//! replicas sharing one PostgreSQL.

use crate::helpers::{drop_database, fresh_database, postgres_url};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `cipp-users` process in demo mode, on OS-chosen ports.
pub(crate) struct Service {
    child: Child,
    pub(crate) address: String,
    metrics: String,
    pub(crate) token_url: String,
    scope: String,
    pub(crate) http: reqwest::Client,
}

pub(crate) fn start(
    data_dir: &Path,
    extra_env: &[(&str, &str)],
    log_file: Option<&Path>,
) -> Service {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cipp-users"));
    command
        .arg("--demo")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CIPP_BIND", "127.0.0.1:0")
        .env("CIPP_DEMO_SIM_BIND", "127.0.0.1:0")
        .env("CIPP_METRICS_BIND", "127.0.0.1:0")
        .env("CIPP_DEMO_BIG_TENANT_USERS", "200")
        .env("CIPP_DATA_DIR", data_dir)
        .env("CIPP_LOG", "debug")
        .stdout(Stdio::piped());
    for (key, value) in extra_env {
        command.env(key, value);
    }
    match log_file {
        Some(path) => {
            command.stderr(std::fs::File::create(path).unwrap());
        }
        None => {
            command.stderr(Stdio::null());
        }
    }
    let mut child = command.spawn().expect("the service binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let (mut token_url, mut scope, mut address, mut ca) = (None, None, None, None);
    let mut metrics = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("demo-client role=editor ") {
            for part in line.split(' ') {
                if let Some(v) = part.strip_prefix("token_url=") {
                    token_url = Some(v.to_owned());
                }
                if let Some(v) = part.strip_prefix("scope=") {
                    scope = Some(v.to_owned());
                }
            }
        }
        if let Some(path) = line.strip_prefix("demo-ca path=") {
            ca = Some(path.to_owned());
        }
        if let Some(rest) = line.strip_prefix("listening on ") {
            metrics = rest
                .split_once("metrics on ")
                .map(|(_, url)| url.trim_end_matches(')').to_owned());
            address = Some(rest.split(' ').next().unwrap().to_owned());
            break;
        }
    }
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let ca = std::fs::read(ca.expect("the demo CA line")).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_merge([reqwest::Certificate::from_pem(&ca).unwrap()])
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    Service {
        child,
        address: address.expect("the listening line"),
        metrics: metrics.expect("the metrics line"),
        token_url: token_url.expect("the editor's token line"),
        scope: scope.unwrap(),
        http,
    }
}

impl Service {
    /// A token for the demo client of `role`, from this process's simulator.
    pub(crate) async fn token(&self, role: &str) -> String {
        let client = cipp_api::demo::DEMO_CLIENTS
            .iter()
            .find(|c| c.role == role)
            .unwrap();
        let body: Value = self
            .http
            .post(&self.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client.client_id),
                ("client_secret", client.client_secret),
                ("scope", self.scope.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn first_cloud_user(&self, token: &str) -> (String, String) {
        let users: Vec<Value> = self
            .call(
                reqwest::Method::GET,
                "/api/ListUsers?tenantFilter=fabrikam.example",
                token,
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        let user = users
            .iter()
            .find(|u| u["onPremisesSyncEnabled"] == false && u["userType"] != "Guest")
            .unwrap();
        (
            "fabrikam.example".to_owned(),
            user["id"].as_str().unwrap().to_owned(),
        )
    }

    /// SIGKILL: no shutdown code runs.
    pub(crate) fn kill(self) {
        drop(self);
    }
}

impl Drop for Service {
    // A test that panics must not leave its process running: it holds ports and PostgreSQL
    // connections that later tests then lack.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn audit_rows(service: &Service, token: &str) -> Vec<Value> {
    service
        .call(
            reqwest::Method::GET,
            "/api/ListLogs?Filter=true&Severity=Info,Warning,Error",
            token,
            None,
        )
        .await
        .json()
        .await
        .unwrap()
}

#[test]
fn the_binary_started_without_credentials_exits_non_zero_naming_every_missing_setting() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_cipp-users"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CIPP_BIND", "127.0.0.1:0")
        .env("CIPP_DATA_DIR", dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("the service binary runs");
    assert!(!output.status.success(), "{:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for setting in [
        "CIPP_PARTNER_TENANT_ID",
        "CIPP_PARTNER_CLIENT_ID",
        "CIPP_PARTNER_CLIENT_SECRET",
        "CIPP_API_APP_ID",
    ] {
        assert!(stderr.contains(setting), "{setting} missing from: {stderr}");
    }
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("demo-client"),
        "no demo credentials were printed"
    );
}

#[test]
fn an_unknown_argument_is_refused_with_the_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_cipp-users"))
        .arg("--demoo")
        .env_clear()
        .output()
        .expect("the service binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: cipp-users"));
}

#[tokio::test]
async fn an_audit_row_survives_sigkill_right_after_the_write_returned() {
    let temporary = tempfile::tempdir().unwrap();
    let dir = temporary.path();
    let service = start(dir, &[], None);
    let token = service.token("editor").await;
    let (tenant, id) = service.first_cloud_user(&token).await;
    let response = service
        .call(
            reqwest::Method::POST,
            "/api/ExecDisableUser",
            &token,
            Some(json!({"tenantFilter": tenant, "ID": id})),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let correlation = response.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    service.kill();
    let service = start(dir, &[], None);
    let token = service.token("superadmin").await;
    let rows = audit_rows(&service, &token).await;
    assert_eq!(
        rows.iter()
            .filter(|r| r["LogData"]["CorrelationId"] == correlation.as_str())
            .count(),
        1
    );
    service.kill();
}

#[tokio::test]
async fn a_reset_password_never_reaches_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let service = start(dir.path(), &[], Some(&log));
    let token = service.token("editor").await;
    let (tenant, id) = service.first_cloud_user(&token).await;
    let response = service
        .call(
            reqwest::Method::POST,
            "/api/ExecResetPass",
            &token,
            Some(json!({"tenantFilter": tenant, "ID": id, "MustChange": true})),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let correlation = response.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    let password = body["Results"]["copyField"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    service.kill();
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        logs.contains(&correlation),
        "the request was logged (at debug level)"
    );
    assert!(!logs.contains(&password), "the password is not in the logs");
    assert!(
        !logs.contains('\u{1b}'),
        "no colour codes when standard error is not a terminal"
    );
    assert!(!logs.contains(&token), "nor is the caller's token");
    assert!(
        !logs.contains(cipp_api::demo::PARTNER_CLIENT_SECRET),
        "nor the partner secret"
    );
}

#[tokio::test]
async fn two_replicas_on_one_postgresql_see_each_others_writes() {
    let Some(server) = postgres_url("two_replicas_on_one_postgresql_see_each_others_writes") else {
        return;
    };
    let (database, name) = fresh_database(&server).await;
    let env = [("CIPP_DATABASE_URL", database.as_str())];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path(), &env, None);
    let b = start(dir_b.path(), &env, None);
    let (token_a, token_b) = (a.token("editor").await, b.token("editor").await);
    let mut correlations = Vec::new();
    for (service, token) in [(&a, &token_a), (&b, &token_b)] {
        let (tenant, id) = service.first_cloud_user(token).await;
        let response = service
            .call(
                reqwest::Method::POST,
                "/api/ExecRevokeSessions",
                token,
                Some(json!({"tenantFilter": tenant, "id": id})),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
        correlations.push(
            response.headers()["x-correlation-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    for service in [&a, &b] {
        let token = service.token("superadmin").await;
        let rows = audit_rows(service, &token).await;
        for correlation in &correlations {
            assert_eq!(
                rows.iter()
                    .filter(|r| r["LogData"]["CorrelationId"] == correlation.as_str())
                    .count(),
                1
            );
        }
    }
    a.kill();
    b.kill();
    drop_database(&server, &name).await;
}

/// Runs `cipp-users healthcheck` against `address`; its exit status.
fn healthcheck(address: &str) -> std::process::ExitStatus {
    Command::new(env!("CARGO_BIN_EXE_cipp-users"))
        .arg("healthcheck")
        .env_clear()
        .env("CIPP_BIND", address)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the healthcheck runs")
}

#[tokio::test]
async fn the_healthcheck_command_exits_0_for_a_live_instance_and_1_where_nothing_listens() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path(), &[], None);
    let bind = service.address.trim_start_matches("http://").to_owned();
    assert_eq!(healthcheck(&bind).code(), Some(0), "{bind} is live");
    // A port the OS just handed out and that nothing listens on any more.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert_eq!(healthcheck(&free.to_string()).code(), Some(1));
    // The wildcard bind an image uses is probed on loopback.
    let port = bind.rsplit(':').next().unwrap();
    assert_eq!(healthcheck(&format!("0.0.0.0:{port}")).code(), Some(0));
    service.kill();
    assert_eq!(healthcheck(&bind).code(), Some(1), "{bind} was stopped");
}

#[test]
fn the_dockerfile_healthcheck_runs_the_healthcheck_command() {
    let dockerfile = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/Dockerfile"),
    )
    .unwrap();
    let healthchecks: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.trim_start().starts_with("HEALTHCHECK"))
        .collect();
    assert_eq!(healthchecks.len(), 1, "{healthchecks:?}");
    let line = healthchecks[0];
    let command = line
        .split_once(" CMD ")
        .map(|(_, command)| command.trim())
        .expect("HEALTHCHECK ... CMD [...]");
    let argv: Vec<String> = serde_json::from_str(command).expect("CMD in exec form");
    assert_eq!(argv, ["/usr/local/bin/cipp-users", "healthcheck"], "{line}");
    // The image starts the service in production mode: no --demo and no CIPP_MODE=demo.
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    for line in instructions {
        assert!(
            !line.contains("--demo") && !line.contains("CIPP_MODE=demo"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn json_logs_parse_line_by_line_and_carry_the_correlation_id_on_domain_and_graph_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let service = start(dir.path(), &[("CIPP_LOG_FORMAT", "json")], Some(&log));
    let token = service.token("editor").await;
    let (tenant, id) = service.first_cloud_user(&token).await;
    let response = service
        .call(
            reqwest::Method::POST,
            "/api/ExecRevokeSessions",
            &token,
            Some(json!({"tenantFilter": tenant, "id": id})),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let correlation = response.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    service.kill();
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(!logs.contains('\u{1b}'), "no colour codes");
    let mut lines = Vec::new();
    for line in logs.lines() {
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object a line ({e}): {line}"));
        assert!(value.is_object(), "{line}");
        lines.push(value);
    }
    let of_the_call = |prefix: &str| {
        lines
            .iter()
            .filter(|l| l["target"].as_str().unwrap_or("").starts_with(prefix))
            .filter(|l| l.to_string().contains(&correlation))
            .count()
    };
    assert!(
        of_the_call("cipp_users_domain") > 0,
        "a domain line carries the id"
    );
    assert!(
        of_the_call("cipp_graph") > 0,
        "a Graph client line carries the id"
    );
    // The id is in the request span, as a field of its own.
    assert!(
        lines
            .iter()
            .any(|l| l["spans"].as_array().is_some_and(|spans| spans
                .iter()
                .any(|s| s["correlation_id"] == correlation.as_str())))
    );
    // The start-up line names the address actually bound, not the port 0 asked for.
    assert!(lines.iter().any(|l| {
        l["fields"]["message"] == "listening"
            && l["fields"]["address"]
                .as_str()
                .is_some_and(|a| a.starts_with("127.0.0.1:") && !a.ends_with(":0"))
    }));
}

#[tokio::test]
async fn health_probes_are_not_logged_at_info() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let service = start(dir.path(), &[("CIPP_LOG", "info")], Some(&log));
    for path in ["/health/live", "/health/ready"] {
        let answer = service
            .http
            .get(format!("{}{path}", service.address))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    service.kill();
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(!logs.contains("/health/"), "{logs}");
}

/// One Prometheus sample: its name, labels and value.
struct Sample {
    name: String,
    labels: std::collections::BTreeMap<String, String>,
    value: f64,
}

/// Parses the text exposition format (enough of it for these series: no escaped quotes).
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap();
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().unwrap_or_else(|e| panic!("{line}: {e}")),
            }
        })
        .collect()
}

/// The sum of the samples named `name` whose labels include every pair of `having`.
fn total(samples: &[Sample], name: &str, having: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            having
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

#[tokio::test]
async fn metrics_are_served_on_their_own_port_with_the_series_of_the_calls_made() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path(), &[], None);
    let token = service.token("editor").await;
    // One throttled answer from Graph, retried.
    let sim = url::Url::parse(&service.token_url).unwrap();
    let faults = sim.join("/_sim/faults").unwrap();
    let fault = service
        .http
        .post(faults)
        .json(&json!({"path": "/beta/users", "method": "GET", "status": 429, "count": 1, "retry_after": 0}))
        .send()
        .await
        .unwrap();
    assert!(fault.status().is_success(), "{:?}", fault.text().await);
    let (tenant, id) = service.first_cloud_user(&token).await;
    let revoked = service
        .call(
            reqwest::Method::POST,
            "/api/ExecRevokeSessions",
            &token,
            Some(json!({"tenantFilter": tenant, "id": id})),
        )
        .await;
    assert_eq!(revoked.status().as_u16(), 200);
    let all = service
        .call(
            reqwest::Method::GET,
            "/api/listusers?tenantFilter=AllTenants",
            &token,
            None,
        )
        .await;
    assert_eq!(all.status().as_u16(), 200);
    let _ = all.bytes().await.unwrap();
    let unknown = service
        .call(reqwest::Method::GET, "/api/NoSuchThing", &token, None)
        .await;
    assert_eq!(unknown.status().as_u16(), 404);

    // Not on the API's port.
    let on_api = service
        .http
        .get(format!("{}/metrics", service.address))
        .send()
        .await
        .unwrap();
    assert_eq!(on_api.status().as_u16(), 404);
    assert_ne!(service.metrics, format!("{}/metrics", service.address));

    let answer = service.http.get(&service.metrics).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = answer.text().await.unwrap();
    service.kill();
    let all = samples(&text);

    let requests = "cipp_http_requests_total";
    // The operation's own spelling, whatever case was called.
    assert_eq!(
        total(
            &all,
            requests,
            &[("operation", "ListUsers"), ("status", "200")]
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        total(
            &all,
            requests,
            &[("operation", "ExecRevokeSessions"), ("status", "200")]
        ),
        1.0
    );
    // /api/NoSuchThing and /metrics asked of the API's port.
    assert_eq!(
        total(
            &all,
            requests,
            &[("operation", "unknown"), ("status", "404")]
        ),
        2.0
    );
    let latency = "cipp_http_request_duration_seconds";
    let count = total(
        &all,
        &format!("{latency}_count"),
        &[("operation", "ListUsers")],
    );
    assert_eq!(count, 2.0);
    assert_eq!(
        total(
            &all,
            &format!("{latency}_bucket"),
            &[("operation", "ListUsers"), ("le", "+Inf")]
        ),
        2.0
    );
    let seconds = total(
        &all,
        &format!("{latency}_sum"),
        &[("operation", "ListUsers")],
    );
    assert!(seconds > 0.0 && seconds < 60.0, "{seconds}");

    let graph = "cipp_graph_requests_total";
    assert!(
        total(
            &all,
            graph,
            &[
                ("service", "graph"),
                ("host", "127.0.0.1"),
                ("status", "200")
            ]
        ) >= 4.0
    );
    assert_eq!(
        total(&all, graph, &[("status", "429"), ("throttled", "true")]),
        1.0,
        "{text}"
    );
    assert_eq!(
        total(&all, "cipp_graph_retries_total", &[("reason", "throttled")]),
        1.0
    );
    assert!(total(&all, "cipp_token_cache_total", &[("result", "miss")]) >= 1.0);
    assert!(total(&all, "cipp_token_cache_total", &[("result", "hit")]) >= 1.0);
    assert!(total(&all, "cipp_audit_rows_written_total", &[]) >= 1.0);
    // The demo's customer tenants, once.
    assert_eq!(
        total(&all, "cipp_all_tenants_fanout_tenants_count", &[]),
        1.0
    );
    assert!(total(&all, "cipp_all_tenants_fanout_tenants_sum", &[]) >= 3.0);
    // Demo mode's scheduled offboarding, sampled at start.
    assert_eq!(
        total(&all, "cipp_jobs", &[("state", "queued")]),
        1.0,
        "{text}"
    );
    assert_eq!(total(&all, "cipp_jobs", &[("state", "failed")]), 0.0);

    // No tenant or user in any label.
    for sample in &all {
        for (label, value) in &sample.labels {
            assert!(!["tenant", "user", "tenant_id", "user_id"].contains(&label.as_str()));
            assert!(
                !value.contains(&tenant) && !value.contains(&id) && !value.contains(".example"),
                "{}{{{label}={value}}}",
                sample.name
            );
        }
    }
}

#[tokio::test]
async fn a_5xx_answer_is_logged_at_error_with_its_cause_chain_and_correlation_id() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let service = start(
        dir.path(),
        &[("CIPP_LOG_FORMAT", "json"), ("CIPP_LOG", "info")],
        Some(&log),
    );
    let token = service.token("editor").await;
    let (tenant, id) = service.first_cloud_user(&token).await;
    let sim = url::Url::parse(&service.token_url).unwrap();
    let fault = service
        .http
        .post(sim.join("/_sim/faults").unwrap())
        .json(
            &json!({"path": format!("/beta/users/{id}/invalidateAllRefreshTokens"), "status": 500}),
        )
        .send()
        .await
        .unwrap();
    assert!(fault.status().is_success());
    let response = service
        .call(
            reqwest::Method::POST,
            "/api/ExecRevokeSessions",
            &token,
            Some(json!({"tenantFilter": tenant, "id": id})),
        )
        .await;
    assert_eq!(response.status().as_u16(), 500);
    let correlation = response.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    service.kill();
    let logs = std::fs::read_to_string(&log).unwrap();
    let errors: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["level"] == "ERROR" && l.to_string().contains(&correlation))
        .collect();
    assert_eq!(errors.len(), 1, "{logs}");
    let fields = &errors[0]["fields"];
    assert_eq!(fields["status"], 500);
    // The cause chain: Graph's own status and error, beneath our message.
    let cause = fields["cause"].as_str().unwrap();
    assert!(cause.contains("500"), "{cause}");
}
