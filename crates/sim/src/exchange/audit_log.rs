//! `Search-UnifiedAuditLog`: the unified audit log. Sign-in records derive from the same seeded
//! sign-ins Graph's `/auditLogs/signIns` serves, so both views tell one story; the planted
//! incident (`crate::incident`) adds its rule, safelist, sharing and permission records.
//!
//! Parameters: `StartDate`/`EndDate` (inclusive), `Operations` and `UserIds` (an array or a
//! comma-separated string; `UserIds` matches the acting user's UPN or object id), `RecordType`,
//! `ResultSize` (default 100, at most 5000) and `SessionId` with `SessionCommand`
//! (`ReturnLargeSet`): a search larger than `ResultSize` continues where it stopped when the
//! same search is sent again with the same session id, and answers empty once it has been read
//! to the end. A search that fits in one page is not remembered, so repeating it answers the
//! same page (callers that reuse a small random session id never see an empty answer).
//! Sign-in records need `UserIds` (a tenant-wide sign-in search would be every user's sign-ins);
//! the incident's other records are found with or without it.

use serde_json::{Map, Value, json};

use super::cmdlets::Cx;
use super::{Answer, ExoError};

fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(one)) => one
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

fn result_size(cx: &Cx<'_>) -> Result<usize, ExoError> {
    let Some(raw) = cx.params.get("ResultSize") else {
        return Ok(100);
    };
    let n = match raw {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| ExoError::bad_value("ResultSize", raw))?;
    if !(1..=5000).contains(&n) {
        return Err(ExoError {
            status: 400,
            code: "BadRequest",
            error_id: "Ex0B5F28",
            exception: "System.Management.Automation.ParameterBindingValidationException",
            message: format!(
                "Cannot validate argument on parameter 'ResultSize'. The {n} argument is greater than the maximum allowed range of 5000. Supply an argument that is less than or equal to 5000 and then try the command again."
            ),
        });
    }
    Ok(n as usize)
}

/// Records for the users named in `UserIds` (sign-ins and incident records) and, tenant-wide,
/// the incident's records, between `StartDate` and `EndDate` when given, newest first.
pub(crate) fn search(cx: &Cx<'_>) -> Result<Answer, ExoError> {
    cx.params.only(&[
        "StartDate",
        "EndDate",
        "Operations",
        "UserIds",
        "RecordType",
        "ResultSize",
        "SessionId",
        "SessionCommand",
        "FreeText",
        "ObjectIds",
        "IPAddresses",
        "SiteIds",
        "Formatted",
        "HighCompleteness",
    ])?;
    let users = list(cx.params.get("UserIds"));
    let start = cx.params.text("StartDate").and_then(|d| parse_date(&d));
    let end = cx.params.text("EndDate").and_then(|d| parse_date(&d));
    let wanted: Vec<String> = list(cx.params.get("Operations"))
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let record_type = cx.params.text("RecordType").filter(|s| !s.is_empty());
    let size = result_size(cx)?;
    let in_range = |when: i64| !(start.is_some_and(|s| when < s) || end.is_some_and(|e| when > e));
    let wants_op = |op: &str| wanted.is_empty() || wanted.contains(&op.to_ascii_lowercase());
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
        for sign_in in crate::incident::sign_ins(cx.sim.seed, anchor, user, &policies, cx.tenant) {
            let created = sign_in
                .get("createdDateTime")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let when = parse_date(&created).unwrap_or(0);
            if !in_range(when) {
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
            if !wants_op(operation) {
                continue;
            }
            let audit = json!({
                "CreationTime": created.trim_end_matches('Z'),
                "Id": sign_in.get("id"),
                "Operation": operation,
                "OrganizationId": cx.tenant.id,
                "RecordType": 15,
                "ResultStatus": if error == 0 { "Success" } else { "Failed" },
                "UserKey": user.id(),
                "UserType": 0,
                "UserId": upn,
                "Workload": "AzureActiveDirectory",
                "ClientIP": sign_in.get("ipAddress"),
                "ObjectId": sign_in.get("resourceId"),
                "ApplicationId": sign_in.get("appId"),
                "ErrorNumber": error.to_string(),
            });
            records.push((
                when,
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
    if let Some(incident) = cx.tenant.incident.get() {
        let admin_id = store
            .get(&incident.admin_upn)
            .map(|u| u.id().to_owned())
            .unwrap_or_default();
        for planted in crate::incident::audit_records(incident, &admin_id) {
            let by_user = users.is_empty()
                || users.iter().any(|u| {
                    u.eq_ignore_ascii_case(&planted.actor)
                        || u.eq_ignore_ascii_case(&planted.actor_id)
                });
            let op = planted.record["Operations"].as_str().unwrap_or_default();
            if by_user && in_range(planted.when) && wants_op(op) {
                records.push((planted.when, planted.record));
            }
        }
    }
    drop(store);
    if let Some(kind) = &record_type {
        records.retain(|(_, r)| {
            r["RecordType"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(kind))
        });
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.0));
    let count = records.len();
    let numbered: Vec<Value> = records
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut record))| {
            record["ResultIndex"] = json!(i + 1);
            record["ResultCount"] = json!(count);
            record
        })
        .collect();
    let offset = session_offset(cx, count, size);
    Ok(Answer {
        items: numbered.into_iter().skip(offset).take(size).collect(),
        ..Answer::default()
    })
}

/// Where this page of a `ReturnLargeSet` session starts, remembering where the next one will.
fn session_offset(cx: &Cx<'_>, count: usize, size: usize) -> usize {
    let Some(session) = cx.params.text("SessionId").filter(|s| !s.is_empty()) else {
        return 0;
    };
    // The same session id with another search is another session.
    let mut rest = Map::new();
    for key in [
        "StartDate",
        "EndDate",
        "Operations",
        "UserIds",
        "RecordType",
        "ResultSize",
    ] {
        if let Some(v) = cx.params.get(key) {
            rest.insert(key.to_owned(), v.clone());
        }
    }
    let key = format!("{}|{session}|{}", cx.tenant.id, Value::Object(rest));
    let mut sessions = cx.sim.audit_sessions.lock();
    let offset = sessions.get(&key).copied().unwrap_or(0);
    let next = offset.saturating_add(size);
    if next < count || offset > 0 {
        sessions.insert(key, next.min(count));
    }
    offset.min(count)
}

/// Unix seconds of an ISO date or date-time (UTC when no offset is given).
pub(super) fn parse_date(text: &str) -> Option<i64> {
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
