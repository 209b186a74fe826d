//! `ListNewUserDefaults` and `ListJITAdminTemplates` (CIPP-API `Invoke-ListNewUserDefaults.ps1`
//! and its JIT sibling): templates kept in the store, filtered by tenant as CIPP does.

use cipp_store::{Template, TemplateKind};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::{Context, Reply};
use crate::error::ApiError;

pub fn list_new_user_defaults(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    list(ctx, TemplateKind::NewUserDefaults, "ID").boxed_local()
}

pub fn list_jit_admin_templates(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    list(ctx, TemplateKind::JitAdmin, "GUID").boxed_local()
}

async fn list(ctx: Context, kind: TemplateKind, id_param: &'static str) -> Result<Reply, ApiError> {
    let templates = ctx
        .state
        .store
        .list_templates(kind, None)
        .await
        .map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("Failed to read templates: {e}"),
            )
        })?;
    let tenant = ctx.params.string("TenantFilter");
    // `includeAllTenants=false` (any case) leaves out the templates made for every tenant.
    let include_all = !ctx
        .params
        .string("includeAllTenants")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    let id = ctx.params.string(id_param);
    if let Some(id) = &id
        && uuid::Uuid::parse_str(id).is_err()
    {
        return Err(ApiError::bad_request(format!(
            "{id_param}: '{id}' is not a GUID"
        )));
    }
    // A tenant-scoped caller sees its own tenants' templates and the shared ones; templates name
    // their tenant by default domain, roles may name it by id, so compare every name.
    let visible: Vec<String> = ctx
        .visible_tenants()
        .await?
        .into_iter()
        .flat_map(|t| [t.customer_id, t.default_domain_name, t.initial_domain_name])
        .collect();
    // The tenant asked for, by any of its names (an unknown name matches only itself).
    let asked: Option<Vec<String>> = match tenant.as_deref() {
        None => None,
        Some(f) if f.eq_ignore_ascii_case("AllTenants") => Some(Vec::new()),
        Some(f) => Some(match ctx.state.env.tenants.find(f).await? {
            Some(t) => vec![t.customer_id, t.default_domain_name, t.initial_domain_name],
            None => vec![f.to_owned()],
        }),
    };
    let named = |names: &[String], name: &str| names.iter().any(|n| n.eq_ignore_ascii_case(name));
    let mut rows: Vec<(String, Value)> = templates
        .into_iter()
        .filter(|t| {
            let all = t.tenant.eq_ignore_ascii_case("AllTenants");
            (all || named(&visible, &t.tenant))
                && match &asked {
                    None => true,
                    Some(names) if names.is_empty() => all,
                    Some(names) => named(names, &t.tenant) || (all && include_all),
                }
        })
        .filter(|t| {
            id.as_deref()
                .is_none_or(|id| t.id.to_string().eq_ignore_ascii_case(id))
        })
        .map(|t| (sort_key(&t), row(t)))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Reply::ok(Value::Array(
        rows.into_iter().map(|(_, r)| r).collect(),
    )))
}

fn sort_key(template: &Template) -> String {
    template
        .body
        .get("templateName")
        .and_then(Value::as_str)
        .unwrap_or(&template.name)
        .to_lowercase()
}

/// The stored JSON with the template's id as `GUID` and `RowKey`, as CIPP returns it.
fn row(template: Template) -> Value {
    let mut body = match template.body {
        Value::Object(fields) => fields,
        other => {
            let mut fields = serde_json::Map::new();
            fields.insert("value".into(), other);
            fields
        }
    };
    body.insert("GUID".into(), json!(template.id.to_string()));
    body.insert("RowKey".into(), json!(template.id.to_string()));
    if !body.contains_key("tenantFilter") {
        body.insert("tenantFilter".into(), json!(template.tenant));
    }
    Value::Object(body)
}
