//! `RemoveTrustedBlockedSender` (CIPP-API `Invoke-RemoveTrustedBlockedSender.ps1` →
//! `Remove-CIPPTrustedBlockedSender.ps1`): removes one entry from a mailbox's junk-mail lists with
//! one Exchange `Set-MailboxJunkEmailConfiguration`.

use cipp_graph::GraphClient;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct RemoveTrustedBlockedSender;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox: its user principal name (or object id).
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: UserId,
    /// The junk-mail list the entry is removed from (`TypeProperty` of
    /// `ListUserTrustedBlockedSenders`).
    #[serde(rename = "typeProperty")]
    pub type_property: RemoveTrustedBlockedSenderList,
    /// The sender address or domain to remove.
    #[serde(rename = "value")]
    pub value: String,
}

/// The list properties of `Set-MailboxJunkEmailConfiguration` (any case). CIPP sends whatever
/// name it is given (Exchange then refuses an unknown one with a 500); another name is a 400 here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum RemoveTrustedBlockedSenderList {
    TrustedSendersAndDomains,
    BlockedSendersAndDomains,
    TrustedRecipientsAndDomains,
}

impl RemoveTrustedBlockedSenderList {
    fn as_str(self) -> &'static str {
        match self {
            Self::TrustedSendersAndDomains => "TrustedSendersAndDomains",
            Self::BlockedSendersAndDomains => "BlockedSendersAndDomains",
            Self::TrustedRecipientsAndDomains => "TrustedRecipientsAndDomains",
        }
    }
}

impl Operation for RemoveTrustedBlockedSender {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "RemoveTrustedBlockedSender";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-RemoveTrustedBlockedSender.ps1",
        frontend: Some("src/pages/identity/administration/users/user/exchange.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `userPrincipalName` (or one that is neither a user principal name nor an object id), `typeProperty` or `value`, or a `typeProperty` that is not a junk-mail list, is a 400 naming the field (CIPP: Exchange's error as a 500). CIPP reads the body only; the query is read too here.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userPrincipalName": crate::demo::USER,
            "typeProperty": "BlockedSendersAndDomains",
            "value": "spam.example",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = remove_trusted_blocked_sender(
            &ctx.graph,
            &tenant.customer_id,
            &params.user_principal_name,
            params.type_property,
            &params.value,
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// Removes `value` from the list `list` of the mailbox `user_principal_name`.
pub async fn remove_trusted_blocked_sender(
    graph: &GraphClient,
    tenant_id: &str,
    user_principal_name: &UserId,
    list: RemoveTrustedBlockedSenderList,
    value: &str,
) -> Result<String, UserError> {
    let upn = user_principal_name.as_str();
    let list = list.as_str();
    let mut params = Map::new();
    params.insert("Identity".into(), json!(upn));
    // A hashtable edit removes the one entry and keeps the rest of the list.
    params.insert(
        list.into(),
        json!({"@odata.type": "#Exchange.GenericHashTable", "Remove": value}),
    );
    graph
        .exchange(
            tenant_id,
            "Set-MailboxJunkEmailConfiguration",
            Value::Object(params),
            Some(upn),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to remove junk email configuration entry for {upn}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!("Successfully removed '{value}' from {list} for {upn}");
    tracing::info!(tenant = tenant_id, user = upn, "{message}");
    Ok(message)
}
