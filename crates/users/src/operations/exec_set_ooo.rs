//! `ExecSetOoO` (CIPP-API `Invoke-ExecSetOoO.ps1` → `Set-CIPPOutOfOffice.ps1`): sets a mailbox's
//! automatic replies with one Exchange `Set-MailboxAutoReplyConfiguration`.

use cipp_graph::GraphClient;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::{normalize_graph_error, normalize_message};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetOoO;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "userId")]
    pub user_id: UserId,
    /// Whether automatic replies are on, off, or on between `StartTime` and `EndTime`.
    #[serde(rename = "AutoReplyState")]
    pub auto_reply_state: ExecSetOoOState,
    /// One message for both audiences (the user action's form); wins over the two below.
    #[serde(rename = "input")]
    pub input: Option<String>,
    /// The reply to senders inside the organisation (HTML); blank keeps the stored one.
    #[serde(rename = "InternalMessage")]
    pub internal_message: Option<String>,
    /// The reply to senders outside the organisation (HTML); blank keeps the stored one and
    /// sends to no external sender.
    #[serde(rename = "ExternalMessage")]
    pub external_message: Option<String>,
    /// For `Scheduled`: Unix seconds (UTC), or a date and time passed to Exchange as sent.
    /// Default: now.
    #[serde(rename = "StartTime")]
    pub start_time: Option<String>,
    /// For `Scheduled`: Unix seconds (UTC), or a date and time passed to Exchange as sent.
    /// Default: a week after the start.
    #[serde(rename = "EndTime")]
    pub end_time: Option<String>,
    /// For `Scheduled`: block the calendar for the period.
    #[serde(rename = "CreateOOFEvent")]
    pub create_oof_event: Option<bool>,
    /// For `Scheduled`: the subject of that calendar event.
    #[serde(rename = "OOFEventSubject")]
    pub oof_event_subject: Option<String>,
    /// For `Scheduled`: decline new meeting requests during the period.
    #[serde(rename = "AutoDeclineFutureRequestsWhenOOF")]
    pub auto_decline_future_requests: Option<bool>,
    /// For `Scheduled`: decline (and cancel) the meetings already in the period.
    #[serde(rename = "DeclineEventsForScheduledOOF")]
    pub decline_events_for_scheduled: Option<bool>,
    /// For `Scheduled`: the text sent with the declines.
    #[serde(rename = "DeclineMeetingMessage")]
    pub decline_meeting_message: Option<String>,
    /// The browser's IANA time zone, used only to show the scheduled times in the answer.
    #[serde(rename = "timezone")]
    pub timezone: Option<String>,
}

/// `AutoReplyState` (any case; `{label, value}` accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ExecSetOoOState {
    Enabled,
    Disabled,
    Scheduled,
}

impl ExecSetOoOState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::Scheduled => "Scheduled",
        }
    }
}

impl Operation for ExecSetOoO {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetOoO";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetOoO.ps1",
        frontend: Some("src/components/CippFormPages/CippExchangeSettingsForm.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `userId` (or one that is neither an object id nor a user principal name), or a missing or unknown `AutoReplyState`, is a 400 naming the field (CIPP: a 500 with PowerShell's parameter-binding text); a `StartTime`/`EndTime` of digits beyond the Unix range is a 400 (CIPP: a 500). The flags are booleans (`\"false\"` is false and other text a 400; CIPP's `[bool]` cast makes any non-empty text true). CIPP reads the body only; the query is read too here.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userId": crate::demo::USER,
            "AutoReplyState": {"label": "Enabled", "value": "Enabled"},
            "InternalMessage": "<p>I am out of the office until Monday.</p>",
            "ExternalMessage": "<p>Thank you for your message. I am away until Monday.</p>",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let start_time = When::parse("StartTime", params.start_time.clone())?;
        let end_time = When::parse("EndTime", params.end_time.clone())?;
        let tenant = ctx.tenant()?;
        let message = set_out_of_office(
            &ctx.graph,
            &tenant.customer_id,
            &params,
            start_time,
            end_time,
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// A start or end time as CIPP holds it: a date and time (from Unix seconds, or the default), or
/// a string the caller sent, passed on and shown as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    At(DateTime),
    Text(String),
}

impl When {
    /// All digits are Unix seconds (UTC, without a kind, as .NET's `DateTimeOffset.DateTime`);
    /// anything else stays text. Blank is absent.
    pub fn parse(field: &'static str, raw: Option<String>) -> Result<Option<Self>, UserError> {
        let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
            return Ok(None);
        };
        if !raw.chars().all(|c| c.is_ascii_digit()) {
            return Ok(Some(Self::Text(raw)));
        }
        let at = raw
            .parse::<i64>()
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .ok_or_else(|| {
                UserError::invalid(field, format!("{field} is not a valid Unix time: {raw}"))
            })?;
        Ok(Some(Self::At(at.to_zoned(TimeZone::UTC).datetime())))
    }

    /// What Exchange is sent: a date and time as PowerShell serialises one, else the text.
    fn for_exchange(&self) -> String {
        match self {
            Self::At(at) => at.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            Self::Text(text) => text.clone(),
        }
    }

    /// The date and time .NET would read from the value: text without an offset only (one with
    /// an offset becomes a local-time value that the UTC conversion refuses).
    fn civil(&self) -> Option<DateTime> {
        match self {
            Self::At(at) => Some(*at),
            Self::Text(text) => text.trim().replace(' ', "T").parse::<DateTime>().ok(),
        }
    }

    /// As CIPP's message shows it: `DateTime.ToString()` in the server's (en-US) culture.
    fn shown(&self) -> String {
        match self {
            Self::At(at) => us_format(*at),
            Self::Text(text) => text.clone(),
        }
    }
}

fn us_format(at: DateTime) -> String {
    at.strftime("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// Sets the automatic replies. Returns CIPP's success text; a failure carries CIPP's text, which
/// wraps the helper's message in the entry point's.
pub async fn set_out_of_office(
    graph: &GraphClient,
    tenant_id: &str,
    request: &Params,
    start_time: Option<When>,
    end_time: Option<When>,
) -> Result<String, UserError> {
    let user_id = request.user_id.as_str();
    let state = request.auto_reply_state.as_str();
    let scheduled = request.auto_reply_state == ExecSetOoOState::Scheduled;

    let mut params = Map::new();
    params.insert("Identity".into(), json!(user_id));
    params.insert("AutoReplyState".into(), json!(state));
    params.insert("ExternalAudience".into(), json!("None"));
    // The user action sends one message for both; the Exchange tab sends both and leaves one
    // out (blank) to keep what is stored.
    let (internal, external) = match non_blank(&request.input) {
        Some(input) => (Some(input), Some(input)),
        None => (
            non_blank(&request.internal_message),
            non_blank(&request.external_message),
        ),
    };
    if let Some(message) = internal {
        params.insert("InternalMessage".into(), json!(message));
    }
    if let Some(message) = external {
        params.insert("ExternalMessage".into(), json!(message));
        params.insert("ExternalAudience".into(), json!("All"));
    }
    let mut window = None;
    if scheduled {
        let start = start_time
            .unwrap_or_else(|| When::At(jiff::Timestamp::now().to_zoned(TimeZone::UTC).datetime()));
        let end = match end_time {
            Some(end) => end,
            None => {
                let from = start.civil().ok_or_else(|| {
                    UserError::invalid(
                        "EndTime",
                        "EndTime is required when StartTime is not a date and time CIPP can read",
                    )
                })?;
                When::At(from.saturating_add(jiff::SignedDuration::from_hours(7 * 24)))
            }
        };
        params.insert("StartTime".into(), json!(start.for_exchange()));
        params.insert("EndTime".into(), json!(end.for_exchange()));
        if let Some(b) = request.create_oof_event {
            params.insert("CreateOOFEvent".into(), json!(b));
        }
        if let Some(subject) = non_blank(&request.oof_event_subject) {
            params.insert("OOFEventSubject".into(), json!(subject));
        }
        if let Some(b) = request.auto_decline_future_requests {
            params.insert("AutoDeclineFutureRequestsWhenOOF".into(), json!(b));
        }
        if let Some(b) = request.decline_events_for_scheduled {
            // CIPP sets both flags from the one field.
            params.insert("DeclineEventsForScheduledOOF".into(), json!(b));
            params.insert("DeclineAllEventsForScheduledOOF".into(), json!(b));
        }
        if let Some(text) = non_blank(&request.decline_meeting_message) {
            params.insert("DeclineMeetingMessage".into(), json!(text));
        }
        window = Some((start, end));
    }

    graph
        .exchange(
            tenant_id,
            "Set-MailboxAutoReplyConfiguration",
            Value::Object(params),
            Some(user_id),
        )
        .await
        .map_err(|e| {
            let inner = format!(
                "Could not add OOO for {user_id}. Error: {}",
                normalize_graph_error(&e)
            );
            UserError::Failed {
                message: format!(
                    "Could not set Out of Office for user: {user_id}. Error: {}",
                    normalize_message(&inner)
                ),
                source: Some(Box::new(e)),
            }
        })?;

    let message = match window {
        Some((start, end)) => {
            let (shown_start, shown_end) = shown_window(&start, &end, request.timezone.as_deref());
            format!("Scheduled Out-of-office for {user_id} between {shown_start} and {shown_end}")
        }
        None => format!("Set Out-of-office for {user_id} to {state}."),
    };
    tracing::info!(tenant = tenant_id, user = user_id, "{message}");
    Ok(message)
}

/// The start and end as CIPP's message shows them: converted from UTC to the caller's time zone
/// when it is known and the value is a date and time, else unconverted. As in CIPP, the end is
/// left alone once the start could not be converted.
fn shown_window(start: &When, end: &When, timezone: Option<&str>) -> (String, String) {
    let zone = timezone
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .and_then(|t| TimeZone::get(t).ok());
    let convert = |when: &When| -> Option<String> {
        let zone = zone.as_ref()?;
        let at = when.civil()?;
        let utc = at.to_zoned(TimeZone::UTC).ok()?;
        Some(us_format(utc.with_time_zone(zone.clone()).datetime()))
    };
    match convert(start) {
        Some(shown_start) => (shown_start, convert(end).unwrap_or_else(|| end.shown())),
        None => (start.shown(), end.shown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_become_a_date_and_text_stays_text() {
        let when = When::parse("StartTime", Some("1786183200".into()))
            .unwrap()
            .unwrap();
        assert_eq!(when.for_exchange(), "2026-08-08T10:00:00");
        assert_eq!(when.shown(), "8/8/2026 10:00:00 AM");
        let text = When::parse("StartTime", Some("next tuesday".into()))
            .unwrap()
            .unwrap();
        assert_eq!(text, When::Text("next tuesday".into()));
        assert_eq!(When::parse("StartTime", Some(" ".into())).unwrap(), None);
    }

    #[test]
    fn the_window_is_shown_in_the_callers_time_zone_when_it_is_known() {
        let start = When::parse("StartTime", Some("1786183200".into()))
            .unwrap()
            .unwrap();
        let end = When::Text("2026-08-15T18:30:00".into());
        assert_eq!(
            shown_window(&start, &end, Some("Europe/Amsterdam")),
            ("8/8/2026 12:00:00 PM".into(), "8/15/2026 8:30:00 PM".into())
        );
        assert_eq!(
            shown_window(&start, &end, Some("Mars/Olympus_Mons")),
            ("8/8/2026 10:00:00 AM".into(), "2026-08-15T18:30:00".into())
        );
        let with_offset = When::Text("2026-08-08T10:00:00Z".into());
        assert_eq!(
            shown_window(&with_offset, &end, Some("Europe/Amsterdam")),
            ("2026-08-08T10:00:00Z".into(), "2026-08-15T18:30:00".into())
        );
    }
}
