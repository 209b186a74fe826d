//! `ListOoO` (CIPP-API `Invoke-ListOoO.ps1`, `Get-CIPPOutOfOffice`): a mailbox's automatic
//! replies as the user page's out-of-office panel reads them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListOoO;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "userid")]
    pub userid: UserId,
}

/// The reply's state, window (`yyyy-MM-dd HH:mm`, UTC) and both messages (HTML).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutOfOffice {
    /// `Enabled`, `Disabled` or `Scheduled`.
    #[serde(rename = "AutoReplyState")]
    pub auto_reply_state: Option<String>,
    #[serde(rename = "StartTime")]
    pub start_time: Option<String>,
    #[serde(rename = "EndTime")]
    pub end_time: Option<String>,
    #[serde(rename = "InternalMessage")]
    pub internal_message: Option<String>,
    #[serde(rename = "ExternalMessage")]
    pub external_message: Option<String>,
}

impl Operation for ListOoO {
    type Params = Params;
    type Answer = OutOfOffice;
    const NAME: &'static str = "ListOoO";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListOoO.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A mailbox that cannot be read is Exchange's status (404 when it does not exist) with CIPP's text in `Results` (CIPP: 200 with the text as the body). A missing `userid` is a 400 naming it.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userid": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<OutOfOffice>, UserError> {
        let tenant = ctx.tenant()?;
        let user = params.userid.as_str();
        let reply = ctx
            .graph
            .exchange(
                &tenant.customer_id,
                "Get-MailboxAutoReplyConfiguration",
                json!({"Identity": user}),
                Some(user),
            )
            .await
            .map_err(|error| UserError::Failed {
                message: format!(
                    "Could not retrieve out of office message for {user}. Error: {}",
                    normalize_graph_error(&error)
                ),
                source: Some(Box::new(error)),
            })?
            .into_iter()
            .next()
            .unwrap_or(Value::Null);
        let text = |key: &str| reply.get(key).and_then(Value::as_str).map(str::to_owned);
        Ok(Outcome::json(OutOfOffice {
            auto_reply_state: text("AutoReplyState"),
            start_time: text("StartTime").map(|t| minutes(&t)),
            end_time: text("EndTime").map(|t| minutes(&t)),
            internal_message: text("InternalMessage"),
            external_message: text("ExternalMessage"),
        }))
    }
}

/// Exchange's `2026-01-05T09:00:00.0000000+00:00` as CIPP prints it: `2026-01-05 09:00` (UTC).
fn minutes(exchange_time: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(exchange_time.trim(), &Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        // Without an offset Exchange means UTC already.
        Err(_) => exchange_time
            .get(..16)
            .map_or_else(|| exchange_time.to_owned(), |m| m.replacen('T', " ", 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::minutes;

    #[test]
    fn exchange_times_print_to_the_minute_in_utc() {
        assert_eq!(minutes("2026-01-05T09:00:00.0000000+00:00"), "2026-01-05 09:00");
        assert_eq!(minutes("2026-01-05T10:30:00+01:00"), "2026-01-05 09:30");
        assert_eq!(minutes("2026-01-05T09:00:00"), "2026-01-05 09:00");
    }
}
