//! ExecRestoreDeleted and RemoveDeletedObject against the simulator, and the template writes
//! (AddUserDefaults, RemoveUserDefaultTemplate, Add/Edit/RemoveJITAdminTemplate) read back
//! through ListNewUserDefaults and ListJITAdminTemplates.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

const GHOST: &str = "0badc0de-0000-4000-8000-000000000000";

async fn call(app: &TestApp, token: &str, name: &str, body: Value) -> (u16, Value) {
    let response = app.post(&format!("/api/{name}"), Some(token), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

async fn deleted_users(app: &TestApp, token: &str, domain: &str) -> Vec<Value> {
    let items: Vec<Value> = app
        .get_json(
            &format!("/api/ListDeletedItems?tenantFilter={domain}"),
            token,
        )
        .await;
    items
        .into_iter()
        .filter(|i| i["TargetType"] == "User")
        .collect()
}

async fn user_ids(app: &TestApp, token: &str, domain: &str) -> Vec<String> {
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), token)
        .await;
    users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn restore_deleted_brings_a_deleted_user_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let token = app.token("editor").await;
    let item = deleted_users(&app, &token, &domain).await[0].clone();
    let id = item["id"].as_str().unwrap();
    let upn = item["userPrincipalName"].as_str().unwrap();
    let (status, body) = call(
        &app,
        &token,
        "ExecRestoreDeleted",
        json!({"tenantFilter": domain, "ID": id, "userPrincipalName": upn, "displayName": "Ada"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Successfully restored deleted item with ID: '{id}' User Principal Name: '{upn}' Display Name: 'Ada'"
        )
    );
    let still_deleted = deleted_users(&app, &token, &domain).await;
    assert!(!still_deleted.iter().any(|i| i["id"] == id));
    assert!(
        user_ids(&app, &token, &domain)
            .await
            .iter()
            .any(|u| u == id)
    );
    assert!(
        app.sim_user(&tenant.customer_id, id).await["deletedDateTime"].is_null(),
        "the simulator holds it as a live user again"
    );
    app.stop();
}

#[tokio::test]
async fn remove_deleted_object_purges_the_item_for_good() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).clone();
    let domain = tenant.default_domain_name.clone();
    let token = app.token("editor").await;
    let id = deleted_users(&app, &token, &domain).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = call(
        &app,
        &token,
        "RemoveDeletedObject",
        json!({"tenantFilter": domain, "ID": id}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully permanently deleted item with ID: '{id}'")
    );
    assert!(
        !deleted_users(&app, &token, &domain)
            .await
            .iter()
            .any(|i| i["id"] == id)
    );
    assert!(!user_ids(&app, &token, &domain).await.contains(&id));
    let stored = app
        .http
        .get(
            app.sim
                .join(&format!("_sim/users/{}/{id}", tenant.customer_id))
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status().as_u16(), 404, "gone from the simulator");
    // Gone for good: it cannot be restored any more.
    let (status, body) = call(
        &app,
        &token,
        "ExecRestoreDeleted",
        json!({"tenantFilter": domain, "ID": id}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        results(&body).starts_with(&format!(
            "Failed to restore deleted item with ID: '{id}' Error: "
        )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn an_unknown_deleted_item_is_answered_in_cipps_words() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let (status, body) = call(
        &app,
        &token,
        "RemoveDeletedObject",
        json!({"tenantFilter": domain, "ID": GHOST, "displayName": "Nobody"}),
    )
    .await;
    assert_eq!(status, 404);
    let text = results(&body);
    assert!(
        text.starts_with(&format!(
            "Failed to permanently delete item with ID: {GHOST} Display Name: 'Nobody' Error: "
        )),
        "{text}"
    );
    assert!(
        text.contains("does not exist"),
        "Graph's reason is kept: {text}"
    );
    let (status, body) = call(
        &app,
        &token,
        "ExecRestoreDeleted",
        json!({"tenantFilter": domain, "ID": GHOST}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        results(&body).starts_with(&format!(
            "Failed to restore deleted item with ID: '{GHOST}' Error: "
        )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn readonly_callers_may_change_neither_deleted_items_nor_templates() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let token = app.token("readonly").await;
    for (name, permission) in [
        ("ExecRestoreDeleted", "Tenant.Directory.ReadWrite"),
        ("RemoveDeletedObject", "Tenant.Directory.ReadWrite"),
        ("AddUserDefaults", "Identity.User.ReadWrite"),
        ("RemoveUserDefaultTemplate", "Identity.User.ReadWrite"),
        ("AddJITAdminTemplate", "Identity.Role.ReadWrite"),
        ("EditJITAdminTemplate", "Identity.Role.ReadWrite"),
        ("RemoveJITAdminTemplate", "Identity.Role.ReadWrite"),
    ] {
        let (status, body) = call(
            &app,
            &token,
            name,
            json!({"tenantFilter": domain, "ID": GHOST, "GUID": GHOST, "templateName": "x"}),
        )
        .await;
        assert_eq!(status, 403, "{name}");
        assert!(
            results(&body).ends_with(&format!(
                "does not have the required permission: {permission}"
            )),
            "{name}: {body}"
        );
    }
    app.stop();
}

#[tokio::test]
async fn a_missing_or_malformed_parameter_is_a_400_naming_it() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let cases = [
        (
            "ExecRestoreDeleted",
            json!({"tenantFilter": domain}),
            "ID is required",
        ),
        (
            "RemoveDeletedObject",
            json!({"tenantFilter": domain}),
            "ID is required",
        ),
        (
            "AddUserDefaults",
            json!({"templateName": "t"}),
            "tenantFilter is required",
        ),
        (
            "AddUserDefaults",
            json!({"tenantFilter": domain, "templateName": " "}),
            "templateName is required",
        ),
        (
            "AddUserDefaults",
            json!({"tenantFilter": domain, "templateName": "t", "GUID": "nope"}),
            "GUID: expected a GUID, got 'nope'",
        ),
        ("RemoveUserDefaultTemplate", json!({}), "ID is required"),
        (
            "RemoveUserDefaultTemplate",
            json!({"ID": "nope"}),
            "ID: expected a GUID, got 'nope'",
        ),
        (
            "AddJITAdminTemplate",
            json!({"templateName": "t"}),
            "tenantFilter is required",
        ),
        (
            "AddJITAdminTemplate",
            json!({"tenantFilter": domain}),
            "templateName is required",
        ),
        (
            "EditJITAdminTemplate",
            json!({"tenantFilter": domain, "templateName": "t"}),
            "GUID is required",
        ),
        (
            "EditJITAdminTemplate",
            json!({"tenantFilter": domain, "templateName": "t", "GUID": "x'or'1"}),
            "GUID: expected a GUID, got 'x'or'1'",
        ),
        ("RemoveJITAdminTemplate", json!({}), "ID is required"),
    ];
    for (name, body, expected) in cases {
        let (status, answer) = call(&app, &token, name, body.clone()).await;
        assert_eq!(status, 400, "{name} {body}: {answer}");
        assert_eq!(results(&answer), expected, "{name} {body}");
    }
    let (status, answer) = call(
        &app,
        &token,
        "AddUserDefaults",
        json!({"tenantFilter": "nowhere.example", "templateName": "t"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(results(&answer).starts_with("tenantFilter: 'nowhere.example' is not a tenant"));
    app.stop();
}

#[tokio::test]
async fn a_user_default_template_is_saved_read_back_updated_and_removed() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let token = app.token("editor").await;
    // Named by tenant id: it is kept under the default domain the frontend lists by.
    let (status, body) = call(
        &app,
        &token,
        "AddUserDefaults",
        json!({
            "tenantFilter": {"label": "Tenant", "value": tenant.customer_id},
            "templateName": "Sales starter",
            "defaultForTenant": "false",
            "usageLocation": {"label": "Netherlands", "value": "NL"},
            "usernameFormat": "%FirstName%.%LastName%",
            "department": "Sales",
            "businessPhones[0]": "+31 20 555 0100",
            "addToGroups": [{"label": "Sales", "value": "g1"}],
            "licenses": [{"label": "M365 BP", "value": "sku"}]
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let text = results(&body);
    let guid = text
        .strip_prefix("Created User Default Template 'Sales starter' with GUID ")
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();
    let list = |filter: String| {
        let (app, token) = (&app, &token);
        async move {
            app.get_json::<Vec<Value>>(&format!("/api/ListNewUserDefaults?{filter}"), token)
                .await
        }
    };
    let rows = list(format!("TenantFilter={domain}")).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["GUID"], guid.as_str());
    assert_eq!(row["RowKey"], guid.as_str());
    assert_eq!(row["tenantFilter"], domain.as_str());
    assert_eq!(row["templateName"], "Sales starter");
    assert_eq!(
        row["defaultForTenant"], true,
        "CIPP's [bool] cast: \"false\" is true"
    );
    assert_eq!(row["usageLocation"], "NL");
    assert_eq!(row["usernameFormat"], "%FirstName%.%LastName%");
    assert_eq!(row["businessPhones"], json!(["+31 20 555 0100"]));
    assert_eq!(
        row["groupMemberships"],
        json!([{"label": "Sales", "value": "g1"}])
    );
    assert_eq!(row["licenses"][0]["value"], "sku");
    assert!(
        row["jobTitle"].is_null(),
        "absent fields are null, as in CIPP"
    );
    assert_eq!(list(format!("ID={guid}")).await.len(), 1);

    // Saving with its GUID updates it in place.
    let (status, body) = call(
        &app,
        &token,
        "AddUserDefaults",
        json!({"tenantFilter": domain, "templateName": "Sales", "GUID": guid, "department": "Inside sales"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Updated User Default Template 'Sales' with GUID {guid}")
    );
    let rows = list(format!("TenantFilter={domain}")).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["templateName"], "Sales");
    assert_eq!(rows[0]["department"], "Inside sales");
    assert_eq!(rows[0]["businessPhones"], json!([]));

    let (status, body) = call(
        &app,
        &token,
        "AddUserDefaults",
        json!({"tenantFilter": domain, "templateName": "x", "GUID": GHOST}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        results(&body),
        format!("User Default Template with GUID {GHOST} not found")
    );

    let (status, body) = call(
        &app,
        &token,
        "RemoveUserDefaultTemplate",
        json!({"ID": guid}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully deleted User Default Template with ID: {guid}")
    );
    assert!(list(format!("TenantFilter={domain}")).await.is_empty());
    let response = app
        .get(
            &format!("/api/RemoveUserDefaultTemplate?ID={guid}"),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("User Default Template with ID {guid} not found")
    );
    app.stop();
}

#[tokio::test]
async fn jit_admin_templates_are_added_edited_and_removed() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let token = app.token("editor").await;
    let add = |name: &'static str, extra: Value| {
        let (app, token, domain) = (&app, &token, domain.clone());
        async move {
            let mut body = json!({
                "tenantFilter": domain,
                "templateName": name,
                "defaultForTenant": true,
                "defaultRoles": [{"label": "Global Administrator", "value": "62e90394-69f5-4237-9190-012177145e10"}],
                "defaultDuration": {"label": "1 day", "value": "P1D"},
                "defaultExpireAction": {"label": "Delete user", "value": "DeleteUser"},
                "defaultUseRoles": true,
                "defaultUserAction": "create",
                "defaultFirstName": "Jit",
                "defaultLastName": " ",
                "defaultDomain": {"label": domain, "value": domain}
            });
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            call(app, token, "AddJITAdminTemplate", body).await
        }
    };
    let (status, body) = add("Break glass", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let first = results(&body)
        .strip_prefix("Created JIT Admin Template 'Break glass' with GUID ")
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let list = || {
        let (app, token, domain) = (&app, &token, domain.clone());
        async move {
            app.get_json::<Vec<Value>>(
                &format!("/api/ListJITAdminTemplates?TenantFilter={domain}"),
                token,
            )
            .await
        }
    };
    let rows = list().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["GUID"], first.as_str());
    assert_eq!(row["RowKey"], first.as_str());
    assert_eq!(row["tenantFilter"], domain.as_str());
    assert_eq!(row["defaultForTenant"], true);
    assert_eq!(row["defaultUseRoles"], true);
    assert_eq!(row["defaultUseGroups"], false);
    assert_eq!(row["defaultDuration"]["value"], "P1D");
    assert_eq!(row["defaultFirstName"], "Jit");
    assert!(
        row.get("defaultLastName").is_none(),
        "blank names are left out"
    );
    assert_eq!(row["defaultDomain"]["value"], domain.as_str());
    assert_eq!(
        row["createdBy"],
        "Demo editor client (c1990000-0000-4000-8000-000000000012)"
    );
    let created = row["createdDate"].as_str().unwrap().to_owned();
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");

    // A second default takes the flag from the first; the name must be new in the tenant.
    let (status, body) = add("On call", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let rows = list().await;
    let flag = |name: &str| {
        rows.iter().find(|r| r["templateName"] == name).unwrap()["defaultForTenant"].clone()
    };
    assert_eq!(flag("Break glass"), false);
    assert_eq!(flag("On call"), true);
    let (status, body) = add("BREAK GLASS", json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(
        results(&body),
        format!(
            "Failed to create JIT Admin Template: A template with name 'BREAK GLASS' already exists for tenant '{domain}'"
        )
    );
    let (status, body) = call(
        &app,
        &token,
        "AddJITAdminTemplate",
        json!({"tenantFilter": "AllTenants", "templateName": "Pick", "defaultUserAction": "select"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        results(&body).ends_with(
            "defaultUserAction cannot be \"select\" when tenantFilter is \"AllTenants\""
        )
    );

    let (status, body) = call(
        &app,
        &token,
        "EditJITAdminTemplate",
        json!({"GUID": first, "tenantFilter": domain, "templateName": "Break glass 2", "defaultUserAction": "select", "defaultExistingUser": {"label": "a", "value": "u1"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Updated JIT Admin Template 'Break glass 2' (GUID: {first})")
    );
    let rows = list().await;
    assert_eq!(rows.len(), 2);
    let edited = rows.iter().find(|r| r["GUID"] == first.as_str()).unwrap();
    assert_eq!(edited["templateName"], "Break glass 2");
    assert_eq!(edited["createdDate"], created.as_str());
    assert!(edited["modifiedDate"].is_string());
    assert_eq!(edited["defaultExistingUser"]["value"], "u1");
    assert!(
        edited.get("defaultFirstName").is_none(),
        "the whole row is replaced"
    );
    let (status, body) = call(
        &app,
        &token,
        "EditJITAdminTemplate",
        json!({"GUID": GHOST, "tenantFilter": domain, "templateName": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        results(&body),
        format!("Template with GUID '{GHOST}' not found")
    );

    let (status, body) = call(&app, &token, "RemoveJITAdminTemplate", json!({"ID": first})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!("Successfully deleted JIT Admin Template with ID: {first}")
    );
    assert_eq!(list().await.len(), 1);
    let (status, body) = call(&app, &token, "RemoveJITAdminTemplate", json!({"ID": first})).await;
    assert_eq!(status, 404);
    assert_eq!(
        results(&body),
        format!("JIT Admin Template with ID {first} not found")
    );
    app.stop();
}

#[tokio::test]
async fn a_custom_role_writes_templates_only_for_its_own_tenants() {
    let app = spawn_app().await;
    let own = app.tenant(0).default_domain_name.clone();
    let other = app.tenant(1).default_domain_name.clone();
    let custom = app.token("custom").await;
    let editor = app.token("editor").await;
    let (status, body) = call(
        &app,
        &custom,
        "AddUserDefaults",
        json!({"tenantFilter": own, "templateName": "Mine"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mine = results(&body).rsplit(' ').next().unwrap().to_owned();
    // It reads its own tenant's template back, though its role names the tenant by id and the
    // template by default domain; asked by tenant id, the template is found too.
    let (tenant_id, custom_reads) = (app.tenant(0).customer_id.clone(), custom.clone());
    for query in [
        "/api/ListNewUserDefaults".to_owned(),
        format!("/api/ListNewUserDefaults?TenantFilter={tenant_id}"),
    ] {
        let rows: Vec<Value> = app.get_json(&query, &custom_reads).await;
        assert_eq!(rows.len(), 1, "{query}: {rows:?}");
        assert_eq!(rows[0]["GUID"], mine.as_str());
    }
    for tenant in [other.as_str(), "AllTenants"] {
        let (status, body) = call(
            &app,
            &custom,
            "AddUserDefaults",
            json!({"tenantFilter": tenant, "templateName": "Theirs"}),
        )
        .await;
        assert_eq!(status, 403, "{tenant}");
        assert_eq!(results(&body), "Access to this tenant is not allowed");
    }
    // Nor may it overwrite or remove another tenant's template by its GUID.
    let (_, body) = call(
        &app,
        &editor,
        "AddUserDefaults",
        json!({"tenantFilter": other, "templateName": "Theirs"}),
    )
    .await;
    let theirs = results(&body).rsplit(' ').next().unwrap().to_owned();
    let (status, _) = call(
        &app,
        &custom,
        "AddUserDefaults",
        json!({"tenantFilter": own, "templateName": "Taken", "GUID": theirs}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        &custom,
        "RemoveUserDefaultTemplate",
        json!({"ID": theirs}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &app,
        &custom,
        "RemoveUserDefaultTemplate",
        json!({"ID": mine}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Demo mode's own templates are the third tenant's.
    let demo_tenant = app.tenant(2).default_domain_name.clone();
    let rows: Vec<Value> = app
        .get_json::<Vec<Value>>("/api/ListNewUserDefaults", &editor)
        .await
        .into_iter()
        .filter(|r| r["tenantFilter"] != demo_tenant.as_str())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["GUID"], theirs.as_str());
    app.stop();
}

#[tokio::test]
async fn demo_mode_starts_with_templates_to_edit_and_remove_and_keeps_them_removed() {
    let temporary = tempfile::tempdir().unwrap();
    let data_dir = temporary.path().to_owned();
    let dir = data_dir.clone();
    let app = crate::helpers::spawn_app_with(move |s| s.data_dir = dir).await;
    let token = app.token("editor").await;
    let demo_tenant = app.tenant(2).default_domain_name.clone();
    let jit: Vec<Value> = app
        .get_json(
            &format!("/api/ListJITAdminTemplates?TenantFilter={demo_tenant}"),
            &token,
        )
        .await;
    assert_eq!(jit.len(), 2, "{jit:?}");
    let defaults: Vec<Value> = app
        .get_json(
            &format!("/api/ListNewUserDefaults?TenantFilter={demo_tenant}"),
            &token,
        )
        .await;
    assert_eq!(defaults.len(), 1, "{defaults:?}");
    let id = defaults[0]["GUID"].as_str().unwrap().to_owned();
    let (status, body) = call(&app, &token, "RemoveUserDefaultTemplate", json!({"ID": id})).await;
    assert_eq!(status, 200, "{body}");
    app.stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let dir = data_dir.clone();
    let restarted = crate::helpers::spawn_app_with(move |s| s.data_dir = dir).await;
    let token = restarted.token("editor").await;
    let defaults: Vec<Value> = restarted
        .get_json(
            &format!("/api/ListNewUserDefaults?TenantFilter={demo_tenant}"),
            &token,
        )
        .await;
    assert!(
        defaults.is_empty(),
        "a removed demo template stays removed: {defaults:?}"
    );
    restarted.stop();
}
