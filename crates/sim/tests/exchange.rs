//! Exchange Online admin REST (InvokeCommand) over HTTPS, and its agreement with Graph.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The first few user mailboxes of the big tenant.
async fn user_mailboxes(
    h: &cipp_sim::SimHandle,
    c: &reqwest::Client,
    token: &str,
    n: u64,
) -> Vec<Value> {
    let tid = &h.tenants[0].customer_id;
    let (status, body) = cmdlet(
        h,
        c,
        token,
        tid,
        "Get-Mailbox",
        json!({"ResultSize": n, "RecipientTypeDetails": "UserMailbox"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["value"].as_array().unwrap().clone()
}

#[tokio::test]
async fn get_mailbox_answers_in_exchanges_envelope_and_agrees_with_graph() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let graph = graph_token(&h, &c, &tid).await;
    let (status, body) = cmdlet(&h, &c, &exo, &tid, "get-mailbox", json!({"ResultSize": 3})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#Collection(Exchange.GenericHashTable)")
    );
    assert_eq!(body["adminapi.warnings@odata.type"], "#Collection(String)");
    // Three of many: Exchange says there is more.
    assert!(
        body["@adminapi.warnings"][0]
            .as_str()
            .unwrap()
            .contains("ResultSize")
    );
    let mbx = &body["value"][0];
    for key in [
        "UserPrincipalName",
        "PrimarySmtpAddress",
        "RecipientTypeDetails",
        "ForwardingSmtpAddress",
        "ForwardingAddress",
        "DeliverToMailboxAndForward",
        "ArchiveStatus",
        "ArchiveGuid",
        "HiddenFromAddressListsEnabled",
        "EmailAddresses",
        "ExternalDirectoryObjectId",
        "Guid",
        "Identity",
        "ProhibitSendQuota",
        "ProhibitSendReceiveQuota",
        "RetentionHoldEnabled",
        "LitigationHoldEnabled",
        "MessageCopyForSentAsEnabled",
        "GrantSendOnBehalfTo",
    ] {
        assert!(mbx.get(key).is_some(), "{key} missing from {mbx}");
    }
    assert_eq!(mbx["EmailAddresses@odata.type"], "#Collection(String)");
    assert_eq!(mbx["Guid@data.type"], "System.Guid");
    assert!(
        mbx["ProhibitSendQuota"]
            .as_str()
            .unwrap()
            .contains(" bytes)")
    );
    let id = mbx["ExternalDirectoryObjectId"].as_str().unwrap();
    let user: Value = c
        .get(url(&h, &format!("/beta/users/{id}")))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mbx["UserPrincipalName"], user["userPrincipalName"]);
    assert_eq!(mbx["PrimarySmtpAddress"], user["mail"]);
    assert_eq!(mbx["EmailAddresses"], user["proxyAddresses"]);
    assert_ne!(mbx["Identity"], user["userPrincipalName"]);
    // The same mailbox is found by UPN, SMTP address, alias or Guid.
    for key in [
        mbx["UserPrincipalName"].clone(),
        json!(format!(
            "smtp:{}",
            mbx["PrimarySmtpAddress"].as_str().unwrap()
        )),
        mbx["Alias"].clone(),
        mbx["Guid"].clone(),
        mbx["ExternalDirectoryObjectId"].clone(),
    ] {
        let (status, one) =
            cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"Identity": key})).await;
        assert_eq!(status, StatusCode::OK, "{key}");
        assert_eq!(one["value"].as_array().unwrap().len(), 1);
        assert_eq!(one["value"][0]["Guid"], mbx["Guid"]);
    }
    // $select trims the objects.
    let resp = c
        .post(url(
            &h,
            &format!("/adminapi/beta/{tid}/InvokeCommand?$select=UserPrincipalName,Guid"),
        ))
        .bearer_auth(&exo)
        .header(
            "X-AnchorMailbox",
            format!("APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tid}"),
        )
        .json(
            &json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"Identity": id}}}),
        )
        .send()
        .await
        .unwrap();
    let (_, sel) = json_of(resp).await;
    let keys: Vec<&String> = sel["value"][0].as_object().unwrap().keys().collect();
    assert!(
        keys.iter().all(|k| k.starts_with("UserPrincipalName")
            || k.starts_with("Guid")
            || k.starts_with('@')),
        "{keys:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn set_mailbox_changes_are_visible_in_exchange_and_in_graph() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let graph = graph_token(&h, &c, &tid).await;
    let mbx = user_mailboxes(&h, &c, &exo, 2).await.remove(1);
    let upn = mbx["UserPrincipalName"].as_str().unwrap().to_owned();
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Set-Mailbox",
        json!({"Identity": upn, "Type": "Shared", "ForwardingSmtpAddress": "boss@elsewhere.example",
               "DeliverToMailboxAndForward": true, "HiddenFromAddressListsEnabled": true,
               "EmailAddresses": {"@odata.type": "#Exchange.GenericHashTable", "Add": ["smtp:extra.alias@contoso.example"]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], json!([]));
    let (_, after) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"Identity": upn})).await;
    let after = &after["value"][0];
    assert_eq!(after["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(after["IsShared"], true);
    assert_eq!(
        after["ForwardingSmtpAddress"],
        "smtp:boss@elsewhere.example"
    );
    assert_eq!(after["DeliverToMailboxAndForward"], true);
    assert_eq!(after["HiddenFromAddressListsEnabled"], true);
    let user: Value = c
        .get(url(&h, &format!("/beta/users/{upn}")))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["showInAddressList"], false);
    assert!(
        user["proxyAddresses"]
            .as_array()
            .unwrap()
            .contains(&json!("smtp:extra.alias@contoso.example"))
    );
    let settings: Value = c
        .get(url(&h, &format!("/v1.0/users/{upn}/mailboxSettings")))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["userPurpose"], "shared");
    // Setting the same values again changes nothing and says so.
    let (_, again) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Set-Mailbox",
        json!({"Identity": upn, "Type": "Shared"}),
    )
    .await;
    assert!(
        again["@adminapi.warnings"][0]
            .as_str()
            .unwrap()
            .contains("completed successfully but no settings of")
    );
    // Clearing forwarding the way CIPP does.
    let (status, _) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Set-Mailbox",
        json!({"Identity": upn, "ForwardingSmtpAddress": null, "ForwardingAddress": null, "DeliverToMailboxAndForward": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, cleared) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"Identity": upn})).await;
    assert_eq!(cleared["value"][0]["ForwardingSmtpAddress"], Value::Null);
    h.stop().await;
}

#[tokio::test]
async fn auto_replies_are_one_state_seen_from_both_sides() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let graph = graph_token(&h, &c, &tid).await;
    let mbx = user_mailboxes(&h, &c, &exo, 1).await.remove(0);
    let id = mbx["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Set-MailboxAutoReplyConfiguration",
        json!({"Identity": id, "AutoReplyState": "Scheduled", "ExternalAudience": "Known",
               "StartTime": "2026-03-01T09:00:00Z", "EndTime": "03/08/2026 17:00:00",
               "InternalMessage": "Away until Monday", "ExternalMessage": "<html><body>Out</body></html>"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ar: Value = c
        .get(url(
            &h,
            &format!("/v1.0/users/{id}/mailboxSettings/automaticRepliesSetting"),
        ))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ar["status"], "scheduled");
    assert_eq!(ar["externalAudience"], "contactsOnly");
    assert_eq!(
        ar["scheduledStartDateTime"]["dateTime"],
        "2026-03-01T09:00:00.0000000"
    );
    assert_eq!(
        ar["scheduledEndDateTime"]["dateTime"],
        "2026-03-08T17:00:00.0000000"
    );
    assert!(
        ar["internalReplyMessage"]
            .as_str()
            .unwrap()
            .starts_with("<html>")
    );
    assert!(
        ar["internalReplyMessage"]
            .as_str()
            .unwrap()
            .contains("Away until Monday")
    );

    // Graph writes; Exchange reads. PATCH answers 200 with only what changed.
    let resp = c
        .patch(url(&h, &format!("/v1.0/users/{id}/mailboxSettings")))
        .bearer_auth(&graph)
        .json(&json!({"automaticRepliesSetting": {"status": "AlwaysEnabled", "externalAudience": "none"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let patched: Value = resp.json().await.unwrap();
    assert_eq!(
        patched["automaticRepliesSetting"]["status"],
        "alwaysEnabled"
    );
    assert!(patched.get("timeZone").is_none());
    let (_, cfg) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MailboxAutoReplyConfiguration",
        json!({"Identity": id}),
    )
    .await;
    let cfg = &cfg["value"][0];
    assert_eq!(cfg["AutoReplyState"], "Enabled");
    assert_eq!(cfg["ExternalAudience"], "None");
    assert_eq!(cfg["StartTime@data.type"], "System.DateTime");
    assert!(
        cfg["StartTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-01T09:00:00")
    );

    // A user without a mailbox: Graph's Outlook-workload error.
    let users: Value = c
        .get(url(&h, "/beta/users?$top=999"))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guest = users["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userType"] == "Guest")
        .unwrap();
    let resp = c
        .get(url(
            &h,
            &format!(
                "/v1.0/users/{}/mailboxSettings",
                guest["id"].as_str().unwrap()
            ),
        ))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MailboxNotEnabledForRESTAPI");
    h.stop().await;
}

#[tokio::test]
async fn cmdlet_errors_come_in_exchanges_nested_shapes() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let missing = json!({"Identity": "nobody@contoso.example"});
    let (status, body) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", missing.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let detail = body["error"]["details"][0]["message"].as_str().unwrap();
    let parts: Vec<&str> = detail.splitn(3, '|').collect();
    assert_eq!(parts.len(), 3, "{detail}");
    assert!(parts[1].ends_with("ManagementObjectNotFoundException"));
    assert!(parts[2].starts_with(
        "The operation couldn't be performed because object 'nobody@contoso.example' couldn't be found on '"
    ));
    assert_eq!(
        body["error"]["innererror"]["internalexception"]["message"]
            .as_str()
            .unwrap(),
        parts[2]
    );

    let shapes = [
        ("json", "/error/details/0/message"),
        ("innererror", "/error/innererror/internalexception/message"),
        (
            "innererror-camel",
            "/error/innerError/internalException/message",
        ),
        ("message", "/error/message"),
    ];
    for (format, pointer) in shapes {
        let resp = c
            .put(url(&h, "/_sim/exchange"))
            .json(&json!({"error_format": format}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let (_, body) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", missing.clone()).await;
        let text = body
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{format}: {body}"));
        let text = if format == "json" {
            let inner: Value = serde_json::from_str(text).unwrap();
            assert!(
                inner["TypeName"]
                    .as_str()
                    .unwrap()
                    .ends_with("ManagementObjectNotFoundException")
            );
            inner["Message"].as_str().unwrap().to_owned()
        } else {
            text.to_owned()
        };
        assert!(text.contains("couldn't be found on"), "{format}: {text}");
    }
    c.put(url(&h, "/_sim/exchange"))
        .json(&json!({"error_format": "pipe"}))
        .send()
        .await
        .unwrap();

    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-Mailbox",
        json!({"Frobnicate": true}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ParameterBindingException")
    );
    let (status, body) = cmdlet(&h, &c, &exo, &tid, "Get-Unicorn", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is not recognized")
    );
    h.stop().await;
}

#[tokio::test]
async fn exchange_needs_an_exchange_token_for_the_tenant_and_an_anchor() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let graph = graph_token(&h, &c, &tid).await;
    let (status, _) = cmdlet(&h, &c, &graph, &tid, "Get-Mailbox", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other = exo_token(&h, &c, &h.tenants[1].customer_id).await;
    let (status, _) = cmdlet(&h, &c, &other, &tid, "Get-Mailbox", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let exo = exo_token(&h, &c, &tid).await;
    // The tenant may be given by domain too.
    let domain = h.tenants[0].initial_domain_name.clone();
    let resp = c
        .post(url(&h, &format!("/adminapi/beta/{domain}/InvokeCommand")))
        .bearer_auth(&exo)
        .header(
            "X-AnchorMailbox",
            format!("UPN:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{domain}"),
        )
        .json(
            &json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"ResultSize": 1}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = c
        .post(url(&h, &format!("/adminapi/beta/{tid}/InvokeCommand")))
        .bearer_auth(&exo)
        .json(&json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = c
        .post(url(&h, &format!("/adminapi/beta/{tid}/InvokeCommand")))
        .bearer_auth(&exo)
        .header(
            "X-AnchorMailbox",
            format!("someone@{}", h.tenants[1].default_domain_name),
        )
        .json(&json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    h.stop().await;
}

#[tokio::test]
async fn large_results_page_with_next_links_that_take_the_same_body() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let body = json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"ResultSize": "Unlimited"}}});
    let mut next = Some(url(&h, &format!("/adminapi/beta/{tid}/InvokeCommand")));
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    while let Some(link) = next {
        let resp = c
            .post(&link)
            .bearer_auth(&exo)
            .header(
                "X-AnchorMailbox",
                format!("APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tid}"),
            )
            .header("Prefer", "odata.maxpagesize=40")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, page) = json_of(resp).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for m in page["value"].as_array().unwrap() {
            assert!(
                seen.insert(m["Guid"].as_str().unwrap().to_owned()),
                "duplicate"
            );
        }
        assert!(page["value"].as_array().unwrap().len() <= 40);
        pages += 1;
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert!(pages > 2, "{pages} pages");
    assert!(seen.len() > 100);
    // A ResultSize smaller than the total stops early with Exchange's warning.
    let (_, limited) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"ResultSize": 10})).await;
    assert_eq!(limited["value"].as_array().unwrap().len(), 10);
    assert!(limited.get("@odata.nextLink").is_none());
    assert!(
        limited["@adminapi.warnings"][0]
            .as_str()
            .unwrap()
            .contains("ResultSize")
    );
    // A token from another query is refused.
    let resp = c
        .post(url(
            &h,
            &format!("/adminapi/beta/{tid}/InvokeCommand?$skiptoken=RVhPOjE6MTow"),
        ))
        .bearer_auth(&exo)
        .header(
            "X-AnchorMailbox",
            format!("APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tid}"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    h.stop().await;
}

#[tokio::test]
async fn seeded_rules_permissions_junk_lists_and_archives_can_be_read_and_changed() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let mailboxes = user_mailboxes(&h, &c, &exo, 80).await;
    let mut with_rules = None;
    let mut external_forward = false;
    for m in &mailboxes {
        let upn = m["UserPrincipalName"].as_str().unwrap();
        let (status, rules) =
            cmdlet(&h, &c, &exo, &tid, "Get-InboxRule", json!({"Mailbox": upn})).await;
        assert_eq!(status, StatusCode::OK);
        let rules = rules["value"].as_array().unwrap();
        if rules.iter().any(|r| {
            r["ForwardTo"].as_array().is_some_and(|f| !f.is_empty())
                || r["RedirectTo"].as_array().is_some_and(|f| !f.is_empty())
        }) {
            external_forward = true;
        }
        if !rules.is_empty() && with_rules.is_none() {
            with_rules = Some((upn.to_owned(), rules[0].clone()));
        }
    }
    assert!(
        external_forward,
        "some seeded rule forwards outside (BEC checks)"
    );
    let (upn, rule) = with_rules.expect("some mailbox has rules");
    let identity = rule["Identity"].as_str().unwrap().to_owned();
    let (status, _) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Disable-InboxRule",
        json!({"Identity": identity, "Confirm": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, rules) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-InboxRule",
        json!({"Mailbox": upn, "IncludeHidden": true}),
    )
    .await;
    let rules = rules["value"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["Name"] == "Junk E-Mail Rule"));
    let changed = rules
        .iter()
        .find(|r| r["Identity"] == json!(identity))
        .unwrap();
    assert_eq!(changed["Enabled"], false);
    let (status, _) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Remove-InboxRule",
        json!({"Identity": identity, "Confirm": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Remove-InboxRule",
        json!({"Identity": identity}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Permissions: SELF is always there; grants come and go.
    let target = mailboxes[0]["UserPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    let delegate = mailboxes[1]["UserPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = cmdlet(&h, &c, &exo, &tid, "Add-MailboxPermission",
        json!({"Identity": target, "User": delegate, "AccessRights": ["FullAccess"], "AutoMapping": false})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, perms) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MailboxPermission",
        json!({"Identity": target}),
    )
    .await;
    let perms = perms["value"].as_array().unwrap();
    assert!(perms.iter().any(|p| p["User"] == "NT AUTHORITY\\SELF"));
    assert!(
        perms
            .iter()
            .any(|p| p["User"] == json!(delegate) && p["AccessRights"] == json!(["FullAccess"]))
    );
    cmdlet(&h, &c, &exo, &tid, "Remove-MailboxPermission",
        json!({"Identity": target, "User": delegate, "AccessRights": ["FullAccess"], "Confirm": false})).await;
    let (_, perms) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MailboxPermission",
        json!({"Identity": target}),
    )
    .await;
    assert!(
        !perms["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["User"] == json!(delegate))
    );

    // Junk lists.
    let (status, _) = cmdlet(&h, &c, &exo, &tid, "Set-MailboxJunkEmailConfiguration",
        json!({"Identity": target, "TrustedSendersAndDomains": {"Add": ["trusted.example"]}, "BlockedSendersAndDomains": {"add": ["bad@spam.example"]}})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, junk) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MailboxJunkEmailConfiguration",
        json!({"Identity": target}),
    )
    .await;
    assert!(
        junk["value"][0]["TrustedSendersAndDomains"]
            .as_array()
            .unwrap()
            .contains(&json!("trusted.example"))
    );
    assert!(
        junk["value"][0]["BlockedSendersAndDomains"]
            .as_array()
            .unwrap()
            .contains(&json!("bad@spam.example"))
    );

    // Archive: enable once, then refuse.
    let no_archive = mailboxes
        .iter()
        .find(|m| m["ArchiveGuid"] == "00000000-0000-0000-0000-000000000000")
        .unwrap();
    let who = no_archive["UserPrincipalName"].as_str().unwrap();
    let (status, body) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Enable-Mailbox",
        json!({"Identity": who, "Archive": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(
        body["value"][0]["ArchiveGuid"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(body["value"][0]["ArchiveStatus"], "Active");
    let (status, _) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Enable-Mailbox",
        json!({"Identity": who, "Archive": true}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, stats) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-MailboxStatistics",
        json!({"Identity": who, "Archive": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        stats["value"][0]["TotalItemSize"]
            .as_str()
            .unwrap()
            .ends_with(" bytes)")
    );
    let (status, cas) = cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Get-CASMailbox",
        json!({"Identity": who}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(cas["value"][0]["OWAEnabled"].is_boolean());
    h.stop().await;
}

#[tokio::test]
async fn the_exchange_batch_runs_each_cmdlet_and_faults_use_exchange_shapes() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let upn = user_mailboxes(&h, &c, &exo, 1).await[0]["UserPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    let invoke = url(&h, &format!("/adminapi/beta/{tid}/InvokeCommand?"));
    let resp = c
        .post(url(&h, &format!("/adminapi/beta/{tid}/$batch")))
        .bearer_auth(&exo)
        .header("X-AnchorMailbox", format!("APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tid}"))
        .json(&json!({"requests": [
            {"id": "a", "method": "POST", "url": invoke, "headers": {"X-CmdletName": "Get-Mailbox"},
             "body": {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"Identity": upn}}}},
            {"id": "b", "method": "POST", "url": invoke, "headers": {"X-CmdletName": "Get-CASMailbox"},
             "body": {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"Identity": "ghost@nowhere.example"}}}},
        ]}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "a")
        .unwrap();
    assert_eq!(a["status"], 200);
    assert_eq!(a["body"]["value"][0]["UserPrincipalName"], json!(upn));
    let b = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "b")
        .unwrap();
    assert_eq!(b["status"], 404);
    assert!(b["body"]["error"]["details"][0]["message"].is_string());

    add_fault(
        &h,
        &c,
        json!({"path": "/adminapi/", "status": 429, "retry_after": 4, "count": 1}),
    )
    .await;
    let (status, body) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"ResultSize": 1})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "TooManyRequests");
    let s = stats(&h, &c).await;
    assert!(
        stat_count(
            &s,
            "POST",
            &format!("/adminapi/beta/{tid}/InvokeCommand"),
            429
        ) == 1
    );
    h.stop().await;
}

#[tokio::test]
async fn a_deleted_users_mailbox_disappears_and_returns_with_its_settings_on_restore() {
    let (h, c) = sim().await;
    let tid = h.tenants[0].customer_id.clone();
    let exo = exo_token(&h, &c, &tid).await;
    let graph = graph_token(&h, &c, &tid).await;
    let mbx = user_mailboxes(&h, &c, &exo, 3).await.remove(2);
    let id = mbx["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();
    cmdlet(
        &h,
        &c,
        &exo,
        &tid,
        "Set-Mailbox",
        json!({"Identity": id, "ForwardingSmtpAddress": "smtp:keep@else.example"}),
    )
    .await;
    let resp = c
        .delete(url(&h, &format!("/v1.0/users/{id}")))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, _) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"Identity": id})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let resp = c
        .post(url(
            &h,
            &format!("/v1.0/directory/deletedItems/{id}/restore"),
        ))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, back) = cmdlet(&h, &c, &exo, &tid, "Get-Mailbox", json!({"Identity": id})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        back["value"][0]["ForwardingSmtpAddress"],
        "smtp:keep@else.example"
    );
    assert_eq!(
        back["value"][0]["UserPrincipalName"],
        mbx["UserPrincipalName"]
    );
    h.stop().await;
}
