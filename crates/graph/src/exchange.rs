//! Exchange Online admin REST: `POST {exchange}/adminapi/beta/{tenant}/InvokeCommand`, the
//! transport of the ExchangeOnlineManagement module, as CIPP's `New-ExoRequest` uses it.

use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use crate::client::{Call, GraphClient, decode_body};
use crate::error::GraphError;
use crate::paging::resolve_next_link;
use crate::settings::GraphVersion;

/// Scope of Exchange Online tokens.
pub const EXCHANGE_SCOPE: &str = "https://outlook.office365.com/.default";

/// The system mailbox Exchange routes tenant-wide cmdlets through.
const SYSTEM_MAILBOX: &str = "bb558c35-97f1-4cb9-8ff7-d53741dc928c";
/// The one `Set-AdminAuditLogConfig` needs.
const AUDIT_SYSTEM_MAILBOX: &str = "8cc370d3-822a-4ab8-a926-bb94bd0641a9";

/// What a cmdlet returned: its objects, and the warnings Exchange attached.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExchangeOutput {
    /// `value` of every page, concatenated. When a page had no `value` at all, its warnings
    /// stand in for it (as strings), as CIPP does.
    pub value: Vec<Value>,
    /// `@adminapi.warnings` of every page.
    pub warnings: Vec<String>,
}

impl GraphClient {
    /// Runs an Exchange cmdlet for the tenant and returns its output objects (`.value`).
    ///
    /// - Token: Exchange scope, in this client's mode (delegated in partner mode).
    /// - `X-AnchorMailbox`: `anchor` when given; a GUID anchor is first resolved to the user's
    ///   UPN through Graph (`beta/users/{guid}?$select=UserPrincipalName,id`, the GUID itself
    ///   when Graph does not know it); without one, the tenant's system mailbox
    ///   `APP:SystemMailbox{bb558c35-…}@{tenant_id}`.
    /// - Pages: the same body is re-posted to `@odata.nextLink` (only on the Exchange origin).
    /// - Errors: [`GraphError::Exchange`] with Exchange's nested message; throttling, limits and
    ///   timeouts as for Graph calls.
    pub async fn exchange(
        &self,
        tenant_id: &str,
        cmdlet: &str,
        parameters: Value,
        anchor: Option<&str>,
    ) -> Result<Vec<Value>, GraphError> {
        Ok(self
            .exchange_output(tenant_id, cmdlet, parameters, anchor)
            .await?
            .value)
    }

    /// Like [`GraphClient::exchange`], keeping `@adminapi.warnings`.
    pub async fn exchange_output(
        &self,
        tenant_id: &str,
        cmdlet: &str,
        parameters: Value,
        anchor: Option<&str>,
    ) -> Result<ExchangeOutput, GraphError> {
        let tenant = tenant_id.trim();
        let anchor = self.exchange_anchor(tenant, cmdlet, anchor).await?;
        let parameters = match parameters {
            Value::Null => json!({}),
            other => other,
        };
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}});
        let base = self.exchange_base_url().clone();
        let mut url = invoke_command_url(&base, tenant)?;
        let headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Prefer", "odata.maxpagesize=1000"),
            ("X-AnchorMailbox", anchor.as_str()),
            ("X-CmdletName", cmdlet),
        ];
        let mut out = ExchangeOutput::default();
        loop {
            let reply = self
                .execute_call(Call {
                    tenant,
                    method: Method::POST,
                    url: url.clone(),
                    body: Some(&body),
                    raw_body: None,
                    headers: &headers,
                    scope: EXCHANGE_SCOPE,
                    service: "exchange",
                })
                .await
                .map_err(into_exchange_error)?;
            let page = decode_body(&reply)?.unwrap_or(Value::Null);
            let warnings: Vec<String> = page
                .get("@adminapi.warnings")
                .and_then(Value::as_array)
                .map(|w| {
                    w.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            match page.get("value") {
                Some(Value::Array(items)) => out.value.extend(items.iter().cloned()),
                Some(Value::Null) | None => {
                    out.value
                        .extend(warnings.iter().map(|w| Value::String(w.clone())));
                }
                Some(other) => out.value.push(other.clone()),
            }
            out.warnings.extend(warnings);
            let Some(link) = page.get("@odata.nextLink").and_then(Value::as_str) else {
                break;
            };
            let next = resolve_next_link(&base, link)?;
            if next == url {
                return Err(GraphError::Decode {
                    message: format!("@odata.nextLink repeats the current page: {link}"),
                });
            }
            url = next;
        }
        Ok(out)
    }

    /// The `X-AnchorMailbox` value for a call.
    async fn exchange_anchor(
        &self,
        tenant: &str,
        cmdlet: &str,
        anchor: Option<&str>,
    ) -> Result<String, GraphError> {
        let Some(anchor) = anchor.map(str::trim).filter(|a| !a.is_empty()) else {
            let mailbox = if cmdlet.eq_ignore_ascii_case("Set-AdminAuditLogConfig") {
                AUDIT_SYSTEM_MAILBOX
            } else {
                SYSTEM_MAILBOX
            };
            return Ok(format!("APP:SystemMailbox{{{mailbox}}}@{tenant}"));
        };
        if uuid::Uuid::try_parse(anchor).is_err() || anchor.len() != 36 {
            return Ok(anchor.to_owned());
        }
        let path = format!("users/{anchor}?$select=UserPrincipalName,id");
        match self.get(tenant, GraphVersion::Beta, &path, &[]).await {
            Ok(user) => {
                let upn = user
                    .get("userPrincipalName")
                    .or_else(|| user.get("UserPrincipalName"))
                    .and_then(Value::as_str)
                    .filter(|u| !u.is_empty());
                match upn {
                    Some(upn) => Ok(upn.to_owned()),
                    None => Ok(anchor.to_owned()),
                }
            }
            // Graph does not know the id (or will not say): the GUID itself, as CIPP does.
            Err(GraphError::Api { status, .. }) if matches!(status, 400 | 403 | 404) => {
                tracing::warn!(
                    tenant,
                    anchor,
                    status,
                    "anchor GUID not resolved to a UPN; using it as is"
                );
                Ok(anchor.to_owned())
            }
            Err(e) => Err(e),
        }
    }
}

/// `{base}/adminapi/beta/{tenant}/InvokeCommand`, the tenant as one escaped path segment.
fn invoke_command_url(base: &Url, tenant: &str) -> Result<Url, GraphError> {
    if tenant.is_empty() {
        return Err(GraphError::Config {
            setting: "tenant_id",
            message: "an Exchange call needs a tenant".to_owned(),
        });
    }
    let mut url = base.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| GraphError::Config {
            setting: "exchange_base_url",
            message: "cannot carry a path".to_owned(),
        })?
        .pop_if_empty()
        .extend(["adminapi", "beta", tenant, "InvokeCommand"]);
    Ok(url)
}

/// Graph-shaped errors from Exchange become [`GraphError::Exchange`] with Exchange's text.
fn into_exchange_error(err: GraphError) -> GraphError {
    match err {
        GraphError::Api {
            status, raw_body, ..
        } => GraphError::Exchange {
            status,
            message: exchange_error_message(status, &raw_body),
            raw_body,
        },
        other => other,
    }
}

/// Exchange's error text in CIPP's order: `error.details[].message`, then
/// `error.innererror.internalexception.message`, then `error.message` (field names matched
/// case-insensitively); the body itself, or the status, when none is there.
pub(crate) fn exchange_error_message(status: u16, body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(|v| get_ci(v, "error"));
    let from_details = error.and_then(|e| get_ci(e, "details")).and_then(|d| {
        let messages: Vec<&str> = match d {
            Value::Array(items) => items
                .iter()
                .filter_map(|i| get_ci(i, "message").and_then(Value::as_str))
                .filter(|m| !m.trim().is_empty())
                .collect(),
            other => get_ci(other, "message")
                .and_then(Value::as_str)
                .filter(|m| !m.trim().is_empty())
                .into_iter()
                .collect(),
        };
        (!messages.is_empty()).then(|| messages.join(" "))
    });
    let from_inner = || {
        error
            .and_then(|e| get_ci(e, "innererror"))
            .and_then(|i| get_ci(i, "internalexception"))
            .and_then(|x| get_ci(x, "message"))
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
            .map(str::to_owned)
    };
    let from_message = || {
        error
            .and_then(|e| get_ci(e, "message"))
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
            .map(str::to_owned)
    };
    from_details
        .or_else(from_inner)
        .or_else(from_message)
        .unwrap_or_else(|| {
            let text = body.trim();
            if text.is_empty() {
                format!("Exchange answered HTTP {status}")
            } else {
                text.to_owned()
            }
        })
}

fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn detail_messages_win_over_the_inner_exception_and_the_top_message() {
        let body = r#"{"error":{"code":"NotFound","message":"Error executing cmdlet",
            "details":[{"code":"Context","target":"","message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'adele@contoso.com' couldn't be found."}],
            "innererror":{"message":"inner","type":"T","internalexception":{"message":"internal","type":"U"}}}}"#;
        assert!(exchange_error_message(404, body).starts_with("Ex6F9304|Microsoft.Exchange"));
    }

    #[test]
    fn the_inner_exception_comes_next_whatever_its_case() {
        let body = r#"{"error":{"message":"Error executing cmdlet","innerError":{"InternalException":{"Message":"internal text"}}}}"#;
        assert_eq!(exchange_error_message(500, body), "internal text");
    }

    #[test]
    fn then_the_top_message_then_the_body_then_the_status() {
        let body = r#"{"error":{"code":"X","message":"Error executing cmdlet","details":[]}}"#;
        assert_eq!(exchange_error_message(400, body), "Error executing cmdlet");
        assert_eq!(exchange_error_message(502, "gateway down"), "gateway down");
        assert_eq!(
            exchange_error_message(401, ""),
            "Exchange answered HTTP 401"
        );
    }

    #[test]
    fn the_invoke_command_url_escapes_the_tenant_and_keeps_a_base_path() {
        let base = Url::parse("https://127.0.0.1:8443/exo/").unwrap();
        let url = invoke_command_url(&base, "contoso.onmicrosoft.com").unwrap();
        assert_eq!(
            url.as_str(),
            "https://127.0.0.1:8443/exo/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand"
        );
        let odd = invoke_command_url(&base, "a/b").unwrap();
        assert!(odd.as_str().contains("/beta/a%2Fb/InvokeCommand"));
    }
}
