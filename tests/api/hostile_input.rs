//! Hostile input from the outside review (issue 12): each test is one finding's class, sent over
//! real HTTP, and would fail on the code before its fix.

use crate::helpers::{TestApp, correlation_id, spawn_app};
use serde_json::{Map, Value, json};

async fn rows_for(app: &TestApp, correlation: &str) -> Vec<Value> {
    let token = app.token("superadmin").await;
    let response = app
        .get(
            "/api/ListLogs?Filter=true&Severity=Info,Warning,Error,Debug",
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let rows: Vec<Value> = response.json().await.unwrap();
    rows.into_iter()
        .filter(|r| r["LogData"]["CorrelationId"] == correlation)
        .collect()
}

#[tokio::test]
async fn a_days_ago_that_leaves_the_calendar_is_a_400_naming_the_field_not_a_panic() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    for days in [
        "99999999999999999",
        "-99999999999999999",
        "9223372036854775807",
        "12x",
    ] {
        let filter = format!("createdDateTime ge {{DaysAgo:{days}}}");
        let url = format!(
            "/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=users&$filter={}",
            urlencoding(&filter)
        );
        let response = app.get(&url, Some(&token)).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 400, "{days}: {body}");
        assert!(
            body["Results"].as_str().unwrap().contains("$filter"),
            "{days}: the answer names the field: {body}"
        );
    }
    // A sane count still works: the service is still up and answers.
    let url = format!(
        "/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=users&$filter={}",
        urlencoding("createdDateTime ge {DaysAgo:30}")
    );
    assert_eq!(app.get(&url, Some(&token)).await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_list_logs_end_date_before_its_start_is_a_400_naming_end_date() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let response = app
        .get(
            "/api/ListLogs?Filter=true&StartDate=20260110&EndDate=20260101",
            Some(&token),
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(
        body["Results"].as_str().unwrap().contains("EndDate"),
        "{body}"
    );
}

#[tokio::test]
async fn secrets_in_any_spelling_are_redacted_in_the_audit_row_and_harmless_keys_are_kept() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let readonly = app.token("readonly").await;
    let secrets = [
        "pwd",
        "userPIN",
        "passphrase",
        "api_key",
        "Authorization",
        "x-api-key",
        "clientSecret",
        "refreshToken",
    ];
    let mut body = Map::new();
    body.insert("tenantFilter".into(), json!(tenant));
    body.insert("ID".into(), json!("x"));
    for key in secrets {
        body.insert(key.into(), json!("hunter2-secret-value"));
    }
    body.insert("dataMappings".into(), json!("kept"));
    let refused = app
        .post("/api/ExecDisableUser", Some(&readonly), Value::Object(body))
        .await;
    assert_eq!(refused.status().as_u16(), 403);
    let rows = rows_for(&app, &correlation_id(&refused)).await;
    assert_eq!(rows.len(), 1);
    let row = rows[0].to_string();
    assert!(
        !row.contains("hunter2-secret-value"),
        "a secret reached the row: {row}"
    );
    let parameters = &rows[0]["LogData"]["Parameters"];
    for key in secrets {
        assert_eq!(parameters[key], "[redacted]", "{key}: {parameters}");
    }
    assert_eq!(parameters["dataMappings"], "kept");
}

#[tokio::test]
async fn a_refused_call_with_thousands_of_keys_stores_a_bounded_row_marked_as_cut() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let readonly = app.token("readonly").await;
    let mut body = Map::new();
    body.insert("tenantFilter".into(), json!(tenant));
    body.insert("ID".into(), json!("x"));
    for i in 0..5_000 {
        body.insert(format!("field{i:05}"), json!("v".repeat(400)));
    }
    let refused = app
        .post("/api/ExecDisableUser", Some(&readonly), Value::Object(body))
        .await;
    assert_eq!(refused.status().as_u16(), 403);
    let rows = rows_for(&app, &correlation_id(&refused)).await;
    assert_eq!(rows.len(), 1);
    let size = rows[0].to_string().len();
    assert!(size < 16 * 1024, "the row is {size} bytes");
    let cut = rows[0]["LogData"]["Parameters"]["[cut]"].as_str().unwrap();
    assert!(cut.contains("of 5002 parameters not recorded"), "{cut}");
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn an_id_that_would_escape_its_graph_path_is_a_400_naming_it_and_changes_no_user() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let editor = app.token("editor").await;
    let readonly = app.token("readonly").await;
    let users_before: Value = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &readonly)
        .await;
    let hostile = [
        "..",
        "../x",
        "a/b",
        "users/x",
        "a?b",
        "a#b",
        "a%2Fb",
        "x@../y",
        "..@contoso.com",
        "a/b@contoso.com",
        "a?$select=id@contoso.com",
        "",
    ];
    for name in [
        "ExecDisableUser",
        "RemoveUser",
        "ExecResetPass",
        "ExecClrImmId",
    ] {
        for id in hostile {
            let response = app
                .post(
                    &format!("/api/{name}"),
                    Some(&editor),
                    json!({"tenantFilter": tenant, "ID": id}),
                )
                .await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, 400, "{name} {id:?}: {body}");
            let text = body.to_string();
            assert!(text.contains("ID"), "{name} {id:?} names the field: {body}");
            assert!(!text.contains("Successfully"), "{name} {id:?}: {body}");
        }
    }
    let users_after: Value = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &readonly)
        .await;
    assert_eq!(users_before, users_after, "no user changed");
}

#[tokio::test]
async fn a_row_with_no_tenant_is_shown_only_to_callers_allowed_every_tenant() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.custom_roles.push(cipp_api::auth::roles::CustomRole {
            name: "custom".into(),
            include: vec!["CIPP.Core.Read".into()],
            exclude: vec![],
            allowed_tenants: vec![],
            blocked_tenants: vec![],
        });
    })
    .await;
    let editor = app.token("editor").await;
    // A write not about one tenant: its row has none.
    let response = app
        .post(
            "/api/ExecUserSettings",
            Some(&editor),
            json!({"currentSettings": {"pinNav": false}}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let correlation = correlation_id(&response);
    let rows = rows_for(&app, &correlation).await;
    assert_eq!(rows.len(), 1, "the superadmin sees it");
    let custom = app.token("custom").await;
    let scoped: Vec<Value> = app.get_json("/api/ListLogs", &custom).await;
    assert!(
        scoped
            .iter()
            .all(|r| r["LogData"]["CorrelationId"] != correlation.as_str()),
        "a tenant-scoped caller sees a row with no tenant: {scoped:?}"
    );
    let key = rows[0]["RowKey"].as_str().unwrap();
    let by_id: Vec<Value> = app
        .get_json(&format!("/api/ListLogs?logentryid={key}"), &custom)
        .await;
    assert!(by_id.is_empty(), "nor by its id: {by_id:?}");
    app.stop();
}
