//! `ExecBulkLicense` (CIPP-API `Invoke-ExecBulkLicense.ps1`): the body is an array of items
//! `{tenantFilter, userIds, LicenseOperation, Licenses, LicensesToRemove, LicensesToReplace,
//! RemoveAllLicenses, ReplaceAllLicenses}`; `Results` is an array of strings, each user's
//! outcome. 200 when every item succeeded, 207 when some failed, 500 when all failed or a user
//! lookup failed (CIPP's `Get-CippBulkStatusCode`).
//!
//! Differences from CIPP: every item is checked first and bad input is a 400 naming the item and
//! field (a body that is not an array of objects, a missing `tenantFilter`, a user id or SKU that
//! is not a GUID, an unknown `LicenseOperation`, which CIPP silently answers with the previous
//! item's lists); each `tenantFilter` must be a tenant the caller may use; `RemoveAllLicenses`
//! and `ReplaceAllLicenses` are booleans (CIPP's `[bool]` cast takes `"false"` as true).

use actix_web::http::StatusCode;
use cipp_users_domain::bulk_license::{
    LicenceItem, LicenceOperation, bulk_license_tenant, is_guid,
};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Map, Value, json};

use super::{Context, Reply};
use crate::auth::roles::DENIED_TENANT;
use crate::error::ApiError;

/// CIPP's `Get-CippBulkStatusCode`: 200 none failed, 207 some, 500 all.
pub fn bulk_status(total: usize, failed: usize) -> StatusCode {
    if failed == 0 {
        StatusCode::OK
    } else if failed >= total {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::MULTI_STATUS
    }
}

fn get<'v>(item: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    item.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A string, or the `value` of a `{label, value}`.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Object(o) => get(o, "value").and_then(text),
        _ => None,
    }
}

/// A single value or an array, as strings (blank ones dropped).
fn list(item: &Map<String, Value>, name: &str) -> Vec<String> {
    match get(item, name) {
        Some(Value::Array(values)) => values.iter().filter_map(text).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(one) => text(one).into_iter().collect(),
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

fn flag(item: &Map<String, Value>, at: &str, name: &str) -> Result<bool, ApiError> {
    match get(item, name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "{at}.{name} must be true or false, got {other}"
        ))),
    }
}

fn guids(item: &Map<String, Value>, at: &str, name: &str) -> Result<Vec<String>, ApiError> {
    let values = list(item, name);
    match values.iter().find(|v| !is_guid(v)) {
        Some(bad) => Err(ApiError::bad_request(format!(
            "{at}.{name}: '{bad}' is not a GUID"
        ))),
        None => Ok(values),
    }
}

fn parse_item(index: usize, value: &Value) -> Result<(String, LicenceItem), ApiError> {
    let at = format!("[{index}]");
    let item = value
        .as_object()
        .ok_or_else(|| ApiError::bad_request(format!("{at}: each item must be an object")))?;
    let tenant = get(item, "tenantFilter")
        .and_then(text)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("{at}.tenantFilter is required")))?;
    let operation = match get(item, "LicenseOperation")
        .and_then(text)
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("add") => LicenceOperation::Add,
        Some("remove") => LicenceOperation::Remove,
        Some("replace") => LicenceOperation::Replace,
        _ => {
            return Err(ApiError::bad_request(format!(
                "{at}.LicenseOperation must be Add, Remove or Replace"
            )));
        }
    };
    Ok((
        tenant,
        LicenceItem {
            user_ids: guids(item, &at, "userIds")?,
            operation,
            licenses: guids(item, &at, "Licenses")?,
            to_remove: guids(item, &at, "LicensesToRemove")?,
            to_replace: guids(item, &at, "LicensesToReplace")?,
            remove_all: flag(item, &at, "RemoveAllLicenses")?,
            replace_all: flag(item, &at, "ReplaceAllLicenses")?,
        },
    ))
}

/// The default usage location CIPP sets before retrying: the `allUsers` settings', else US.
async fn default_usage_location(ctx: &Context) -> String {
    let settings = ctx
        .state
        .store
        .get_user_settings(cipp_store::ALL_USERS)
        .await
        .ok()
        .flatten();
    settings
        .as_ref()
        .and_then(|s| {
            s.pointer("/usageLocation/value")
                .or_else(|| s.get("usageLocation"))
        })
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("US")
        .to_owned()
}

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let items: Vec<(String, LicenceItem)> = match ctx.params.body() {
            Value::Array(values) if !values.is_empty() => values
                .iter()
                .enumerate()
                .map(|(i, v)| parse_item(i, v))
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(ApiError::bad_request(
                    "The body must be a non-empty array of licence requests",
                ));
            }
        };
        // Every tenant is resolved and checked before anything changes.
        let scope = ctx.scope();
        let mut groups: Vec<(cipp_users_domain::Tenant, Vec<LicenceItem>)> = Vec::new();
        for (name, item) in &items {
            let tenant = ctx.state.env.tenants.find(name).await?.ok_or_else(|| {
                ApiError::bad_request(format!(
                    "tenantFilter: '{name}' is not a tenant this CIPP manages"
                ))
            })?;
            if !scope.permits(&[
                &tenant.customer_id,
                &tenant.default_domain_name,
                &tenant.initial_domain_name,
            ]) {
                return Err(ApiError::forbidden(DENIED_TENANT));
            }
            match groups
                .iter_mut()
                .find(|(t, _)| t.customer_id == tenant.customer_id)
            {
                Some((_, list)) => list.push(item.clone()),
                None => groups.push((tenant, vec![item.clone()])),
            }
        }
        if let [(tenant, _)] = groups.as_slice() {
            ctx.audit.borrow_mut().tenant = Some((
                tenant.default_domain_name.clone(),
                tenant.customer_id.clone(),
            ));
        }
        let usage_location = default_usage_location(&ctx).await;
        let mut results = Vec::new();
        let mut failed = 0;
        for (tenant, list) in &groups {
            match bulk_license_tenant(
                &ctx.state.graph,
                &tenant.customer_id,
                &tenant.default_domain_name,
                list,
                &usage_location,
            )
            .await
            {
                Ok(outcome) => {
                    results.extend(outcome.results);
                    failed += outcome.failed;
                }
                Err(e) => {
                    return Ok(Reply::with_status(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        json!({ "Results": [format!("Failed to process bulk license operation: {e}")] }),
                    ));
                }
            }
        }
        Ok(Reply::with_status(
            bulk_status(items.len(), failed),
            json!({ "Results": results }),
        ))
    }
    .boxed_local()
}
