//! `ListBECPhishingSpread` (CIPP-API `Invoke-ListBECPhishingSpread.ps1`, newest upstream): who
//! received mail from a (possibly compromised) sender in the last days, one row per recipient,
//! inside the organisation first, so the BEC page can show how far a phishing burst spread.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListBECPhishingSpread;

/// Exchange's largest page of a message trace; a window that returns this many rows may have
/// had more, so the answer says it is not complete.
pub const RESULT_SIZE: usize = 5000;
/// Exchange traces at most 10 days per call.
const WINDOW_DAYS: i64 = 10;
const DEFAULT_DAYS: i64 = 7;
const MAX_DAYS: i64 = 90;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The sender whose mail is traced.
    #[serde(rename = "sender")]
    pub sender: String,
    /// Only messages whose subject contains this text (any case).
    #[serde(rename = "subject")]
    pub subject: Option<String>,
    /// How many days back (default 7, at least 1, at most 90).
    #[serde(rename = "days")]
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Spread {
    #[serde(rename = "Sender")]
    pub sender: String,
    #[serde(rename = "Days")]
    pub days: i64,
    /// False when a trace window hit Exchange's result size, so recipients may be missing.
    #[serde(rename = "Complete")]
    pub complete: bool,
    /// Distinct messages (by `MessageTraceId`).
    #[serde(rename = "TotalMessages")]
    pub total_messages: usize,
    #[serde(rename = "Recipients")]
    pub recipients: Vec<Recipient>,
    #[serde(rename = "InternalCount")]
    pub internal_count: usize,
    #[serde(rename = "ExternalCount")]
    pub external_count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recipient {
    /// The address, lower-cased.
    #[serde(rename = "Recipient")]
    pub recipient: String,
    /// Whether the address is in one of the tenant's accepted domains.
    #[serde(rename = "Internal")]
    pub internal: bool,
    #[serde(rename = "MessageCount")]
    pub message_count: usize,
    /// `yyyy-MM-ddTHH:mm:ssZ`, UTC.
    #[serde(rename = "FirstReceived")]
    pub first_received: Option<String>,
    #[serde(rename = "LastReceived")]
    pub last_received: Option<String>,
    /// The delivery states seen, `, `-joined.
    #[serde(rename = "Statuses")]
    pub statuses: String,
    /// The first three distinct subjects, ` | `-joined.
    #[serde(rename = "Subjects")]
    pub subjects: String,
}

impl Operation for ListBECPhishingSpread {
    type Params = Params;
    type Answer = Spread;
    const NAME: &'static str = "ListBECPhishingSpread";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListBECPhishingSpread.ps1",
        frontend: Some("src/pages/identity/administration/users/user/bec.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `sender` is a 400 naming it. A failed trace is Exchange's status (500 when the trace itself failed) with upstream's text in `Results`.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "sender": crate::demo::USER, "days": 7})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Spread>, UserError> {
        let tenant = ctx.tenant()?;
        let sender = params.sender.trim().to_owned();
        let days = params.days.unwrap_or(DEFAULT_DAYS).clamp(1, MAX_DAYS);
        // Without the accepted domains every recipient counts as external; the trace still helps.
        let accepted: HashSet<String> = match ctx
            .graph
            .exchange(&tenant.customer_id, "Get-AcceptedDomain", json!({}), None)
            .await
        {
            Ok(domains) => domains
                .iter()
                .filter_map(|d| d.get("DomainName").and_then(Value::as_str))
                .map(str::to_ascii_lowercase)
                .collect(),
            Err(error) => {
                tracing::info!(%error, "accepted domains unreadable; every recipient is external");
                HashSet::new()
            }
        };
        let now = OffsetDateTime::now_utc();
        // A minute's margin keeps the oldest window's start inside Exchange's 90-day limit by
        // the time Exchange checks it.
        let from = now - Duration::days(days) + Duration::minutes(1);
        let mut complete = true;
        let mut rows = Vec::new();
        let mut end = now;
        while end > from {
            let start = (end - Duration::days(WINDOW_DAYS)).max(from);
            let window = ctx
                .graph
                .exchange(
                    &tenant.customer_id,
                    "Get-MessageTraceV2",
                    json!({
                        "SenderAddress": sender,
                        "StartDate": exchange_time(start),
                        "EndDate": exchange_time(end),
                        "ResultSize": RESULT_SIZE,
                    }),
                    None,
                )
                .await
                .map_err(|error| UserError::Failed {
                    message: format!(
                        "Failed to trace the spread from {sender}: {}",
                        normalize_graph_error(&error)
                    ),
                    source: Some(Box::new(error)),
                })?;
            if window.len() >= RESULT_SIZE {
                complete = false;
            }
            rows.extend(window);
            end = start;
        }
        Ok(Outcome::json(spread(
            sender,
            days,
            complete,
            &rows,
            params.subject.as_deref(),
            &accepted,
        )))
    }
}

/// The trace's rows grouped by recipient.
fn spread(
    sender: String,
    days: i64,
    complete: bool,
    rows: &[Value],
    subject: Option<&str>,
    accepted: &HashSet<String>,
) -> Spread {
    let wanted = subject
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let text = |row: &Value, key: &str| {
        row.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut messages: HashSet<String> = HashSet::new();
    // A message received exactly at a window's edge is in both windows; it counts once.
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for row in rows {
        let subject = text(row, "Subject");
        if let Some(wanted) = &wanted
            && !subject.to_lowercase().contains(wanted.as_str())
        {
            continue;
        }
        let recipient = text(row, "RecipientAddress").trim().to_lowercase();
        if recipient.is_empty() {
            continue;
        }
        let id = text(row, "MessageTraceId");
        if !id.is_empty() && !seen.insert((id.clone(), recipient.clone())) {
            continue;
        }
        // A row without an id still is a message of its own.
        messages.insert(if id.is_empty() {
            format!("row:{}", messages.len())
        } else {
            id
        });
        let group = groups.entry(recipient).or_default();
        group.count += 1;
        if let Some(received) = row
            .get("Received")
            .and_then(Value::as_str)
            .and_then(parse_time)
        {
            group.first = Some(group.first.map_or(received, |f| f.min(received)));
            group.last = Some(group.last.map_or(received, |l| l.max(received)));
        }
        push_unique(&mut group.statuses, text(row, "Status"), usize::MAX);
        push_unique(&mut group.subjects, subject, 3);
    }
    let mut recipients: Vec<Recipient> = groups
        .into_iter()
        .map(|(recipient, group)| {
            let domain = recipient.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            Recipient {
                internal: accepted.contains(domain),
                message_count: group.count,
                first_received: group.first.map(print_time),
                last_received: group.last.map(print_time),
                statuses: group.statuses.join(", "),
                subjects: group.subjects.join(" | "),
                recipient,
            }
        })
        .collect();
    recipients.sort_by(|a, b| {
        b.internal
            .cmp(&a.internal)
            .then_with(|| a.recipient.cmp(&b.recipient))
    });
    let internal_count = recipients.iter().filter(|r| r.internal).count();
    Spread {
        sender,
        days,
        complete,
        total_messages: messages.len(),
        external_count: recipients.len() - internal_count,
        internal_count,
        recipients,
    }
}

#[derive(Default)]
struct Group {
    count: usize,
    first: Option<OffsetDateTime>,
    last: Option<OffsetDateTime>,
    statuses: Vec<String>,
    subjects: Vec<String>,
}

fn push_unique(list: &mut Vec<String>, value: String, cap: usize) {
    if !value.is_empty() && list.len() < cap && !list.contains(&value) {
        list.push(value);
    }
}

/// Exchange's times: RFC 3339 (often with seven fractional digits), or without an offset,
/// which Exchange means as UTC.
fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339))
        .ok()
}

fn print_time(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

fn exchange_time(at: OffsetDateTime) -> String {
    print_time(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_grouped_case_insensitively_with_internal_ones_first() {
        let rows = vec![
            json!({"MessageTraceId": "1", "RecipientAddress": "Zed@Partner.example", "Subject": "Invoice", "Status": "Delivered", "Received": "2026-03-02T10:00:00.0000000Z"}),
            json!({"MessageTraceId": "1", "RecipientAddress": "amy@contoso.example", "Subject": "Invoice", "Status": "Delivered", "Received": "2026-03-02T10:00:00Z"}),
            json!({"MessageTraceId": "2", "RecipientAddress": "zed@partner.example", "Subject": "Lunch", "Status": "Failed", "Received": "2026-03-01T09:00:00"}),
        ];
        let mut rows = rows;
        rows.push(rows[0].clone());
        let accepted: HashSet<String> = ["contoso.example".to_owned()].into();
        let all = spread("s@contoso.example".into(), 7, true, &rows, None, &accepted);
        assert_eq!(all.total_messages, 2);
        assert_eq!((all.internal_count, all.external_count), (1, 1));
        assert_eq!(all.recipients[0].recipient, "amy@contoso.example");
        let zed = &all.recipients[1];
        assert_eq!(zed.message_count, 2);
        assert_eq!(zed.first_received.as_deref(), Some("2026-03-01T09:00:00Z"));
        assert_eq!(zed.last_received.as_deref(), Some("2026-03-02T10:00:00Z"));
        assert_eq!(zed.statuses, "Delivered, Failed");
        assert_eq!(zed.subjects, "Invoice | Lunch");
        let invoices = spread("s".into(), 7, true, &rows, Some("INVOICE"), &accepted);
        assert_eq!(invoices.total_messages, 1);
        assert_eq!(invoices.recipients[1].message_count, 1);
    }
}
