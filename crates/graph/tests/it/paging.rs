use cipp_graph::{GraphError, GraphVersion};
use futures::StreamExt;
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::client_for;

async fn mount_three_pages(server: &MockServer) {
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/beta/users"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.count": 5,
            "@odata.nextLink": format!("{base}/beta/users?$top=2&$skiptoken=p2"),
            "value": [{"id": "1"}, {"id": "2"}]
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/users"))
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.nextLink": format!("{base}/beta/users?$top=2&$skiptoken=p3"),
            "value": [{"id": "3"}, {"id": "4"}]
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/users"))
        .and(query_param("$skiptoken", "p3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"id": "5"}]})))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn get_all_concatenates_the_items_of_every_page() {
    let server = MockServer::start().await;
    mount_three_pages(&server).await;
    let (client, _) = client_for(&server);
    let items = client
        .get_all("t", GraphVersion::Beta, "users?$top=2", &[])
        .await
        .unwrap();
    let ids: Vec<_> = items.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
}

#[tokio::test]
async fn pages_surface_the_odata_count_and_next_links() {
    let server = MockServer::start().await;
    mount_three_pages(&server).await;
    let (client, _) = client_for(&server);
    let pages: Vec<_> = client
        .pages(
            "t",
            GraphVersion::Beta,
            "users?$top=2&$count=true",
            &[("ConsistencyLevel", "eventual")],
        )
        .collect()
        .await;
    assert_eq!(pages.len(), 3);
    let first = pages[0].as_ref().unwrap();
    assert_eq!(first.count, Some(5));
    assert!(
        first
            .next_link
            .as_deref()
            .unwrap()
            .ends_with("$skiptoken=p2")
    );
    assert_eq!(pages[2].as_ref().unwrap().next_link, None);
    // Caller headers go with every page, not only the first.
    for req in server.received_requests().await.unwrap() {
        assert_eq!(req.headers.get("consistencylevel").unwrap(), "eventual");
    }
}

#[tokio::test]
async fn get_all_of_a_single_object_returns_that_object() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users/abc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "abc"})))
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let items = client
        .get_all("t", GraphVersion::V1, "users/abc", &[])
        .await
        .unwrap();
    assert_eq!(items, vec![json!({"id": "abc"})]);
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_and_never_followed() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let evil_link = format!("{}/v1.0/users?$skiptoken=steal", elsewhere.uri());
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.nextLink": evil_link,
            "value": [{"id": "1"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let err = client
        .get_all("t", GraphVersion::V1, "users", &[])
        .await
        .unwrap_err();
    match err {
        GraphError::NextLinkOffHost { link } => assert_eq!(link, evil_link),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn paging_can_resume_from_a_kept_next_link() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/beta/users"))
        .and(query_param("$skiptoken", "p3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"id": "5"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client_for(&server);
    let link = format!("{}/beta/users?$top=2&$skiptoken=p3", server.uri());
    let pages: Vec<_> = client.pages_from_link("t", &link, &[]).collect().await;
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].as_ref().unwrap().items, vec![json!({"id": "5"})]);
}
