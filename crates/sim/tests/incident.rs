//! The planted business-email-compromise incident, read back through every source a BEC check
//! uses: Graph sign-ins, service principals, consents and methods; Exchange rules, safelists,
//! the unified audit log and the message trace; and the `/_sim/incident` admin route.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn small_sim() -> (TestSim, reqwest::Client) {
    sim_with(cipp_sim::SimConfig {
        big_tenant_users: 60,
        ..config()
    })
    .await
}

async fn incident(h: &TestSim, c: &reqwest::Client, tenant: &str) -> Value {
    let resp = c
        .get(url(h, &format!("/_sim/incident/{tenant}")))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn graph_get(
    c: &reqwest::Client,
    h: &TestSim,
    path: &str,
    token: &str,
) -> (StatusCode, Value) {
    json_of(c.get(url(h, path)).bearer_auth(token).send().await.unwrap()).await
}

fn days_ago(n: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::days(n);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn audit_data(record: &Value) -> Value {
    serde_json::from_str(record["AuditData"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn every_customer_tenant_has_an_incident_on_an_ordinary_user() {
    let (h, c) = small_sim().await;
    let mut users = std::collections::HashSet::new();
    for t in &h.tenants {
        let by_domain = incident(&h, &c, &t.default_domain_name).await;
        let by_id = incident(&h, &c, &t.customer_id).await;
        assert_eq!(by_domain, by_id);
        let upn = by_id["userPrincipalName"].as_str().unwrap();
        assert!(upn.ends_with(&t.default_domain_name));
        assert!(!upn.starts_with("admin@"));
        assert_eq!(by_id["attackerIp"], "102.89.34.120");
        assert_eq!(
            by_id["maliciousAppId"],
            "ff8d92dc-3d82-41d6-bcbd-b9174d163620"
        );
        users.insert(upn.to_owned());
        // Not one of the first ten users, which tests take as "the first user".
        let token = graph_token(&h, &c, &t.customer_id).await;
        let (_, first) = graph_get(&c, &h, "/v1.0/users?$top=10&$select=id", &token).await;
        let first: Vec<&Value> = first["value"].as_array().unwrap().iter().collect();
        assert!(first.iter().all(|u| u["id"] != by_id["userId"]));
        // The user is enabled, cloud-only, licensed, located, and changed the password two days ago.
        let stored: Value = c
            .get(url(&h, &format!("/_sim/users/{}/{upn}", t.customer_id)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(stored["accountEnabled"], true);
        assert_ne!(stored["onPremisesSyncEnabled"], true);
        assert!(!stored["assignedLicenses"].as_array().unwrap().is_empty());
        assert!(stored["usageLocation"].is_string());
        assert_eq!(
            stored["lastPasswordChangeDateTime"],
            by_id["passwordChangedDateTime"]
        );
        assert!(stored["lastPasswordChangeDateTime"].as_str().unwrap() >= days_ago(3).as_str());
    }
    assert_eq!(users.len(), h.tenants.len());
    let resp = c
        .get(url(&h, "/_sim/incident/nowhere.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    h.stop().await;
}

#[tokio::test]
async fn the_attackers_sign_ins_are_found_with_the_bec_checks_filters() {
    let (h, c) = small_sim().await;
    let t = &h.tenants[1];
    let inc = incident(&h, &c, &t.customer_id).await;
    let id = inc["userId"].as_str().unwrap();
    let token = graph_token(&h, &c, &t.customer_id).await;
    let start = days_ago(7);
    let (status, body) = graph_get(
        &c,
        &h,
        &format!("/beta/auditLogs/signIns?$filter=(userId eq '{id}') and createdDateTime ge {start}&$top=999&$orderby=createdDateTime desc"),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = body["value"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["userId"] == id));
    assert!(
        rows.iter()
            .all(|r| r["createdDateTime"].as_str().unwrap() >= start.as_str())
    );
    let three_days = days_ago(3);
    let attacker: Vec<&Value> = rows
        .iter()
        .filter(|r| r["ipAddress"] == "102.89.34.120")
        .collect();
    assert!(attacker.len() >= 3);
    assert!(attacker.iter().all(|r| {
        r["status"]["errorCode"] == 0
            && r["location"]["countryOrRegion"] == "NG"
            && r["createdDateTime"].as_str().unwrap() >= three_days.as_str()
            && ["notApplied", "success"].contains(&r["conditionalAccessStatus"].as_str().unwrap())
    }));
    let failed = rows
        .iter()
        .filter(|r| r["ipAddress"] == inc["failedSignInIp"])
        .collect::<Vec<_>>();
    assert_eq!(failed.len(), 1);
    assert_ne!(failed[0]["status"]["errorCode"], 0);
    let dates: Vec<&str> = rows
        .iter()
        .map(|r| r["createdDateTime"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    // The tenant's latest sign-ins, without the sync account, include the attacker's.
    let (status, body) = graph_get(
        &c,
        &h,
        "/beta/auditLogs/signIns?$filter=userDisplayName ne 'On-Premises Directory Synchronization Service Account'&$top=50&$orderby=createdDateTime desc",
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["value"].as_array().unwrap().len() <= 50);
    h.stop().await;
}

#[tokio::test]
async fn the_mailbox_shows_the_rule_the_safelist_and_the_audit_trail() {
    let (h, c) = small_sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let inc = incident(&h, &c, &tid).await;
    let upn = inc["userPrincipalName"].as_str().unwrap().to_owned();
    let exo = exo_token(&h, &c, &tid).await;

    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-InboxRule",
        json!({"Mailbox": upn, "IncludeHidden": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rule = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Name"] == inc["ruleName"])
        .unwrap()
        .clone();
    assert_eq!(rule["Enabled"], true);
    assert_eq!(
        rule["SubjectOrBodyContainsWords"],
        json!(["invoice", "payment"])
    );
    assert_eq!(rule["MoveToFolder"], "RSS Feeds");
    assert_eq!(rule["MarkAsRead"], true);
    assert_eq!(rule["StopProcessingRules"], true);
    assert_eq!(rule["RuleIdentity"], inc["ruleIdentity"]);

    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MailboxJunkEmailConfiguration",
        json!({"Identity": upn}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let trusted = body["value"][0]["TrustedSendersAndDomains"]
        .as_array()
        .unwrap();
    assert!(trusted.contains(&inc["trustedSender"]));

    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MailboxPermission",
        json!({"Identity": upn}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["User"] == inc["mailboxPermissionTrustee"])
    );

    let (status, body) = cmdlet(&h, &c, &exo, &tid, "Get-AdminAuditLogConfig", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"][0]["UnifiedAuditLogIngestionEnabled"], true);
    assert_eq!(body["value"][0]["Identity"], "Admin Audit Log Settings");

    let (status, body) = cmdlet(&h, &c, &exo, &tid, "Get-AcceptedDomain", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let domains = body["value"].as_array().unwrap();
    assert!(domains.iter().all(|d| d["DomainType"] == "Authoritative"));
    assert_eq!(domains.iter().filter(|d| d["Default"] == true).count(), 1);
    assert!(
        domains
            .iter()
            .any(|d| d["DomainName"] == h.tenants[0].default_domain_name)
    );

    // The user-scoped search the BEC check sends.
    let ops = [
        "New-InboxRule",
        "Set-InboxRule",
        "Remove-InboxRule",
        "UpdateInboxRules",
        "Set-MailboxJunkEmailConfiguration",
        "SharingSet",
        "AnonymousLinkCreated",
    ];
    let search = |extra: Value| {
        let mut p = json!({
            "StartDate": days_ago(7),
            "EndDate": days_ago(0),
            "Operations": ops,
            "SessionCommand": "ReturnLargeSet",
            "ResultSize": 5000,
        });
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Search-UnifiedAuditLog",
        search(json!({"UserIds": [upn], "SessionId": "s1"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let records = body["value"].as_array().unwrap();
    let operations: Vec<&str> = records
        .iter()
        .map(|r| r["Operations"].as_str().unwrap())
        .collect();
    for op in [
        "New-InboxRule",
        "Set-InboxRule",
        "Remove-InboxRule",
        "Set-MailboxJunkEmailConfiguration",
        "AnonymousLinkCreated",
        "SharingSet",
    ] {
        assert!(operations.contains(&op), "{op} missing from {operations:?}");
    }
    assert!(
        records
            .iter()
            .all(|r| r["ResultCount"] == json!(records.len()))
    );
    let new_rule = records
        .iter()
        .map(audit_data)
        .find(|d| {
            d["Operation"] == "New-InboxRule"
                && d["Parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["Value"] == inc["ruleName"])
        })
        .unwrap();
    assert!(
        new_rule["ClientIP"]
            .as_str()
            .unwrap()
            .starts_with("102.89.34.120:")
    );
    assert_eq!(new_rule["UserId"], json!(upn));
    let removed = records
        .iter()
        .map(audit_data)
        .find(|d| d["Operation"] == "Remove-InboxRule")
        .unwrap();
    assert!(
        removed["ObjectId"]
            .as_str()
            .unwrap()
            .ends_with(inc["deletedRuleName"].as_str().unwrap())
    );
    let shared = records
        .iter()
        .map(audit_data)
        .find(|d| d["Operation"] == "AnonymousLinkCreated")
        .unwrap();
    assert_eq!(shared["Workload"], "OneDrive");
    assert_eq!(shared["SourceFileName"], inc["sharedFileName"]);
    assert_eq!(shared["TargetUserOrGroupName"], "Anyone");
    assert!(shared["ObjectId"].as_str().unwrap().starts_with("https://"));
    let junk = records
        .iter()
        .map(audit_data)
        .find(|d| d["Operation"] == "Set-MailboxJunkEmailConfiguration")
        .unwrap();
    assert!(
        junk["Parameters"]
            .to_string()
            .contains(inc["trustedSender"].as_str().unwrap())
    );
    // The session was read in one page: asking again gives the same page, never a gap.
    let (_, again) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Search-UnifiedAuditLog",
        search(json!({"UserIds": [upn], "SessionId": "s1"})),
    )
    .await;
    assert_eq!(again["value"], body["value"]);

    // Tenant-wide: the FullAccess grant on the suspect's mailbox, made by an admin.
    let (status, body) = cmdlet(&h, &c, &exo, &tid, "Search-UnifiedAuditLog", json!({
        "StartDate": days_ago(7), "EndDate": days_ago(0),
        "Operations": ["Remove-MailboxPermission", "Add-MailboxPermission", "UpdateCalendarDelegation", "AddFolderPermissions"],
        "SessionCommand": "ReturnLargeSet", "SessionId": "tenant-wide", "ResultSize": 5000,
    })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grant = audit_data(&body["value"][0]);
    assert_eq!(grant["Operation"], "Add-MailboxPermission");
    assert_eq!(grant["ObjectId"], json!(upn));
    assert!(grant["Parameters"].to_string().contains("FullAccess"));

    // A large set is read page by page through one session, then ends.
    let (from, to) = (days_ago(7), days_ago(0));
    let paged = |session: &str| json!({"StartDate": from, "EndDate": to, "UserIds": upn, "Operations": "New-InboxRule,Remove-InboxRule,Set-InboxRule", "SessionCommand": "ReturnLargeSet", "SessionId": session, "ResultSize": 2});
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (status, page) =
            cmdlet(&h, &c, &exo, &tid, "Search-UnifiedAuditLog", paged("big")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["Identity"].clone()),
        );
    }
    assert_eq!(seen.len(), 4);
    seen.dedup();
    assert_eq!(seen.len(), 4);
    let (_, after) = cmdlet(&h, &c, &exo, &tid, "Search-UnifiedAuditLog", paged("big")).await;
    assert_eq!(after["value"], json!([]));
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Search-UnifiedAuditLog",
        json!({"ResultSize": 5001}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The planted rule is an ordinary rule: it can be disabled and removed.
    let identity = format!("{upn}\\{}", inc["ruleIdentity"].as_str().unwrap());
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Disable-InboxRule",
        json!({"Identity": identity}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = cmdlet(&h, &c, &exo, &tid, "Get-InboxRule", json!({"Mailbox": upn})).await;
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["Name"] == inc["ruleName"] && r["Enabled"] == false)
    );
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Remove-InboxRule",
        json!({"Mailbox": upn, "Identity": inc["ruleName"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = cmdlet(&h, &c, &exo, &tid, "Get-InboxRule", json!({"Mailbox": upn})).await;
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["Name"] != inc["ruleName"])
    );
    h.stop().await;
}

#[tokio::test]
async fn the_message_trace_shows_the_burst_and_a_cmdlet_fault_fails_only_that_cmdlet() {
    let (h, c) = small_sim().await;
    let tid = h.tenants[2].customer_id.clone();
    let inc = incident(&h, &c, &tid).await;
    let upn = inc["userPrincipalName"].as_str().unwrap().to_owned();
    let exo = exo_token(&h, &c, &tid).await;
    let trace = json!({"SenderAddress": upn, "StartDate": days_ago(7), "EndDate": days_ago(0), "ResultSize": 5000});
    let (status, body) = cmdlet(&h, &c, &exo, &tid, "Get-MessageTraceV2", trace.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = body["value"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["SenderAddress"] == json!(upn)));
    let burst: Vec<&Value> = rows
        .iter()
        .filter(|r| r["Subject"] == inc["burstSubject"])
        .collect();
    assert_eq!(burst.len(), 36);
    let ids: std::collections::HashSet<&str> = burst
        .iter()
        .map(|r| r["MessageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 12);
    assert!(burst.iter().all(|r| r["FromIP"] == "102.89.34.120"));
    let times: Vec<&str> = burst
        .iter()
        .map(|r| r["Received"].as_str().unwrap())
        .collect();
    let (first, last) = (times.iter().min().unwrap(), times.iter().max().unwrap());
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    };
    assert!(parse(last) - parse(first) < time::Duration::minutes(10));
    let internal: Vec<&Value> = inc["internalRecipients"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(internal.len(), 5);
    assert!(
        internal
            .iter()
            .all(|u| burst.iter().any(|r| &&r["RecipientAddress"] == u))
    );
    let received: Vec<&str> = rows
        .iter()
        .map(|r| r["Received"].as_str().unwrap())
        .collect();
    let mut sorted = received.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(received, sorted);
    for r in rows {
        for key in [
            "MessageTraceId",
            "Organization",
            "MessageId",
            "Received",
            "RecipientAddress",
            "Status",
            "ToIP",
            "FromIP",
            "Size",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
    }
    // A colleague's trace by recipient shows the lure received.
    let (_, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MessageTrace",
        json!({"RecipientAddress": internal[0], "StartDate": days_ago(7), "EndDate": days_ago(0)}),
    )
    .await;
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["SenderAddress"] == json!(upn) && r["Subject"] == inc["burstSubject"])
    );
    // Paging with V2's cursor: two rows at a time, no row twice, none lost.
    let mut all = Vec::new();
    let mut params = json!({"SenderAddress": upn, "StartDate": days_ago(7), "EndDate": days_ago(0), "ResultSize": 7});
    loop {
        let (status, page) = cmdlet(&h, &c, &exo, &tid, "Get-MessageTraceV2", params.clone()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let rows = page["value"].as_array().unwrap().clone();
        let Some(last) = rows.last().cloned() else {
            break;
        };
        all.extend(
            rows.iter()
                .map(|r| (r["MessageId"].clone(), r["RecipientAddress"].clone())),
        );
        if rows.len() < 7 {
            break;
        }
        params["EndDate"] = last["Received"].clone();
        params["StartingRecipientAddress"] = last["RecipientAddress"].clone();
    }
    assert_eq!(all.len(), rows.len());
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MessageTraceV2",
        json!({"ResultSize": 5001}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MessageTraceV2",
        json!({"StartDate": days_ago(20), "EndDate": days_ago(0)}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    add_fault(
        &h,
        &c,
        json!({"cmdlet": "get-messagetracev2", "status": 500}),
    )
    .await;
    let (status, _) = cmdlet(&h, &c, &exo, &tid, "Get-MessageTraceV2", trace).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _) = cmdlet(&h, &c, &exo, &tid, "Get-InboxRule", json!({"Mailbox": upn})).await;
    assert_eq!(status, StatusCode::OK);
    let graph = graph_token(&h, &c, &tid).await;
    let (status, _) = graph_get(&c, &h, "/v1.0/servicePrincipals", &graph).await;
    assert_eq!(status, StatusCode::OK);
    h.stop().await;
}

#[tokio::test]
async fn the_malicious_app_its_consent_and_the_new_mfa_method_are_served_and_removable() {
    let (h, c) = small_sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let inc = incident(&h, &c, &tid).await;
    let user = inc["userId"].as_str().unwrap().to_owned();
    let token = graph_token(&h, &c, &tid).await;
    let select = "id,displayName,createdDateTime,appId,appDisplayName,publisherName,accountEnabled";

    let (status, body) = graph_get(
        &c,
        &h,
        &format!(
            "/beta/servicePrincipals?$select={select}&$filter=createdDateTime ge {}",
            days_ago(7)
        ),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new: Vec<&Value> = body["value"].as_array().unwrap().iter().collect();
    assert_eq!(new.len(), 2, "{body}");
    let bad = new
        .iter()
        .find(|s| s["appId"] == inc["maliciousAppId"])
        .unwrap();
    assert_eq!(bad["displayName"], "PERFECTDATA SOFTWARE");
    assert_eq!(bad["publisherName"], "PERFECTDATA SOFTWARE");
    assert_eq!(bad["id"], inc["maliciousServicePrincipalId"]);
    assert!(bad.get("servicePrincipalType").is_none(), "$select trims");
    assert!(
        new.iter()
            .any(|s| s["displayName"] == "Contoso Expense Bot")
    );

    let (_, all) = graph_get(&c, &h, "/v1.0/servicePrincipals?$top=3", &token).await;
    assert_eq!(all["value"].as_array().unwrap().len(), 3);
    assert!(
        all["@odata.nextLink"]
            .as_str()
            .unwrap()
            .contains("$skiptoken=3")
    );
    let (_, found) = graph_get(&c, &h, &format!("/v1.0/servicePrincipals?$filter=appId in ('{}','00000003-0000-0000-c000-000000000000','nope')", inc["maliciousAppId"].as_str().unwrap()), &token).await;
    assert_eq!(found["value"].as_array().unwrap().len(), 2);
    let (_, one) = graph_get(
        &c,
        &h,
        &format!(
            "/v1.0/servicePrincipals?$filter=appId eq '{}'",
            inc["maliciousAppId"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    assert_eq!(one["value"].as_array().unwrap().len(), 1);
    assert_eq!(one["value"][0]["servicePrincipalType"], "Application");

    // Consents: the user's grant to the malicious app, on Microsoft Graph.
    let (status, grants) = graph_get(
        &c,
        &h,
        &format!(
            "/v1.0/users/{}/oauth2PermissionGrants",
            inc["userPrincipalName"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{grants}");
    let grant = &grants["value"][0];
    assert_eq!(grant["id"], inc["grantId"]);
    assert_eq!(grant["clientId"], inc["maliciousServicePrincipalId"]);
    assert_eq!(grant["principalId"], json!(user));
    assert_eq!(grant["consentType"], "Principal");
    assert_eq!(
        grant["scope"],
        "Mail.ReadWrite Mail.Send offline_access User.Read"
    );
    let (_, graph_sp) = graph_get(
        &c,
        &h,
        &format!(
            "/v1.0/servicePrincipals/{}",
            grant["resourceId"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    assert_eq!(graph_sp["displayName"], "Microsoft Graph");
    let (_, by_client) = graph_get(
        &c,
        &h,
        &format!(
            "/v1.0/oauth2PermissionGrants?$filter=clientId eq '{}'",
            grant["clientId"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    assert_eq!(by_client["value"].as_array().unwrap().len(), 1);
    let (_, roles) = graph_get(
        &c,
        &h,
        &format!("/v1.0/users/{user}/appRoleAssignments"),
        &token,
    )
    .await;
    assert_eq!(roles["value"], json!([]));

    // Containment: disable the app, revoke the consent.
    let sp_url = url(
        &h,
        &format!(
            "/v1.0/servicePrincipals/{}",
            inc["maliciousServicePrincipalId"].as_str().unwrap()
        ),
    );
    let resp = c
        .patch(&sp_url)
        .bearer_auth(&token)
        .json(&json!({"accountEnabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, after) = graph_get(
        &c,
        &h,
        &format!(
            "/v1.0/servicePrincipals/{}?$select=accountEnabled",
            inc["maliciousServicePrincipalId"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    assert_eq!(after["accountEnabled"], false);
    let resp = c
        .patch(&sp_url)
        .bearer_auth(&token)
        .json(&json!({"appId": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let grant_url = url(
        &h,
        &format!(
            "/v1.0/oauth2PermissionGrants/{}",
            inc["grantId"].as_str().unwrap()
        ),
    );
    let resp = c
        .delete(&grant_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = c
        .delete(&grant_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (_, grants) = graph_get(
        &c,
        &h,
        &format!("/v1.0/users/{user}/oauth2PermissionGrants"),
        &token,
    )
    .await;
    assert_eq!(grants["value"], json!([]));

    // The Authenticator the attacker registered, and its removal.
    let (_, methods) = graph_get(
        &c,
        &h,
        &format!("/v1.0/users/{user}/authentication/methods"),
        &token,
    )
    .await;
    let method = methods["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == inc["mfaMethodId"])
        .unwrap()
        .clone();
    assert_eq!(
        method["@odata.type"],
        "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
    );
    assert!(method["createdDateTime"].as_str().unwrap() >= days_ago(3).as_str());
    let resp = c
        .delete(url(
            &h,
            &format!(
                "/v1.0/users/{user}/authentication/microsoftAuthenticatorMethods/{}",
                inc["mfaMethodId"].as_str().unwrap()
            ),
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, methods) = graph_get(
        &c,
        &h,
        &format!("/v1.0/users/{user}/authentication/methods"),
        &token,
    )
    .await;
    assert!(
        methods["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["id"] != inc["mfaMethodId"])
    );
    h.stop().await;
}
