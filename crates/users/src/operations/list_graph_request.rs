//! `ListGraphRequest` (CIPP-API `Invoke-ListGraphRequest.ps1` → `Get-GraphRequestList.ps1`): a
//! read-only Graph proxy that the CIPP tables and most PSA tools read through. Only GET is ever
//! sent, and only after [`crate::graph_proxy_guard`] has accepted the path.

use cipp_graph::{GraphClient, GraphVersion};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::graph_proxy_guard::ProxyGuard;
use crate::normalize::normalize_message;
use crate::op::ctx::{DENIED_TENANT, start_rows};
use crate::op::types::{GraphRow, TextResults};
use crate::op::{Ctx, Method, Operation, Outcome, RowStream, Source, TenantUse};
use crate::read_support::{NamedTenant, named_tenant};
use crate::{Tenant, UserError, query_value};

pub struct ListGraphRequest;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The Graph path without the version (`users`, `groups/<id>/members`, …). `%tenantid%`,
    /// `%tenantfilter%`, `%defaultdomain%`, `%initialdomain%`, `%tenantname%`,
    /// `%partnertenantid%`, `%samappid%` and `{DaysAgo:N}` are replaced. Paths to customer
    /// content (mail, files, chats, calendars, …) are refused.
    #[serde(rename = "Endpoint")]
    pub endpoint: String,
    /// The tenant (its id, default domain or initial domain) or `AllTenants`; without it, the
    /// partner tenant. Rows carry it as `Tenant`, as sent.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
    /// The Graph version (default `beta`).
    #[serde(rename = "Version")]
    pub version: Option<ListGraphRequestVersion>,
    /// Properties to select; each item is cut at its first `.` (`manager.displayName` →
    /// `manager`), then de-duplicated and sorted, as CIPP does.
    #[serde(rename = "$select")]
    pub select: Option<String>,
    /// An OData filter.
    #[serde(rename = "$filter")]
    pub filter: Option<String>,
    /// The filter, when `$filter` is not given (CIPP's older name).
    #[serde(rename = "graphFilter")]
    pub graph_filter: Option<String>,
    /// Graph's page size, not a limit: every page is read unless `NoPagination` or
    /// `manualPagination` is set.
    #[serde(rename = "$top")]
    #[schema(minimum = 1)]
    pub top: Option<u32>,
    /// Ask Graph for `@odata.count` (needed by advanced queries).
    #[serde(rename = "$count")]
    pub count: Option<bool>,
    /// Relations to expand; the same guard as `Endpoint` applies.
    #[serde(rename = "$expand")]
    pub expand: Option<String>,
    /// Forwarded to Graph under this name (without `$`), as CIPP forwards it.
    #[serde(rename = "expand")]
    pub expand_plain: Option<String>,
    #[serde(rename = "$orderby")]
    pub orderby: Option<String>,
    #[serde(rename = "$search")]
    pub search: Option<String>,
    /// Accepted; not sent to Graph (answers are always JSON).
    #[serde(rename = "$format")]
    pub format: Option<String>,
    /// Only the first page.
    #[serde(rename = "NoPagination", default)]
    pub no_pagination: bool,
    /// One page, with the next page's link in `Metadata.nextLink`.
    #[serde(rename = "manualPagination", default)]
    pub manual_pagination: bool,
    /// With `manualPagination`: continue from this link. It must point at the Graph service
    /// this API uses, under `/v1.0/` or `/beta/`, and pass the same guard as `Endpoint`.
    #[serde(rename = "nextLink")]
    pub next_link: Option<String>,
    /// Only the count, as `Results: [n]` (`$count=true` is implied).
    #[serde(rename = "CountOnly", default)]
    pub count_only: bool,
    /// The property names of the first record instead of records.
    #[serde(rename = "ListProperties", default)]
    pub list_properties: bool,
    /// Read with the app's own permissions instead of delegated ones.
    #[serde(rename = "AsApp", default)]
    pub as_app: bool,
    /// Answer a Graph failure as `200 {"Results": "Graph Error: …"}` instead of a 400.
    #[serde(rename = "IgnoreErrors", default)]
    pub ignore_errors: bool,
    /// Prepend `TenantInfo` (the partner tenant's `findTenantInformationByTenantId`) for the
    /// tenant id in each row's `ReverseTenantLookupProperty`.
    #[serde(rename = "ReverseTenantLookup", default)]
    pub reverse_tenant_lookup: bool,
    /// The row property holding the tenant id (default `tenantId`).
    #[serde(rename = "ReverseTenantLookupProperty")]
    pub reverse_tenant_lookup_property: Option<String>,
    /// Sort the rows by this property (numbers numerically, other values as text).
    #[serde(rename = "Sort")]
    pub sort: Option<String>,
    /// Accepted; every request is read live, so there is no cache to skip.
    #[serde(rename = "SkipCache", default)]
    pub skip_cache: bool,
    /// Accepted and ignored: requests are answered inline, never queued.
    #[serde(rename = "QueueId")]
    pub queue_id: Option<String>,
    /// Accepted and ignored: requests are answered inline, never queued.
    #[serde(rename = "QueueNameOverride")]
    pub queue_name_override: Option<String>,
}

/// A Graph version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ListGraphRequestVersion {
    #[serde(rename = "v1.0")]
    V1,
    #[serde(rename = "beta")]
    Beta,
}

impl ListGraphRequestVersion {
    fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1.0",
            Self::Beta => "beta",
        }
    }
}

/// `{Results, Metadata}`; with `IgnoreErrors`, a Graph failure is `{Results: "Graph Error: …"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListGraphRequestAnswer {
    Rows(Box<ListGraphRequestRows>),
    Error(TextResults),
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListGraphRequestRows {
    /// Graph's rows, each with `Tenant` and `CippStatus: "Good"` (with `AllTenants`, a tenant
    /// that could not be read is a `{Tenant, CippStatus}` row); with `CountOnly`, one count;
    /// with `ListProperties`, property names.
    #[serde(rename = "Results")]
    #[schema(value_type = Vec<ListGraphRequestItem>)]
    pub results: Vec<Value>,
    #[serde(rename = "Metadata")]
    pub metadata: ListGraphRequestMetadata,
}

/// One item of `Results` (documentation only: rows pass through as Graph sends them).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListGraphRequestItem {
    Row(GraphRow),
    /// With `ListProperties`.
    Property(String),
    /// With `CountOnly`: Graph's `@odata.count` (null when Graph gives none, as for a single
    /// object).
    Count(Option<u64>),
}

/// The request as it was sent to Graph, echoed as CIPP echoes it.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ListGraphRequestMetadata {
    /// `Endpoint` after placeholder substitution.
    #[serde(rename = "Endpoint")]
    pub endpoint: String,
    /// The OData options sent.
    #[serde(rename = "Parameters")]
    pub parameters: ListGraphRequestParameters,
    /// The `tenantFilter` as sent (the partner tenant's id without one; `AllTenants`).
    #[serde(rename = "TenantFilter")]
    pub tenant_filter: String,
    #[serde(rename = "Version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(rename = "NoPagination", skip_serializing_if = "Option::is_none")]
    pub no_pagination: Option<bool>,
    #[serde(rename = "ManualPagination", skip_serializing_if = "Option::is_none")]
    pub manual_pagination: Option<bool>,
    #[serde(rename = "CountOnly", skip_serializing_if = "Option::is_none")]
    pub count_only: Option<bool>,
    /// With `manualPagination`, when there are more pages: send it back as `nextLink`.
    #[serde(rename = "nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// The OData options sent to Graph, as text.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ListGraphRequestParameters {
    #[serde(rename = "$count", skip_serializing_if = "Option::is_none")]
    pub count: Option<String>,
    #[serde(rename = "$expand", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(rename = "$filter", skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(rename = "$orderby", skip_serializing_if = "Option::is_none")]
    pub orderby: Option<String>,
    #[serde(rename = "$search", skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    #[serde(rename = "$select", skip_serializing_if = "Option::is_none")]
    pub select: Option<String>,
    #[serde(rename = "$top", skip_serializing_if = "Option::is_none")]
    pub top: Option<String>,
    #[serde(rename = "expand", skip_serializing_if = "Option::is_none")]
    pub expand_plain: Option<String>,
}

impl ListGraphRequestParameters {
    fn of(odata: &BTreeMap<String, String>) -> Self {
        let get = |key: &str| odata.get(key).cloned();
        Self {
            count: get("$count"),
            expand: get("$expand"),
            filter: get("$filter"),
            orderby: get("$orderby"),
            search: get("$search"),
            select: get("$select"),
            top: get("$top"),
            expand_plain: get("expand"),
        }
    }
}

impl Operation for ListGraphRequest {
    type Params = Params;
    type Answer = ListGraphRequestAnswer;
    const NAME: &'static str = "ListGraphRequest";
    const TAG: &'static str = "CIPP > Core";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    // tenantFilter is optional here (the partner tenant without one), so the operation reads it.
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListGraphRequest.ps1",
        frontend: Some("src/pages/identity/administration/users/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Read-only and guarded: only GET is sent, and paths (and `$expand`, `nextLink`) that \
         reach customer content or leave the Graph version root are refused with a 403 before \
         anything is sent. `AllTenants` and large tenants are answered inline, streamed as pages \
         arrive (CIPP caches, queues and answers `Metadata.Queued`); `SkipCache`, `QueueId` and \
         `QueueNameOverride` are accepted and have nothing to do. `CountOnly` implies \
         `$count=true` (CIPP answers null without it). A `nextLink` must point at the Graph \
         service this API uses (CIPP: 400, or ignored when it is not https). Booleans that are \
         not `true`/`false` are a 400 naming them (CIPP: a plain-text 500). `$format` is not \
         forwarded.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "Endpoint": "users",
            "$select": "id,displayName,userPrincipalName",
            "$top": 999,
            "$count": true,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ListGraphRequestAnswer>, UserError> {
        let graph = if params.as_app {
            ctx.graph.app_only()
        } else {
            ctx.graph.clone()
        };
        let ignore_errors = params.ignore_errors;
        let tenant_filter = params.tenant_filter.clone();
        let query = params.into_query();
        let mut base = TenantPlaceholders {
            partner_tenant_id: ctx.env.tenants.partner_tenant_id().to_owned(),
            sam_app_id: ctx.env.partner_client_id.clone(),
            ..TenantPlaceholders::default()
        };
        let tenant = match tenant_filter {
            Some(filter) => match named_tenant(&ctx, &filter).await? {
                NamedTenant::All => return all_tenants(&ctx, graph, base, query).await,
                NamedTenant::One(tenant) => {
                    base.fill(&tenant, filter);
                    Some(tenant)
                }
            },
            None => {
                // Without a tenantFilter CIPP reads the partner tenant.
                let partner = base.partner_tenant_id.clone();
                if !ctx.caller.permits_tenant(&[&partner]) {
                    return Err(UserError::refused(DENIED_TENANT));
                }
                base.tenant_id = partner.clone();
                base.tenant_filter = partner;
                None
            }
        };
        let outcome = match one_tenant(&ctx, graph, &base, &query).await {
            Ok(outcome) => outcome,
            // The caller asked for errors as data: same text, 200 (CIPP's IgnoreErrors).
            Err(error @ UserError::GraphRequest { .. }) if ignore_errors => {
                Outcome::json(ListGraphRequestAnswer::Error(TextResults::new(
                    error.to_string(),
                )))
            }
            Err(error) => return Err(error),
        };
        Ok(match tenant {
            Some(tenant) => outcome.audit_tenant(&tenant.default_domain_name, &tenant.customer_id),
            None => outcome,
        })
    }
}

impl Params {
    /// The request as the proxy reads it: the OData options under the names Graph knows them
    /// by, `graphFilter` as `$filter` when there is no `$filter`.
    fn into_query(self) -> GraphRequestQuery {
        let mut odata = BTreeMap::new();
        let options = [
            ("$select", self.select),
            ("$filter", self.filter.or(self.graph_filter)),
            ("$top", self.top.map(|n| n.to_string())),
            ("$count", self.count.map(|b| b.to_string())),
            ("$expand", self.expand),
            ("expand", self.expand_plain),
            ("$orderby", self.orderby),
            ("$search", self.search),
        ];
        for (key, value) in options {
            if let Some(value) = value {
                odata.insert(key.to_owned(), value);
            }
        }
        let reverse_tenant_lookup = self.reverse_tenant_lookup.then(|| {
            self.reverse_tenant_lookup_property
                .unwrap_or_else(|| "tenantId".to_owned())
        });
        GraphRequestQuery {
            endpoint: self.endpoint,
            version: self.version.map(|v| v.as_str().to_owned()),
            odata,
            no_pagination: self.no_pagination,
            manual_pagination: self.manual_pagination,
            next_link: self.next_link,
            count_only: self.count_only,
            list_properties: self.list_properties,
            reverse_tenant_lookup,
            sort: self.sort,
        }
    }
}

/// One tenant: whole when CIPP shapes the answer (count, properties, one page, sorted),
/// streamed page by page otherwise.
async fn one_tenant(
    ctx: &Ctx,
    graph: GraphClient,
    placeholders: &TenantPlaceholders,
    query: &GraphRequestQuery,
) -> Result<Outcome<ListGraphRequestAnswer>, UserError> {
    let guard = &ctx.env.proxy_guard;
    let prepared = prepare(&graph, guard, placeholders, query)?;
    if !streams_pages(&prepared) {
        let answer = list_graph_request(&graph, guard, placeholders, query).await?;
        return Ok(Outcome::json(ListGraphRequestAnswer::Rows(Box::new(
            ListGraphRequestRows {
                results: answer.results,
                metadata: answer.metadata,
            },
        ))));
    }
    // The first page is read before the answer starts, so a Graph failure keeps its status.
    let pages = start_rows(graph_request_pages(&graph, placeholders, &prepared)).await?;
    Ok(Outcome::rows(RowStream {
        prefix: "{\"Results\":".to_owned(),
        pages,
        suffix: metadata_suffix(&prepared.metadata)?,
    }))
}

/// Every tenant the caller may see, inline: each tenant's rows, or a row saying why it has none.
async fn all_tenants(
    ctx: &Ctx,
    graph: GraphClient,
    base: TenantPlaceholders,
    query: GraphRequestQuery,
) -> Result<Outcome<ListGraphRequestAnswer>, UserError> {
    // Refuse a bad request once, before any tenant is asked (the guard does not depend on the
    // tenant except through placeholders, which are checked again per tenant).
    let probe = "00000000-0000-0000-0000-000000000000".to_owned();
    let probe = TenantPlaceholders {
        tenant_id: probe.clone(),
        tenant_filter: probe.clone(),
        default_domain: probe.clone(),
        initial_domain: probe.clone(),
        tenant_name: probe.clone(),
        partner_tenant_id: probe.clone(),
        sam_app_id: probe,
    };
    let guard = ctx.env.proxy_guard.clone();
    prepare(&graph, &guard, &probe, &query)?;
    let metadata = ListGraphRequestMetadata {
        endpoint: query.endpoint.clone(),
        parameters: ListGraphRequestParameters::of(&query.odata),
        tenant_filter: "AllTenants".to_owned(),
        ..ListGraphRequestMetadata::default()
    };
    let pages = ctx
        .fan_out(move |tenant| {
            let mut placeholders = base.clone();
            placeholders.fill(tenant, tenant.default_domain_name.clone());
            let mut query = query.clone();
            // One page per tenant has no meaning across tenants; CIPP pages every tenant fully.
            query.manual_pagination = false;
            query.next_link = None;
            match prepare(&graph, &guard, &placeholders, &query) {
                Ok(prepared) if streams_pages(&prepared) => {
                    graph_request_pages(&graph, &placeholders, &prepared).boxed_local()
                }
                Ok(_) => {
                    let (graph, guard) = (graph.clone(), guard.clone());
                    futures::stream::once(async move {
                        list_graph_request(&graph, &guard, &placeholders, &query)
                            .await
                            .map(|answer| answer.results)
                    })
                    .boxed_local()
                }
                Err(error) => futures::stream::once(async move { Err(error) }).boxed_local(),
            }
        })
        .await?;
    Ok(Outcome::rows(RowStream {
        prefix: "{\"Results\":".to_owned(),
        pages,
        suffix: metadata_suffix(&metadata)?,
    }))
}

/// `,"Metadata":{…}}`: what closes a streamed `{"Results": […]` answer.
fn metadata_suffix(metadata: &ListGraphRequestMetadata) -> Result<String, UserError> {
    let metadata = serde_json::to_string(metadata)
        .map_err(|e| UserError::internal("The answer's Metadata could not be written", e))?;
    Ok(format!(",\"Metadata\":{metadata}}}"))
}

/// What the caller asked for, already read from the request.
#[derive(Debug, Clone, Default)]
pub struct GraphRequestQuery {
    pub endpoint: String,
    /// `v1.0` or `beta` (default `beta`).
    pub version: Option<String>,
    /// `$select`, `$filter`, `$top`, `$count`, `$expand`, `expand`, `$orderby`, `$search` as given.
    pub odata: BTreeMap<String, String>,
    /// Only the first page.
    pub no_pagination: bool,
    /// One page, with the next page's link in `Metadata.nextLink`.
    pub manual_pagination: bool,
    /// With `manual_pagination`: continue from this link (it must point at the Graph origin).
    pub next_link: Option<String>,
    /// Only the count, as `Results: [n]`.
    pub count_only: bool,
    /// Property names of the first record instead of records.
    pub list_properties: bool,
    /// Prepend `TenantInfo` for the tenant named by this property of each row.
    pub reverse_tenant_lookup: Option<String>,
    /// Sort the rows by this property.
    pub sort: Option<String>,
}

/// The values CIPP's `%token%` placeholders stand for, for one tenant.
#[derive(Debug, Clone, Default)]
pub struct TenantPlaceholders {
    pub tenant_id: String,
    pub tenant_filter: String,
    pub default_domain: String,
    pub initial_domain: String,
    pub tenant_name: String,
    pub partner_tenant_id: String,
    pub sam_app_id: String,
}

impl TenantPlaceholders {
    /// The values of one tenant; `tenant_filter` is the name the rows carry as `Tenant`.
    fn fill(&mut self, tenant: &Tenant, tenant_filter: String) {
        self.tenant_id = tenant.customer_id.clone();
        self.default_domain = tenant.default_domain_name.clone();
        self.initial_domain = tenant.initial_domain_name.clone();
        self.tenant_name = tenant.display_name.clone();
        self.tenant_filter = tenant_filter;
    }

    /// Replaces `%token%` placeholders (any case) and `{DaysAgo:N}` in a value; `field` names
    /// the parameter in the 400 for a `DaysAgo` that is not a date.
    pub fn apply(&self, field: &str, text: &str) -> Result<String, UserError> {
        let mut out = text.to_owned();
        if out.contains('%') {
            for (token, value) in [
                ("%tenantid%", &self.tenant_id),
                ("%organizationid%", &self.tenant_id),
                ("%tenantfilter%", &self.tenant_filter),
                ("%defaultdomain%", &self.default_domain),
                ("%initialdomain%", &self.initial_domain),
                ("%tenantname%", &self.tenant_name),
                ("%partnertenantid%", &self.partner_tenant_id),
                ("%samappid%", &self.sam_app_id),
            ] {
                out = replace_ignoring_case(&out, token, value);
            }
        }
        replace_days_ago(field, &out)
    }
}

fn replace_ignoring_case(text: &str, token: &str, value: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(found) = lower[rest..].find(token) {
        let at = rest + found;
        out.push_str(&text[rest..at]);
        out.push_str(value);
        rest = at + token.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// `{DaysAgo:N}` becomes the UTC date N days ago as `yyyy-MM-dd`. N comes from the caller, so
/// the date arithmetic is checked: a count that is not a whole number or leaves the calendar
/// is a 400 naming the field, never an overflow.
fn replace_days_ago(field: &str, text: &str) -> Result<String, UserError> {
    let mut out = text.to_owned();
    while let Some(start) = out.find("{DaysAgo:") {
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let raw = out[start + 9..start + len].trim().to_owned();
        let refuse = || {
            UserError::invalid(
                field,
                format!("{field}: {{DaysAgo:{raw}}} is not a number of days that gives a date"),
            )
        };
        let days: i64 = if raw.is_empty() {
            0
        } else {
            raw.parse().map_err(|_| refuse())?
        };
        let date = days
            .checked_mul(86_400)
            .map(time::Duration::seconds)
            .and_then(|ago| time::OffsetDateTime::now_utc().checked_sub(ago))
            .ok_or_else(refuse)?
            .date();
        let formatted = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        out.replace_range(start..=start + len, &formatted);
    }
    Ok(out)
}

pub struct GraphRequestAnswer {
    pub results: Vec<Value>,
    pub metadata: ListGraphRequestMetadata,
}

fn parse_version(version: Option<&str>) -> Result<GraphVersion, UserError> {
    match version.map(str::trim) {
        None | Some("") => Ok(GraphVersion::Beta),
        Some(v) if v.eq_ignore_ascii_case("beta") => Ok(GraphVersion::Beta),
        Some(v) if v.eq_ignore_ascii_case("v1.0") => Ok(GraphVersion::V1),
        Some(other) => Err(UserError::invalid(
            "Version",
            format!("Version must be v1.0 or beta, got '{other}'"),
        )),
    }
}

/// The query string CIPP builds: `$select` items cut at the first `.`, de-duplicated and sorted;
/// keys in ordinal order; empty values dropped; values encoded so they stay one parameter.
pub fn build_query(odata: &BTreeMap<String, String>) -> Result<String, UserError> {
    let mut parts = Vec::new();
    for (key, value) in odata {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let value = match key.as_str() {
            "$select" => {
                let mut fields: Vec<&str> = value
                    .split(',')
                    .map(|f| f.split('.').next().unwrap_or_default().trim())
                    .filter(|f| !f.is_empty())
                    .collect();
                fields.sort_unstable();
                fields.dedup();
                fields.join(",")
            }
            "$top" => match value.parse::<u32>() {
                Ok(n) if n >= 1 => n.to_string(),
                _ => {
                    return Err(UserError::invalid(
                        "$top",
                        format!("$top must be a positive whole number, got '{value}'"),
                    ));
                }
            },
            "$count" => match value.to_ascii_lowercase().as_str() {
                "true" | "false" => value.to_ascii_lowercase(),
                _ => {
                    return Err(UserError::invalid(
                        "$count",
                        format!("$count must be true or false, got '{value}'"),
                    ));
                }
            },
            _ => value.to_owned(),
        };
        parts.push(format!("{key}={}", query_value(&value)));
    }
    Ok(parts.join("&"))
}

/// Checks a `nextLink` the caller sent back: it must be an absolute URL on the configured Graph
/// origin under a version root, and its path must pass the same guard as `Endpoint`.
pub fn check_next_link(
    graph_base: &url::Url,
    guard: &ProxyGuard,
    link: &str,
) -> Result<(GraphVersion, String), UserError> {
    let refuse = |why: &str| UserError::Refused {
        message: format!("nextLink is refused: {why}"),
    };
    if link
        .chars()
        .any(|c| c.is_control() || c == '\\' || c.is_whitespace())
    {
        return Err(refuse(
            "it contains control characters, spaces or backslashes",
        ));
    }
    let url = url::Url::parse(link).map_err(|_| refuse("it is not an absolute URL"))?;
    if url.origin() != graph_base.origin() || !url.username().is_empty() || url.password().is_some()
    {
        return Err(refuse(
            "it does not point at the Graph service this API uses",
        ));
    }
    if url.fragment().is_some() {
        return Err(refuse("it has a fragment"));
    }
    let path = url.path();
    let (version, rest) = if let Some(rest) = path.strip_prefix("/v1.0/") {
        (GraphVersion::V1, rest)
    } else if let Some(rest) = path.strip_prefix("/beta/") {
        (GraphVersion::Beta, rest)
    } else {
        return Err(refuse("it is not under /v1.0/ or /beta/"));
    };
    let expands: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| crate::graph_proxy_guard::is_expand_key(k))
        .map(|(_, v)| v.into_owned())
        .collect();
    let expand_refs: Vec<&str> = expands.iter().map(String::as_str).collect();
    let checked = guard
        .check(rest, &expand_refs)
        .map_err(|e| refuse(&e.to_string()))?;
    let path_and_query = match url.query() {
        Some(query) => format!("{checked}?{query}"),
        None => checked,
    };
    Ok((version, path_and_query))
}

/// A request checked and built, ready to send.
pub struct PreparedRequest {
    /// The query after `%token%` substitution and CIPP's adjustments.
    pub query: GraphRequestQuery,
    pub version: GraphVersion,
    pub path: String,
    pub metadata: ListGraphRequestMetadata,
}

/// Substitutes placeholders, applies the guard to `Endpoint`, `$expand` and `nextLink`, and
/// builds the path and the echoed `Metadata`. Nothing is sent.
pub fn prepare(
    graph: &GraphClient,
    guard: &ProxyGuard,
    placeholders: &TenantPlaceholders,
    query: &GraphRequestQuery,
) -> Result<PreparedRequest, UserError> {
    let mut query = query.clone();
    query.endpoint = placeholders.apply("Endpoint", &query.endpoint)?;
    for (key, value) in query.odata.iter_mut() {
        *value = placeholders.apply(key, value)?;
    }
    let expands: Vec<&str> = query
        .odata
        .iter()
        .filter(|(k, _)| crate::graph_proxy_guard::is_expand_key(k))
        .map(|(_, v)| v.as_str())
        .collect();
    let endpoint = guard
        .check(&query.endpoint, &expands)
        .map_err(|e| UserError::Refused {
            message: e.to_string(),
        })?;
    let mut version = parse_version(query.version.as_deref())?;
    if query.list_properties {
        query.odata.remove("$select");
        query.no_pagination = true;
    }
    if query.count_only {
        // CIPP answers null unless the caller also sends $count=true; asking for it is what they meant.
        query.odata.insert("$count".into(), "true".into());
        query.odata.insert("$top".into(), "1".into());
    }
    let query_string = build_query(&query.odata)?;
    let mut path = if query_string.is_empty() {
        endpoint.clone()
    } else {
        format!("{endpoint}?{query_string}")
    };
    if let (Some(link), true) = (&query.next_link, query.manual_pagination)
        && !link.trim().is_empty()
    {
        let (link_version, link_path) =
            check_next_link(&graph.settings().graph_base_url, guard, link.trim())?;
        version = link_version;
        path = link_path;
    }
    let metadata = ListGraphRequestMetadata {
        endpoint: query.endpoint.clone(),
        parameters: ListGraphRequestParameters::of(&query.odata),
        tenant_filter: placeholders.tenant_filter.clone(),
        version: query.version.clone(),
        no_pagination: query.no_pagination.then_some(true),
        manual_pagination: query.manual_pagination.then_some(true),
        ..ListGraphRequestMetadata::default()
    };
    Ok(PreparedRequest {
        query,
        version,
        path,
        metadata,
    })
}

/// CIPP always sends ConsistencyLevel for single-tenant reads, so advanced queries work.
const HEADERS: [(&str, &str); 1] = [("ConsistencyLevel", "eventual")];

fn graph_failed(endpoint: &str, error: cipp_graph::GraphError) -> UserError {
    UserError::GraphRequest {
        message: format!(
            "Graph Error: {} - Endpoint: {endpoint}",
            normalize_message(&error.to_string_for_cipp())
        ),
        source: Some(Box::new(error)),
    }
}

/// Whether a prepared request reads every page and needs nothing but the rows: then it can be
/// streamed page by page with [`graph_request_pages`].
pub fn streams_pages(prepared: &PreparedRequest) -> bool {
    let q = &prepared.query;
    !(q.count_only
        || q.list_properties
        || q.no_pagination
        || q.manual_pagination
        || q.sort.is_some())
}

/// Every page of a prepared request, rows tagged with `Tenant` and `CippStatus`.
pub fn graph_request_pages(
    graph: &GraphClient,
    placeholders: &TenantPlaceholders,
    prepared: &PreparedRequest,
) -> impl futures::Stream<Item = Result<Vec<Value>, UserError>> + 'static {
    let graph = graph.clone();
    let placeholders = placeholders.clone();
    let query = prepared.query.clone();
    let endpoint = query.endpoint.clone();
    graph
        .pages(
            &placeholders.tenant_id,
            prepared.version,
            &prepared.path,
            &HEADERS,
        )
        .then(move |page| {
            let (graph, placeholders, query, endpoint) = (
                graph.clone(),
                placeholders.clone(),
                query.clone(),
                endpoint.clone(),
            );
            async move {
                let page = page.map_err(|e| graph_failed(&endpoint, e))?;
                let answer = finish(
                    page.items,
                    ListGraphRequestMetadata::default(),
                    &placeholders,
                    &query,
                    &graph,
                )
                .await?;
                Ok(answer.results)
            }
        })
}

/// Reads a Graph path for one tenant, all at once. Every row gets `Tenant` (the name the caller
/// used) and `CippStatus: "Good"`.
pub async fn list_graph_request(
    graph: &GraphClient,
    guard: &ProxyGuard,
    placeholders: &TenantPlaceholders,
    query: &GraphRequestQuery,
) -> Result<GraphRequestAnswer, UserError> {
    let PreparedRequest {
        query,
        version,
        path,
        mut metadata,
    } = prepare(graph, guard, placeholders, query)?;
    let headers = HEADERS;
    let graph_failed = |error| graph_failed(&query.endpoint, error);
    if query.count_only {
        metadata.count_only = Some(true);
        let body = graph
            .get(&placeholders.tenant_id, version, &path, &headers)
            .await
            .map_err(graph_failed)?;
        let count = body.get("@odata.count").cloned().unwrap_or(Value::Null);
        return Ok(GraphRequestAnswer {
            results: vec![count],
            metadata,
        });
    }
    let mut rows = if query.no_pagination || query.manual_pagination {
        let body = graph
            .get(&placeholders.tenant_id, version, &path, &headers)
            .await
            .map_err(graph_failed)?;
        if query.manual_pagination
            && let Some(next) = body.get("@odata.nextLink").and_then(Value::as_str)
        {
            metadata.next_link = Some(next.to_owned());
        }
        match body {
            Value::Null => Vec::new(),
            Value::Object(mut fields) => match fields.remove("value") {
                Some(Value::Array(items)) => items,
                Some(other) => {
                    fields.insert("value".into(), other);
                    vec![Value::Object(fields)]
                }
                None => vec![Value::Object(fields)],
            },
            other => vec![other],
        }
    } else {
        graph
            .get_all(&placeholders.tenant_id, version, &path, &headers)
            .await
            .map_err(graph_failed)?
    };
    if query.list_properties {
        let names: Vec<Value> = rows
            .first()
            .and_then(Value::as_object)
            .map(|o| {
                o.keys()
                    .filter(|k| !k.starts_with("@odata"))
                    .map(|k| json!(k))
                    .collect()
            })
            .unwrap_or_default();
        rows = names;
        return Ok(GraphRequestAnswer {
            results: rows,
            metadata,
        });
    }
    finish(rows, metadata, placeholders, &query, graph).await
}

async fn finish(
    mut rows: Vec<Value>,
    metadata: ListGraphRequestMetadata,
    placeholders: &TenantPlaceholders,
    query: &GraphRequestQuery,
    graph: &GraphClient,
) -> Result<GraphRequestAnswer, UserError> {
    if let Some(property) = &query.reverse_tenant_lookup {
        reverse_tenant_lookup(graph, &placeholders.partner_tenant_id, property, &mut rows).await;
    }
    for row in &mut rows {
        if let Value::Object(fields) = row {
            fields.insert("Tenant".into(), json!(placeholders.tenant_filter));
            fields.insert("CippStatus".into(), json!("Good"));
        }
    }
    if let Some(property) = &query.sort {
        sort_rows(&mut rows, property);
    }
    Ok(GraphRequestAnswer {
        results: rows,
        metadata,
    })
}

/// Sorts by a property: numbers numerically, everything else as case-insensitive text; rows
/// without the property last.
pub fn sort_rows(rows: &mut [Value], property: &str) {
    rows.sort_by(|a, b| {
        let (x, y) = (a.get(property), b.get(property));
        match (x, y) {
            (Some(Value::Number(x)), Some(Value::Number(y))) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(std::cmp::Ordering::Equal),
            (Some(x), Some(y)) => text_of(x).cmp(&text_of(y)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

/// CIPP's `ReverseTenantLookup`: for each distinct value of `property` (a tenant id), the
/// partner tenant's `findTenantInformationByTenantId`, app-only, prepended as `TenantInfo`.
/// Values that are not GUIDs are never put into a URL.
async fn reverse_tenant_lookup(
    graph: &GraphClient,
    partner_tenant_id: &str,
    property: &str,
    rows: &mut [Value],
) {
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get(property).and_then(Value::as_str))
        .filter(|v| crate::is_guid(v))
        .map(str::to_ascii_lowercase)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let app = graph.app_only();
    let lookups = futures::stream::iter(ids)
        .map(|id| {
            let app = app.clone();
            async move {
                let path =
                    format!("tenantRelationships/findTenantInformationByTenantId(tenantId='{id}')");
                let info = app
                    .get(partner_tenant_id, GraphVersion::V1, &path, &[])
                    .await
                    .ok();
                (id, info)
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let found: BTreeMap<String, Value> = lookups
        .into_iter()
        .filter_map(|(id, info)| info.map(|i| (id, i)))
        .collect();
    for row in rows.iter_mut() {
        let key = row
            .get(property)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        if let (Some(key), Value::Object(fields)) = (key, row) {
            let info = found.get(&key).cloned().unwrap_or(Value::Null);
            let mut with_info = Map::new();
            with_info.insert("TenantInfo".into(), info);
            with_info.extend(std::mem::take(fields));
            *fields = with_info;
        }
    }
}

/// How a Graph failure reads in CIPP messages: Graph's own message, else its code.
trait CippText {
    fn to_string_for_cipp(&self) -> String;
}

impl CippText for cipp_graph::GraphError {
    fn to_string_for_cipp(&self) -> String {
        match self {
            cipp_graph::GraphError::Api { message, code, .. } if message.is_empty() => code.clone(),
            cipp_graph::GraphError::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_items_are_cut_deduplicated_and_sorted() {
        let odata = BTreeMap::from([
            (
                "$select".to_owned(),
                "manager.displayName,id,displayName,id".to_owned(),
            ),
            ("$top".to_owned(), "5".to_owned()),
            ("$filter".to_owned(), String::new()),
        ]);
        assert_eq!(
            build_query(&odata).unwrap(),
            "$select=displayName,id,manager&$top=5"
        );
    }

    #[test]
    fn a_bad_top_or_count_is_refused_naming_the_parameter() {
        let odata = BTreeMap::from([("$top".to_owned(), "lots".to_owned())]);
        assert!(
            build_query(&odata)
                .unwrap_err()
                .to_string()
                .starts_with("$top")
        );
        let odata = BTreeMap::from([("$count".to_owned(), "maybe".to_owned())]);
        assert!(
            build_query(&odata)
                .unwrap_err()
                .to_string()
                .starts_with("$count")
        );
    }
}
