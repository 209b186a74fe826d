//! `ExecEmailForward` (CIPP-API `Invoke-ExecEmailForward.ps1` → `Set-CIPPForwarding.ps1`): sets
//! or clears a mailbox's forwarding with one Exchange `Set-Mailbox`. `Results` is an array of
//! strings, failures included.

use cipp_graph::GraphClient;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecEmailForward;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The mailbox whose forwarding is set: its user principal name or object id.
    #[serde(rename = "userID")]
    pub user_id: UserId,
    /// What to do: forward to a recipient of the organisation, to any SMTP address, or stop
    /// forwarding.
    #[serde(rename = "forwardOption")]
    pub forward_option: ExecEmailForwardOption,
    /// The recipient of the organisation (a user principal name or a contact's address) for
    /// `internalAddress`.
    #[serde(rename = "ForwardInternal")]
    pub forward_internal: Option<String>,
    /// The SMTP address for `ExternalAddress`.
    #[serde(rename = "ForwardExternal")]
    pub forward_external: Option<String>,
    /// Whether the mailbox keeps a copy of what it forwards. As CIPP's `KeepCopy -eq $true`:
    /// anything that is not true (absent, `"no"`) is false, never an error.
    #[serde(rename = "KeepCopy", default, deserialize_with = "lenient_keep_copy")]
    pub keep_copy: bool,
}

/// `forwardOption` as the frontend's radio buttons send it (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ExecEmailForwardOption {
    /// Forward to `ForwardInternal` (Exchange's `ForwardingAddress`).
    #[serde(rename = "internalAddress")]
    InternalAddress,
    /// Forward to `ForwardExternal` (Exchange's `ForwardingSmtpAddress`).
    #[serde(rename = "ExternalAddress")]
    ExternalAddress,
    /// Clear both, keep no copy.
    #[serde(rename = "disabled")]
    Disabled,
}

impl ExecEmailForwardOption {
    fn as_str(self) -> &'static str {
        match self {
            Self::InternalAddress => "internalAddress",
            Self::ExternalAddress => "ExternalAddress",
            Self::Disabled => "disabled",
        }
    }
}

fn lenient_keep_copy<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(keep_copy(Some(&value)))
}

impl Operation for ExecEmailForward {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecEmailForward";
    const TAG: &'static str = "Email-Exchange > Administration";
    const ROLE: Option<&'static str> = Some("Exchange.Mailbox.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecEmailForward.ps1",
        frontend: Some("src/components/CippFormPages/CippExchangeSettingsForm.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "`Results` is an array, as in CIPP, failures included. An unknown or missing `forwardOption`, or an option without its address, is a 400 naming the field (CIPP: 200 `{\"Results\": [null]}` and nothing changed); a missing `userID`, or one that is neither an object id nor a user principal name, is a 400 (CIPP: Exchange's error). CIPP reads the body only; the query is read too here.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userID": crate::demo::USER,
            "forwardOption": "ExternalAddress",
            "ForwardExternal": "kenji.private@elsewhere.example",
            "KeepCopy": true,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let forwarding = Forwarding::from_request(
            params.forward_option,
            params.forward_internal,
            params.forward_external,
        )?;
        let tenant = ctx.tenant()?;
        let lines = set_forwarding(
            &ctx.graph,
            &tenant.customer_id,
            &params.user_id,
            &forwarding,
            params.keep_copy,
        )
        .await
        .map_err(UserError::into_list)?;
        Ok(Outcome::json(TextListResults::new(lines)))
    }
}

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
    /// The option with the address it needs. CIPP answers an option without its address with
    /// `200 {"Results": [null]}` and changes nothing; that is a 400 naming the field here.
    pub fn from_request(
        option: ExecEmailForwardOption,
        internal: Option<String>,
        external: Option<String>,
    ) -> Result<Self, UserError> {
        let address = |value: Option<String>, field: &'static str| {
            value
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    UserError::invalid(
                        field,
                        format!("{field} is required for forwardOption {}", option.as_str()),
                    )
                })
        };
        Ok(match option {
            ExecEmailForwardOption::InternalAddress => {
                Self::Internal(address(internal, "ForwardInternal")?)
            }
            ExecEmailForwardOption::ExternalAddress => {
                Self::External(address(external, "ForwardExternal")?)
            }
            ExecEmailForwardOption::Disabled => Self::Disabled,
        })
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

/// Sets forwarding for `user` (UPN or object id; the anchor mailbox is resolved from it).
/// Returns CIPP's `Results` lines: one line, or two when disabling (CIPP's helper writes a
/// progress line before its result).
pub async fn set_forwarding(
    graph: &GraphClient,
    tenant_id: &str,
    user: &UserId,
    forwarding: &Forwarding,
    keep_copy: bool,
) -> Result<Vec<String>, UserError> {
    let user_id = user.as_str();
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
    use crate::op::params::{ParamsSchema, RawParams, deserialize};

    fn read(body: Value) -> Result<Params, UserError> {
        let raw = RawParams::new("", body.to_string().as_bytes())?;
        deserialize(ParamsSchema::of::<Params>().prepare(&raw))
    }

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
    fn keep_copy_never_refuses_a_request() {
        let user = "a@b.example";
        for (sent, kept) in [
            (json!("no"), false),
            (json!("1"), false),
            (json!("True"), true),
            (json!(true), true),
            (json!(null), false),
        ] {
            let params =
                read(json!({"userID": user, "forwardOption": "disabled", "KeepCopy": sent}))
                    .unwrap();
            assert_eq!(params.keep_copy, kept, "{sent}");
        }
    }

    #[test]
    fn the_forward_option_ignores_case_and_needs_its_address() {
        let params = read(json!({"userid": "a@b.example", "ForwardOption": "INTERNALADDRESS",
                                 "ForwardInternal": {"label": "B", "value": "b@b.example"}}))
        .unwrap();
        assert_eq!(
            params.forward_option,
            ExecEmailForwardOption::InternalAddress
        );
        assert_eq!(
            Forwarding::from_request(params.forward_option, params.forward_internal, None)
                .unwrap(),
            Forwarding::Internal("b@b.example".into())
        );
        assert_eq!(
            read(json!({"userID": "a@b.example", "forwardOption": "Disabled"}))
                .unwrap()
                .forward_option,
            ExecEmailForwardOption::Disabled
        );
        let missing = Forwarding::from_request(
            ExecEmailForwardOption::ExternalAddress,
            None,
            Some(" ".into()),
        )
        .unwrap_err();
        assert!(matches!(
            missing,
            UserError::InvalidInput { ref field, .. } if field == "ForwardExternal"
        ));
        let unknown =
            read(json!({"userID": "a@b.example", "forwardOption": "sideways"})).unwrap_err();
        assert!(matches!(
            unknown,
            UserError::InvalidInput { ref field, .. } if field == "forwardOption"
        ));
    }
}
