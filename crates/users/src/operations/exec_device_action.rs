//! `ExecDeviceAction` (CIPP-API `Invoke-ExecDeviceAction.ps1` → `New-CIPPDeviceAction`): an
//! Intune action on a managed device (beta): `POST deviceManagement/managedDevices('{id}')/{Action}`,
//! the primary user through `…('{id}')/users/$ref` (`Action=users`), or
//! `DELETE deviceManagement/managedDevices/{id}` (`Action=delete`).

use cipp_graph::GraphVersion;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{Guid, TextResults};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecDeviceAction;

/// A picker choice: `{label, value}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DeviceUserChoice {
    pub label: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// Graph's action name (`syncDevice`, `rebootNow`, `wipe`, `setDeviceName`, …), `users` to set
    /// the primary user, or `delete`.
    #[serde(rename = "Action")]
    pub action: Option<String>,
    /// The managed device's id.
    #[serde(rename = "GUID")]
    pub guid: Option<Guid>,
    /// `setDeviceName`: the new name; `%SERIAL%` and CIPP's tenant variables (`%tenantid%`,
    /// `%tenantfilter%`, `%defaultdomain%`, `%initialdomain%`, `%tenantname%`, `%organizationid%`)
    /// are replaced and the result cut to 15 characters.
    pub input: Option<String>,
    /// `users`: the new primary user (`value` is the user's object id).
    pub user: Option<DeviceUserChoice>,
}

impl Operation for ExecDeviceAction {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecDeviceAction";
    const TAG: &'static str = "Endpoint > MEM";
    const ROLE: Option<&'static str> = Some("Endpoint.MEM.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecDeviceAction.ps1",
        frontend: Some("src/pages/endpoint/MEM/devices/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `Action` or `GUID`, an `Action` that is not a plain name, `setDeviceName` \
         without `input` and `users` without `user.value` are 400s naming the field (CIPP sends \
         them to Graph). Other actions send `{}` as their body (CIPP sends the whole request \
         body, which Graph ignores). A Graph refusal keeps CIPP's text with Graph's status.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "GUID": crate::demo::MANAGED_DEVICE_ID, "Action": "syncDevice"})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let action = params
            .action
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| UserError::missing("Action"))?;
        if !action.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(UserError::invalid(
                "Action",
                format!("Action: '{action}' is not an Intune device action name"),
            ));
        }
        let device = params.guid.ok_or_else(|| UserError::missing("GUID"))?;
        let tenant = ctx.tenant()?.clone();
        let graph = &ctx.graph;
        let id = device.as_str();
        let fail = |e: cipp_graph::GraphError| {
            let message = format!(
                "Failed to queue action {action} on {id} : {}",
                normalize_graph_error(&e)
            );
            tracing::warn!(tenant = %tenant.default_domain_name, "{message}");
            UserError::Failed {
                message,
                source: Some(Box::new(e)),
            }
        };
        let text = match action.as_str() {
            "delete" => {
                graph
                    .delete(
                        &tenant.customer_id,
                        GraphVersion::Beta,
                        &format!("deviceManagement/managedDevices/{id}"),
                    )
                    .await
                    .map_err(fail)?;
                // CIPP sets no text for a deletion (its result variable stays empty), so the
                // answer is an empty `Results`, as CIPP's.
                String::new()
            }
            "users" => {
                let user = params
                    .user
                    .and_then(|u| u.value)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| crate::is_guid(v))
                    .ok_or_else(|| {
                        UserError::invalid("user", "user: the new primary user's object id (user.value) is required")
                    })?;
                let body = json!({"@odata.id": format!("https://graph.microsoft.com/beta/users('{user}')")});
                graph
                    .post(
                        &tenant.customer_id,
                        GraphVersion::Beta,
                        &format!("deviceManagement/managedDevices('{id}')/users/$ref"),
                        &body,
                    )
                    .await
                    .map_err(fail)?;
                format!("Changed primary user on device {id} to {user}")
            }
            _ => {
                let body = match action.as_str() {
                    "setDeviceName" => {
                        let mut name = params
                            .input
                            .filter(|n| !n.trim().is_empty())
                            .ok_or_else(|| UserError::missing("input"))?;
                        if name.contains('%') {
                            let found = graph
                                .get(
                                    &tenant.customer_id,
                                    GraphVersion::Beta,
                                    &format!("deviceManagement/managedDevices/{id}"),
                                    &[],
                                )
                                .await
                                .map_err(|e| UserError::Failed {
                                    message: normalize_graph_error(&e),
                                    source: Some(Box::new(e)),
                                })?;
                            let serial = found
                                .get("serialNumber")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_owned();
                            name = replace_variables(&name, &tenant, &serial);
                            name = name.chars().take(15).collect();
                        }
                        json!({"deviceName": name})
                    }
                    "createDeviceLogCollectionRequest" => json!({
                        "templateType": {"@odata.type": "#microsoft.graph.deviceLogCollectionRequest", "templateType": "predefined"}
                    }),
                    _ => json!({}),
                };
                graph
                    .post(
                        &tenant.customer_id,
                        GraphVersion::Beta,
                        &format!("deviceManagement/managedDevices('{id}')/{action}"),
                        &body,
                    )
                    .await
                    .map_err(fail)?;
                format!("Queued {action} on {id}")
            }
        };
        tracing::info!(tenant = %tenant.default_domain_name, "{text}");
        Ok(Outcome::json(TextResults::new(text)).audit_target(id.to_owned()))
    }
}

/// Replaces `token` case-insensitively (PowerShell's `-replace`).
fn replace_token(text: &str, token: &str, value: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::new();
    let mut rest = 0;
    while let Some(pos) = lower[rest..].find(token) {
        out.push_str(&text[rest..rest + pos]);
        out.push_str(value);
        rest += pos + token.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// CIPP's built-in tenant variables, then `%SERIAL%`.
fn replace_variables(text: &str, tenant: &crate::Tenant, serial: &str) -> String {
    let mut out = text.to_owned();
    for (token, value) in [
        ("%tenantid%", tenant.customer_id.as_str()),
        ("%organizationid%", tenant.customer_id.as_str()),
        ("%tenantfilter%", tenant.default_domain_name.as_str()),
        ("%defaultdomain%", tenant.default_domain_name.as_str()),
        ("%initialdomain%", tenant.initial_domain_name.as_str()),
        ("%tenantname%", tenant.display_name.as_str()),
        ("%serial%", serial),
    ] {
        out = replace_token(&out, token, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_replaced_without_regard_to_case() {
        assert_eq!(replace_token("PC-%SERIAL%-x", "%serial%", "AB12"), "PC-AB12-x");
        assert_eq!(replace_token("none", "%serial%", "AB12"), "none");
    }
}
