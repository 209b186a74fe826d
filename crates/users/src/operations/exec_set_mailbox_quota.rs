//! `ExecSetMailboxQuota` (CIPP-API `Invoke-ExecSetMailboxQuota.ps1`): one Exchange `Set-Mailbox`
//! per quota the caller ticked (send, send and receive, warning), then the mailbox read back.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::error::{ErrorKind, upstream_kind};
use crate::mailbox_readback::{Expect, ReadBack};
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetMailboxQuota;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "user")]
    pub user: UserId,
    /// The quota: a size such as `1000MB`, `10GB`, `1.5TB`, or `Unlimited`.
    #[serde(rename = "quota")]
    pub quota: String,
    /// Set the quota at which the mailbox can no longer send.
    #[serde(rename = "ProhibitSendQuota", default)]
    pub prohibit_send_quota: bool,
    /// Set the quota at which the mailbox can no longer send or receive.
    #[serde(rename = "ProhibitSendReceiveQuota", default)]
    pub prohibit_send_receive_quota: bool,
    /// Set the quota at which the owner is warned.
    #[serde(rename = "IssueWarningQuota", default)]
    pub issue_warning_quota: bool,
}

/// A quota as Exchange takes it, in bytes (`None`: unlimited); `None` when it is not one.
pub fn parse_quota(text: &str) -> Option<Option<u64>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("unlimited") {
        return Some(None);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok().filter(|n: &f64| n.is_finite())?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return None,
    };
    Some(Some((number * factor as f64).round() as u64))
}

impl Operation for ExecSetMailboxQuota {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecSetMailboxQuota";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetMailboxQuota.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A `quota` that is not a size with a unit (`B`, `KB`, `MB`, `GB`, `TB`) or `Unlimited` is a 400 naming it, and so is ticking none of the three quotas (CIPP: an empty 200). Every ticked quota gets the value (CIPP passes the first call's output to the second). A failure is Exchange's status with the lines so far and Exchange's normalised reason (CIPP: 200 with the raw message). The mailbox is read back after the change: a quota Exchange does not show (yet) is a 500 saying what it shows instead of CIPP's text.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "user": crate::demo::USER, "quota": "45GB", "ProhibitSendQuota": true})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let tenant = ctx.tenant()?;
        let user = params.user.as_str();
        let bytes = parse_quota(&params.quota).ok_or_else(|| {
            UserError::invalid(
                "quota",
                format!(
                    "quota: '{}' is not a size such as 1000MB, 10GB or 1TB, or Unlimited",
                    params.quota
                ),
            )
        })?;
        let chosen: Vec<&str> = [
            ("ProhibitSendQuota", params.prohibit_send_quota),
            ("ProhibitSendReceiveQuota", params.prohibit_send_receive_quota),
            ("IssueWarningQuota", params.issue_warning_quota),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        if chosen.is_empty() {
            return Err(UserError::invalid(
                "ProhibitSendQuota",
                "ProhibitSendQuota, ProhibitSendReceiveQuota or IssueWarningQuota must be true",
            ));
        }
        let quota = params.quota.trim();
        let mut lines = Vec::new();
        let mut readback = ReadBack::mailbox(user, Some(user));
        for name in chosen {
            let mut parameters = json!({"Identity": user});
            parameters[name] = json!(quota);
            if let Err(error) = ctx
                .graph
                .exchange(&tenant.customer_id, "Set-Mailbox", parameters, Some(user))
                .await
            {
                let message = format!(
                    "Could not adjust mailbox quota for {user}. Error: {}",
                    normalize_graph_error(&error)
                );
                tracing::warn!(tenant = %tenant.customer_id, user, "{message}");
                lines.push(message.clone());
                return Err(UserError::Answered {
                    kind: upstream_kind(&error).unwrap_or(ErrorKind::UpstreamFailed),
                    message,
                    results: json!(lines),
                });
            }
            // CIPP's text ends in an empty `$message` (a variable it never sets).
            lines.push(format!("Changed {name} for {user} - "));
            readback = readback.expect(name, Expect::Size(bytes));
        }
        if let Err(message) = readback
            .verify(
                &ctx.graph,
                &tenant.customer_id,
                &format!("the quota {quota} for {user}"),
            )
            .await
        {
            lines.push(message.clone());
            return Err(UserError::Answered {
                kind: ErrorKind::UpstreamFailed,
                message,
                results: json!(lines),
            });
        }
        tracing::info!(tenant = %tenant.customer_id, user, "{}", lines.join(" | "));
        Ok(Outcome::json(TextListResults::new(lines)))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_quota;

    #[test]
    fn quotas_read_as_the_page_suggests_them() {
        assert_eq!(parse_quota("1000MB"), Some(Some(1000 << 20)));
        assert_eq!(parse_quota("10 GB"), Some(Some(10 << 30)));
        assert_eq!(parse_quota("1TB"), Some(Some(1 << 40)));
        assert_eq!(parse_quota("Unlimited"), Some(None));
        assert_eq!(parse_quota("10"), None);
        assert_eq!(parse_quota("lots"), None);
    }
}
