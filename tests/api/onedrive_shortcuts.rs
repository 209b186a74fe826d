//! OneDrive shortcuts: `ExecOneDriveShortCut` as the user actions menu posts it (to a site's
//! default library, a library, a folder, a browser link), read back from the simulator's
//! OneDrive and through `ListUserOneDriveShortcuts`; `ExecMigrateOneDriveShortCuts` and
//! `ExecRemoveOneDriveShortCut` as the OneDrive Shortcuts page posts them; with their refusals,
//! bad input and Graph failures.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::{Value, json};

struct Setup {
    domain: String,
    tenant_id: String,
    /// A member with a OneDrive.
    upn: String,
    user_id: String,
    /// The All Company team site's URL, as the site picker offers it.
    site: String,
}

async fn onedrive_sites(app: &TestApp, tenant_id: &str) -> Vec<Value> {
    let body: Value = app
        .http
        .get(
            app.sim
                .join(&format!("_sim/sharepoint/{tenant_id}/sites"))
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["sites"].as_array().unwrap().clone()
}

/// The user's shortcuts as the simulator holds them.
async fn sim_shortcuts(app: &TestApp, setup: &Setup) -> Vec<Value> {
    onedrive_sites(app, &setup.tenant_id)
        .await
        .into_iter()
        .find(|s| s["owner"].as_str() == Some(setup.upn.as_str()))
        .expect("the user's OneDrive")["shortcuts"]
        .as_array()
        .unwrap()
        .clone()
}

async fn setup(app: &TestApp) -> Setup {
    let tenant = app.tenant(1).clone();
    let reader = app.token("readonly").await;
    let sites = onedrive_sites(app, &tenant.customer_id).await;
    let first = sites.first().expect("a OneDrive");
    let upn = first["owner"].as_str().unwrap().to_owned();
    let user_id = first["ownerId"].as_str().unwrap().to_owned();
    // As the site picker asks.
    let listed: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListSites?tenantFilter={}&type=SharePointSiteUsage&URLOnly=true",
                tenant.default_domain_name
            ),
            &reader,
        )
        .await;
    let site = listed
        .iter()
        .find(|s| s["displayName"] == "All Company")
        .and_then(|s| s["webUrl"].as_str())
        .expect("the All Company site's URL")
        .to_owned();
    Setup {
        domain: tenant.default_domain_name.clone(),
        tenant_id: tenant.customer_id.clone(),
        upn,
        user_id,
        site,
    }
}

async fn add(app: &TestApp, token: &str, setup: &Setup, url: &str) -> (u16, Value) {
    let response = app
        .post(
            "/api/ExecOneDriveShortCut",
            Some(token),
            // As the OneDrive Shortcuts tab's dialog sends it (its `destination` is not read
            // upstream either).
            json!({"tenantFilter": setup.domain, "username": setup.upn, "userid": setup.user_id,
                   "siteUrl": {"label": url, "value": url},
                   "destination": {"label": "OneDrive root", "value": "root"}}),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_shortcut_to_a_site_library_or_folder_lands_in_the_users_onedrive_and_is_listed() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    let editor = app.token("editor").await;

    // The site itself: its default library, called Documents.
    let (status, body) = add(&app, &editor, &setup, &setup.site).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Successfully created OneDrive Shortcut for {} called All Company",
            setup.upn
        )
    );
    // The same again: Graph's rename makes it "Documents 2" (the OneDrive starts with a
    // "Documents" shortcut, and the first became "Documents 1").
    let (status, _) = add(&app, &editor, &setup, &format!("{}/", setup.site)).await;
    assert_eq!(status, 200);
    // A library by its URL name, then a folder under it (with a space, percent-encoded).
    let (status, body) = add(
        &app,
        &editor,
        &setup,
        &format!("{}/Shared%20Documents", setup.site),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Successfully created OneDrive Shortcut for {} called All Company / Documents",
            setup.upn
        )
    );
    let (status, body) = add(
        &app,
        &editor,
        &setup,
        &format!("{}/Shared%20Documents/Projects/Q4%20Plans", setup.site),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        results(&body).ends_with("called All Company / Q4 Plans"),
        "{body}"
    );
    // A browser link: the folder its `id` names.
    let path = reqwest::Url::parse(&setup.site).unwrap().path().to_owned();
    let link = format!(
        "{}/Shared%20Documents/Forms/AllItems.aspx?id={}&viewid=5",
        setup.site,
        format!("{path}/Shared Documents/General/Reports")
            .replace('/', "%2F")
            .replace(' ', "%20")
    );
    let (status, body) = add(&app, &editor, &setup, &link).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        results(&body).ends_with("called All Company / Reports"),
        "{body}"
    );

    // Read back from the simulator's OneDrive.
    let held = sim_shortcuts(&app, &setup).await;
    let mut names: Vec<&str> = held.iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Documents",
            "Documents 1",
            "Documents 2",
            "Documents 3",
            "Q4 Plans",
            "Reports"
        ]
    );
    assert!(held.iter().all(|s| s["location"] == "OneDrive root"));
    // All but the one the OneDrive started with (the root site's) point at All Company.
    let to_site = held
        .iter()
        .filter(|s| s["siteUrl"].as_str() == Some(setup.site.as_str()))
        .count();
    assert_eq!(to_site, 5, "{held:?}");

    // And as the OneDrive Shortcuts page lists them.
    let reader = app.token("readonly").await;
    let rows: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListUserOneDriveShortcuts?tenantFilter={}&userId={}",
                setup.domain, setup.user_id
            ),
            &reader,
        )
        .await;
    assert_eq!(rows.len(), 6, "{rows:?}");
    let q4 = rows.iter().find(|r| r["name"] == "Q4 Plans").unwrap();
    assert_eq!(q4["location"], "OneDrive root");
    assert_eq!(q4["userPrincipalName"].as_str(), Some(setup.upn.as_str()));
    assert_eq!(q4["userId"].as_str(), Some(setup.user_id.as_str()));
    assert_eq!(q4["siteUrl"].as_str(), Some(setup.site.as_str()));
    for field in ["id", "remoteItemId", "remoteDriveId", "createdDateTime"] {
        assert!(q4[field].is_string(), "{field}: {q4}");
    }
    app.stop();
}

#[tokio::test]
async fn migrating_moves_root_shortcuts_into_the_shortcuts_folder_and_removing_deletes_one() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    let editor = app.token("editor").await;
    for url in [
        setup.site.clone(),
        format!("{}/Shared%20Documents/General", setup.site),
    ] {
        let (status, body) = add(&app, &editor, &setup, &url).await;
        assert_eq!(status, 200, "{body}");
    }
    let held = sim_shortcuts(&app, &setup).await;
    let general = held.iter().find(|s| s["name"] == "General").unwrap();
    let general_id = general["id"].as_str().unwrap().to_owned();

    // One, by id.
    let response = app
        .post(
            "/api/ExecMigrateOneDriveShortCuts",
            Some(&editor),
            json!({"tenantFilter": setup.domain, "username": setup.upn, "id": general_id}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!(
            "Migrated 1 OneDrive shortcut(s) to the Shortcuts folder for {}: General",
            setup.upn
        )
    );
    let held = sim_shortcuts(&app, &setup).await;
    let location = |name: &str| {
        held.iter().find(|s| s["name"] == name).unwrap()["location"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(location("General"), "Shortcuts folder");
    assert_eq!(location("Documents 1"), "OneDrive root");

    // The page lists both, each where it is.
    let reader = app.token("readonly").await;
    let rows: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListUserOneDriveShortcuts?tenantFilter={}&userPrincipalName={}",
                setup.domain, setup.upn
            ),
            &reader,
        )
        .await;
    let listed = |name: &str| {
        rows.iter().find(|r| r["name"] == name).unwrap()["location"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(listed("General"), "Shortcuts folder");
    assert_eq!(listed("Documents 1"), "OneDrive root");

    // The same id again: nothing at the root has it.
    let response = app
        .post(
            "/api/ExecMigrateOneDriveShortCuts",
            Some(&editor),
            json!({"tenantFilter": setup.domain, "username": setup.upn, "id": general_id}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!(
            "No root OneDrive shortcut with id {general_id} found for {}",
            setup.upn
        )
    );

    // Remove the moved one, as the page's row action posts it.
    let response = app
        .post(
            "/api/ExecRemoveOneDriveShortCut",
            Some(&editor),
            json!({"tenantFilter": setup.domain, "username": setup.upn,
                   "id": general_id, "name": "General"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("Removed OneDrive shortcut 'General' for {}", setup.upn)
    );
    let held = sim_shortcuts(&app, &setup).await;
    let mut names: Vec<&str> = held.iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Documents", "Documents 1"]);
    // Gone: Graph's 404 with CIPP's text.
    let response = app
        .post(
            "/api/ExecRemoveOneDriveShortCut",
            Some(&editor),
            json!({"tenantFilter": setup.domain, "username": setup.upn, "id": general_id}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(
        results(&body).starts_with(&format!(
            "Could not remove OneDrive shortcut for {} : ",
            setup.upn
        )),
        "{body}"
    );

    // All the rest.
    let response = app
        .post(
            "/api/ExecMigrateOneDriveShortCuts",
            Some(&editor),
            json!({"tenantFilter": setup.domain, "username": setup.upn}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!(
            "Migrated 2 OneDrive shortcut(s) to the Shortcuts folder for {}: Documents, Documents 1",
            setup.upn
        )
    );
    let response = app
        .post(
            "/api/ExecMigrateOneDriveShortCuts",
            Some(&editor),
            json!({"tenantFilter": setup.domain, "username": setup.upn}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        format!("No root OneDrive shortcuts to migrate for {}", setup.upn)
    );
    app.stop();
}

#[tokio::test]
async fn a_url_matching_no_site_is_cipps_failure_and_nothing_is_made() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    let editor = app.token("editor").await;
    let url = "https://elsewhere.sharepoint.com/sites/Nope";
    let (status, body) = add(&app, &editor, &setup, url).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        results(&body),
        format!(
            "Could not add OneDrive shortcut to {} : Could not find a SharePoint site matching URL: {url}",
            setup.upn
        )
    );
    // A folder the library does not have: Graph's 404, CIPP's text.
    let (status, body) = add(
        &app,
        &editor,
        &setup,
        &format!("{}/Shared%20Documents/Nowhere", setup.site),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        results(&body).starts_with(&format!(
            "Could not add OneDrive shortcut to {} : ",
            setup.upn
        )),
        "{body}"
    );
    assert_eq!(
        sim_shortcuts(&app, &setup).await.len(),
        1,
        "only the seeded one"
    );
    app.stop();
}

#[tokio::test]
async fn the_shortcut_operations_refuse_other_roles_and_bad_input_naming_the_field() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    let reader = app.token("readonly").await;
    let editor = app.token("editor").await;

    let (status, _) = add(&app, &reader, &setup, &setup.site).await;
    assert_eq!(status, 403);
    for (op, body) in [
        (
            "ExecRemoveOneDriveShortCut",
            json!({"tenantFilter": setup.domain, "username": setup.upn, "id": "01ABC"}),
        ),
        (
            "ExecMigrateOneDriveShortCuts",
            json!({"tenantFilter": setup.domain, "username": setup.upn}),
        ),
    ] {
        let response = app.post(&format!("/api/{op}"), Some(&reader), body).await;
        assert_eq!(response.status().as_u16(), 403, "{op}");
    }
    assert_eq!(
        sim_shortcuts(&app, &setup).await.len(),
        1,
        "only the seeded one"
    );

    let bad = [
        (
            "ExecOneDriveShortCut",
            json!({"tenantFilter": setup.domain, "username": setup.upn}),
            "siteUrl",
        ),
        (
            "ExecOneDriveShortCut",
            json!({"tenantFilter": setup.domain, "username": setup.upn,
                   "siteUrl": {"label": "x", "value": "sites/Sales"}}),
            "siteUrl",
        ),
        (
            "ExecOneDriveShortCut",
            json!({"tenantFilter": setup.domain, "siteUrl": {"value": setup.site}}),
            "username",
        ),
        (
            "ExecOneDriveShortCut",
            json!({"tenantFilter": setup.domain, "username": "not a user/../x",
                   "siteUrl": {"value": setup.site}}),
            "username",
        ),
        (
            "ExecRemoveOneDriveShortCut",
            json!({"tenantFilter": setup.domain, "username": setup.upn}),
            "id",
        ),
        (
            "ExecRemoveOneDriveShortCut",
            json!({"tenantFilter": setup.domain, "username": setup.upn, "id": "../permissions"}),
            "id",
        ),
        (
            "ExecMigrateOneDriveShortCuts",
            json!({"tenantFilter": setup.domain}),
            "username",
        ),
    ];
    for (op, body, field) in bad {
        let response = app.post(&format!("/api/{op}"), Some(&editor), body).await;
        assert_eq!(response.status().as_u16(), 400, "{op} {field}");
        let body: Value = response.json().await.unwrap();
        assert!(results(&body).contains(field), "{op}: {body}");
    }
    let response = app
        .get(
            &format!(
                "/api/ListUserOneDriveShortcuts?tenantFilter={}",
                setup.domain
            ),
            Some(&reader),
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(results(&body), "userPrincipalName or userId is required");
    app.stop();
}

#[tokio::test]
async fn graph_failures_surface_with_cipps_texts() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    let editor = app.token("editor").await;
    let reader = app.token("readonly").await;

    // Creating the shortcut fails.
    app.add_fault(json!({"path": "/beta/users/", "method": "POST", "status": 503}))
        .await;
    let (status, body) = add(&app, &editor, &setup, &setup.site).await;
    assert_eq!(status, 500, "{body}");
    let text = results(&body);
    assert!(
        text.starts_with(&format!(
            "Could not add OneDrive shortcut to {} : ",
            setup.upn
        )) && text.len() > format!("Could not add OneDrive shortcut to {} : ", setup.upn).len(),
        "{body}"
    );
    assert_eq!(
        sim_shortcuts(&app, &setup).await.len(),
        1,
        "only the seeded one"
    );

    // Listing fails.
    app.add_fault(json!({"path": "/beta/users/", "method": "GET", "status": 503}))
        .await;
    let response = app
        .get(
            &format!(
                "/api/ListUserOneDriveShortcuts?tenantFilter={}&userPrincipalName={}",
                setup.domain, setup.upn
            ),
            Some(&reader),
        )
        .await;
    assert_eq!(response.status().as_u16(), 500);
    let body: Value = response.json().await.unwrap();
    assert!(
        results(&body).starts_with(&format!(
            "Could not list OneDrive root shortcuts for {} : ",
            setup.upn
        )),
        "{body}"
    );
    let response = app
        .post(
            "/api/ExecMigrateOneDriveShortCuts",
            Some(&editor),
            json!({"tenantFilter": setup.domain, "username": setup.upn}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 500);
    let body: Value = response.json().await.unwrap();
    assert!(
        results(&body).starts_with(&format!(
            "Could not list OneDrive shortcuts for {} : ",
            setup.upn
        )),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn a_user_without_a_onedrive_has_no_shortcuts() {
    let app = spawn_app().await;
    let setup = setup(&app).await;
    let reader = app.token("readonly").await;
    let with_drive: Vec<String> = onedrive_sites(&app, &setup.tenant_id)
        .await
        .iter()
        .map(|s| s["owner"].as_str().unwrap().to_lowercase())
        .collect();
    let users: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={}", setup.domain),
            &reader,
        )
        .await;
    let without = users
        .iter()
        .filter_map(|u| u["userPrincipalName"].as_str())
        .find(|u| !with_drive.contains(&u.to_lowercase()))
        .expect("a user without a OneDrive");
    let rows: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListUserOneDriveShortcuts?tenantFilter={}&userPrincipalName={without}",
                setup.domain
            ),
            &reader,
        )
        .await;
    assert!(rows.is_empty());
    app.stop();
}
