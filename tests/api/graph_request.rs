//! ListGraphRequest: the proxy envelope, paging, and the guard that keeps it on Graph's
//! directory paths.

use crate::helpers::{results, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn five_rows_with_no_pagination_and_every_user_without_it() {
    let app = spawn_app().await;
    let tenant = app.big_tenant().clone();
    let token = app.token("readonly").await;
    let url = format!(
        "/api/ListGraphRequest?tenantFilter={}&Endpoint=users&$top=5&NoPagination=true",
        tenant.default_domain_name
    );
    let body: Value = app.get(&url, Some(&token)).await.json().await.unwrap();
    let rows = body["Results"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for row in rows {
        assert_eq!(row["Tenant"], tenant.default_domain_name.as_str());
        assert_eq!(row["CippStatus"], "Good");
    }
    assert_eq!(body["Metadata"]["Endpoint"], "users");
    let url = format!(
        "/api/ListGraphRequest?tenantFilter={}&Endpoint=users&$top=999&$select=id,displayName",
        tenant.default_domain_name
    );
    let body: Value = app.get(&url, Some(&token)).await.json().await.unwrap();
    let rows = body["Results"].as_array().unwrap();
    assert_eq!(rows.len(), tenant.user_count);
    assert!(
        rows.iter().all(
            |r| r["Tenant"] == tenant.default_domain_name.as_str() && r["CippStatus"] == "Good"
        )
    );
    app.stop();
}

#[tokio::test]
async fn filters_select_and_count_reach_graph() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let token = app.token("readonly").await;
    let response = app
        .http
        .get(format!("{}/api/ListGraphRequest", app.address))
        .query(&[
            ("tenantFilter", tenant.default_domain_name.as_str()),
            ("Endpoint", "users"),
            ("graphFilter", "accountEnabled eq false"),
            ("$select", "id,accountEnabled,accountEnabled.ignored"),
            ("$count", "true"),
        ])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let rows = body["Results"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["accountEnabled"] == false));
    assert!(rows.iter().all(|r| r.get("displayName").is_none()));
    app.stop();
}

#[tokio::test]
async fn bad_parameters_are_400s_naming_them() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    for (query, field) in [
        (format!("tenantFilter={tenant}"), "Endpoint"),
        (
            format!("tenantFilter={tenant}&Endpoint=users&Version=v2"),
            "Version",
        ),
        (
            format!("tenantFilter={tenant}&Endpoint=users&$top=many"),
            "$top",
        ),
        (
            format!("tenantFilter={tenant}&Endpoint=users&NoPagination=perhaps"),
            "NoPagination",
        ),
    ] {
        let response = app
            .get(&format!("/api/ListGraphRequest?{query}"), Some(&token))
            .await;
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert!(results(&body).contains(field), "{body}");
    }
    app.stop();
}

#[tokio::test]
async fn a_graph_failure_is_cipps_graph_error_text() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    let response = app.get(&format!("/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=users/00000000-0000-0000-0000-000000000000"), Some(&token)).await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    let text = results(&body);
    assert!(text.starts_with("Graph Error: "), "{text}");
    assert!(
        text.ends_with(" - Endpoint: users/00000000-0000-0000-0000-000000000000"),
        "{text}"
    );
    app.stop();
}

/// Values that try to leave the Graph version root, reach customer content, or hide either.
fn hostile_endpoints() -> Vec<String> {
    let mut values: Vec<String> = [
        "https://evil.example/v1.0/users",
        "http://evil.example/users",
        "//evil.example/users",
        "/\\evil.example/users",
        "\\\\evil.example\\users",
        "..",
        "../v1.0/users",
        "../../users",
        "users/../../x",
        "users/./x",
        "users//x",
        "%2e%2e/users",
        "%2E%2E%2Fusers",
        "%252e%252e/users",
        "%25252e%25252e/users",
        "users%2f..%2f..%2fx",
        "users@evil.example",
        "evil.example@graph.microsoft.com/users",
        "users%40evil.example",
        "users:443",
        "javascript:alert(1)",
        "users%00",
        "users%0d%0aHost:%20evil.example",
        "users\r\nX: y",
        "users\u{200b}",
        "users\u{feff}",
        "users?$top=1",
        "users%3F$top=1",
        "users#fragment",
        "users%23x",
        "users&$select=id",
        "users%26x=1",
        "users x",
        "users%20x",
        "%",
        "%zz",
        "%u002e%u002e/users",
        "users/x/messages",
        "users/x/mailFolders",
        "users/x/mailFolders/inbox/messages",
        "users%2Fx%2Fmessages",
        "users%252Fx%252Fmessages",
        "users/x/drive/root/children",
        "drives/1/items/2/content",
        "users/x/drive",
        "sites/root/lists/1/items",
        "chats",
        "chats/1/messages",
        "teams/1/channels/2/messages",
        "users/x/chats",
        "users/x/events",
        "users/x/calendar/events",
        "users/x/calendarView",
        "users/x/contacts",
        "users/x/onenote/notebooks",
        "groups/1/threads",
        "groups/1/conversations",
        "users/x/todo/lists",
        "me",
        "me/messages",
        "users/x/photo/$value",
        "USERS/X/MESSAGES",
        "users/x/Messages",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    values.push("a".repeat(10) + "/" + &"%25".repeat(6) + "2e");
    values
}

#[tokio::test]
async fn hostile_endpoints_are_refused_and_never_reach_graph() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    // Load the tenant list first, so the counters below only see what the proxy sends.
    let warm = app
        .get(
            &format!("/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=domains"),
            Some(&token),
        )
        .await;
    assert_eq!(warm.status().as_u16(), 200);
    app.reset_sim_stats().await;
    let hostile = hostile_endpoints();
    assert!(hostile.len() >= 50);
    for endpoint in &hostile {
        let response = app
            .http
            .get(format!("{}/api/ListGraphRequest", app.address))
            .query(&[
                ("tenantFilter", tenant.as_str()),
                ("Endpoint", endpoint.as_str()),
            ])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{endpoint:?}");
        let body: Value = response.json().await.unwrap();
        assert!(
            results(&body).starts_with("Endpoint is refused"),
            "{endpoint:?}: {body}"
        );
    }
    let expand = app
        .http
        .get(format!("{}/api/ListGraphRequest", app.address))
        .query(&[
            ("tenantFilter", tenant.as_str()),
            ("Endpoint", "users"),
            ("$expand", "messages"),
        ])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(expand.status().as_u16(), 403);
    let stats = app.sim_stats().await;
    assert_eq!(stats["total"], 0, "nothing reached the simulator: {stats}");
    app.stop();
}

#[tokio::test]
async fn the_custom_role_cannot_use_the_proxy_and_no_tenant_means_the_partner() {
    let app = spawn_app().await;
    let custom = app.token("custom").await;
    let own = app.tenant(0).default_domain_name.clone();
    let response = app
        .get(
            &format!("/api/ListGraphRequest?tenantFilter={own}&Endpoint=users"),
            Some(&custom),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    let readonly = app.token("readonly").await;
    let body: Value = app
        .get_json("/api/ListGraphRequest?Endpoint=domains", &readonly)
        .await;
    let rows = body["Results"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|d| d["id"].as_str().unwrap().starts_with("cipppartner")),
        "{body}"
    );
    app.stop();
}

/// The call the CIPP users table makes, page by page, as the frontend follows `Metadata.nextLink`.
#[tokio::test]
async fn manual_pagination_pages_the_big_tenant_and_returns_every_user_once() {
    let app = spawn_app().await;
    let tenant = app.big_tenant().clone();
    let token = app.token("readonly").await;
    let select = "id,accountEnabled,businessPhones,city,createdDateTime,companyName,country,department,displayName,faxNumber,givenName,isResourceAccount,jobTitle,mail,mailNickname,mobilePhone,officeLocation,otherMails,postalCode,preferredDataLocation,preferredLanguage,proxyAddresses,showInAddressList,state,streetAddress,surname,usageLocation,userPrincipalName,userType,assignedLicenses,licenseAssignmentStates,onPremisesSyncEnabled,OnPremisesImmutableId,onPremisesLastSyncDateTime,onPremisesDistinguishedName";
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![
            ("tenantFilter", tenant.default_domain_name.clone()),
            ("Endpoint", "users".to_owned()),
            ("manualPagination", "true".to_owned()),
            ("$count", "true".to_owned()),
            ("$orderby", "displayName".to_owned()),
            ("$top", "999".to_owned()),
            ("$select", select.to_owned()),
        ];
        if let Some(link) = &next {
            query.push(("nextLink", link.clone()));
        }
        let response = app
            .http
            .get(format!("{}/api/ListGraphRequest", app.address))
            .query(&query)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.unwrap();
        pages += 1;
        for row in body["Results"].as_array().unwrap() {
            ids.push(row["id"].as_str().unwrap().to_owned());
            assert_eq!(row["CippStatus"], "Good");
        }
        match body["Metadata"]["nextLink"].as_str() {
            Some(link) => next = Some(link.to_owned()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert!(pages >= 3, "{pages} pages");
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "no user twice");
    assert_eq!(total, tenant.user_count, "every user");
    app.stop();
}

#[tokio::test]
async fn count_only_equals_the_simulators_count() {
    let app = spawn_app().await;
    let tenant = app.big_tenant().clone();
    let token = app.token("readonly").await;
    let body: Value = app
        .get_json(
            &format!(
                "/api/ListGraphRequest?tenantFilter={}&Endpoint=users&CountOnly=true",
                tenant.customer_id
            ),
            &token,
        )
        .await;
    assert_eq!(body["Results"], serde_json::json!([tenant.user_count]));
    app.stop();
}

#[tokio::test]
async fn a_next_link_to_any_other_host_is_refused_and_never_sent() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    let warm = app
        .get(
            &format!("/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=domains"),
            Some(&token),
        )
        .await;
    assert_eq!(warm.status().as_u16(), 200);
    let own = app.sim.as_str().trim_end_matches('/').to_owned();
    let port = app.sim.port().unwrap();
    let links = [
        "https://evil.example/v1.0/users?$skiptoken=x".to_owned(),
        "http://127.0.0.1:1/v1.0/users".to_owned(),
        format!("http://127.0.0.1:{port}/v1.0/users"),
        format!("https://localhost:{port}/v1.0/users"),
        format!("https://user@127.0.0.1:{port}/v1.0/users"),
        format!("{own}/v2.0/users"),
        format!("{own}/v1.0/users/x/messages?$skiptoken=1"),
        format!("{own}/v1.0/../../evil"),
        format!("{own}/v1.0/users%2F..%2F..%2Fx"),
        format!("{own}/beta/users?$expand=messages"),
        "//evil.example/v1.0/users".to_owned(),
        "users?$skiptoken=1".to_owned(),
    ];
    app.reset_sim_stats().await;
    for link in &links {
        let response = app
            .http
            .get(format!("{}/api/ListGraphRequest", app.address))
            .query(&[
                ("tenantFilter", tenant.as_str()),
                ("Endpoint", "users"),
                ("manualPagination", "true"),
                ("nextLink", link.as_str()),
            ])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{link}");
        let body: Value = response.json().await.unwrap();
        assert!(
            results(&body).starts_with("nextLink is refused"),
            "{link}: {body}"
        );
    }
    assert_eq!(app.sim_stats().await["total"], 0);
    app.stop();
}

#[tokio::test]
async fn placeholders_sort_list_properties_and_ignore_errors_work_as_in_cipp() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let token = app.token("readonly").await;
    let get = |query: String| {
        let (app, token) = (&app, &token);
        async move {
            app.get(&format!("/api/ListGraphRequest?{query}"), Some(token))
                .await
        }
    };
    let body: Value = get(format!("tenantFilter={}&Endpoint=tenantRelationships/findTenantInformationByTenantId(tenantId='%25tenantid%25')", tenant.default_domain_name))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["Results"][0]["tenantId"],
        tenant.customer_id.as_str(),
        "{body}"
    );
    let body: Value = get(format!(
        "tenantFilter={}&Endpoint=users&$select=displayName&Sort=displayName",
        tenant.default_domain_name
    ))
    .await
    .json()
    .await
    .unwrap();
    let names: Vec<String> = body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["displayName"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let body: Value = get(format!(
        "tenantFilter={}&Endpoint=users&ListProperties=true",
        tenant.default_domain_name
    ))
    .await
    .json()
    .await
    .unwrap();
    let properties: Vec<&str> = body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        properties.contains(&"userPrincipalName") && !properties.contains(&"Tenant"),
        "{body}"
    );
    let response = get(format!(
        "tenantFilter={}&Endpoint=users/00000000-0000-0000-0000-000000000000&IgnoreErrors=true",
        tenant.default_domain_name
    ))
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(results(&body).starts_with("Graph Error: "));
    app.stop();
}
