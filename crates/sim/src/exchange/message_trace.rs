//! `Get-MessageTraceV2` and `Get-MessageTrace`: one row per (message, recipient),
//! `{MessageTraceId, Organization, MessageId, Received, SenderAddress, RecipientAddress,
//! Subject, Status, ToIP, FromIP, Size}`, newest first (then by recipient).
//!
//! Who sends mail: the tenant's first eight licensed members and the planted incident's
//! compromised user, three to six messages each over the past week (seeded per sender), plus
//! the incident's burst: 12 "Overdue invoice" messages in ten minutes to 36 recipients, five of
//! them colleagues, sent from the attacker's IP. Generated per query, never stored, so a
//! 100,000-user tenant costs no more than a small one.
//!
//! Parameters: `SenderAddress`, `RecipientAddress`, `Status`, `MessageId`, `MessageTraceId`
//! (each one value or a list), `StartDate`/`EndDate` (default: the last 48 hours; V2 refuses a
//! range over 10 days or a start over 90 days ago, the legacy cmdlet a start over 10 days ago),
//! `ResultSize` (default 1000, 1 to 5000; the legacy cmdlet also takes `PageSize`/`Page`), and
//! V2's cursor `StartingRecipientAddress`: with it, rows received exactly at `EndDate` are
//! kept only for recipients after that address, so `EndDate` = the last row's `Received` and
//! `StartingRecipientAddress` = its recipient continue where a page stopped.

use rand::Rng;
use serde_json::{Value, json};

use super::audit_log::parse_date;
use super::cmdlets::{Cx, paginate};
use super::{Answer, ExoError};
use crate::incident::{self, ATTACKER_IP, BURST_SUBJECT};
use crate::seed::{guid, timestamp};
use crate::seed_reads::rng_for_id;
use crate::user::{User, idx, prop_index};

const TRACE_PURPOSE: u64 = 0x7ACE;
const DAY: i64 = 86_400;

const EXTERNAL_NAMES: &[&str] = &[
    "accounts",
    "ap",
    "finance",
    "billing",
    "payables",
    "invoices",
    "treasury",
    "controller",
];
const EXTERNAL_DOMAINS: &[&str] = &[
    "northwind-supplies.example",
    "fabrikam-logistics.example",
    "tailspin-freight.example",
    "litware-parts.example",
    "proseware-services.example",
];
const SUBJECTS: &[&str] = &[
    "Re: Project update",
    "Meeting notes",
    "Quarterly numbers",
    "Re: Contract draft",
    "Lunch on Friday?",
    "Updated schedule",
    "FW: Customer feedback",
];

/// One row before it is rendered.
struct Row {
    received: i64,
    trace_id: String,
    message_id: String,
    sender: String,
    recipient: String,
    subject: String,
    status: &'static str,
    to_ip: Option<String>,
    from_ip: String,
    size: u64,
}

fn licensed_member(user: &User) -> bool {
    user.get(idx::USER_TYPE).as_str() == Some("Member")
        && prop_index("assignedLicenses")
            .and_then(|i| user.get(i).as_array())
            .is_some_and(|l| !l.is_empty())
        && user.get(idx::MAIL).as_str().is_some_and(|m| !m.is_empty())
}

fn external(n: usize) -> String {
    let name = EXTERNAL_NAMES[n % EXTERNAL_NAMES.len()];
    let domain = EXTERNAL_DOMAINS[(n / EXTERNAL_NAMES.len()) % EXTERNAL_DOMAINS.len()];
    format!("{name}@{domain}")
}

fn start_of_today() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    now - now.rem_euclid(DAY)
}

/// Every traced row of the tenant, unfiltered.
fn rows(cx: &Cx<'_>) -> Vec<Row> {
    let incident = cx.tenant.incident.get();
    let domain = cx.tenant.initial_domain().to_owned();
    let store = cx.tenant.users.read();
    let mut senders: Vec<&User> = store
        .iter_after(None)
        .map(|(_, u)| u)
        .filter(|u| licensed_member(u))
        .take(8)
        .collect();
    if let Some(inc) = incident
        && let Some(u) = store.by_id(&inc.user_id)
        && !senders.iter().any(|s| s.id() == u.id())
    {
        senders.push(u);
    }
    let colleagues: Vec<String> = senders.iter().map(|u| u.upn().to_owned()).collect();
    let anchor = incident.map_or_else(start_of_today, |i| i.anchor);
    let mut out = Vec::new();
    for user in &senders {
        let mut rng = rng_for_id(cx.sim.seed, user.id(), TRACE_PURPOSE);
        let from_ip = format!("203.0.113.{}", rng.random_range(10..250));
        for _ in 0..rng.random_range(3..=6) {
            let received = anchor - rng.random_range(1..=7) * DAY
                + rng.random_range(8 * 3600..18 * 3600)
                + rng.random_range(0..60);
            let trace_id = guid(&mut rng);
            let message_id = format!("<{}@{domain}>", guid(&mut rng).to_ascii_uppercase());
            let subject = SUBJECTS[rng.random_range(0..SUBJECTS.len())];
            let size = rng.random_range(4_000..400_000u64);
            for _ in 0..rng.random_range(1..=3) {
                let internal = rng.random_bool(0.5);
                let recipient = if internal {
                    colleagues[rng.random_range(0..colleagues.len())].clone()
                } else {
                    external(rng.random_range(0..40))
                };
                let roll: u32 = rng.random_range(0..100);
                let status = match roll {
                    0..=3 => "Failed",
                    4..=7 if !internal => "FilteredAsSpam",
                    _ => "Delivered",
                };
                out.push(Row {
                    received,
                    trace_id: trace_id.clone(),
                    message_id: message_id.clone(),
                    sender: user.upn().to_owned(),
                    recipient,
                    subject: subject.to_owned(),
                    status,
                    to_ip: (!internal).then(|| format!("52.101.{}.{}", roll, roll + 7)),
                    from_ip: from_ip.clone(),
                    size,
                });
            }
        }
    }
    if let Some(inc) = incident {
        out.extend(burst(inc, &domain));
    }
    out
}

/// The compromised mailbox's burst: 12 messages, 3 recipients each, in ten minutes.
fn burst(inc: &incident::Incident, domain: &str) -> Vec<Row> {
    let mut out = Vec::new();
    let mut next_external = 0;
    for m in 0..12usize {
        let received = inc.time(incident::at::BURST) + 50 * m as i64;
        let trace_id = inc.id(44 + m).to_owned();
        let message_id = format!("<{}@{domain}>", inc.id(m + 30).to_ascii_uppercase());
        for slot in 0..3usize {
            let colleague = (slot == 0)
                .then(|| inc.internal_targets.get(m))
                .flatten()
                .cloned();
            let internal = colleague.is_some();
            let recipient = colleague.unwrap_or_else(|| {
                next_external += 1;
                external(next_external - 1)
            });
            let status = match (internal, (m * 3 + slot) % 13) {
                (true, _) => "Delivered",
                (false, 5 | 11) => "FilteredAsSpam",
                (false, 8) => "Failed",
                _ => "Delivered",
            };
            out.push(Row {
                received,
                trace_id: trace_id.clone(),
                message_id: message_id.clone(),
                sender: inc.upn.clone(),
                recipient,
                subject: BURST_SUBJECT.to_owned(),
                status,
                to_ip: (!internal).then(|| format!("52.101.{}.{}", 40 + m, 9 + slot)),
                from_ip: ATTACKER_IP.to_owned(),
                size: 48_213 + 97 * m as u64,
            });
        }
    }
    out
}

fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

fn out_of_range(name: &str, n: i64, max: i64) -> ExoError {
    ExoError {
        status: 400,
        code: "BadRequest",
        error_id: "Ex0B5F28",
        exception: "System.Management.Automation.ParameterBindingValidationException",
        message: if n < 1 {
            format!(
                "Cannot validate argument on parameter '{name}'. The {n} argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again."
            )
        } else {
            format!(
                "Cannot validate argument on parameter '{name}'. The {n} argument is greater than the maximum allowed range of {max}. Supply an argument that is less than or equal to {max} and then try the command again."
            )
        },
    }
}

fn number(cx: &Cx<'_>, name: &str, default: i64, max: i64) -> Result<i64, ExoError> {
    let Some(raw) = cx.params.get(name) else {
        return Ok(default);
    };
    let n = match raw {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| ExoError::bad_value(name, raw))?;
    if !(1..=max).contains(&n) {
        return Err(out_of_range(name, n, max));
    }
    Ok(n)
}

fn date(cx: &Cx<'_>, name: &str) -> Result<Option<i64>, ExoError> {
    match cx.params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(raw) => cx
            .params
            .text(name)
            .and_then(|t| parse_date(&t))
            .map(Some)
            .ok_or_else(|| ExoError::bad_value(name, raw)),
    }
}

/// `Get-MessageTraceV2` (`v2`) or the legacy `Get-MessageTrace`.
pub(crate) fn get_message_trace(cx: &Cx<'_>, v2: bool) -> Result<Answer, ExoError> {
    let mut allowed = vec![
        "SenderAddress",
        "RecipientAddress",
        "StartDate",
        "EndDate",
        "Status",
        "MessageId",
        "MessageTraceId",
        "ResultSize",
        "FromIP",
        "ToIP",
    ];
    if v2 {
        allowed.extend(["StartingRecipientAddress", "Subject", "SubjectFilterType"]);
    } else {
        allowed.extend(["PageSize", "Page"]);
    }
    cx.params.only(&allowed)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let end = date(cx, "EndDate")?.unwrap_or(now);
    let start = date(cx, "StartDate")?.unwrap_or(end - 2 * DAY);
    if start > end {
        return Err(ExoError::task(
            "The StartDate value must be earlier than the EndDate value.",
        ));
    }
    if v2 {
        if now - start > 90 * DAY {
            return Err(ExoError::task(
                "Invalid StartDate value. The StartDate can't be older than 90 days from today.",
            ));
        }
        if end - start > 10 * DAY {
            return Err(ExoError::task(
                "The time range between StartDate and EndDate can't be more than 10 days.",
            ));
        }
    } else if now - start > 10 * DAY {
        return Err(ExoError::task(
            "Invalid StartDate value. The StartDate can't be older than 10 days from today. Use Start-HistoricalSearch for older data.",
        ));
    }
    let (size, page) = if !v2 && !cx.params.has("ResultSize") {
        (
            number(cx, "PageSize", 1000, 5000)? as usize,
            number(cx, "Page", 1, 1000)? as usize,
        )
    } else {
        (number(cx, "ResultSize", 1000, 5000)? as usize, 1)
    };
    let senders = list(cx.params.get("SenderAddress"));
    let recipients = list(cx.params.get("RecipientAddress"));
    let statuses = list(cx.params.get("Status"));
    let message_ids = list(cx.params.get("MessageId"));
    let trace_ids = list(cx.params.get("MessageTraceId"));
    let cursor = cx
        .params
        .text("StartingRecipientAddress")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    let keep = |want: &[String], have: &str| {
        want.is_empty() || want.iter().any(|w| w.eq_ignore_ascii_case(have))
    };
    let mut found: Vec<Row> = rows(cx)
        .into_iter()
        .filter(|r| {
            r.received >= start
                && r.received <= end
                && keep(&senders, &r.sender)
                && keep(&recipients, &r.recipient)
                && keep(&statuses, r.status)
                && (keep(&message_ids, r.message_id.trim_matches(['<', '>']))
                    || keep(&message_ids, &r.message_id))
                && keep(&trace_ids, &r.trace_id)
                && !(r.received == end
                    && cursor
                        .as_deref()
                        .is_some_and(|c| r.recipient.to_ascii_lowercase().as_str() <= c))
        })
        .collect();
    found.sort_by(|a, b| {
        b.received
            .cmp(&a.received)
            .then_with(|| a.recipient.cmp(&b.recipient))
    });
    let skip = (page - 1) * size;
    let more = found.len() > skip + size;
    let organization = cx.tenant.initial_domain().to_owned();
    let items: Vec<Value> = found
        .iter()
        .skip(skip)
        .take(size)
        .map(|r| {
            json!({
                "MessageTraceId": r.trace_id,
                "Organization": organization,
                "MessageId": r.message_id,
                "Received": timestamp(r.received),
                "SenderAddress": r.sender,
                "RecipientAddress": r.recipient,
                "Subject": r.subject,
                "Status": r.status,
                "ToIP": r.to_ip,
                "FromIP": r.from_ip,
                "Size": r.size,
            })
        })
        .collect();
    let mut warnings = Vec::new();
    if more
        && v2
        && let Some(last) = found.get(skip + size - 1)
    {
        warnings.push(format!(
            "There are more results, use the following command to get more. Get-MessageTraceV2 -StartingRecipientAddress \"{}\" -EndDate \"{}\"",
            last.recipient,
            timestamp(last.received)
        ));
    }
    let mut answer = paginate(items, &cx.page);
    answer.warnings = warnings;
    Ok(answer)
}
