//! Graph JSON batching over HTTPS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn batch(
    h: &cipp_sim::SimHandle,
    c: &reqwest::Client,
    token: &str,
    requests: Value,
) -> (StatusCode, Value) {
    json_of(
        c.post(url(h, "/v1.0/$batch"))
            .bearer_auth(token)
            .json(&json!({"requests": requests}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn by_id<'v>(body: &'v Value, id: &str) -> &'v Value {
    body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no response for {id}: {body}"))
}

#[tokio::test]
async fn batch_items_run_like_single_requests_and_come_back_out_of_order() {
    let (h, c) = sim().await;
    let t = &h.tenants[0];
    let token = graph_token(&h, &c, &t.customer_id).await;
    let users: Value = c
        .get(url(&h, "/v1.0/users?$top=3&$select=id,userPrincipalName"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = users["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    c.delete(url(&h, "/_sim/stats")).send().await.unwrap();
    let (status, body) = batch(
        &h,
        &c,
        &token,
        json!([
            {"id": "1", "method": "GET", "url": format!("/users/{}?$select=id,accountEnabled", ids[0])},
            {"id": "2", "method": "PATCH", "url": format!("/users/{}", ids[1]),
             "headers": {"Content-Type": "application/json"}, "body": {"jobTitle": "Batch Pilot"}},
            {"id": "3", "method": "GET", "url": "users?$count=true&$top=1&$filter=endsWith(mail,'.example')",
             "headers": {"ConsistencyLevel": "eventual"}},
            {"id": "4", "method": "GET", "url": "/users/00000000-0000-0000-0000-00000000dead"},
            {"id": "5", "method": "GET", "url": format!("/users/{}", ids[2])},
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let order: Vec<&str> = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(order.len(), 5);
    assert_ne!(
        order,
        ["1", "2", "3", "4", "5"],
        "answers must not follow request order"
    );
    assert_eq!(by_id(&body, "1")["status"], 200);
    assert_eq!(by_id(&body, "1")["body"]["id"], json!(ids[0]));
    assert!(
        by_id(&body, "1")["headers"]["Content-Type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(by_id(&body, "2")["status"], 204);
    assert!(by_id(&body, "2").get("body").is_none());
    // ConsistencyLevel from the item's own headers enables advanced queries.
    assert_eq!(by_id(&body, "3")["status"], 200);
    assert!(by_id(&body, "3")["body"]["@odata.count"].as_u64().unwrap() > 0);
    assert_eq!(by_id(&body, "4")["status"], 404);
    assert_eq!(
        by_id(&body, "4")["body"]["error"]["code"],
        "Request_ResourceNotFound"
    );
    // The PATCH really happened.
    let user: Value = c
        .get(url(&h, &format!("/v1.0/users/{}?$select=jobTitle", ids[1])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["jobTitle"], "Batch Pilot");
    // Stats: the batch once, each item under its own path.
    let s = stats(&h, &c).await;
    assert_eq!(stat_count(&s, "POST", "/v1.0/$batch", 200), 1);
    assert_eq!(
        stat_count(&s, "PATCH", &format!("/v1.0/users/{}", ids[1]), 204),
        1
    );
    assert_eq!(stat_count(&s, "GET", "/v1.0/users", 200), 1);
    h.stop().await;
}

#[tokio::test]
async fn a_failed_dependency_gives_424_and_a_good_one_lets_the_dependent_run() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.tenants[1].customer_id).await;
    let (status, body) = batch(
        &h,
        &c,
        &token,
        json!([
            {"id": "a", "method": "GET", "url": "/users/nobody@nowhere.example"},
            {"id": "b", "method": "GET", "url": "/users?$top=1", "dependsOn": ["a"]},
            {"id": "c", "method": "GET", "url": "/organization"},
            {"id": "d", "method": "GET", "url": "/domains", "dependsOn": ["c"]},
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id(&body, "a")["status"], 404);
    assert_eq!(by_id(&body, "b")["status"], 424);
    assert_eq!(by_id(&body, "c")["status"], 200);
    assert_eq!(by_id(&body, "d")["status"], 200);
    h.stop().await;
}

#[tokio::test]
async fn a_throttled_item_is_a_429_with_retry_after_inside_a_200_batch() {
    let (h, c) = sim().await;
    let t = &h.tenants[0];
    let token = graph_token(&h, &c, &t.customer_id).await;
    add_fault(
        &h,
        &c,
        json!({"path": "/v1.0/users", "method": "GET", "status": 429, "retry_after": 7, "count": 1}),
    )
    .await;
    let (status, body) = batch(
        &h,
        &c,
        &token,
        json!([
            {"id": "1", "method": "GET", "url": "/organization"},
            {"id": "2", "method": "GET", "url": "/users?$top=2"},
            {"id": "3", "method": "GET", "url": "/users?$top=2"},
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id(&body, "1")["status"], 200);
    let throttled = by_id(&body, "2");
    assert_eq!(throttled["status"], 429);
    assert_eq!(throttled["headers"]["Retry-After"], "7");
    assert_eq!(throttled["body"]["error"]["code"], "TooManyRequests");
    // The fault had count 1: the next item went through.
    assert_eq!(by_id(&body, "3")["status"], 200);
    h.stop().await;
}

#[tokio::test]
async fn more_than_twenty_requests_or_duplicate_ids_fail_the_whole_batch() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.tenants[0].customer_id).await;
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/organization"}))
        .collect();
    let (status, body) = batch(&h, &c, &token, Value::Array(many)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "Number of requests inside batch exceeds the limit."
    );
    let twenty: Vec<Value> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/organization"}))
        .collect();
    let (status, _) = batch(&h, &c, &token, Value::Array(twenty)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = batch(
        &h,
        &c,
        &token,
        json!([
            {"id": "x", "method": "GET", "url": "/organization"},
            {"id": "X", "method": "GET", "url": "/domains"},
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A batch needs a valid token like any Graph request.
    let (status, _) = batch(
        &h,
        &c,
        "garbage",
        json!([{"id": "1", "method": "GET", "url": "/organization"}]),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    h.stop().await;
}
