//! `Search-UnifiedAuditLog`: the unified audit log's sign-in records, derived from the same
//! seeded sign-ins Graph's `/auditLogs/signIns` serves, so both views tell one story.

use serde_json::{Value, json};

use super::cmdlets::Cx;
use super::{Answer, ExoError};

/// Sign-in records (`UserLoggedIn` / `UserLoginFailed`) for the users named in `UserIds`,
/// between `StartDate` and `EndDate` when given, newest first.
pub(crate) fn search(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    let users: Vec<String> = match cx.params.get("UserIds") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let start = cx.params.text("StartDate").and_then(|d| parse_date(&d));
    let end = cx.params.text("EndDate").and_then(|d| parse_date(&d));
    let wanted: Vec<String> = match cx.params.get("Operations") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect(),
        Some(Value::String(one)) => one
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .collect(),
        _ => Vec::new(),
    };
    let reads = cx.sim.reads.tenant(cx.sim.seed, cx.tenant);
    let (anchor, policies) = {
        let r = reads.read();
        (r.anchor, r.policies.clone())
    };
    let store = cx.tenant.users.read();
    let mut records = Vec::new();
    for key in &users {
        let Some(user) = store.get(key) else { continue };
        let upn = user.upn().to_owned();
        for sign_in in crate::seed_reads::sign_ins(cx.sim.seed, anchor, user, &policies) {
            let created = sign_in
                .get("createdDateTime")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let when = parse_date(&created);
            if start.is_some_and(|s| when.is_some_and(|w| w < s))
                || end.is_some_and(|e| when.is_some_and(|w| w > e))
            {
                continue;
            }
            let error = sign_in
                .pointer("/status/errorCode")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let operation = if error == 0 {
                "UserLoggedIn"
            } else {
                "UserLoginFailed"
            };
            if !wanted.is_empty() && !wanted.contains(&operation.to_ascii_lowercase()) {
                continue;
            }
            let audit = json!({
                "CreationTime": created.trim_end_matches('Z'),
                "Id": sign_in.get("id"),
                "Operation": operation,
                "RecordType": 15,
                "ResultStatus": if error == 0 { "Success" } else { "Failed" },
                "UserId": upn,
                "Workload": "AzureActiveDirectory",
                "ClientIP": sign_in.get("ipAddress"),
                "ApplicationId": sign_in.get("appId"),
                "ErrorNumber": error.to_string(),
            });
            records.push((
                when.unwrap_or(0),
                json!({
                    "RecordType": "AzureActiveDirectoryStsLogon",
                    "CreationDate": created,
                    "UserIds": upn,
                    "Operations": operation,
                    "AuditData": audit.to_string(),
                    "ResultIndex": 0,
                    "ResultCount": 0,
                    "Identity": sign_in.get("id"),
                }),
            ));
        }
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.0));
    let count = records.len();
    let items = records
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut record))| {
            record["ResultIndex"] = json!(i + 1);
            record["ResultCount"] = json!(count);
            record
        })
        .collect();
    Ok(Answer {
        items,
        ..Answer::default()
    })
}

/// Unix seconds of an ISO date or date-time (UTC when no offset is given).
fn parse_date(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let with_zone = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        format!("{}Z", text.trim_end_matches('Z'))
    };
    time::OffsetDateTime::parse(&with_zone, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}
