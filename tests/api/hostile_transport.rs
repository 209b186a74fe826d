//! Hostile transport and proxy inputs over real HTTP: oversized and slow requests, cross-site
//! requests in Static Web Apps mode, the Graph proxy guard, retries of writes, token modes.

use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, results, spawn_app, spawn_app_with};

/// Sends raw bytes, then reads the whole answer (the server closes after a refusal).
async fn raw_exchange(app: &TestApp, head: &str, body: &[u8], pause: Duration) -> String {
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    tokio::time::sleep(pause).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The JSON body of a raw HTTP/1.1 answer (not chunked: actix sends a length for JSON).
fn answer_body(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

#[tokio::test]
async fn a_70_kb_header_is_a_431_envelope_naming_the_limit() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let response = app
        .http
        .get(format!("{}/api/ListUsers?tenantFilter=x", app.address))
        .bearer_auth(&token)
        .header("X-Padding", "a".repeat(70 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 431);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "headers_too_large");
    assert!(results(&body).contains("32768"), "{body}");
    // A normal head still passes.
    let ok = app
        .get(
            &format!(
                "/api/ListUsers?tenantFilter={}",
                app.tenant(1).default_domain_name
            ),
            Some(&token),
        )
        .await;
    assert_eq!(ok.status().as_u16(), 200);
    app.stop();
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_envelope_naming_the_limit() {
    let app = spawn_app().await;
    let head = "POST /api/ExecDisableUser HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 7340032\r\n\r\n";
    let answer = raw_exchange(&app, head, b"{", Duration::ZERO).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body = answer_body(&answer);
    assert_eq!(body["code"], "payload_too_large");
    assert!(results(&body).contains("6291456"), "{body}");
    // Sent in chunks without a declared length, it is cut at the limit too.
    let token = app.token("editor").await;
    let chunks =
        futures::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024 * 1024])));
    let response = app
        .http
        .post(format!("{}/api/ExecDisableUser", app.address))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status().as_u16(), 413);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "payload_too_large");
    }
    app.stop();
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_a_408_envelope_within_the_timeout() {
    let app = spawn_app_with(|s| s.request_body_timeout = Duration::from_secs(1)).await;
    let head = "POST /api/ExecDisableUser HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    let started = Instant::now();
    let answer = raw_exchange(&app, head, b"{\"ID\":", Duration::ZERO).await;
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // 1 s for the body, then the server closes the connection after its answer.
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    let body = answer_body(&answer);
    assert_eq!(body["code"], "request_timeout");
    assert!(results(&body).contains("1 seconds"), "{body}");
    app.stop();
}

const CIPP_ORIGIN: &str = "https://cipp.example.com";

fn principal(roles: &[&str]) -> String {
    let body = json!({"identityProvider": "aad", "userId": "u-1", "userDetails": "ada@partner.example", "userRoles": roles});
    base64::engine::general_purpose::STANDARD.encode(body.to_string())
}

#[tokio::test]
async fn a_cross_site_text_plain_post_in_static_web_apps_mode_does_not_disable_a_user() {
    let app = spawn_app_with(|s| {
        s.static_web_apps = true;
        s.static_web_apps_origin = Some(CIPP_ORIGIN.into());
    })
    .await;
    let tenant = app.tenant(1).clone();
    let editor = app.token("editor").await;
    let users: Vec<Value> = app
        .get(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            Some(&editor),
        )
        .await
        .json()
        .await
        .unwrap();
    let user = users
        .iter()
        .find(|u| u["accountEnabled"] == true && u["onPremisesSyncEnabled"] != true)
        .unwrap();
    let id = user["id"].as_str().unwrap();
    let body = json!({"tenantFilter": tenant.default_domain_name, "ID": id}).to_string();
    let send = |origin: Option<&'static str>, version: bool, method: Method| {
        let app = &app;
        let body = body.clone();
        async move {
            let mut request = app
                .http
                .request(method, format!("{}/api/ExecDisableUser", app.address))
                .header(
                    "x-ms-client-principal",
                    principal(&["authenticated", "editor"]),
                )
                .header("Content-Type", "text/plain")
                .body(body);
            if let Some(origin) = origin {
                request = request.header("Origin", origin);
            }
            if version {
                request = request.header("X-CIPP-Version", "8.0.0");
            }
            request.send().await.unwrap()
        }
    };
    // What a cross-site form can send: no custom header, its own origin (or none).
    for (origin, version, method) in [
        (Some("https://evil.example"), false, Method::POST),
        (None, false, Method::POST),
        (None, false, Method::GET),
        (Some("https://evil.example"), true, Method::POST),
        (Some("null"), true, Method::POST),
        (
            Some("https://cipp.example.com.evil.example"),
            true,
            Method::POST,
        ),
    ] {
        let response = send(origin, version, method.clone()).await;
        assert_eq!(
            response.status().as_u16(),
            403,
            "{origin:?} {version} {method}"
        );
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["code"], "cross_site_request");
    }
    assert_eq!(
        app.sim_user(&tenant.customer_id, id).await["accountEnabled"],
        true,
        "no refused request disabled the user"
    );
    // The CIPP frontend itself: its header and its origin.
    let response = send(Some("https://CIPP.example.com/"), true, Method::POST).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        app.sim_user(&tenant.customer_id, id).await["accountEnabled"],
        false
    );
    // Bearer callers are unaffected: no header, any content type.
    let response = app
        .http
        .post(format!("{}/api/ExecDisableUser", app.address))
        .bearer_auth(&editor)
        .header("Content-Type", "text/plain")
        .body(
            json!({"tenantFilter": tenant.default_domain_name, "ID": id, "Enable": true})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    app.stop();
}

/// Customer-content and activity paths, each in several spellings.
fn hostile_endpoints() -> Vec<String> {
    let content = [
        "users/{id}/messages",
        "users/{id}/mailFolders/inbox/messages",
        "users/{id}/messages/1/attachments",
        "users/{id}/events",
        "users/{id}/calendar/events",
        "users/{id}/calendarView",
        "users/{id}/reminderView(StartDateTime='2024-01-01',EndDateTime='2024-12-31')",
        "users/{id}/drive/root/children",
        "users/{id}/drive",
        "drives/b!x/items/01/content",
        "users/{id}/insights/trending",
        "users/{id}/insights/used",
        "users/{id}/insights/shared",
        "users/{id}/activities",
        "users/{id}/presence",
        "communications/presences",
        "communications/calls",
        "communications/callRecords",
        "communications/onlineMeetings",
        "users/{id}/onlineMeetings",
        "planner/plans",
        "groups/{id}/planner/plans",
        "users/{id}/planner/tasks",
        "users/{id}/todo/lists",
        "users/{id}/chats",
        "chats/19:x/messages",
        "teams/{id}/channels/1/messages",
        "users/{id}/onenote/notebooks",
        "users/{id}/onenote/pages",
        "users/{id}/contacts",
        "users/{id}/people",
        "groups/{id}/threads",
        "groups/{id}/conversations",
        "sites/root/lists",
        "users/{id}/outlook/tasks",
        "users/{id}/analytics/activityStatistics",
        "security/cases/ediscoveryCases",
        "users/{id}/photo/$value",
        "me",
        "me/messages",
    ];
    let id = "5d3c6f7e-1111-2222-3333-444455556666";
    let mut all = Vec::new();
    for path in content {
        let path = path.replace("{id}", id);
        all.push(path.clone());
        all.push(path.to_uppercase());
        all.push(path.replace('/', "%2F"));
        all.push(path.replace('/', "%252F"));
    }
    for escape in [
        "https://evil.example/users",
        "//evil.example/users",
        "../v1.0/users",
        "users/../../x",
        "users\\..\\x",
        "%2e%2e/users",
        "users%00",
        "users\u{200b}/x",
        "users?$expand=messages",
        "users#x",
    ] {
        all.push(escape.to_owned());
    }
    all
}

/// `$expand` values that reach content through a directory object, nested and in any case.
fn hostile_expands() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for key in ["$expand", "$EXPAND", "$Expand", "expand"] {
        for value in [
            "messages",
            "drive",
            "manager($expand=messages)",
            "manager($select=id;$expand=directReports($expand=calendar))",
            "manager($EXPAND=insights)",
            "manager(expand=presence)",
            "*",
            "manager($expand=manager($expand=manager($expand=manager($expand=manager($expand=manager($expand=manager))))))",
        ] {
            all.push((key.to_owned(), value.to_owned()));
        }
    }
    all
}

#[tokio::test]
async fn the_proxy_guard_refuses_every_hostile_input_before_the_simulator_sees_it() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    // Warm the tenant directory and token caches, so only the guarded calls could reach it.
    let warm = app
        .get(
            &format!("/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=users&$top=1"),
            Some(&token),
        )
        .await;
    assert_eq!(warm.status().as_u16(), 200);
    let mut queries: Vec<Vec<(String, String)>> = Vec::new();
    for endpoint in hostile_endpoints() {
        queries.push(vec![("Endpoint".into(), endpoint)]);
    }
    for (key, value) in hostile_expands() {
        queries.push(vec![("Endpoint".into(), "users".into()), (key, value)]);
    }
    let graph = app.sim.as_str().trim_end_matches('/').to_owned();
    for link in [
        "v1.0/users?$EXPAND=messages",
        "v1.0/users?%24Expand=drive",
        "v1.0/users?$expand=manager($expand=messages)",
        "v1.0/users/x/MESSAGES",
        "v1.0/users/x/insights/trending?$skiptoken=a",
        "beta/communications/callRecords",
        "beta/users/x/reminderView(StartDateTime='a',EndDateTime='b')",
        "v1.0/users%2Fx%2Fevents",
        "v1.0/users?$expand=manager(%24expand%3Dpresence)",
        "v1.0/planner/plans",
    ] {
        queries.push(vec![
            ("Endpoint".into(), "users".into()),
            ("manualPagination".into(), "true".into()),
            ("nextLink".into(), format!("{graph}/{link}")),
        ]);
    }
    assert!(queries.len() >= 150, "{} hostile inputs", queries.len());
    // The warm-up's own paging may still be arriving: wait until the simulator is quiet.
    for _ in 0..40 {
        app.reset_sim_stats().await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        if app.sim_stats().await["total"] == 0 {
            break;
        }
    }
    let mut reached = Vec::new();
    for query in &queries {
        app.reset_sim_stats().await;
        let mut full = vec![("tenantFilter".to_owned(), tenant.clone())];
        full.extend(query.iter().cloned());
        let response = app
            .http
            .get(format!("{}/api/ListGraphRequest", app.address))
            .query(&full)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{query:?} answered {status}");
        let stats = app.sim_stats().await;
        if stats["total"] != 0 {
            reached.push(format!("{query:?}: {stats}"));
        }
    }
    eprintln!(
        "{} hostile inputs, {} reached the simulator",
        queries.len(),
        reached.len()
    );
    assert!(reached.is_empty(), "reached the simulator: {reached:#?}");
    app.stop();
}

#[tokio::test]
async fn thirty_reads_the_cipp_frontend_sends_are_still_answered() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let table_select = "id,accountEnabled,businessPhones,city,createdDateTime,companyName,country,department,displayName,faxNumber,givenName,isResourceAccount,jobTitle,mail,mailNickname,mobilePhone,officeLocation,otherMails,postalCode,preferredDataLocation,preferredLanguage,proxyAddresses,showInAddressList,state,streetAddress,surname,usageLocation,userPrincipalName,userType,assignedLicenses,licenseAssignmentStates,onPremisesSyncEnabled,OnPremisesImmutableId,onPremisesLastSyncDateTime,onPremisesDistinguishedName";
    // frontend-contract.md §2.1, §3 pickers, user switcher, permissions and settings forms,
    // TAP dialog, Conditional Access tab — each for three tenants.
    let reads: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("Endpoint", "users"),
            ("manualPagination", "true"),
            ("$count", "true"),
            ("$orderby", "displayName"),
            ("$top", "999"),
            ("$select", table_select),
        ],
        vec![
            ("Endpoint", "users"),
            ("manualPagination", "true"),
            ("$count", "true"),
            ("$orderby", "displayName"),
            ("$top", "999"),
            ("$select", "id,displayName,userPrincipalName"),
        ],
        vec![
            ("Endpoint", "domains"),
            ("manualPagination", "true"),
            ("$count", "true"),
            ("$top", "99"),
        ],
        vec![
            ("Endpoint", "users"),
            ("$select", "id,displayName,userPrincipalName"),
            ("$count", "true"),
            ("$orderby", "displayName"),
            ("$top", "999"),
        ],
        vec![
            ("Endpoint", "users"),
            ("$select", "id,displayName,userPrincipalName,mail"),
            ("$top", "999"),
        ],
        vec![
            ("Endpoint", "groups"),
            ("$filter", "securityEnabled eq true and mailEnabled eq true"),
            ("$select", "id,displayName,mail,description"),
            ("$top", "999"),
        ],
        vec![
            ("Endpoint", "users"),
            ("manualPagination", "true"),
            ("$select", "id,displayName,userPrincipalName"),
            ("$top", "999"),
        ],
        vec![
            ("Endpoint", "users"),
            ("manualPagination", "true"),
            ("$count", "true"),
            ("$orderby", "displayName"),
            ("$top", "999"),
            ("$select", "id,displayName,userPrincipalName,mail"),
        ],
        vec![("Endpoint", "domains"), ("$top", "99")],
        vec![("Endpoint", "subscribedSkus"), ("$count", "true")],
        vec![
            ("Endpoint", "users"),
            ("$expand", "manager($select=id,displayName)"),
            ("$select", "id,displayName"),
            ("$top", "999"),
        ],
    ];
    let mut answered = 0;
    for index in 0..3 {
        let tenant = app.tenant(index).default_domain_name.clone();
        for read in &reads {
            let mut query: Vec<(&str, &str)> = vec![("tenantFilter", tenant.as_str())];
            query.extend(read.iter().copied());
            let response = app
                .http
                .get(format!("{}/api/ListGraphRequest", app.address))
                .query(&query)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, 200, "{query:?}: {body}");
            assert!(body["Results"].is_array(), "{query:?}: {body}");
            answered += 1;
            // The users table follows Metadata.nextLink: that page is answered too.
            if let Some(link) = body["Metadata"]["nextLink"].as_str() {
                let mut next = query.clone();
                next.push(("nextLink", link));
                let page = app
                    .http
                    .get(format!("{}/api/ListGraphRequest", app.address))
                    .query(&next)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(page.status().as_u16(), 200, "nextLink {link}");
                answered += 1;
            }
        }
    }
    assert!(answered >= 30, "{answered} reads");
    app.stop();
}

#[tokio::test]
async fn a_write_answered_504_by_graph_is_sent_once_and_a_read_is_retried() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let editor = app.token("editor").await;
    let users: Vec<Value> = app
        .get(
            &format!("/api/ListUsers?tenantFilter={}", tenant.default_domain_name),
            Some(&editor),
        )
        .await
        .json()
        .await
        .unwrap();
    let user = users
        .iter()
        .find(|u| u["accountEnabled"] == true && u["onPremisesSyncEnabled"] != true)
        .unwrap();
    let id = user["id"].as_str().unwrap().to_owned();
    app.add_fault(
        json!({"path": format!("/v1.0/users/{id}"), "method": "PATCH", "status": 504, "count": 1}),
    )
    .await;
    app.reset_sim_stats().await;
    let response = app
        .post(
            "/api/ExecDisableUser",
            Some(&editor),
            json!({"tenantFilter": tenant.default_domain_name, "ID": id}),
        )
        .await;
    assert!(response.status().as_u16() >= 400, "the 504 is reported");
    let stats = app.sim_stats().await;
    let patches: u64 = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "PATCH")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(patches, 1, "the PATCH was sent once: {stats}");
    // A read answered 504 once is retried and answered.
    app.add_fault(json!({"path": "/v1.0/users", "method": "GET", "status": 504, "count": 1}))
        .await;
    let read = app
        .get(
            &format!(
                "/api/ListGraphRequest?tenantFilter={}&Endpoint=users&$top=5",
                tenant.default_domain_name
            ),
            Some(&editor),
        )
        .await;
    assert_eq!(read.status().as_u16(), 200);
    app.stop();
}

#[tokio::test]
async fn a_client_call_in_the_wrong_token_mode_is_refused_by_the_simulator() {
    let mut settings = cipp_api::settings::Settings::demo_for_tests().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    settings.data_dir = data_dir.path().to_owned();
    let application = cipp_api::Application::build(settings).await.unwrap();
    let tenant = application.demo().unwrap().simulator.tenants[1]
        .customer_id
        .clone();
    let graph = application.state().graph.clone();
    assert_eq!(graph.token_mode(), cipp_graph::TokenMode::Partner);
    let users = graph
        .get(
            &tenant,
            cipp_graph::GraphVersion::V1,
            "users?$top=1&$select=id",
            &[],
        )
        .await
        .unwrap();
    let id = users["value"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({"isCloudManaged": true});
    let path = format!("users/{id}/onPremisesSyncBehavior");
    // Delegated (GDAP) on an app-only route: refused, as Graph refuses it.
    let refused = graph
        .send(
            &tenant,
            Method::PATCH,
            cipp_graph::GraphVersion::Beta,
            &path,
            Some(&body),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(403), "{refused:?}");
    let refused = graph
        .send(
            &tenant,
            Method::POST,
            cipp_graph::GraphVersion::Beta,
            &format!("users/{id}/reprocessLicenseAssignment"),
            Some(&json!({})),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(403), "{refused:?}");
    // The same call app-only, as CIPP makes it: accepted.
    graph
        .app_only()
        .send(
            &tenant,
            Method::PATCH,
            cipp_graph::GraphVersion::Beta,
            &path,
            Some(&body),
            &[],
        )
        .await
        .unwrap();
    // App-only on a delegated-only route: refused.
    let refused = graph
        .app_only()
        .get(&tenant, cipp_graph::GraphVersion::V1, "me", &[])
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(400), "{refused:?}");
    drop(application);
}
