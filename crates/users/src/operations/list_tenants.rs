//! `ListTenants` (CIPP-API `Invoke-ListTenants.ps1`): the managed tenants the caller may see,
//! with CIPP's `AllTenants` pseudo-tenant and portal links when asked.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{Tenant, UserError};

pub struct ListTenants;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// One tenant (id, default domain or initial domain); absent, `AllTenants` or `null` lists
    /// every tenant the caller may see.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
    /// Puts CIPP's `AllTenants` pseudo-tenant first (when no single tenant is asked for, or
    /// with `Mode=TenantList`).
    #[serde(rename = "AllTenantSelector", default)]
    pub all_tenant_selector: bool,
    /// `TenantList` adds the admin portal links to every row.
    #[serde(rename = "Mode")]
    pub mode: Option<ListTenantsMode>,
    /// Reads the tenant list again before answering.
    #[serde(rename = "TriggerRefresh", default)]
    pub trigger_refresh: bool,
    /// Adds `offboardingDefaults` to every row.
    #[serde(rename = "IncludeOffboardingDefaults", default)]
    pub include_offboarding_defaults: bool,
    /// Drops the cached tenant list and reads it again; answers with a confirmation instead of
    /// the list.
    #[serde(rename = "ClearCache", default)]
    pub clear_cache: bool,
    /// With `ClearCache`, CIPP clears only its tenant cache; the tenant list is the only cache
    /// here, so it changes nothing.
    #[serde(rename = "TenantsOnly", default)]
    pub tenants_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ListTenantsMode {
    #[serde(rename = "TenantList")]
    TenantList,
}

/// The tenant rows, or the confirmation of `ClearCache`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListTenantsAnswer {
    Tenants(Vec<ListTenantsRow>),
    CacheCleared(ListTenantsCacheCleared),
}

/// One row of the answer: a tenant or the `AllTenants` pseudo-tenant, with the portal links of
/// `Mode=TenantList` and the `offboardingDefaults` of `IncludeOffboardingDefaults`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListTenantsRow {
    #[serde(flatten)]
    pub entry: ListTenantsEntry,
    #[serde(flatten)]
    pub portals: Option<ListTenantsPortalLinks>,
    /// The tenant's offboarding defaults; always null, as none are kept yet.
    #[serde(
        rename = "offboardingDefaults",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub offboarding_defaults: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListTenantsEntry {
    Tenant(ListTenantsTenant),
    Selector(ListTenantsSelector),
}

/// A row of CIPP's `Tenants` table.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListTenantsTenant {
    #[serde(rename = "customerId")]
    pub customer_id: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "defaultDomainName")]
    pub default_domain_name: String,
    #[serde(rename = "initialDomainName")]
    pub initial_domain_name: String,
    /// The latest end of the tenant's active GDAP relationships.
    #[serde(rename = "relationshipEnd")]
    pub relationship_end: Option<String>,
    /// How many active GDAP relationships the tenant has.
    #[serde(rename = "relationshipCount")]
    pub relationship_count: u32,
    #[serde(rename = "hasAutoExtend")]
    pub has_auto_extend: bool,
    /// Always `granularDelegatedAdminPrivileges`.
    #[serde(rename = "delegatedPrivilegeStatus")]
    pub delegated_privilege_status: String,
    pub domains: String,
    #[serde(rename = "Excluded")]
    pub excluded: bool,
    #[serde(rename = "GraphErrorCount")]
    pub graph_error_count: u32,
    /// Why the tenant's own token requests failed, when they did.
    #[serde(rename = "LastGraphError")]
    pub last_graph_error: String,
    /// Whether the tenant's access needs attention (its domains could not be read).
    #[serde(rename = "RequiresRefresh")]
    pub requires_refresh: bool,
    #[serde(rename = "LastRefresh")]
    pub last_refresh: String,
    /// Always `Tenants`.
    #[serde(rename = "PartitionKey")]
    pub partition_key: String,
    /// The tenant id.
    #[serde(rename = "RowKey")]
    pub row_key: String,
}

impl From<&Tenant> for ListTenantsTenant {
    fn from(t: &Tenant) -> Self {
        Self {
            customer_id: t.customer_id.clone(),
            display_name: t.display_name.clone(),
            default_domain_name: t.default_domain_name.clone(),
            initial_domain_name: t.initial_domain_name.clone(),
            relationship_end: t.relationship_end.clone(),
            relationship_count: t.relationship_count,
            has_auto_extend: t.has_auto_extend,
            delegated_privilege_status: t.delegated_privilege_status.clone(),
            domains: t.domains.clone(),
            excluded: t.excluded,
            graph_error_count: t.graph_error_count,
            last_graph_error: t.last_graph_error.clone(),
            requires_refresh: t.requires_refresh,
            last_refresh: t.last_refresh.clone(),
            partition_key: "Tenants".to_owned(),
            row_key: t.customer_id.clone(),
        }
    }
}

/// CIPP's `AllTenants` pseudo-tenant: every name is `AllTenants`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListTenantsSelector {
    #[serde(rename = "customerId")]
    pub customer_id: String,
    #[serde(rename = "defaultDomainName")]
    pub default_domain_name: String,
    #[serde(rename = "initialDomainName")]
    pub initial_domain_name: String,
    /// `*All Tenants`.
    #[serde(rename = "displayName")]
    pub display_name: String,
    pub domains: String,
    #[serde(rename = "GraphErrorCount")]
    pub graph_error_count: u32,
}

impl ListTenantsSelector {
    fn new() -> Self {
        let all = || "AllTenants".to_owned();
        Self {
            customer_id: all(),
            default_domain_name: all(),
            initial_domain_name: all(),
            display_name: "*All Tenants".to_owned(),
            domains: all(),
            graph_error_count: 0,
        }
    }
}

/// The admin portals of one tenant, as CIPP links them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListTenantsPortalLinks {
    pub portal_m365: String,
    pub portal_exchange: String,
    pub portal_entra: String,
    pub portal_teams: String,
    pub portal_azure: String,
    pub portal_intune: String,
    pub portal_security: String,
    pub portal_compliance: String,
    pub portal_sharepoint: String,
    pub portal_platform: String,
    pub portal_bi: String,
}

impl ListTenantsPortalLinks {
    fn new(initial: &str, default: &str, id: &str) -> Self {
        Self {
            portal_m365: format!("https://admin.cloud.microsoft/?delegatedOrg={initial}"),
            portal_exchange: format!(
                "https://admin.cloud.microsoft/exchange?delegatedOrg={initial}"
            ),
            portal_entra: format!("https://entra.microsoft.com/{default}"),
            portal_teams: format!("https://admin.teams.microsoft.com?delegatedOrg={initial}"),
            portal_azure: format!("https://portal.azure.com/{default}"),
            portal_intune: format!("https://intune.microsoft.com/{default}"),
            portal_security: format!("https://security.microsoft.com/?tid={id}"),
            portal_compliance: format!("https://purview.microsoft.com/?tid={id}"),
            portal_sharepoint: format!("/api/ListSharePointAdminUrl?tenantFilter={default}"),
            portal_platform: format!("https://admin.powerplatform.microsoft.com/account/login/{id}"),
            portal_bi: format!("https://app.powerbi.com/admin-portal?ctid={id}"),
        }
    }
}

/// `{"Results": [{"Results": "<text>"}], "Metadata": {"Details": "<text>"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListTenantsCacheCleared {
    #[serde(rename = "Results")]
    pub results: Vec<ListTenantsCacheClearedResult>,
    #[serde(rename = "Metadata")]
    pub metadata: ListTenantsCacheClearedMetadata,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListTenantsCacheClearedResult {
    #[serde(rename = "Results")]
    pub results: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListTenantsCacheClearedMetadata {
    #[serde(rename = "Details")]
    pub details: String,
}

impl Operation for ListTenants {
    type Params = Params;
    type Answer = ListTenantsAnswer;
    const NAME: &'static str = "ListTenants";
    const TAG: &'static str = "Tenant > Administration > Tenant";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Post;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListTenants.ps1",
        frontend: Some("src/components/CippComponents/CippTenantSelector.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "`ClearCache` reloads the tenant list before answering (CIPP queues the refresh and says so), so the confirmation says the list has been refreshed. `TriggerRefresh` and `IncludeOffboardingDefaults` are booleans (CIPP casts any non-empty text to true, `false` included). No offboarding defaults are kept yet, so `offboardingDefaults` is null. A failure to read the tenant list is an error status, not CIPP's 200 with a one-row error list.",
    );

    fn example() -> Value {
        json!({"AllTenantSelector": true})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ListTenantsAnswer>, UserError> {
        let tenants = &ctx.env.tenants;
        if params.clear_cache {
            tenants.refresh().await?;
            return Ok(Outcome::json(ListTenantsAnswer::CacheCleared(
                ListTenantsCacheCleared {
                    results: vec![ListTenantsCacheClearedResult {
                        results: "Cache has been cleared and the tenant list has been refreshed."
                            .to_owned(),
                    }],
                    metadata: ListTenantsCacheClearedMetadata {
                        details: "Tenant list reloaded".to_owned(),
                    },
                },
            )));
        }
        let list = if params.trigger_refresh {
            tenants.refresh().await?
        } else {
            tenants.all().await?
        };
        let tenant_list_mode = params.mode == Some(ListTenantsMode::TenantList);
        let filter = params.tenant_filter.as_deref();
        let single =
            filter.filter(|f| !f.eq_ignore_ascii_case("AllTenants") && !f.eq_ignore_ascii_case("null"));
        let mut entries: Vec<ListTenantsEntry> = list
            .iter()
            .filter(|t| ctx.permits(t))
            .filter(|t| {
                single.is_none_or(|f| {
                    t.customer_id.eq_ignore_ascii_case(f)
                        || t.default_domain_name.eq_ignore_ascii_case(f)
                        || t.initial_domain_name.eq_ignore_ascii_case(f)
                })
            })
            .map(|t| ListTenantsEntry::Tenant(t.into()))
            .collect();
        let filter_absent = filter.is_none_or(|f| f.eq_ignore_ascii_case("null"));
        if params.all_tenant_selector && (filter_absent || tenant_list_mode) {
            entries.insert(0, ListTenantsEntry::Selector(ListTenantsSelector::new()));
        }
        let rows = entries
            .into_iter()
            .map(|entry| {
                let portals = tenant_list_mode.then(|| {
                    let (initial, default, id) = match &entry {
                        ListTenantsEntry::Tenant(t) => (
                            &t.initial_domain_name,
                            &t.default_domain_name,
                            &t.customer_id,
                        ),
                        ListTenantsEntry::Selector(s) => (
                            &s.initial_domain_name,
                            &s.default_domain_name,
                            &s.customer_id,
                        ),
                    };
                    ListTenantsPortalLinks::new(initial, default, id)
                });
                ListTenantsRow {
                    entry,
                    portals,
                    offboarding_defaults: params
                        .include_offboarding_defaults
                        .then_some(Value::Null),
                }
            })
            .collect();
        Ok(Outcome::json(ListTenantsAnswer::Tenants(rows)))
    }
}

