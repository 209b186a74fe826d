//! Partner (delegated) mode: the refresh_token grant through oauth2, its rotation, the shared
//! token cache for both modes, and choosing the mode per call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cipp_graph::{
    DEFAULT_GRAPH_SCOPE, GraphClient, GraphError, GraphVersion, InMemoryRefreshTokenStore,
    RefreshTokenStore, TokenMode,
};
use futures::future::join_all;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use url::Url;
use wiremock::matchers::{body_string_contains, header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{CountingTokens, LogCapture, TOKEN, pki, settings, tls_front};

const EXCHANGE_SCOPE: &str = "https://outlook.office365.com/.default";

/// A fake Entra behind TLS, and a client whose partner refresh token is `seed-rt`.
async fn partner_client(
    entra: &MockServer,
    graph: &MockServer,
    store: Option<Arc<InMemoryRefreshTokenStore>>,
) -> (GraphClient, Arc<CountingTokens>) {
    let pki = pki();
    let front = tls_front(*entra.address(), pki.acceptor).await;
    let mut s = settings(&graph.uri());
    s.authority_host = Url::parse(&format!("https://127.0.0.1:{}", front.port())).unwrap();
    s.extra_ca_pem = Some(pki.ca_pem.into_bytes());
    let app = Arc::new(CountingTokens::default());
    let mut builder = GraphClient::builder(s)
        .app_token_provider(app.clone())
        .partner_refresh_token(SecretString::from("seed-rt"));
    if let Some(store) = store {
        builder = builder.refresh_token_store(store);
    }
    (builder.build().unwrap(), app)
}

/// Answers every refresh grant with `delegated-N` and a rotated `rotated-N`, N counting from 1.
fn rotating_entra(
    counter: Arc<AtomicUsize>,
    expires_in: u64,
) -> impl Fn(&Request) -> ResponseTemplate {
    move |_req: &Request| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer",
            "scope": "https://graph.microsoft.com/User.ReadWrite.All https://graph.microsoft.com/.default",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": format!("delegated-{n}"),
            "refresh_token": format!("rotated-{n}"),
        }))
    }
}

#[tokio::test]
async fn the_refresh_token_grant_goes_to_the_customer_tenant_and_its_rotation_is_saved() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    let counter = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/customer-a.onmicrosoft.com/oauth2/v2.0/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=seed-rt"))
        .and(body_string_contains(
            "client_id=11111111-2222-3333-4444-555555555555",
        ))
        .and(body_string_contains("client_secret=s3cr3t-value"))
        .and(body_string_contains(
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        ))
        .respond_with(rotating_entra(counter.clone(), 3599))
        .expect(1)
        .mount(&entra)
        .await;
    // The second tenant's grant must use the token the first one rotated to.
    Mock::given(method("POST"))
        .and(path("/customer-b.onmicrosoft.com/oauth2/v2.0/token"))
        .and(body_string_contains("refresh_token=rotated-1"))
        .respond_with(rotating_entra(counter.clone(), 3599))
        .expect(1)
        .mount(&entra)
        .await;
    let store = Arc::new(InMemoryRefreshTokenStore::default());
    let (client, app) = partner_client(&entra, &graph, Some(store.clone())).await;
    assert_eq!(client.token_mode(), TokenMode::Partner);

    let a = client
        .access_token("customer-a.onmicrosoft.com", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    assert_eq!(a.expose_secret(), "delegated-1");
    assert_eq!(store.current().unwrap().expose_secret(), "rotated-1");

    let b = client
        .access_token("customer-b.onmicrosoft.com", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    assert_eq!(b.expose_secret(), "delegated-2");
    assert_eq!(store.load().await.unwrap().expose_secret(), "rotated-2");
    assert_eq!(app.calls(), 0, "partner mode must not ask the app provider");
}

#[tokio::test]
async fn a_thousand_concurrent_first_calls_across_ten_tenants_make_ten_token_requests() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    let counter = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path_regex(r"^/tenant-\d\.example/oauth2/v2\.0/token$"))
        .respond_with(rotating_entra(counter.clone(), 3599).delay_hint())
        .mount(&entra)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(1000)
        .mount(&graph)
        .await;
    let (client, _) = partner_client(&entra, &graph, None).await;
    let calls = (0..1000).map(|i| {
        let client = client.clone();
        async move {
            client
                .get(
                    &format!("tenant-{}.example", i % 10),
                    GraphVersion::V1,
                    "users",
                    &[],
                )
                .await
        }
    });
    for r in join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 10);
    assert_eq!(entra.received_requests().await.unwrap().len(), 10);
}

/// Slows token answers so concurrent callers really overlap with the fetch.
trait DelayHint {
    fn delay_hint(self) -> DelayedResponder<Self>
    where
        Self: Sized;
}

impl<F: Fn(&Request) -> ResponseTemplate> DelayHint for F {
    fn delay_hint(self) -> DelayedResponder<Self> {
        DelayedResponder(self)
    }
}

struct DelayedResponder<F>(F);

impl<F: Fn(&Request) -> ResponseTemplate + Send + Sync + 'static> wiremock::Respond
    for DelayedResponder<F>
{
    fn respond(&self, request: &Request) -> ResponseTemplate {
        (self.0)(request).set_delay(Duration::from_millis(100))
    }
}

#[tokio::test]
async fn a_token_past_its_early_expiry_is_renewed_once_for_a_burst_of_callers() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    let counter = Arc::new(AtomicUsize::new(0));
    // 121 s lifetime: usable for 1 s after the 120 s margin.
    Mock::given(method("POST"))
        .respond_with(rotating_entra(counter.clone(), 121).delay_hint())
        .mount(&entra)
        .await;
    let (client, _) = partner_client(&entra, &graph, None).await;
    let first = client
        .access_token("t.example", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    assert_eq!(first.expose_secret(), "delegated-1");
    let again = client
        .access_token("t.example", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    assert_eq!(again.expose_secret(), "delegated-1", "still fresh: cached");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let burst = (0..50).map(|_| client.access_token("t.example", DEFAULT_GRAPH_SCOPE));
    for r in join_all(burst).await {
        assert_eq!(r.unwrap().expose_secret(), "delegated-2");
    }
    assert_eq!(counter.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn app_only_and_partner_calls_carry_different_tokens_and_cache_separately() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    let counter = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .respond_with(rotating_entra(counter.clone(), 3599))
        .mount(&entra)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/delegated"))
        .and(header("authorization", "Bearer delegated-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"mode": "partner"})))
        .expect(3)
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/app"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"mode": "app"})))
        .expect(2)
        .mount(&graph)
        .await;
    let (client, app) = partner_client(&entra, &graph, None).await;
    let as_app = client.app_only();
    assert_eq!(as_app.token_mode(), TokenMode::App);
    assert_eq!(client.token_mode(), TokenMode::Partner);
    for _ in 0..2 {
        client
            .get("t.example", GraphVersion::V1, "delegated", &[])
            .await
            .unwrap();
        as_app
            .get("t.example", GraphVersion::V1, "app", &[])
            .await
            .unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 1);
    assert_eq!(app.calls(), 1);
    // And back: a partner clone of the app clone uses the delegated token again.
    as_app
        .partner()
        .get("t.example", GraphVersion::V1, "delegated", &[])
        .await
        .unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_exchange_scope_gets_its_own_delegated_token() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    let counter = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(body_string_contains(
            "scope=https%3A%2F%2Foutlook.office365.com%2F.default",
        ))
        .respond_with(rotating_entra(counter.clone(), 3599))
        .expect(1)
        .mount(&entra)
        .await;
    let (client, _) = partner_client(&entra, &graph, None).await;
    let t = client
        .access_token("t.example", EXCHANGE_SCOPE)
        .await
        .unwrap();
    assert_eq!(t.expose_secret(), "delegated-1");
}

#[tokio::test]
async fn an_expired_refresh_token_is_a_token_error_with_the_aadsts_code_and_is_not_cached() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "AADSTS700082: The refresh token has expired due to inactivity.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2024-05-22 16:52:10Z",
            "error_codes": [700082],
            "timestamp": "2024-05-22 16:52:10Z",
            "trace_id": "t", "correlation_id": "c"
        })))
        .expect(2)
        .mount(&entra)
        .await;
    let (client, _) = partner_client(&entra, &graph, None).await;
    for _ in 0..2 {
        let err = client
            .get("customer.example", GraphVersion::V1, "users", &[])
            .await
            .unwrap_err();
        match err {
            GraphError::Token {
                tenant,
                status,
                code,
                message,
            } => {
                assert_eq!(tenant, "customer.example");
                assert_eq!(status, Some(400));
                assert_eq!(code.as_deref(), Some("AADSTS700082"));
                assert!(message.starts_with("AADSTS700082: The refresh token has expired"));
                assert!(!message.contains("seed-rt"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(graph.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn without_a_refresh_token_the_default_is_app_only_and_partner_calls_fail_clearly() {
    let graph = MockServer::start().await;
    let app = Arc::new(CountingTokens::default());
    let client = GraphClient::builder(settings(&graph.uri()))
        .app_token_provider(app)
        .build()
        .unwrap();
    assert_eq!(client.token_mode(), TokenMode::App);
    assert!(!client.has_partner_tokens());
    let err = client
        .partner()
        .access_token("t", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Token { .. }), "{err:?}");
    assert!(err.service_message().contains("partner"));
}

#[tokio::test]
async fn refresh_tokens_and_delegated_tokens_never_reach_the_logs() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    let counter = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .respond_with(rotating_entra(counter, 3599))
        .mount(&entra)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&graph)
        .await;
    let (client, _) = partner_client(&entra, &graph, None).await;
    client
        .get_all("t.example", GraphVersion::V1, "users", &[])
        .await
        .unwrap();
    let printed = format!("{client:?}");
    let text = logs.text() + &printed;
    assert!(text.contains("graph_request"), "nothing logged: {text}");
    for secret in ["seed-rt", "rotated-1", "delegated-1", "s3cr3t-value"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

/// An Entra that accepts each refresh token once, answering with the next one.
struct SingleUseEntra {
    current: std::sync::Mutex<String>,
    issued: AtomicUsize,
}

impl wiremock::Respond for SingleUseEntra {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = String::from_utf8_lossy(&request.body).into_owned();
        let presented = form
            .split('&')
            .find_map(|kv| kv.strip_prefix("refresh_token="))
            .unwrap_or_default()
            .to_owned();
        let mut current = self.current.lock().unwrap();
        if presented != *current {
            return ResponseTemplate::new(400).set_body_json(json!({
                "error": "invalid_grant",
                "error_description": "AADSTS70000: The refresh token has already been used.",
                "error_codes": [70000]
            }));
        }
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        *current = format!("single-{n}");
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                "access_token": format!("delegated-{n}"), "refresh_token": format!("single-{n}")
            }))
            .set_delay(Duration::from_millis(20))
    }
}

#[tokio::test]
async fn concurrent_grants_for_many_tenants_survive_a_token_endpoint_that_accepts_each_refresh_token_once()
 {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(SingleUseEntra {
            current: std::sync::Mutex::new("seed-rt".to_owned()),
            issued: AtomicUsize::new(0),
        })
        .mount(&entra)
        .await;
    let store = Arc::new(InMemoryRefreshTokenStore::default());
    let (client, _) = partner_client(&entra, &graph, Some(store.clone())).await;
    let calls = (0..10).map(|i| {
        let client = client.clone();
        async move {
            client
                .access_token(&format!("tenant-{i}.example"), DEFAULT_GRAPH_SCOPE)
                .await
        }
    });
    for r in join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(store.current().unwrap().expose_secret(), "single-10");
}
