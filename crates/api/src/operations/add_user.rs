//! `AddUser` (CIPP-API `Invoke-AddUser.ps1` → `New-CIPPUserTask.ps1`): reads CIPP's form fields,
//! creates the user now and answers CIPP's `Results` list; the password goes to the caller only.
//!
//! Differences from CIPP: a missing `username`, domain or `displayName`, a `username` Entra
//! cannot take, a licence that is not a SKU id or a group without an id is a 400 naming the
//! field (CIPP sends the create and answers Graph's failure with 500). `Scheduled.enabled` is
//! refused with 501 and shared calendar/mailbox grants are reported as not made: CIPP schedules
//! both, and this service has no scheduler.

use actix_web::http::StatusCode;
use cipp_users_domain::UserError;
use cipp_users_domain::add_user::{GroupChoice, NewUser, add_user};
use cipp_users_domain::password::generate_password;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use super::{Context, Reply};
use crate::error::ApiError;
use crate::params::Params;

/// Profile fields CIPP copies into the create body as given (`null` when absent).
const PROFILE: [&str; 11] = [
    "givenName",
    "surname",
    "department",
    "jobTitle",
    "mobilePhone",
    "streetAddress",
    "city",
    "state",
    "country",
    "postalCode",
    "companyName",
];

fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `{label, value}` or a bare string, as text; blank is absent.
fn text_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Object(o) => get(o, "value")?.as_str()?.to_owned(),
        _ => return None,
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn list(params: &Params, name: &'static str) -> Result<Vec<Value>, ApiError> {
    match params.raw(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(other @ (Value::String(_) | Value::Object(_))) => Ok(vec![other]),
        Some(other) => Err(ApiError::bad_request(format!(
            "{name} must be a list, got {other}"
        ))),
    }
}

fn scheduled(params: &Params) -> bool {
    match params.raw("Scheduled") {
        Some(Value::Object(o)) => match get(&o, "enabled") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
            _ => false,
        },
        _ => false,
    }
}

fn read_new_user(params: &Params) -> Result<NewUser, ApiError> {
    let username = params.required("username")?;
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~".contains(c))
    {
        return Err(ApiError::bad_request(format!(
            "username: '{username}' may only contain letters, digits and ' . - _ ! # ^ ~"
        )));
    }
    let domain = params
        .string("Domain")
        .or_else(|| params.string("primDomain"))
        .ok_or_else(|| ApiError::bad_request("primDomain (or Domain) is required"))?;
    let display_name = params.required("displayName")?;
    let profile = PROFILE
        .iter()
        .map(|name| (name.to_string(), json!(params.string(name))))
        .collect();
    let business_phones: Vec<String> = list(params, "businessPhones")?
        .iter()
        .filter_map(text_of)
        .collect();
    let other_mails = list(params, "otherMails")?
        .iter()
        .filter_map(text_of)
        .flat_map(|m| {
            m.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let password = match params.raw("password") {
        Some(Value::String(s)) if !s.is_empty() => Some(SecretString::from(s)),
        _ => None,
    };
    let mut licenses = Vec::new();
    for item in list(params, "licenses")? {
        let sku = text_of(&item)
            .filter(|s| cipp_users_domain::is_guid(s))
            .ok_or_else(|| ApiError::bad_request(format!("licenses: {item} is not a SKU id")))?;
        licenses.push(sku);
    }
    let mut groups = Vec::new();
    for item in list(params, "AddToGroups")? {
        let id = text_of(&item)
            .ok_or_else(|| ApiError::bad_request(format!("AddToGroups: {item} has no group id")))?;
        let object = item.as_object();
        let label = object
            .and_then(|o| get(o, "label"))
            .and_then(Value::as_str)
            .unwrap_or(&id)
            .to_owned();
        let group_type = object
            .and_then(|o| get(o, "addedFields"))
            .and_then(Value::as_object)
            .and_then(|f| get(f, "groupType"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        groups.push(GroupChoice {
            id,
            label,
            group_type,
        });
    }
    // `defaultAttributes` ({name: {value}}) then `customData` ({name: value}); blanks skipped.
    let mut extra = Map::new();
    if let Some(Value::Object(attributes)) = params.raw("defaultAttributes") {
        for (name, value) in attributes {
            if let Some(value) = value
                .as_object()
                .and_then(|v| get(v, "value"))
                .and_then(text_of)
            {
                extra.insert(name, json!(value));
            }
        }
    }
    if let Some(Value::Object(custom)) = params.raw("customData") {
        for (name, value) in custom {
            let blank = match &value {
                Value::Null => true,
                Value::String(s) => s.trim().is_empty(),
                _ => false,
            };
            if !blank {
                extra.insert(name, value);
            }
        }
    }
    Ok(NewUser {
        username,
        domain,
        display_name,
        profile,
        business_phones: (!business_phones.is_empty()).then_some(business_phones),
        other_mails,
        usage_location: params.string("usageLocation"),
        password,
        // PowerShell's `[bool]` cast, as CIPP reads it.
        must_change: params.truthy("MustChangePass"),
        extra,
        licenses,
        aliases: params
            .string("AddedAliases")
            .map(|a| a.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        copy_from: params.string("copyFrom"),
        groups,
        manager: params.string("setManager"),
        sponsor: params.string("setSponsor"),
    })
}

/// CIPP schedules shared calendar and mailbox grants for 15 minutes later; with no scheduler
/// here each one is reported as not made, never as scheduled.
fn shared_grants(params: &Params) -> Result<Vec<String>, ApiError> {
    let mut lines = Vec::new();
    for (field, kind) in [
        ("sharedCalendars", "calendar"),
        ("sharedMailboxes", "mailbox"),
    ] {
        for item in list(params, field)? {
            let label = item
                .as_object()
                .and_then(|o| get(o, "label"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| text_of(&item))
                .unwrap_or_default();
            lines.push(format!(
                "Not granted {kind} access to {label}: the grant is scheduled work and this service has no scheduler."
            ));
        }
    }
    Ok(lines)
}

/// CIPP's default usage location (the `allUsers` settings), used when a licence needs one.
async fn default_usage_location(ctx: &Context) -> String {
    let stored = ctx.state.store.get_user_settings("allUsers").await;
    stored
        .ok()
        .flatten()
        .and_then(|s| s.get("usageLocation").cloned())
        .and_then(|u| text_of(&u))
        .unwrap_or_else(|| "US".to_owned())
}

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        if ctx.params.string("tenantFilter").is_none() {
            return Ok(Reply::with_status(
                StatusCode::BAD_REQUEST,
                json!({"Results": {"resultText": "tenantFilter is required to create a user.", "state": "error"}}),
            ));
        }
        if scheduled(&ctx.params) {
            return Err(ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "Scheduled.enabled: scheduled user creation is not available, this service has no scheduler. Nothing was created or scheduled; send the request without Scheduled to create the user now.",
            ));
        }
        let new = read_new_user(&ctx.params)?;
        let unscheduled = shared_grants(&ctx.params)?;
        let tenant = ctx.single_tenant().await?;
        let settings = ctx.password_settings().await;
        let usage = default_usage_location(&ctx).await;
        let outcome = add_user(
            &ctx.state.graph,
            &tenant.customer_id,
            new,
            || generate_password(&settings),
            &usage,
        )
        .await;
        match outcome {
            Ok(done) => {
                // The audit row records CIPP's log line, never the password.
                ctx.audit.borrow_mut().message = Some(done.log_text.clone());
                let password = done.password.expose_secret();
                let mut results = vec![
                    json!("Created New User."),
                    json!({"resultText": format!("Username: {}", done.upn), "copyField": done.upn, "state": "success"}),
                    json!({"resultText": format!("Password: {password}"), "copyField": password, "state": "success"}),
                ];
                results.extend(done.messages.into_iter().map(Value::String));
                results.extend(unscheduled.into_iter().map(Value::String));
                let status = match done.failed_after_create {
                    Some(text) => {
                        results.push(Value::String(text));
                        StatusCode::INTERNAL_SERVER_ERROR
                    }
                    None => StatusCode::OK,
                };
                let copy_from = match done.copy_from {
                    Some(copied) => json!(copied),
                    None => json!({"Success": null, "Error": null, "Skipped": null}),
                };
                Ok(Reply::with_status(status, json!({
                    "Results": results,
                    "CopyFrom": copy_from,
                    "User": done.user,
                })))
            }
            Err(UserError::Failed { message, source }) => {
                if let Some(source) = source {
                    tracing::info!(detail = ?source, "user creation failed");
                }
                Ok(Reply::with_status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "Results": [message] }),
                ))
            }
            Err(other) => Err(other.into()),
        }
    }
    .boxed_local()
}
