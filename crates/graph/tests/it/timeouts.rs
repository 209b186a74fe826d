//! Whole-request timeouts and the per-call span.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CountingTokens, LogCapture, client_for, settings};

#[tokio::test]
async fn a_response_slower_than_the_request_timeout_is_a_transport_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": []}))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let mut s = settings(&server.uri());
    s.request_timeout = Duration::from_millis(300);
    let client = GraphClient::with_token_provider(s, Arc::new(CountingTokens::default())).unwrap();
    let started = Instant::now();
    let err = client
        .get("t", GraphVersion::V1, "users", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Transport { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn every_call_logs_a_span_with_tenant_method_path_status_attempt_and_request_id() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x"})))
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    client
        .get("contoso.example", GraphVersion::Beta, "users/x", &[])
        .await
        .unwrap();
    let sent_id = server.received_requests().await.unwrap()[0]
        .headers
        .get("client-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let text = strip_ansi(&logs.text());
    for needle in [
        "graph_request",
        "tenant=contoso.example",
        "method=GET",
        "path=/beta/users/x",
        "status=200",
        "attempt=2",
        &format!("client_request_id={sent_id}"),
    ] {
        assert!(text.contains(needle), "{needle} missing from logs:\n{text}");
    }
}

/// Drops terminal colour codes (`ESC [ ... m`) from captured log text.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
