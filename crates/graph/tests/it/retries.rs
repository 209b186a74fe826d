use std::time::{Duration, Instant};

use cipp_graph::{GraphClient, GraphError, GraphVersion};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CountingTokens, client_for, settings};

fn throttled() -> ResponseTemplate {
    ResponseTemplate::new(429).set_body_json(json!({"error": {
        "code": "TooManyRequests",
        "message": "Please retry again later.",
        "innerError": {"code": "429", "status": "429", "request-id": "r"}
    }}))
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(throttled().insert_header("Retry-After", "0.2"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "ok"})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let started = Instant::now();
    let out = client
        .get("t", GraphVersion::V1, "users/ok", &[])
        .await
        .unwrap();
    assert_eq!(out, json!({"id": "ok"}));
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "Retry-After was not honoured"
    );
    // One logical call: the same client-request-id on both attempts.
    let reqs = server.received_requests().await.unwrap();
    let ids: Vec<_> = reqs
        .iter()
        .map(|r| r.headers.get("client-request-id").unwrap().clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn endless_429s_give_throttled_after_max_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(throttled().insert_header("Retry-After", "0"))
        .expect(4)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let err = client
        .get("t", GraphVersion::V1, "users", &[])
        .await
        .unwrap_err();
    match err {
        GraphError::Throttled {
            status,
            attempts,
            message,
        } => {
            assert_eq!(status, 429);
            assert_eq!(attempts, 4);
            assert_eq!(message, "Please retry again later.");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_503_without_retry_after_is_retried_with_backoff() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "n"})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let out = client
        .get("t", GraphVersion::V1, "users/n", &[])
        .await
        .unwrap();
    assert_eq!(out, json!({"id": "n"}));
}

#[tokio::test]
async fn a_post_answered_504_is_sent_once_because_graph_may_have_applied_it() {
    for status in [503u16, 504] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = client_for(&server);
        let err = client
            .post("t", GraphVersion::V1, "users", &json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status), "{err:?}");
        server.verify().await;
    }
}

#[tokio::test]
async fn a_post_answered_429_is_retried_because_graph_did_not_act() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(throttled().insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "n"})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let out = client
        .post("t", GraphVersion::V1, "users", &json!({}))
        .await
        .unwrap();
    assert_eq!(out, Some(json!({"id": "n"})));
}

#[tokio::test]
async fn a_batch_of_reads_is_retried_after_504_and_a_batch_with_a_write_is_not() {
    let reads = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(504))
        .expect(4)
        .mount(&reads)
        .await;
    let (client, _) = client_for(&reads);
    let body = json!({"requests": [{"id": "1", "method": "GET", "url": "/users"}]});
    let _ = client.post("t", GraphVersion::V1, "$batch", &body).await;
    reads.verify().await;

    let writes = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(504))
        .expect(1)
        .mount(&writes)
        .await;
    let (client, _) = client_for(&writes);
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/users"},
        {"id": "2", "method": "PATCH", "url": "/users/x", "body": {}, "headers": {"Content-Type": "application/json"}}
    ]});
    let _ = client.post("t", GraphVersion::V1, "$batch", &body).await;
    writes.verify().await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_total_wait_budget_gives_up_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(504).insert_header("Retry-After", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let started = Instant::now();
    let err = client
        .get("t", GraphVersion::V1, "users", &[])
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(
            err,
            GraphError::Throttled {
                status: 504,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_a_bounded_number_of_times_then_reported() {
    // Bind and drop to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let tokens = std::sync::Arc::new(CountingTokens::default());
    let client =
        GraphClient::with_token_provider(settings(&format!("http://127.0.0.1:{port}")), tokens)
            .unwrap();
    let err = client
        .get("t", GraphVersion::V1, "users", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Transport { .. }), "{err:?}");
}
