use std::sync::Arc;

use cipp_graph::{DEFAULT_GRAPH_SCOPE, GraphClient, GraphError, GraphVersion};
use futures::future::join_all;
use secrecy::ExposeSecret;
use serde_json::json;
use url::Url;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CountingTokens, LogCapture, client_for, pki, settings, tls_front};

#[tokio::test]
async fn a_hundred_concurrent_first_calls_fetch_one_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(100)
        .mount(&server)
        .await;
    let (client, tokens) = client_for(&server);
    let calls =
        (0..100).map(|_| client.get("Contoso.onmicrosoft.com", GraphVersion::V1, "users", &[]));
    for r in join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(tokens.calls(), 1);
}

#[tokio::test]
async fn tenants_get_their_own_tokens_and_tenant_case_does_not_matter() {
    let server = MockServer::start().await;
    let (client, tokens) = client_for(&server);
    client
        .access_token("contoso.com", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    client
        .access_token("CONTOSO.com", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    assert_eq!(tokens.calls(), 1);
    client
        .access_token("fabrikam.com", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap();
    client
        .access_token("fabrikam.com", "https://outlook.office365.com/.default")
        .await
        .unwrap();
    assert_eq!(tokens.calls(), 3);
}

#[tokio::test]
async fn token_failures_reach_every_waiter_but_are_not_cached() {
    let server = MockServer::start().await;
    let tokens = Arc::new(CountingTokens::failing());
    let client = GraphClient::with_token_provider(settings(&server.uri()), tokens.clone()).unwrap();
    let calls = (0..10).map(|_| client.get("t", GraphVersion::V1, "users", &[]));
    for r in join_all(calls).await {
        assert_eq!(r.unwrap_err().graph_code(), Some("AADSTS65001"));
    }
    assert_eq!(tokens.calls(), 1);
    client
        .get("t", GraphVersion::V1, "users", &[])
        .await
        .unwrap_err();
    assert_eq!(tokens.calls(), 2);
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// The real azure_identity credential against a fake Entra behind TLS signed by a test CA.
async fn entra_client(entra: &MockServer, graph: &MockServer) -> GraphClient {
    let pki = pki();
    let front = tls_front(*entra.address(), pki.acceptor).await;
    let mut s = settings(&graph.uri());
    s.authority_host = Url::parse(&format!("https://127.0.0.1:{}", front.port())).unwrap();
    s.extra_ca_pem = Some(pki.ca_pem.into_bytes());
    GraphClient::new(s).unwrap()
}

#[tokio::test]
async fn the_client_credentials_provider_makes_one_token_request_for_a_burst_of_callers() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=11111111-2222-3333-4444-555555555555"))
        .and(body_string_contains("client_secret=s3cr3t-value"))
        .and(body_string_contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "entra-token"
        })))
        .expect(1)
        .mount(&entra)
        .await;
    let client = entra_client(&entra, &graph).await;
    let calls =
        (0..100).map(|_| client.access_token("Contoso.onmicrosoft.com", DEFAULT_GRAPH_SCOPE));
    for r in join_all(calls).await {
        assert_eq!(r.unwrap().expose_secret(), "entra-token");
    }
}

#[tokio::test]
async fn entra_errors_become_token_errors_with_the_aadsts_code_after_one_request() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2023-06-02 21:00:26Z",
            "error_codes": [7000215],
            "timestamp": "2023-06-02 21:00:26Z",
            "trace_id": "t", "correlation_id": "c",
            "error_uri": "https://login.microsoftonline.com/error?code=7000215"
        })))
        .expect(1)
        .mount(&entra)
        .await;
    let client = entra_client(&entra, &graph).await;
    let err = client
        .get("contoso.onmicrosoft.com", GraphVersion::V1, "users", &[])
        .await
        .unwrap_err();
    match err {
        GraphError::Token {
            tenant,
            status,
            code,
            message,
        } => {
            assert_eq!(tenant, "contoso.onmicrosoft.com");
            assert_eq!(status, Some(401));
            assert_eq!(code.as_deref(), Some("AADSTS7000215"));
            assert!(message.starts_with("AADSTS7000215: Invalid client secret provided."));
            assert!(!message.contains("s3cr3t"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(graph.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_token_endpoint_sees_exactly_one_request_per_call() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "error": "temporarily_unavailable", "error_description": "busy"
        })))
        .expect(1)
        .mount(&entra)
        .await;
    let client = entra_client(&entra, &graph).await;
    let err = client
        .access_token("t", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.graph_code(), Some("temporarily_unavailable"));
}

#[tokio::test]
async fn graph_calls_carry_the_token_from_entra() {
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "entra-token"
        })))
        .expect(1)
        .mount(&entra)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer entra-token",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"id": 1}]})))
        .expect(2)
        .mount(&graph)
        .await;
    let client = entra_client(&entra, &graph).await;
    for _ in 0..2 {
        let items = client
            .get_all("t", GraphVersion::V1, "users", &[])
            .await
            .unwrap();
        assert_eq!(items.len(), 1);
    }
}

#[tokio::test]
async fn tokens_expiring_within_two_minutes_are_not_reused() {
    let server = MockServer::start().await;
    let tokens = Arc::new(CountingTokens::short_lived(std::time::Duration::from_secs(
        90,
    )));
    let client = GraphClient::with_token_provider(settings(&server.uri()), tokens.clone()).unwrap();
    client.access_token("t", DEFAULT_GRAPH_SCOPE).await.unwrap();
    client.access_token("t", DEFAULT_GRAPH_SCOPE).await.unwrap();
    assert_eq!(tokens.calls(), 2);
}

#[tokio::test]
async fn neither_the_client_secret_nor_the_token_reach_the_logs() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let entra = MockServer::start().await;
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "entra-token-xyz"
        })))
        .mount(&entra)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&graph)
        .await;
    let client = entra_client(&entra, &graph).await;
    client
        .get_all("t", GraphVersion::V1, "users", &[])
        .await
        .unwrap();
    let text = logs.text();
    assert!(text.contains("graph_request"), "nothing logged: {text}");
    assert!(!text.contains("s3cr3t-value"), "client secret leaked");
    assert!(!text.contains("entra-token-xyz"), "token leaked");
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_a_token_error_without_status() {
    let graph = MockServer::start().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut s = settings(&graph.uri());
    s.authority_host = Url::parse(&format!("https://127.0.0.1:{port}")).unwrap();
    let client = GraphClient::new(s).unwrap();
    let err = client
        .access_token("t", DEFAULT_GRAPH_SCOPE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::Token { status: None, .. }),
        "{err:?}"
    );
}
