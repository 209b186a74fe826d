//! Compromised-account (BEC) check runs, one row per run: CIPP calls a run a "case" and lists
//! them by tenant and user (ListBECReports). The report itself is kept whole as JSON beside the
//! columns the list shows, so listing never reads a report.

use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::time_col::DbTime;
use crate::{Store, StoreError, on_pool};

/// Where a run is: CIPP's three states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BecCaseStatus {
    Waiting,
    Completed,
    Error,
}

impl BecCaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BecCaseStatus::Waiting => "Waiting",
            BecCaseStatus::Completed => "Completed",
            BecCaseStatus::Error => "Error",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "Waiting" => Ok(BecCaseStatus::Waiting),
            "Completed" => Ok(BecCaseStatus::Completed),
            "Error" => Ok(BecCaseStatus::Error),
            other => Err(StoreError::Corrupt {
                what: "BEC case status",
                detail: format!("{other:?}"),
            }),
        }
    }
}

/// One run. `results` is the whole report once the run has completed (or the error object
/// when it failed); `containment` is the list of remediation runs recorded against it.
#[derive(Clone, Debug, PartialEq)]
pub struct BecCase {
    pub case_id: String,
    /// The tenant's default domain.
    pub tenant: String,
    pub user_id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub status: BecCaseStatus,
    pub level: Option<String>,
    pub score: Option<i64>,
    pub incomplete_count: i64,
    pub requested_at: OffsetDateTime,
    pub requested_by: String,
    pub extracted_at: Option<OffsetDateTime>,
    pub error_message: Option<String>,
    pub results: Option<Value>,
    pub containment: Vec<Value>,
}

/// The columns a listed run reads (everything but the report), as a literal so the queries
/// built from it stay literal SQL.
macro_rules! columns {
    () => {
        "case_id, tenant, user_id, user_principal, display_name, status, level, score, \
         incomplete_count, requested_at, requested_by, extracted_at, error_message, containment"
    };
}

impl Store {
    /// Creates or replaces a run by its case id.
    pub async fn bec_put(&self, case: &BecCase) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO bec_cases (case_id, tenant, user_id, user_principal, display_name, \
                 status, level, score, incomplete_count, requested_at, requested_by, \
                 extracted_at, error_message, results, containment) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (case_id) DO UPDATE SET tenant = excluded.tenant, \
                 user_id = excluded.user_id, user_principal = excluded.user_principal, \
                 display_name = excluded.display_name, status = excluded.status, \
                 level = excluded.level, score = excluded.score, \
                 incomplete_count = excluded.incomplete_count, \
                 requested_at = excluded.requested_at, requested_by = excluded.requested_by, \
                 extracted_at = excluded.extracted_at, error_message = excluded.error_message, \
                 results = excluded.results, containment = excluded.containment",
            )
            .bind(&case.case_id)
            .bind(&case.tenant)
            .bind(&case.user_id)
            .bind(&case.user_principal_name)
            .bind(&case.display_name)
            .bind(case.status.as_str())
            .bind(&case.level)
            .bind(case.score)
            .bind(case.incomplete_count)
            .bind(DbTime::new(case.requested_at))
            .bind(&case.requested_by)
            .bind(case.extracted_at.map(DbTime::new))
            .bind(&case.error_message)
            .bind(case.results.as_ref().map(Json))
            .bind(Json(&case.containment))
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// One run with its report.
    pub async fn bec_get(&self, case_id: &str) -> Result<Option<BecCase>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(concat!(
                "SELECT ",
                columns!(),
                ", results FROM bec_cases WHERE case_id = $1"
            ))
            .bind(case_id)
            .fetch_optional(p)
            .await?;
            row.map(|row| {
                let results: Option<Json<Value>> = row.try_get("results")?;
                let mut case = case_of(&row)?;
                case.results = results.map(|r| r.0);
                Ok(case)
            })
            .transpose()
        })
    }

    /// Runs without their reports, newest first, of one tenant (or all: `None`) and
    /// optionally one user.
    pub async fn bec_list(
        &self,
        tenant: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<Vec<BecCase>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM bec_cases WHERE ($1 IS NULL OR tenant = $1) \
                 AND ($2 IS NULL OR user_id = $2) ORDER BY requested_at DESC, case_id DESC"
            ))
            .bind(tenant)
            .bind(user_id)
            .fetch_all(p)
            .await?;
            rows.iter().map(case_of).collect()
        })
    }

    /// Deletes a run; returns whether it existed.
    pub async fn bec_delete(&self, case_id: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => {
            sqlx::query("DELETE FROM bec_cases WHERE case_id = $1")
                .bind(case_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(deleted > 0)
    }

    /// Appends one remediation run to a case's containment list, in one statement per backend
    /// so two remediations finishing together both keep their entry.
    pub async fn bec_add_containment(
        &self,
        case_id: &str,
        entry: &Value,
    ) -> Result<bool, StoreError> {
        let updated = match &self.pool {
            crate::Pool::Sqlite(p) => sqlx::query(
                "UPDATE bec_cases SET containment = json_insert(containment, '$[#]', json($1)) \
                     WHERE case_id = $2",
            )
            .bind(Json(entry))
            .bind(case_id)
            .execute(p)
            .await?
            .rows_affected(),
            crate::Pool::Postgres(p) => sqlx::query(
                "UPDATE bec_cases SET containment = containment || jsonb_build_array($1::jsonb) \
                     WHERE case_id = $2",
            )
            .bind(Json(entry))
            .bind(case_id)
            .execute(p)
            .await?
            .rows_affected(),
        };
        Ok(updated > 0)
    }
}

fn case_of<R>(row: &R) -> Result<BecCase, StoreError>
where
    R: Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> DbTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<DbTime>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Json<Vec<Value>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    let requested_at: DbTime = row.try_get("requested_at")?;
    let extracted_at: Option<DbTime> = row.try_get("extracted_at")?;
    let containment: Json<Vec<Value>> = row.try_get("containment")?;
    Ok(BecCase {
        case_id: row.try_get("case_id")?,
        tenant: row.try_get("tenant")?,
        user_id: row.try_get("user_id")?,
        user_principal_name: row.try_get("user_principal")?,
        display_name: row.try_get("display_name")?,
        status: BecCaseStatus::parse(&status)?,
        level: row.try_get("level")?,
        score: row.try_get("score")?,
        incomplete_count: row.try_get("incomplete_count")?,
        requested_at: requested_at.get(),
        requested_by: row.try_get("requested_by")?,
        extracted_at: extracted_at.map(DbTime::get),
        error_message: row.try_get("error_message")?,
        results: None,
        containment: containment.0,
    })
}
