//! `ExecCreateTAP` (CIPP-API `Invoke-ExecCreateTAP.ps1` → `New-CIPPTAP.ps1`): a Temporary Access
//! Pass for one user. The pass is a secret: it goes to the caller and nowhere else; the audit row
//! and the logs get the outcome without it.

use cipp_graph::{GraphClient, GraphVersion};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{ItemState, ResultItem, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecCreateTAP;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user the pass is for.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// How long the pass is valid, in minutes (Graph accepts 10 to 43200); Graph's default
    /// lifetime when absent.
    #[serde(rename = "lifetimeInMinutes")]
    pub lifetime_in_minutes: Option<i64>,
    /// Whether the pass works for one sign-in only (default `false`).
    #[serde(rename = "isUsableOnce", default)]
    pub is_usable_once: bool,
    /// When the pass becomes valid: Unix seconds (as the CIPP frontend sends it) or an ISO 8601
    /// date; at once when absent.
    #[serde(rename = "startDateTime")]
    pub start_date_time: Option<String>,
    /// Asks for a PwPush link instead of the pass. This service has no PwPush integration, so
    /// the plain pass is answered, as CIPP does when its integration is not enabled.
    #[serde(rename = "GeneratePwPushLink", default)]
    pub generate_pw_push_link: bool,
}

/// `{"Results": [<the pass>, <the user id>]}`, as CIPP answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecCreateTAPResults {
    #[serde(rename = "Results")]
    pub results: Vec<ExecCreateTAPRow>,
}

/// A row of the answer: first the pass, then the user id to copy.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ExecCreateTAPRow {
    Pass(ExecCreateTAPPass),
    UserId(ResultItem),
}

/// The pass as Graph issued it, with CIPP's text. Holds the pass: caller only.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecCreateTAPPass {
    /// CIPP's text, the pass included.
    #[serde(rename = "resultText")]
    pub result_text: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The pass, for copying.
    #[serde(rename = "copyField")]
    pub copy_field: String,
    #[serde(rename = "temporaryAccessPass")]
    pub temporary_access_pass: String,
    /// As Graph set it.
    #[serde(rename = "lifetimeInMinutes")]
    pub lifetime_in_minutes: Option<i64>,
    /// As Graph set it.
    #[serde(rename = "startDateTime")]
    pub start_date_time: Option<String>,
    /// As Graph set it.
    #[serde(rename = "isUsableOnce")]
    pub is_usable_once: Option<bool>,
    pub state: ItemState,
}

impl Operation for ExecCreateTAP {
    type Params = Params;
    type Answer = ExecCreateTAPResults;
    const NAME: &'static str = "ExecCreateTAP";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecCreateTAP.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID` or one that is neither an object id nor a user principal name, a `lifetimeInMinutes` that is not a whole number, an `isUsableOnce` that is not a boolean or a `startDateTime` that is not a date is a 400 naming the field (CIPP: its failure text with 500, or false). A `lifetimeInMinutes` of 0 is sent to Graph whether it came as text or as a number (CIPP drops the number 0). `isUsableOnce` in the query wins over the body (CIPP ORs the two). An answer from Graph without a pass is CIPP's failure text, not a success. The pass reaches the caller only: the audit row carries CIPP's log line without it. `GeneratePwPushLink` answers the plain pass (no PwPush integration here, as in CIPP with it not enabled).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "ID": crate::demo::USER,
            "lifetimeInMinutes": 60,
            "isUsableOnce": true,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ExecCreateTAPResults>, UserError> {
        let request = TapRequest {
            lifetime_in_minutes: params.lifetime_in_minutes,
            is_usable_once: params.is_usable_once,
            start_date_time: params
                .start_date_time
                .as_deref()
                .map(start_date_time)
                .transpose()?,
        };
        let tenant = ctx.tenant()?;
        let outcome = create_tap(&ctx.graph, &tenant.customer_id, &params.id, &request).await?;
        if params.generate_pw_push_link {
            tracing::warn!(
                tenant = %tenant.customer_id,
                "PwPush link was requested for the TAP of {} but the PwPush integration is not enabled or returned no link. Returning the plain TAP.",
                params.id.as_str()
            );
        }
        // The audit row records the outcome without the pass.
        Ok(Outcome::json(outcome.answer).audit_message(outcome.log_text))
    }
}

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
    /// Holds the pass: caller only.
    pub answer: ExecCreateTAPResults,
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
    user: &UserId,
    request: &TapRequest,
) -> Result<TapOutcome, UserError> {
    let user_id = user.as_str();
    let failed = |detail: String, source| UserError::Failed {
        message: format!(
            "Failed to create Temporary Access Pass (TAP) for {user_id}: {detail}"
        ),
        source,
    };
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
                user.segment()
            ),
            &Value::Object(body),
        )
        .await
        .map_err(|e| failed(normalize_graph_error(&e), Some(Box::new(e))))?
        .unwrap_or(Value::Null);
    // Without a pass in Graph's answer nothing usable was created, whatever the status said.
    let pass = issued_pass(&created)
        .ok_or_else(|| failed("Graph's answer holds no pass".to_owned(), None))?;
    let field = |name: &str| created.get(name).cloned().unwrap_or(Value::Null);
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
        "The TAP for {user_id} is {pass} - This TAP is usable for the next {lifetime_text} minutes"
    );
    if once {
        result_text.push_str(" (one-time use only)");
    }
    if let Some(starts) = &starts {
        result_text.push_str(&format!(" starting at {starts}"));
    }
    let log_text = format!(
        "Created Temporary Access Pass (TAP) for {user_id} with Lifetime: {lifetime_text} minutes, {}, {}",
        if once { "one-time use" } else { "multi-use" },
        starts.as_ref().map_or_else(
            || "starts immediately".to_owned(),
            |s| format!("starts at {s}")
        )
    );
    tracing::info!(tenant, "{log_text}");
    let answer = ExecCreateTAPResults {
        results: vec![
            ExecCreateTAPRow::Pass(ExecCreateTAPPass {
                result_text,
                user_id: user_id.to_owned(),
                copy_field: pass.clone(),
                temporary_access_pass: pass,
                lifetime_in_minutes: lifetime.as_i64(),
                start_date_time: field("startDateTime").as_str().map(str::to_owned),
                is_usable_once: field("isUsableOnce").as_bool(),
                state: ItemState::Success,
            }),
            ExecCreateTAPRow::UserId(ResultItem {
                result_text: format!("User ID: {user_id}"),
                state: ItemState::Success,
                copy_field: Some(user_id.to_owned()),
            }),
        ],
    };
    Ok(TapOutcome { answer, log_text })
}

/// The pass in Graph's answer to the create call, when there is one.
fn issued_pass(created: &Value) -> Option<String> {
    created
        .get("temporaryAccessPass")
        .and_then(Value::as_str)
        .filter(|pass| !pass.is_empty())
        .map(str::to_owned)
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
    fn an_answer_without_a_pass_is_not_a_created_pass() {
        assert_eq!(
            issued_pass(&json!({"temporaryAccessPass": "+drkzqAD"})).as_deref(),
            Some("+drkzqAD")
        );
        assert_eq!(issued_pass(&json!({"temporaryAccessPass": null})), None);
        assert_eq!(issued_pass(&json!({"temporaryAccessPass": ""})), None);
        assert_eq!(issued_pass(&Value::Null), None);
    }

    #[test]
    fn graphs_start_time_is_shown_to_the_second() {
        assert_eq!(
            shown_start(&json!("2025-01-02T03:04:05Z")),
            "2025-01-02 03:04:05"
        );
    }
}
