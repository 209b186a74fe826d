//! The audit log: one row per API call, the aggregated anonymous 401 counters, and the
//! queries behind `ListLogs`.
//!
//! Filter semantics (mirroring CIPP's `ListLogs`, which filters with PowerShell's
//! case-insensitive `-like`/`-match`):
//! - tenant: case-insensitive substring of the tenant name, or the tenant id exactly;
//!   `AllTenants` means no filter;
//! - allowed tenants: a caller's tenant set (names or ids, any case); rows whose tenant is
//!   `CIPP`, `None` or missing are always visible;
//! - actor: a `*` wildcard pattern, case-insensitive, matching the whole actor;
//! - API: [`ApiFilter::Contains`] is a case-insensitive substring; [`ApiFilter::Regex`] is a
//!   case-insensitive regular expression, evaluated by PostgreSQL's `~*` (POSIX syntax) or,
//!   on SQLite, by sqlx's `REGEXP` function (Rust `regex` syntax, with `(?i)`). The two
//!   syntaxes agree on everything CIPP's filters use (literals, `.`, `*`, `|`, `^`, `$`,
//!   classes).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{Database, Encode, QueryBuilder, Row, Type};
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

use crate::time_col::DbTime;
use crate::{Backend, Store, StoreError, on_pool};

/// Who made the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiClient,
    Anonymous,
    /// A durable job finishing work a caller queued earlier (the row names who queued it).
    Job,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiClient => "api_client",
            ActorKind::Anonymous => "anonymous",
            ActorKind::Job => "job",
        }
    }
}

impl FromStr for ActorKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s.to_ascii_lowercase().as_str() {
            "user" => Ok(ActorKind::User),
            "api_client" => Ok(ActorKind::ApiClient),
            "anonymous" => Ok(ActorKind::Anonymous),
            "job" => Ok(ActorKind::Job),
            _ => Err(corrupt("actor_kind", s)),
        }
    }
}

/// The outcome of the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditResult {
    Success,
    Error,
    Warning,
}

impl AuditResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditResult::Success => "Success",
            AuditResult::Error => "Error",
            AuditResult::Warning => "Warning",
        }
    }
}

impl FromStr for AuditResult {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s.to_ascii_lowercase().as_str() {
            "success" => Ok(AuditResult::Success),
            "error" => Ok(AuditResult::Error),
            "warning" => Ok(AuditResult::Warning),
            _ => Err(corrupt("result", s)),
        }
    }
}

/// Log severity, stored as CIPP writes it ("Info", "Warning", ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Severity {
    Info,
    Warning,
    Error,
    Debug,
    Critical,
    Alert,
}

impl Severity {
    pub const ALL: [Severity; 6] = [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Debug,
        Severity::Critical,
        Severity::Alert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Warning => "Warning",
            Severity::Error => "Error",
            Severity::Debug => "Debug",
            Severity::Critical => "Critical",
            Severity::Alert => "Alert",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Case-insensitive, as `ListLogs` receives severities from query strings in any case.
impl FromStr for Severity {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| StoreError::InvalidFilter(format!("unknown severity {s:?}")))
    }
}

/// One audit row. `id` is CIPP's RowKey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: Uuid,
    /// UTC; stored with microsecond precision.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// A UPN, or an API client's name and id.
    pub actor: String,
    pub actor_kind: ActorKind,
    pub app_id: Option<String>,
    pub role: Option<String>,
    pub source_ip: Option<String>,
    /// The tenant's default domain, or "None" / "CIPP" for calls not about one tenant.
    pub tenant: Option<String>,
    pub tenant_id: Option<String>,
    /// The API name, e.g. `ExecDisableUser`.
    pub operation: String,
    /// A user id or UPN.
    pub target: Option<String>,
    /// Already redacted by the caller.
    pub parameters: serde_json::Value,
    pub result: AuditResult,
    pub message: String,
    pub severity: Severity,
    pub correlation_id: String,
    pub status: u16,
}

/// Anonymous 401s of one source IP in one minute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnauthorizedCount {
    pub source_ip: String,
    pub minute: OffsetDateTime,
    pub count: u64,
}

/// UTC dates, both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    pub start: Date,
    pub end: Date,
}

impl DateRange {
    pub fn new(start: Date, end: Date) -> Self {
        Self { start, end }
    }

    pub fn day(date: Date) -> Self {
        Self {
            start: date,
            end: date,
        }
    }
}

/// How to match the API (operation) name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiFilter {
    /// Case-insensitive substring.
    Contains(String),
    /// Case-insensitive regular expression (see the module doc for the syntax per backend).
    Regex(String),
}

/// A position in the (time, id) descending order: the last row of a page. Its string form
/// ([`Cursor::encode`]) is opaque to callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    time: DbTime,
    id: Uuid,
}

impl Cursor {
    /// The position just after `entry` in the newest-first order.
    pub fn after(entry: &AuditEntry) -> Self {
        Self {
            time: DbTime::new(entry.time),
            id: entry.id,
        }
    }

    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(&self.time.unix_micros().to_be_bytes());
        bytes.extend_from_slice(self.id.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(token: &str) -> Result<Self, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| StoreError::InvalidCursor)?;
        let (micros, id) = bytes.split_at_checked(8).ok_or(StoreError::InvalidCursor)?;
        let micros: [u8; 8] = micros.try_into().map_err(|_| StoreError::InvalidCursor)?;
        let id = Uuid::from_slice(id).map_err(|_| StoreError::InvalidCursor)?;
        let time = DbTime::from_unix_micros(i64::from_be_bytes(micros))
            .map_err(|_| StoreError::InvalidCursor)?;
        Ok(Self { time, id })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for Cursor {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Cursor::decode(s)
    }
}

/// A `ListLogs` query. Empty or `None` fields do not filter.
#[derive(Clone, Debug)]
pub struct AuditQuery {
    pub dates: Option<DateRange>,
    pub tenant: Option<String>,
    /// The caller's allowed tenants (names or ids); `None` means all tenants.
    pub allowed_tenants: Option<Vec<String>>,
    pub actor: Option<String>,
    pub severities: Vec<Severity>,
    pub api: Option<ApiFilter>,
    pub id: Option<Uuid>,
    /// Rows per page, clamped to 1..=[`AuditQuery::MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// Continue after this position (from the previous page's `next`).
    pub cursor: Option<Cursor>,
}

impl AuditQuery {
    pub const DEFAULT_PAGE_SIZE: u32 = 100;
    pub const MAX_PAGE_SIZE: u32 = 10_000;
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            dates: None,
            tenant: None,
            allowed_tenants: None,
            actor: None,
            severities: Vec::new(),
            api: None,
            id: None,
            page_size: Self::DEFAULT_PAGE_SIZE,
            cursor: None,
        }
    }
}

/// One page of rows, newest first, and where the next page starts (`None` on the last).
#[derive(Clone, Debug, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<Cursor>,
}

const INSERT_SQL: &str = "INSERT INTO audit_log (id, time, day, actor, actor_kind, app_id, role, \
     source_ip, tenant, tenant_id, operation, target, parameters, result, message, severity, \
     correlation_id, status) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

const SELECT_COLUMNS: &str = "SELECT id, time, actor, actor_kind, app_id, role, source_ip, \
     tenant, tenant_id, operation, target, parameters, result, message, severity, \
     correlation_id, status FROM audit_log";

/// Binds an entry to [`INSERT_SQL`] and executes it on `$exec`.
macro_rules! insert_entry {
    ($entry:expr, $exec:expr) => {{
        let e: &AuditEntry = $entry;
        sqlx::query(INSERT_SQL)
            .bind(e.id)
            .bind(DbTime::new(e.time))
            .bind(day_key(e.time.to_offset(time::UtcOffset::UTC).date()))
            .bind(&e.actor)
            .bind(e.actor_kind.as_str())
            .bind(&e.app_id)
            .bind(&e.role)
            .bind(&e.source_ip)
            .bind(&e.tenant)
            .bind(&e.tenant_id)
            .bind(&e.operation)
            .bind(&e.target)
            .bind(Json(&e.parameters))
            .bind(e.result.as_str())
            .bind(&e.message)
            .bind(e.severity.as_str())
            .bind(&e.correlation_id)
            .bind(i32::from(e.status))
            .execute($exec)
            .await
            .map(|r| r.rows_affected())
    }};
}

/// Reads a row selected with [`SELECT_COLUMNS`].
macro_rules! entry_from_row {
    ($row:expr) => {{
        let row = $row;
        let time: DbTime = row.try_get("time")?;
        let status: i32 = row.try_get("status")?;
        let parameters: Json<serde_json::Value> = row.try_get("parameters")?;
        Ok::<AuditEntry, StoreError>(AuditEntry {
            id: row.try_get("id")?,
            time: time.get(),
            actor: row.try_get("actor")?,
            actor_kind: row.try_get::<String, _>("actor_kind")?.parse()?,
            app_id: row.try_get("app_id")?,
            role: row.try_get("role")?,
            source_ip: row.try_get("source_ip")?,
            tenant: row.try_get("tenant")?,
            tenant_id: row.try_get("tenant_id")?,
            operation: row.try_get("operation")?,
            target: row.try_get("target")?,
            parameters: parameters.0,
            result: row.try_get::<String, _>("result")?.parse()?,
            message: row.try_get("message")?,
            severity: parse_stored_severity(&row.try_get::<String, _>("severity")?)?,
            correlation_id: row.try_get("correlation_id")?,
            status: u16::try_from(status).map_err(|_| corrupt("status", &status.to_string()))?,
        })
    }};
}

impl Store {
    /// Writes one audit row; returns once it is durable (see the crate doc).
    pub async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        on_pool!(self, p => insert_entry!(entry, p))?;
        metrics::counter!("cipp_audit_rows_written_total").increment(1);
        Ok(())
    }

    /// Writes many audit rows in one transaction (imports, tests, benchmarks).
    pub async fn insert_audit_batch(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for entry in entries {
                insert_entry!(entry, &mut *tx)?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Counts one anonymous 401 from `source_ip` in the minute containing `at`; returns the
    /// count for that IP and minute so far. One row per IP and minute, however many requests.
    pub async fn record_unauthorized(
        &self,
        source_ip: &str,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let minute = DbTime::new(truncate_to_minute(at));
        let count: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO audit_unauthorized (source_ip, minute, count) VALUES ($1, $2, 1) \
                 ON CONFLICT (source_ip, minute) \
                 DO UPDATE SET count = audit_unauthorized.count + 1 \
                 RETURNING count",
            )
            .bind(source_ip)
            .bind(minute)
            .fetch_one(p)
            .await
        })?;
        Ok(count.max(0) as u64)
    }

    /// The anonymous 401 counters from `since` on, newest minute first.
    pub async fn unauthorized_counts(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<UnauthorizedCount>, StoreError> {
        let since = DbTime::new(since);
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT source_ip, minute, count FROM audit_unauthorized WHERE minute >= $1 \
                 ORDER BY minute DESC, source_ip",
            )
            .bind(since)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|row| {
                    let minute: DbTime = row.try_get("minute")?;
                    let count: i64 = row.try_get("count")?;
                    Ok(UnauthorizedCount {
                        source_ip: row.try_get("source_ip")?,
                        minute: minute.get(),
                        count: count.max(0) as u64,
                    })
                })
                .collect()
        })
    }

    /// One audit row by id.
    pub async fn get_audit(&self, id: Uuid) -> Result<Option<AuditEntry>, StoreError> {
        let page = self
            .list_audit(&AuditQuery {
                id: Some(id),
                page_size: 1,
                ..AuditQuery::default()
            })
            .await?;
        Ok(page.entries.into_iter().next())
    }

    /// One page of audit rows matching `query`, newest first. Uses keyset paging on
    /// (time, id): each page is an index range scan, whatever the page number.
    pub async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let page_size = query.page_size.clamp(1, AuditQuery::MAX_PAGE_SIZE);
        let backend = self.backend();
        if let (Backend::Sqlite, Some(ApiFilter::Regex(pattern))) = (backend, &query.api) {
            // Checked here so a bad pattern is a filter error, not an opaque SQLite one.
            regex::Regex::new(pattern)
                .map_err(|e| StoreError::InvalidFilter(format!("API regex: {e}")))?;
        }
        let mut entries: Vec<AuditEntry> = on_pool!(self, p => {
            let mut qb = QueryBuilder::new(SELECT_COLUMNS);
            push_filters(&mut qb, query, backend)?;
            qb.push(" ORDER BY time DESC, id DESC LIMIT ");
            qb.push_bind(i64::from(page_size) + 1);
            let rows = qb.build().fetch_all(p).await.map_err(map_query_error)?;
            rows.iter().map(|row| entry_from_row!(row)).collect::<Result<Vec<_>, _>>()
        })?;
        // One extra row was fetched to learn whether another page follows.
        let next = if entries.len() > page_size as usize {
            entries.truncate(page_size as usize);
            entries.last().map(Cursor::after)
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }

    /// The UTC dates that have audit rows, newest first (the `ListLogs` date picker).
    pub async fn distinct_dates(&self) -> Result<Vec<Date>, StoreError> {
        let days: Vec<String> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT DISTINCT day FROM audit_log ORDER BY day DESC")
                .fetch_all(p)
                .await
        })?;
        days.iter().map(|d| parse_day_key(d)).collect()
    }

    /// Retention: deletes audit rows and 401 counters older than `before`; returns how many
    /// rows were deleted in total.
    pub async fn delete_audit_before(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let before = DbTime::new(before);
        let deleted = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let rows = sqlx::query("DELETE FROM audit_log WHERE time < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let counters = sqlx::query("DELETE FROM audit_unauthorized WHERE minute < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(rows + counters)
        })?;
        Ok(deleted)
    }
}

/// Appends the WHERE clause for `query` (everything but ordering and limit).
fn push_filters<DB>(
    qb: &mut QueryBuilder<DB>,
    query: &AuditQuery,
    backend: Backend,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'a> DbTime: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Uuid: Encode<'a, DB> + Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    if let Some(id) = query.id {
        qb.push(" AND id = ").push_bind(id);
    }
    if let Some(range) = query.dates {
        if range.end < range.start {
            return Err(StoreError::InvalidFilter(
                "the end date is before the start date".into(),
            ));
        }
        qb.push(" AND time >= ")
            .push_bind(DbTime::new(range.start.midnight().assume_utc()));
        // Bounded by the next midnight so the whole end date is included.
        if let Some(after_end) = range.end.next_day() {
            qb.push(" AND time < ")
                .push_bind(DbTime::new(after_end.midnight().assume_utc()));
        }
    }
    if let Some(tenant) = query
        .tenant
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("AllTenants"))
    {
        qb.push(" AND (lower(tenant) LIKE ")
            .push_bind(format!("%{}%", escape_like(&tenant.to_lowercase())))
            .push(" ESCAPE '\\' OR lower(tenant_id) = ")
            .push_bind(tenant.to_lowercase())
            .push(")");
    }
    if let Some(allowed) = &query.allowed_tenants {
        // A row with no tenant (a call spanning several, or none) may name any of them, so
        // only callers allowed every tenant (no list) see it.
        qb.push(" AND (1 = 0");
        if !allowed.is_empty() {
            let lowered: Vec<String> = allowed.iter().map(|t| t.trim().to_lowercase()).collect();
            for column in ["tenant", "tenant_id"] {
                qb.push(format_args!(" OR lower({column}) IN ("));
                let mut list = qb.separated(", ");
                for t in &lowered {
                    list.push_bind(t.clone());
                }
                qb.push(")");
            }
        }
        qb.push(")");
    }
    if let Some(actor) = query.actor.as_deref().filter(|a| !a.is_empty()) {
        qb.push(" AND lower(actor) LIKE ")
            .push_bind(wildcard_to_like(&actor.to_lowercase()))
            .push(" ESCAPE '\\'");
    }
    if !query.severities.is_empty() {
        qb.push(" AND severity IN (");
        let mut list = qb.separated(", ");
        for s in &query.severities {
            list.push_bind(s.as_str().to_string());
        }
        qb.push(")");
    }
    match &query.api {
        Some(ApiFilter::Contains(s)) if !s.is_empty() => {
            qb.push(" AND lower(operation) LIKE ")
                .push_bind(format!("%{}%", escape_like(&s.to_lowercase())))
                .push(" ESCAPE '\\'");
        }
        Some(ApiFilter::Regex(pattern)) if !pattern.is_empty() => match backend {
            Backend::Postgres => {
                qb.push(" AND operation ~* ").push_bind(pattern.clone());
            }
            Backend::Sqlite => {
                qb.push(" AND operation REGEXP ")
                    .push_bind(format!("(?i){pattern}"));
            }
        },
        _ => {}
    }
    if let Some(cursor) = query.cursor {
        // Row-value comparison: both backends turn it into an index range on (time, id).
        qb.push(" AND (time, id) < (")
            .push_bind(cursor.time)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    Ok(())
}

/// PostgreSQL reports a bad `~*` pattern as SQLSTATE 2201B; that is the caller's filter.
fn map_query_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.code().as_deref() == Some("2201B")
    {
        return StoreError::InvalidFilter(format!("API regex: {}", db.message()));
    }
    StoreError::Database(e)
}

/// Escapes LIKE's metacharacters so user text matches literally (with `ESCAPE '\'`).
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `*` matches any run of characters; everything else is literal.
fn wildcard_to_like(pattern: &str) -> String {
    pattern
        .split('*')
        .map(escape_like)
        .collect::<Vec<_>>()
        .join("%")
}

fn truncate_to_minute(t: OffsetDateTime) -> OffsetDateTime {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.replace_time(Time::from_hms(utc.hour(), utc.minute(), 0).unwrap_or(Time::MIDNIGHT))
}

/// CIPP's partition key for a log date: `yyyyMMdd`.
fn day_key(date: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn parse_day_key(s: &str) -> Result<Date, StoreError> {
    let parse = || -> Option<Date> {
        let year: i32 = s.get(0..4)?.parse().ok()?;
        let month: u8 = s.get(4..6)?.parse().ok()?;
        let day: u8 = s.get(6..8)?.parse().ok()?;
        Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
    };
    parse()
        .filter(|_| s.len() == 8)
        .ok_or_else(|| corrupt("audit day", s))
}

fn parse_stored_severity(s: &str) -> Result<Severity, StoreError> {
    s.parse().map_err(|_| corrupt("severity", s))
}

fn corrupt(what: &'static str, value: &str) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: format!("unexpected value {value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn wildcards_become_like_patterns_with_metacharacters_escaped() {
        assert_eq!(wildcard_to_like("*@contoso.com"), "%@contoso.com");
        assert_eq!(wildcard_to_like("a_b%c*"), "a\\_b\\%c%");
        assert_eq!(wildcard_to_like("exact"), "exact");
    }

    #[test]
    fn cursors_round_trip_through_their_opaque_form() {
        let cursor = Cursor {
            time: DbTime::new(datetime!(2026-03-04 05:06:07.123456 UTC)),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        assert!(matches!(
            Cursor::decode("not a cursor"),
            Err(StoreError::InvalidCursor)
        ));
        assert!(matches!(
            Cursor::decode("AAAA"),
            Err(StoreError::InvalidCursor)
        ));
    }

    #[test]
    fn day_keys_use_cipps_partition_format() {
        assert_eq!(day_key(date!(2026 - 01 - 09)), "20260109");
        assert_eq!(parse_day_key("20260109").unwrap(), date!(2026 - 01 - 09));
        assert!(parse_day_key("2026010").is_err());
        assert!(parse_day_key("20261340").is_err());
    }

    #[test]
    fn severities_parse_in_any_case_and_print_as_cipp_writes_them() {
        assert_eq!("warning".parse::<Severity>().unwrap(), Severity::Warning);
        assert_eq!(
            " CRITICAL ".parse::<Severity>().unwrap(),
            Severity::Critical
        );
        assert_eq!(Severity::Info.to_string(), "Info");
        assert!("loud".parse::<Severity>().is_err());
    }

    #[test]
    fn minutes_are_truncated_in_utc() {
        assert_eq!(
            truncate_to_minute(datetime!(2026-01-01 10:15:59.9 +01:00)),
            datetime!(2026-01-01 09:15:00 UTC)
        );
    }
}
