//! `ListJITAdmin` (CIPP-API `Invoke-ListJITAdmin.ps1`): the users carrying CIPP's JIT admin
//! values in its `…_cippUser` schema extension, with what they are a member of, as
//! `{Results, Metadata}`.
//!
//! The extension is looked up, as CIPP does, among the schema extensions the partner app owns
//! (`beta/schemaExtensions`, partner tenant, app-only), but never created or patched here: a
//! read does not write. Without it no user can carry JIT values, so the answer is empty.

use cipp_graph::{BatchRequest, GraphClient, GraphVersion};
use futures::{StreamExt, stream};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::NoParams;
use crate::op::{Ctx, Method, Operation, Outcome, RowStream, Source, Target, TenantUse};
use crate::read_support::{batch_values, failed, odata_literal};

pub struct ListJITAdmin;

/// The JIT admin fields of the extension, in CIPP's row order.
const JIT_FIELDS: [&str; 5] = [
    "jitAdminEnabled",
    "jitAdminExpiration",
    "jitAdminStartDate",
    "jitAdminReason",
    "jitAdminCreatedBy",
];

/// `{Results, Metadata}`: `Metadata` is `{Method: "BulkRequest"}` for one tenant and `{}` for
/// `AllTenants`, as in CIPP.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListJitAdminAnswer {
    #[serde(rename = "Results")]
    pub results: Vec<ListJitAdminEntry>,
    #[serde(rename = "Metadata")]
    pub metadata: ListJitAdminMetadata,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ListJitAdminMetadata {
    /// `BulkRequest` for one tenant; absent for `AllTenants`.
    #[serde(rename = "Method", skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// A JIT admin, or (with `AllTenants`) a tenant that could not be read.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListJitAdminEntry {
    Admin(ListJitAdminRow),
    Unreachable(ListJitAdminUnreachable),
}

/// One user with JIT admin values.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListJitAdminRow {
    /// The tenant's default domain; only with `AllTenants`.
    #[serde(rename = "Tenant", skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub id: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
    #[serde(rename = "accountEnabled")]
    pub account_enabled: Option<bool>,
    #[serde(rename = "jitAdminEnabled")]
    pub jit_admin_enabled: Option<bool>,
    #[serde(rename = "jitAdminExpiration")]
    pub jit_admin_expiration: Option<String>,
    #[serde(rename = "jitAdminStartDate")]
    pub jit_admin_start_date: Option<String>,
    #[serde(rename = "jitAdminReason")]
    pub jit_admin_reason: Option<String>,
    #[serde(rename = "jitAdminCreatedBy")]
    pub jit_admin_created_by: Option<String>,
    /// The groups and roles the user is a member of. PowerShell serialises one member as an
    /// object and none as null; an array is what the frontend iterates, so every row has one.
    #[serde(rename = "memberOf")]
    pub member_of: Vec<ListJitAdminMember>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListJitAdminMember {
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    pub id: Option<String>,
}

/// A tenant `AllTenants` could not read (or not within its time budget), and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListJitAdminUnreachable {
    #[serde(rename = "Tenant")]
    pub tenant: String,
    #[serde(rename = "CippStatus")]
    pub cipp_status: String,
}

impl Operation for ListJITAdmin {
    type Params = NoParams;
    type Answer = ListJitAdminAnswer;
    const NAME: &'static str = "ListJITAdmin";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::OneOrAll;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListJITAdmin.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "AllTenants is read live, each tenant's rows carrying `Tenant` and a failed tenant a \
         `{Tenant, CippStatus}` row (CIPP serves an hour-old cache or queues a refill and \
         answers `QueueMessage`). Failed reads are errors (CIPP: `200` with no users). The \
         schema extension is never created or patched by this read.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<ListJitAdminAnswer>, UserError> {
        let graph = ctx.graph.clone();
        let extension = cipp_user_extension(
            &graph,
            ctx.env.tenants.partner_tenant_id(),
            &ctx.env.partner_client_id,
        )
        .await?;
        if !matches!(ctx.target, Target::All) {
            let tenant = ctx.tenant()?;
            let results = match &extension {
                Some(ext) => list_jit_admins(&graph, &tenant.customer_id, ext)
                    .await?
                    .into_iter()
                    .map(ListJitAdminEntry::Admin)
                    .collect(),
                None => Vec::new(),
            };
            return Ok(Outcome::json(ListJitAdminAnswer {
                results,
                metadata: ListJitAdminMetadata {
                    method: Some("BulkRequest".to_owned()),
                },
            }));
        }
        let Some(extension) = extension else {
            return Ok(Outcome::json(ListJitAdminAnswer {
                results: Vec::new(),
                metadata: ListJitAdminMetadata::default(),
            }));
        };
        let pages = ctx
            .fan_out(move |tenant| {
                let (graph, ext) = (graph.clone(), extension.clone());
                let (id, label) = (
                    tenant.customer_id.clone(),
                    tenant.default_domain_name.clone(),
                );
                stream::once(async move {
                    list_jit_admins(&graph, &id, &ext)
                        .await?
                        .into_iter()
                        .map(|mut row| {
                            row.tenant = Some(label.clone());
                            serde_json::to_value(row).map_err(|e| {
                                UserError::internal("A JIT admin row could not be written", e)
                            })
                        })
                        .collect()
                })
                .boxed_local()
            })
            .await?;
        Ok(Outcome::rows(RowStream {
            prefix: r#"{"Results":"#.to_owned(),
            pages,
            suffix: r#","Metadata":{}}"#.to_owned(),
        }))
    }
}

/// The id (`ext…_cippUser`) of CIPP's user schema extension owned by `app_id`, if it exists.
pub async fn cipp_user_extension(
    graph: &GraphClient,
    partner_tenant: &str,
    app_id: &str,
) -> Result<Option<String>, UserError> {
    let path = format!(
        "schemaExtensions?$filter=owner%20eq%20'{}'",
        odata_literal(app_id)
    );
    let found = graph
        .app_only()
        .get_all(partner_tenant, GraphVersion::Beta, &path, &[])
        .await
        .map_err(|e| failed("Failed to read CIPP's schema extensions: ", e))?;
    Ok(found
        .iter()
        .filter(|s| s["status"].as_str() != Some("Deprecated"))
        .filter_map(|s| s["id"].as_str())
        // CIPP matches the id with `-match '_cippUser'`: a case-insensitive substring.
        .find(|id| id.to_lowercase().contains("_cippuser"))
        .map(str::to_owned))
}

/// CIPP's rows: `{id, displayName, userPrincipalName, accountEnabled, jitAdmin…, memberOf}`.
pub async fn list_jit_admins(
    graph: &GraphClient,
    tenant: &str,
    extension: &str,
) -> Result<Vec<ListJitAdminRow>, UserError> {
    let fail = |message: String| UserError::Failed {
        message: format!("Failed to retrieve JIT admin users: {message}"),
        source: None,
    };
    let users_url = format!(
        "users?$count=true&$select=id,accountEnabled,displayName,userPrincipalName,{extension}&$filter={extension}/jitAdminEnabled%20eq%20true%20or%20{extension}/jitAdminEnabled%20eq%20false&$top=999"
    );
    let users: Vec<Value> = batch_values(
        graph,
        tenant,
        GraphVersion::Beta,
        vec![BatchRequest::get(users_url).with_id("users")],
        false,
    )
    .await
    .map_err(fail)?
    .into_iter()
    .flat_map(|(_, items)| items)
    .filter(|u| u["id"].is_string())
    .collect();
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let requests = users
        .iter()
        .filter_map(|u| u["id"].as_str())
        .map(|id| {
            BatchRequest::get(format!(
                "users/{}/memberOf?$select=id,displayName",
                crate::path_segment(id)
            ))
            .with_id(id)
        })
        .collect();
    let member_of = batch_values(graph, tenant, GraphVersion::Beta, requests, false)
        .await
        .map_err(fail)?;
    Ok(users
        .iter()
        .map(|user| {
            let id = user["id"].as_str().unwrap_or_default();
            let groups: Vec<ListJitAdminMember> = member_of
                .iter()
                .find(|(key, _)| key == id)
                .map(|(_, items)| {
                    items
                        .iter()
                        .map(|m| ListJitAdminMember {
                            display_name: text(&m["displayName"]),
                            id: text(&m["id"]),
                        })
                        .collect()
                })
                .unwrap_or_default();
            jit_row(user, extension, groups)
        })
        .collect())
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

fn jit_row(user: &Value, extension: &str, member_of: Vec<ListJitAdminMember>) -> ListJitAdminRow {
    let values = &user[extension];
    let [enabled, expiration, start, reason, created_by] = JIT_FIELDS.map(|f| &values[f]);
    ListJitAdminRow {
        tenant: None,
        id: text(&user["id"]),
        display_name: text(&user["displayName"]),
        user_principal_name: text(&user["userPrincipalName"]),
        account_enabled: user["accountEnabled"].as_bool(),
        jit_admin_enabled: enabled.as_bool(),
        jit_admin_expiration: text(expiration),
        jit_admin_start_date: text(start),
        jit_admin_reason: text(reason),
        jit_admin_created_by: text(created_by),
        member_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_takes_the_jit_values_from_the_extension() {
        let user = json!({
            "id": "u1", "displayName": "A", "userPrincipalName": "a@x", "accountEnabled": true,
            "ext1_cippUser": {"jitAdminEnabled": true, "jitAdminReason": "why"},
        });
        let member = ListJitAdminMember {
            display_name: Some("G".into()),
            id: Some("g".into()),
        };
        let row = serde_json::to_value(jit_row(&user, "ext1_cippUser", vec![member])).unwrap();
        assert_eq!(row["jitAdminEnabled"], true);
        assert_eq!(row["jitAdminReason"], "why");
        assert_eq!(row["jitAdminExpiration"], Value::Null);
        assert_eq!(row["memberOf"][0]["displayName"], "G");
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 10, "no Tenant for one tenant's rows");
    }
}
