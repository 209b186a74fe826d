//! `spawn_app`: the real application in demo mode, on port 0, beside its simulator on port 0.

use cipp_api::Application;
use cipp_api::demo::DEMO_CLIENTS;
use cipp_api::settings::Settings;
use reqwest::{Client, Response};
use serde_json::Value;

pub struct TestApp {
    pub address: String,
    pub sim: url::Url,
    /// Customer tenants as the simulator seeded them; the first is the custom role's tenant.
    pub tenants: Vec<cipp_sim::TenantInfo>,
    pub http: Client,
    pub ca_pem_path: std::path::PathBuf,
    /// The app's own store, to read audit rows back.
    pub store: cipp_store::Store,
    /// The app's own Graph client (demo settings: the simulator's origins), for domain calls.
    pub graph: cipp_graph::GraphClient,
    /// The app's job engine, to read queued jobs back.
    pub jobs: cipp_jobs::Engine,
    token_url: String,
    scope: String,
    server: actix_web::dev::ServerHandle,
    /// The data directory made for this app, removed when the test drops it.
    _data_dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app with test settings, adjusted by `configure` before start.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::demo_for_tests().expect("test settings");
    let data_dir = tempfile::tempdir().expect("a temporary data directory");
    settings.data_dir = data_dir.path().to_owned();
    // Small tenants keep tests fast; the big-tenant tests ask for theirs.
    settings.demo.big_tenant_users = 2000;
    settings.graph_max_attempts = 3;
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let demo = app.demo().expect("demo mode");
    let sim = demo.simulator.base_url.clone();
    let ca = std::fs::read(&demo.simulator.ca_pem_path).expect("the simulator's CA file");
    let http = Client::builder()
        .tls_certs_merge([reqwest::Certificate::from_pem(&ca).expect("PEM")])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let test_app = TestApp {
        address: format!("http://127.0.0.1:{}", app.port()),
        sim,
        tenants: demo.simulator.tenants.clone(),
        http,
        ca_pem_path: demo.simulator.ca_pem_path.clone(),
        store: app.state().store.clone(),
        graph: app.state().graph.clone(),
        jobs: app.state().env.jobs.clone(),
        token_url: demo.token_url.to_string(),
        scope: demo.scope.clone(),
        server: app.server_handle(),
        _data_dir: data_dir,
    };
    tokio::spawn(app.run_until_stopped());
    test_app
}

impl TestApp {
    /// A token for the demo client of `role` (readonly, editor, admin, superadmin, custom).
    pub async fn token(&self, role: &str) -> String {
        let client = DEMO_CLIENTS
            .iter()
            .find(|c| c.role == role)
            .expect("a demo role");
        let response = self
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
            .expect("token request");
        let body: Value = response.json().await.expect("token JSON");
        body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    pub fn tenant(&self, index: usize) -> &cipp_sim::TenantInfo {
        &self.tenants[index]
    }

    /// The tenant with the most users.
    pub fn big_tenant(&self) -> &cipp_sim::TenantInfo {
        self.tenants
            .iter()
            .max_by_key(|t| t.user_count)
            .expect("tenants")
    }

    pub async fn get(&self, path_and_query: &str, token: Option<&str>) -> Response {
        let mut request = self.http.get(format!("{}{}", self.address, path_and_query));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    pub async fn post(&self, path_and_query: &str, token: Option<&str>, body: Value) -> Response {
        let mut request = self
            .http
            .post(format!("{}{}", self.address, path_and_query))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    pub async fn sim_stats(&self) -> Value {
        self.http
            .get(self.sim.join("_sim/stats").unwrap())
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats JSON")
    }

    pub async fn reset_sim_stats(&self) {
        self.http
            .delete(self.sim.join("_sim/stats").unwrap())
            .send()
            .await
            .expect("reset stats");
    }

    /// Sum of simulator request counts whose path contains `fragment` (and tenant, if given).
    pub async fn sim_count(&self, fragment: &str, tenant: Option<&str>) -> u64 {
        let stats = self.sim_stats().await;
        stats["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| r["path"].as_str().unwrap_or_default().contains(fragment))
            .filter(|r| tenant.is_none_or(|t| r["tenant"].as_str() == Some(t)))
            .map(|r| r["count"].as_u64().unwrap_or(0))
            .sum()
    }

    pub async fn add_fault(&self, fault: Value) -> String {
        let response: Value = self
            .http
            .post(self.sim.join("_sim/faults").unwrap())
            .json(&fault)
            .send()
            .await
            .expect("fault")
            .json()
            .await
            .expect("fault JSON");
        response["id"].as_str().expect("a fault id").to_owned()
    }

    pub async fn sim_user(&self, tenant_id: &str, user_id: &str) -> Value {
        self.http
            .get(
                self.sim
                    .join(&format!("_sim/users/{tenant_id}/{user_id}"))
                    .unwrap(),
            )
            .send()
            .await
            .expect("sim user")
            .json()
            .await
            .expect("sim user JSON")
    }

    pub fn stop(&self) {
        let server = self.server.clone();
        tokio::spawn(async move { server.stop(false).await });
    }
}

pub fn results(body: &Value) -> &str {
    body["Results"]
        .as_str()
        .unwrap_or_else(|| panic!("no Results text in {body}"))
}

/// Checks that a generated text is what the repository holds (the whole file, or the part
/// between two markers). With `UPDATE_GENERATED=1` it rewrites the file instead.
pub fn check_generated(relative_path: &str, markers: Option<(&str, &str)>, generated: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative_path);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    let expected = match markers {
        None => generated.to_owned(),
        Some((start, end)) => {
            let (Some(from), Some(to)) = (current.find(start), current.find(end)) else {
                panic!("{relative_path} has no {start:?} … {end:?} markers");
            };
            format!("{}{start}{generated}{}", &current[..from], &current[to..])
        }
    };
    if current == expected {
        return;
    }
    if std::env::var("UPDATE_GENERATED").is_ok_and(|v| v == "1") {
        std::fs::write(&path, expected).unwrap();
        return;
    }
    panic!(
        "{relative_path} is out of date with the code; run `UPDATE_GENERATED=1 cargo test` and commit the result"
    );
}

/// The correlation id an answer carries.
pub fn correlation_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .expect("every answer carries x-correlation-id")
        .to_owned()
}

/// The PostgreSQL server tests may use (`CIPP_TEST_DATABASE_URL`). Without it the test says it
/// was skipped, unless `CIPP_REQUIRE_DATABASE_TESTS=1` (CI), which makes a skip a failure.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("CIPP_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("CIPP_REQUIRE_DATABASE_TESTS").is_ok_and(|v| v == "1") {
                panic!(
                    "{test}: CIPP_REQUIRE_DATABASE_TESTS=1 but CIPP_TEST_DATABASE_URL is not set"
                );
            }
            eprintln!("SKIPPED: {test} needs PostgreSQL (set CIPP_TEST_DATABASE_URL)");
            None
        }
    }
}

/// A fresh, empty database on the test server: its URL and its name (for `drop_database`).
pub async fn fresh_database(server_url: &str) -> (String, String) {
    use sqlx::Connection;
    let name = format!("cipp_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(server_url)
        .await
        .expect("connect to the test server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let mut url = url::Url::parse(server_url).expect("a URL");
    url.set_path(&format!("/{name}"));
    (url.to_string(), name)
}

pub async fn drop_database(server_url: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut admin) = sqlx::PgConnection::connect(server_url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
    }
}

impl TestApp {
    /// GET with a token, the answer's JSON body (the status is the test's business elsewhere).
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path_and_query: &str,
        token: &str,
    ) -> T {
        self.get(path_and_query, Some(token))
            .await
            .json()
            .await
            .expect("a JSON answer")
    }
}

/// A loopback receiver that records each POST's body and headers and answers `status` to
/// the first `failures` calls, 200 after.
pub async fn webhook_receiver(
    failures: usize,
) -> (
    String,
    std::sync::Arc<parking_lot::Mutex<Vec<(Vec<u8>, String)>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        let mut calls = 0usize;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut data = Vec::new();
            let mut buffer = [0u8; 8192];
            // Read the head, then the body by Content-Length.
            let (head_end, length) = loop {
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                if n == 0 {
                    break (0, 0);
                }
                data.extend_from_slice(&buffer[..n]);
                if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (end + 4, length);
                }
            };
            while data.len() < head_end + length {
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buffer[..n]);
            }
            let head = String::from_utf8_lossy(&data[..head_end]).to_string();
            let signature = head
                .lines()
                .find_map(|l| {
                    l.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case("x-cipp-signature"))
                        .map(|(_, v)| v.trim().to_owned())
                })
                .unwrap_or_default();
            record.lock().push((data[head_end..].to_vec(), signature));
            calls += 1;
            let status = if calls <= failures {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            let answer =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (address, seen)
}
