//! The BEC check end to end over HTTP against the simulator: the legacy polling protocol of
//! frontends up to 10.9, the case workflow (start, progress by DeploymentId, report, list,
//! delete), a collector failing at the simulator while the others still report, the planted
//! compromise found, and the collectors running at once under simulator latency.

use std::time::{Duration, Instant};

use crate::helpers::{TestApp, spawn_app};
use serde_json::{Value, json};

/// The list fields the BEC page calls `.map` on: each must be an array.
const LISTS: [&str; 20] = [
    "AddedApps",
    "MaliciousSPs",
    "SuspectUserSignIns",
    "SuspectUserMailboxLogons",
    "SuspectUserDevices",
    "NewRules",
    "InboxRuleChanges",
    "SentMessages",
    "MailboxPermissionChanges",
    "NewUsers",
    "MFADevices",
    "ChangedPasswords",
    "TrustedSenders",
    "BlockedSenders",
    "SafelistChanges",
    "SharingChanges",
    "IntuneDevices",
    "UserGrants",
    "IPVerdicts",
    "IPOverrides",
];

/// The first enabled member user of the first tenant: (tenant domain, id, UPN).
async fn some_user(app: &TestApp) -> (String, String, String) {
    let tenant = app.tenant(0).default_domain_name.clone();
    let users = app
        .graph
        .get(
            &tenant,
            cipp_graph::GraphVersion::V1,
            "users?$select=id,userPrincipalName,accountEnabled,userType&$top=20",
            &[],
        )
        .await
        .unwrap();
    let user = users["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["accountEnabled"] == true && u["userType"] == "Member")
        .unwrap()
        .clone();
    (
        tenant,
        user["id"].as_str().unwrap().to_owned(),
        user["userPrincipalName"].as_str().unwrap().to_owned(),
    )
}

/// Starts a case as the newest BEC page does (a POST with the user) and returns the answer.
async fn start_case(app: &TestApp, token: &str, tenant: &str, id: &str, upn: &str) -> Value {
    app.post(
        "/api/execBECCheck",
        Some(token),
        json!({"tenantFilter": tenant, "userid": id, "userName": upn}),
    )
    .await
    .json()
    .await
    .unwrap()
}

/// Polls ExecBECCheck with `GUID` (as the BEC page does) until the answer is not waiting.
async fn poll(app: &TestApp, token: &str, tenant: &str, guid: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let answer: Value = app
            .get_json(
                &format!("/api/execBECCheck?GUID={guid}&tenantFilter={tenant}"),
                token,
            )
            .await;
        if answer["Waiting"] != true {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "the run never finished: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn completeness<'v>(report: &'v Value, collector: &str) -> &'v Value {
    &report["Completeness"][collector]
}

#[tokio::test]
async fn the_legacy_protocol_answers_the_user_id_then_waiting_then_the_report() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let (tenant, id, upn) = some_user(&app).await;

    // Exactly as bec.jsx (10.9) sends it: lower-case route, userId and username in the query.
    let first: Value = app
        .get_json(
            &format!("/api/execBECCheck?userId={id}&tenantFilter={tenant}&username={upn}"),
            &token,
        )
        .await;
    assert_eq!(first["GUID"], id.as_str(), "{first}");
    let report = poll(&app, &token, &tenant, &id).await;
    for list in LISTS {
        assert!(
            report[list].is_array(),
            "{list} is not an array: {}",
            report[list]
        );
    }
    assert_eq!(report["UserPrincipalName"], upn.as_str());
    assert_eq!(
        report["ExtractResult"],
        "Successfully extracted logs from auditlog"
    );
    assert!(report["ExtractedAt"].is_string());
    assert!(report["Score"]["Value"].is_i64());
    assert!(["High", "Medium", "Low"].contains(&report["Score"]["Level"].as_str().unwrap()));
    assert_eq!(completeness(&report, "SignIns")["Complete"], true);
    assert!(
        !report["SuspectUserSignIns"].as_array().unwrap().is_empty(),
        "the simulator seeds sign-ins"
    );

    // A second first call finds the finished run and starts nothing; Overwrite starts afresh.
    let again: Value = app
        .get_json(
            &format!("/api/execBECCheck?userId={id}&tenantFilter={tenant}&username={upn}"),
            &token,
        )
        .await;
    assert_eq!(again["CaseId"], report["CaseId"]);
    let fresh: Value = app
        .get_json(
            &format!(
                "/api/execBECCheck?userId={id}&tenantFilter={tenant}&username={upn}&Overwrite=true"
            ),
            &token,
        )
        .await;
    assert_eq!(fresh["GUID"], id.as_str());
    assert_ne!(fresh["CaseId"], report["CaseId"]);
    let newer = poll(&app, &token, &tenant, &id).await;
    assert_eq!(newer["CaseId"], fresh["CaseId"]);
}

#[tokio::test]
async fn the_case_workflow_starts_reports_progress_lists_and_deletes_a_run() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let (tenant, id, upn) = some_user(&app).await;

    let started = start_case(&app, &token, &tenant, &id, &upn).await;
    let case = started["CaseId"].as_str().unwrap().to_owned();
    assert!(case.starts_with("BEC-"), "{started}");
    assert_eq!(started["GUID"], case.as_str());
    assert_eq!(started["Status"], "Waiting");

    let report = poll(&app, &token, &tenant, &case).await;
    assert_eq!(report["CaseId"], case.as_str());
    assert_eq!(report["Run"]["CaseId"], case.as_str());
    assert_eq!(report["Run"]["Status"], "Completed");
    assert!(report["Run"]["Containment"].is_array());

    // Progress by DeploymentId (= the case id), as the frontend's job view reads it. The case
    // turns Completed inside the score step, a moment before the job records that step, so the
    // view is polled until the job has finished (as the frontend polls it).
    let progress = progress_done(&app, &token, &case).await;
    let row = &progress[0];
    assert_eq!(row["Name"], upn.as_str());
    assert_eq!(row["Status"], "succeeded", "{progress}");
    let steps = row["Steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| s["Status"] == "succeeded"));
    assert!(
        steps[0]["Message"]
            .as_str()
            .unwrap()
            .contains("collectors complete")
    );
    assert_eq!(
        steps[1]["Message"],
        format!(
            "Threat level {} ({})",
            report["Score"]["Level"].as_str().unwrap(),
            report["Score"]["Value"]
        )
    );

    // The hub lists it, for the tenant and for all tenants.
    for filter in [tenant.as_str(), "AllTenants"] {
        let rows: Value = app
            .get_json(
                &format!("/api/ListBECReports?tenantFilter={filter}&userId={id}"),
                &token,
            )
            .await;
        let listed = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["CaseId"] == case.as_str())
            .unwrap();
        assert_eq!(listed["Status"], "Completed");
        assert_eq!(listed["Score"], report["Score"]["Value"]);
        assert_eq!(listed["Level"], report["Score"]["Level"]);
        assert_eq!(listed["UserPrincipalName"], upn.as_str());
        assert_eq!(listed["ContainmentRuns"], 0);
    }

    // Deleted as the hub's action sends it.
    let deleted = app
        .post(
            "/api/ExecBECReport",
            Some(&token),
            json!({"tenantFilter": tenant, "Action": "Delete", "caseId": case}),
        )
        .await;
    assert_eq!(deleted.status(), 200);
    let body: Value = deleted.json().await.unwrap();
    assert_eq!(
        body["Results"],
        format!("Deleted BEC run {case} for {tenant}")
    );
    let gone: Value = app
        .get_json(
            &format!("/api/execBECCheck?GUID={case}&tenantFilter={tenant}"),
            &token,
        )
        .await;
    assert_eq!(gone["Waiting"], false);
    assert_eq!(
        gone["Error"],
        format!("BEC run {case} was not found for {tenant}")
    );
}

#[tokio::test]
async fn a_collector_failing_at_the_simulator_is_marked_error_and_the_others_still_report() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let (tenant, id, upn) = some_user(&app).await;
    app.add_fault(json!({"path": "/beta/servicePrincipals", "status": 503}))
        .await;

    let started = start_case(&app, &token, &tenant, &id, &upn).await;
    let report = poll(&app, &token, &tenant, started["CaseId"].as_str().unwrap()).await;
    let failed = completeness(&report, "NewApps");
    assert_eq!(failed["Complete"], false, "{failed}");
    assert!(
        failed["Error"].as_str().is_some_and(|e| !e.is_empty()),
        "{failed}"
    );
    assert_eq!(report["AddedApps"], json!([]));
    for other in [
        "AuditLog",
        "SignIns",
        "InboxRules",
        "Safelists",
        "TenantUsers",
        "MFAMethods",
        "UserGrants",
        "MailboxPermissionChanges",
        "InboxRuleChanges",
    ] {
        assert_eq!(
            completeness(&report, other)["Complete"],
            true,
            "{other}: {}",
            completeness(&report, other)
        );
    }
    let listed: Value = app
        .get_json(
            &format!("/api/ListBECReports?tenantFilter={tenant}"),
            &token,
        )
        .await;
    assert!(listed[0]["IncompleteCount"].as_i64().unwrap() >= 1);
}

#[tokio::test]
async fn the_collectors_run_at_once_so_latency_does_not_add_up() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let (tenant, id, upn) = some_user(&app).await;
    // Every Graph and Exchange call waits 400 ms at the simulator.
    for path in ["/beta/", "/v1.0/", "/adminapi/"] {
        app.add_fault(json!({"path": path, "latency_ms": 400}))
            .await;
    }
    let started = start_case(&app, &token, &tenant, &id, &upn).await;
    let report = poll(&app, &token, &tenant, started["CaseId"].as_str().unwrap()).await;
    let collectors = report["Completeness"].as_object().unwrap();
    assert!(collectors.len() >= 15, "{} collectors", collectors.len());
    // The three audit-log collectors share one search: count its time once.
    let mut seen_audit = false;
    let mut sum = 0;
    let mut timed = 0;
    for (name, status) in collectors {
        let ms = status["DurationMs"].as_u64().unwrap();
        if ms < 400 {
            // Did not run (its prerequisite failed): nothing to add.
            continue;
        }
        timed += 1;
        if ["SafelistChanges", "SharingChanges", "InboxRuleChanges"].contains(&name.as_str()) {
            if seen_audit {
                continue;
            }
            seen_audit = true;
        }
        sum += ms;
    }
    assert!(timed >= 12, "only {timed} collectors made a call");
    let wall = report["CollectionMs"].as_u64().unwrap();
    assert!(
        wall * 3 < sum,
        "collecting took {wall} ms against {sum} ms for the collectors one after another"
    );
}

#[tokio::test]
async fn the_planted_compromise_is_found_rule_consent_foreign_sign_in_and_all() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let incident: Value = app
        .http
        .get(app.sim.join(&format!("_sim/incident/{tenant}")).unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = incident["userId"].as_str().unwrap();
    let upn = incident["userPrincipalName"].as_str().unwrap();
    let started = start_case(&app, &token, &tenant, id, upn).await;
    let report = poll(&app, &token, &tenant, started["CaseId"].as_str().unwrap()).await;
    for (name, status) in report["Completeness"].as_object().unwrap() {
        assert_eq!(status["Complete"], true, "{name}: {status}");
    }

    // The planted rule, judged suspicious, and its creation (and a deleted rule) in the audit log.
    let rule = report["NewRules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Name"] == incident["ruleName"])
        .unwrap();
    assert_eq!(rule["Suspicious"], true, "{rule}");
    assert_eq!(rule["Risk"], "High");
    assert_eq!(rule["RecentlyChanged"], true);
    let changes = report["InboxRuleChanges"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["Operation"] == "New-InboxRule"
            && c["RuleName"] == incident["ruleName"]
            && c["ForeignLocation"] == true),
        "{changes:?}"
    );
    assert!(
        // A removal names the rule by its identity, `<mailbox>\\<name>`, as Exchange records it.
        changes.iter().any(|c| c["Operation"] == "Remove-InboxRule"
            && c["RuleName"]
                .as_str()
                .unwrap()
                .ends_with(incident["deletedRuleName"].as_str().unwrap())),
        "{changes:?}"
    );

    // The consent to a catalogued rogue application.
    let grant = report["UserGrants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == incident["grantId"])
        .unwrap();
    assert_eq!(grant["Risk"], "CatalogMatch");
    assert_eq!(grant["AppId"], incident["maliciousAppId"]);
    assert!(
        report["MaliciousSPs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == incident["maliciousServicePrincipalId"])
    );
    assert!(
        report["AddedApps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["appId"] == incident["maliciousAppId"] && !a["MaliciousMatch"].is_null())
    );

    // The foreign sign-ins, the address judged the attacker's, and the rest of the trail.
    let attacker = incident["attackerIp"].as_str().unwrap();
    let foreign: Vec<&Value> = report["SuspectUserSignIns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["IPAddress"] == attacker)
        .collect();
    assert!(!foreign.is_empty());
    assert!(
        foreign
            .iter()
            .all(|s| s["ForeignLocation"] == true && s["Country"] == incident["attackerCountry"])
    );
    assert!(
        report["LocationAnalysis"]["ForeignSuccessfulSignInCount"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let verdict = report["IPVerdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["IP"] == attacker)
        .unwrap();
    assert_eq!(verdict["Verdict"], "LikelyAttacker", "{verdict}");
    assert!(
        report["TrustedSenders"]
            .as_array()
            .unwrap()
            .contains(&incident["trustedSender"])
    );
    assert!(
        report["SafelistChanges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["ForeignLocation"] == true)
    );
    assert!(
        report["SharingChanges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["FileName"] == incident["sharedFileName"])
    );
    assert!(
        report["MailboxPermissionChanges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["TargetsSuspect"] == true)
    );
    assert!(
        report["MFADevices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == incident["mfaMethodId"])
    );
    assert!(
        report["ChangedPasswords"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == id)
    );
    assert_eq!(report["SentMessageAnalysis"]["Flagged"], true);
    assert_eq!(
        report["SentMessageAnalysis"]["Bursts"][0]["TopSubject"],
        incident["burstSubject"]
    );

    assert_eq!(report["Score"]["Level"], "High");
    let applied: Vec<&str> = report["Score"]["Breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["Applied"] == true)
        .filter_map(|b| b["Signal"].as_str())
        .collect();
    for signal in [
        "SuspiciousRules",
        "CatalogUserGrants",
        "MaliciousApps",
        "ForeignSuccessfulSignIns",
        "MassMail",
        "AttackerIPs",
    ] {
        assert!(
            applied.contains(&signal),
            "{signal} not applied: {applied:?}"
        );
    }
}

/// Waits until every job of a deployment has finished, as the frontend's progress view polls.
async fn progress_done(app: &TestApp, token: &str, deployment: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows: Value = app
            .get_json(
                &format!("/api/ListOffboardingProgress?DeploymentId={deployment}"),
                token,
            )
            .await;
        let done = rows.as_array().is_some_and(|r| {
            !r.is_empty()
                && r.iter()
                    .all(|row| row["Status"] == "succeeded" || row["Status"] == "failed")
        });
        if done {
            return rows;
        }
        assert!(Instant::now() < deadline, "the job never finished: {rows}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_ip_review_applies_the_operators_verdicts_and_scores_the_run_again() {
    let app = spawn_app().await;
    let token = app.token("superadmin").await;
    let (tenant, id, upn) = some_user(&app).await;
    let started = start_case(&app, &token, &tenant, &id, &upn).await;
    let case = started["CaseId"].as_str().unwrap().to_owned();
    let report = poll(&app, &token, &tenant, &case).await;
    let address = report["SuspectUserSignIns"][0]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    let range = format!("{}/32", address);

    // Bad input is refused naming the field, and nothing is queued.
    for (overrides, field) in [
        (
            json!([{"IP": range, "Verdict": "Evil"}]),
            "Verdict must be Safe, Suspicious, Compromised or Auto, not 'Evil'",
        ),
        (
            json!([{"IP": "300.1.2.3", "Verdict": "Safe"}]),
            "'300.1.2.3' is not an IP address or CIDR range",
        ),
        (
            json!([{"IP": range, "Verdict": "Auto"}]),
            "Set at least one address to Safe, Suspicious or Compromised before re-running",
        ),
    ] {
        let refused = app
            .post(
                "/api/ExecBECIPReview",
                Some(&token),
                json!({"tenantFilter": tenant, "CaseId": case, "Overrides": overrides}),
            )
            .await;
        assert_eq!(refused.status(), 400);
        let body: Value = refused.json().await.unwrap();
        assert!(body["Results"].as_str().unwrap().contains(field), "{body}");
    }
    let missing = app
        .post("/api/ExecBECIPReview", Some(&token), json!({"tenantFilter": tenant, "CaseId": "BEC-20200101000000-000000", "Overrides": [{"IP": range, "Verdict": "Safe"}]}))
        .await;
    assert_eq!(missing.status(), 404);

    // As the review drawer sends it.
    let body = json!({"tenantFilter": tenant, "CaseId": case, "Overrides": [{"IP": range, "Verdict": "Compromised", "Note": "not the user"}]});
    let queued: Value = app
        .post("/api/ExecBECIPReview", Some(&token), body.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queued["Results"][0]["state"], "info");
    assert!(
        queued["Results"][0]["resultText"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "Re-judging the IP addresses of case {case} with 1 override(s)"
            ))
    );
    let rows = progress_done(&app, &token, queued["DeploymentId"].as_str().unwrap()).await;
    assert_eq!(rows[0]["Status"], "succeeded", "{rows}");
    assert_eq!(rows[0]["Source"], "BECIPReview");

    let judged = poll(&app, &token, &tenant, &case).await;
    let verdict = judged["IPVerdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["IP"] == address.as_str())
        .unwrap();
    assert_eq!(verdict["Verdict"], "Compromised");
    assert_eq!(verdict["Source"], "Override");
    assert_eq!(judged["IPOverrides"][0]["Range"], range.as_str());
    assert_eq!(judged["IPOverrides"][0]["Verdict"], "Compromised");
    let attacker_ips = judged["Score"]["Breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["Signal"] == "AttackerIPs")
        .unwrap();
    assert_eq!(
        attacker_ips["Applied"], true,
        "a confirmed attacker address is scored"
    );
    let listed: Value = app
        .get_json(
            &format!("/api/ListBECReports?tenantFilter={tenant}"),
            &token,
        )
        .await;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["CaseId"] == case.as_str())
        .unwrap();
    assert_eq!(row["Score"], judged["Score"]["Value"]);

    // The same verdicts again change nothing.
    let again = app.post("/api/ExecBECIPReview", Some(&token), body).await;
    assert_eq!(again.status(), 400);
}
