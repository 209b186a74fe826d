//! `ExecEmailForward` (CIPP-API `Invoke-ExecEmailForward.ps1` → `Set-CIPPForwarding.ps1`): sets
//! or clears a mailbox's forwarding with one Exchange `Set-Mailbox`.

use cipp_graph::GraphClient;
use serde_json::{Value, json};

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// What `forwardOption` asks for, with the address it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forwarding {
    /// `internalAddress`: another recipient of the organisation (`ForwardingAddress`).
    Internal(String),
    /// `ExternalAddress`: any SMTP address (`ForwardingSmtpAddress`).
    External(String),
    /// `disabled`: both cleared, no copy kept.
    Disabled,
}

impl Forwarding {
    /// Reads `forwardOption` (any case) and the address it needs. CIPP answers an unknown option,
    /// or a missing address, with `200 {"Results": [null]}` and changes nothing; these are 400s
    /// naming the field here.
    pub fn from_request(
        option: Option<&str>,
        internal: Option<String>,
        external: Option<String>,
    ) -> Result<Self, UserError> {
        let option = option.map(str::trim).unwrap_or_default();
        let address = |value: Option<String>, field: &'static str| {
            value
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    UserError::invalid(
                        field,
                        format!("{field} is required for forwardOption {option}"),
                    )
                })
        };
        if option.eq_ignore_ascii_case("internalAddress") {
            Ok(Self::Internal(address(internal, "ForwardInternal")?))
        } else if option.eq_ignore_ascii_case("ExternalAddress") {
            Ok(Self::External(address(external, "ForwardExternal")?))
        } else if option.eq_ignore_ascii_case("disabled") {
            Ok(Self::Disabled)
        } else if option.is_empty() {
            Err(UserError::missing("forwardOption"))
        } else {
            Err(UserError::invalid(
                "forwardOption",
                format!(
                    "forwardOption must be internalAddress, ExternalAddress or disabled, got '{option}'"
                ),
            ))
        }
    }
}

/// CIPP's `KeepCopy -eq $true`: JSON `true`, the number 1, or the string "true" in any case.
/// Anything else, absent included, is false (never an error, as in CIPP).
pub fn keep_copy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() == Some(1.0),
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Sets forwarding for `user_id` (UPN or object id; the anchor mailbox is resolved from it).
/// Returns CIPP's `Results` lines: one line, or two when disabling (CIPP's helper writes a
/// progress line before its result).
pub async fn set_forwarding(
    graph: &GraphClient,
    tenant_id: &str,
    user_id: &str,
    forwarding: &Forwarding,
    keep_copy: bool,
) -> Result<Vec<String>, UserError> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err(UserError::missing("userID"));
    }
    let keep = if keep_copy { "True" } else { "False" };
    let (params, message) = match forwarding {
        Forwarding::Internal(address) => (
            json!({"Identity": user_id, "ForwardingSMTPAddress": null, "ForwardingAddress": address, "DeliverToMailboxAndForward": keep_copy}),
            format!(
                "Successfully set forwarding for {user_id} to Internal Address {address} with keeping a copy set to {keep}"
            ),
        ),
        Forwarding::External(smtp) => (
            json!({"Identity": user_id, "ForwardingSMTPAddress": smtp, "ForwardingAddress": null, "DeliverToMailboxAndForward": keep_copy}),
            format!(
                "Successfully set forwarding for {user_id} to External Address {smtp} with keeping a copy set to {keep}"
            ),
        ),
        Forwarding::Disabled => (
            json!({"Identity": user_id, "ForwardingSMTPAddress": null, "ForwardingAddress": null, "DeliverToMailboxAndForward": false}),
            format!("Successfully disabled forwarding for {user_id}"),
        ),
    };
    graph
        .exchange(tenant_id, "Set-Mailbox", params, Some(user_id))
        .await
        .map_err(|e| UserError::Failed {
            message: format!(
                "Failed to set forwarding for {user_id}. Error: {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        })?;
    tracing::info!(tenant = tenant_id, user = user_id, "{message}");
    Ok(match forwarding {
        Forwarding::Disabled => vec![format!("Disabling forwarding for {user_id}"), message],
        _ => vec![message],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_copy_is_true_only_for_what_equals_true_in_powershell() {
        for yes in [json!(true), json!(1), json!("TRUE"), json!("true")] {
            assert!(keep_copy(Some(&yes)), "{yes}");
        }
        for no in [
            json!(false),
            json!(0),
            json!(2),
            json!("1"),
            json!("yes"),
            json!({}),
        ] {
            assert!(!keep_copy(Some(&no)), "{no}");
        }
        assert!(!keep_copy(None));
    }

    #[test]
    fn the_forward_option_ignores_case_and_needs_its_address() {
        assert_eq!(
            Forwarding::from_request(Some("INTERNALADDRESS"), Some("a@b.example".into()), None)
                .unwrap(),
            Forwarding::Internal("a@b.example".into())
        );
        assert_eq!(
            Forwarding::from_request(Some("Disabled"), None, None).unwrap(),
            Forwarding::Disabled
        );
        let missing =
            Forwarding::from_request(Some("externalAddress"), None, Some(" ".into())).unwrap_err();
        assert!(matches!(
            missing,
            UserError::InvalidInput { ref field, .. } if field == "ForwardExternal"
        ));
        let unknown = Forwarding::from_request(Some("sideways"), None, None).unwrap_err();
        assert!(matches!(
            unknown,
            UserError::InvalidInput { ref field, .. } if field == "forwardOption"
        ));
    }
}
