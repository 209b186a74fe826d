//! BEC containment (ExecBECRemediate) against the simulator's planted incident: the newest
//! contract run as a job with every effect read back, the typed confirmation, the 10.9
//! frontend's legacy call, bad action ids and parameters, and the run recorded on its case.

use crate::helpers::{TestApp, spawn_app};
use crate::offboarding::finished_rows;
use cipp_graph::GraphVersion;
use serde_json::{Value, json};

/// The simulator's planted incident of customer tenant `index`, and the tenant's domain.
async fn incident(app: &TestApp, index: usize) -> (String, Value) {
    let tenant = app.tenant(index).clone();
    let incident: Value = app
        .http
        .get(
            app.sim
                .join(&format!("_sim/incident/{}", tenant.customer_id))
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (tenant.default_domain_name, incident)
}

fn s<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {value}"))
}

async fn remediate(app: &TestApp, body: Value) -> (u16, Value) {
    let token = app.token("editor").await;
    let response = app.post("/api/ExecBECRemediate", Some(&token), body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn exchange(
    app: &TestApp,
    tenant: &str,
    cmdlet: &str,
    params: Value,
    upn: &str,
) -> Vec<Value> {
    app.graph
        .exchange(tenant, cmdlet, params, Some(upn))
        .await
        .unwrap()
}

async fn graph_get(app: &TestApp, tenant: &str, path: &str) -> Value {
    app.graph
        .get(tenant, GraphVersion::V1, path, &[])
        .await
        .unwrap()
}

#[tokio::test]
async fn an_async_containment_runs_each_action_as_a_step_and_every_effect_shows_at_the_simulator() {
    let app = spawn_app().await;
    let (domain, inc) = incident(&app, 1).await;
    let tenant_id = s(&inc, "tenantId").to_owned();
    let (upn, user_id) = (s(&inc, "userPrincipalName"), s(&inc, "userId"));
    let sessions_before =
        app.sim_user(&tenant_id, user_id).await["signInSessionsValidFromDateTime"].clone();
    let trustee = s(&inc, "mailboxPermissionTrustee");

    let actions = [
        "DisableAccount",
        "RevokeSessions",
        "RemoveMFA",
        "RemoveOAuthGrants",
        "DisableServicePrincipals",
        "DisableInboxRules",
        "ClearForwarding",
        "ClearAutoReply",
        "RemoveDelegations",
        "BlockProtocols",
    ];
    let (status, body) = remediate(
        &app,
        json!({
            "tenantFilter": domain,
            "userid": user_id,
            "username": upn,
            // Objects as the frontend's multi-select sends them, and ids in any case.
            "Actions": actions.iter().map(|a| json!({"label": a, "value": a.to_lowercase()})).collect::<Vec<_>>(),
            "Confirmation": format!(" {} ", upn.to_uppercase()),
            "Parameters": {
                "GrantIds": [s(&inc, "grantId")],
                "ServicePrincipalIds": [s(&inc, "maliciousServicePrincipalId")],
                "Delegations": [{"Trustee": trustee, "AccessRights": ["FullAccess"]}],
            },
            "Async": true,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"],
        json!([{"resultText": format!("Queued 10 containment action(s) for {upn}. Progress is shown below and on the scheduled task."), "state": "info"}])
    );
    let deployment = s(&body, "DeploymentId");

    let rows = finished_rows(&app, deployment).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["Source"], "BECRemediation");
    assert_eq!(row["Name"], upn);
    assert_eq!(row["Status"], "succeeded", "{row}");
    let titles: Vec<&str> = row["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Block sign-in",
            "Revoke sessions",
            "Remove MFA methods",
            "Revoke application consents",
            "Disable rogue applications tenant-wide",
            "Disable inbox rules",
            "Clear mailbox forwarding",
            "Turn off automatic replies",
            "Remove mailbox delegations",
            "Block legacy mailbox protocols",
        ]
    );
    let message = |i: usize| row["Steps"][i]["Message"].as_str().unwrap().to_owned();
    assert_eq!(
        message(0),
        format!("Successfully set account enabled state to False for {upn}")
    );
    assert_eq!(
        message(1),
        format!("Successfully revoked sessions for {upn}")
    );
    assert_eq!(
        message(3),
        format!("Revoked application consent {}", s(&inc, "grantId"))
    );
    assert_eq!(
        message(4),
        format!(
            "Disabled service principal {} tenant-wide",
            s(&inc, "maliciousServicePrincipalId")
        )
    );
    assert!(
        message(5).contains(&format!("inbox rule(s) for {upn}.")),
        "{}",
        message(5)
    );
    assert_eq!(
        message(9),
        format!("Disabled EWS, IMAP, POP, ActiveSync, SMTP AUTH for {upn}")
    );

    // Every effect, read back from the simulator.
    let user = app.sim_user(&tenant_id, user_id).await;
    assert_eq!(user["accountEnabled"], false);
    assert_ne!(user["signInSessionsValidFromDateTime"], sessions_before);
    let methods = graph_get(
        &app,
        &tenant_id,
        &format!("users/{user_id}/authentication/methods"),
    )
    .await;
    let kinds: Vec<&str> = methods["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["#microsoft.graph.passwordAuthenticationMethod"]);
    let grants = graph_get(
        &app,
        &tenant_id,
        &format!("users/{user_id}/oauth2PermissionGrants"),
    )
    .await;
    assert!(
        !grants["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == inc["grantId"]),
        "{grants}"
    );
    let sp = graph_get(
        &app,
        &tenant_id,
        &format!(
            "servicePrincipals/{}",
            s(&inc, "maliciousServicePrincipalId")
        ),
    )
    .await;
    assert_eq!(sp["accountEnabled"], false);
    let benign = graph_get(
        &app,
        &tenant_id,
        &format!("servicePrincipals/{}", s(&inc, "benignServicePrincipalId")),
    )
    .await;
    assert_eq!(
        benign["accountEnabled"], true,
        "only the named application is disabled"
    );
    let rules = exchange(
        &app,
        &tenant_id,
        "Get-InboxRule",
        json!({"Mailbox": upn}),
        upn,
    )
    .await;
    assert!(rules.iter().any(|r| r["Name"] == inc["ruleName"]));
    assert!(rules.iter().all(|r| r["Enabled"] == false), "{rules:?}");
    let mailbox = &exchange(
        &app,
        &tenant_id,
        "Get-Mailbox",
        json!({"Identity": upn}),
        upn,
    )
    .await[0];
    assert!(
        mailbox["ForwardingAddress"].is_null() && mailbox["ForwardingSmtpAddress"].is_null(),
        "{mailbox}"
    );
    let reply = &exchange(
        &app,
        &tenant_id,
        "Get-MailboxAutoReplyConfiguration",
        json!({"Identity": upn}),
        upn,
    )
    .await[0];
    assert_eq!(reply["AutoReplyState"], "Disabled");
    let permissions = exchange(
        &app,
        &tenant_id,
        "Get-MailboxPermission",
        json!({"Identity": upn}),
        upn,
    )
    .await;
    assert!(
        !permissions.iter().any(|p| p["User"]
            .as_str()
            .is_some_and(|u| u.eq_ignore_ascii_case(trustee))),
        "{permissions:?}"
    );
    let cas = &exchange(
        &app,
        &tenant_id,
        "Get-CASMailbox",
        json!({"Identity": upn}),
        upn,
    )
    .await[0];
    for off in [
        "EwsEnabled",
        "ImapEnabled",
        "PopEnabled",
        "ActiveSyncEnabled",
    ] {
        assert_eq!(cas[off], false, "{off}: {cas}");
    }
    assert_eq!(cas["SmtpClientAuthenticationDisabled"], true);
    assert_eq!(cas["OWAEnabled"], true, "OWA is not among the defaults");
    app.stop();
}

#[tokio::test]
async fn a_critical_action_without_the_upn_typed_is_a_400_and_changes_nothing() {
    let app = spawn_app().await;
    let (domain, inc) = incident(&app, 1).await;
    let tenant_id = s(&inc, "tenantId").to_owned();
    let (upn, user_id) = (s(&inc, "userPrincipalName"), s(&inc, "userId"));
    let before = app.sim_user(&tenant_id, user_id).await;
    app.reset_sim_stats().await;
    for confirmation in [json!(null), json!("someone.else@example.com")] {
        let (status, body) = remediate(
            &app,
            json!({"tenantFilter": domain, "username": upn, "Confirmation": confirmation,
                "Actions": ["RevokeSessions", "ResetPassword", "DisableServicePrincipals"]}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "invalid_input");
        assert_eq!(
            body["Results"],
            format!(
                "Type the user's UPN ({upn}) to confirm: the selected actions include Critical changes (Reset password, Disable rogue applications tenant-wide)"
            )
        );
    }
    // An empty `Actions` is the default set, which holds Critical actions too.
    let (status, body) = remediate(
        &app,
        json!({"tenantFilter": domain, "username": upn, "Actions": []}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["Results"]
            .as_str()
            .unwrap()
            .ends_with("(Reset password, Block sign-in)"),
        "{body}"
    );

    // The user (password, sign-in, sessions) is as it was, and no call changed anything else.
    assert_eq!(app.sim_user(&tenant_id, user_id).await, before);
    assert_eq!(app.sim_count("invalidateAllRefreshTokens", None).await, 0);
    assert_eq!(app.sim_count("servicePrincipals", None).await, 0);
    app.stop();
}

#[tokio::test]
async fn the_10_9_remediation_card_call_runs_the_legacy_steps_and_answers_text_rows() {
    let app = spawn_app().await;
    let (domain, inc) = incident(&app, 2).await;
    let tenant_id = s(&inc, "tenantId").to_owned();
    let (upn, user_id) = (s(&inc, "userPrincipalName"), s(&inc, "userId"));
    // Exactly what CippRemediationCard posts: no Actions, no Confirmation, no Async.
    let (status, body) = remediate(
        &app,
        json!({"tenantFilter": domain, "userId": user_id, "username": upn}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["DeploymentId"].is_string());
    let rows = body["Results"].as_array().unwrap();
    for row in rows {
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| ["resultText", "state", "copyField"].contains(&k.as_str())),
            "{row}"
        );
    }
    let password = rows[0]["copyField"].as_str().expect("the new password");
    assert!(
        rows[0]["resultText"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Successfully reset the password for {upn}"))
    );
    assert!(rows[0]["resultText"].as_str().unwrap().contains(password));
    assert_eq!(
        rows[1]["resultText"],
        format!("Successfully set account enabled state to False for {upn}")
    );
    assert_eq!(
        rows[2]["resultText"],
        format!("Successfully revoked sessions for {upn}")
    );
    assert!(
        rows[3]["resultText"]
            .as_str()
            .unwrap()
            .starts_with("Successfully removed MFA methods"),
        "{body}"
    );
    assert!(
        rows.iter().any(
            |r| r["resultText"].as_str().unwrap().starts_with("Disabled ")
                && r["resultText"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("inbox rule(s) for {upn}."))
        ),
        "{body}"
    );
    assert_eq!(
        app.sim_user(&tenant_id, user_id).await["accountEnabled"],
        false
    );

    // The steps are upstream's legacy six, and the password is in none of them.
    let token = app.token("readonly").await;
    let progress: Vec<Value> = app
        .get_json(
            &format!(
                "/api/ListOffboardingProgress?DeploymentId={}",
                s(&body, "DeploymentId")
            ),
            &token,
        )
        .await;
    let steps = progress[0]["Steps"].as_array().unwrap();
    let titles: Vec<&str> = steps.iter().map(|s| s["Title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Reset password",
            "Block sign-in",
            "Revoke sessions",
            "Remove MFA methods",
            "Disable inbox rules",
            "Disable OneDrive sharing"
        ]
    );
    assert!(!progress[0].to_string().contains(password));
    assert!(steps[0]["Message"].as_str().unwrap().contains("[redacted]"));
    let superadmin = app.token("superadmin").await;
    let logs: Vec<Value> = app
        .get_json(
            "/api/ListLogs?Filter=true&API=ExecBECRemediate",
            &superadmin,
        )
        .await;
    assert!(!logs.is_empty());
    assert!(!serde_json::to_string(&logs).unwrap().contains(password));
    app.stop();
}

/// The planted devices the incident's user registered in the window, by display name.
async fn window_devices(app: &TestApp, tenant_id: &str, user_id: &str) -> Vec<Value> {
    let devices = graph_get(
        app,
        tenant_id,
        &format!("users/{user_id}/registeredDevices"),
    )
    .await;
    let mut planted: Vec<Value> = devices["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| ["DESKTOP-7QX2LMA", "iPad"].contains(&d["displayName"].as_str().unwrap()))
        .cloned()
        .collect();
    planted.sort_by_key(|d| d["displayName"].as_str().unwrap().to_owned());
    planted
}

#[tokio::test]
async fn the_tenant_device_policy_and_sharing_actions_change_the_simulator_and_schedule_the_policy_removal()
 {
    let app = spawn_app().await;
    let (domain, inc) = incident(&app, 1).await;
    let tenant_id = s(&inc, "tenantId").to_owned();
    let (upn, user_id) = (s(&inc, "userPrincipalName"), s(&inc, "userId"));
    let sender = "billing@contoso-payments.example";
    let devices = window_devices(&app, &tenant_id, user_id).await;
    assert_eq!(devices.len(), 2, "{devices:?}");
    let partnerships = exchange(
        &app,
        &tenant_id,
        "Get-MobileDevice",
        json!({"Mailbox": upn}),
        upn,
    )
    .await;
    // With no partnership to block by default, a named device id is blocked instead.
    let (mobile_ids, expected_blocked): (Vec<String>, Vec<String>) = if partnerships.is_empty() {
        (
            vec!["ATTACKERPHONE01".to_owned()],
            vec!["ATTACKERPHONE01".to_owned()],
        )
    } else {
        let ids = partnerships
            .iter()
            .map(|d| s(d, "DeviceId").to_owned())
            .collect();
        (Vec::new(), ids)
    };

    let (status, body) = remediate(
        &app,
        json!({
            "tenantFilter": domain,
            "userid": user_id,
            "username": upn,
            "Actions": ["RemoveSharingLinks", "BlockSenders", "TargetedCAPolicy", "DisableRegisteredDevices",
                "BlockMobileDevices", "DisableMailboxAddIns", "DisableTransportRules"],
            "Confirmation": upn,
            "Parameters": {
                "MobileDeviceIds": mobile_ids,
                "CAPolicy": {"State": "reportOnly", "Controls": "mfaAndCompliantDevice", "ExpiresHours": 12},
                "BlockSenders": [sender],
            },
            "Async": true,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rows = finished_rows(&app, s(&body, "DeploymentId")).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["Status"], "succeeded", "{row}");
    let titles: Vec<&str> = row["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Disable transport rules",
            "Disable mailbox add-ins",
            "Block mobile device partnerships",
            "Disable registered devices",
            "Targeted Conditional Access policy",
            "Block phishing senders tenant-wide",
            "Remove OneDrive/SharePoint sharing links",
        ]
    );
    let message = |i: usize| row["Steps"][i]["Message"].as_str().unwrap().to_owned();
    assert_eq!(
        message(0),
        format!("Disabled transport rule '{}'", s(&inc, "transportRuleName"))
    );
    assert!(
        message(1).starts_with("Disabled add-in ") && message(1).ends_with(&format!(" for {upn}")),
        "{}",
        message(1)
    );
    assert_eq!(
        message(5),
        format!("Added {sender} to the tenant Block list (Sender)")
    );
    assert_eq!(
        message(6),
        format!(
            "Removed the anonymous sharing link on '{}' for {upn}",
            s(&inc, "sharedFileName")
        )
    );

    // The transport rule: the planted diversion is off, the ordinary rule untouched.
    let rules = exchange(&app, &tenant_id, "Get-TransportRule", json!({}), upn).await;
    for rule in &rules {
        let expected = if rule["Name"] == inc["transportRuleName"] {
            "Disabled"
        } else {
            "Enabled"
        };
        assert_eq!(rule["State"], expected, "{rule}");
    }
    assert_eq!(rules.len(), 2);

    // The add-in: the user-installed one is off, Microsoft's stays on.
    let apps = exchange(&app, &tenant_id, "Get-App", json!({"Mailbox": upn}), upn).await;
    for add_in in &apps {
        let planted = add_in["DisplayName"] == inc["addInName"];
        assert_eq!(add_in["Enabled"], !planted, "{add_in}");
    }

    // The ActiveSync block list.
    let cas = &exchange(
        &app,
        &tenant_id,
        "Get-CASMailbox",
        json!({"Identity": upn}),
        upn,
    )
    .await[0];
    let blocked: Vec<String> = cas["ActiveSyncBlockedDeviceIDs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(blocked, expected_blocked);

    // Both devices registered in the window are disabled.
    for device in window_devices(&app, &tenant_id, user_id).await {
        assert_eq!(device["accountEnabled"], false, "{device}");
    }

    // The policy targets the user alone, in report-only mode, and its removal is queued.
    let policies = graph_get(&app, &tenant_id, "identity/conditionalAccess/policies").await;
    let name = format!("CIPP BEC containment - {upn}");
    let policy = policies["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["displayName"] == name.as_str())
        .unwrap_or_else(|| panic!("no policy in {policies}"))
        .clone();
    assert_eq!(policy["state"], "enabledForReportingButNotEnabled");
    assert_eq!(
        policy["conditions"]["users"]["includeUsers"],
        json!([user_id])
    );
    assert_eq!(
        policy["conditions"]["applications"]["includeApplications"],
        json!(["All"])
    );
    assert_eq!(
        policy["grantControls"],
        json!({"operator": "AND", "builtInControls": ["mfa", "compliantDevice"]})
    );
    let text = message(4);
    let task = text
        .rsplit_once("(scheduled task ")
        .and_then(|(_, t)| t.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{text}"));
    let job = app.jobs.job(task).await.unwrap().expect("the removal job");
    assert_eq!(job.kind, "bec-ca-policy-removal");
    assert_eq!(job.state, cipp_jobs::JobState::Queued);
    let due_in = job.run_at / 1_000_000 - time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (12 * 3600 - 300..=12 * 3600).contains(&due_in),
        "due in {due_in} s"
    );
    assert!(
        text.starts_with(&format!(
            "Created Conditional Access policy '{name}' for {upn}; it will be removed at "
        )),
        "{text}"
    );
    // The removal step itself, run now instead of in twelve hours.
    let removal: cipp_users_domain::bec::containment_actions::CaRemovalPayload =
        serde_json::from_value(job.payload.clone()).unwrap();
    assert_eq!(removal.policy_id, policy["id"].as_str().unwrap());
    cipp_users_domain::bec::containment_actions::remove_ca_policy(&app.graph, &removal)
        .await
        .unwrap();
    let policies = graph_get(&app, &tenant_id, "identity/conditionalAccess/policies").await;
    assert!(!policies.to_string().contains(&name));

    // The sender is blocked tenant-wide.
    let items = exchange(
        &app,
        &tenant_id,
        "Get-TenantAllowBlockListItems",
        json!({"ListType": "Sender"}),
        upn,
    )
    .await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["Value"], sender);
    assert_eq!(items[0]["Action"], "Block");
    assert_eq!(
        items[0]["Notes"],
        format!("Blocked from BEC containment of {upn}")
    );

    // The anonymous link is gone from the shared file.
    let drive = graph_get(&app, &tenant_id, &format!("users/{user_id}/drive")).await;
    let drive_id = s(&drive, "id");
    let children = graph_get(
        &app,
        &tenant_id,
        &format!("drives/{drive_id}/root/children"),
    )
    .await;
    let file = children["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == inc["sharedFileName"])
        .expect("the shared file")
        .clone();
    let permissions = graph_get(
        &app,
        &tenant_id,
        &format!("drives/{drive_id}/items/{}/permissions", s(&file, "id")),
    )
    .await;
    assert_eq!(permissions["value"], json!([]));

    // Deleting is its own call here, for one of the two devices.
    let doomed = s(&devices[1], "id");
    let (status, body) = remediate(
        &app,
        json!({"tenantFilter": domain, "username": upn, "Confirmation": upn,
            "Actions": ["RemoveRegisteredDevices"], "Parameters": {"RegisteredDeviceIds": [doomed]}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Results"][0]["resultText"],
        format!(
            "Deleted device '{}' ({doomed})",
            s(&devices[1], "displayName")
        )
    );
    let left = window_devices(&app, &tenant_id, user_id).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], devices[0]["id"]);
    assert_eq!(left[0]["accountEnabled"], false);
    app.stop();
}

#[tokio::test]
async fn a_bad_ca_policy_expiry_or_sender_address_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let (domain, inc) = incident(&app, 1).await;
    let upn = s(&inc, "userPrincipalName");
    for (parameters, message) in [
        (
            json!({"CAPolicy": {"ExpiresHours": 169}}),
            "ExpiresHours must be between 1 and 168 (got 169)",
        ),
        (
            json!({"CAPolicy": {"ExpiresHours": 0}}),
            "ExpiresHours must be between 1 and 168 (got 0)",
        ),
        (
            json!({"BlockSenders": ["ok@evil.example", "evil.example"]}),
            "Not a sender address: evil.example",
        ),
    ] {
        let (status, body) = remediate(
            &app,
            json!({"tenantFilter": domain, "username": upn, "Actions": ["TargetedCAPolicy", "BlockSenders"],
                "Parameters": parameters}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["Results"], message);
    }
    app.reset_sim_stats().await;
    assert_eq!(app.sim_count("conditionalAccess/policies", None).await, 0);
    app.stop();
}

#[tokio::test]
async fn an_unknown_action_id_is_a_400_naming_it() {
    let app = spawn_app().await;
    let (domain, inc) = incident(&app, 1).await;
    let upn = s(&inc, "userPrincipalName");
    let (status, body) = remediate(
        &app,
        json!({"tenantFilter": domain, "username": upn, "Actions": ["RevokeSessions", "Hex", "BlockSenders"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["Results"], "Unknown containment action(s): Hex");
    let (status, body) = remediate(&app, json!({"username": upn, "Actions": []})).await;
    assert_eq!(
        (status, body["Results"].clone()),
        (400, json!("tenantFilter is required"))
    );
    let (status, body) = remediate(&app, json!({"tenantFilter": domain, "Actions": []})).await;
    assert_eq!(
        (status, body["Results"].clone()),
        (400, json!("username or userid is required"))
    );

    // The catalogue is upstream's, in its order.
    let token = app.token("editor").await;
    let catalogue: Vec<Value> = app.get_json("/api/ListBECRemediationActions", &token).await;
    let ids: Vec<&str> = catalogue
        .iter()
        .map(|a| a["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 21);
    let orders: Vec<u64> = catalogue
        .iter()
        .map(|a| a["Order"].as_u64().unwrap())
        .collect();
    assert_eq!(orders, (1..=21).collect::<Vec<u64>>());
    assert_eq!(
        catalogue[17],
        json!({"Id": "TargetedCAPolicy", "Label": "Targeted Conditional Access policy", "Impact": "High", "Reversible": true,
            "DefaultSelected": false, "Order": 18, "TargetSource": null, "ParameterName": "CAPolicy",
            "Description": "Creates a Conditional Access policy for this user only that requires MFA (optionally plus a compliant device) for every application, and schedules its removal after the chosen number of hours."})
    );
    assert_eq!(
        catalogue[3],
        json!({"Id": "RemoveMFA", "Label": "Remove MFA methods", "Impact": "High", "Reversible": false,
            "DefaultSelected": true, "Order": 4, "TargetSource": "MFADevices", "ParameterName": "MfaMethodIds",
            "Description": "Removes the selected authentication methods, or every method when none is selected, so an attacker-registered method cannot be used to get back in."})
    );
    app.stop();
}

#[tokio::test]
async fn a_containment_with_a_case_takes_its_flagged_targets_and_is_recorded_on_it_without_the_password()
 {
    let app = spawn_app().await;
    let (domain, inc) = incident(&app, 1).await;
    let tenant_id = s(&inc, "tenantId").to_owned();
    let (upn, user_id) = (s(&inc, "userPrincipalName"), s(&inc, "userId"));
    let (grant, sp) = (s(&inc, "grantId"), s(&inc, "maliciousServicePrincipalId"));
    let trustee = s(&inc, "mailboxPermissionTrustee");
    let case_id = "BEC-20260101000000-abc123";
    // The case as a completed BEC check leaves it: only flagged findings are acted on.
    let report = json!({
        "CaseId": case_id,
        "UserGrants": [
            {"id": grant, "Kind": "Delegated", "ClientId": sp, "Risk": "CatalogMatch"},
            {"id": "not-flagged", "Kind": "Delegated", "ClientId": s(&inc, "benignServicePrincipalId"), "Risk": "Low"},
        ],
        "MaliciousSPs": [],
        "MailboxPermissionChanges": [
            {"Operation": "Add-MailboxPermission", "Trustee": trustee, "Permissions": "FullAccess", "TargetsSuspect": true},
        ],
    });
    app.store
        .bec_put(&cipp_store::BecCase {
            case_id: case_id.to_owned(),
            tenant: domain.clone(),
            user_id: user_id.to_owned(),
            user_principal_name: upn.to_owned(),
            display_name: s(&inc, "displayName").to_owned(),
            status: cipp_store::BecCaseStatus::Completed,
            level: Some("High".to_owned()),
            score: Some(80),
            incomplete_count: 0,
            requested_at: time::OffsetDateTime::now_utc(),
            requested_by: "analyst@partner.example".to_owned(),
            extracted_at: Some(time::OffsetDateTime::now_utc()),
            error_message: None,
            results: Some(report),
            containment: Vec::new(),
        })
        .await
        .unwrap();

    let (status, body) = remediate(
        &app,
        json!({"tenantFilter": domain, "username": upn, "CaseId": case_id, "Confirmation": upn,
            "Actions": ["ResetPassword", "RemoveOAuthGrants", "DisableServicePrincipals", "RemoveDelegations"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rows = body["Results"].as_array().unwrap();
    let password = rows[0]["copyField"]
        .as_str()
        .expect("the new password, shown once");
    assert_eq!(rows[0]["Action"], "ResetPassword");
    assert_eq!(rows[0]["Target"], upn);
    let texts: Vec<&str> = rows
        .iter()
        .map(|r| r["resultText"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts[1..],
        [
            format!("Revoked application consent {grant}"),
            format!("Disabled service principal {sp} tenant-wide"),
            format!("Removed FullAccess for {trustee} from {upn}"),
        ]
    );
    assert!(rows.iter().all(|r| r["state"] == "success"), "{body}");
    let sp_now = graph_get(&app, &tenant_id, &format!("servicePrincipals/{sp}")).await;
    assert_eq!(sp_now["accountEnabled"], false);

    // Recorded on the case once the job has finished, the password redacted.
    let mut containment = Vec::new();
    for _ in 0..100 {
        containment = app
            .store
            .bec_get(case_id)
            .await
            .unwrap()
            .unwrap()
            .containment;
        if !containment.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(containment.len(), 1, "{containment:?}");
    let entry = &containment[0];
    assert_eq!(
        entry["Actions"],
        json!([
            "ResetPassword",
            "RemoveOAuthGrants",
            "DisableServicePrincipals",
            "RemoveDelegations"
        ])
    );
    assert!(entry["By"].is_string() && entry["At"].is_string());
    assert_eq!(entry["Results"].as_array().unwrap().len(), 4);
    assert!(entry["Results"][0].get("copyField").is_none());
    assert!(
        entry["Results"][0]["resultText"]
            .as_str()
            .unwrap()
            .contains("[redacted]")
    );
    assert!(!entry.to_string().contains(password));
    app.stop();
}
