//! `$batch`: chunking, per-item throttling retried, request order, failures reported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cipp_graph::{BatchRequest, GraphClient, GraphError, GraphVersion, Method};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{CountingTokens, client_for, settings};

/// A fake `$batch`: answers items by URL, in reverse order, and records every batch it got.
#[derive(Clone, Default)]
struct FakeBatch {
    /// Item URLs of each POST received.
    posts: Arc<Mutex<Vec<Vec<String>>>>,
    /// How often each item URL was seen.
    seen: Arc<Mutex<HashMap<String, usize>>>,
}

impl FakeBatch {
    fn posts(&self) -> Vec<Vec<String>> {
        self.posts.lock().unwrap().clone()
    }
}

impl Respond for FakeBatch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let items = body["requests"].as_array().unwrap().clone();
        if items.iter().any(|i| i["url"] == "users/poison") {
            return ResponseTemplate::new(400).set_body_json(json!({"error": {
                "code": "BadRequest", "message": "Invalid batch payload."
            }}));
        }
        self.posts.lock().unwrap().push(
            items
                .iter()
                .map(|i| i["url"].as_str().unwrap().to_owned())
                .collect(),
        );
        let mut responses = Vec::new();
        for item in items.iter().rev() {
            let url = item["url"].as_str().unwrap().to_owned();
            let n = {
                let mut seen = self.seen.lock().unwrap();
                let n = seen.entry(url.clone()).or_default();
                *n += 1;
                *n
            };
            let id = item["id"].clone();
            let answer = if url == "users/missing" {
                json!({"id": id, "status": 404, "headers": {"Content-Type": "application/json"},
                       "body": {"error": {"code": "Request_ResourceNotFound", "message": "Resource 'missing' does not exist."}}})
            } else if url.starts_with("users/busy") && n == 1 {
                json!({"id": id, "status": 429, "headers": {"Retry-After": "0.1"},
                       "body": {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}})
            } else if url == "users/always-busy" {
                json!({"id": id, "status": 503, "headers": {"Retry-After": "0"},
                       "body": {"error": {"code": "ServiceUnavailable", "message": "busy"}}})
            } else if url == "users/dropped" {
                continue;
            } else {
                json!({"id": id, "status": 200, "headers": {"Content-Type": "application/json"},
                       "body": {"url": url, "method": item["method"], "try": n}})
            };
            responses.push(answer);
        }
        ResponseTemplate::new(200).set_body_json(json!({ "responses": responses }))
    }
}

async fn batch_server(version: &str) -> (MockServer, FakeBatch) {
    let server = MockServer::start().await;
    let fake = FakeBatch::default();
    Mock::given(method("POST"))
        .and(path(format!("/{version}/$batch")))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

#[tokio::test]
async fn forty_five_requests_go_out_as_three_chunks_and_come_back_in_request_order() {
    let (server, fake) = batch_server("beta").await;
    let (client, _) = client_for(&server);
    let requests: Vec<BatchRequest> = (0..45)
        .map(|i| BatchRequest::get(format!("/users/u{i}?$select=id")))
        .collect();
    let out = client
        .batch("t", GraphVersion::Beta, requests)
        .await
        .unwrap();
    assert_eq!(out.len(), 45);
    for (i, r) in out.iter().enumerate() {
        assert_eq!(r.id, i.to_string());
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body.as_ref().unwrap()["url"],
            format!("users/u{i}?$select=id")
        );
    }
    let mut sizes: Vec<usize> = fake.posts().iter().map(Vec::len).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![5, 20, 20]);
}

#[tokio::test]
async fn throttled_items_are_retried_in_a_later_batch_and_a_failed_item_is_reported() {
    let (server, fake) = batch_server("v1.0").await;
    let (client, _) = client_for(&server);
    let mut requests: Vec<BatchRequest> = (0..45)
        .map(|i| BatchRequest::get(format!("users/u{i}")).with_id(format!("req-{i}")))
        .collect();
    requests[3] = BatchRequest::get("users/busy-a").with_id("busy-a");
    requests[27] = BatchRequest::get("users/busy-b").with_id("busy-b");
    requests[44] = BatchRequest::new(Method::PATCH, "users/busy-c")
        .with_id("busy-c")
        .with_body(json!({"accountEnabled": false}));
    requests[10] = BatchRequest::get("users/missing").with_id("missing");
    requests[30] = BatchRequest::get("users/dropped").with_id("dropped");
    let started = std::time::Instant::now();
    let out = client
        .batch("t", GraphVersion::V1, requests.clone())
        .await
        .unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(100));
    assert_eq!(out.len(), 45);
    for (r, req) in out.iter().zip(&requests) {
        assert_eq!(Some(&r.id), req.id.as_ref());
    }
    for i in [3, 27, 44] {
        assert_eq!(out[i].status, 200, "{:?}", out[i]);
        assert_eq!(out[i].body.as_ref().unwrap()["try"], 2);
    }
    assert_eq!(out[44].body.as_ref().unwrap()["method"], "PATCH");
    assert_eq!(out[10].status, 404);
    assert_eq!(
        out[10].error_message(),
        Some("Resource 'missing' does not exist.")
    );
    assert!(!out[30].is_success());
    assert_eq!(
        out[30].body.as_ref().unwrap()["error"]["code"],
        "cippGraph.batchItemMissing"
    );
    // Three chunks, then one more batch with only the three throttled items.
    let posts = fake.posts();
    assert_eq!(posts.len(), 4);
    let mut retried = posts[3].clone();
    retried.sort();
    assert_eq!(
        retried,
        vec!["users/busy-a", "users/busy-b", "users/busy-c"]
    );
}

#[tokio::test]
async fn items_throttled_past_the_budget_come_back_with_their_last_answer() {
    let (server, fake) = batch_server("v1.0").await;
    let (client, _) = client_for(&server);
    let requests = vec![
        BatchRequest::get("users/ok"),
        BatchRequest::get("users/always-busy"),
    ];
    let out = client.batch("t", GraphVersion::V1, requests).await.unwrap();
    assert_eq!(out[0].status, 200);
    assert_eq!(out[1].status, 503);
    assert_eq!(out[1].error_message(), Some("busy"));
    // max_attempts = 4 rounds in the test settings.
    assert_eq!(fake.posts().len(), 4);
}

#[tokio::test]
async fn a_chunk_whose_batch_call_fails_reports_its_items_as_failed_and_keeps_the_others() {
    let (server, _) = batch_server("v1.0").await;
    let (client, _) = client_for(&server);
    let mut requests: Vec<BatchRequest> = (0..25)
        .map(|i| BatchRequest::get(format!("users/u{i}")))
        .collect();
    requests[22] = BatchRequest::get("users/poison");
    let out = client.batch("t", GraphVersion::V1, requests).await.unwrap();
    assert!(out[..20].iter().all(|r| r.status == 200));
    for r in &out[20..] {
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body.as_ref().unwrap()["error"]["code"],
            "cippGraph.batchFailed"
        );
    }
}

#[tokio::test]
async fn a_batch_that_gets_no_answer_at_all_is_an_error() {
    let server = MockServer::start().await;
    let tokens = Arc::new(CountingTokens::failing());
    let client = GraphClient::with_token_provider(settings(&server.uri()), tokens).unwrap();
    let err = client
        .batch("t", GraphVersion::V1, vec![BatchRequest::get("users")])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Token { .. }), "{err:?}");
}

#[tokio::test]
async fn an_empty_batch_sends_nothing() {
    let (server, fake) = batch_server("v1.0").await;
    let (client, _) = client_for(&server);
    let out = client.batch("t", GraphVersion::V1, vec![]).await.unwrap();
    assert!(out.is_empty());
    assert!(fake.posts().is_empty());
}
