//! Exchange Online InvokeCommand: body and headers, anchor rules, paging, error texts, retries.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use cipp_graph::{AccessToken, EXCHANGE_SCOPE, GraphClient, GraphError, TokenProvider};
use serde_json::json;
use url::Url;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::settings;

const SYSTEM_ANCHOR: &str =
    "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@22222222-0000-0000-0000-000000000001";
const TENANT: &str = "22222222-0000-0000-0000-000000000001";
const INVOKE: &str = "/adminapi/beta/22222222-0000-0000-0000-000000000001/InvokeCommand";

/// Tokens named after their scope, remembering which scopes were asked for.
#[derive(Default)]
struct ScopeTokens {
    scopes: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl TokenProvider for ScopeTokens {
    async fn token(&self, _tenant: &str, scope: &str) -> Result<AccessToken, GraphError> {
        self.scopes.lock().unwrap().push(scope.to_owned());
        let name = if scope == EXCHANGE_SCOPE {
            "exo-token"
        } else {
            "graph-token"
        };
        Ok(AccessToken::new(
            name,
            SystemTime::now() + std::time::Duration::from_secs(3600),
        ))
    }
}

/// Graph and Exchange both served by `server`.
fn exchange_client(server: &MockServer) -> (GraphClient, Arc<ScopeTokens>) {
    let tokens = Arc::new(ScopeTokens::default());
    let client = GraphClient::builder(settings(&server.uri()))
        .app_token_provider(tokens.clone())
        .exchange_base_url(Url::parse(&server.uri()).unwrap())
        .build()
        .unwrap();
    (client, tokens)
}

#[tokio::test]
async fn a_cmdlet_is_posted_with_an_exchange_token_and_the_system_mailbox_anchor() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(INVOKE))
        .and(header("authorization", "Bearer exo-token"))
        .and(header("x-anchormailbox", SYSTEM_ANCHOR))
        .and(header("prefer", "odata.maxpagesize=1000"))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(body_json(json!({"CmdletInput": {
            "CmdletName": "Get-Mailbox",
            "Parameters": {"Identity": "adele@contoso.com"}
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "x",
            "adminapi.warnings@odata.type": "#Collection(String)",
            "@adminapi.warnings": [],
            "value": [{"UserPrincipalName": "adele@contoso.com"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, tokens) = exchange_client(&server);
    let out = client
        .exchange(
            TENANT,
            "Get-Mailbox",
            json!({"Identity": "adele@contoso.com"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(out, vec![json!({"UserPrincipalName": "adele@contoso.com"})]);
    assert_eq!(
        *tokens.scopes.lock().unwrap(),
        vec![EXCHANGE_SCOPE.to_owned()]
    );
}

#[tokio::test]
async fn set_admin_audit_log_config_uses_its_own_system_mailbox() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header(
            "x-anchormailbox",
            format!("APP:SystemMailbox{{8cc370d3-822a-4ab8-a926-bb94bd0641a9}}@{TENANT}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    client
        .exchange(
            TENANT,
            "Set-AdminAuditLogConfig",
            json!({"UnifiedAuditLogIngestionEnabled": true}),
            None,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_explicit_upn_anchor_is_sent_as_given() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-anchormailbox", "adele@contoso.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    client
        .exchange(
            TENANT,
            "Get-InboxRule",
            json!({"Mailbox": "adele@contoso.com"}),
            Some("adele@contoso.com"),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_guid_anchor_is_resolved_to_the_users_upn_through_graph() {
    let server = MockServer::start().await;
    let guid = "5a6e0f2c-1b2d-4c3e-9f00-000000000042";
    Mock::given(method("GET"))
        .and(path(format!("/beta/users/{guid}")))
        .and(query_param("$select", "UserPrincipalName,id"))
        .and(header("authorization", "Bearer graph-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": guid, "userPrincipalName": "megan@contoso.com"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(INVOKE))
        .and(header("x-anchormailbox", "megan@contoso.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"ok": 1}]})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    let out = client
        .exchange(
            TENANT,
            "Get-MailboxPermission",
            json!({"Identity": guid}),
            Some(guid),
        )
        .await
        .unwrap();
    assert_eq!(out.len(), 1);
}

#[tokio::test]
async fn a_guid_anchor_graph_does_not_know_is_sent_as_the_guid() {
    let server = MockServer::start().await;
    let guid = "5a6e0f2c-1b2d-4c3e-9f00-000000000043";
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": "Request_ResourceNotFound", "message": "Resource does not exist."
        }})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header("x-anchormailbox", guid))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    client
        .exchange(TENANT, "Get-Mailbox", json!({}), Some(guid))
        .await
        .unwrap();
}

#[tokio::test]
async fn pages_are_followed_by_re_posting_the_same_body_to_the_next_link() {
    let server = MockServer::start().await;
    let body = json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"ResultSize": "Unlimited"}}});
    Mock::given(method("POST"))
        .and(path(INVOKE))
        .and(query_param("$skiptoken", "p2"))
        .and(body_json(body.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"n": 3}], "@adminapi.warnings": ["second page warning"]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(INVOKE))
        .and(body_json(body))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"n": 1}, {"n": 2}],
            "@odata.nextLink": format!("{}{INVOKE}?$skiptoken=p2", server.uri())
        })))
        .with_priority(10)
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    let out = client
        .exchange_output(
            TENANT,
            "Get-Mailbox",
            json!({"ResultSize": "Unlimited"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        out.value,
        vec![json!({"n": 1}), json!({"n": 2}), json!({"n": 3})]
    );
    assert_eq!(out.warnings, vec!["second page warning".to_owned()]);
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [], "@odata.nextLink": "https://evil.example/adminapi/beta/t/InvokeCommand?$skiptoken=x"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    let err = client
        .exchange(TENANT, "Get-Mailbox", json!({}), None)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::NextLinkOffHost { .. }), "{err:?}");
}

#[tokio::test]
async fn only_warnings_stand_in_for_a_missing_value() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@adminapi.warnings": ["The command completed successfully but no settings of 'adele' have been modified."]
        })))
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    let out = client
        .exchange(TENANT, "Set-Mailbox", json!({"Identity": "adele"}), None)
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![json!(
            "The command completed successfully but no settings of 'adele' have been modified."
        )]
    );
}

#[tokio::test]
async fn cmdlet_failures_surface_exchanges_detail_message() {
    let server = MockServer::start().await;
    let detail = "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on 'AM6PR06A001DC06.EURPR06A001.prod.outlook.com'.";
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": "NotFound",
            "message": "Error executing cmdlet",
            "details": [{"code": "Context", "target": "", "message": detail}],
            "innererror": {"message": "x", "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                           "internalexception": {"message": "internal", "type": "y"}}
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    let err = client
        .exchange(
            TENANT,
            "Get-Mailbox",
            json!({"Identity": "nobody@contoso.com"}),
            None,
        )
        .await
        .unwrap_err();
    match &err {
        GraphError::Exchange {
            status,
            message,
            raw_body,
        } => {
            assert_eq!(*status, 404);
            assert_eq!(message, detail);
            assert!(raw_body.contains("Error executing cmdlet"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.service_message(), detail);
}

#[tokio::test]
async fn without_details_the_inner_exception_message_is_used() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "code": "BadRequest", "message": "Error executing cmdlet",
            "innererror": {"internalexception": {"message": "A parameter cannot be found that matches parameter name 'Bogus'."}}
        }})))
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    let err = client
        .exchange(TENANT, "Set-Mailbox", json!({"Bogus": 1}), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.service_message(),
        "A parameter cannot be found that matches parameter name 'Bogus'."
    );
}

#[tokio::test]
async fn a_throttled_exchange_call_is_retried_after_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0.1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"ok": true}]})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = exchange_client(&server);
    let out = client
        .exchange(TENANT, "Get-Mailbox", json!({}), None)
        .await
        .unwrap();
    assert_eq!(out, vec![json!({"ok": true})]);
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        reqs[0].headers.get("client-request-id"),
        reqs[1].headers.get("client-request-id")
    );
}
