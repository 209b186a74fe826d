//! `ExecSetCalendarProcessing` (CIPP-API `Invoke-ExecSetCalendarProcessing.ps1`): how a room or
//! equipment mailbox handles meeting requests, as one Exchange `Set-CalendarProcessing`, then
//! `Get-CalendarProcessing` read back.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_readback::{Expect, ReadBack};
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetCalendarProcessing;

/// The switches CIPP sends, each absent meaning `false` as in CIPP (`-as [bool]` of nothing).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "UPN")]
    pub upn: UserId,
    /// Accept requests automatically (`AutomateProcessing` `AutoAccept`).
    #[serde(rename = "automaticallyAccept", default)]
    pub automatically_accept: bool,
    /// Otherwise, only mark them tentative (`AutoUpdate`); neither is `None`.
    #[serde(rename = "automaticallyProcess", default)]
    pub automatically_process: bool,
    #[serde(rename = "allowConflicts", default)]
    pub allow_conflicts: bool,
    #[serde(rename = "allowRecurringMeetings", default)]
    pub allow_recurring_meetings: bool,
    #[serde(rename = "scheduleOnlyDuringWorkHours", default)]
    pub schedule_only_during_work_hours: bool,
    #[serde(rename = "addOrganizerToSubject", default)]
    pub add_organizer_to_subject: bool,
    #[serde(rename = "deleteComments", default)]
    pub delete_comments: bool,
    #[serde(rename = "deleteSubject", default)]
    pub delete_subject: bool,
    #[serde(rename = "removePrivateProperty", default)]
    pub remove_private_property: bool,
    #[serde(rename = "removeCanceledMeetings", default)]
    pub remove_canceled_meetings: bool,
    #[serde(rename = "removeOldMeetingMessages", default)]
    pub remove_old_meeting_messages: bool,
    #[serde(rename = "processExternalMeetingMessages", default)]
    pub process_external_meeting_messages: bool,
    /// `MaximumConflictInstances` (0 or absent: left as it is).
    #[serde(rename = "maxConflicts")]
    pub max_conflicts: Option<u32>,
    /// `MaximumDurationInMinutes` (0 or absent: left as it is).
    #[serde(rename = "maximumDurationInMinutes")]
    pub maximum_duration_in_minutes: Option<u32>,
    /// `MinimumDurationInMinutes` (0 or absent: left as it is).
    #[serde(rename = "minimumDurationInMinutes")]
    pub minimum_duration_in_minutes: Option<u32>,
    /// `BookingWindowInDays` (0 or absent: left as it is).
    #[serde(rename = "bookingWindowInDays")]
    pub booking_window_in_days: Option<u32>,
    /// Text added to the organiser's reply (absent: left as it is).
    #[serde(rename = "additionalResponse")]
    pub additional_response: Option<String>,
}

impl Operation for ExecSetCalendarProcessing {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetCalendarProcessing";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetCalendarProcessing.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `UPN`, or one that is neither an object id nor a user principal name, is a 400 naming it (CIPP sends Exchange an empty identity); the switches must be booleans and the numbers whole numbers (CIPP's casts read the text `\"false\"` as true and drop what is not a number). A failure is Exchange's status rather than always 500. The settings are read back after the change: a value Exchange does not show (yet) is a 500 saying what it shows instead of CIPP's success text.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UPN": crate::demo::USER, "automaticallyAccept": true,
               "allowRecurringMeetings": true, "bookingWindowInDays": 90})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let upn = params.upn.as_str();
        let automate = if params.automatically_accept {
            "AutoAccept"
        } else if params.automatically_process {
            "AutoUpdate"
        } else {
            "None"
        };
        let mut expected: Vec<(&str, Expect)> = vec![
            ("AutomateProcessing", Expect::Text(automate.to_owned())),
            ("AllowConflicts", Expect::Bool(params.allow_conflicts)),
            ("AllowRecurringMeetings", Expect::Bool(params.allow_recurring_meetings)),
            ("ScheduleOnlyDuringWorkHours", Expect::Bool(params.schedule_only_during_work_hours)),
            ("AddOrganizerToSubject", Expect::Bool(params.add_organizer_to_subject)),
            ("DeleteComments", Expect::Bool(params.delete_comments)),
            ("DeleteSubject", Expect::Bool(params.delete_subject)),
            ("RemovePrivateProperty", Expect::Bool(params.remove_private_property)),
            ("RemoveCanceledMeetings", Expect::Bool(params.remove_canceled_meetings)),
            ("RemoveOldMeetingMessages", Expect::Bool(params.remove_old_meeting_messages)),
            (
                "ProcessExternalMeetingMessages",
                Expect::Bool(params.process_external_meeting_messages),
            ),
        ];
        // CIPP adds each number only when it is set and not 0.
        let numbers = [
            ("MaximumConflictInstances", params.max_conflicts),
            ("MaximumDurationInMinutes", params.maximum_duration_in_minutes),
            ("MinimumDurationInMinutes", params.minimum_duration_in_minutes),
            ("BookingWindowInDays", params.booking_window_in_days),
        ];
        for (name, value) in numbers {
            if let Some(n) = value.filter(|n| *n != 0) {
                expected.push((name, Expect::Int(i64::from(n))));
            }
        }
        let mut parameters = json!({"Identity": upn});
        for (name, expect) in &expected {
            parameters[*name] = match expect {
                Expect::Text(t) => json!(t),
                Expect::Bool(b) => json!(b),
                Expect::Int(i) => json!(i),
                _ => Value::Null,
            };
        }
        if let Some(text) = params.additional_response.as_deref().filter(|t| !t.is_empty()) {
            parameters["AdditionalResponse"] = json!(text);
            expected.push(("AdditionalResponse", Expect::Text(text.to_owned())));
        }
        // CIPP sends it without an anchor (the system mailbox).
        ctx.graph
            .exchange(&tenant.customer_id, "Set-CalendarProcessing", parameters, None)
            .await
            .map_err(|e| UserError::Failed {
                message: format!(
                    "Could not update calendar processing settings for {upn}. Error: {}",
                    normalize_graph_error(&e)
                ),
                source: Some(Box::new(e)),
            })?;
        ReadBack {
            cmdlet: "Get-CalendarProcessing",
            identity: upn,
            anchor: None,
            checks: expected,
        }
        .confirm(
            &ctx.graph,
            &tenant.customer_id,
            &format!("the calendar processing settings for {upn}"),
        )
        .await?;
        let message =
            format!("Calendar processing settings for {upn} have been updated successfully");
        tracing::info!(tenant = %tenant.customer_id, user = upn, "{message}");
        Ok(Outcome::json(TextResults::new(message)))
    }
}
