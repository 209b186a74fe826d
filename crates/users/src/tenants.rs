//! The partner's customer tenants, read as CIPP reads them (`Get-Tenants.ps1`): active GDAP
//! relationships from the partner tenant, then each tenant's default and initial domain.

use cipp_graph::{GraphClient, GraphVersion};
use futures::{StreamExt, stream};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::UserError;
use crate::normalize::normalize_graph_error;

/// How many tenants' domain lists are read at once while building the tenant list.
const DOMAIN_READS_IN_FLIGHT: usize = 10;

/// One row of CIPP's `Tenants` table, with the field names CIPP answers with.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub customer_id: String,
    pub display_name: String,
    pub default_domain_name: String,
    pub initial_domain_name: String,
    pub relationship_end: Option<String>,
    pub relationship_count: u32,
    pub has_auto_extend: bool,
    pub delegated_privilege_status: String,
    pub domains: String,
    #[serde(rename = "Excluded")]
    pub excluded: bool,
    #[serde(rename = "GraphErrorCount")]
    pub graph_error_count: u32,
    #[serde(rename = "LastGraphError")]
    pub last_graph_error: String,
    #[serde(rename = "RequiresRefresh")]
    pub requires_refresh: bool,
    #[serde(rename = "LastRefresh")]
    pub last_refresh: String,
}

#[derive(Default)]
struct Relationship {
    display_name: String,
    end: Option<String>,
    count: u32,
    auto_extend: bool,
}

/// Reads the tenant list: every customer with an active GDAP relationship, sorted by display name.
/// A tenant whose domains cannot be read falls back to `findTenantInformationByTenantId` and is
/// marked `RequiresRefresh`; if that fails too it is left out, as CIPP does.
pub async fn load_tenants(
    graph: &GraphClient,
    partner_tenant_id: &str,
) -> Result<Vec<Tenant>, UserError> {
    let relationships = graph
        .get_all(
            partner_tenant_id,
            GraphVersion::V1,
            "tenantRelationships/delegatedAdminRelationships?$filter=status eq 'active'&$select=customer,autoExtendDuration,endDateTime",
            &[],
        )
        .await
        .map_err(|e| UserError::Failed {
            message: format!("Failed to retrieve tenants: {}", normalize_graph_error(&e)),
            source: Some(Box::new(e)),
        })?;

    let mut by_customer: BTreeMap<String, Relationship> = BTreeMap::new();
    for relationship in &relationships {
        let Some(customer_id) = relationship
            .pointer("/customer/tenantId")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let entry = by_customer.entry(customer_id.to_owned()).or_default();
        entry.count += 1;
        if let Some(name) = relationship
            .pointer("/customer/displayName")
            .and_then(Value::as_str)
        {
            entry.display_name = name.to_owned();
        }
        let end = relationship
            .get("endDateTime")
            .and_then(Value::as_str)
            .map(str::to_owned);
        // The latest end date is the one that matters to the MSP.
        if end > entry.end {
            entry.end = end;
        }
        let auto_extend = relationship
            .get("autoExtendDuration")
            .and_then(Value::as_str)
            .is_some_and(|d| d != "PT0S");
        entry.auto_extend |= auto_extend;
    }

    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut tenants: Vec<Tenant> = stream::iter(by_customer)
        .map(|(customer_id, relationship)| {
            let now = now.clone();
            async move { tenant_row(graph, partner_tenant_id, customer_id, relationship, now).await }
        })
        .buffer_unordered(DOMAIN_READS_IN_FLIGHT)
        .filter_map(|row| async move { row })
        .collect()
        .await;
    tenants.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
    });
    Ok(tenants)
}

async fn tenant_row(
    graph: &GraphClient,
    partner_tenant_id: &str,
    customer_id: String,
    relationship: Relationship,
    now: String,
) -> Option<Tenant> {
    let mut row = Tenant {
        customer_id: customer_id.clone(),
        display_name: relationship.display_name,
        default_domain_name: String::new(),
        initial_domain_name: String::new(),
        relationship_end: relationship.end,
        relationship_count: relationship.count,
        has_auto_extend: relationship.auto_extend,
        delegated_privilege_status: "granularDelegatedAdminPrivileges".to_owned(),
        domains: String::new(),
        excluded: false,
        graph_error_count: 0,
        last_graph_error: String::new(),
        requires_refresh: false,
        last_refresh: now,
    };
    match graph
        .get_all(&customer_id, GraphVersion::Beta, "domains?$top=999", &[])
        .await
    {
        Ok(domains) => {
            let flagged = |flag: &str| {
                domains
                    .iter()
                    .find(|d| d.get(flag).and_then(Value::as_bool) == Some(true))
                    .and_then(|d| d.get("id").and_then(Value::as_str))
                    .map(str::to_owned)
            };
            row.default_domain_name = flagged("isDefault")?;
            row.initial_domain_name =
                flagged("isInitial").unwrap_or_else(|| row.default_domain_name.clone());
            Some(row)
        }
        Err(error) => {
            tracing::warn!(tenant = %customer_id, error = %error, "reading the tenant's domains failed; falling back to findTenantInformationByTenantId");
            let path = format!(
                "tenantRelationships/findTenantInformationByTenantId(tenantId='{customer_id}')"
            );
            // A partner-tenant API: it answers even when the customer's own tokens fail.
            let info = graph
                .get(partner_tenant_id, GraphVersion::V1, &path, &[])
                .await
                .ok()?;
            let domain = info.get("defaultDomainName")?.as_str()?.to_owned();
            row.default_domain_name = domain.clone();
            row.initial_domain_name = domain;
            row.requires_refresh = true;
            row.last_graph_error = normalize_graph_error(&error);
            Some(row)
        }
    }
}
