//! reqwest 0.13 verifies through rustls-platform-verifier; these prove an extra root CA given
//! as PEM is really trusted (and that without it the same server is refused).

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use serde_json::json;
use std::sync::Arc;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CountingTokens, pki, settings, tls_front};

async fn https_graph() -> (MockServer, String, String) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "over-tls"})))
        .mount(&server)
        .await;
    let pki = pki();
    let front = tls_front(*server.address(), pki.acceptor).await;
    (
        server,
        format!("https://127.0.0.1:{}", front.port()),
        pki.ca_pem,
    )
}

#[tokio::test]
async fn a_server_certified_by_the_extra_ca_is_trusted() {
    let (_server, base, ca_pem) = https_graph().await;
    let mut s = settings(&base);
    s.extra_ca_pem = Some(ca_pem.into_bytes());
    let client = GraphClient::with_token_provider(s, Arc::new(CountingTokens::default())).unwrap();
    let out = client
        .get("t", GraphVersion::V1, "users/x", &[])
        .await
        .unwrap();
    assert_eq!(out, json!({"id": "over-tls"}));
}

#[tokio::test]
async fn without_the_extra_ca_the_same_server_is_refused() {
    let (_server, base, _) = https_graph().await;
    let client =
        GraphClient::with_token_provider(settings(&base), Arc::new(CountingTokens::default()))
            .unwrap();
    let err = client
        .get("t", GraphVersion::V1, "users/x", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn a_garbage_extra_ca_is_a_config_error() {
    let mut s = settings("https://127.0.0.1:1");
    s.extra_ca_pem = Some(b"not a pem".to_vec());
    let err = GraphClient::with_token_provider(s, Arc::new(CountingTokens::default())).unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Config {
                setting: "extra_ca_pem",
                ..
            }
        ),
        "{err:?}"
    );
}
