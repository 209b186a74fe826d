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

/// A custom role that adds reading the logs to the demo's `custom` caller, who is limited to the
/// first demo tenant.
fn scoped_log_reader(settings: &mut cipp_api::settings::Settings) {
    settings
        .custom_roles
        .push(cipp_api::auth::roles::CustomRole {
            name: "custom".into(),
            include: vec!["CIPP.Core.Read".into()],
            exclude: vec![],
            allowed_tenants: vec![],
            blocked_tenants: vec![],
        });
}

async fn first_user_id(app: &TestApp, tenant: &str, token: &str) -> String {
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), token)
        .await;
    users[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_write_across_two_tenants_leaves_one_row_per_tenant_with_its_own_items_only() {
    let app = crate::helpers::spawn_app_with(scoped_log_reader).await;
    let editor = app.token("editor").await;
    let first = app.tenant(0).clone();
    let second = app.tenant(1).clone();
    let first_user = first_user_id(&app, &first.default_domain_name, &editor).await;
    let second_user = first_user_id(&app, &second.default_domain_name, &editor).await;
    let response = app
        .post(
            "/api/PatchUser",
            Some(&editor),
            json!([
                {"id": first_user, "tenantFilter": first.default_domain_name, "jobTitle": "Buyer"},
                {"id": second_user, "tenantFilter": second.customer_id, "jobTitle": "Seller"},
            ]),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let correlation = correlation_id(&response);
    let mut rows = rows_for(&app, &correlation).await;
    rows.sort_by_key(|r| r["LogData"]["Parameters"][0]["jobTitle"].to_string());
    assert_eq!(rows.len(), 2, "one row per tenant: {rows:?}");
    for (row, tenant, user, title) in [
        (&rows[0], &first, &first_user, "Buyer"),
        (&rows[1], &second, &second_user, "Seller"),
    ] {
        assert_eq!(row["Tenant"], tenant.default_domain_name.as_str());
        assert_eq!(row["TenantID"], tenant.customer_id.as_str());
        let parameters = row["LogData"]["Parameters"].as_array().unwrap();
        assert_eq!(parameters.len(), 1, "only this tenant's item: {row}");
        assert_eq!(parameters[0]["id"], user.as_str());
        assert_eq!(
            parameters[0]["jobTitle"], title,
            "not an empty object: {row}"
        );
    }
    // The caller limited to the first tenant reads that tenant's row and nothing of the other.
    let custom = app.token("custom").await;
    let scoped: Vec<Value> = app
        .get_json(
            "/api/ListLogs?Filter=true&Severity=Info,Warning,Error,Debug",
            &custom,
        )
        .await;
    let seen: Vec<&Value> = scoped
        .iter()
        .filter(|r| r["LogData"]["CorrelationId"] == correlation.as_str())
        .collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["Tenant"], first.default_domain_name.as_str());
    assert!(!seen[0].to_string().contains("Seller"));
    app.stop();
}

#[tokio::test]
async fn a_bulk_licence_row_stores_the_items_sent_not_an_empty_object() {
    let app = spawn_app().await;
    let editor = app.token("editor").await;
    let tenant = app.tenant(1).clone();
    let user = first_user_id(&app, &tenant.default_domain_name, &editor).await;
    let sku = "00000000-0000-4000-8000-0000000000ee";
    let response = app
        .post(
            "/api/ExecBulkLicense",
            Some(&editor),
            json!([{"tenantFilter": tenant.default_domain_name, "userIds": user,
                "LicenseOperation": "Remove", "LicensesToRemove": [{"label": "X", "value": sku}]}]),
        )
        .await;
    assert!(response.status().as_u16() < 500);
    let rows = rows_for(&app, &correlation_id(&response)).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["Tenant"], tenant.default_domain_name.as_str());
    let item = &rows[0]["LogData"]["Parameters"][0];
    assert_eq!(item["userIds"], user.as_str(), "{}", rows[0]);
    assert_eq!(item["LicensesToRemove"][0]["value"], sku);
    app.stop();
}

#[tokio::test]
async fn a_refused_call_with_a_huge_tenant_and_id_stores_them_cut_to_a_bounded_length() {
    let app = spawn_app().await;
    let readonly = app.token("readonly").await;
    let huge = "x".repeat(200_000);
    let response = app
        .post(
            "/api/ExecDisableUser",
            Some(&readonly),
            json!({"tenantFilter": huge, "ID": huge}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    let rows = rows_for(&app, &correlation_id(&response)).await;
    assert_eq!(rows.len(), 1);
    let row = rows[0].to_string();
    assert!(row.len() < 20 * 1024, "a bounded row: {} bytes", row.len());
    assert!(rows[0]["Tenant"].as_str().unwrap().ends_with("[cut]"));
    assert!(
        rows[0]["LogData"]["Target"]
            .as_str()
            .unwrap()
            .ends_with("[cut]")
    );
    app.stop();
}

#[tokio::test]
async fn a_list_logs_answer_stops_at_the_configured_row_count_with_a_row_saying_so() {
    let app = crate::helpers::spawn_app_with(|s| s.list_logs_max_rows = 3).await;
    let editor = app.token("editor").await;
    for pin in [true, false, true, false, true] {
        let response = app
            .post(
                "/api/ExecUserSettings",
                Some(&editor),
                json!({"currentSettings": {"pinNav": pin}}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
    }
    let superadmin = app.token("superadmin").await;
    let rows: Vec<Value> = app
        .get_json("/api/ListLogs?Filter=true&Severity=Info", &superadmin)
        .await;
    assert_eq!(rows.len(), 4, "three rows and the cut row: {rows:?}");
    assert_eq!(rows[3]["LogData"]["Result"], "Cut");
    assert!(
        rows[3]["Message"]
            .as_str()
            .unwrap()
            .contains("cut at 3 rows")
    );
    app.stop();
}

#[tokio::test]
async fn graphs_client_errors_are_our_400_and_404_with_graphs_message_not_a_500() {
    let app = spawn_app().await;
    let editor = app.token("editor").await;
    let tenant = app.tenant(1).clone();
    let user = first_user_id(&app, &tenant.default_domain_name, &editor).await;
    // A filter Graph cannot parse, sent through the Graph proxy.
    let url = format!(
        "/api/ListGraphRequest?tenantFilter={}&Endpoint=users&$filter={}",
        tenant.default_domain_name,
        urlencoding("startswith(displayName,")
    );
    let response = app.get(&url, Some(&editor)).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("Invalid filter clause"), "{body}");
    // A write Graph refuses (400) or cannot find (404).
    for (graph_status, ours, text) in [
        (400, 400, "Bad request."),
        (404, 404, "Resource does not exist"),
    ] {
        app.add_fault(
            json!({"path": format!("/v1.0/users/{user}"), "method": "PATCH",
            "status": graph_status, "count": 1}),
        )
        .await;
        let response = app
            .post(
                "/api/ExecDisableUser",
                Some(&editor),
                json!({"tenantFilter": tenant.default_domain_name, "ID": user}),
            )
            .await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, ours, "Graph {graph_status}: {body}");
        assert!(body["Results"].to_string().contains(text), "{body}");
    }
    app.stop();
}

#[tokio::test]
async fn a_secret_of_the_wrong_type_is_a_400_naming_the_field_without_echoing_the_value() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let editor = app.token("editor").await;
    for value in [
        json!(["hunter2-secret-value"]),
        json!({"value": {"x": "hunter2-secret-value"}}),
        json!(424242424242_u64),
    ] {
        let response = app
            .post(
                "/api/AddUser",
                Some(&editor),
                json!({"tenantFilter": tenant, "displayName": "Ada Byron", "givenName": "Ada", "surname": "Byron",
                    "username": "ada", "primDomain": tenant, "password": value}),
            )
            .await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("password"), "names the field: {body}");
        assert!(
            !body.contains("hunter2-secret-value") && !body.contains("424242424242"),
            "the value is not echoed: {body}"
        );
    }
    app.stop();
}

#[tokio::test]
async fn a_list_logs_page_of_the_largest_rows_ends_early_with_a_next_link_and_loses_none() {
    let app = spawn_app().await;
    let now = time::OffsetDateTime::now_utc();
    let rows: Vec<_> = (0..700i64)
        .map(|i| {
            cipp_api::audit::largest_possible_row(
                now - time::Duration::milliseconds(i),
                "contoso.example",
            )
        })
        .collect();
    app.store.insert_audit_batch(&rows).await.unwrap();
    let token = app.token("superadmin").await;
    let mut next: Option<String> = None;
    let (mut seen, mut pages) = (0, 0);
    loop {
        let link = next
            .as_ref()
            .map(|l| format!("&nextLink={l}"))
            .unwrap_or_default();
        let response = app
            .get(
                &format!("/api/ListLogs?Filter=true&Severity=Warning&PageSize=10000{link}"),
                Some(&token),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
        let body = response.bytes().await.unwrap();
        assert!(
            body.len() < 5 * 1024 * 1024,
            "a page of {} bytes",
            body.len()
        );
        let page: Value = serde_json::from_slice(&body).unwrap();
        seen += page["Results"].as_array().unwrap().len();
        pages += 1;
        match page["Metadata"]["nextLink"].as_str() {
            Some(l) => next = Some(l.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, 700, "every row, once");
    assert!(pages >= 2, "the rows came in {pages} page(s)");
    app.stop();
}
