use cipp_graph::{GraphError, GraphVersion, Method};
use serde_json::json;
use wiremock::matchers::{body_json, header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{LogCapture, TOKEN, client_for};

#[tokio::test]
async fn get_sends_bearer_token_request_id_user_agent_accept_and_caller_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users/abc"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/json"))
        .and(header("user-agent", "CIPP-Users/test"))
        .and(header("consistencylevel", "eventual"))
        .and(header_exists("client-request-id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "abc"})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let body = client
        .get(
            "contoso.onmicrosoft.com",
            GraphVersion::V1,
            "users/abc",
            &[("ConsistencyLevel", "eventual")],
        )
        .await
        .unwrap();
    assert_eq!(body, json!({"id": "abc"}));
}

#[tokio::test]
async fn cipp_query_strings_reach_graph_exactly_as_written() {
    let server = MockServer::start().await;
    let query =
        "$top=999&$filter=&$count=true&$expand=manager($select=id,userPrincipalName,displayName)";
    Mock::given(method("GET"))
        .and(path("/beta/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    client
        .get("t", GraphVersion::Beta, &format!("/users?{query}"), &[])
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].url.query(), Some(query));
}

#[tokio::test]
async fn patch_returns_none_for_204_and_sends_the_json_body() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/v1.0/users/abc"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"accountEnabled": false})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let out = client
        .patch(
            "t",
            GraphVersion::V1,
            "users/abc",
            &json!({"accountEnabled": false}),
        )
        .await
        .unwrap();
    assert_eq!(out, None);
}

#[tokio::test]
async fn post_returns_the_created_object() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/beta/users"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "new-id"})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let out = client
        .post(
            "t",
            GraphVersion::Beta,
            "users",
            &json!({"displayName": "A"}),
        )
        .await
        .unwrap();
    assert_eq!(out, Some(json!({"id": "new-id"})));
}

#[tokio::test]
async fn delete_succeeds_on_204() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/users/abc"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    client
        .delete("t", GraphVersion::V1, "users/abc")
        .await
        .unwrap();
}

#[tokio::test]
async fn send_supports_other_methods_such_as_put() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v1.0/users/abc/manager/$ref"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let out = client
        .send(
            "t",
            Method::PUT,
            GraphVersion::V1,
            "users/abc/manager/$ref",
            Some(&json!({"@odata.id": "x"})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(out, None);
}

#[tokio::test]
async fn graph_error_bodies_become_api_errors_with_code_message_and_request_id() {
    let server = MockServer::start().await;
    let body = json!({"error": {
        "code": "Request_ResourceNotFound",
        "message": "Resource 'nobody' does not exist or one of its queried reference-property objects are not present.",
        "innerError": {"date": "2024-05-22T16:52:10", "request-id": "req-123", "client-request-id": "c"}
    }});
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let err = client
        .get("t", GraphVersion::V1, "users/nobody", &[])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.graph_code(), Some("Request_ResourceNotFound"));
    match err {
        GraphError::Api {
            message,
            request_id,
            raw_body,
            ..
        } => {
            assert!(message.starts_with("Resource 'nobody' does not exist"));
            assert_eq!(request_id.as_deref(), Some("req-123"));
            assert!(raw_body.contains("Request_ResourceNotFound"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn non_json_error_bodies_keep_the_raw_text_and_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let err = client
        .get("t", GraphVersion::V1, "users", &[])
        .await
        .unwrap_err();
    match err {
        GraphError::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(status, 500);
            assert_eq!(code, "");
            assert_eq!(message, "upstream exploded");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn count_endpoints_answering_plain_text_decode_to_a_number() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users/$count"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("893", "text/plain"))
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let out = client
        .get(
            "t",
            GraphVersion::V1,
            "users/$count",
            &[("ConsistencyLevel", "eventual")],
        )
        .await
        .unwrap();
    assert_eq!(out, json!(893));
}

#[tokio::test]
async fn the_access_token_never_appears_in_trace_logs() {
    let logs = LogCapture::default();
    let _guard = logs.install();

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x"})))
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    client
        .get("t", GraphVersion::V1, "users/x", &[])
        .await
        .unwrap();

    let text = logs.text();
    assert!(text.contains("graph_request"), "no span in logs: {text}");
    assert!(
        text.contains("client_request_id"),
        "no request id in logs: {text}"
    );
    assert!(!text.contains(TOKEN), "token leaked into logs");
}

#[tokio::test]
async fn a_401_drops_the_cached_token_so_the_next_call_fetches_a_new_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."
        }})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x"})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, tokens) = client_for(&server);
    let err = client
        .get("t", GraphVersion::V1, "users/x", &[])
        .await
        .unwrap_err();
    assert_eq!(err.graph_code(), Some("InvalidAuthenticationToken"));
    client
        .get("t", GraphVersion::V1, "users/x", &[])
        .await
        .unwrap();
    assert_eq!(tokens.calls(), 2);
}
