//! The tier-2 directory operations the user pages call: ListGroups, EditGroup, ListLicenses,
//! ListCSPsku, ListTenantDetails, ExecLicenseSearch, ListSites and ExecDeviceAction, against
//! the simulator's groups, licences, sites and managed devices; each effect read back from the
//! simulator through Graph or Exchange.

use cipp_graph::GraphVersion;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// A small seeded tenant outside the custom role's scope.
fn small(app: &TestApp) -> cipp_sim::TenantInfo {
    app.tenant(1).clone()
}

async fn call(app: &TestApp, token: &str, path_and_query: &str) -> (u16, Value) {
    let response = app.get(path_and_query, Some(token)).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let response = app.post(path, Some(token), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn graph_get(app: &TestApp, tenant: &str, path: &str) -> Value {
    app.graph
        .get(tenant, GraphVersion::Beta, path, &[])
        .await
        .expect("a simulator read")
}

async fn groups(app: &TestApp, token: &str, domain: &str) -> Vec<Value> {
    let (status, body) = call(
        app,
        token,
        &format!("/api/ListGroups?tenantFilter={domain}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("an array").clone()
}

fn named<'a>(groups: &'a [Value], name: &str) -> &'a Value {
    groups
        .iter()
        .find(|g| g["displayName"] == name)
        .unwrap_or_else(|| panic!("{name} in {groups:?}"))
}

fn ids(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

fn lines(body: &Value) -> Vec<String> {
    body["Results"]
        .as_array()
        .unwrap_or_else(|| panic!("Results list in {body}"))
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

/// Licensed members of the tenant that are not in `group` (users with a mailbox).
async fn outsiders(app: &TestApp, tenant: &str, group: &str) -> Vec<Value> {
    let members = ids(&graph_get(app, tenant, &format!("groups/{group}/members?$top=999")).await);
    let users = graph_get(
        app,
        tenant,
        "users?$select=id,userPrincipalName,displayName,assignedLicenses,userType&$top=999",
    )
    .await;
    users["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            u["userType"] == "Member"
                && !u["assignedLicenses"].as_array().unwrap().is_empty()
                && !members.contains(&u["id"].as_str().unwrap().to_owned())
        })
        .cloned()
        .collect()
}

// ── ListGroups ──

#[tokio::test]
async fn list_groups_names_every_kind_of_group_as_cipp_does() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let list = groups(&app, &token, &tenant.default_domain_name).await;
    let kind = |name: &str| {
        let g = named(&list, name);
        (
            g["groupType"].as_str().unwrap_or("null").to_owned(),
            g["calculatedGroupType"]
                .as_str()
                .unwrap_or("null")
                .to_owned(),
        )
    };
    assert_eq!(kind("All Company"), ("Microsoft 365".into(), "m365".into()));
    assert_eq!(kind("Engineering"), ("Security".into(), "generic".into()));
    assert_eq!(
        kind("Finance Distribution"),
        ("Distribution List".into(), "distributionList".into())
    );
    assert_eq!(
        kind("Executives Secure"),
        ("Mail-Enabled Security".into(), "security".into())
    );
    let dynamic = named(&list, "Dynamic Sales Staff");
    assert_eq!(dynamic["dynamicGroupBool"], true);
    assert_eq!(dynamic["calculatedGroupType"], "generic");
    assert_eq!(named(&list, "Engineering")["dynamicGroupBool"], false);
    assert_eq!(named(&list, "Sales and Marketing")["teamsEnabled"], true);
    assert_eq!(named(&list, "All Company")["teamsEnabled"], false);
    assert_eq!(
        named(&list, "All Company")["primDomain"],
        tenant.default_domain_name.as_str()
    );
    assert_eq!(named(&list, "Engineering")["primDomain"], "");
    assert_eq!(named(&list, "Engineering")["membersCsv"], "");
    assert!(
        named(&list, "Engineering")["SID"]
            .as_str()
            .unwrap()
            .starts_with("S-1-12-1-")
    );
    let names: Vec<String> = list
        .iter()
        .map(|g| g["displayName"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by display name");
    app.stop();
}

#[tokio::test]
async fn list_groups_expands_members_into_members_csv() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListGroups?tenantFilter={}&expandMembers=true",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list = body.as_array().unwrap();
    let engineering = named(list, "Engineering");
    let members = graph_get(
        &app,
        &tenant.customer_id,
        &format!(
            "groups/{}/members?$top=999",
            engineering["id"].as_str().unwrap()
        ),
    )
    .await;
    let upns: Vec<&str> = members["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userPrincipalName"].as_str().unwrap())
        .collect();
    assert!(!upns.is_empty());
    assert_eq!(engineering["membersCsv"], upns.join(","));
    app.stop();
}

#[tokio::test]
async fn list_groups_with_a_group_id_answers_its_details_members_and_owners() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let list = groups(&app, &token, &tenant.default_domain_name).await;
    // A security group: owners from Graph.
    let id = named(&list, "Engineering")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListGroups?tenantFilter={}&groupID={id}&groupType=Security&members=true&owners=true",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["groupInfo"]["id"], id.as_str());
    assert_eq!(body["groupInfo"]["calculatedGroupType"], "generic");
    assert_eq!(body["allowExternal"], true);
    assert_eq!(body["sendCopies"], Value::Null);
    let members = graph_get(
        &app,
        &tenant.customer_id,
        &format!("groups/{id}/members?$top=999"),
    )
    .await;
    assert_eq!(
        body["members"].as_array().unwrap().len(),
        members["value"].as_array().unwrap().len()
    );
    let owners = graph_get(&app, &tenant.customer_id, &format!("groups/{id}/owners")).await;
    assert_eq!(body["owners"][0]["id"], owners["value"][0]["id"]);
    assert!(body["SID"].as_str().unwrap().starts_with("S-1-12-1-"));

    // A distribution list: owners are Exchange's ManagedBy, the sender restriction Exchange's.
    let dl = named(&list, "Finance Distribution")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListGroups?tenantFilter={}&groupID={dl}&groupType=Distribution%20List&owners=true",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let managed = app
        .graph
        .exchange(
            &tenant.customer_id,
            "Get-DistributionGroup",
            json!({"Identity": dl}),
            None,
        )
        .await
        .unwrap();
    let managed_by = managed[0]["ManagedBy"].as_array().unwrap();
    assert!(!managed_by.is_empty());
    assert_eq!(body["owners"][0]["id"], managed_by[0]);
    assert_eq!(
        body["allowExternal"], false,
        "Exchange requires sender authentication"
    );
    assert_eq!(body["members"], json!([]));

    // A Microsoft 365 group: its Exchange settings.
    let m365 = named(&list, "All Company")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListGroups?tenantFilter={}&groupID={m365}&groupType=Microsoft%20365",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sendCopies"], false);
    assert_eq!(body["hideFromOutlookClients"], false);
    app.stop();
}

#[tokio::test]
async fn list_groups_members_without_a_group_id_is_a_400_naming_group_id() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListGroups?tenantFilter={}&members=true",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["Results"],
        "The 'members' and 'owners' parameters require 'groupID' to be set."
    );
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListGroups?tenantFilter={}&groupID=nope",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("groupID"), "{body}");
    app.stop();
}

#[tokio::test]
async fn a_caller_without_group_rights_cannot_list_groups() {
    let app = spawn_app().await;
    let token = app.token("custom").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListGroups?tenantFilter={}",
            app.tenant(0).default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    app.stop();
}

#[tokio::test]
async fn a_graph_failure_listing_groups_is_an_error_with_graphs_text() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    app.add_fault(json!({"path": "/beta/groups", "status": 403, "tenant": tenant.customer_id}))
        .await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListGroups?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert!(status >= 400 && status != 404, "{status} {body}");
    assert!(
        body["Results"]
            .as_str()
            .unwrap()
            .contains("Insufficient privileges"),
        "{body}"
    );
    app.stop();
}

// ── EditGroup ──

#[tokio::test]
async fn edit_group_changes_a_security_groups_members_and_owners_through_graph() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("editor").await;
    let list = groups(&app, &token, &tenant.default_domain_name).await;
    let group = named(&list, "Engineering")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let newcomer = outsiders(&app, &tenant.customer_id, &group).await[0].clone();
    let (new_id, new_upn) = (
        newcomer["id"].as_str().unwrap().to_owned(),
        newcomer["userPrincipalName"].as_str().unwrap().to_owned(),
    );
    let members = ids(&graph_get(
        &app,
        &tenant.customer_id,
        &format!("groups/{group}/members?$top=999"),
    )
    .await);
    let leaver = members.last().unwrap().clone();
    let choice = |id: &str, upn: &str| json!({"label": upn, "value": id, "addedFields": {"userPrincipalName": upn}});
    let (status, body) = post(
        &app,
        &token,
        "/api/EditGroup",
        json!({
            "tenantFilter": tenant.default_domain_name,
            "groupId": {"label": "Engineering", "value": group, "addedFields": {"groupType": "Security", "groupName": "Engineering"}},
            "AddMember": [choice(&new_id, &new_upn)],
            "RemoveMember": [{"label": "Leaver", "value": leaver}],
            "AddOwner": [choice(&new_id, &new_upn)],
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body),
        vec![
            format!("Success - Added member {new_upn} to Engineering group"),
            format!("Success - Removed member {leaver} from Engineering group"),
            format!("Success - Added owner {new_upn} to Engineering group"),
        ]
    );
    let members = ids(&graph_get(
        &app,
        &tenant.customer_id,
        &format!("groups/{group}/members?$top=999"),
    )
    .await);
    assert!(members.contains(&new_id));
    assert!(!members.contains(&leaver));
    let owners =
        ids(&graph_get(&app, &tenant.customer_id, &format!("groups/{group}/owners")).await);
    assert!(owners.contains(&new_id));

    // Removing the owner again, and a contact on a security group: one line each.
    let (status, body) = post(
        &app,
        &token,
        "/api/EditGroup",
        json!({
            "tenantFilter": tenant.default_domain_name,
            "groupId": group,
            "displayName": "Engineering",
            "RemoveOwner": [choice(&new_id, &new_upn)],
            "AddContact": [{"label": "Vendor", "value": "vendor@example.org"}],
        }),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(
        lines(&body),
        vec![
            "Success - Edited group properties for Engineering group. It might take some time to reflect the changes.".to_owned(),
            "Error - You cannot add a contact to a Security Group or a M365 Group".to_owned(),
            format!("Success - Removed owner {new_upn} from Engineering group"),
        ]
    );
    let owners =
        ids(&graph_get(&app, &tenant.customer_id, &format!("groups/{group}/owners")).await);
    assert!(!owners.contains(&new_id));
    app.stop();
}

#[tokio::test]
async fn edit_group_changes_a_distribution_list_through_exchange() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("editor").await;
    let list = groups(&app, &token, &tenant.default_domain_name).await;
    let group = named(&list, "Finance Distribution")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mail = named(&list, "Finance Distribution")["mail"]
        .as_str()
        .unwrap()
        .to_owned();
    let newcomer = outsiders(&app, &tenant.customer_id, &group).await[0].clone();
    let (new_id, new_upn) = (
        newcomer["id"].as_str().unwrap().to_owned(),
        newcomer["userPrincipalName"].as_str().unwrap().to_owned(),
    );
    let name = newcomer["displayName"].as_str().unwrap().to_owned();
    // The posted type says Security; the group read back settles it as a distribution list.
    let (status, body) = post(
        &app,
        &token,
        "/api/EditGroup",
        json!({
            "tenantFilter": tenant.default_domain_name,
            "groupId": {"label": "Finance Distribution", "value": group, "addedFields": {"groupType": "Security", "groupName": "Finance Distribution"}},
            "AddMember": [{"label": name, "value": new_id, "addedFields": {"userPrincipalName": new_upn}}],
            "AddOwner": [{"label": name, "value": new_id}],
            "allowExternal": true,
            "mail": mail,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        lines(&body),
        vec![
            format!("Success - Added member {new_upn} to Finance Distribution group"),
            format!("Success - Added owner {name} to Finance Distribution group"),
            format!("Allowed external senders to send to {mail}."),
        ]
    );
    let members = ids(&graph_get(
        &app,
        &tenant.customer_id,
        &format!("groups/{group}/members?$top=999"),
    )
    .await);
    assert!(members.contains(&new_id));
    let dl = app
        .graph
        .exchange(
            &tenant.customer_id,
            "Get-DistributionGroup",
            json!({"Identity": group}),
            None,
        )
        .await
        .unwrap();
    assert!(
        dl[0]["ManagedBy"]
            .as_array()
            .unwrap()
            .contains(&json!(new_id))
    );
    assert_eq!(dl[0]["RequireSenderAuthenticationEnabled"], false);

    // Adding the same member again is Exchange's refusal, on its own line; the removal works.
    let (status, body) = post(
        &app,
        &token,
        "/api/EditGroup",
        json!({
            "tenantFilter": tenant.default_domain_name,
            "groupId": group,
            "groupName": "Finance Distribution",
            "AddMember": [{"label": name, "value": new_id, "addedFields": {"userPrincipalName": new_upn}}],
            "RemoveMember": [{"label": name, "value": new_id, "addedFields": {"userPrincipalName": new_upn}}],
        }),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    let got = lines(&body);
    assert!(
        got[0].starts_with("Error - ") && got[0].contains("already a member"),
        "{got:?}"
    );
    assert_eq!(
        got[1],
        format!("Success - Removed member {new_upn} from Finance Distribution group")
    );
    let members = ids(&graph_get(
        &app,
        &tenant.customer_id,
        &format!("groups/{group}/members?$top=999"),
    )
    .await);
    assert!(!members.contains(&new_id));
    app.stop();
}

#[tokio::test]
async fn an_exchange_failure_editing_a_group_is_an_error_with_exchanges_text() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("editor").await;
    let list = groups(&app, &token, &tenant.default_domain_name).await;
    let group = named(&list, "Executives Secure")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let newcomer = outsiders(&app, &tenant.customer_id, &group).await[0].clone();
    app.add_fault(json!({"cmdlet": "Add-DistributionGroupMember", "status": 500}))
        .await;
    let (status, body) = post(
        &app,
        &token,
        "/api/EditGroup",
        json!({
            "tenantFilter": tenant.default_domain_name,
            "groupId": group,
            "AddMember": [newcomer["userPrincipalName"]],
        }),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    let got = lines(&body);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("Error - "), "{got:?}");
    let members = ids(&graph_get(
        &app,
        &tenant.customer_id,
        &format!("groups/{group}/members?$top=999"),
    )
    .await);
    assert!(!members.contains(&newcomer["id"].as_str().unwrap().to_owned()));
    app.stop();
}

#[tokio::test]
async fn a_reader_cannot_edit_a_group() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = post(
        &app,
        &token,
        "/api/EditGroup",
        json!({"tenantFilter": tenant.default_domain_name, "groupId": "00000000-0000-4000-8000-000000000000", "AddMember": ["x@example.org"]}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    app.stop();
}

#[tokio::test]
async fn edit_group_without_a_group_or_with_a_bad_member_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("editor").await;
    let (status, body) = post(
        &app,
        &token,
        "/api/EditGroup",
        json!({"tenantFilter": tenant.default_domain_name, "AddMember": ["x@example.org"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("groupId"), "{body}");
    let (status, body) = post(
        &app,
        &token,
        "/api/EditGroup",
        json!({"tenantFilter": tenant.default_domain_name, "groupId": "00000000-0000-4000-8000-000000000000", "AddMember": ["../users"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("AddMember"), "{body}");
    app.stop();
}

// ── ListLicenses, ListCSPsku, ExecLicenseSearch ──

#[tokio::test]
async fn list_licenses_names_each_sku_with_cipps_counts_and_holders() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListLicenses?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rows = body.as_array().unwrap();
    let skus = graph_get(&app, &tenant.customer_id, "subscribedSkus").await;
    assert_eq!(rows.len(), skus["value"].as_array().unwrap().len());
    for sku in skus["value"].as_array().unwrap() {
        let row = rows
            .iter()
            .find(|r| r["skuId"] == sku["skuId"])
            .unwrap_or_else(|| panic!("{sku} in {rows:?}"));
        let used = sku["consumedUnits"].as_i64().unwrap();
        let total = sku["prepaidUnits"]["enabled"].as_i64().unwrap();
        assert_eq!(row["CountUsed"], used.to_string());
        assert_eq!(row["TotalLicenses"], total.to_string());
        assert_eq!(row["CountAvailable"], total - used);
        assert_eq!(row["availableUnits"], total - used);
        assert_eq!(row["Tenant"], tenant.default_domain_name.as_str());
        assert_eq!(row["License"], row["skuPartNumber"]);
        assert_eq!(
            row["AssignedUsers"].as_array().map_or(0, Vec::len) as i64,
            used
        );
        assert!(!row["ServicePlans"].as_array().unwrap().is_empty());
        assert_eq!(row["TermInfo"].as_array().unwrap().len(), 1);
    }
    let e3 = rows
        .iter()
        .find(|r| r["skuId"] == "6fd2c87f-b296-42f0-b197-1e91e994b900");
    if let Some(e3) = e3 {
        assert_eq!(e3["License"], "Office 365 E3");
        assert_eq!(e3["TermInfo"][0]["Term"], "Yearly");
    }
    let exo = rows
        .iter()
        .find(|r| r["skuId"] == "4b9405b0-7788-4568-add1-99614e613b69")
        .expect("Exchange Online (Plan 1)");
    assert_eq!(exo["TermInfo"][0]["Term"], "Monthly");
    assert_eq!(
        exo["AssignedGroups"][0]["displayName"],
        "Dynamic Sales Staff"
    );
    assert_eq!(exo["AssignedGroups"][0]["calculatedGroupType"], "Security");
    let names: Vec<String> = rows
        .iter()
        .map(|r| r["License"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    app.stop();
}

#[tokio::test]
async fn list_licenses_refuses_other_roles_bad_input_and_reports_graph_failures() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let custom = app.token("custom").await;
    let (status, _) = call(
        &app,
        &custom,
        &format!(
            "/api/ListLicenses?tenantFilter={}",
            app.tenant(0).default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListLicenses?tenantFilter={}&IncludeExcluded=maybe",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("IncludeExcluded"), "{body}");
    app.add_fault(json!({"path": "/beta/subscribedSkus", "status": 503}))
        .await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListLicenses?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert!(status >= 500, "{status} {body}");
    assert!(
        body["Results"]
            .as_str()
            .unwrap()
            .contains("temporarily unavailable"),
        "{body}"
    );
    app.stop();
}

#[tokio::test]
async fn list_csp_sku_answers_an_empty_list_for_a_tenant_without_a_sherweb_mapping() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListCSPsku?tenantFilter={}&currentSkuOnly=true",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!([]));
    let (status, _) = call(&app, &token, "/api/ListCSPsku?tenantFilter=nowhere.example").await;
    assert_eq!(status, 400);
    let custom = app.token("custom").await;
    let (status, _) = call(
        &app,
        &custom,
        &format!(
            "/api/ListCSPsku?tenantFilter={}",
            app.tenant(0).default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403);
    app.stop();
}

#[tokio::test]
async fn exec_license_search_names_the_skus_the_callers_tenants_hold() {
    let app = spawn_app().await;
    let token = app.token("readonly").await;
    let tenant = small(&app);
    let skus = graph_get(&app, &tenant.customer_id, "subscribedSkus").await;
    let held = skus["value"][0]["skuId"].as_str().unwrap().to_owned();
    let (status, body) = post(
        &app,
        &token,
        "/api/ExecLicenseSearch",
        json!({"skuIds": [held, "00000000-0000-4000-8000-00000000abcd"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let found = body.as_array().unwrap();
    assert_eq!(found.len(), 1, "{body}");
    assert_eq!(found[0]["skuId"], held.as_str());
    assert!(!found[0]["displayName"].as_str().unwrap().is_empty());

    let (status, body) = post(
        &app,
        &token,
        "/api/ExecLicenseSearch",
        json!({"skuIds": []}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["Results"],
        "No skuIds provided. Please provide an array of skuIds in the request body."
    );

    app.add_fault(json!({"path": "/beta/subscribedSkus", "status": 500}))
        .await;
    let (status, body) = post(
        &app,
        &token,
        "/api/ExecLicenseSearch",
        json!({"skuIds": [held]}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["Results"]
            .as_str()
            .unwrap()
            .starts_with("Failed to search for licenses: "),
        "{body}"
    );
    app.stop();
}

// ── ListTenantDetails ──

#[tokio::test]
async fn list_tenant_details_answers_the_organization_as_cipp_picks_it() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListTenantDetails?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let org = graph_get(&app, &tenant.customer_id, "organization").await;
    let org = &org["value"][0];
    assert_eq!(body["id"], tenant.customer_id.as_str());
    assert_eq!(body["displayName"], org["displayName"]);
    assert_eq!(body["businessPhones"], org["businessPhones"][0]);
    assert_eq!(
        body["technicalNotificationMails"],
        org["technicalNotificationMails"][0]
    );
    assert_eq!(body["customProperties"], json!({}));
    assert_eq!(body["Groups"], json!([]));
    assert!(body.get("verifiedDomains").is_none(), "only CIPP's fields");

    let (status, body) = call(&app, &token, "/api/ListTenantDetails").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("tenantFilter"), "{body}");

    app.add_fault(json!({"path": "/beta/organization", "status": 500}))
        .await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListTenantDetails?tenantFilter={}",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["Results"]
            .as_str()
            .unwrap()
            .starts_with("Failed to retrieve tenant details: "),
        "{body}"
    );
    app.stop();
}

// ── ListSites ──

#[tokio::test]
async fn list_sites_lists_sharepoint_sites_and_onedrives_with_their_usage() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListSites?tenantFilter={}&Type=SharePointSiteUsage",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let sites = body.as_array().unwrap();
    let all_company = sites
        .iter()
        .find(|s| s["displayName"] == "All Company")
        .expect("the All Company team site");
    assert_eq!(all_company["rootWebTemplate"], "GROUP");
    let auto = all_company["AutoMapUrl"].as_str().unwrap();
    assert!(
        auto.starts_with(&format!("tenantId={}&webId={{", tenant.customer_id)),
        "{auto}"
    );
    assert!(!auto.ends_with("listId={}"), "a library was found: {auto}");
    let bytes = all_company["storageUsedInBytes"].as_f64().unwrap();
    let gb = (bytes / 1_073_741_824.0 * 100.0).round() / 100.0;
    assert!((all_company["storageUsedInGigabytes"].as_f64().unwrap() - gb).abs() < 0.011);
    assert!(sites.iter().all(|s| s["rootWebTemplate"] != "SPSPERS"));

    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListSites?tenantFilter={}&Type=OneDriveUsageAccount&URLOnly=true",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let drives = body.as_array().unwrap();
    assert!(!drives.is_empty());
    assert!(
        drives
            .iter()
            .all(|d| d["rootWebTemplate"] == "SPSPERS" && d["AutoMapUrl"] == "")
    );
    assert!(drives.iter().all(|d| {
        d["ownerPrincipalName"]
            .as_str()
            .is_some_and(|u| u.contains('@'))
    }));
    app.stop();
}

#[tokio::test]
async fn list_sites_refuses_a_missing_type_other_roles_and_reports_graph_failures() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("readonly").await;
    let (status, body) = call(
        &app,
        &token,
        &format!("/api/ListSites?tenantFilter={}", tenant.default_domain_name),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["Results"], "Type is required");
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListSites?tenantFilter={}&Type=Teams",
            tenant.default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("Type"), "{body}");
    let custom = app.token("custom").await;
    let (status, _) = call(
        &app,
        &custom,
        &format!(
            "/api/ListSites?tenantFilter={}&Type=SharePointSiteUsage",
            app.tenant(0).default_domain_name
        ),
    )
    .await;
    assert_eq!(status, 403);
    app.add_fault(json!({"path": "/beta/reports", "status": 403}))
        .await;
    let (status, body) = call(
        &app,
        &token,
        &format!(
            "/api/ListSites?tenantFilter={}&Type=SharePointSiteUsage",
            tenant.default_domain_name
        ),
    )
    .await;
    assert!(status >= 400, "{status} {body}");
    assert!(
        body["Results"]
            .as_str()
            .unwrap()
            .contains("Insufficient privileges"),
        "{body}"
    );
    app.stop();
}

// ── ExecDeviceAction ──

async fn managed_devices(app: &TestApp, tenant: &str) -> Vec<Value> {
    graph_get(app, tenant, "deviceManagement/managedDevices").await["value"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn exec_device_action_queues_actions_renames_reassigns_and_deletes_devices() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let token = app.token("editor").await;
    let devices = managed_devices(&app, &tenant.customer_id).await;
    let device = devices[0].clone();
    let id = device["id"].as_str().unwrap().to_owned();
    let domain = tenant.default_domain_name.clone();
    let act = |body: Value| {
        let mut body = body;
        body["tenantFilter"] = json!(domain);
        body["GUID"] = json!(id);
        body
    };

    let (status, body) = post(
        &app,
        &token,
        "/api/ExecDeviceAction",
        act(json!({"Action": "syncDevice"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Results"], format!("Queued syncDevice on {id}"));
    let read = graph_get(
        &app,
        &tenant.customer_id,
        &format!("deviceManagement/managedDevices/{id}"),
    )
    .await;
    assert_eq!(read["deviceActionResults"][0]["actionName"], "syncDevice");

    let (status, body) = post(
        &app,
        &token,
        "/api/ExecDeviceAction",
        act(json!({"Action": "setDeviceName", "input": "PC-%SERIAL%-%TENANTNAME%"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Results"], format!("Queued setDeviceName on {id}"));
    let read = graph_get(
        &app,
        &tenant.customer_id,
        &format!("deviceManagement/managedDevices/{id}"),
    )
    .await;
    let expected: String = format!(
        "PC-{}-{}",
        device["serialNumber"].as_str().unwrap(),
        tenant.display_name
    )
    .chars()
    .take(15)
    .collect();
    assert_eq!(read["deviceName"].as_str().unwrap(), expected);

    let other = devices
        .iter()
        .find(|d| d["userId"] != device["userId"])
        .unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = post(
        &app,
        &token,
        "/api/ExecDeviceAction",
        act(json!({"Action": "users", "user": {"label": "Someone", "value": other}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        format!("Changed primary user on device {id} to {other}")
    );
    let users = graph_get(
        &app,
        &tenant.customer_id,
        &format!("deviceManagement/managedDevices/{id}/users"),
    )
    .await;
    assert_eq!(users["value"][0]["id"], other.as_str());

    let (status, body) = post(
        &app,
        &token,
        "/api/ExecDeviceAction",
        act(json!({"Action": "delete"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Results"], "");
    let gone = app
        .graph
        .get(
            &tenant.customer_id,
            GraphVersion::Beta,
            &format!("deviceManagement/managedDevices/{id}"),
            &[],
        )
        .await;
    assert_eq!(gone.err().and_then(|e| e.status()), Some(404));
    app.stop();
}

#[tokio::test]
async fn exec_device_action_refuses_readers_and_bad_input_and_reports_graph_failures() {
    let app = spawn_app().await;
    let tenant = small(&app);
    let id = managed_devices(&app, &tenant.customer_id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader = app.token("readonly").await;
    let (status, _) = post(
        &app,
        &reader,
        "/api/ExecDeviceAction",
        json!({"tenantFilter": tenant.default_domain_name, "GUID": id, "Action": "syncDevice"}),
    )
    .await;
    assert_eq!(status, 403);
    let token = app.token("editor").await;
    let (status, body) = post(
        &app,
        &token,
        "/api/ExecDeviceAction",
        json!({"tenantFilter": tenant.default_domain_name, "GUID": id}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("Action"), "{body}");
    let (status, body) = post(
        &app,
        &token,
        "/api/ExecDeviceAction",
        json!({"tenantFilter": tenant.default_domain_name, "GUID": id, "Action": "../../users"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    // Graph's own refusal of an action it does not have keeps CIPP's text.
    let (status, body) = post(
        &app,
        &token,
        "/api/ExecDeviceAction",
        json!({"tenantFilter": tenant.default_domain_name, "GUID": id, "Action": "selfDestruct"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["Results"].as_str().unwrap(),
        format!(
            "Failed to queue action selfDestruct on {id} : Resource not found for the segment 'selfDestruct'."
        )
    );
    app.add_fault(
        json!({"path": "/beta/deviceManagement/managedDevices", "method": "POST", "status": 503}),
    )
    .await;
    let (status, body) = post(
        &app,
        &token,
        "/api/ExecDeviceAction",
        json!({"tenantFilter": tenant.default_domain_name, "GUID": id, "Action": "rebootNow"}),
    )
    .await;
    assert!(status >= 500, "{status} {body}");
    assert!(
        body["Results"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Failed to queue action rebootNow on {id} : ")),
        "{body}"
    );
    let read = graph_get(&app, &tenant.customer_id, "deviceManagement/managedDevices").await;
    let device = read["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(device.get("deviceActionResults").is_none(), "{device}");
    app.stop();
}

/// Prints the demo ids the examples use (run by hand when the seed changes).
#[tokio::test]
#[ignore]
async fn print_demo_ids() {
    let app = spawn_app().await;
    let t = app.tenant(0).clone();
    let token = app.token("readonly").await;
    let list = groups(&app, &token, &t.default_domain_name).await;
    println!(
        "GROUP_ID {} {}",
        t.default_domain_name,
        named(&list, "Engineering")["id"]
    );
    println!(
        "DEVICE {}",
        managed_devices(&app, &t.customer_id).await[0]["id"]
    );
    app.stop();
}
