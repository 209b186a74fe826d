//! `ListLogs` (CIPP-API `Invoke-ListLogs.ps1`): the audit log, as CIPP's logbook reads it,
//! scoped to the caller's tenants (rows of no tenant only for callers allowed every tenant).
//!
//! Beyond CIPP: `PageSize` (1–10,000) with `nextLink` pages through any range with keyset
//! queries and answers `{Results, Metadata: {nextLink}}`, which the CIPP frontend follows on
//! its own; a page also ends after about 4 MB, so its size is bounded whatever rows it holds. Without `PageSize` the whole selection is streamed, read page by page from the
//! store, so even a 100,000-row range is never loaded at once.

use cipp_store::{ApiFilter, AuditEntry, AuditQuery, Cursor, DateRange, Severity, Store};
use futures::stream;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::str::FromStr;
use time::Date;
use time::macros::format_description;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::UserError;
use crate::op::ctx::start_rows;
use crate::op::types::Guid;
use crate::op::{Ctx, Method, Operation, Outcome, RowStream, Source, TenantUse};

pub struct ListLogs;

/// Severities shown when the caller names none (CIPP leaves Debug out).
const DEFAULT_SEVERITIES: &[Severity] = &[
    Severity::Info,
    Severity::Warning,
    Severity::Error,
    Severity::Critical,
    Severity::Alert,
];
/// Rows read from the store per query when streaming a whole selection: 50 of the largest rows
/// are under 1 MB, so several answers streaming at once stay small in memory (benches, A1).
const STREAM_PAGE: u32 = 50;
const FAILED: &str = "Failed to read the logs";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// `true` answers the days that have log rows (`[{value, label}]`) instead of rows.
    #[serde(rename = "ListLogs", default)]
    pub list_logs: bool,
    /// One row by its `RowKey`.
    #[serde(rename = "logentryid")]
    pub log_entry_id: Option<Guid>,
    /// `true` applies the date range, `Severity`, `User`, `Tenant` and `API` filters; without
    /// it only `DateFilter` (one day) counts.
    #[serde(rename = "Filter", default)]
    pub filter: bool,
    /// One day (default today); the range's start and end when `StartDate`/`EndDate` are absent.
    #[serde(rename = "DateFilter")]
    pub date_filter: Option<ListLogsDay>,
    /// The first day of the range (with `Filter=true`).
    #[serde(rename = "StartDate")]
    pub start_date: Option<ListLogsDay>,
    /// The last day of the range (with `Filter=true` and a start); an end alone shows today, as in CIPP.
    #[serde(rename = "EndDate")]
    pub end_date: Option<ListLogsDay>,
    /// Severities, comma-separated (with `Filter=true`); default all but Debug.
    #[serde(rename = "Severity")]
    pub severity: Option<ListLogsSeverities>,
    /// Who made the call: `*` wildcards, case-insensitive; `*` alone matches everyone (with `Filter=true`).
    #[serde(rename = "User")]
    pub user: Option<String>,
    /// Rows whose tenant contains this text or whose tenant id is this; `AllTenants` means every
    /// tenant (with `Filter=true`).
    #[serde(rename = "Tenant")]
    pub tenant: Option<String>,
    /// The operation name, as a case-insensitive regular expression (with `Filter=true`).
    #[serde(rename = "API")]
    pub api: Option<String>,
    /// Rows per page (1–10,000): answers `{Results, Metadata: {nextLink}}` instead of every row.
    #[serde(rename = "PageSize")]
    #[schema(minimum = 1, maximum = 10000)]
    pub page_size: Option<u32>,
    /// The `Metadata.nextLink` of the previous page.
    #[serde(rename = "nextLink")]
    pub next_link: Option<String>,
    /// Ignored: no standards run here.
    #[serde(rename = "StandardTemplateId")]
    pub standard_template_id: Option<String>,
    /// Ignored: no scheduled tasks run here.
    #[serde(rename = "ScheduledTaskId")]
    pub scheduled_task_id: Option<String>,
    /// Ignored: no baselines run here.
    #[serde(rename = "BaselineRunId")]
    pub baseline_run_id: Option<String>,
}

/// A day as CIPP's logbook names it: `yyyyMMdd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ListLogsDay(pub Date);

impl TryFrom<String> for ListLogsDay {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Date::parse(value.trim(), format_description!("[year][month][day]"))
            .map(Self)
            .map_err(|_| format!("'{value}' is not a date like 20261127"))
    }
}

impl PartialSchema for ListLogsDay {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A UTC day as `yyyyMMdd`."))
            .pattern(Some("^[0-9]{8}$"))
            .examples(["20261127"])
            .into()
    }
}

impl ToSchema for ListLogsDay {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ListLogsDay")
    }
}

/// Severities as CIPP's logbook sends them: comma-separated, any case (`Warn` is `Warning`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ListLogsSeverities(pub Vec<Severity>);

impl TryFrom<String> for ListLogsSeverities {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let mut severities = Vec::new();
        for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            // CIPP writes both Warn and Warning; they are one severity here.
            let name = if name.eq_ignore_ascii_case("warn") {
                "Warning"
            } else {
                name
            };
            let severity = Severity::from_str(name).map_err(|_| {
                format!("'{name}' is not one of Info, Warning, Error, Critical, Alert, Debug")
            })?;
            if !severities.contains(&severity) {
                severities.push(severity);
            }
        }
        Ok(Self(severities))
    }
}

impl PartialSchema for ListLogsSeverities {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Comma-separated severities: Info, Warning (or Warn), Error, Critical, Alert, Debug.",
            ))
            .examples(["Info,Warning,Error"])
            .into()
    }
}

impl ToSchema for ListLogsSeverities {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ListLogsSeverities")
    }
}

/// The days with rows, the rows, or one page of rows.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListLogsAnswer {
    Days(Vec<ListLogsDayOption>),
    Rows(Vec<ListLogsRow>),
    Page(ListLogsPage),
}

/// A day that has rows, as the logbook's date picker reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListLogsDayOption {
    /// `yyyyMMdd`.
    pub value: String,
    /// `yyyyMMdd`.
    pub label: String,
}

/// One page of rows (`PageSize`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ListLogsPage {
    #[serde(rename = "Results")]
    pub results: Vec<ListLogsRow>,
    #[serde(rename = "Metadata")]
    pub metadata: ListLogsMetadata,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListLogsMetadata {
    /// Where the next page starts; absent on the last page.
    #[serde(rename = "nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// A log row in CIPP's field names.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListLogsRow {
    /// UTC, RFC 3339.
    #[serde(rename = "DateTime")]
    pub date_time: String,
    /// The tenant's default domain, or `None`.
    #[serde(rename = "Tenant")]
    pub tenant: String,
    /// The operation.
    #[serde(rename = "API")]
    pub api: String,
    #[serde(rename = "Message")]
    pub message: String,
    /// Who made the call.
    #[serde(rename = "User")]
    pub user: String,
    #[serde(rename = "Severity")]
    pub severity: String,
    #[serde(rename = "LogData")]
    pub log_data: ListLogsData,
    /// The tenant id, or `None`.
    #[serde(rename = "TenantID")]
    pub tenant_id: String,
    /// The API client's id.
    #[serde(rename = "AppId")]
    pub app_id: Option<String>,
    /// The caller's address.
    #[serde(rename = "IP")]
    pub ip: Option<String>,
    /// The row's id (for `logentryid`).
    #[serde(rename = "RowKey")]
    pub row_key: String,
    /// Present (empty) on a row read by `logentryid`.
    #[serde(rename = "Standard", skip_serializing_if = "Option::is_none")]
    pub standard: Option<ListLogsStandardInfo>,
    /// Present (empty) on rows of a list.
    #[serde(rename = "StandardInfo", skip_serializing_if = "Option::is_none")]
    pub standard_info: Option<ListLogsStandardInfo>,
    /// The row's day, `yyyyMMdd`.
    #[serde(rename = "DateFilter")]
    pub date_filter: String,
}

/// What CIPP records about the standard a row belongs to; empty here, as no standards run.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ListLogsStandardInfo {
    #[serde(rename = "Template", skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(rename = "Standard", skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
}

/// What the call was and how it went.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListLogsData {
    /// The call's parameters, secrets redacted.
    #[serde(rename = "Parameters")]
    pub parameters: Value,
    /// `Success`, `Failure` or `Error`.
    #[serde(rename = "Result")]
    pub result: String,
    /// The HTTP status answered.
    #[serde(rename = "Status")]
    pub status: u16,
    /// The object acted on.
    #[serde(rename = "Target")]
    pub target: Option<String>,
    /// The caller's role.
    #[serde(rename = "Role")]
    pub role: Option<String>,
    /// `user`, `api_client`, `anonymous`, or `job` (a durable job finishing queued work).
    #[serde(rename = "ActorKind")]
    pub actor_kind: String,
    /// The `x-correlation-id` of the answer.
    #[serde(rename = "CorrelationId")]
    pub correlation_id: String,
}

/// Which of CIPP's empty standard fields a row carries.
#[derive(Clone, Copy)]
enum StandardField {
    /// A row read by its id.
    Standard,
    /// A row of a list.
    StandardInfo,
}

impl Operation for ListLogs {
    type Params = Params;
    type Answer = ListLogsAnswer;
    const NAME: &'static str = "ListLogs";
    const TAG: &'static str = "CIPP > Core";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListLogs.ps1",
        frontend: Some("src/components/CippComponents/CippApiLogsDrawer.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The rows are this service's audit log (one per write and per refusal). `StandardTemplateId`, `ScheduledTaskId` and `BaselineRunId` are ignored, as no standards, scheduled tasks or baselines run here. Beyond CIPP, `PageSize` with `nextLink` pages through any range (`{Results, Metadata: {nextLink}}`); without `PageSize` an answer stops at 5,000 rows (setting `CIPP_LIST_LOGS_MAX_ROWS`) and its last row says so and how to narrow the query. Rows with no tenant are shown only to callers allowed every tenant. A date, severity, `API` pattern or `PageSize` that does not fit is a 400 naming the parameter.",
    );

    fn example() -> Value {
        json!({"Filter": true, "Severity": "Info,Warning,Error", "PageSize": 50})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ListLogsAnswer>, UserError> {
        let store = ctx.store.clone();
        if params.list_logs {
            let dates = store
                .distinct_dates()
                .await
                .map_err(|e| UserError::internal(FAILED, e))?;
            let days = dates
                .iter()
                .map(|d| {
                    let key = day_key(*d);
                    ListLogsDayOption {
                        value: key.clone(),
                        label: key,
                    }
                })
                .collect();
            return Ok(Outcome::json(ListLogsAnswer::Days(days)));
        }
        let allowed = allowed_tenants(&ctx).await?;
        if let Some(id) = &params.log_entry_id {
            let id = uuid::Uuid::parse_str(id.as_str()).map_err(|_| {
                UserError::invalid("logentryid", format!("logentryid: '{id}' is not a GUID"))
            })?;
            let entry = store
                .get_audit(id)
                .await
                .map_err(|e| UserError::internal(FAILED, e))?;
            let rows = entry
                .filter(|e| visible_to(e, allowed.as_deref()))
                .map(|e| row(&e, StandardField::Standard))
                .into_iter()
                .collect();
            return Ok(Outcome::json(ListLogsAnswer::Rows(rows)));
        }
        let mut query = selection(&params)?;
        query.allowed_tenants = allowed;
        if let Some(size) = params.page_size {
            if !(1..=AuditQuery::MAX_PAGE_SIZE).contains(&size) {
                return Err(UserError::invalid(
                    "PageSize",
                    format!(
                        "PageSize must be a whole number from 1 to {}",
                        AuditQuery::MAX_PAGE_SIZE
                    ),
                ));
            }
            query.page_size = size;
            if let Some(link) = &params.next_link {
                query.cursor = Some(Cursor::decode(link).map_err(|_| {
                    UserError::invalid("nextLink", "nextLink is not a cursor this API issued")
                })?);
            }
            let (results, next) = bounded_page(&store, query, size as usize).await?;
            return Ok(Outcome::json(ListLogsAnswer::Page(ListLogsPage {
                results,
                metadata: ListLogsMetadata {
                    next_link: next.map(|next| next.encode()),
                },
            })));
        }
        let max_rows = ctx.env.list_logs_max_rows;
        query.page_size = STREAM_PAGE.min(u32::try_from(max_rows).unwrap_or(STREAM_PAGE));
        Ok(Outcome::rows(RowStream {
            prefix: String::new(),
            pages: start_rows(all_pages(store, query, max_rows)).await?,
            suffix: String::new(),
        }))
    }
}

/// A `PageSize` page is read from the store in slices of at most this many rows...
const PAGE_SLICE: usize = 250;
/// ...and ends early, with a `nextLink` after its last row, once it holds about this many bytes:
/// rows are bounded at 16 KB, so 10,000 of them would otherwise be 160 MB held at once (the
/// answer is held about three times over while it is built and written).
const PAGE_BYTES: usize = 4 * 1024 * 1024;

/// One `PageSize` page: at most `wanted` rows and about [`PAGE_BYTES`], and the cursor after its
/// last row when more rows follow.
async fn bounded_page(
    store: &Store,
    mut query: AuditQuery,
    wanted: usize,
) -> Result<(Vec<ListLogsRow>, Option<Cursor>), UserError> {
    let mut rows = Vec::new();
    let mut bytes = 0usize;
    loop {
        query.page_size = u32::try_from(PAGE_SLICE.min(wanted - rows.len())).unwrap_or(1);
        let slice = store
            .list_audit(&query)
            .await
            .map_err(|e| UserError::internal(FAILED, e))?;
        let count = slice.entries.len();
        for (index, entry) in slice.entries.iter().enumerate() {
            bytes += approximate_size(entry);
            rows.push(row(entry, StandardField::StandardInfo));
            let full = rows.len() >= wanted || bytes >= PAGE_BYTES;
            if full {
                let more = index + 1 < count || slice.next.is_some();
                return Ok((rows, more.then(|| Cursor::after(entry))));
            }
        }
        match slice.next {
            Some(next) => query.cursor = Some(next),
            None => return Ok((rows, None)),
        }
    }
}

/// About how many bytes `entry` takes as a row of the answer: the caller-sized parts, plus the
/// fixed fields' names and values.
fn approximate_size(entry: &AuditEntry) -> usize {
    const FIXED: usize = 480;
    let text = |t: &Option<String>| t.as_deref().map_or(0, str::len);
    FIXED
        + entry.parameters.to_string().len()
        + entry.message.len()
        + entry.actor.len()
        + text(&entry.tenant)
        + text(&entry.target)
}

/// Every page of a selection, read with keyset queries one after another.
/// At most `max_rows` rows (the `CIPP_LIST_LOGS_MAX_ROWS` setting, 5,000 unless set) are sent,
/// then one row saying the answer was cut: rows are bounded at 16 KB, so an answer is too,
/// whatever the log holds.
fn all_pages(
    store: Store,
    query: AuditQuery,
    max_rows: usize,
) -> impl futures::Stream<Item = Result<Vec<Value>, UserError>> {
    stream::unfold(Some((query, 0usize)), move |query| {
        let store = store.clone();
        async move {
            let (mut query, sent) = query?;
            if sent >= max_rows {
                return None;
            }
            let page = match store.list_audit(&query).await {
                Ok(page) => page,
                Err(error) => return Some((Err(UserError::internal(FAILED, error)), None)),
            };
            let rows: Result<Vec<Value>, UserError> = page
                .entries
                .iter()
                .map(|e| {
                    serde_json::to_value(row(e, StandardField::StandardInfo))
                        .map_err(|e| UserError::internal(FAILED, e))
                })
                .collect();
            let more = page.next.is_some();
            let next = page.next.map(|cursor| {
                query.cursor = Some(cursor);
                (query, sent + page.entries.len())
            });
            let rows = rows.map(|mut rows| {
                let room = max_rows - sent;
                if rows.len() > room || (rows.len() == room && more) {
                    rows.truncate(room);
                    rows.push(cut_row(max_rows));
                }
                rows
            });
            Some((rows, next))
        }
    })
}

/// The last row of an answer cut at `max_rows`: what happened and how to narrow it.
/// Built as a [`ListLogsRow`], so it has the documented shape of every other row.
fn cut_row(max_rows: usize) -> Value {
    let row = ListLogsRow {
        date_time: String::new(),
        tenant: "None".into(),
        api: "ListLogs".into(),
        message: format!(
            "This answer was cut at {max_rows} rows. Narrow the query (StartDate and EndDate, Severity, User, Tenant or API) or page through every row with PageSize and nextLink."
        ),
        user: String::new(),
        severity: "Warning".into(),
        log_data: ListLogsData {
            parameters: json!({}),
            result: "Cut".into(),
            status: 200,
            target: None,
            role: None,
            actor_kind: "Service".into(),
            correlation_id: String::new(),
        },
        tenant_id: "None".into(),
        app_id: None,
        ip: None,
        row_key: String::new(),
        standard: None,
        standard_info: Some(ListLogsStandardInfo::default()),
        date_filter: String::new(),
    };
    serde_json::to_value(row).unwrap_or_default()
}

/// The caller's tenants by every name, or `None` when no tenant list limits the caller.
async fn allowed_tenants(ctx: &Ctx) -> Result<Option<Vec<String>>, UserError> {
    if ctx.caller.sees_every_tenant() {
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
    // Rows with no tenant are for callers allowed every tenant (see the store's filter).
    let tenant = entry.tenant.as_deref().unwrap_or("None");
    allowed.iter().any(|a| a.eq_ignore_ascii_case(tenant))
        || entry
            .tenant_id
            .as_deref()
            .is_some_and(|id| allowed.iter().any(|a| a.eq_ignore_ascii_case(id)))
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
fn selection(params: &Params) -> Result<AuditQuery, UserError> {
    let today = time::OffsetDateTime::now_utc().date();
    let mut query = AuditQuery::default();
    let date_filter = params.date_filter.map(|d| d.0);
    if params.filter {
        let start = params.start_date.map(|d| d.0).or(date_filter);
        let end = params.end_date.map(|d| d.0).or(date_filter);
        query.dates = Some(match (start, end) {
            // A reversed range is the caller's mistake, answered before any row is read (it
            // used to reach the streamed answer and cut the connection).
            (Some(start), Some(end)) if end < start => {
                return Err(UserError::invalid(
                    "EndDate",
                    format!(
                        "EndDate ({}) is before StartDate ({})",
                        day_key(end),
                        day_key(start)
                    ),
                ));
            }
            (Some(start), Some(end)) => DateRange::new(start, end),
            (Some(start), None) => DateRange::day(start),
            // CIPP ignores an EndDate alone and shows today.
            _ => DateRange::day(today),
        });
        query.severities = match &params.severity {
            Some(severities) => severities.0.clone(),
            None => DEFAULT_SEVERITIES.to_vec(),
        };
        query.actor = params.user.clone().filter(|u| u != "*");
        query.tenant = params
            .tenant
            .clone()
            .filter(|t| !t.eq_ignore_ascii_case("AllTenants"));
        if let Some(api) = &params.api {
            regex::Regex::new(&format!("(?i){api}")).map_err(|e| {
                UserError::invalid("API", format!("API: not a regular expression: {e}"))
            })?;
            query.api = Some(ApiFilter::Regex(api.clone()));
        }
    } else {
        query.dates = Some(DateRange::day(date_filter.unwrap_or(today)));
        query.severities = DEFAULT_SEVERITIES.to_vec();
    }
    Ok(query)
}

/// A log row in CIPP's field names.
fn row(entry: &AuditEntry, standard: StandardField) -> ListLogsRow {
    let time = entry
        .time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let (standard, standard_info) = match standard {
        StandardField::Standard => (Some(ListLogsStandardInfo::default()), None),
        StandardField::StandardInfo => (None, Some(ListLogsStandardInfo::default())),
    };
    ListLogsRow {
        date_time: time,
        tenant: entry.tenant.clone().unwrap_or_else(|| "None".into()),
        api: entry.operation.clone(),
        message: entry.message.clone(),
        user: entry.actor.clone(),
        severity: entry.severity.to_string(),
        log_data: ListLogsData {
            parameters: entry.parameters.clone(),
            result: entry.result.as_str().to_owned(),
            status: entry.status,
            target: entry.target.clone(),
            role: entry.role.clone(),
            actor_kind: entry.actor_kind.as_str().to_owned(),
            correlation_id: entry.correlation_id.clone(),
        },
        tenant_id: entry.tenant_id.clone().unwrap_or_else(|| "None".into()),
        app_id: entry.app_id.clone(),
        ip: entry.source_ip.clone(),
        row_key: entry.id.to_string(),
        standard,
        standard_info,
        date_filter: day_key(entry.time.date()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_read_as_yyyymmdd_and_anything_else_is_named() {
        let day = ListLogsDay::try_from("20261127".to_owned()).unwrap();
        assert_eq!(day_key(day.0), "20261127");
        assert_eq!(
            ListLogsDay::try_from("yesterday".to_owned()).unwrap_err(),
            "'yesterday' is not a date like 20261127"
        );
    }

    #[test]
    fn severities_are_comma_separated_any_case_and_warn_is_warning() {
        let read = ListLogsSeverities::try_from("info, WARN,Warning,,debug".to_owned()).unwrap();
        assert_eq!(
            read.0,
            vec![Severity::Info, Severity::Warning, Severity::Debug]
        );
        assert!(ListLogsSeverities::try_from("Info,Loud".to_owned()).is_err());
    }
}
