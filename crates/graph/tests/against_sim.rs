//! The Graph and Exchange client measured against the simulated Microsoft 365 (`cipp-sim`),
//! in-process over loopback HTTPS: token modes, single-flight token fetches, expiry, retries
//! under injected throttling, `$batch` chunking and Exchange `InvokeCommand`. Every count
//! asserted here is read back from the simulator's own `/_sim/stats`.
//!
//! Numbers measured are written up in `crates/graph/BENCHMARKS.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cipp_graph::{
    AccessToken, BatchRequest, DEFAULT_GRAPH_SCOPE, EARLY_EXPIRY, GraphClient, GraphError,
    GraphSettings, GraphVersion, InMemoryRefreshTokenStore, PartnerTokens, RetryPolicy,
    TokenProvider,
};
use cipp_sim::{SimConfig, SimHandle};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// A running simulator and a plain HTTPS client for its admin API.
struct World {
    sim: SimHandle,
    admin: reqwest::Client,
    app: cipp_sim::SimApp,
    /// The simulator's certificates, removed with the world.
    _cert_dir: tempfile::TempDir,
}

impl World {
    async fn start(big_tenant_users: usize) -> Self {
        let cert_dir = tempfile::tempdir().unwrap();
        let config = SimConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            cert_dir: cert_dir.path().to_owned(),
            big_tenant_users,
            ..SimConfig::default()
        };
        let app = config.partner_app.clone();
        let sim = cipp_sim::start(config).await.expect("simulator starts");
        let cert = reqwest::Certificate::from_pem(sim.ca_pem.as_bytes()).unwrap();
        let admin = reqwest::Client::builder()
            .tls_certs_only([cert])
            .build()
            .unwrap();
        Self {
            sim,
            admin,
            app,
            _cert_dir: cert_dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url.as_str().trim_end_matches('/'))
    }

    fn settings(&self, retry: RetryPolicy) -> GraphSettings {
        let mut s = GraphSettings::new(
            self.sim.base_url.clone(),
            self.sim.base_url.clone(),
            self.app.client_id.clone(),
            SecretString::from(self.app.client_secret.clone()),
        );
        s.extra_ca_pem = Some(self.sim.ca_pem.clone().into_bytes());
        s.retry = retry;
        s
    }

    async fn refresh_token(&self) -> SecretString {
        let body: Value = self
            .admin
            .get(self.url("/_sim/partner-refresh-token"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        SecretString::from(body["refresh_token"].as_str().unwrap().to_owned())
    }

    /// A client in partner (delegated) mode; `.app_only()` gives the app-only view of it.
    async fn client(&self, retry: RetryPolicy) -> GraphClient {
        GraphClient::builder(self.settings(retry))
            .partner_refresh_token(self.refresh_token().await)
            .exchange_base_url(self.sim.base_url.clone())
            .build()
            .unwrap()
    }

    /// Adds `count` tenants of `users` users each; their customer ids.
    async fn add_tenants(&self, count: usize, users: usize) -> Vec<String> {
        let body: Value = self
            .admin
            .post(self.url("/_sim/tenants"))
            .json(&json!({"count": count, "users": users}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["customerId"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn fault(&self, spec: Value) {
        let resp = self
            .admin
            .post(self.url("/_sim/faults"))
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "fault {spec} refused");
    }

    async fn clear_faults(&self) {
        self.admin
            .delete(self.url("/_sim/faults"))
            .send()
            .await
            .unwrap();
    }

    async fn reset_stats(&self) {
        self.admin
            .delete(self.url("/_sim/stats"))
            .send()
            .await
            .unwrap();
    }

    async fn stats(&self) -> Vec<Value> {
        let body: Value = self
            .admin
            .get(self.url("/_sim/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["requests"].as_array().unwrap().clone()
    }

    /// Requests the simulator counted whose row satisfies `keep`.
    async fn count(&self, keep: impl Fn(&str, u64) -> bool) -> u64 {
        self.stats()
            .await
            .iter()
            .filter(|r| {
                keep(
                    r["path"].as_str().unwrap_or_default(),
                    r["status"].as_u64().unwrap_or_default(),
                )
            })
            .map(|r| r["count"].as_u64().unwrap())
            .sum()
    }

    async fn token_requests(&self) -> u64 {
        self.count(|path, _| path.contains("/oauth2/v2.0/token"))
            .await
    }
}

fn patient() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 12,
        max_total_wait: Duration::from_secs(30),
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    }
}

/// The claims of a JWT, unverified (the simulator signed it; we only look).
fn claims(token: &SecretString) -> Value {
    let payload = token.expose_secret().split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_mode_and_app_only_calls_both_work_and_the_simulator_sees_which_is_which() {
    let world = World::start(5).await;
    let tenant = world.sim.tenants[1].customer_id.clone();
    let graph = world.client(RetryPolicy::default()).await;
    world.reset_stats().await;

    let delegated = graph
        .get(&tenant, GraphVersion::V1, "users?$top=3&$select=id", &[])
        .await
        .unwrap();
    assert_eq!(delegated["value"].as_array().unwrap().len(), 3);
    let as_app = graph
        .app_only()
        .get(&tenant, GraphVersion::V1, "users?$top=3&$select=id", &[])
        .await
        .unwrap();
    assert_eq!(as_app["value"], delegated["value"]);

    // One token request per mode: the cache keeps delegated and app-only tokens apart.
    assert_eq!(world.token_requests().await, 2);

    let user_token = claims(
        &graph
            .access_token(&tenant, DEFAULT_GRAPH_SCOPE)
            .await
            .unwrap(),
    );
    assert_eq!(user_token["idtyp"], "user");
    assert_eq!(user_token["tid"], tenant.as_str());
    assert!(
        user_token["scp"]
            .as_str()
            .unwrap()
            .contains("User.ReadWrite.All")
    );
    assert!(user_token["upn"].as_str().is_some());
    assert!(user_token.get("roles").is_none());

    let app_token = claims(
        &graph
            .app_only()
            .access_token(&tenant, DEFAULT_GRAPH_SCOPE)
            .await
            .unwrap(),
    );
    assert_eq!(app_token["idtyp"], "app");
    assert_eq!(app_token["tid"], tenant.as_str());
    assert!(app_token.get("scp").is_none());
    assert!(
        app_token["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "User.ReadWrite.All")
    );
    // Reading the cached tokens back cost no further token request.
    assert_eq!(world.token_requests().await, 2);
}

async fn thousand_first_calls(graph: &GraphClient, tenants: &[String]) {
    let calls = (0..1000).map(|i| {
        let graph = graph.clone();
        let tenant = tenants[i % tenants.len()].clone();
        tokio::spawn(async move {
            graph
                .get(&tenant, GraphVersion::V1, "organization", &[])
                .await
        })
    });
    for outcome in futures::future::join_all(calls).await {
        let body = outcome.unwrap().unwrap();
        assert_eq!(body["value"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_first_calls_across_ten_tenants_make_exactly_ten_token_requests() {
    let world = World::start(5).await;
    let tenants = world.add_tenants(10, 3).await;
    assert_eq!(tenants.len(), 10);
    let graph = world.client(RetryPolicy::default()).await;

    world.reset_stats().await;
    let started = Instant::now();
    thousand_first_calls(&graph, &tenants).await;
    let partner_elapsed = started.elapsed();
    assert_eq!(world.token_requests().await, 10, "partner mode");
    assert_eq!(
        world
            .count(|path, _| path.ends_with("/v1.0/organization"))
            .await,
        1000
    );

    world.reset_stats().await;
    let started = Instant::now();
    thousand_first_calls(&graph.app_only(), &tenants).await;
    let app_elapsed = started.elapsed();
    assert_eq!(world.token_requests().await, 10, "app-only mode");
    eprintln!(
        "1000 first calls over 10 tenants: partner {partner_elapsed:?}, app-only {app_elapsed:?}, 10 token requests each"
    );
}

/// Reports every token the wrapped provider hands out as living `lifetime` past the cache's
/// early-expiry margin, so the client's cache drops it after `lifetime` (the simulator's
/// tokens live an hour). Counts the fetches that reach it.
struct ShortLived {
    inner: PartnerTokens,
    lifetime: Duration,
    fetches: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenProvider for ShortLived {
    async fn token(&self, tenant: &str, scope: &str) -> Result<AccessToken, GraphError> {
        let mut token = self.inner.token(tenant, scope).await?;
        self.fetches.fetch_add(1, Ordering::SeqCst);
        token.expires_at = SystemTime::now() + EARLY_EXPIRY + self.lifetime;
        Ok(token)
    }

    fn mode(&self) -> &'static str {
        self.inner.mode()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_renewed_once() {
    let world = World::start(5).await;
    let tenant = world.sim.tenants[1].customer_id.clone();
    let settings = world.settings(RetryPolicy::default());
    let seed = world.refresh_token().await;
    let store = Arc::new(InMemoryRefreshTokenStore::new(Some(seed.clone())));
    let provider = Arc::new(ShortLived {
        inner: PartnerTokens::new(&settings, store, Some(seed)).unwrap(),
        lifetime: Duration::from_secs(1),
        fetches: AtomicUsize::new(0),
    });
    let graph = GraphClient::builder(settings)
        .partner_token_provider(provider.clone())
        .build()
        .unwrap();
    world.reset_stats().await;

    let burst = |n: usize| {
        let graph = graph.clone();
        let tenant = tenant.clone();
        async move {
            let calls = (0..n).map(|_| graph.get(&tenant, GraphVersion::V1, "organization", &[]));
            for outcome in futures::future::join_all(calls).await {
                outcome.unwrap();
            }
        }
    };

    burst(20).await;
    let first = graph
        .access_token(&tenant, DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    assert_eq!(world.token_requests().await, 1);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    burst(50).await;
    let second = graph
        .access_token(&tenant, DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    assert_eq!(world.token_requests().await, 2, "renewed exactly once");
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 2);
    assert_ne!(first.expose_secret(), second.expose_secret());
    assert_eq!(
        world
            .count(|path, status| path.ends_with("/v1.0/organization") && status == 200)
            .await,
        70
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_a_five_thousand_user_tenant_under_thirty_percent_throttling_gets_every_user_once() {
    let world = World::start(5000).await;
    let tenant = world.sim.tenants[0].customer_id.clone();
    assert_eq!(world.sim.tenants[0].user_count, 5000);
    let graph = world.client(patient()).await;
    // Together about 30 % of list requests: 429 first (15 %), then 503 on 18 % of the rest.
    world
        .fault(json!({"path": "/v1.0/users", "status": 429, "rate": 0.15, "retry_after": 0}))
        .await;
    world
        .fault(json!({"path": "/v1.0/users", "status": 503, "rate": 0.18}))
        .await;
    world.reset_stats().await;

    let started = Instant::now();
    let users = graph
        .get_all(
            &tenant,
            GraphVersion::V1,
            "users?$top=25&$select=id,userPrincipalName",
            &[],
        )
        .await
        .unwrap();
    let elapsed = started.elapsed();

    assert_eq!(users.len(), 5000);
    let ids: HashSet<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5000, "every user exactly once");

    let ok = world
        .count(|path, status| path == "/v1.0/users" && status == 200)
        .await;
    let throttled = world
        .count(|path, status| path == "/v1.0/users" && status == 429)
        .await;
    let unavailable = world
        .count(|path, status| path == "/v1.0/users" && status == 503)
        .await;
    assert_eq!(ok, 200, "one successful answer per page");
    assert!(throttled > 0 && unavailable > 0);
    let share = (throttled + unavailable) as f64 / (ok + throttled + unavailable) as f64;
    assert!((0.15..=0.45).contains(&share), "fault share {share}");
    eprintln!(
        "5000 users, 200 pages of 25: {ok} answers 200, {throttled} 429, {unavailable} 503 ({:.0} % faulted), {elapsed:?}",
        share * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_forever_fails_with_graph_error_throttled_within_the_configured_bound() {
    let world = World::start(5).await;
    let tenant = world.sim.tenants[1].customer_id.clone();
    world
        .fault(json!({"path": "/v1.0/organization", "status": 429, "retry_after": 0.4}))
        .await;

    // Bounded by total wait: 0.4 s + 0.4 s fit in 1 s, a third wait would not.
    let bound = RetryPolicy {
        max_attempts: 10,
        max_total_wait: Duration::from_secs(1),
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    };
    let graph = world.client(bound.clone()).await;
    graph
        .access_token(&tenant, DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    world.reset_stats().await;
    let started = Instant::now();
    let err = graph
        .get(&tenant, GraphVersion::V1, "organization", &[])
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        GraphError::Throttled {
            status, attempts, ..
        } => {
            assert_eq!(*status, 429);
            assert_eq!(*attempts, 3);
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    assert!(err.to_string().contains("throttled (429) after 3 attempts"));
    assert!(
        elapsed <= bound.max_total_wait + Duration::from_millis(500),
        "took {elapsed:?}"
    );
    assert!(elapsed >= Duration::from_millis(800), "took {elapsed:?}");
    assert_eq!(world.count(|_, status| status == 429).await, 3);

    // Bounded by attempts.
    let few = RetryPolicy {
        max_attempts: 2,
        ..bound
    };
    let graph = world.client(few).await;
    graph
        .access_token(&tenant, DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    world.reset_stats().await;
    let started = Instant::now();
    let err = graph
        .get(&tenant, GraphVersion::V1, "organization", &[])
        .await
        .unwrap_err();
    let elapsed_by_attempts = started.elapsed();
    assert!(matches!(
        err,
        GraphError::Throttled {
            status: 429,
            attempts: 2,
            ..
        }
    ));
    assert_eq!(world.count(|_, status| status == 429).await, 2);
    assert!(elapsed_by_attempts <= Duration::from_millis(900));
    eprintln!(
        "429 forever: gave up after {elapsed:?} (bound 1 s of waits, 3 attempts) and {elapsed_by_attempts:?} (2 attempts)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_45_goes_out_as_3_chunks_with_item_429s_retried_in_order_and_failures_kept() {
    let world = World::start(5).await;
    let tenant = world.sim.tenants[1].customer_id.clone();
    let graph = world.client(patient()).await;
    let listed = graph
        .get(&tenant, GraphVersion::V1, "users?$top=10&$select=id", &[])
        .await
        .unwrap();
    let ids: Vec<String> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 3);
    const UNKNOWN: &str = "0badc0de-0000-4000-8000-000000000000";
    let requests: Vec<BatchRequest> = (0..45)
        .map(|i| {
            let id = if i == 17 {
                UNKNOWN
            } else {
                &ids[i % ids.len()]
            };
            BatchRequest::get(format!("users/{id}?$select=id,displayName")).with_id(format!("r{i}"))
        })
        .collect();
    let check = |answers: &[cipp_graph::BatchResponse]| {
        assert_eq!(answers.len(), 45);
        for (i, a) in answers.iter().enumerate() {
            assert_eq!(a.id, format!("r{i}"), "request order");
            if i == 17 {
                assert!(!a.is_success());
                assert_eq!(a.status, 404);
                assert!(a.error_message().is_some_and(|m| m.contains(UNKNOWN)));
            } else {
                assert_eq!(a.status, 200, "item {i}");
                assert_eq!(
                    a.body.as_ref().unwrap()["id"].as_str(),
                    Some(ids[i % ids.len()].as_str())
                );
            }
        }
    };

    world.reset_stats().await;
    let answers = graph
        .batch(&tenant, GraphVersion::V1, requests.clone())
        .await
        .unwrap();
    check(&answers);
    assert_eq!(world.count(|path, _| path == "/v1.0/$batch").await, 3);

    // Two items answered 429 once each: both go again in one more round.
    for id in &ids[..2] {
        world
            .fault(json!({"path": format!("/v1.0/users/{id}"), "status": 429, "count": 1, "retry_after": 0}))
            .await;
    }
    world.reset_stats().await;
    let answers = graph
        .batch(&tenant, GraphVersion::V1, requests)
        .await
        .unwrap();
    check(&answers);
    assert_eq!(world.count(|path, _| path == "/v1.0/$batch").await, 4);
    assert_eq!(
        world
            .count(|path, status| path.starts_with("/v1.0/users/") && status == 429)
            .await,
        2
    );
    assert_eq!(
        world
            .count(|path, status| path.starts_with("/v1.0/users/") && status == 200)
            .await,
        44
    );
    world.clear_faults().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_set_mailbox_is_visible_to_get_mailbox_and_graph_and_errors_read_as_cipp_shows_them()
 {
    let world = World::start(5).await;
    let info = world.sim.tenants[1].clone();
    let tenant = info.customer_id.as_str();
    let graph = world.client(RetryPolicy::default()).await;

    let mailboxes = graph
        .exchange(
            tenant,
            "Get-Mailbox",
            json!({"RecipientTypeDetails": "UserMailbox"}),
            None,
        )
        .await
        .unwrap();
    let mailbox = mailboxes
        .iter()
        .find(|m| m["HiddenFromAddressListsEnabled"] == false)
        .expect("a visible user mailbox");
    let upn = mailbox["UserPrincipalName"].as_str().unwrap().to_owned();
    let user_id = mailbox["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();

    graph
        .exchange(
            tenant,
            "Set-Mailbox",
            json!({
                "Identity": upn,
                "HiddenFromAddressListsEnabled": true,
                "ForwardingSmtpAddress": "smtp:archive@example.com",
                "DeliverToMailboxAndForward": true,
            }),
            Some(&upn),
        )
        .await
        .unwrap();
    graph
        .exchange(
            tenant,
            "Set-MailboxAutoReplyConfiguration",
            json!({"Identity": upn, "AutoReplyState": "Enabled", "InternalMessage": "Away until Monday"}),
            Some(&user_id),
        )
        .await
        .unwrap();

    let after = graph
        .exchange(tenant, "Get-Mailbox", json!({"Identity": upn}), Some(&upn))
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["HiddenFromAddressListsEnabled"], true);
    assert_eq!(
        after[0]["ForwardingSmtpAddress"],
        "smtp:archive@example.com"
    );
    assert_eq!(after[0]["DeliverToMailboxAndForward"], true);

    // The same mailbox through Graph: the address-book flag and the auto-reply.
    let user = graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{user_id}?$select=id,showInAddressList"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(user["showInAddressList"], false);
    let replies = graph
        .get(
            tenant,
            GraphVersion::V1,
            &format!("users/{user_id}/mailboxSettings/automaticRepliesSetting"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(replies["status"], "alwaysEnabled");
    // Exchange keeps auto-reply texts as HTML; Graph shows the same stored text.
    assert!(
        replies["internalReplyMessage"]
            .as_str()
            .unwrap()
            .contains("Away until Monday")
    );

    // An unknown mailbox: Exchange's detail text, as CIPP's New-ExoRequest throws it.
    let nobody = format!("nobody@{}", info.default_domain_name);
    let err = graph
        .exchange(tenant, "Get-Mailbox", json!({"Identity": nobody}), None)
        .await
        .unwrap_err();
    match &err {
        GraphError::Exchange {
            status, message, ..
        } => {
            assert_eq!(*status, 404);
            assert!(
                message.starts_with("Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object '"),
                "{message}"
            );
            assert!(message.contains(&nobody), "{message}");
            assert!(!message.contains("\"error\""), "{message}");
        }
        other => panic!("expected GraphError::Exchange, got {other:?}"),
    }
}
