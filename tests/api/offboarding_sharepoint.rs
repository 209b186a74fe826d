//! Offboarding's OneDrive and Teams Phone steps (`offboarding_sharepoint`), called directly
//! with the app's own Graph client against the simulator; effects read back from it.

use crate::helpers::{TestApp, spawn_app};
use cipp_api::demo::{PARTNER_CLIENT_ID, PARTNER_CLIENT_SECRET};
use cipp_graph::{GraphVersion, Method};
use cipp_users_domain::offboarding_sharepoint::{
    disable_onedrive_sharing, grant_onedrive_access, remove_teams_phone_numbers,
};
use serde_json::Value;

/// The tenant's OneDrive sites as the simulator keeps them.
async fn sites(app: &TestApp, tenant: &str) -> Vec<Value> {
    let body: Value = app
        .http
        .get(
            app.sim
                .join(&format!("_sim/sharepoint/{tenant}/sites"))
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

async fn users(app: &TestApp, tenant: &str) -> Vec<Value> {
    app.graph
        .get_all(
            tenant,
            GraphVersion::V1,
            "users?$select=id,userPrincipalName,userType,assignedLicenses",
            &[],
        )
        .await
        .unwrap()
}

async fn numbers(app: &TestApp, tenant: &str) -> Vec<Value> {
    app.graph
        .get_all(
            tenant,
            GraphVersion::Beta,
            "admin/teams/telephoneNumberManagement/numberAssignments",
            &[],
        )
        .await
        .unwrap()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_access_user_given_by_object_id_becomes_a_site_collection_admin_of_the_onedrive() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).customer_id.clone();
    let all = sites(&app, &tenant).await;
    assert!(all.len() >= 2, "seeded OneDrives: {all:?}");
    let (site, other) = (&all[0], &all[1]);
    let owner = text(site, "owner");
    let url = text(site, "url");
    let access_upn = text(other, "owner");
    let access_id = text(other, "ownerId").to_owned();

    let lines = grant_onedrive_access(&app.graph, &tenant, owner, &[access_id]).await;

    assert_eq!(
        lines,
        vec![format!(
            "Successfully added {access_upn} as a site collection admin of {url}"
        )]
    );
    let after = sites(&app, &tenant).await;
    let admins = after.iter().find(|s| text(s, "url") == url).unwrap()["siteAdmins"].clone();
    assert!(
        admins
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str() == Some(access_upn)),
        "{admins}"
    );
    // The same through SharePoint REST, with a SharePoint token for the site's origin.
    let site_users = app
        .graph
        .app_only()
        .sharepoint_rest(
            &tenant,
            Method::GET,
            url::Url::parse(&format!("{url}/_api/web/siteusers")).unwrap(),
            None,
            false,
        )
        .await
        .unwrap()
        .unwrap();
    let entry = site_users["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| text(u, "UserPrincipalName") == access_upn)
        .cloned()
        .unwrap();
    assert_eq!(entry["IsSiteAdmin"], true);
    app.stop();
}

#[tokio::test]
async fn an_access_user_sharepoint_cannot_resolve_gets_the_could_not_be_resolved_line_and_the_next_one_is_still_added()
 {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let all = sites(&app, &tenant.customer_id).await;
    let (site, other) = (&all[0], &all[1]);
    let url = text(site, "url");
    let unknown = format!("nobody@{}", tenant.default_domain_name);
    let known = text(other, "owner").to_owned();

    let lines = grant_onedrive_access(
        &app.graph,
        &tenant.customer_id,
        text(site, "owner"),
        &[unknown.clone(), " ".to_owned(), known.clone()],
    )
    .await;

    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        lines[0],
        format!(
            "Failed to change access for {unknown} on {url} - could not be resolved in SharePoint. This normally means the account has no SharePoint Online licence, which SharePoint reports as the user not existing. Assign a licence that includes SharePoint and try again. Guest accounts do not need one."
        )
    );
    assert_eq!(
        lines[1],
        format!("Successfully added {known} as a site collection admin of {url}")
    );
    app.stop();
}

#[tokio::test]
async fn disabling_onedrive_sharing_sets_the_sites_sharing_capability_to_disabled() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).customer_id.clone();
    let all = sites(&app, &tenant).await;
    let site = &all[0];
    let (owner, url) = (text(site, "owner"), text(site, "url"));
    assert_ne!(text(site, "sharingCapability"), "Disabled");

    let lines = disable_onedrive_sharing(&app.graph, &tenant, owner).await;

    assert_eq!(
        lines,
        vec![format!(
            "Successfully set OneDrive sharing to 'Disabled' for {owner} ({url})"
        )]
    );
    let after = sites(&app, &tenant).await;
    for s in &after {
        let expected = if text(s, "url") == url {
            "Disabled"
        } else {
            text(
                all.iter().find(|a| a["url"] == s["url"]).unwrap(),
                "sharingCapability",
            )
        };
        assert_eq!(text(s, "sharingCapability"), expected, "{s}");
    }
    // The change went through the admin CSOM (the simulator saw ProcessQuery).
    assert!(
        app.sim_count("/_vti_bin/client.svc/ProcessQuery", None)
            .await
            >= 1
    );
    app.stop();
}

#[tokio::test]
async fn a_user_without_a_onedrive_gets_the_could_not_determine_the_site_url_failure() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).customer_id.clone();
    let with_site: Vec<String> = sites(&app, &tenant)
        .await
        .iter()
        .map(|s| text(s, "ownerId").to_owned())
        .collect();
    let user = users(&app, &tenant)
        .await
        .into_iter()
        .find(|u| u["userType"] == "Member" && !with_site.iter().any(|id| id == text(u, "id")))
        .expect("a member without a OneDrive");
    let upn = text(&user, "userPrincipalName");

    let lines = grant_onedrive_access(&app.graph, &tenant, upn, &[with_site[0].clone()]).await;
    assert_eq!(
        lines,
        vec![format!(
            "Failed to process SharePoint permissions. Error: Could not determine the OneDrive site URL for {upn}. The user may not have a provisioned OneDrive."
        )]
    );
    let sharing = disable_onedrive_sharing(&app.graph, &tenant, upn).await;
    assert_eq!(sharing.len(), 1);
    assert!(
        sharing[0].starts_with(&format!(
            "Failed to set OneDrive sharing for {upn}. Error: "
        )),
        "{sharing:?}"
    );
    app.stop();
}

#[tokio::test]
async fn the_users_two_phone_numbers_are_unassigned_and_the_others_are_untouched() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).customer_id.clone();
    let before = numbers(&app, &tenant).await;
    assert!(before.len() > 5, "more than one page: {}", before.len());
    let target = before
        .iter()
        .map(|n| text(n, "assignmentTargetId"))
        .find(|t| {
            !t.is_empty()
                && before
                    .iter()
                    .filter(|n| text(n, "assignmentTargetId") == *t)
                    .count()
                    == 2
        })
        .expect("a user with two numbers")
        .to_owned();
    let user = app
        .graph
        .get(
            &tenant,
            GraphVersion::V1,
            &format!("users/{target}?$select=userPrincipalName"),
            &[],
        )
        .await
        .unwrap();
    let upn = text(&user, "userPrincipalName");
    let theirs: Vec<&str> = before
        .iter()
        .filter(|n| text(n, "assignmentTargetId") == target)
        .map(|n| text(n, "telephoneNumber"))
        .collect();

    let lines = remove_teams_phone_numbers(&app.graph, &tenant, upn).await;

    let mut expected: Vec<String> = theirs
        .iter()
        .map(|n| format!("Successfully removed Teams Phone DID: '{n}' from: '{upn}' - '{target}'"))
        .collect();
    expected.push(format!(
        "Completed processing 2 DIDs for user '{upn}': 2 successful, 0 failed"
    ));
    assert_eq!(lines, expected);
    let after = numbers(&app, &tenant).await;
    assert_eq!(after.len(), before.len());
    for (old, new) in before.iter().zip(&after) {
        if theirs.contains(&text(old, "telephoneNumber")) {
            assert_eq!(new["assignmentStatus"], "unassigned", "{new}");
            assert_eq!(new["assignmentTargetId"], Value::Null, "{new}");
        } else {
            assert_eq!(old, new);
        }
    }
    // The unassignments went through one $batch, each item under its own path.
    assert_eq!(app.sim_count("/beta/$batch", Some(&tenant)).await, 1);
    assert_eq!(app.sim_count("/unassignNumber", Some(&tenant)).await, 2);
    app.stop();
}

#[tokio::test]
async fn a_user_with_no_phone_numbers_gets_the_no_dids_assigned_line() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).customer_id.clone();
    let assigned: Vec<String> = numbers(&app, &tenant)
        .await
        .iter()
        .map(|n| text(n, "assignmentTargetId").to_owned())
        .collect();
    let user = users(&app, &tenant)
        .await
        .into_iter()
        .find(|u| !assigned.iter().any(|a| a == text(u, "id")))
        .unwrap();
    let (upn, id) = (text(&user, "userPrincipalName"), text(&user, "id"));

    let lines = remove_teams_phone_numbers(&app.graph, &tenant, upn).await;

    assert_eq!(
        lines,
        vec![format!(
            "No Teams Phone DIDs found assigned to user: '{upn}' - '{id}'"
        )]
    );
    app.stop();
}

#[tokio::test]
async fn the_admin_csom_reports_an_unknown_site_in_error_info_and_site_rest_refuses_a_graph_token()
{
    let app = spawn_app().await;
    let tenant = app.tenant(1).customer_id.clone();
    let admin = app.graph.sharepoint_admin_url(&tenant).await.unwrap();
    assert!(admin.as_str().starts_with(app.sim.as_str()), "{admin}");
    let missing = format!("{}_sp/x-my/personal/nobody", app.sim);
    let xml = format!(
        r#"<Request xmlns="http://schemas.microsoft.com/sharepoint/clientquery/2009" SchemaVersion="15.0.0.0" LibraryVersion="16.0.0.0"><Actions><ObjectPath Id="5" ObjectPathId="4" /></Actions><ObjectPaths><Constructor Id="1" TypeId="{{268004ae-ef6b-4e9b-8425-127220d84719}}" /><Method Id="4" ParentId="1" Name="GetSitePropertiesByUrl"><Parameters><Parameter Type="String">{missing}</Parameter><Parameter Type="Boolean">false</Parameter></Parameters></Method></ObjectPaths></Request>"#
    );
    let answer = app
        .graph
        .sharepoint_process_query(&tenant, &admin, &xml)
        .await
        .unwrap();
    assert_eq!(answer[0]["SchemaVersion"], "15.0.0.0");
    assert_eq!(
        answer[0]["ErrorInfo"]["ErrorMessage"],
        format!("Cannot get site {missing}.")
    );
    assert_eq!(
        answer[0]["ErrorInfo"]["ErrorTypeName"],
        "Microsoft.Online.SharePoint.Common.SpoNoSiteException"
    );

    let site = text(&sites(&app, &tenant).await[0], "url").to_owned();
    let token: Value = app
        .http
        .post(
            app.sim
                .join(&format!("{tenant}/oauth2/v2.0/token"))
                .unwrap(),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", PARTNER_CLIENT_ID),
            ("client_secret", PARTNER_CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refused = app
        .http
        .get(format!("{site}/_api/web/siteusers"))
        .bearer_auth(text(&token, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    app.stop();
}

/// The wizard's OneDrive and Teams options end to end: each is a step of the job, and each
/// effect is read back from the simulator.
#[tokio::test]
async fn the_wizards_onedrive_and_teams_options_run_as_steps_and_their_effects_are_read_back() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).customer_id.clone();
    let domain = app.tenant(1).default_domain_name.clone();
    let before = numbers(&app, &tenant).await;
    let all = sites(&app, &tenant).await;
    // A leaver with a OneDrive and a phone number, and someone else to get access.
    let (leaver_site, target) = all
        .iter()
        .find_map(|s| {
            let id = text(s, "ownerId");
            before
                .iter()
                .any(|n| {
                    text(n, "assignmentTargetId") == id
                        && text(n, "assignmentStatus") != "unassigned"
                })
                .then(|| (s.clone(), id.to_owned()))
        })
        .expect("a user with a OneDrive and a phone number");
    let leaver = text(&leaver_site, "owner").to_owned();
    let url = text(&leaver_site, "url").to_owned();
    let heir = all
        .iter()
        .find(|s| s["ownerId"] != target.as_str())
        .unwrap();
    let (heir_upn, heir_id) = (
        text(heir, "owner").to_owned(),
        text(heir, "ownerId").to_owned(),
    );

    let editor = app.token("editor").await;
    let answer: Value = app
        .post(
            "/api/ExecOffboardUser",
            Some(&editor),
            serde_json::json!({"tenantFilter": domain, "user": [{"label": leaver, "value": leaver}],
                "OnedriveAccess": [{"label": heir_upn, "value": heir_id}],
                "DisableOneDriveSharing": true, "RemoveTeamsPhoneDID": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let rows =
        crate::offboarding::finished_rows(&app, answer["DeploymentId"].as_str().unwrap()).await;
    let steps = rows[0]["Steps"].as_array().unwrap();
    let titles: Vec<&str> = steps.iter().map(|s| text(s, "Title")).collect();
    assert_eq!(
        titles,
        [
            "Grant OneDrive full access",
            "Disable OneDrive sharing links",
            "Remove Teams phone DID"
        ]
    );
    assert!(
        steps.iter().all(|s| s["Status"] == "succeeded"),
        "{steps:#?}"
    );
    assert_eq!(
        text(&steps[0], "Message"),
        format!("Successfully added {heir_upn} as a site collection admin of {url}")
    );

    let site = sites(&app, &tenant)
        .await
        .into_iter()
        .find(|s| text(s, "url") == url)
        .unwrap();
    assert_eq!(text(&site, "sharingCapability"), "Disabled");
    assert!(site["siteAdmins"].to_string().contains(&heir_upn), "{site}");
    let after = numbers(&app, &tenant).await;
    assert!(
        after
            .iter()
            .filter(|n| text(n, "assignmentTargetId") == target)
            .all(|n| text(n, "assignmentStatus") == "unassigned"),
        "{after:#?}"
    );
    app.stop();
}

#[tokio::test]
async fn exec_set_one_drive_sharing_sets_the_capability_asked_and_refuses_an_unknown_one() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).customer_id.clone();
    let domain = app.tenant(1).default_domain_name.clone();
    let all = sites(&app, &tenant).await;
    let (owner, url) = (
        text(&all[0], "owner").to_owned(),
        text(&all[0], "url").to_owned(),
    );
    let editor = app.token("editor").await;
    let answer = app
        .post(
            "/api/ExecSetOneDriveSharing",
            Some(&editor),
            serde_json::json!({"tenantFilter": domain, "UPN": owner,
                "SharingCapability": {"label": "Anyone", "value": "ExternalUserAndGuestSharing"}}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["Results"],
        format!(
            "Successfully set OneDrive sharing to 'ExternalUserAndGuestSharing' for {owner} ({url})"
        )
    );
    let site = sites(&app, &tenant)
        .await
        .into_iter()
        .find(|s| text(s, "url") == url)
        .unwrap();
    assert_eq!(
        text(&site, "sharingCapability"),
        "ExternalUserAndGuestSharing"
    );
    let answer = app
        .post(
            "/api/ExecSetOneDriveSharing",
            Some(&editor),
            serde_json::json!({"tenantFilter": domain, "UPN": owner, "SharingCapability": "Everyone"}),
        )
        .await;
    assert_eq!(answer.status().as_u16(), 400);
    app.stop();
}
