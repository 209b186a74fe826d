//! `ListLogs` (CIPP-API `Invoke-ListLogs.ps1`): the audit log, as CIPP's logbook reads it,
//! scoped to the caller's tenants (rows of no tenant are always visible).
//!
//! Beyond CIPP: `PageSize` (1–10,000) with `nextLink` pages through any range with keyset
//! queries and answers `{Results, Metadata: {nextLink}}`, which the CIPP frontend follows on
//! its own. Without `PageSize` the whole selection is streamed, read page by page from the
//! store, so even a 100,000-row range is never loaded at once.

use cipp_store::{ApiFilter, AuditEntry, AuditQuery, Cursor, DateRange, Severity, Store};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use futures::stream::{self, StreamExt};
use serde_json::{Value, json};
use std::str::FromStr;
use time::Date;
use time::macros::format_description;

use super::{Context, Reply};
use crate::auth::roles::TenantScope;
use crate::error::ApiError;
use crate::streaming::json_array;

/// Severities shown when the caller names none (CIPP leaves Debug out).
const DEFAULT_SEVERITIES: &[&str] = &["Info", "Warning", "Error", "Critical", "Alert"];
/// Rows read from the store per query when streaming a whole selection.
const STREAM_PAGE: u32 = 1000;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let store = ctx.state.store.clone();
        if ctx.params.string("ListLogs").is_some() {
            let dates = store.distinct_dates().await.map_err(store_failed)?;
            let rows: Vec<Value> = dates
                .iter()
                .map(|d| {
                    let key = day_key(*d);
                    json!({"value": key, "label": key})
                })
                .collect();
            return Ok(Reply::ok(Value::Array(rows)));
        }
        let allowed = allowed_tenants(&ctx).await?;
        if let Some(id) = ctx.params.string("logentryid") {
            let id = uuid::Uuid::parse_str(&id)
                .map_err(|_| ApiError::bad_request(format!("logentryid: '{id}' is not a GUID")))?;
            let entry = store.get_audit(id).await.map_err(store_failed)?;
            let visible = entry.filter(|e| visible_to(e, allowed.as_deref()));
            let rows: Vec<Value> = visible.iter().map(|e| row(e, "Standard")).collect();
            return Ok(Reply::ok(Value::Array(rows)));
        }
        let mut query = selection(&ctx)?;
        query.allowed_tenants = allowed;
        if let Some(size) = ctx.params.string("PageSize") {
            let size: u32 = size
                .parse()
                .ok()
                .filter(|n| (1..=AuditQuery::MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "PageSize must be a whole number from 1 to {}",
                        AuditQuery::MAX_PAGE_SIZE
                    ))
                })?;
            query.page_size = size;
            if let Some(link) = ctx.params.string("nextLink") {
                query.cursor = Some(Cursor::decode(&link).map_err(|_| {
                    ApiError::bad_request("nextLink is not a cursor this API issued")
                })?);
            }
            let page = store.list_audit(&query).await.map_err(store_failed)?;
            let mut metadata = serde_json::Map::new();
            if let Some(next) = page.next {
                metadata.insert("nextLink".into(), json!(next.encode()));
            }
            let rows: Vec<Value> = page
                .entries
                .iter()
                .map(|e| row(e, "StandardInfo"))
                .collect();
            return Ok(Reply::ok(json!({"Results": rows, "Metadata": metadata})));
        }
        query.page_size = STREAM_PAGE;
        Ok(Reply::stream(json_array(
            String::new(),
            all_pages(store, query),
            String::new(),
        )))
    }
    .boxed_local()
}

/// Every page of a selection, read with keyset queries one after another.
fn all_pages(store: Store, query: AuditQuery) -> crate::streaming::RowPages {
    stream::unfold(Some(query), move |query| {
        let store = store.clone();
        async move {
            let mut query = query?;
            match store.list_audit(&query).await {
                Err(error) => Some((Err(store_failed(error)), None)),
                Ok(page) => {
                    let rows = page
                        .entries
                        .iter()
                        .map(|e| row(e, "StandardInfo"))
                        .collect();
                    let next = page.next.map(|cursor| {
                        query.cursor = Some(cursor);
                        query
                    });
                    Some((Ok(rows), next))
                }
            }
        }
    })
    .boxed_local()
}

fn store_failed(error: cipp_store::StoreError) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
        format!("Failed to read the logs: {error}"),
    )
}

/// The caller's tenants by every name, or `None` when unrestricted.
async fn allowed_tenants(ctx: &Context) -> Result<Option<Vec<String>>, ApiError> {
    if ctx.scope() == TenantScope::All {
        return Ok(None);
    }
    let mut names = Vec::new();
    for tenant in ctx.visible_tenants().await? {
        names.extend([
            tenant.customer_id,
            tenant.default_domain_name,
            tenant.initial_domain_name,
        ]);
    }
    Ok(Some(names))
}

fn visible_to(entry: &AuditEntry, allowed: Option<&[String]>) -> bool {
    let Some(allowed) = allowed else { return true };
    let tenant = entry.tenant.as_deref().unwrap_or("None");
    matches!(tenant, "None" | "CIPP" | "Global")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(tenant))
        || entry
            .tenant_id
            .as_deref()
            .is_some_and(|id| allowed.iter().any(|a| a.eq_ignore_ascii_case(id)))
}

fn parse_day(field: &str, value: &str) -> Result<Date, ApiError> {
    Date::parse(value.trim(), format_description!("[year][month][day]")).map_err(|_| {
        ApiError::bad_request(format!("{field}: '{value}' is not a date like 20261127"))
    })
}

fn day_key(date: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// CIPP's selection rules: today and the usual severities by default; with `Filter=true`, the
/// date range, severities, user, tenant and API the caller names.
fn selection(ctx: &Context) -> Result<AuditQuery, ApiError> {
    let today = time::OffsetDateTime::now_utc().date();
    let mut query = AuditQuery::default();
    let date_filter = ctx.params.string("DateFilter");
    let severities: Vec<String>;
    if ctx.params.boolean("Filter")? {
        let start = ctx.params.string("StartDate").or(date_filter.clone());
        let end = ctx.params.string("EndDate").or(date_filter);
        query.dates = Some(match (start, end) {
            (Some(start), Some(end)) => {
                DateRange::new(parse_day("StartDate", &start)?, parse_day("EndDate", &end)?)
            }
            (Some(start), None) => DateRange::day(parse_day("StartDate", &start)?),
            // CIPP ignores an EndDate alone and shows today.
            _ => DateRange::day(today),
        });
        severities = match ctx.params.string("Severity") {
            Some(list) => list
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            None => DEFAULT_SEVERITIES.iter().map(|s| (*s).to_owned()).collect(),
        };
        query.actor = ctx.params.string("User").filter(|u| u != "*");
        query.tenant = ctx
            .params
            .string("Tenant")
            .filter(|t| !t.eq_ignore_ascii_case("AllTenants"));
        if let Some(api) = ctx.params.string("API") {
            regex::Regex::new(&format!("(?i){api}")).map_err(|e| {
                ApiError::bad_request(format!("API: not a regular expression: {e}"))
            })?;
            query.api = Some(ApiFilter::Regex(api));
        }
    } else {
        query.dates = Some(match date_filter {
            Some(day) => DateRange::day(parse_day("DateFilter", &day)?),
            None => DateRange::day(today),
        });
        severities = DEFAULT_SEVERITIES.iter().map(|s| (*s).to_owned()).collect();
    }
    for name in severities {
        // CIPP writes both Warn and Warning; they are one severity here.
        let name = if name.eq_ignore_ascii_case("warn") {
            "Warning".to_owned()
        } else {
            name
        };
        let severity = Severity::from_str(&name).map_err(|_| {
            ApiError::bad_request(format!(
                "Severity: '{name}' is not one of Info, Warning, Error, Critical, Alert, Debug"
            ))
        })?;
        if !query.severities.contains(&severity) {
            query.severities.push(severity);
        }
    }
    Ok(query)
}

/// A log row in CIPP's field names.
fn row(entry: &AuditEntry, standard_field: &str) -> Value {
    let time = entry
        .time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!({
        "DateTime": time,
        "Tenant": entry.tenant.clone().unwrap_or_else(|| "None".into()),
        "API": entry.operation,
        "Message": entry.message,
        "User": entry.actor,
        "Severity": entry.severity.to_string(),
        "LogData": {
            "Parameters": entry.parameters,
            "Result": entry.result.as_str(),
            "Status": entry.status,
            "Target": entry.target,
            "Role": entry.role,
            "ActorKind": entry.actor_kind.as_str(),
            "CorrelationId": entry.correlation_id,
        },
        "TenantID": entry.tenant_id.clone().unwrap_or_else(|| "None".into()),
        "AppId": entry.app_id,
        "IP": entry.source_ip,
        "RowKey": entry.id.to_string(),
        standard_field: {},
        "DateFilter": day_key(entry.time.date()),
    })
}
