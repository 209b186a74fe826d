//! AddUser and AddGuest against the simulator: the user is created with CIPP's body and read
//! back (licence, usage location, aliases, groups, manager); the password reaches the caller
//! only; Graph's refusals give CIPP's texts; bad input is a 400 naming the field.

use crate::helpers::{TestApp, correlation_id, spawn_app};
use serde_json::{Value, json};

const BUSINESS_PREMIUM: &str = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46";

async fn call(app: &TestApp, role: &str, operation: &str, body: Value) -> (u16, Value) {
    let token = app.token(role).await;
    let response = app
        .post(&format!("/api/{operation}"), Some(&token), body)
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn find_user(app: &TestApp, tenant: &str, id: &str) -> Value {
    let token = app.token("readonly").await;
    let rows: Vec<Value> = app
        .get_json(
            &format!("/api/ListUsers?tenantFilter={tenant}&UserID={id}"),
            &token,
        )
        .await;
    rows.into_iter().next().expect("the user")
}

async fn group_named(app: &TestApp, tenant: &str, name: &str) -> String {
    let token = app.token("readonly").await;
    let body: Value = app
        .get_json(
            &format!("/api/ListGraphRequest?tenantFilter={tenant}&Endpoint=groups"),
            &token,
        )
        .await;
    body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["displayName"] == name)
        .and_then(|g| g["id"].as_str())
        .expect("a seeded group")
        .to_owned()
}

fn satisfies_classic_rules(password: &str) -> bool {
    const CLASSES: [&str; 4] = [
        "ABCDEFGHKLMNPRSTUVWXYZ",
        "abcdefghkmnrstuvwxyz",
        "23456789",
        "$%&*#",
    ];
    password.chars().count() == 14
        && CLASSES
            .iter()
            .all(|class| password.chars().any(|c| class.contains(c)))
}

fn texts(body: &Value) -> Vec<String> {
    body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn add_user_creates_the_user_with_licence_usage_location_aliases_groups_and_manager() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let engineering = group_named(&app, &domain, "Engineering").await;
    let all_company = group_named(&app, &domain, "All Company").await;
    let distribution = group_named(&app, &domain, "Finance Distribution").await;
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &token)
        .await;
    let manager = users
        .iter()
        .find(|u| u["userType"] == "Member")
        .and_then(|u| u["userPrincipalName"].as_str())
        .unwrap()
        .to_owned();
    let upn = format!("ada.new@{domain}");
    let body = json!({
        "tenantFilter": domain,
        "username": "ada.new",
        "primDomain": {"label": domain, "value": domain},
        "givenName": "Ada", "surname": "New", "displayName": "Ada New",
        "jobTitle": "Engineer", "city": "Utrecht",
        "usageLocation": {"label": "Netherlands", "value": "NL"},
        "otherMails": "ada@example.org, ada2@example.org",
        "businessPhones": ["+31 30 123 4567"],
        "MustChangePass": true,
        "licenses": [{"label": "Business Premium", "value": BUSINESS_PREMIUM}],
        "AddedAliases": format!("ada.alias@{domain}\nada.other@{domain}"),
        "AddToGroups": [
            {"label": "Engineering", "value": engineering, "addedFields": {"groupType": "Security"}},
            {"label": "All Company", "value": all_company, "addedFields": {"groupType": "Microsoft 365"}},
            {"label": "Finance Distribution", "value": distribution, "addedFields": {"groupType": "Distribution list"}}
        ],
        "setManager": {"label": "Boss", "value": manager},
    });
    let token = app.token("editor").await;
    let response = app.post("/api/AddUser", Some(&token), body).await;
    assert_eq!(response.status().as_u16(), 200);
    let correlation = correlation_id(&response);
    let body: Value = response.json().await.unwrap();
    let results = body["Results"].as_array().unwrap();
    assert_eq!(results[0], "Created New User.");
    assert_eq!(
        results[1],
        json!({"resultText": format!("Username: {upn}"), "copyField": upn, "state": "success"})
    );
    let password = results[2]["copyField"].as_str().unwrap().to_owned();
    assert!(satisfies_classic_rules(&password), "{password}");
    assert_eq!(results[2]["resultText"], format!("Password: {password}"));
    let lines = texts(&body);
    let expected = [
        format!(
            "Successfully set licenses for {upn}. It may take 2\u{2013}5 minutes before the changes become visible."
        ),
        format!("Added Aliases: ada.alias@{domain},ada.other@{domain}"),
        format!("Successfully added user {upn} to group Engineering."),
        format!("Successfully added user {upn} to group All Company."),
        // A distribution list: through Exchange's Add-DistributionGroupMember.
        format!("Successfully added user {upn} to group Finance Distribution."),
        format!("Set {upn}'s manager to {manager}"),
    ];
    for line in &expected {
        assert!(lines.contains(line), "{line} not in {lines:?}");
    }
    assert_eq!(
        body["CopyFrom"],
        json!({"Success": null, "Error": null, "Skipped": null})
    );
    let id = body["User"]["id"].as_str().unwrap().to_owned();

    let row = find_user(&app, &domain, &id).await;
    assert_eq!(row["userPrincipalName"], upn);
    assert_eq!(row["displayName"], "Ada New");
    assert_eq!(row["jobTitle"], "Engineer");
    assert_eq!(row["usageLocation"], "NL");
    assert_eq!(row["accountEnabled"], true);
    assert_eq!(
        row["otherMails"],
        json!(["ada@example.org", "ada2@example.org"])
    );
    assert_eq!(row["assignedLicenses"][0]["skuId"], BUSINESS_PREMIUM);
    let proxies = row["proxyAddresses"].to_string().to_ascii_lowercase();
    assert!(
        proxies.contains(&format!("smtp:ada.alias@{domain}")),
        "{proxies}"
    );
    assert!(
        proxies.contains(&format!("smtp:ada.other@{domain}")),
        "{proxies}"
    );
    assert_eq!(row["mail"], upn);
    assert_eq!(row["manager"]["userPrincipalName"], manager);
    let stored = app.sim_user(&tenant.customer_id, &id).await;
    assert_eq!(
        stored["passwordProfile"]["forceChangePasswordNextSignIn"],
        true
    );

    let token = app.token("readonly").await;
    let groups: Vec<Value> = app
        .get_json(
            &format!("/api/ListUserGroups?tenantFilter={domain}&userId={id}"),
            &token,
        )
        .await;
    let names: Vec<&str> = groups
        .iter()
        .filter_map(|g| g["DisplayName"].as_str().or(g["displayName"].as_str()))
        .collect();
    assert!(names.contains(&"Engineering"), "{groups:?}");
    assert!(names.contains(&"All Company"), "{groups:?}");
    assert!(names.contains(&"Finance Distribution"), "{groups:?}");

    // The audit row has CIPP's log line and never the password.
    let superadmin = app.token("superadmin").await;
    let logs: Vec<Value> = app
        .get_json(
            "/api/ListLogs?Filter=true&Severity=Info,Warning,Error,Debug",
            &superadmin,
        )
        .await;
    let rows: Vec<&Value> = logs
        .iter()
        .filter(|r| r["LogData"]["CorrelationId"] == correlation.as_str())
        .collect();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].to_string().contains(&password), "{}", rows[0]);
    assert_eq!(
        rows[0]["Message"],
        format!("Created user Ada New with id {id}")
    );
    app.stop();
}

#[tokio::test]
async fn add_user_uses_the_callers_password_and_refuses_a_weak_one_with_cipps_text() {
    let app = spawn_app().await;
    let domain = app.tenant(2).default_domain_name.clone();
    let base = json!({"tenantFilter": domain, "username": "grace", "Domain": domain, "displayName": "Grace"});
    let mut weak = base.clone();
    weak["password"] = json!("password");
    let (status, body) = call(&app, "editor", "AddUser", weak).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"Results": ["Failed to create user. Error:The specified password does not comply with password complexity requirements. Please provide a different password."], "code": "upstream_rejected"})
    );
    let mut strong = base.clone();
    strong["password"] = json!("Correct-Horse-42");
    strong["sharedMailboxes"] = json!([{"label": "Support", "value": format!("support@{domain}")}]);
    let (status, body) = call(&app, "admin", "AddUser", strong).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Results"][2]["copyField"], "Correct-Horse-42");
    assert_eq!(
        body["Results"][3],
        "Not granted mailbox access to Support: the grant is scheduled work and this service has no scheduler."
    );
    assert_eq!(body["Results"].as_array().unwrap().len(), 4);
    app.stop();
}

#[tokio::test]
async fn add_user_with_a_taken_username_answers_cipps_failure_text() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let body = json!({"tenantFilter": domain, "username": "twice", "primDomain": domain, "displayName": "Twice"});
    let (status, _) = call(&app, "editor", "AddUser", body.clone()).await;
    assert_eq!(status, 200);
    let (status, answer) = call(&app, "editor", "AddUser", body).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer,
        json!({"Results": ["Failed to create user. Error:Another object with the same value for property userPrincipalName already exists."], "code": "upstream_rejected"})
    );
    app.stop();
}

#[tokio::test]
async fn add_user_and_add_guest_are_refused_to_readonly_callers() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    app.reset_sim_stats().await;
    let (status, _) = call(
        &app,
        "readonly",
        "AddUser",
        json!({"tenantFilter": domain, "username": "x", "primDomain": domain, "displayName": "X"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        "readonly",
        "AddGuest",
        json!({"tenantFilter": domain, "mail": "x@example.org"}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(app.sim_count("/users", None).await, 0);
    assert_eq!(app.sim_count("/invitations", None).await, 0);
    app.stop();
}

#[tokio::test]
async fn add_user_answers_400_naming_a_missing_or_bad_field_and_refuses_scheduling() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    let (status, body) = call(
        &app,
        "editor",
        "AddUser",
        json!({"username": "x", "primDomain": domain, "displayName": "X"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["Results"].as_str().unwrap().contains("tenantFilter"),
        "{body}"
    );
    app.reset_sim_stats().await;
    let base =
        json!({"tenantFilter": domain, "username": "x", "primDomain": domain, "displayName": "X"});
    let cases = [
        ("username", json!(null)),
        ("username", json!("two words")),
        ("primDomain", json!(null)),
        ("displayName", json!("")),
        ("licenses", json!([{"label": "E3", "value": "not-a-sku"}])),
        ("AddToGroups", json!([{"label": "No id"}])),
    ];
    for (field, value) in cases {
        let mut body = base.clone();
        body[field] = value;
        let (status, answer) = call(&app, "editor", "AddUser", body).await;
        assert_eq!(status, 400, "{field}: {answer}");
        let text = answer["Results"].as_str().unwrap();
        assert!(text.contains(field), "{field}: {text}");
    }
    // Scheduled for 2030: queued as a job, nothing sent to Graph now.
    let mut scheduled = base.clone();
    scheduled["Scheduled"] = json!({"enabled": true, "date": 1_900_000_000});
    let (status, answer) = call(&app, "editor", "AddUser", scheduled).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["Results"],
        json!(["Successfully created scheduled task to create user X"])
    );
    assert_eq!(app.sim_count("/users", None).await, 0);
    app.stop();
}

#[tokio::test]
async fn add_guest_sends_an_invitation_and_the_guest_appears_in_the_user_list() {
    let app = spawn_app().await;
    let tenant = app.tenant(2).clone();
    let domain = tenant.default_domain_name.clone();
    app.reset_sim_stats().await;
    let (status, body) = call(
        &app,
        "editor",
        "AddGuest",
        json!({"tenantFilter": domain, "displayName": "Grace Guest", "mail": "grace@partner.example", "message": "Welcome", "sendInvite": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"Results": ["Invited Guest Grace Guest with Email Invite"]})
    );
    assert_eq!(app.sim_count("/beta/invitations", None).await, 1);
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &token)
        .await;
    let guest = users
        .iter()
        .find(|u| u["mail"] == "grace@partner.example")
        .expect("the invited guest");
    assert_eq!(guest["userType"], "Guest");
    assert_eq!(guest["displayName"], "Grace Guest");
    assert_eq!(guest["externalUserState"], "PendingAcceptance");

    let (status, body) = call(
        &app,
        "editor",
        "AddGuest",
        json!({"tenantFilter": domain, "mail": "quiet@partner.example"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"Results": ["Invited Guest  with no Email Invite"]})
    );
    app.stop();
}

#[tokio::test]
async fn add_guest_answers_400_for_a_bad_address_and_cipps_text_when_graph_refuses() {
    let app = spawn_app().await;
    let domain = app.tenant(1).default_domain_name.clone();
    for (body, field) in [
        (json!({"tenantFilter": domain}), "mail"),
        (
            json!({"tenantFilter": domain, "mail": "not an address"}),
            "mail",
        ),
        (
            json!({"tenantFilter": domain, "mail": "a@example.org", "sendInvite": "maybe"}),
            "sendInvite",
        ),
    ] {
        let (status, answer) = call(&app, "editor", "AddGuest", body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["Results"].as_str().unwrap().contains(field),
            "{answer}"
        );
    }
    // A member's own domain cannot be invited: Graph refuses, CIPP answers 400 with its text.
    let (status, answer) = call(
        &app,
        "editor",
        "AddGuest",
        json!({"tenantFilter": domain, "mail": format!("someone@{domain}")}),
    )
    .await;
    assert_eq!(status, 400);
    let text = answer["Results"][0].as_str().unwrap();
    assert!(text.starts_with("Failed to Invite Guest. "), "{text}");
    app.stop();
}

#[tokio::test]
async fn add_user_copies_the_group_memberships_of_another_user() {
    let app = spawn_app().await;
    let domain = app.tenant(2).default_domain_name.clone();
    let engineering = group_named(&app, &domain, "Engineering").await;
    let all_company = group_named(&app, &domain, "All Company").await;
    let (status, body) = call(
        &app,
        "editor",
        "AddUser",
        json!({"tenantFilter": domain, "username": "source", "primDomain": domain, "displayName": "Source",
               "AddToGroups": [{"label": "Engineering", "value": engineering}, {"label": "All Company", "value": all_company}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let source = body["User"]["id"].as_str().unwrap().to_owned();
    let (status, body) = call(
        &app,
        "editor",
        "AddUser",
        json!({"tenantFilter": domain, "username": "copy", "primDomain": domain, "displayName": "Copy",
               "copyFrom": {"label": "Source", "value": source}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut success: Vec<String> = body["CopyFrom"]["Success"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    success.sort();
    assert_eq!(
        success,
        [
            "Added user to group: All Company",
            "Added user to group: Engineering"
        ]
    );
    let lines = texts(&body);
    assert!(
        lines.contains(&"Added user to group: Engineering".to_owned()),
        "{lines:?}"
    );
    let id = body["User"]["id"].as_str().unwrap();
    let token = app.token("readonly").await;
    let groups: Vec<Value> = app
        .get_json(
            &format!("/api/ListUserGroups?tenantFilter={domain}&userId={id}"),
            &token,
        )
        .await;
    assert_eq!(groups.len(), 2, "{groups:?}");
    app.stop();
}

#[tokio::test]
async fn bulk_add_creates_each_valid_row_reports_each_bad_one_and_licenses_the_created() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).clone();
    let domain = tenant.default_domain_name.clone();
    let readonly = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &readonly)
        .await;
    let sku = users
        .iter()
        .find_map(|u| u["assignedLicenses"][0]["skuId"].as_str())
        .unwrap()
        .to_owned();
    let (status, body) = call(
        &app,
        "editor",
        "AddUserBulk",
        json!({"tenantFilter": domain, "usageLocation": {"label": "Netherlands", "value": "NL"},
        "licenses": [{"label": "E3", "value": sku}],
        "BulkUser": [
            {"mailNickName": "bulk.alpha", "domain": domain, "displayName": "Bulk Alpha",
                "password": "Chosen-Pass-1!x", "jobTitle": "Analyst"},
            {"mailNickName": "bulk.beta", "domain": domain, "givenName": "Bulk", "surname": "Beta"},
            {"domain": domain, "displayName": "No Nickname"},
        ]}),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    let results = body["Results"].as_array().unwrap();
    assert_eq!(
        results[0]["resultText"],
        "Required fields missing for row 3 (No Nickname): mailNickName"
    );
    assert_eq!(results[0]["state"], "error");
    assert_eq!(
        results[1]["resultText"],
        format!("Created user for Bulk Alpha with username bulk.alpha@{domain}")
    );
    assert_eq!(results[1]["copyField"], "Chosen-Pass-1!x");
    assert_eq!(
        results[2]["resultText"],
        format!("Created user for Bulk Beta with username bulk.beta@{domain}")
    );
    assert!(!results[2]["copyField"].as_str().unwrap().is_empty());
    assert_eq!(results.len(), 3, "no licence failures: {body}");
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={domain}"), &readonly)
        .await;
    let alpha = users
        .iter()
        .find(|u| u["userPrincipalName"] == format!("bulk.alpha@{domain}"))
        .expect("created");
    assert_eq!(alpha["jobTitle"], "Analyst");
    assert_eq!(alpha["usageLocation"], "NL");
    assert_eq!(alpha["assignedLicenses"][0]["skuId"], sku.as_str());

    // A taken name and a bad row: every row refused, so 400 with each (CIPP: 500).
    let (status, body) = call(
        &app,
        "editor",
        "AddUserBulk",
        json!({"tenantFilter": domain, "BulkUser": [
            {"mailNickName": "bulk.alpha", "domain": domain, "displayName": "Again"},
            {"displayName": "Nothing else"},
        ]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let texts = body["Results"].to_string();
    assert!(
        texts.contains("Failed to create user bulk.alpha@"),
        "{texts}"
    );
    assert!(texts.contains("mailNickName, domain"), "{texts}");
    app.stop();
}
