//! `PatchUser` (CIPP-API `Invoke-PatchUser.ps1`): the patch wizard's body, one object or an
//! array, each element naming its own tenant.

use actix_web::http::StatusCode;
use cipp_users_domain::patch_user::{PatchItem, patch_users};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::{Context, Reply};
use crate::auth::roles::DENIED_TENANT;
use crate::error::ApiError;

const MISSING: &str = "Failed to patch user(s). Some users are missing id or tenantFilter";

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let elements: Vec<Value> = match ctx.params.body() {
            Value::Array(items) => items.clone(),
            Value::Object(_) => vec![ctx.params.body().clone()],
            _ => {
                return Ok(Reply::with_status(
                    StatusCode::BAD_REQUEST,
                    json!({"Results": [MISSING]}),
                ));
            }
        };
        let mut items = Vec::with_capacity(elements.len());
        for element in &elements {
            let Some(item) = read_item(&ctx, element).await? else {
                return Ok(Reply::with_status(
                    StatusCode::BAD_REQUEST,
                    json!({"Results": [MISSING]}),
                ));
            };
            items.push(item);
        }
        if items.is_empty() {
            return Ok(Reply::with_status(
                StatusCode::BAD_REQUEST,
                json!({"Results": [MISSING]}),
            ));
        }
        let outcome = patch_users(&ctx.state.graph, &items).await?;
        ctx.audit.borrow_mut().message = outcome.results.last().cloned();
        let status = if outcome.failed {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        Ok(Reply::with_status(
            status,
            json!({ "Results": outcome.results }),
        ))
    }
    .boxed_local()
}

/// One element: `None` when `id` or `tenantFilter` is missing (CIPP's 400 for the whole call).
async fn read_item(ctx: &Context, element: &Value) -> Result<Option<PatchItem>, ApiError> {
    let Some(obj) = element.as_object() else {
        return Ok(None);
    };
    let text = |name: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Object(o) => o
                    .get("value")
                    .and_then(Value::as_str)
                    .map(|s| s.trim().to_owned()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let (Some(id), Some(tenant_label)) = (text("id"), text("tenantFilter")) else {
        return Ok(None);
    };
    if obj.keys().any(|k| k.eq_ignore_ascii_case("sponsor")) && text("sponsor").is_some() {
        return Err(ApiError::bad_request(
            "sponsor: setting sponsors is not supported by this service yet",
        ));
    }
    let tenant = ctx.state.env.tenants.find(&tenant_label).await?.ok_or_else(|| {
        ApiError::bad_request(format!(
            "tenantFilter: '{tenant_label}' is not a tenant this CIPP manages (use its tenant id, default domain or initial domain)"
        ))
    })?;
    let names = [
        tenant.customer_id.as_str(),
        tenant.default_domain_name.as_str(),
        tenant.initial_domain_name.as_str(),
    ];
    if !ctx.spec.any_tenant && !ctx.scope().permits(&names) {
        return Err(ApiError::forbidden(DENIED_TENANT));
    }
    ctx.audit.borrow_mut().tenant.get_or_insert_with(|| {
        (
            tenant.default_domain_name.clone(),
            tenant.customer_id.clone(),
        )
    });
    let properties = obj
        .iter()
        .filter(|(k, _)| {
            !["id", "tenantFilter", "manager", "sponsor"]
                .iter()
                .any(|skip| k.eq_ignore_ascii_case(skip))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Some(PatchItem {
        id,
        tenant: tenant.customer_id.clone(),
        tenant_label,
        properties,
        manager: text("manager"),
    }))
}
