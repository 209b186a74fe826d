//! CIPP's own reads the user pages make (Graph Explorer presets, custom data mappings, the
//! extensions configuration, bookmarks) and the user detail page's Exchange and Graph reads
//! (ListGraphBulkRequest, ListMailboxes) and recipient-limit write, against the simulator and
//! the app's own store; every effect is read back.

use crate::helpers::{TestApp, results, spawn_app};
use cipp_api::demo::DEMO_CLIENTS;
use cipp_store::{CustomDataMapping, GraphPreset};
use serde_json::{Value, json};

fn client_id(role: &str) -> &'static str {
    DEMO_CLIENTS
        .iter()
        .find(|c| c.role == role)
        .unwrap()
        .client_id
}

async fn get(app: &TestApp, role: &str, path: &str) -> (u16, Value) {
    let token = app.token(role).await;
    let response = app.get(path, Some(&token)).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn post(app: &TestApp, role: &str, name: &str, body: Value) -> (u16, Value) {
    let token = app.token(role).await;
    let response = app.post(&format!("/api/{name}"), Some(&token), body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Licensed member users of a tenant: they have user mailboxes in the simulator.
async fn mailbox_users(app: &TestApp, tenant: &str) -> Vec<Value> {
    let (_, users) = get(
        app,
        "readonly",
        &format!("/api/ListUsers?tenantFilter={tenant}"),
    )
    .await;
    users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            u["userType"] == "Member" && !u["assignedLicenses"].as_array().unwrap().is_empty()
        })
        .cloned()
        .collect()
}

fn preset(id: &str, name: &str, owner: &str, shared: bool, endpoint: &str) -> GraphPreset {
    GraphPreset {
        id: id.to_owned(),
        name: name.to_owned(),
        owner: owner.to_owned(),
        is_shared: shared,
        params: json!({"endpoint": endpoint, "$filter": "accountEnabled eq false", "$select": "id,displayName"}),
    }
}

// ── ListGraphExplorerPresets ──

#[tokio::test]
async fn a_caller_sees_its_own_and_shared_graph_presets_of_the_endpoint_it_asks_for() {
    let app = spawn_app().await;
    let me = client_id("readonly");
    let (status, body) = get(
        &app,
        "readonly",
        "/api/ListGraphExplorerPresets?Endpoint=users",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"Results": [], "Metadata": {"Count": 0}}));

    for p in [
        preset("p-mine", "Disabled users", me, false, "users"),
        preset(
            "p-shared",
            "All guests",
            "someone@partner.example",
            true,
            "/users",
        ),
        preset(
            "p-private",
            "Their own",
            "someone@partner.example",
            false,
            "users",
        ),
        preset("p-groups", "Groups", me, false, "groups"),
    ] {
        app.store.graph_preset_put(&p).await.unwrap();
    }

    let (status, body) = get(
        &app,
        "readonly",
        "/api/ListGraphExplorerPresets?Endpoint=/Users",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Metadata"]["Count"], 2, "{body}");
    let rows = body["Results"].as_array().unwrap();
    assert_eq!(rows[0]["name"], "All guests", "sorted by name: {body}");
    assert_eq!(rows[0]["id"], "p-shared");
    assert_eq!(rows[0]["IsShared"], true);
    assert_eq!(rows[0]["IsMyPreset"], false);
    assert_eq!(rows[0]["Owner"], "someone@partner.example");
    assert_eq!(rows[1]["name"], "Disabled users");
    assert_eq!(rows[1]["IsMyPreset"], true);
    assert_eq!(rows[1]["params"]["$filter"], "accountEnabled eq false");
    assert_eq!(rows[1]["params"]["endpoint"], "users");

    // Without an endpoint: every preset the caller may see, never another user's private one.
    let (_, body) = get(&app, "readonly", "/api/ListGraphExplorerPresets").await;
    let ids: Vec<&str> = body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p-shared", "p-mine", "p-groups"], "{body}");
    // Another caller sees only the shared one.
    let (_, body) = get(
        &app,
        "editor",
        "/api/ListGraphExplorerPresets?Endpoint=users",
    )
    .await;
    assert_eq!(body["Metadata"]["Count"], 1, "{body}");
    assert_eq!(body["Results"][0]["id"], "p-shared");
}

#[tokio::test]
async fn graph_presets_need_the_core_read_role_and_a_text_endpoint() {
    let app = spawn_app().await;
    let (status, body) = get(
        &app,
        "custom",
        "/api/ListGraphExplorerPresets?Endpoint=users",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(
        &app,
        "readonly",
        "ListGraphExplorerPresets",
        json!({"Endpoint": ["users", "groups"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(results(&body).contains("Endpoint"), "{body}");
}

// ── ListCustomDataMappings ──

fn mapping(id: &str, tenant: &str, source: &str, label: &str) -> CustomDataMapping {
    CustomDataMapping {
        id: id.to_owned(),
        body: json!({
            "tenantFilter": {"label": format!("Tenant ({tenant})"), "value": tenant},
            "sourceType": {"label": source, "value": source},
            "directoryObjectType": {"label": "User", "value": "user"},
            "customDataAttribute": {
                "label": label,
                "value": format!("extension_{id}"),
                "addedFields": {"dataType": "String", "isMultiValue": false},
            },
            "manualEntryFieldLabel": label,
        }),
    }
}

#[tokio::test]
async fn custom_data_mappings_of_a_tenant_and_of_all_tenants_are_answered_with_cipps_shape() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let other = app.tenant(2).default_domain_name.clone();
    let path = format!(
        "/api/ListCustomDataMappings?sourceType=Manual%20Entry&directoryObject=User&tenantFilter={tenant}"
    );
    // Nothing configured: what CIPP answers then.
    let (status, body) = get(&app, "readonly", &path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"Results": []}));

    for m in [
        mapping("m-own", &tenant, "Manual Entry", "Cost centre"),
        mapping("m-all", "AllTenants", "Manual Entry", "Badge number"),
        mapping("m-other", &other, "Manual Entry", "Elsewhere"),
        mapping("m-sync", "AllTenants", "Extension Sync", "Synced"),
    ] {
        app.store.custom_data_mapping_put(&m).await.unwrap();
    }
    let (status, body) = get(&app, "readonly", &path).await;
    assert_eq!(status, 200, "{body}");
    let rows = body["Results"].as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["m-all", "m-own"], "{body}");
    let own = &rows[1];
    assert_eq!(own["tenant"], format!("Tenant ({tenant})"));
    assert_eq!(own["sourceType"], "Manual Entry");
    assert_eq!(own["directoryObject"], "User");
    assert_eq!(own["manualEntryFieldLabel"], "Cost centre");
    assert_eq!(own["customDataAttribute"]["value"], "extension_m-own");
    assert_eq!(
        own["customDataAttribute"]["addedFields"]["dataType"],
        "String"
    );
    assert!(own["dataset"].is_null(), "{own}");

    // No filters: every mapping; the source type compares without regard to case.
    let (_, body) = get(&app, "readonly", "/api/ListCustomDataMappings").await;
    assert_eq!(body["Results"].as_array().unwrap().len(), 4, "{body}");
    let (_, body) = get(
        &app,
        "readonly",
        "/api/ListCustomDataMappings?sourceType=extension%20sync",
    )
    .await;
    assert_eq!(body["Results"][0]["id"], "m-sync", "{body}");
}

#[tokio::test]
async fn custom_data_mappings_need_the_core_read_role_and_a_known_tenant() {
    let app = spawn_app().await;
    let (status, body) = get(&app, "custom", "/api/ListCustomDataMappings").await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = get(
        &app,
        "readonly",
        "/api/ListCustomDataMappings?tenantFilter=nowhere.example",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(results(&body).starts_with("tenantFilter:"), "{body}");
}

// ── ListExtensionsConfig ──

#[tokio::test]
async fn the_extensions_config_is_an_empty_object_until_one_is_saved() {
    let app = spawn_app().await;
    let (status, body) = get(&app, "readonly", "/api/ListExtensionsConfig").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({}));
    let config =
        json!({"Sherweb": {"Enabled": true, "ClientId": "abc"}, "HaloPSA": {"Enabled": false}});
    app.store.extensions_config_put(&config).await.unwrap();
    let (status, body) = get(&app, "readonly", "/api/ListExtensionsConfig").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, config);
    assert_eq!(body["Sherweb"]["Enabled"], true);
}

#[tokio::test]
async fn the_extensions_config_needs_the_extension_read_role() {
    let app = spawn_app().await;
    let (status, body) = get(&app, "custom", "/api/ListExtensionsConfig").await;
    assert_eq!(status, 403, "{body}");
}

// ── ExecUserBookmarks ──

#[tokio::test]
async fn a_callers_bookmarks_are_saved_and_answered_back_in_its_settings() {
    let app = spawn_app().await;
    let bookmarks = json!([
        {"path": "/identity/administration/users", "label": "Users"},
        {"path": "/email/administration/mailboxes", "label": "Mailboxes"},
    ]);
    let (status, body) = post(
        &app,
        "editor",
        "ExecUserBookmarks",
        json!({"user": client_id("editor"), "currentSettings": {"bookmarks": bookmarks}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!([{"Results": "Successfully added user bookmarks"}])
    );
    let (_, settings) = get(&app, "editor", "/api/ListUserSettings").await;
    assert_eq!(settings["UserBookmarks"], bookmarks, "{settings}");
    assert_eq!(
        app.store.bookmarks_get(client_id("editor")).await.unwrap(),
        Some(bookmarks)
    );
    // Another caller's settings do not carry them.
    let (_, settings) = get(&app, "readonly", "/api/ListUserSettings").await;
    assert!(settings.get("UserBookmarks").is_none(), "{settings}");

    // One bookmark is kept as a list of one; none clears them.
    let one = json!({"path": "/", "label": "Home"});
    let (status, _) = post(
        &app,
        "editor",
        "ExecUserBookmarks",
        json!({"currentSettings": {"bookmarks": one}}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, settings) = get(&app, "editor", "/api/ListUserSettings").await;
    assert_eq!(settings["UserBookmarks"], json!([one]), "{settings}");
    let (status, _) = post(
        &app,
        "editor",
        "ExecUserBookmarks",
        json!({"currentSettings": {}}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, settings) = get(&app, "editor", "/api/ListUserSettings").await;
    assert!(settings.get("UserBookmarks").is_none(), "{settings}");
    assert_eq!(
        app.store.bookmarks_get(client_id("editor")).await.unwrap(),
        Some(json!([]))
    );
}

#[tokio::test]
async fn bookmarks_need_the_core_readwrite_role_are_objects_and_are_only_ones_own() {
    let app = spawn_app().await;
    let body = json!({"currentSettings": {"bookmarks": [{"path": "/", "label": "Home"}]}});
    let (status, answer) = post(&app, "readonly", "ExecUserBookmarks", body).await;
    assert_eq!(status, 403, "{answer}");

    let (status, answer) = post(
        &app,
        "editor",
        "ExecUserBookmarks",
        json!({"currentSettings": {"bookmarks": ["/identity"]}}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        results(&answer).starts_with("currentSettings.bookmarks"),
        "{answer}"
    );

    // Another user's bookmarks: refused to an editor, allowed to an admin.
    let theirs = json!({"user": "someone@partner.example", "currentSettings": {"bookmarks": [{"path": "/", "label": "Home"}]}});
    let (status, answer) = post(&app, "editor", "ExecUserBookmarks", theirs.clone()).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        app.store
            .bookmarks_get("someone@partner.example")
            .await
            .unwrap()
            .is_none()
    );
    let (status, answer) = post(&app, "admin", "ExecUserBookmarks", theirs).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        app.store
            .bookmarks_get("someone@partner.example")
            .await
            .unwrap(),
        Some(json!([{"path": "/", "label": "Home"}]))
    );
}

// ── ListGraphBulkRequest ──

/// A licensed member of tenant 1 with its id and UPN.
async fn some_user(app: &TestApp) -> (String, String, String) {
    let tenant = app.tenant(1).default_domain_name.clone();
    let user = mailbox_users(app, &tenant).await.remove(0);
    (
        tenant,
        user["id"].as_str().unwrap().to_owned(),
        user["userPrincipalName"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_user_page_panels_come_back_as_graph_batch_answers_in_request_order() {
    let app = spawn_app().await;
    let (tenant, id, upn) = some_user(&app).await;
    let body = json!({
        "Requests": [
            {"id": "userMemberOf", "url": format!("/users/{id}/memberOf"), "method": "GET"},
            {"id": "mfaDevices", "url": format!("/users/{id}/authentication/methods?$top=99"), "method": "GET"},
            {"id": "signInLogs", "url": format!("/auditLogs/signIns?$filter=(userId eq '{id}')&$top=1"), "method": "GET"},
            {"id": "signInPreferences", "url": format!("/users/{id}/authentication/signInPreferences"), "method": "GET"},
            {"id": "managedDevices", "url": format!("/deviceManagement/managedDevices?$filter=userPrincipalName eq '{upn}'"), "method": "GET"},
            {"id": "dropped", "url": format!("/users/{id}"), "method": "PATCH"},
        ],
        "tenantFilter": tenant,
        "noPaginateIds": ["signInLogs", "signInPreferences"],
    });
    app.reset_sim_stats().await;
    let (status, answer) = post(&app, "readonly", "ListGraphBulkRequest", body).await;
    assert_eq!(status, 200, "{answer}");
    let items = answer.as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "userMemberOf",
            "mfaDevices",
            "signInLogs",
            "signInPreferences",
            "managedDevices"
        ],
        "only GET requests are sent: {answer}"
    );
    for item in items {
        assert_eq!(item["status"], 200, "{item}");
    }
    assert!(items[0]["body"]["value"].is_array(), "{answer}");
    assert!(
        !items[1]["body"]["value"].as_array().unwrap().is_empty(),
        "{answer}"
    );
    assert!(items[3]["body"].is_object(), "{answer}");
    assert!(
        items[4]["body"]["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["userPrincipalName"].as_str() == Some(upn.as_str())),
        "{answer}"
    );
    // One Graph $batch carried them all.
    assert_eq!(app.sim_count("/$batch", None).await, 1);
}

#[tokio::test]
async fn a_collection_is_read_to_its_end_unless_its_id_says_not_to() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let (_, users) = get(
        &app,
        "readonly",
        &format!("/api/ListUsers?tenantFilter={tenant}"),
    )
    .await;
    let total = users.as_array().unwrap().len();
    assert!(total > 3, "the tenant has enough users to page: {total}");
    let (status, answer) = post(
        &app,
        "readonly",
        "ListGraphBulkRequest",
        json!({
            "tenantFilter": tenant,
            "requests": [
                {"id": "all", "url": "/users?$select=id&$top=2", "method": "GET"},
                {"id": "first", "url": "/users?$select=id&$top=2", "method": "GET"},
            ],
            "noPaginateIds": ["first"],
        }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer[0]["body"]["value"].as_array().unwrap().len(),
        total,
        "{answer}"
    );
    assert_eq!(
        answer[1]["body"]["value"].as_array().unwrap().len(),
        2,
        "{answer}"
    );
    assert!(answer[1]["body"]["@odata.nextLink"].is_string(), "{answer}");
}

#[tokio::test]
async fn a_bulk_request_reaching_customer_content_is_refused_before_anything_is_sent() {
    let app = spawn_app().await;
    let (tenant, id, _) = some_user(&app).await;
    app.reset_sim_stats().await;
    for url in [
        format!("/users/{id}/messages"),
        format!("/users/{id}?$expand=drive"),
        "https://elsewhere.example/v1.0/users".to_owned(),
    ] {
        let (status, answer) = post(
            &app,
            "readonly",
            "ListGraphBulkRequest",
            json!({"tenantFilter": tenant, "requests": [
                {"id": "ok", "url": "/users", "method": "GET"},
                {"id": "bad", "url": url, "method": "GET"},
            ]}),
        )
        .await;
        assert_eq!(status, 403, "{url}: {answer}");
        assert!(
            results(&answer).starts_with("requests[1].url: "),
            "{answer}"
        );
    }
    assert_eq!(app.sim_count("/$batch", None).await, 0);
}

#[tokio::test]
async fn a_bulk_request_needs_the_core_read_role_and_get_requests_with_urls() {
    let app = spawn_app().await;
    let (tenant, id, _) = some_user(&app).await;
    let (status, answer) = post(
        &app,
        "custom",
        "ListGraphBulkRequest",
        json!({"tenantFilter": tenant, "requests": [{"id": "a", "url": format!("/users/{id}"), "method": "GET"}]}),
    )
    .await;
    assert_eq!(status, 403, "{answer}");

    for body in [
        json!({"tenantFilter": tenant}),
        json!({"tenantFilter": tenant, "requests": []}),
        json!({"tenantFilter": tenant, "requests": [{"id": "a", "url": "/users", "method": "POST"}]}),
    ] {
        let (status, answer) = post(&app, "readonly", "ListGraphBulkRequest", body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(results(&answer), "No requests found in the body");
    }
    let (status, answer) = post(
        &app,
        "readonly",
        "ListGraphBulkRequest",
        json!({"tenantFilter": tenant, "requests": [{"id": "a", "method": "GET"}]}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(results(&answer), "requests[0].url is required");
}

#[tokio::test]
async fn a_failed_item_keeps_its_graph_status_and_a_failed_batch_is_cipps_400() {
    let app = spawn_app().await;
    let (tenant, id, _) = some_user(&app).await;
    let body = json!({"tenantFilter": tenant, "requests": [
        {"id": "userMemberOf", "url": format!("/users/{id}/memberOf"), "method": "GET"},
        {"id": "mfaDevices", "url": format!("/users/{id}/authentication/methods"), "method": "GET"},
    ]});
    // One item fails inside a good batch: the page reads its status and error.
    let fault = app
        .add_fault(
            json!({"path": format!("/beta/users/{id}/authentication/methods"), "status": 403}),
        )
        .await;
    let (status, answer) = post(&app, "readonly", "ListGraphBulkRequest", body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer[0]["status"], 200, "{answer}");
    assert_eq!(answer[1]["status"], 403, "{answer}");
    assert_eq!(
        answer[1]["body"]["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    app.http
        .delete(app.sim.join(&format!("_sim/faults/{fault}")).unwrap())
        .send()
        .await
        .unwrap();

    // The batch itself fails: CIPP answers 400 with Graph's message.
    app.add_fault(json!({"path": "/beta/$batch", "status": 400}))
        .await;
    let (status, answer) = post(&app, "readonly", "ListGraphBulkRequest", body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(results(&answer), "Bad request.");
}

// ── ListMailboxes ──

#[tokio::test]
async fn mailboxes_are_listed_with_cipps_fields_and_filtered_by_type() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let (status, all) = get(
        &app,
        "readonly",
        &format!("/api/ListMailboxes?tenantFilter={tenant}"),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    let all = all.as_array().unwrap().clone();
    assert!(!all.is_empty());
    let users = mailbox_users(&app, &tenant).await;
    let upn = users[0]["userPrincipalName"].as_str().unwrap();
    let row = all
        .iter()
        .find(|m| m["UPN"] == upn)
        .unwrap_or_else(|| panic!("{upn} is listed"));
    for field in [
        "id",
        "ExchangeGuid",
        "ArchiveGuid",
        "WhenSoftDeleted",
        "UPN",
        "displayName",
        "primarySmtpAddress",
        "ArchiveEnabled",
        "recipientType",
        "recipientTypeDetails",
        "AdditionalEmailAddresses",
        "ForwardingSmtpAddress",
        "InternalForwardingAddress",
        "DeliverToMailboxAndForward",
        "HiddenFromAddressListsEnabled",
        "ExternalDirectoryObjectId",
        "IsDirSynced",
        "MessageCopyForSendOnBehalfEnabled",
        "MessageCopyForSentAsEnabled",
        "LitigationHoldEnabled",
        "LitigationHoldDate",
        "LitigationHoldDuration",
        "LicensedForLitigationHold",
        "ComplianceTagHoldApplied",
        "RetentionHoldEnabled",
        "InPlaceHolds",
        "RetentionPolicy",
    ] {
        assert!(row.get(field).is_some(), "{field} in {row}");
    }
    assert_eq!(row.as_object().unwrap().len(), 27, "{row}");
    assert_eq!(row["ExternalDirectoryObjectId"], users[0]["id"]);
    assert_eq!(row["displayName"], users[0]["displayName"]);
    assert_eq!(row["recipientTypeDetails"], "UserMailbox");

    // The shared-mailbox picker's filter.
    let (status, shared) = get(
        &app,
        "readonly",
        &format!("/api/ListMailboxes?tenantFilter={tenant}&RecipientTypeDetails=SharedMailbox"),
    )
    .await;
    assert_eq!(status, 200, "{shared}");
    let shared = shared.as_array().unwrap();
    assert!(!shared.is_empty(), "the tenant has shared mailboxes");
    assert!(
        shared
            .iter()
            .all(|m| m["recipientTypeDetails"] == "SharedMailbox")
    );
    assert_eq!(
        shared.len(),
        all.iter()
            .filter(|m| m["recipientTypeDetails"] == "SharedMailbox")
            .count()
    );
}

#[tokio::test]
async fn mailboxes_need_the_mailbox_read_role_and_boolean_switches() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let (status, body) = get(
        &app,
        "custom",
        &format!("/api/ListMailboxes?tenantFilter={tenant}"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = get(
        &app,
        "readonly",
        &format!("/api/ListMailboxes?tenantFilter={tenant}&Archive=perhaps"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(results(&body).contains("Archive"), "{body}");
}

#[tokio::test]
async fn an_exchange_failure_listing_mailboxes_is_cipps_403_with_the_reason() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    app.add_fault(json!({"cmdlet": "Get-Mailbox", "status": 500}))
        .await;
    let (status, body) = get(
        &app,
        "readonly",
        &format!("/api/ListMailboxes?tenantFilter={tenant}"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["Results"],
        json!(["An internal server error occurred."]),
        "{body}"
    );
}

// ── ExecSetRecipientLimits ──

async fn recipient_limit(app: &TestApp, tenant_id: &str, upn: &str) -> Value {
    let rows = app
        .graph
        .exchange(tenant_id, "Get-Mailbox", json!({"Identity": upn}), None)
        .await
        .unwrap();
    rows[0]["RecipientLimits"].clone()
}

#[tokio::test]
async fn a_recipient_limit_is_set_and_read_back_from_exchange() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let users = mailbox_users(&app, &tenant.default_domain_name).await;
    let upn = users[0]["userPrincipalName"].as_str().unwrap();
    assert_eq!(recipient_limit(&app, &tenant.customer_id, upn).await, "500");
    // The form sends the mailbox's Identity (its alias) and the limit as text.
    let alias = upn.split('@').next().unwrap();
    let (status, body) = post(
        &app,
        "editor",
        "ExecSetRecipientLimits",
        json!({"tenantFilter": tenant.default_domain_name, "userid": upn, "Identity": alias, "recipientLimit": "250"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Recipient limit for {upn} has been set to 250")
    );
    assert_eq!(recipient_limit(&app, &tenant.customer_id, upn).await, "250");
}

#[tokio::test]
async fn recipient_limits_need_the_mailbox_readwrite_role_and_a_limit_exchange_takes() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let users = mailbox_users(&app, &tenant.default_domain_name).await;
    let upn = users[0]["userPrincipalName"].as_str().unwrap();
    let body = |limit: Value| json!({"tenantFilter": tenant.default_domain_name, "userid": upn, "Identity": upn, "recipientLimit": limit});
    let (status, answer) = post(&app, "readonly", "ExecSetRecipientLimits", body(json!(100))).await;
    assert_eq!(status, 403, "{answer}");
    for limit in [json!("lots"), json!(0), json!(1001)] {
        let (status, answer) = post(&app, "editor", "ExecSetRecipientLimits", body(limit)).await;
        assert_eq!(status, 400, "{answer}");
        assert!(results(&answer).contains("recipientLimit"), "{answer}");
    }
    let (status, answer) = post(
        &app,
        "editor",
        "ExecSetRecipientLimits",
        json!({"tenantFilter": tenant.default_domain_name, "recipientLimit": 100}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(results(&answer), "Identity is required");
    assert_eq!(recipient_limit(&app, &tenant.customer_id, upn).await, "500");
}

#[tokio::test]
async fn an_exchange_failure_setting_a_recipient_limit_is_cipps_500_with_the_reason() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let users = mailbox_users(&app, &tenant.default_domain_name).await;
    let upn = users[0]["userPrincipalName"].as_str().unwrap();
    app.add_fault(json!({"cmdlet": "Set-Mailbox", "status": 500}))
        .await;
    let (status, body) = post(
        &app,
        "editor",
        "ExecSetRecipientLimits",
        json!({"tenantFilter": tenant.default_domain_name, "userid": upn, "Identity": upn, "recipientLimit": 300}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Could not set recipient limit for {upn} to 300. Error: An internal server error occurred."
        )
    );
    assert_eq!(recipient_limit(&app, &tenant.customer_id, upn).await, "500");
}

#[tokio::test]
async fn a_recipient_limit_exchange_acknowledged_but_did_not_keep_is_reported_not_claimed() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let users = mailbox_users(&app, &tenant.default_domain_name).await;
    let upn = users[0]["userPrincipalName"].as_str().unwrap();
    app.add_fault(json!({"cmdlet": "Set-Mailbox", "acknowledge": true, "count": 1}))
        .await;
    let (status, body) = post(
        &app,
        "editor",
        "ExecSetRecipientLimits",
        json!({"tenantFilter": tenant.default_domain_name, "userid": upn, "Identity": upn, "recipientLimit": 300}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Could not set recipient limit for {upn} to 300. Error: Exchange accepted the change, but the mailbox still shows a recipient limit of 500"
        )
    );
    assert_eq!(recipient_limit(&app, &tenant.customer_id, upn).await, "500");

    // The read back itself failing is not a success either.
    app.add_fault(json!({"cmdlet": "Get-Mailbox", "status": 500, "count": 1}))
        .await;
    let (status, body) = post(
        &app,
        "editor",
        "ExecSetRecipientLimits",
        json!({"tenantFilter": tenant.default_domain_name, "userid": upn, "Identity": upn, "recipientLimit": 300}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        results(&body).starts_with(&format!(
            "Could not set recipient limit for {upn} to 300. Error: the mailbox could not be read back"
        )),
        "{body}"
    );
    assert_eq!(recipient_limit(&app, &tenant.customer_id, upn).await, "300");
}

// ── WhatIf on the two writes ──

#[tokio::test]
async fn a_dry_run_of_either_write_changes_nothing() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let users = mailbox_users(&app, &tenant.default_domain_name).await;
    let upn = users[0]["userPrincipalName"].as_str().unwrap();
    let (status, body) = post(
        &app,
        "editor",
        "ExecSetRecipientLimits?WhatIf=true",
        json!({"tenantFilter": tenant.default_domain_name, "userid": upn, "Identity": upn, "recipientLimit": 300}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["WhatIf"], true, "{body}");
    let planned = body["PlannedWrites"].as_array().unwrap();
    assert_eq!(planned.len(), 1, "{body}");
    assert_eq!(recipient_limit(&app, &tenant.customer_id, upn).await, "500");

    let (status, body) = post(
        &app,
        "editor",
        "ExecUserBookmarks?WhatIf=true",
        json!({"currentSettings": {"bookmarks": [{"path": "/", "label": "Home"}]}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["WhatIf"], true, "{body}");
    assert!(
        app.store
            .bookmarks_get(client_id("editor"))
            .await
            .unwrap()
            .is_none()
    );
}
