//! ExecGetBecReportPdf, ExecBECEvidenceExport and ListBECPhishingSpread. The BEC check that
//! writes cases is not part of these tests: each test writes its case straight into the app's
//! store, with a report as the check writes it (crates/users/src/bec/mod.rs).

use crate::helpers::{TestApp, results, spawn_app};
use base64::Engine;
use cipp_store::{BecCase, BecCaseStatus};
use serde_json::{Value, json};
use std::io::Read;

const DISPLAY_NAME: &str = "Avery O'Brien";
const FOREIGN_IP: &str = "198.51.100.23";
const RULE: &str = "Hide replies from CFO";
const APP: &str = "PerfectData Software";
const SENT: usize = 250;
const FORMULA_SUBJECT: &str = "=HYPERLINK(\"http://evil.example\",\"Pay now\")";

/// A report with a suspicious rule, a consent to a known-bad app, a foreign sign-in, a score
/// with its breakdown, collectors capped, failed and skipped, and many sent messages (one
/// subject a spreadsheet formula, one in Cyrillic).
fn report(case_id: &str, upn: &str) -> Value {
    let sent: Vec<Value> = (0..SENT)
        .map(|i| {
            let subject = match i {
                0 => FORMULA_SUBJECT.to_owned(),
                1 => "Счёт к оплате".to_owned(),
                _ => format!("Overdue invoice {i}"),
            };
            json!({
                "MessageTraceId": format!("trace-{i}"), "Status": "Delivered",
                "Subject": subject, "RecipientAddress": format!("victim{i}@partner.example"),
                "Received": "2026-03-02T10:00:00Z", "FromIP": FOREIGN_IP, "Country": "NG",
                "ForeignLocation": true
            })
        })
        .collect();
    let report = json!({
        "CaseId": case_id,
        "UserPrincipalName": upn,
        "AnalysisWindowDays": 7,
        "ExtractedAt": "2026-03-03T08:00:00Z",
        "ExtractResult": "Completed",
        "SuspectUserSignIns": [
            {"CreatedDateTime": "2026-03-01T22:14:05Z", "id": "s1", "AppDisplayName": "Office 365 Exchange Online",
             "ClientAppUsed": "Browser", "Status": "Success", "ErrorCode": 0, "FailureReason": null,
             "IPAddress": FOREIGN_IP, "Country": "NG", "City": "Lagos", "ForeignLocation": true},
            {"CreatedDateTime": "2026-03-01T08:00:00Z", "id": "s2", "AppDisplayName": "Microsoft Teams",
             "ClientAppUsed": "Mobile Apps and Desktop clients", "Status": "Success", "ErrorCode": 0,
             "FailureReason": null, "IPAddress": "192.0.2.10", "Country": "NL", "City": "Utrecht",
             "ForeignLocation": false}
        ],
        "SuspectUserSignInsError": null,
        "SuspectUserMailboxLogons": [],
        "LastSuspectUserLogon": [],
        "SuspectUserDevices": [],
        "NewRules": [{
            "Name": RULE, "Enabled": true, "Description": "Move messages from cfo@contoso.example to RSS Feeds",
            "RecentlyChanged": true, "RiskReasons": ["Moves mail to RSS Feeds", "Marks as read"],
            "Suspicious": true, "Risk": "High"
        }],
        "InboxRuleChanges": [{
            "Operation": "New-InboxRule", "UserKey": upn, "RuleName": RULE,
            "Parameters": {"MoveToFolder": "RSS Feeds"}, "Date": "2026-03-01T22:20:00Z",
            "ClientIP": FOREIGN_IP, "Country": "NG", "ForeignLocation": true
        }],
        "MailboxPermissionChanges": [{
            "Operation": "Add-MailboxPermission", "UserKey": "admin@contoso.example", "UserId": "admin",
            "ObjectId": upn, "Permissions": "FullAccess", "Trustee": "helper@contoso.example",
            "Date": "2026-03-02T07:00:00Z", "ClientIP": "192.0.2.1", "TargetsSuspect": true
        }],
        "TrustedSenders": ["billing@evil.example"],
        "BlockedSenders": [],
        "SafelistError": null,
        "SafelistChanges": [],
        "SharingChanges": [],
    });
    let more = json!({
        "SentMessages": sent,
        "SentMessageAnalysis": {"TotalMessages": SENT, "TotalRecipients": SENT,
            "RepeatedSubjects": ["Overdue invoice"], "FlaggedSubjectCount": 1, "Bursts": [], "Flagged": true},
        "NewUsers": [],
        "ChangedPasswords": [],
        "MFADevices": [{"id": "m1", "displayName": "Attacker phone", "createdDateTime": "2026-03-01T22:30:00Z",
            "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"}],
        "AddedApps": [],
        "MaliciousSPs": [{"id": "sp1", "displayName": APP, "appId": "ff8d92dc-3d82-41d6-bcbd-b9174d163620",
            "accountEnabled": true, "createdDateTime": "2026-03-01T22:25:00Z", "CatalogName": "PerfectData",
            "Categories": ["Mail exfiltration"], "Description": "Syncs whole mailboxes", "Source": "Huntress"}],
        "UserGrants": [{"id": "g1", "Kind": "Delegated", "ClientId": "sp1",
            "AppId": "ff8d92dc-3d82-41d6-bcbd-b9174d163620", "AppDisplayName": APP,
            "Scope": "Mail.ReadWrite offline_access", "ConsentType": "Principal", "Risk": "CatalogMatch",
            "MaliciousMatch": "PerfectData"}],
        "IntuneDevices": [],
        "IntuneDevicesError": "Forbidden",
        "LocationAnalysis": {"UsageLocation": "NL", "SignInCountries": ["NL", "NG"], "ForeignSignInCount": 1,
            "ForeignSuccessfulSignInCount": 1, "ForeignRuleChangeCount": 1, "ForeignSafelistChangeCount": 0,
            "ForeignSharingChangeCount": 0, "ForeignSentMessageCount": SENT, "Note": null},
        "IPVerdicts": [{"IP": FOREIGN_IP, "Verdict": "Malicious", "Score": 90, "City": "Lagos", "Country": "NG",
            "Source": "sign-ins", "SuccessfulSignIns": 1, "FailedSignIns": 0, "Activities": 3,
            "Reasons": [{"Code": "Foreign", "Text": "Outside the usage location", "Weight": 30}]}],
        "IPOverrides": [],
        "Completeness": {
            "SignIns": {"Complete": true, "Count": 2},
            "AuditLog": {"Complete": false, "Cap": 5000, "Count": 5000},
            "IntuneDevices": {"Complete": false, "Error": "Forbidden by Intune", "Count": 0},
            "MessageTrace": {"Complete": false, "Skipped": true, "Requirement": "Exchange Online Plan 2"}
        },
        "Score": {
            "Value": 87, "Level": "High", "Thresholds": {"High": 70, "Medium": 40},
            "Breakdown": [
                {"Signal": "ForeignSignIn", "Description": "Successful sign-in from abroad", "Weight": 20, "Count": 1, "Applied": true},
                {"Signal": "HidingRule", "Description": "Inbox rule hides mail", "Weight": 25, "Count": 1, "Applied": true},
                {"Signal": "MaliciousConsent", "Description": "Consent to a catalogued app", "Weight": 42, "Count": 1, "Applied": true},
                {"Signal": "NewMfaMethod", "Description": "Unused signal text", "Weight": 10, "Count": 0, "Applied": false}
            ]
        },
        "Run": {"CaseId": case_id, "Status": "Completed", "Containment": [
            {"Action": "RevokeSessions", "Result": "Sessions revoked", "At": "2026-03-03T09:00:00Z"}
        ]}
    });
    let (Value::Object(mut report), Value::Object(more)) = (report, more) else {
        unreachable!("both are objects")
    };
    report.extend(more);
    Value::Object(report)
}

fn case(case_id: &str, tenant: &str, status: BecCaseStatus, minutes_ago: i64) -> BecCase {
    let upn = format!("avery.obrien@{tenant}");
    let requested_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes_ago);
    let completed = status == BecCaseStatus::Completed;
    BecCase {
        case_id: case_id.to_owned(),
        tenant: tenant.to_owned(),
        user_id: "0b5f3c2e-1111-4222-8333-444455556666".to_owned(),
        user_principal_name: upn.clone(),
        display_name: DISPLAY_NAME.to_owned(),
        status,
        level: completed.then(|| "High".to_owned()),
        score: completed.then_some(87),
        incomplete_count: 3,
        requested_at,
        requested_by: "analyst@partner.example".to_owned(),
        extracted_at: completed.then_some(requested_at + time::Duration::minutes(2)),
        error_message: None,
        results: completed.then(|| report(case_id, &upn)),
        containment: vec![json!({"Action": "DisableUser", "Result": "Sign-in blocked"})],
    }
}

async fn put(app: &TestApp, case: &BecCase) {
    app.store.bec_put(case).await.unwrap();
}

/// The PDF's text, every page, whitespace collapsed (a wrapped cell splits at spaces).
fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let document = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document.extract_text(&pages).expect("text");
    (
        pages.len(),
        text.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

async fn pdf(app: &TestApp, query: &str) -> reqwest::Response {
    let token = app.token("readonly").await;
    app.get(&format!("/api/ExecGetBecReportPdf?{query}"), Some(&token))
        .await
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_full_report_pdf_holds_the_user_the_score_the_reasons_and_every_finding() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    put(
        &app,
        &case(
            "BEC-20260303080000-a1b2c3",
            &tenant,
            BecCaseStatus::Completed,
            5,
        ),
    )
    .await;
    let response = pdf(
        &app,
        &format!("tenantFilter={tenant}&caseId=BEC-20260303080000-a1b2c3&variant=full"),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "content-type"), "application/pdf");
    assert_eq!(
        header(&response, "content-disposition"),
        "inline; filename=\"BEC_Report_Avery_O_Brien.pdf\""
    );
    let (pages, text) = pdf_text(&response.bytes().await.unwrap());
    assert!(pages >= 3, "{pages} pages");
    for expected in [
        "BEC Analysis Report",
        DISPLAY_NAME,
        &format!("avery.obrien@{tenant}"),
        "BEC-20260303080000-a1b2c3",
        "analyst@partner.example",
        "7 days",
        "87",
        "High",
        "Successful sign-in from abroad",
        "42 × 1 = 42",
        "capped at 5000",
        "error: Forbidden by Intune",
        "skipped: Exchange Online Plan 2",
        RULE,
        "Moves mail to RSS Feeds",
        APP,
        "Mail.ReadWrite",
        FOREIGN_IP,
        "NG, Lagos (foreign)",
        "Attacker phone",
        "billing@evil.example",
        "and 200 more",
        "RevokeSessions",
        "DisableUser",
        &format!("Page 1 of {pages}"),
    ] {
        assert!(text.contains(expected), "the report lacks {expected:?}");
    }
    // Signals that did not apply are not reasons; text the font cannot show became `?`.
    assert!(!text.contains("Unused signal text"));
    assert!(text.contains("????"));
    app.stop();
}

#[tokio::test]
async fn the_summary_holds_the_score_reasons_and_counts_but_not_the_rows() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    put(
        &app,
        &case(
            "BEC-20260303080000-a1b2c4",
            &tenant,
            BecCaseStatus::Completed,
            5,
        ),
    )
    .await;
    let query = format!("tenantFilter={tenant}&caseId=BEC-20260303080000-a1b2c4");
    let summary = pdf(&app, &format!("{query}&variant=Summary")).await;
    assert_eq!(summary.status().as_u16(), 200);
    assert_eq!(
        header(&summary, "content-disposition"),
        "inline; filename=\"BEC_Summary_Avery_O_Brien.pdf\""
    );
    let (summary_pages, summary) = pdf_text(&summary.bytes().await.unwrap());
    let (full_pages, full) = pdf_text(&pdf(&app, &query).await.bytes().await.unwrap());
    assert!(
        summary_pages < full_pages,
        "{summary_pages} vs {full_pages}"
    );
    for expected in [
        DISPLAY_NAME,
        "Summary",
        "87",
        "Inbox rule hides mail",
        "capped at 5000",
        "Sent messages",
        "250",
    ] {
        assert!(summary.contains(expected), "the summary lacks {expected:?}");
    }
    for row_only in [RULE, FOREIGN_IP, "Attacker phone"] {
        assert!(
            !summary.contains(row_only),
            "the summary lists {row_only:?}"
        );
        assert!(
            full.contains(row_only),
            "the full report lacks {row_only:?}"
        );
    }
    app.stop();
}

#[tokio::test]
async fn without_a_case_id_the_report_is_of_the_users_newest_completed_case() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    put(
        &app,
        &case(
            "BEC-20260303070000-000001",
            &tenant,
            BecCaseStatus::Completed,
            60,
        ),
    )
    .await;
    put(
        &app,
        &case(
            "BEC-20260303075000-000002",
            &tenant,
            BecCaseStatus::Completed,
            10,
        ),
    )
    .await;
    put(
        &app,
        &case(
            "BEC-20260303080000-000003",
            &tenant,
            BecCaseStatus::Waiting,
            1,
        ),
    )
    .await;
    for user in [
        "0b5f3c2e-1111-4222-8333-444455556666".to_owned(),
        format!("Avery.OBrien@{tenant}"),
    ] {
        let response = pdf(
            &app,
            &format!("tenantFilter={tenant}&userId={user}&userDisplayName=Someone%20Else"),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            header(&response, "content-disposition"),
            "inline; filename=\"BEC_Report_Someone_Else.pdf\""
        );
        let (_, text) = pdf_text(&response.bytes().await.unwrap());
        assert!(text.contains("BEC-20260303075000-000002"));
        assert!(text.contains("Someone Else"));
    }
    let response = pdf(
        &app,
        &format!("tenantFilter={tenant}&userId=nobody@{tenant}"),
    )
    .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        results(&body),
        "No completed BEC analysis is stored for this user. Run the BEC check first, then generate the report."
    );
    app.stop();
}

#[tokio::test]
async fn a_report_needs_a_tenant_and_a_case_and_is_404_for_cases_not_completed_or_of_another_tenant()
 {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let other = app.tenant(1).default_domain_name.clone();
    put(
        &app,
        &case(
            "BEC-20260303080000-00000a",
            &tenant,
            BecCaseStatus::Waiting,
            1,
        ),
    )
    .await;
    put(
        &app,
        &case(
            "BEC-20260303080000-00000b",
            &other,
            BecCaseStatus::Completed,
            1,
        ),
    )
    .await;
    let required = "A tenantFilter and either a caseId or a userId are required";
    for query in [
        "caseId=BEC-20260303080000-00000a".to_owned(),
        format!("tenantFilter={tenant}"),
        format!("tenantFilter={tenant}&caseId=%20"),
    ] {
        let response = pdf(&app, &query).await;
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(results(&body), required, "{query}");
    }
    for case_id in [
        "BEC-20260303080000-ffffff",
        "BEC-20260303080000-00000a",
        "BEC-20260303080000-00000b",
    ] {
        let response = pdf(&app, &format!("tenantFilter={tenant}&caseId={case_id}")).await;
        assert_eq!(response.status().as_u16(), 404, "{case_id}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            results(&body),
            format!(
                "No completed BEC analysis is stored for case '{case_id}'. Run the BEC check first, then generate the report."
            )
        );
    }
    // The demo custom role may read only the first tenant.
    let token = app.token("custom").await;
    let response = app
        .get(
            &format!(
                "/api/ExecGetBecReportPdf?tenantFilter={other}&caseId=BEC-20260303080000-00000b"
            ),
            Some(&token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    app.stop();
}

async fn export(app: &TestApp, body: Value) -> (u16, Value) {
    let token = app.token("readonly").await;
    let response = app
        .post("/api/ExecBECEvidenceExport", Some(&token), body)
        .await;
    (response.status().as_u16(), response.json().await.unwrap())
}

fn entry(archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut file = archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} is in the ZIP"));
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    bytes
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (headers, rows)
}

#[tokio::test]
async fn the_evidence_package_holds_the_report_a_csv_per_finding_the_score_and_both_pdfs() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let stored = case(
        "BEC-20260303080000-e00001",
        &tenant,
        BecCaseStatus::Completed,
        5,
    );
    put(&app, &stored).await;
    let (status, body) = export(
        &app,
        json!({"tenantFilter": tenant, "caseId": "BEC-20260303080000-e00001"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let evidence = &body["Evidence"];
    let zip_bytes = base64::engine::general_purpose::STANDARD
        .decode(evidence["ZipBase64"].as_str().unwrap())
        .unwrap();
    assert_eq!(evidence["CaseId"], "BEC-20260303080000-e00001");
    assert_eq!(evidence["Bytes"], zip_bytes.len());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes.clone())).unwrap();
    assert_eq!(evidence["FileCount"], archive.len());
    assert_eq!(
        results(&body),
        format!(
            "Evidence package for case BEC-20260303080000-e00001 created: {} files, {:.1} KB",
            archive.len(),
            zip_bytes.len() as f64 / 1024.0
        )
    );
    let report: Value = serde_json::from_slice(&entry(&mut archive, "results.json")).unwrap();
    assert_eq!(Some(&report), stored.results.as_ref());
    let score: Value = serde_json::from_slice(&entry(&mut archive, "score.json")).unwrap();
    assert_eq!(score, report["Score"]);
    let containment: Value =
        serde_json::from_slice(&entry(&mut archive, "containment.json")).unwrap();
    assert_eq!(containment.as_array().unwrap().len(), 2, "{containment}");
    for (section, count) in [
        ("SentMessages", SENT),
        ("SuspectUserSignIns", 2),
        ("NewRules", 1),
        ("InboxRuleChanges", 1),
        ("MailboxPermissionChanges", 1),
        ("UserGrants", 1),
        ("MaliciousSPs", 1),
        ("MFADevices", 1),
        ("IPVerdicts", 1),
        ("TrustedSenders", 1),
    ] {
        let (headers, rows) = csv_rows(&entry(&mut archive, &format!("findings/{section}.csv")));
        assert_eq!(rows.len(), count, "{section}");
        assert!(rows.iter().all(|r| r.len() == headers.len()), "{section}");
    }
    let (headers, rows) = csv_rows(&entry(&mut archive, "findings/NewRules.csv"));
    let reasons = headers.iter().position(|h| h == "RiskReasons").unwrap();
    assert_eq!(
        rows[0][reasons],
        r#"["Moves mail to RSS Feeds","Marks as read"]"#
    );
    for name in ["report-full.pdf", "report-summary.pdf"] {
        let (pages, text) = pdf_text(&entry(&mut archive, name));
        assert!(pages >= 1 && text.contains(DISPLAY_NAME), "{name}");
    }
    app.stop();
}

#[tokio::test]
async fn evidence_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    put(
        &app,
        &case(
            "BEC-20260303080000-e00002",
            &tenant,
            BecCaseStatus::Completed,
            5,
        ),
    )
    .await;
    let (_, body) = export(
        &app,
        json!({"tenantFilter": tenant, "caseId": "BEC-20260303080000-e00002"}),
    )
    .await;
    let zip_bytes = base64::engine::general_purpose::STANDARD
        .decode(body["Evidence"]["ZipBase64"].as_str().unwrap())
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let (headers, rows) = csv_rows(&entry(&mut archive, "findings/SentMessages.csv"));
    let subject = headers.iter().position(|h| h == "Subject").unwrap();
    let subjects: Vec<&str> = rows.iter().map(|r| r[subject].as_str()).collect();
    assert!(subjects.contains(&format!("'{FORMULA_SUBJECT}").as_str()));
    assert!(subjects.contains(&"Счёт к оплате"));
    assert!(
        rows.iter()
            .flatten()
            .all(|cell| !cell.starts_with(['=', '+', '-', '@'])),
        "a cell starts like a formula"
    );
    app.stop();
}

#[tokio::test]
async fn evidence_export_errors_name_the_missing_field_or_the_cases_state() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let other = app.tenant(1).default_domain_name.clone();
    put(
        &app,
        &case(
            "BEC-20260303080000-e0000a",
            &tenant,
            BecCaseStatus::Waiting,
            1,
        ),
    )
    .await;
    put(
        &app,
        &case(
            "BEC-20260303080000-e0000b",
            &other,
            BecCaseStatus::Completed,
            1,
        ),
    )
    .await;
    for (body, status, text) in [
        (
            json!({"caseId": "BEC-20260303080000-e0000a"}),
            400,
            "tenantFilter is required".to_owned(),
        ),
        (
            json!({"tenantFilter": tenant}),
            400,
            "caseId is required".to_owned(),
        ),
        (
            json!({"tenantFilter": tenant, "caseId": "BEC-20260303080000-ffffff"}),
            404,
            format!("BEC run BEC-20260303080000-ffffff was not found for {tenant}"),
        ),
        (
            json!({"tenantFilter": tenant, "caseId": "BEC-20260303080000-e0000b"}),
            404,
            format!("BEC run BEC-20260303080000-e0000b was not found for {tenant}"),
        ),
        (
            json!({"tenantFilter": tenant, "caseId": "BEC-20260303080000-e0000a"}),
            409,
            "BEC run BEC-20260303080000-e0000a is Waiting; only completed runs can be exported"
                .to_owned(),
        ),
    ] {
        let (got, answer) = export(&app, body.clone()).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(results(&answer), text, "{body}");
    }
    app.stop();
}

/// The simulator's planted incident of a tenant: its compromised user and phishing burst.
async fn incident(app: &TestApp, tenant: &str) -> Value {
    app.http
        .get(app.sim.join(&format!("_sim/incident/{tenant}")).unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn spread(app: &TestApp, query: &str) -> (u16, Value) {
    let token = app.token("readonly").await;
    let response = app
        .get(&format!("/api/ListBECPhishingSpread?{query}"), Some(&token))
        .await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_phishing_spread_lists_the_bursts_recipients_internal_ones_first() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let planted = incident(&app, &tenant).await;
    let sender = planted["userPrincipalName"].as_str().unwrap().to_owned();
    let subject = planted["burstSubject"].as_str().unwrap().to_owned();
    let internal: Vec<String> = planted["internalRecipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_lowercase())
        .collect();
    let (status, body) = spread(
        &app,
        &format!(
            "tenantFilter={tenant}&sender={}&subject={}&days=7",
            sender.to_uppercase(),
            subject.to_uppercase().replace(' ', "%20")
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let recipients = body["Recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 36);
    assert_eq!(body["TotalMessages"], 12);
    assert_eq!(body["Complete"], true);
    assert_eq!(body["Days"], 7);
    assert_eq!(body["InternalCount"], internal.len());
    assert_eq!(body["ExternalCount"], 36 - internal.len());
    let (inside, outside) = recipients.split_at(internal.len());
    assert!(inside.iter().all(|r| r["Internal"] == true
        && internal.contains(&r["Recipient"].as_str().unwrap().to_owned())));
    assert!(outside.iter().all(|r| r["Internal"] == false));
    for part in [inside, outside] {
        let names: Vec<&str> = part
            .iter()
            .map(|r| r["Recipient"].as_str().unwrap())
            .collect();
        assert!(names.is_sorted(), "{names:?}");
    }
    for recipient in recipients {
        assert_eq!(recipient["Subjects"], subject.as_str());
        let first = recipient["FirstReceived"].as_str().unwrap();
        assert!(first.len() == 20 && first.ends_with('Z'), "{first}");
        assert!(recipient["MessageCount"].as_u64().unwrap() >= 1);
    }
    // Without the subject filter the sender's ordinary mail is there too.
    let (_, all) = spread(&app, &format!("tenantFilter={tenant}&sender={sender}")).await;
    assert!(all["TotalMessages"].as_u64().unwrap() > 12, "{all}");
    assert!(all["Recipients"].as_array().unwrap().len() >= 36);
    app.stop();
}

#[tokio::test]
async fn the_phishing_spread_honours_days_and_clamps_them_to_1_to_90() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let planted = incident(&app, &tenant).await;
    let sender = planted["userPrincipalName"].as_str().unwrap().to_owned();
    let query = format!("tenantFilter={tenant}&sender={sender}");
    let (status, long) = spread(&app, &format!("{query}&days=500")).await;
    assert_eq!(status, 200, "{long}");
    assert_eq!(long["Days"], 90);
    let (_, short) = spread(&app, &format!("{query}&days=0")).await;
    assert_eq!(short["Days"], 1);
    let day_ago = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let oldest = day_ago
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for recipient in short["Recipients"].as_array().unwrap() {
        let first = recipient["FirstReceived"].as_str().unwrap();
        assert!(first >= &oldest[..19], "{first} is older than a day");
    }
    assert!(short["TotalMessages"].as_u64().unwrap() <= long["TotalMessages"].as_u64().unwrap());
    // The burst was yesterday afternoon: two days hold it whole.
    let (_, two_days) = spread(
        &app,
        &format!("{query}&days=2&subject=overdue%20invoice%20-%20action"),
    )
    .await;
    assert_eq!(two_days["Recipients"].as_array().unwrap().len(), 36);
    app.stop();
}

#[tokio::test]
async fn the_phishing_spread_needs_a_sender_and_says_whose_trace_failed() {
    let app = spawn_app().await;
    let tenant = app.tenant(0).default_domain_name.clone();
    let planted = incident(&app, &tenant).await;
    let sender = planted["userPrincipalName"].as_str().unwrap().to_owned();
    for query in [
        format!("tenantFilter={tenant}"),
        format!("tenantFilter={tenant}&sender=%20"),
    ] {
        let (status, body) = spread(&app, &query).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(results(&body), "sender is required");
    }
    // Without the accepted domains every recipient counts as external.
    app.add_fault(json!({"cmdlet": "get-accepteddomain", "status": 500}))
        .await;
    let (status, body) = spread(
        &app,
        &format!("tenantFilter={tenant}&sender={sender}&subject=overdue"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["InternalCount"], 0);
    assert_eq!(body["ExternalCount"], 36);
    app.add_fault(json!({"cmdlet": "get-messagetracev2", "status": 500}))
        .await;
    let (status, body) = spread(&app, &format!("tenantFilter={tenant}&sender={sender}")).await;
    assert_eq!(status, 500, "{body}");
    assert!(
        results(&body).starts_with(&format!("Failed to trace the spread from {sender}: ")),
        "{body}"
    );
    app.stop();
}
