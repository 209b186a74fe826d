//! Changing a mailbox's type (CIPP-API `Set-CIPPMailboxType.ps1`), shared by `ExecConvertMailbox`
//! and its legacy name `ExecConverttoSharedMailbox`: one Exchange `Set-Mailbox -Type`.
//!
//! CIPP appends a size warning for a conversion to Shared when its reporting cache holds the
//! mailbox at 49 GiB or more; there is no reporting cache here, so the answer is always the one
//! CIPP gives when the cache has no row for the mailbox.

use cipp_graph::GraphClient;
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::UserId;

/// The types CIPP's `ValidateSet` allows (case-insensitive).
pub const MAILBOX_TYPES: [&str; 4] = ["Shared", "Regular", "Room", "Equipment"];

/// A mailbox type, checked against [`MAILBOX_TYPES`] in any case and kept as sent: CIPP passes
/// it on and echoes it unchanged ("… to a shared mailbox"). That is why it is documented as text
/// rather than as an enum, which the parameter layer would rewrite to the canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct MailboxType(String);

impl MailboxType {
    /// CIPP's legacy alias converts to this.
    pub fn shared() -> Self {
        Self("Shared".to_owned())
    }

    /// The legacy alias with `ConvertToUser=true` converts to this.
    pub fn regular() -> Self {
        Self("Regular".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MailboxType {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let value = value.trim();
        if MAILBOX_TYPES.iter().any(|t| t.eq_ignore_ascii_case(value)) {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "expected Shared, Regular, Room or Equipment, got '{}'",
                value.chars().take(80).collect::<String>()
            ))
        }
    }
}

impl PartialSchema for MailboxType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(
                "`Shared`, `Regular`, `Room` or `Equipment`, in any case (the answer echoes it as sent).",
            ))
            .examples(["Shared"])
            .into()
    }
}

impl ToSchema for MailboxType {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ExecConvertMailboxType")
    }
}

/// Converts the mailbox of `id` (UPN or object id) to `mailbox_type`, echoed as sent.
pub async fn convert_mailbox(
    graph: &GraphClient,
    tenant_id: &str,
    id: &UserId,
    mailbox_type: &MailboxType,
) -> Result<String, UserError> {
    let id = id.as_str();
    let mailbox_type = mailbox_type.as_str();
    graph
        .exchange(
            tenant_id,
            "Set-Mailbox",
            json!({"Identity": id, "Type": mailbox_type}),
            Some(id),
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to convert {id} to a {mailbox_type} mailbox. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    let message = format!("Successfully converted {id} to a {mailbox_type} mailbox");
    tracing::info!(tenant = tenant_id, user = id, "{message}");
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_type_is_checked_in_any_case_and_kept_as_sent() {
        assert_eq!(
            MailboxType::try_from(" shared ".to_owned())
                .unwrap()
                .as_str(),
            "shared"
        );
        assert!(MailboxType::try_from("Kiosk".to_owned()).is_err());
    }
}
