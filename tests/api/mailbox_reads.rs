//! The Exchange tab's reads against the simulator's Exchange Online.

use crate::helpers::{TestApp, results, spawn_app};
use serde_json::Value;

/// Licensed member users of a small tenant (they have mailboxes in the simulator).
async fn mailbox_users(app: &TestApp, tenant: &str) -> Vec<Value> {
    let token = app.token("readonly").await;
    let users: Vec<Value> = app
        .get_json(&format!("/api/ListUsers?tenantFilter={tenant}"), &token)
        .await;
    users
        .into_iter()
        .filter(|u| {
            u["userType"] == "Member" && !u["assignedLicenses"].as_array().unwrap().is_empty()
        })
        .collect()
}

async fn get(app: &TestApp, path: String) -> (u16, Value) {
    let token = app.token("readonly").await;
    let response = app.get(&path, Some(&token)).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn mailbox_details_describe_the_mailbox_in_cipps_fields() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let users = mailbox_users(&app, &tenant).await;
    let mut forwarding_seen = false;
    for user in users.iter().take(12) {
        let upn = user["userPrincipalName"].as_str().unwrap();
        let (status, body) = get(
            &app,
            format!(
                "/api/ListUserMailboxDetails?tenantFilter={tenant}&UserID={}&userMail={upn}",
                user["id"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let details = &body[0];
        for key in [
            "ForwardAndDeliver",
            "ForwardingAddress",
            "LitigationHold",
            "RetentionHold",
            "ComplianceTagHold",
            "InPlaceHold",
            "EDiscoveryHold",
            "PurviewRetentionHold",
            "ExcludedFromOrgWideHold",
            "HiddenFromAddressLists",
            "EWSEnabled",
            "MailboxMAPIEnabled",
            "MailboxOWAEnabled",
            "MailboxImapEnabled",
            "MailboxPopEnabled",
            "MailboxActiveSyncEnabled",
            "SmtpClientAuthenticationDisabled",
            "Permissions",
            "ProhibitSendQuota",
            "ProhibitSendReceiveQuota",
            "ItemCount",
            "TotalItemSize",
            "TotalArchiveItemSize",
            "TotalArchiveItemCount",
            "BlockedForSpam",
            "ArchiveMailBox",
            "AutoExpandingArchive",
            "AutoExpandingArchiveScope",
            "RecipientTypeDetails",
            "Mailbox",
            "RetentionPolicy",
            "MailboxActionsData",
        ] {
            assert!(details.get(key).is_some(), "{key} missing in {details}");
        }
        assert!(
            details.get("Warnings").is_none(),
            "every side read worked: {details}"
        );
        assert_eq!(
            details["Mailbox"]["UserPrincipalName"]
                .as_str()
                .unwrap()
                .to_lowercase(),
            upn.to_lowercase()
        );
        assert!(details["Permissions"].is_array());
        assert!(details["ProhibitSendQuota"].as_f64().unwrap() > 0.0);
        if details["ArchiveMailBox"] == false {
            assert!(details["TotalArchiveItemSize"].is_null());
        }
        forwarding_seen |= details["ForwardingAddress"].is_string();
    }
    assert!(forwarding_seen, "the seed forwards some mailboxes");
    app.stop();
}

#[tokio::test]
async fn mailbox_rules_leave_out_exchanges_own_rules() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mut seen = 0;
    for user in mailbox_users(&app, &tenant).await {
        let (status, body) = get(
            &app,
            format!(
                "/api/ListUserMailboxRules?tenantFilter={tenant}&UserID={}",
                user["userPrincipalName"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        for rule in body.as_array().unwrap() {
            assert_ne!(rule["Name"], "Junk E-Mail Rule");
            assert!(
                !rule["Name"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Microsoft.Exchange.OOF.")
            );
            assert!(rule.get("RuleIdentity").is_none());
            seen += 1;
        }
    }
    assert!(seen > 0, "the seed gives some mailboxes inbox rules");
    app.stop();
}

#[tokio::test]
async fn trusted_and_blocked_senders_are_one_row_each() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    let mut kinds = std::collections::BTreeSet::new();
    for user in mailbox_users(&app, &tenant).await {
        let upn = user["userPrincipalName"].as_str().unwrap();
        let (status, body) = get(&app, format!("/api/ListUserTrustedBlockedSenders?tenantFilter={tenant}&UserID={upn}&userPrincipalName={upn}")).await;
        assert_eq!(status, 200, "{body}");
        for row in body.as_array().unwrap() {
            assert_eq!(row["UserID"], upn);
            assert!(row["Value"].as_str().is_some_and(|v| !v.is_empty()));
            kinds.insert(row["Type"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        vec!["Blocked Sender/Domain", "Trusted Sender/Domain"]
    );
    app.stop();
}

#[tokio::test]
async fn mailbox_reads_answer_missing_ids_unknown_users_and_wrong_roles_clearly() {
    let app = spawn_app().await;
    let tenant = app.tenant(1).default_domain_name.clone();
    for name in [
        "ListUserMailboxDetails",
        "ListUserMailboxRules",
        "ListUserTrustedBlockedSenders",
    ] {
        let (status, body) = get(&app, format!("/api/{name}?tenantFilter={tenant}")).await;
        assert_eq!(status, 400, "{name}");
        assert_eq!(results(&body), "UserID is required");
        let (status, body) = get(
            &app,
            format!("/api/{name}?tenantFilter={tenant}&UserID=..%2Fusers"),
        )
        .await;
        assert_eq!(status, 400, "{name}: {body}");
        assert!(
            results(&body).starts_with("UserID"),
            "{name}: {body} should name UserID"
        );
        let custom = app.token("custom").await;
        let own = app.tenant(0).default_domain_name.clone();
        let response = app
            .get(
                &format!("/api/{name}?tenantFilter={own}&UserID=x"),
                Some(&custom),
            )
            .await;
        assert_eq!(
            response.status().as_u16(),
            403,
            "{name}: the custom role has no Exchange.Mailbox.Read"
        );
    }
    let ghost = "ghost@nowhere.example";
    let (status, body) = get(
        &app,
        format!("/api/ListUserMailboxDetails?tenantFilter={tenant}&UserID={ghost}"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(results(&body).contains(ghost), "{body}");
    let (status, body) = get(
        &app,
        format!("/api/ListUserMailboxRules?tenantFilter={tenant}&UserID={ghost}"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        results(&body).starts_with(&format!(
            "Failed to retrieve mailbox rules for {ghost} : Error: "
        )),
        "{body}"
    );
    let (status, body) = get(
        &app,
        format!("/api/ListUserTrustedBlockedSenders?tenantFilter={tenant}&UserID={ghost}"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        results(&body).starts_with(&format!(
            "Failed to retrieve junk email configuration for {ghost} : Error: "
        )),
        "{body}"
    );
    app.stop();
}
