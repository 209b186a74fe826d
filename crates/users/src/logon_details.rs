//! `ListUsers` with `UserID` and `IncludeLogonDetails`: the user's last sign-in from the
//! unified audit log (Exchange `Search-UnifiedAuditLog`, last 7 days), as CIPP adds it.
//!
//! Deliberate difference: without any sign-in record in those 7 days CIPP fills the fields with
//! fragments (`" -  "` as the application); here they are null, and a failed search is an error
//! rather than silently missing fields.

use cipp_graph::GraphClient;
use rand::Rng;
use serde_json::{Map, Value, json};

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::user_devices::out_string_date;

/// CIPP's friendly names for well-known first-party application ids (its hard-coded table; an
/// entry matches only when the whole id equals the record's `ApplicationId`).
const APP_NAMES: &[(&str, &str)] = &[
    ("23523755-3a2b-41ca-9315-f81f3f566a95", "ACOM Azure Website"),
    (
        "7b7531ad-5926-4f2d-8a1d-38495ad33e17",
        "Azure Advanced Threat Protection",
    ),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"),
    ("00000007-0000-0000-c000-000000000000", "Dataverse"),
    (
        "0000000c-0000-0000-c000-000000000000",
        "Microsoft App Access Panel",
    ),
    (
        "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "Microsoft Authentication Broker",
    ),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
    ),
    (
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Microsoft Azure PowerShell",
    ),
    (
        "00000007-0000-0ff1-ce00-000000000000",
        "Microsoft Exchange Online Protection",
    ),
    ("c9a559d2-7aab-4f13-a6ed-e7e9c52aec87", "Microsoft Forms"),
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    (
        "74bcdadc-2fdc-4bb3-8459-76d06952a0e9",
        "Microsoft Intune Web Company Portal",
    ),
    (
        "fc0f3af4-6835-4174-b806-f7db311fd2f3",
        "Microsoft Intune Windows Agent",
    ),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    (
        "00000006-0000-0ff1-ce00-000000000000",
        "Microsoft Office 365 Portal",
    ),
    (
        "67e3df25-268a-4324-a550-0de1c7f97287",
        "Microsoft Office Web Apps Service",
    ),
    (
        "93625bc8-bfe2-437a-97e0-3d0060024faa",
        "Microsoft password reset service",
    ),
    ("871c010f-5e61-4fb1-83ac-98610a7e9110", "Microsoft Power BI"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    (
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
        "Microsoft Teams Services",
    ),
    (
        "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
        "Microsoft Teams Web Client",
    ),
    ("4345a7b9-9a63-4910-a426-35363201d503", "O365 Suite UX"),
    (
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
    ),
    (
        "00b41c95-dab0-4487-9791-b9d2c32c80f2",
        "Office 365 Management",
    ),
    (
        "66a88757-258c-4c72-893c-3e8bed4d6899",
        "Office 365 Search Service",
    ),
    ("94c63fef-13a3-47bc-8074-75af8c65887a", "Office Delve"),
    ("4b233688-031c-404b-9a80-a4f3f2351f90", "Office.com"),
    (
        "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7",
        "Office365 Shell WCSS-Client",
    ),
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"),
    (
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
        "OneDrive SyncEngine",
    ),
    ("2d4d3d8e-2be3-4bef-9f87-7875a61c29de", "OneNote"),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"),
    ("00000009-0000-0000-c000-000000000000", "Power BI Service"),
    (
        "00000004-0000-0ff1-ce00-000000000000",
        "Skype for Business Online",
    ),
    (
        "00000002-0000-0000-c000-000000000000",
        "Windows Azure Active Directory",
    ),
    (
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "Windows Azure Service Management API",
    ),
    ("00000005-0000-0ff1-ce00-000000000000", "Yammer"),
];

/// Adds `LastSigninApplication`, `LastSigninDate`, `LastSigninStatus`, `LastSigninResult` and
/// `LastSigninFailureReason` to one user row.
pub async fn add_logon_details(
    graph: &GraphClient,
    tenant_id: &str,
    user: &mut Value,
) -> Result<(), UserError> {
    let upn = user
        .get("userPrincipalName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let now = time::OffsetDateTime::now_utc();
    let format = time::format_description::well_known::Rfc3339;
    let start = (now - time::Duration::days(7))
        .format(&format)
        .unwrap_or_default();
    let end = now.format(&format).unwrap_or_default();
    let session = rand::rng().random_range(1..1000);
    let records = graph
        .exchange(
            tenant_id,
            "Search-UnifiedAuditLog",
            json!({
                "SessionCommand": "ReturnLargeSet",
                "Operations": ["UserLoggedIn", "UserLoginFailed", "TeamsSessionStarted", "MailboxLogin"],
                "sessionid": session,
                "startDate": start,
                "endDate": end,
                "UserIds": [upn],
            }),
            None,
        )
        .await
        .map_err(|error| UserError::Failed {
            message: format!(
                "Failed to retrieve the last sign-in of {upn}: {}",
                normalize_graph_error(&error)
            ),
            source: Some(Box::new(error)),
        })?;
    let newest = records
        .iter()
        .max_by(|a, b| creation(a).cmp(&creation(b)))
        .and_then(|r| r.get("AuditData"))
        .and_then(|d| match d {
            Value::String(text) => serde_json::from_str::<Value>(text).ok(),
            other => Some(other.clone()),
        });
    let Value::Object(fields) = user else {
        return Ok(());
    };
    let details = match newest {
        None => Map::from_iter(
            [
                "LastSigninApplication",
                "LastSigninDate",
                "LastSigninStatus",
                "LastSigninResult",
                "LastSigninFailureReason",
            ]
            .map(|k| (k.to_owned(), Value::Null)),
        ),
        Some(audit) => logon_fields(&audit),
    };
    fields.extend(details);
    Ok(())
}

fn creation(record: &Value) -> String {
    record
        .get("CreationDate")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn field<'a>(audit: &'a Value, name: &str) -> Option<&'a Value> {
    audit
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn text(audit: &Value, name: &str) -> String {
    match field(audit, name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The five fields, from one audit record, as CIPP computes them.
pub fn logon_fields(audit: &Value) -> Map<String, Value> {
    let app_id = text(audit, "ApplicationId");
    let application = APP_NAMES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(&app_id))
        .map(|(_, name)| (*name).to_owned())
        // CIPP's fallback keeps its trailing space.
        .unwrap_or_else(|| format!("{} - {} ", text(audit, "Workload"), app_id));
    let created = text(audit, "CreationTime");
    let created_utc = if created.is_empty() || created.ends_with('Z') || created.contains('+') {
        created
    } else {
        format!("{created}Z")
    };
    let error = text(audit, "ErrorNumber");
    let failure = if error.is_empty() || error == "0" {
        json!("Successfully signed in")
    } else {
        json!(error)
    };
    Map::from_iter([
        ("LastSigninApplication".to_owned(), json!(application)),
        (
            "LastSigninDate".to_owned(),
            json!(out_string_date(Some(&json!(created_utc)))),
        ),
        (
            "LastSigninStatus".to_owned(),
            field(audit, "Operation").cloned().unwrap_or(Value::Null),
        ),
        (
            "LastSigninResult".to_owned(),
            field(audit, "ResultStatus").cloned().unwrap_or(Value::Null),
        ),
        ("LastSigninFailureReason".to_owned(), failure),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_application_gets_its_name_and_an_unknown_one_cipps_fallback() {
        let known = logon_fields(
            &json!({"ApplicationId": "1fec8e78-bce4-4aaf-ab1b-5451cc387264", "CreationTime": "2025-01-02T15:04:05", "Operation": "UserLoggedIn", "ResultStatus": "Success", "ErrorNumber": "0", "Workload": "AzureActiveDirectory"}),
        );
        assert_eq!(known["LastSigninApplication"], "Microsoft Teams");
        assert_eq!(
            known["LastSigninDate"],
            "\r\nThursday, January 2, 2025 3:04:05 PM\r\n\r\n"
        );
        assert_eq!(known["LastSigninFailureReason"], "Successfully signed in");
        let unknown = logon_fields(
            &json!({"ApplicationId": "abc", "Workload": "AzureActiveDirectory", "ErrorNumber": "50126"}),
        );
        assert_eq!(
            unknown["LastSigninApplication"],
            "AzureActiveDirectory - abc "
        );
        assert_eq!(unknown["LastSigninFailureReason"], "50126");
    }
}
