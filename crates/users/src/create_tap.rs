//! `ExecCreateTAP` (CIPP-API `Invoke-ExecCreateTAP.ps1` → `New-CIPPTAP.ps1`): a Temporary Access
//! Pass for one user. The pass is a secret: it goes to the caller and nowhere else.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::{Map, Value, json};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// What the caller asked for, already in the form Graph is sent.
#[derive(Debug, Default, Clone)]
pub struct TapRequest {
    pub lifetime_in_minutes: Option<i64>,
    pub is_usable_once: bool,
    /// As produced by [`start_date_time`].
    pub start_date_time: Option<String>,
}

/// CIPP's answer, and the same outcome without the pass for logs and audit rows.
pub struct TapOutcome {
    /// `Results`: the pass object and the user id object. Holds the pass: caller only.
    pub results: Value,
    pub log_text: String,
}

/// `startDateTime` as CIPP re-emits it with .NET's `o` format: Unix seconds (all digits) give
/// the UTC time with no offset (`2025-01-02T03:04:05.0000000`); a date string keeps an offset
/// when it had one, shown in the server's zone (UTC). Anything else is a 400 naming the field
/// (CIPP fails inside the helper and answers its failure text with 500).
pub fn start_date_time(raw: &str) -> Result<String, UserError> {
    let raw = raw.trim();
    let invalid = || {
        UserError::invalid(
            "startDateTime",
            format!("startDateTime must be Unix seconds or an ISO 8601 date, got '{raw}'"),
        )
    };
    let plain =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]");
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = raw.parse().map_err(|_| invalid())?;
        let at = OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| invalid())?;
        return at.format(&plain).map_err(|_| invalid());
    }
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(raw, &Iso8601::DEFAULT))
    {
        let utc = at.to_offset(UtcOffset::UTC);
        return utc
            .format(&plain)
            .map(|text| format!("{text}+00:00"))
            .map_err(|_| invalid());
    }
    let local = PrimitiveDateTime::parse(raw, &Iso8601::DEFAULT).map_err(|_| invalid())?;
    local.format(&plain).map_err(|_| invalid())
}

/// `yyyy-MM-dd HH:mm:ss` of Graph's `startDateTime`, in UTC (as CIPP's `Get-Date` shows it on
/// a server in UTC); the text itself when it does not parse.
fn shown_start(graph_value: &Value) -> String {
    let text = graph_value.as_str().unwrap_or_default();
    let shown = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .or_else(|_| PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).map(|t| t.assume_utc()))
        .ok()
        .and_then(|t| t.format(&shown).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// Creates the pass with `POST beta/users/{id}/authentication/temporaryAccessPassMethods`
/// (delegated, as CIPP does).
pub async fn create_tap(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
    request: &TapRequest,
) -> Result<TapOutcome, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let mut body = Map::new();
    if let Some(lifetime) = request.lifetime_in_minutes {
        body.insert("lifetimeInMinutes".into(), json!(lifetime));
    }
    body.insert("isUsableOnce".into(), json!(request.is_usable_once));
    if let Some(start) = &request.start_date_time {
        body.insert("startDateTime".into(), json!(start));
    }
    let created = graph
        .post(
            tenant,
            GraphVersion::Beta,
            &format!(
                "users/{}/authentication/temporaryAccessPassMethods",
                path_segment(user_id)
            ),
            &Value::Object(body),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to create Temporary Access Password (TAP) for {user_id}: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?
        .unwrap_or(Value::Null);
    let field = |name: &str| created.get(name).cloned().unwrap_or(Value::Null);
    let pass = field("temporaryAccessPass");
    let pass_text = pass.as_str().unwrap_or_default();
    let lifetime = field("lifetimeInMinutes");
    // PowerShell interpolates a missing number as nothing.
    let lifetime_text = match &lifetime {
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let once = field("isUsableOnce").as_bool() == Some(true);
    let starts = request
        .start_date_time
        .as_ref()
        .map(|_| format!("{} UTC", shown_start(&field("startDateTime"))));
    let mut result_text = format!(
        "The TAP for {user_id} is {pass_text} - This TAP is usable for the next {lifetime_text} minutes"
    );
    if once {
        result_text.push_str(" (one-time use only)");
    }
    if let Some(starts) = &starts {
        result_text.push_str(&format!(" starting at {starts}"));
    }
    let log_text = format!(
        "Created Temporary Access Password (TAP) for {user_id} with Lifetime: {lifetime_text} minutes, {}, {}",
        if once { "one-time use" } else { "multi-use" },
        starts.as_ref().map_or_else(
            || "starts immediately".to_owned(),
            |s| format!("starts at {s}")
        )
    );
    tracing::info!(tenant, "{log_text}");
    let results = json!([
        {
            "resultText": result_text,
            "userId": user_id,
            "copyField": pass,
            "temporaryAccessPass": pass,
            "lifetimeInMinutes": lifetime,
            "startDateTime": field("startDateTime"),
            "isUsableOnce": field("isUsableOnce"),
            "state": "success"
        },
        {
            "resultText": format!("User ID: {user_id}"),
            "copyField": user_id,
            "state": "success"
        }
    ]);
    Ok(TapOutcome { results, log_text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_become_a_utc_time_without_an_offset() {
        assert_eq!(
            start_date_time("1735787045").unwrap(),
            "2025-01-02T03:04:05.0000000"
        );
    }

    #[test]
    fn a_date_string_keeps_an_offset_shown_in_utc() {
        assert_eq!(
            start_date_time("2025-01-02T05:04:05+02:00").unwrap(),
            "2025-01-02T03:04:05.0000000+00:00"
        );
        assert_eq!(
            start_date_time("2025-01-02T03:04:05").unwrap(),
            "2025-01-02T03:04:05.0000000"
        );
    }

    #[test]
    fn a_start_that_is_not_a_date_names_the_field() {
        let error = start_date_time("soon").unwrap_err();
        assert!(error.to_string().starts_with("startDateTime"));
    }

    #[test]
    fn graphs_start_time_is_shown_to_the_second() {
        assert_eq!(
            shown_start(&json!("2025-01-02T03:04:05Z")),
            "2025-01-02 03:04:05"
        );
    }
}
