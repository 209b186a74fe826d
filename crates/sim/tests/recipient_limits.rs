//! `Set-Mailbox -RecipientLimits` and the `acknowledge` fault (a write answered as done that
//! never landed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_recipient_limit_is_kept_per_mailbox_and_shown_by_get_mailbox() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let (_, list) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"ResultSize": 1})).await;
    let upn = list["value"][0]["UserPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(list["value"][0]["RecipientLimits"], "500");

    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Set-Mailbox",
        json!({"Identity": upn, "RecipientLimits": 42}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, read) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"Identity": upn})).await;
    assert_eq!(read["value"][0]["RecipientLimits"], "42");

    // Setting it again changes nothing, and Exchange says so.
    let (_, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Set-Mailbox",
        json!({"Identity": upn, "RecipientLimits": "42"}),
    )
    .await;
    assert!(
        body["@adminapi.warnings"][0]
            .as_str()
            .unwrap()
            .contains("no settings"),
        "{body}"
    );
    for bad in [json!(0), json!(1001), json!("lots")] {
        let (status, body) = cmdlet(
            &h,
            &c,
            &exo,
            &tid,
            "Set-Mailbox",
            json!({"Identity": upn, "RecipientLimits": bad}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (_, read) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"Identity": upn})).await;
    assert_eq!(read["value"][0]["RecipientLimits"], "42");
    h.stop().await;
}

#[tokio::test]
async fn an_acknowledge_fault_answers_success_and_changes_nothing() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let (_, list) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"ResultSize": 1})).await;
    let upn = list["value"][0]["UserPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    add_fault(
        &h,
        &c,
        json!({"cmdlet": "Set-Mailbox", "acknowledge": true, "count": 1}),
    )
    .await;
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Set-Mailbox",
        json!({"Identity": upn, "RecipientLimits": 42}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], json!([]));
    let (_, read) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"Identity": upn})).await;
    assert_eq!(read["value"][0]["RecipientLimits"], "500");

    // On Graph: a 204 and no change.
    let token = graph_token(&h, &c, &tid).await;
    let id = read["value"][0]["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();
    add_fault(
        &h,
        &c,
        json!({"path": format!("/v1.0/users/{id}"), "method": "PATCH", "acknowledge": true, "count": 1}),
    )
    .await;
    let resp = c
        .patch(url(&h, &format!("/v1.0/users/{id}")))
        .bearer_auth(&token)
        .json(&json!({"jobTitle": "Never set"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, user) = json_of(
        c.get(url(&h, &format!("/v1.0/users/{id}?$select=jobTitle")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_ne!(user["jobTitle"], "Never set", "{user}");
    h.stop().await;
}
