//! `ExecRemoveAdminRole` (CIPP-API `Invoke-ExecRemoveAdminRole.ps1`): `Results` is an array of
//! strings, one per user; 200 when all succeeded, 207 when some failed, 500 when all failed
//! (CIPP's `Get-CippBulkStatusCode`). Differences from CIPP: a `RoleId`/`RoleTemplateId` that is
//! not a GUID is a 400 naming it (CIPP sends it to Graph).

use actix_web::http::StatusCode;
use cipp_users_domain::remove_admin_role::{REQUIRED, RoleMember, RoleRef, remove_admin_role};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::{Context, Reply};
use crate::error::ApiError;

/// `.label ?? .value ?? raw`, as CIPP reads `RoleName`.
fn role_name(raw: Option<Value>) -> String {
    match raw {
        Some(Value::String(s)) => s,
        Some(Value::Object(o)) => ["label", "value"]
            .iter()
            .find_map(|k| {
                o.iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(k))
                    .and_then(|(_, v)| v.as_str())
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

fn guid(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if !cipp_users_domain::bulk_license::is_guid(&v) => Err(ApiError::bad_request(
            format!("{name}: '{v}' is not a GUID"),
        )),
        other => Ok(other),
    }
}

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let users: Vec<RoleMember> = match ctx.params.raw("Users") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(RoleMember::from_value).collect(),
            Some(one) => vec![RoleMember::from_value(&one)],
        };
        let template = guid("RoleTemplateId", ctx.params.string("RoleTemplateId"))?;
        let instance = guid("RoleId", ctx.params.string("RoleId"))?;
        let role = match (&template, &instance) {
            (Some(t), _) => Some(RoleRef::Template(t)),
            (None, Some(id)) => Some(RoleRef::Instance(id)),
            (None, None) => None,
        };
        let (Some(role), false, true) = (
            role,
            users.is_empty(),
            ctx.params.string("tenantFilter").is_some(),
        ) else {
            return Ok(Reply::with_status(
                StatusCode::BAD_REQUEST,
                json!({ "Results": [REQUIRED] }),
            ));
        };
        let name = role_name(ctx.params.raw("RoleName"));
        let tenant = ctx.single_tenant().await?;
        let outcome =
            remove_admin_role(&ctx.state.graph, &tenant.customer_id, &role, &name, &users).await;
        let status = super::exec_bulk_license::bulk_status(users.len(), outcome.failed);
        Ok(Reply::with_status(
            status,
            json!({ "Results": outcome.results }),
        ))
    }
    .boxed_local()
}
