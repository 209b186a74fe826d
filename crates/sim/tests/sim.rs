//! End-to-end tests: real HTTPS over loopback against a freshly started simulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use cipp_sim::{SimApp, SimConfig, SimHandle, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn api_client() -> SimApp {
    SimApp {
        client_id: "11111111-2222-3333-4444-555555555555".into(),
        client_secret: "client-secret".into(),
        display_name: "API caller".into(),
        roles: vec!["CIPP.Admin".into()],
    }
}

fn config() -> SimConfig {
    SimConfig {
        clients: vec![api_client()],
        ..SimConfig::default()
    }
}

/// A running simulator and its certificate folder, removed when the test drops it.
struct TestSim {
    handle: SimHandle,
    _cert_dir: tempfile::TempDir,
}

impl std::ops::Deref for TestSim {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

/// Starts a simulator with a temporary certificate folder of its own.
async fn sim_with(mut config: SimConfig) -> (TestSim, reqwest::Client) {
    let cert_dir = tempfile::tempdir().unwrap();
    config.cert_dir = cert_dir.path().to_owned();
    let handle = start(config).await.expect("simulator starts");
    let cert = reqwest::Certificate::from_pem(handle.ca_pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .unwrap();
    let handle = TestSim {
        handle,
        _cert_dir: cert_dir,
    };
    (handle, client)
}

async fn sim() -> (TestSim, reqwest::Client) {
    sim_with(config()).await
}

fn url(h: &SimHandle, path: &str) -> String {
    format!("{}{}", h.base_url.as_str().trim_end_matches('/'), path)
}

async fn token_response(
    h: &SimHandle,
    c: &reqwest::Client,
    tenant: &str,
    client_id: &str,
    secret: &str,
    scope: &str,
) -> reqwest::Response {
    c.post(url(h, &format!("/{tenant}/oauth2/v2.0/token")))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap()
}

async fn graph_token(h: &SimHandle, c: &reqwest::Client, tenant: &str) -> String {
    let app = SimConfig::default().partner_app;
    let resp = token_response(
        h,
        c,
        tenant,
        &app.client_id,
        &app.client_secret,
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn get(c: &reqwest::Client, url: &str, token: &str, eventual: bool) -> (StatusCode, Value) {
    let mut req = c.get(url).bearer_auth(token);
    if eventual {
        req = req.header("ConsistencyLevel", "eventual");
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Reads a token's claims without verifying it (verification is tested separately via JWKS).
fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims
}

#[tokio::test]
async fn a_client_trusting_only_the_written_ca_reaches_the_simulator_over_https() {
    let started = std::time::Instant::now();
    let (h, _) = sim().await;
    let elapsed = started.elapsed();
    eprintln!("simulator started in {elapsed:?}");
    let pem = std::fs::read(&h.ca_pem_path).unwrap();
    assert_eq!(pem, h.ca_pem.as_bytes());
    let cert = reqwest::Certificate::from_pem(&pem).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .unwrap();
    let resp = client
        .get(url(
            &h,
            &format!(
                "/{}/v2.0/.well-known/openid-configuration",
                h.partner_tenant_id
            ),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(
        doc["issuer"],
        json!(url(&h, &format!("/{}/v2.0", h.partner_tenant_id)))
    );
    // A client with only the system roots must refuse the simulator's certificate.
    let plain = reqwest::Client::builder().build().unwrap();
    assert!(plain.get(url(&h, "/_sim/tenants")).send().await.is_err());
    h.stop().await;
}

#[tokio::test]
async fn the_platform_verifier_accepts_the_ca_as_an_extra_root() {
    let (h, _) = sim().await;
    let cert = reqwest::Certificate::from_pem(h.ca_pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_merge([cert])
        .build()
        .unwrap();
    let resp = client.get(url(&h, "/_sim/tenants")).send().await;
    assert!(resp.is_ok(), "tls_certs_merge failed: {resp:?}");
    h.stop().await;
}

#[tokio::test]
async fn client_credentials_gives_a_graph_token_for_each_customer_by_id_or_domain() {
    let (h, c) = sim().await;
    assert!(h.tenants.len() >= 3);
    for t in &h.tenants {
        for key in [
            &t.customer_id,
            &t.default_domain_name,
            &t.initial_domain_name,
        ] {
            let token = graph_token(&h, &c, key).await;
            let cl = claims(&token);
            assert_eq!(cl["tid"], json!(t.customer_id));
            assert_eq!(cl["aud"], json!("https://graph.microsoft.com"));
            assert_eq!(cl["ver"], json!("1.0"));
        }
    }
    let app = SimConfig::default().partner_app;
    let resp = token_response(
        &h,
        &c,
        &h.partner_tenant_id,
        &app.client_id,
        &app.client_secret,
        "https://graph.microsoft.com/.default",
    )
    .await;
    let body: Value = resp.json().await.unwrap();
    for k in ["token_type", "expires_in", "ext_expires_in", "access_token"] {
        assert!(body.get(k).is_some(), "missing {k}");
    }
    assert!(body["expires_in"].is_number());
    h.stop().await;
}

#[tokio::test]
async fn token_errors_carry_entra_codes() {
    let (h, c) = sim().await;
    let app = SimConfig::default().partner_app;
    let graph = "https://graph.microsoft.com/.default";
    let cases = [
        (
            "nosuch.example".to_owned(),
            app.client_id.clone(),
            app.client_secret.clone(),
            graph,
            400,
            "invalid_tenant",
            90002,
        ),
        (
            h.partner_tenant_id.clone(),
            app.client_id.clone(),
            "wrong".to_owned(),
            graph,
            401,
            "invalid_client",
            7_000_215,
        ),
        (
            h.partner_tenant_id.clone(),
            "99999999-9999-9999-9999-999999999999".to_owned(),
            "x".to_owned(),
            graph,
            400,
            "unauthorized_client",
            700_016,
        ),
        (
            h.inactive_tenants[0].customer_id.clone(),
            app.client_id.clone(),
            app.client_secret.clone(),
            graph,
            400,
            "invalid_grant",
            65001,
        ),
        (
            h.partner_tenant_id.clone(),
            app.client_id.clone(),
            app.client_secret.clone(),
            "https://graph.microsoft.com/User.Read",
            400,
            "invalid_scope",
            70011,
        ),
    ];
    for (tenant, id, secret, scope, status, error, code) in cases {
        let resp = token_response(&h, &c, &tenant, &id, &secret, scope).await;
        assert_eq!(resp.status().as_u16(), status, "{error}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], json!(error));
        assert_eq!(body["error_codes"], json!([code]));
        let desc = body["error_description"].as_str().unwrap();
        assert!(desc.starts_with(&format!("AADSTS{code}:")), "{desc}");
        for k in ["trace_id", "correlation_id", "timestamp"] {
            assert!(body[k].is_string(), "missing {k}");
        }
        assert!(!body["timestamp"].as_str().unwrap().contains('T'));
    }
    h.stop().await;
}

#[tokio::test]
async fn paging_over_the_big_tenant_returns_every_user_exactly_once() {
    let (h, c) = sim().await;
    let big = &h.tenants[0];
    assert_eq!(big.user_count, 2000);
    let token = graph_token(&h, &c, &big.customer_id).await;
    for top in [None, Some(999)] {
        let mut next = Some(match top {
            Some(t) => url(&h, &format!("/v1.0/users?$top={t}&$select=id,displayName")),
            None => url(&h, "/v1.0/users"),
        });
        let mut seen = HashSet::new();
        let mut pages = 0;
        while let Some(link) = next {
            let (status, body) = get(&c, &link, &token, false).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let value = body["value"].as_array().unwrap();
            assert!(value.len() <= top.unwrap_or(100));
            for u in value {
                assert!(
                    seen.insert(u["id"].as_str().unwrap().to_owned()),
                    "duplicate user"
                );
            }
            next = body["@odata.nextLink"].as_str().map(str::to_owned);
            if let Some(n) = &next {
                assert!(n.starts_with(h.base_url.as_str().trim_end_matches('/')));
                assert!(n.contains("$skiptoken="));
            }
            pages += 1;
        }
        assert_eq!(seen.len(), 2000);
        assert_eq!(pages, 2000usize.div_ceil(top.unwrap_or(100)));
    }
    h.stop().await;
}

#[tokio::test]
async fn the_exact_cipp_list_users_request_works() {
    let (h, c) = sim().await;
    let big = &h.tenants[0];
    let token = graph_token(&h, &c, &big.default_domain_name).await;
    let mut link = Some(url(
        &h,
        "/beta/users/?$top=999&$filter=&$count=true&$expand=manager($select=id,userPrincipalName,displayName)",
    ));
    let mut total = 0;
    let mut with_manager = 0;
    let mut first = true;
    while let Some(l) = link {
        let (status, body) = get(&c, &l, &token, true).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if first {
            assert_eq!(body["@odata.count"], json!(2000));
            first = false;
        }
        for u in body["value"].as_array().unwrap() {
            total += 1;
            // Beta returns the wide default set.
            assert!(u.get("accountEnabled").is_some());
            assert!(u.get("assignedLicenses").is_some());
            if let Some(m) = u.get("manager") {
                with_manager += 1;
                let keys: HashSet<&str> =
                    m.as_object().unwrap().keys().map(String::as_str).collect();
                assert_eq!(
                    keys,
                    HashSet::from(["@odata.type", "id", "userPrincipalName", "displayName"])
                );
            }
        }
        link = body["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(total, 2000);
    assert!(with_manager > 500);
    h.stop().await;
}

#[tokio::test]
async fn a_page_size_over_999_is_refused_like_graph() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.tenants[1].customer_id).await;
    let (status, body) = get(&c, &url(&h, "/v1.0/users?$top=1000"), &token, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], json!("Request_UnsupportedQuery"));
    assert_eq!(
        body["error"]["message"],
        json!("Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.")
    );
    h.stop().await;
}

#[tokio::test]
async fn filters_select_the_right_users() {
    let (h, c) = sim().await;
    let t = &h.tenants[0];
    let token = graph_token(&h, &c, &t.customer_id).await;
    let all = {
        let (_, body) = get(
            &c,
            &url(&h, "/beta/users?$top=999&$count=true"),
            &token,
            true,
        )
        .await;
        let mut users = body["value"].as_array().unwrap().clone();
        let mut next = body["@odata.nextLink"].as_str().map(str::to_owned);
        while let Some(n) = next {
            let (_, b) = get(&c, &n, &token, true).await;
            users.extend(b["value"].as_array().unwrap().iter().cloned());
            next = b["@odata.nextLink"].as_str().map(str::to_owned);
        }
        users
    };
    let count_where = |f: &dyn Fn(&Value) -> bool| all.iter().filter(|u| f(u)).count();
    let cases: Vec<(&str, usize)> = vec![
        (
            "accountEnabled eq false",
            count_where(&|u| u["accountEnabled"] == json!(false)),
        ),
        (
            "userType eq 'Guest'",
            count_where(&|u| u["userType"] == json!("Guest")),
        ),
        (
            "startswith(displayName,'A')",
            count_where(&|u| {
                u["displayName"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .starts_with('a')
            }),
        ),
        (
            "(userType eq 'Guest' or accountEnabled eq false) and startswith(displayName,'S')",
            count_where(&|u| {
                (u["userType"] == json!("Guest") || u["accountEnabled"] == json!(false))
                    && u["displayName"]
                        .as_str()
                        .unwrap()
                        .to_lowercase()
                        .starts_with('s')
            }),
        ),
        (
            "onPremisesSyncEnabled eq true",
            count_where(&|u| u["onPremisesSyncEnabled"] == json!(true)),
        ),
        (
            "jobTitle eq null",
            count_where(&|u| u["jobTitle"].is_null()),
        ),
        (
            "assignedLicenses/any(x:x/skuId eq cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46)",
            count_where(&|u| {
                u["assignedLicenses"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["skuId"] == json!("cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"))
            }),
        ),
        (
            "userType ne 'Member'",
            count_where(&|u| u["userType"] != json!("Member")),
        ),
    ];
    for (filter, expected) in cases {
        assert!(expected > 0, "seed should produce matches for {filter}");
        let (status, body) = get(
            &c,
            &url(
                &h,
                &format!("/v1.0/users/$count?$filter={}", filter.replace(' ', "%20")),
            ),
            &token,
            true,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        assert_eq!(body, json!(expected), "{filter}");
    }
    // Advanced operators need ConsistencyLevel: eventual and $count=true.
    let (status, body) = get(
        &c,
        &url(&h, "/v1.0/users?$filter=userType%20ne%20'Member'"),
        &token,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], json!("Request_UnsupportedQuery"));
    // Broken syntax is a 400 too.
    let (status, _) = get(
        &c,
        &url(&h, "/v1.0/users?$filter=displayName%20eq"),
        &token,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(
        &c,
        &url(&h, "/v1.0/users?$filter=nosuch%20eq%20'x'"),
        &token,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.stop().await;
}

#[tokio::test]
async fn count_needs_consistency_level_eventual() {
    let (h, c) = sim().await;
    let t = &h.tenants[1];
    let token = graph_token(&h, &c, &t.customer_id).await;
    let (_, body) = get(&c, &url(&h, "/v1.0/users?$count=true"), &token, false).await;
    assert!(body.get("@odata.count").is_none());
    let (_, body) = get(&c, &url(&h, "/v1.0/users?$count=true"), &token, true).await;
    assert_eq!(body["@odata.count"], json!(t.user_count));
    let (status, body) = get(&c, &url(&h, "/v1.0/users/$count"), &token, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], json!("Request_BadRequest"));
    let (status, body) = get(&c, &url(&h, "/v1.0/users/$count"), &token, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!(t.user_count));
    h.stop().await;
}

#[tokio::test]
async fn a_patch_is_read_back_and_read_only_properties_are_refused() {
    let (h, c) = sim().await;
    let t = &h.tenants[1];
    let token = graph_token(&h, &c, &t.customer_id).await;
    let (_, list) = get(&c, &url(&h, "/v1.0/users?$filter=onPremisesSyncEnabled%20eq%20null&$select=id,userPrincipalName&$top=5"), &token, false).await;
    let user = &list["value"][1];
    let id = user["id"].as_str().unwrap();
    let upn = user["userPrincipalName"].as_str().unwrap();
    let resp = c
        .patch(url(&h, &format!("/v1.0/users/{upn}")))
        .bearer_auth(&token)
        .json(&json!({"accountEnabled": false, "jobTitle": "Chief Tester"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, body) = get(
        &c,
        &url(
            &h,
            &format!("/v1.0/users/{id}?$select=accountEnabled,jobTitle"),
        ),
        &token,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["accountEnabled"], json!(false));
    assert_eq!(body["jobTitle"], json!("Chief Tester"));
    assert!(body.get("id").is_none(), "$select does not add id");
    let stored: Value = c
        .get(url(
            &h,
            &format!("/_sim/users/{}/{id}", t.default_domain_name),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["jobTitle"], json!("Chief Tester"));
    let resp = c
        .patch(url(&h, &format!("/v1.0/users/{id}")))
        .bearer_auth(&token)
        .json(&json!({"createdDateTime": "2020-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_user_gets_graphs_not_found_body() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.tenants[1].customer_id).await;
    let missing = "00000000-0000-0000-0000-000000000001";
    let resp = c
        .get(url(&h, &format!("/v1.0/users/{missing}")))
        .bearer_auth(&token)
        .header("client-request-id", "my-correlation")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.headers()["client-request-id"], "my-correlation");
    assert!(resp.headers().contains_key("request-id"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], json!("Request_ResourceNotFound"));
    assert_eq!(
        body["error"]["message"],
        json!(format!(
            "Resource '{missing}' does not exist or one of its queried reference-property objects are not present."
        ))
    );
    let inner = &body["error"]["innerError"];
    assert_eq!(inner["client-request-id"], json!("my-correlation"));
    let date = inner["date"].as_str().unwrap();
    assert_eq!(date.len(), 19);
    assert!(!date.ends_with('Z'));
    h.stop().await;
}

#[tokio::test]
async fn graph_without_a_valid_token_is_401() {
    let (h, c) = sim().await;
    let resp = c.get(url(&h, "/v1.0/users")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], json!("InvalidAuthenticationToken"));
    let (status, _) = get(&c, &url(&h, "/v1.0/users"), "garbage", false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    h.stop().await;
}

#[tokio::test]
async fn gdap_relationships_list_the_active_customers() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.partner_tenant_id).await;
    let (status, body) = get(
        &c,
        &url(&h, "/v1.0/tenantRelationships/delegatedAdminRelationships?$filter=status%20eq%20'active'&$select=customer,autoExtendDuration,endDateTime"),
        &token,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows = body["value"].as_array().unwrap();
    assert_eq!(rows.len(), h.tenants.len());
    for (row, t) in rows.iter().zip(&h.tenants) {
        assert_eq!(row["customer"]["tenantId"], json!(t.customer_id));
        assert_eq!(row["customer"]["displayName"], json!(t.display_name));
        assert!(row["endDateTime"].is_string());
        assert!(row.get("status").is_none());
    }
    let (_, all) = get(
        &c,
        &url(&h, "/v1.0/tenantRelationships/delegatedAdminRelationships"),
        &token,
        false,
    )
    .await;
    assert_eq!(
        all["value"].as_array().unwrap().len(),
        h.tenants.len() + h.inactive_tenants.len()
    );
    h.stop().await;
}

#[tokio::test]
async fn domains_organization_and_tenant_lookup_describe_the_customer() {
    let (h, c) = sim().await;
    let t = &h.tenants[2];
    let token = graph_token(&h, &c, &t.customer_id).await;
    let (status, body) = get(&c, &url(&h, "/beta/domains?$top=999"), &token, false).await;
    assert_eq!(status, StatusCode::OK);
    let rows = body["value"].as_array().unwrap();
    let default: Vec<&Value> = rows
        .iter()
        .filter(|d| d["isDefault"] == json!(true))
        .collect();
    let initial: Vec<&Value> = rows
        .iter()
        .filter(|d| d["isInitial"] == json!(true))
        .collect();
    assert_eq!(default.len(), 1);
    assert_eq!(default[0]["id"], json!(t.default_domain_name));
    assert_eq!(initial[0]["id"], json!(t.initial_domain_name));
    assert!(rows.iter().all(|d| d["isVerified"].is_boolean()));
    let (_, org) = get(&c, &url(&h, "/v1.0/organization"), &token, false).await;
    assert_eq!(org["value"][0]["id"], json!(t.customer_id));
    let partner = graph_token(&h, &c, &h.partner_tenant_id).await;
    let (status, info) = get(
        &c,
        &url(
            &h,
            &format!(
                "/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='{}')",
                t.customer_id
            ),
        ),
        &partner,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["defaultDomainName"], json!(t.default_domain_name));
    h.stop().await;
}

#[tokio::test]
async fn a_429_fault_sends_retry_after_then_runs_out() {
    let (h, c) = sim().await;
    let t = &h.tenants[1];
    let token = graph_token(&h, &c, &t.customer_id).await;
    let resp = c
        .post(url(&h, "/_sim/faults"))
        .json(&json!({"path": "/v1.0/users", "tenant": t.default_domain_name, "status": 429, "count": 2, "retry_after": 3}))
        .send()
        .await
        .unwrap();
    let fault: Value = resp.json().await.unwrap();
    assert!(fault["id"].is_string());
    for _ in 0..2 {
        let resp = c
            .get(url(&h, "/v1.0/users"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()["retry-after"], "3");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], json!("TooManyRequests"));
    }
    let (status, _) = get(&c, &url(&h, "/v1.0/users"), &token, false).await;
    assert_eq!(status, StatusCode::OK);
    // A fault for another tenant leaves this one alone.
    c.post(url(&h, "/_sim/faults"))
        .json(&json!({"path": "/v1.0/users", "tenant": h.tenants[2].customer_id, "status": 503}))
        .send()
        .await
        .unwrap();
    let (status, _) = get(&c, &url(&h, "/v1.0/users"), &token, false).await;
    assert_eq!(status, StatusCode::OK);
    c.delete(url(&h, "/_sim/faults")).send().await.unwrap();
    // Token requests get an Entra-shaped error.
    c.post(url(&h, "/_sim/faults"))
        .json(&json!({"path": format!("/{}/oauth2/v2.0/token", t.initial_domain_name), "status": 503}))
        .send()
        .await
        .unwrap();
    let app = SimConfig::default().partner_app;
    let resp = token_response(
        &h,
        &c,
        &t.initial_domain_name,
        &app.client_id,
        &app.client_secret,
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error_codes"].is_array());
    h.stop().await;
}

async fn fault_pattern(seed: u64) -> Vec<u16> {
    let (h, c) = sim_with(SimConfig { seed, ..config() }).await;
    let token = graph_token(&h, &c, &h.tenants[1].customer_id).await;
    c.post(url(&h, "/_sim/faults"))
        .json(&json!({"path": "/v1.0/organization", "status": 503, "rate": 0.5}))
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for _ in 0..30 {
        let (status, _) = get(&c, &url(&h, "/v1.0/organization"), &token, false).await;
        out.push(status.as_u16());
    }
    h.stop().await;
    out
}

#[tokio::test]
async fn fault_rates_repeat_for_the_same_seed() {
    let a = fault_pattern(7).await;
    let b = fault_pattern(7).await;
    assert_eq!(a, b);
    assert!(a.contains(&503) && a.contains(&200));
}

#[tokio::test]
async fn stats_count_graph_and_token_requests_but_not_admin_ones() {
    let (h, c) = sim().await;
    let t = &h.tenants[1];
    c.delete(url(&h, "/_sim/stats")).send().await.unwrap();
    let token = graph_token(&h, &c, &t.default_domain_name).await;
    for _ in 0..3 {
        get(&c, &url(&h, "/v1.0/users?$top=5"), &token, false).await;
    }
    get(&c, &url(&h, "/v1.0/users/nope"), &token, false).await;
    let app = SimConfig::default().partner_app;
    token_response(
        &h,
        &c,
        "unknown.example",
        &app.client_id,
        &app.client_secret,
        "https://graph.microsoft.com/.default",
    )
    .await;
    let stats: Value = c
        .get(url(&h, "/_sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = stats["requests"].as_array().unwrap();
    let find = |path: &str, status: u16| {
        rows.iter()
            .find(|r| r["path"] == json!(path) && r["status"] == json!(status))
            .cloned()
    };
    let users = find("/v1.0/users", 200).expect("users row");
    assert_eq!(users["count"], json!(3));
    assert_eq!(users["tenant"], json!(t.customer_id));
    assert_eq!(users["method"], json!("GET"));
    assert_eq!(find("/v1.0/users/nope", 400).unwrap()["count"], json!(1));
    let tok = find(
        &format!("/{}/oauth2/v2.0/token", t.default_domain_name),
        200,
    )
    .unwrap();
    assert_eq!(tok["tenant"], json!(t.customer_id));
    let bad = find("/unknown.example/oauth2/v2.0/token", 400).unwrap();
    assert_eq!(bad["tenant"], json!("unknown.example"));
    assert_eq!(stats["total"], json!(6));
    assert!(
        rows.iter()
            .all(|r| !r["path"].as_str().unwrap().starts_with("/_sim"))
    );
    h.stop().await;
}

async fn api_token(h: &SimHandle, c: &reqwest::Client, app: &SimApp, api_app_id: &str) -> String {
    let resp = token_response(
        h,
        c,
        &h.partner_tenant_id,
        &app.client_id,
        &app.client_secret,
        &format!("api://{api_app_id}/.default"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn verify_with_jwks(
    h: &SimHandle,
    c: &reqwest::Client,
    token: &str,
    v2: bool,
    aud: &str,
    iss: &str,
) -> Value {
    let path = if v2 {
        "discovery/v2.0/keys"
    } else {
        "discovery/keys"
    };
    let jwks: jsonwebtoken::jwk::JwkSet = c
        .get(url(h, &format!("/{}/{path}", h.partner_tenant_id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks.find(&kid).expect("kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[iss]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap()
        .claims
}

#[tokio::test]
async fn api_tokens_are_v1_by_default_and_v2_when_the_api_accepts_them() {
    let api = SimConfig::default().api_app_id;
    let (h, c) = sim().await;
    let token = api_token(&h, &c, &api_client(), &api).await;
    let cl = verify_with_jwks(
        &h,
        &c,
        &token,
        false,
        &format!("api://{api}"),
        &format!("https://sts.windows.net/{}/", h.partner_tenant_id),
    )
    .await;
    assert_eq!(cl["ver"], json!("1.0"));
    assert_eq!(cl["appid"], json!(api_client().client_id));
    assert_eq!(cl["tid"], json!(h.partner_tenant_id));
    assert_eq!(cl["idtyp"], json!("app"));
    assert_eq!(cl["roles"], json!(["CIPP.Admin"]));
    assert!(cl["oid"].is_string());
    assert_eq!(
        cl["exp"].as_i64().unwrap() - cl["iat"].as_i64().unwrap(),
        3600
    );
    // API tokens are only issued in the partner tenant.
    let resp = token_response(
        &h,
        &c,
        &h.tenants[0].customer_id,
        &SimConfig::default().partner_app.client_id,
        &SimConfig::default().partner_app.client_secret,
        &format!("api://{api}/.default"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    h.stop().await;

    let (h, c) = sim_with(SimConfig {
        api_accepts_v2_tokens: true,
        ..config()
    })
    .await;
    let token = api_token(&h, &c, &api_client(), &api).await;
    let iss = format!(
        "{}/{}/v2.0",
        h.base_url.as_str().trim_end_matches('/'),
        h.partner_tenant_id
    );
    let cl = verify_with_jwks(&h, &c, &token, true, &api, &iss).await;
    assert_eq!(cl["ver"], json!("2.0"));
    assert_eq!(cl["azp"], json!(api_client().client_id));
    let doc: Value = c
        .get(url(
            &h,
            &format!(
                "/{}/v2.0/.well-known/openid-configuration",
                h.partner_tenant_domain
            ),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], json!(iss));
    h.stop().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reach_gdap_customers() {
    let (h, c) = sim().await;
    let app = SimConfig::default().partner_app;
    let rt: Value = c
        .get(url(&h, "/_sim/partner-refresh-token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = rt["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String, tenant: String| {
        let c = c.clone();
        let u = url(&h, &format!("/{tenant}/oauth2/v2.0/token"));
        let app = app.clone();
        async move {
            c.post(u)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", app.client_id.as_str()),
                    ("client_secret", app.client_secret.as_str()),
                    ("refresh_token", token.as_str()),
                    (
                        "scope",
                        "https://graph.microsoft.com/.default offline_access",
                    ),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let resp = refresh(first.clone(), h.tenants[1].default_domain_name.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["tid"], json!(h.tenants[1].customer_id));
    let (status, _) = get(&c, &url(&h, "/beta/users?$top=1"), access, false).await;
    assert_eq!(status, StatusCode::OK);
    // As Entra does for confidential clients, the used token stays valid.
    let resp = refresh(first, h.partner_tenant_id.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // An unknown token is refused.
    let resp = refresh("1.AQnot-a-token".to_owned(), h.partner_tenant_id.clone()).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], json!("invalid_grant"));
    h.stop().await;
}

#[tokio::test]
async fn added_tenants_are_listed_and_reachable() {
    let (h, c) = sim_with(SimConfig {
        big_tenant_users: 50,
        ..config()
    })
    .await;
    let resp: Value = c
        .post(url(&h, "/_sim/tenants"))
        .json(&json!({"count": 2, "users": 7}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let added = resp["tenants"].as_array().unwrap();
    assert_eq!(added.len(), 2);
    let listed: Value = c
        .get(url(&h, "/_sim/tenants"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = listed["tenants"].as_array().unwrap();
    assert_eq!(listed.len(), h.tenants.len() + h.inactive_tenants.len() + 2);
    let new = &added[0];
    assert!(listed.iter().any(|t| t["customerId"] == new["customerId"]));
    let token = graph_token(&h, &c, new["defaultDomainName"].as_str().unwrap()).await;
    let (_, body) = get(&c, &url(&h, "/v1.0/users?$count=true"), &token, true).await;
    assert_eq!(body["@odata.count"], json!(7));
    let partner = graph_token(&h, &c, &h.partner_tenant_id).await;
    let (_, rels) = get(
        &c,
        &url(
            &h,
            "/v1.0/tenantRelationships/delegatedAdminRelationships?$filter=status%20eq%20'active'",
        ),
        &partner,
        false,
    )
    .await;
    assert!(
        rels["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["customer"]["tenantId"] == new["customerId"])
    );
    h.stop().await;
}

async fn first_ids(seed: u64) -> (Vec<String>, Vec<String>) {
    let (h, c) = sim_with(SimConfig {
        seed,
        big_tenant_users: 120,
        ..config()
    })
    .await;
    let tenants: Vec<String> = h.tenants.iter().map(|t| t.customer_id.clone()).collect();
    let token = graph_token(&h, &c, &h.tenants[0].customer_id).await;
    let (_, body) = get(
        &c,
        &url(&h, "/v1.0/users?$top=50&$select=id"),
        &token,
        false,
    )
    .await;
    let users = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    h.stop().await;
    (tenants, users)
}

#[tokio::test]
async fn the_same_seed_gives_the_same_tenants_and_users() {
    let a = first_ids(99).await;
    let b = first_ids(99).await;
    let other = first_ids(100).await;
    assert_eq!(a, b);
    assert_ne!(a.0, other.0);
    assert_ne!(a.1, other.1);
}

#[tokio::test]
async fn deleted_users_move_to_deleted_items_and_can_be_restored() {
    let (h, c) = sim().await;
    let t = &h.tenants[1];
    let token = graph_token(&h, &c, &t.customer_id).await;
    let (_, list) = get(
        &c,
        &url(&h, "/v1.0/users?$top=3&$select=id,userPrincipalName"),
        &token,
        false,
    )
    .await;
    let id = list["value"][2]["id"].as_str().unwrap().to_owned();
    let upn = list["value"][2]["userPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = c
        .delete(url(&h, &format!("/v1.0/users/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, _) = get(&c, &url(&h, &format!("/v1.0/users/{id}")), &token, false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, deleted) = get(
        &c,
        &url(&h, "/v1.0/directory/deletedItems/microsoft.graph.user"),
        &token,
        false,
    )
    .await;
    let row = deleted["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(id))
        .unwrap()
        .clone();
    assert_eq!(
        row["userPrincipalName"],
        json!(format!("{}{upn}", id.replace('-', "")))
    );
    let resp = c
        .post(url(
            &h,
            &format!("/v1.0/directory/deletedItems/{id}/restore"),
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, body) = get(&c, &url(&h, &format!("/v1.0/users/{id}")), &token, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["userPrincipalName"], json!(upn));
    let resp = c
        .post(url(&h, &format!("/v1.0/users/{id}/revokeSignInSessions")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["value"], json!(true));
    h.stop().await;
}

#[tokio::test]
async fn guests_are_found_by_their_escaped_ext_upn_and_managers_resolve() {
    let (h, c) = sim().await;
    let token = graph_token(&h, &c, &h.tenants[0].customer_id).await;
    let (_, guests) = get(
        &c,
        &url(
            &h,
            "/v1.0/users?$filter=userType%20eq%20'Guest'&$select=id,userPrincipalName",
        ),
        &token,
        false,
    )
    .await;
    let upn = guests["value"][0]["userPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(upn.contains("#EXT#"));
    let (status, body) = get(
        &c,
        &url(&h, &format!("/v1.0/users/{}", upn.replace('#', "%23"))),
        &token,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["@odata.context"],
        json!(url(&h, "/v1.0/$metadata#users/$entity"))
    );
    let (_, managed) = get(
        &c,
        &url(
            &h,
            "/beta/users?$top=50&$expand=manager($select=id,displayName)&$select=id,displayName",
        ),
        &token,
        false,
    )
    .await;
    let user = managed["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u.get("manager").is_some())
        .unwrap();
    let id = user["id"].as_str().unwrap();
    let (status, manager) = get(
        &c,
        &url(&h, &format!("/v1.0/users/{id}/manager")),
        &token,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(manager["id"], user["manager"]["id"]);
    assert_eq!(manager["@odata.type"], json!("#microsoft.graph.user"));
    let (status, body) = get(&c, &url(&h, "/v1.0/users/not-an-id"), &token, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        json!("Invalid object identifier 'not-an-id'.")
    );
    h.stop().await;
}
