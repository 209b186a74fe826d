//! `ListUserTrustedBlockedSenders` (CIPP-API `Invoke-ListUserTrustedBlockedSenders.ps1`): one
//! row per trusted or blocked sender or domain of a mailbox's junk-mail configuration.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::mailbox_reads::failed;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListUserTrustedBlockedSenders;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name or object id.
    #[serde(rename = "UserID")]
    pub user_id: UserId,
    /// The mailbox's user principal name, copied into every row.
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
}

/// One trusted or blocked sender or domain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListUserTrustedBlockedSendersRow {
    /// `userPrincipalName` as sent (null when not sent).
    #[serde(rename = "UserPrincipalName")]
    pub user_principal_name: Option<String>,
    /// `UserID` as sent.
    #[serde(rename = "UserID")]
    pub user_id: String,
    /// `Trusted Sender/Domain` or `Blocked Sender/Domain`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The list it is on (`TrustedSendersAndDomains` or `BlockedSendersAndDomains`), as
    /// `RemoveTrustedBlockedSender` takes it.
    #[serde(rename = "TypeProperty")]
    pub type_property: String,
    /// The sender address or domain.
    #[serde(rename = "Value")]
    pub value: String,
}

impl Operation for ListUserTrustedBlockedSenders {
    type Params = Params;
    type Answer = Vec<ListUserTrustedBlockedSendersRow>;
    const NAME: &'static str = "ListUserTrustedBlockedSenders";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserTrustedBlockedSenders.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A mailbox whose junk-mail configuration cannot be read is a 500 with CIPP's failure text (CIPP: 200 with nothing). A missing `UserID`, or one that is neither an object id nor a user principal name, is a 400 naming it.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "UserID": crate::demo::USER,
            "userPrincipalName": crate::demo::USER,
        })
    }

    async fn run(
        ctx: Ctx,
        params: Params,
    ) -> Result<Outcome<Vec<ListUserTrustedBlockedSendersRow>>, UserError> {
        let tenant = ctx.tenant()?;
        let user_id = params.user_id.as_str();
        let config = ctx
            .graph
            .exchange(
                &tenant.customer_id,
                "Get-MailboxJunkEmailConfiguration",
                json!({"Identity": user_id}),
                Some(user_id),
            )
            .await
            .map_err(|e| {
                failed(
                    format!("Failed to retrieve junk email configuration for {user_id}"),
                    e,
                )
            })?;
        Ok(Outcome::json(rows(
            &config,
            user_id,
            params.user_principal_name.as_deref(),
        )))
    }
}

fn rows(
    config: &[Value],
    user_id: &str,
    user_principal_name: Option<&str>,
) -> Vec<ListUserTrustedBlockedSendersRow> {
    let mut rows = Vec::new();
    for entry in config {
        for (property, kind) in [
            ("TrustedSendersAndDomains", "Trusted Sender/Domain"),
            ("BlockedSendersAndDomains", "Blocked Sender/Domain"),
        ] {
            for value in entry
                .get(property)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(value) = value.as_str().filter(|v| !v.trim().is_empty()) else {
                    continue;
                };
                rows.push(ListUserTrustedBlockedSendersRow {
                    user_principal_name: user_principal_name.map(str::to_owned),
                    user_id: user_id.to_owned(),
                    kind: kind.to_owned(),
                    type_property: property.to_owned(),
                    value: value.to_owned(),
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_listed_sender_is_one_row_and_blank_entries_are_skipped() {
        let config = [json!({
            "TrustedSendersAndDomains": ["partner.example", " "],
            "BlockedSendersAndDomains": ["spam.example"],
        })];
        let rows = rows(&config, "a@b.example", None);
        assert_eq!(
            serde_json::to_value(&rows).unwrap(),
            json!([
                {"UserPrincipalName": null, "UserID": "a@b.example", "Type": "Trusted Sender/Domain",
                 "TypeProperty": "TrustedSendersAndDomains", "Value": "partner.example"},
                {"UserPrincipalName": null, "UserID": "a@b.example", "Type": "Blocked Sender/Domain",
                 "TypeProperty": "BlockedSendersAndDomains", "Value": "spam.example"},
            ])
        );
    }
}
