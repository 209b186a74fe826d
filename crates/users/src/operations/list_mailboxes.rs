//! `ListMailboxes` (CIPP-API `Invoke-ListMailboxes.ps1`): the tenant's mailboxes from Exchange
//! `Get-Mailbox`, each cut to the fields CIPP answers (the mailbox pickers read `UPN` and
//! `displayName`; the mailbox list reads the rest). `Get-Mailbox`'s own filters pass through.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{ErrorKind, UserError};

pub struct ListMailboxes;

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// The plans that carry a litigation hold (CIPP's list).
const LITIGATION_HOLD_CAPABILITIES: [&str; 5] = [
    "EXCHANGE_S_ARCHIVE_ADDON",
    "BPOS_S_ArchiveAddOn",
    "EXCHANGE_S_ENTERPRISE",
    "BPOS_S_DlpAddOn",
    "BPOS_S_Enterprise",
];

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// `Get-Mailbox -Anr`: ambiguous name resolution.
    #[serde(rename = "Anr")]
    pub anr: Option<String>,
    /// `Get-Mailbox -Archive`: only mailboxes with an archive.
    #[serde(rename = "Archive", default)]
    pub archive: bool,
    /// `Get-Mailbox -Filter`: an OPATH filter.
    #[serde(rename = "Filter")]
    pub filter: Option<String>,
    /// `Get-Mailbox -GroupMailbox`.
    #[serde(rename = "GroupMailbox", default)]
    pub group_mailbox: bool,
    /// `Get-Mailbox -PublicFolder`.
    #[serde(rename = "PublicFolder", default)]
    pub public_folder: bool,
    /// `Get-Mailbox -RecipientTypeDetails` (`SharedMailbox`, `UserMailbox`, `RoomMailbox`, …).
    #[serde(rename = "RecipientTypeDetails")]
    pub recipient_type_details: Option<String>,
    /// `Get-Mailbox -SoftDeletedMailbox`.
    #[serde(rename = "SoftDeletedMailbox", default)]
    pub soft_deleted_mailbox: bool,
    /// `Get-Mailbox -Identity`: one mailbox.
    #[serde(rename = "Identity")]
    pub identity: Option<String>,
    /// Accepted: there is no report database here, so mailboxes are always read live.
    #[serde(rename = "UseReportDB", default)]
    pub use_report_db: bool,
}

/// One mailbox as CIPP answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailboxRow {
    #[schema(value_type = Option<String>)]
    pub id: Value,
    #[serde(rename = "ExchangeGuid")]
    #[schema(value_type = Option<String>)]
    pub exchange_guid: Value,
    #[serde(rename = "ArchiveGuid")]
    #[schema(value_type = Option<String>)]
    pub archive_guid: Value,
    #[serde(rename = "WhenSoftDeleted")]
    #[schema(value_type = Option<String>)]
    pub when_soft_deleted: Value,
    #[serde(rename = "UPN")]
    #[schema(value_type = Option<String>)]
    pub upn: Value,
    #[serde(rename = "displayName")]
    #[schema(value_type = Option<String>)]
    pub display_name: Value,
    #[serde(rename = "primarySmtpAddress")]
    #[schema(value_type = Option<String>)]
    pub primary_smtp_address: Value,
    /// Whether the mailbox has an archive.
    #[serde(rename = "ArchiveEnabled")]
    pub archive_enabled: bool,
    #[serde(rename = "recipientType")]
    #[schema(value_type = Option<String>)]
    pub recipient_type: Value,
    #[serde(rename = "recipientTypeDetails")]
    #[schema(value_type = Option<String>)]
    pub recipient_type_details: Value,
    /// The secondary SMTP addresses, `, `-separated (null when there are none).
    #[serde(rename = "AdditionalEmailAddresses")]
    pub additional_email_addresses: Option<String>,
    /// Without its `smtp:` prefix; empty when not forwarding externally.
    #[serde(rename = "ForwardingSmtpAddress")]
    pub forwarding_smtp_address: String,
    /// `ForwardingAddress`: the internal recipient mail is forwarded to.
    #[serde(rename = "InternalForwardingAddress")]
    #[schema(value_type = Option<String>)]
    pub internal_forwarding_address: Value,
    #[serde(rename = "DeliverToMailboxAndForward")]
    #[schema(value_type = Option<bool>)]
    pub deliver_to_mailbox_and_forward: Value,
    #[serde(rename = "HiddenFromAddressListsEnabled")]
    #[schema(value_type = Option<bool>)]
    pub hidden_from_address_lists_enabled: Value,
    #[serde(rename = "ExternalDirectoryObjectId")]
    #[schema(value_type = Option<String>)]
    pub external_directory_object_id: Value,
    #[serde(rename = "IsDirSynced")]
    #[schema(value_type = Option<bool>)]
    pub is_dir_synced: Value,
    #[serde(rename = "MessageCopyForSendOnBehalfEnabled")]
    #[schema(value_type = Option<bool>)]
    pub message_copy_for_send_on_behalf_enabled: Value,
    #[serde(rename = "MessageCopyForSentAsEnabled")]
    #[schema(value_type = Option<bool>)]
    pub message_copy_for_sent_as_enabled: Value,
    #[serde(rename = "LitigationHoldEnabled")]
    #[schema(value_type = Option<bool>)]
    pub litigation_hold_enabled: Value,
    #[serde(rename = "LitigationHoldDate")]
    #[schema(value_type = Option<String>)]
    pub litigation_hold_date: Value,
    #[serde(rename = "LitigationHoldDuration")]
    #[schema(value_type = Option<String>)]
    pub litigation_hold_duration: Value,
    /// Whether the mailbox's plan carries a litigation hold.
    #[serde(rename = "LicensedForLitigationHold")]
    pub licensed_for_litigation_hold: bool,
    #[serde(rename = "ComplianceTagHoldApplied")]
    #[schema(value_type = Option<bool>)]
    pub compliance_tag_hold_applied: Value,
    #[serde(rename = "RetentionHoldEnabled")]
    #[schema(value_type = Option<bool>)]
    pub retention_hold_enabled: Value,
    #[serde(rename = "InPlaceHolds")]
    #[schema(value_type = Option<Vec<String>>)]
    pub in_place_holds: Value,
    #[serde(rename = "RetentionPolicy")]
    #[schema(value_type = Option<String>)]
    pub retention_policy: Value,
}

/// A property of an Exchange object, by name without regard to case (as PowerShell reads it).
fn field<'a>(row: &'a Map<String, Value>, name: &str) -> &'a Value {
    row.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map_or(&Value::Null, |(_, v)| v)
}

fn texts(value: &Value) -> Vec<&str> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => vec![s.as_str()],
        _ => Vec::new(),
    }
}

/// Strips every `smtp:` (any case), as PowerShell's `-replace 'smtp:', ''` does.
fn without_smtp(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(at) = lower[rest..].find("smtp:") {
        out.push_str(&text[rest..rest + at]);
        rest += at + 5;
    }
    out.push_str(&text[rest..]);
    out
}

fn row_of(row: &Map<String, Value>) -> MailboxRow {
    let get = |name: &str| field(row, name).clone();
    let archive_guid = field(row, "ArchiveGuid");
    let archive_enabled = archive_guid
        .as_str()
        .is_some_and(|g| !g.is_empty() && !g.eq_ignore_ascii_case(ZERO_GUID));
    // `-clike 'smtp:*'`: the secondary addresses only (the primary is `SMTP:`).
    let secondary: Vec<&str> = texts(field(row, "EmailAddresses"))
        .into_iter()
        .filter_map(|a| a.strip_prefix("smtp:"))
        .collect();
    let capabilities = texts(field(row, "PersistedCapabilities"));
    MailboxRow {
        id: get("id"),
        exchange_guid: get("ExchangeGuid"),
        archive_guid: archive_guid.clone(),
        when_soft_deleted: get("WhenSoftDeleted"),
        upn: get("UserPrincipalName"),
        display_name: get("DisplayName"),
        primary_smtp_address: get("PrimarySMTPAddress"),
        archive_enabled,
        recipient_type: get("RecipientType"),
        recipient_type_details: get("RecipientTypeDetails"),
        additional_email_addresses: (!secondary.is_empty()).then(|| secondary.join(", ")),
        forwarding_smtp_address: field(row, "ForwardingSmtpAddress")
            .as_str()
            .map(without_smtp)
            .unwrap_or_default(),
        internal_forwarding_address: get("ForwardingAddress"),
        deliver_to_mailbox_and_forward: get("DeliverToMailboxAndForward"),
        hidden_from_address_lists_enabled: get("HiddenFromAddressListsEnabled"),
        external_directory_object_id: get("ExternalDirectoryObjectId"),
        is_dir_synced: get("IsDirSynced"),
        message_copy_for_send_on_behalf_enabled: get("MessageCopyForSendOnBehalfEnabled"),
        message_copy_for_sent_as_enabled: get("MessageCopyForSentAsEnabled"),
        litigation_hold_enabled: get("LitigationHoldEnabled"),
        litigation_hold_date: get("LitigationHoldDate"),
        litigation_hold_duration: get("LitigationHoldDuration"),
        licensed_for_litigation_hold: capabilities.iter().any(|c| {
            LITIGATION_HOLD_CAPABILITIES
                .iter()
                .any(|l| l.eq_ignore_ascii_case(c))
        }),
        compliance_tag_hold_applied: get("ComplianceTagHoldApplied"),
        retention_hold_enabled: get("RetentionHoldEnabled"),
        in_place_holds: get("InPlaceHolds"),
        retention_policy: get("RetentionPolicy"),
    }
}

impl Params {
    /// `Get-Mailbox`'s parameters: the texts given, the switches that are on.
    fn cmdlet_parameters(&self) -> Value {
        let mut p = Map::new();
        for (name, value) in [
            ("Anr", &self.anr),
            ("Filter", &self.filter),
            ("RecipientTypeDetails", &self.recipient_type_details),
            ("Identity", &self.identity),
        ] {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                p.insert(name.to_owned(), json!(v));
            }
        }
        for (name, on) in [
            ("Archive", self.archive),
            ("GroupMailbox", self.group_mailbox),
            ("PublicFolder", self.public_folder),
            ("SoftDeletedMailbox", self.soft_deleted_mailbox),
        ] {
            if on {
                p.insert(name.to_owned(), json!(true));
            }
        }
        if !p.contains_key("Identity") {
            p.insert("ResultSize".to_owned(), json!("Unlimited"));
        }
        Value::Object(p)
    }
}

impl Operation for ListMailboxes {
    type Params = Params;
    type Answer = Vec<MailboxRow>;
    const NAME: &'static str = "ListMailboxes";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListMailboxes.ps1",
        frontend: Some("src/components/CippFormPages/CippAddEditUser.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Every mailbox is read (`-ResultSize Unlimited`; CIPP stops at Exchange's default of 1000). `UseReportDB` is accepted and mailboxes are read live (there is no report database). Switches that are not `true`/`false` are a 400 naming them (CIPP reads them as false). One tenant only (CIPP answers `AllTenants` from its report database).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "RecipientTypeDetails": "UserMailbox"})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<MailboxRow>>, UserError> {
        let tenant = ctx.tenant()?;
        let rows = ctx
            .graph
            .exchange(
                &tenant.customer_id,
                "Get-Mailbox",
                params.cmdlet_parameters(),
                None,
            )
            .await
            .map_err(|error| {
                // CIPP answers any failure here with 403 and the normalised message.
                let message = normalize_graph_error(&error);
                tracing::info!(detail = ?error, "Get-Mailbox failed");
                UserError::Answered {
                    kind: ErrorKind::Forbidden,
                    results: json!([message]),
                    message,
                }
            })?;
        let answer = rows
            .iter()
            .filter_map(Value::as_object)
            .map(row_of)
            .collect();
        Ok(Outcome::json(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_row_is_cut_as_cipp_cuts_it() {
        let row = json!({
            "Id": "kenji", "UserPrincipalName": "kenji@x.example", "DisplayName": "Kenji",
            "PrimarySmtpAddress": "kenji@x.example",
            "EmailAddresses": ["SMTP:kenji@x.example", "smtp:k@x.example", "smtp:kr@x.example", "SIP:kenji@x.example"],
            "ArchiveGuid": ZERO_GUID, "ForwardingSmtpAddress": "SMTP:out@y.example",
            "PersistedCapabilities": ["BPOS_S_ENTERPRISE"],
        });
        let cut = row_of(row.as_object().unwrap());
        assert_eq!(cut.id, json!("kenji"));
        assert_eq!(cut.upn, json!("kenji@x.example"));
        assert!(!cut.archive_enabled);
        assert_eq!(
            cut.additional_email_addresses.as_deref(),
            Some("k@x.example, kr@x.example")
        );
        assert_eq!(cut.forwarding_smtp_address, "out@y.example");
        assert!(cut.licensed_for_litigation_hold);
        let bare = row_of(json!({"ArchiveGuid": "6d1e1a2b-0000-4000-8000-000000000001"}).as_object().unwrap());
        assert!(bare.archive_enabled);
        assert_eq!(bare.additional_email_addresses, None);
        assert_eq!(bare.forwarding_smtp_address, "");
        assert!(!bare.licensed_for_litigation_hold);
    }
}
