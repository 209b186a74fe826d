//! `ListTenants` (CIPP-API `Invoke-ListTenants.ps1`): the managed tenants the caller may see.

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let tenants = &ctx.state.env.tenants;
        if ctx.params.boolean("ClearCache")? {
            tenants.refresh().await?;
            // CIPP queues the refresh and says so; here it has already happened when we answer.
            return Ok(Reply::ok(json!({
                "Results": [{ "Results": "Cache has been cleared and the tenant list has been refreshed." }],
                "Metadata": { "Details": "Tenant list reloaded" }
            })));
        }
        let list = if ctx.params.truthy("TriggerRefresh") {
            tenants.refresh().await?
        } else {
            tenants.all().await?
        };
        let filter = ctx.params.string("tenantFilter");
        let tenant_list_mode = ctx
            .params
            .string("Mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("TenantList"));
        let scope = ctx.scope();
        let single = filter
            .as_deref()
            .filter(|f| !f.eq_ignore_ascii_case("AllTenants") && !f.eq_ignore_ascii_case("null"));
        let mut rows: Vec<Value> = list
            .iter()
            .filter(|t| {
                scope.permits(&[&t.customer_id, &t.default_domain_name, &t.initial_domain_name])
            })
            .filter(|t| {
                single.is_none_or(|f| {
                    t.customer_id.eq_ignore_ascii_case(f)
                        || t.default_domain_name.eq_ignore_ascii_case(f)
                        || t.initial_domain_name.eq_ignore_ascii_case(f)
                })
            })
            .map(|t| {
                let mut row = serde_json::to_value(t).unwrap_or(Value::Null);
                if let Value::Object(fields) = &mut row {
                    fields.insert("PartitionKey".into(), json!("Tenants"));
                    fields.insert("RowKey".into(), json!(t.customer_id));
                }
                row
            })
            .collect();
        let selector_wanted = ctx.params.boolean("AllTenantSelector").unwrap_or(false);
        let filter_absent = filter.as_deref().is_none_or(|f| f.eq_ignore_ascii_case("null"));
        if selector_wanted && (filter_absent || tenant_list_mode) {
            rows.insert(
                0,
                json!({
                    "customerId": "AllTenants",
                    "defaultDomainName": "AllTenants",
                    "initialDomainName": "AllTenants",
                    "displayName": "*All Tenants",
                    "domains": "AllTenants",
                    "GraphErrorCount": 0
                }),
            );
        }
        if tenant_list_mode {
            rows.iter_mut().for_each(add_portal_links);
        }
        if ctx.params.truthy("IncludeOffboardingDefaults") {
            // Offboarding defaults are kept state that arrives with the store; none exist yet.
            for row in &mut rows {
                if let Value::Object(fields) = row {
                    fields.insert("offboardingDefaults".into(), Value::Null);
                }
            }
        }
        Ok(Reply::ok(Value::Array(rows)))
    }
    .boxed_local()
}

fn add_portal_links(row: &mut Value) {
    let field = |name: &str| {
        row.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (initial, default, id) = (
        field("initialDomainName"),
        field("defaultDomainName"),
        field("customerId"),
    );
    if let Value::Object(fields) = row {
        let links = [
            (
                "portal_m365",
                format!("https://admin.cloud.microsoft/?delegatedOrg={initial}"),
            ),
            (
                "portal_exchange",
                format!("https://admin.cloud.microsoft/exchange?delegatedOrg={initial}"),
            ),
            (
                "portal_entra",
                format!("https://entra.microsoft.com/{default}"),
            ),
            (
                "portal_teams",
                format!("https://admin.teams.microsoft.com?delegatedOrg={initial}"),
            ),
            (
                "portal_azure",
                format!("https://portal.azure.com/{default}"),
            ),
            (
                "portal_intune",
                format!("https://intune.microsoft.com/{default}"),
            ),
            (
                "portal_security",
                format!("https://security.microsoft.com/?tid={id}"),
            ),
            (
                "portal_compliance",
                format!("https://purview.microsoft.com/?tid={id}"),
            ),
            (
                "portal_sharepoint",
                format!("/api/ListSharePointAdminUrl?tenantFilter={default}"),
            ),
            (
                "portal_platform",
                format!("https://admin.powerplatform.microsoft.com/account/login/{id}"),
            ),
            (
                "portal_bi",
                format!("https://app.powerbi.com/admin-portal?ctid={id}"),
            ),
        ];
        for (name, link) in links {
            fields.insert(name.into(), Value::String(link));
        }
    }
}
