//! `ListBECReports` (CIPP-API `Invoke-ListBECReports.ps1`, newest upstream): the BEC check runs
//! ("cases") of one tenant or of every tenant the caller sees, newest first, optionally of one
//! user, without their reports.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::operations::list_offboarding_progress::job_visible;

pub struct ListBECReports;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// A tenant, or `AllTenants` (the default).
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
    /// Only this user's runs (object id).
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
}

/// One run, as the BEC hub page lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportRow {
    #[serde(rename = "CaseId")]
    pub case_id: String,
    /// The tenant's default domain.
    #[serde(rename = "Tenant")]
    pub tenant: String,
    #[serde(rename = "UserId")]
    pub user_id: String,
    #[serde(rename = "UserPrincipalName")]
    pub user_principal_name: String,
    #[serde(rename = "DisplayName")]
    pub display_name: String,
    /// `Waiting`, `Completed` or `Error`.
    #[serde(rename = "Status")]
    pub status: String,
    /// `High`, `Medium` or `Low` once completed.
    #[serde(rename = "Level")]
    pub level: Option<String>,
    #[serde(rename = "Score")]
    pub score: Option<i64>,
    /// How many collectors did not complete (errors, caps and skips).
    #[serde(rename = "IncompleteCount")]
    pub incomplete_count: i64,
    #[serde(rename = "ExtractedAt")]
    pub extracted_at: Option<String>,
    #[serde(rename = "RequestedAt")]
    pub requested_at: Option<String>,
    #[serde(rename = "RequestedBy")]
    pub requested_by: String,
    #[serde(rename = "ErrorMessage")]
    pub error_message: Option<String>,
    /// How many remediation runs were recorded against the case.
    #[serde(rename = "ContainmentRuns")]
    pub containment_runs: usize,
}

impl Operation for ListBECReports {
    type Params = Params;
    type Answer = Vec<ReportRow>;
    const NAME: &'static str = "ListBECReports";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListBECReports.ps1",
        frontend: Some("src/pages/identity/administration/bec/index.jsx"),
    };

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<ReportRow>>, UserError> {
        const FAILED: &str = "Failed to list BEC runs";
        let tenant = match params.tenant_filter.as_deref() {
            None => None,
            Some(t) if t.eq_ignore_ascii_case("AllTenants") => None,
            Some(t) => Some(ctx.tenant_named("tenantFilter", t).await?),
        };
        if let Some(t) = &tenant
            && !ctx.permits(t)
        {
            return Err(UserError::refused(crate::op::ctx::DENIED_TENANT));
        }
        let cases = ctx
            .store
            .bec_list(
                tenant.as_ref().map(|t| t.default_domain_name.as_str()),
                params.user_id.as_deref(),
            )
            .await
            .map_err(|e| UserError::internal(FAILED, e))?;
        let mut rows = Vec::with_capacity(cases.len());
        for case in cases {
            if tenant.is_none() && !job_visible(&ctx, &case.tenant).await? {
                continue;
            }
            rows.push(ReportRow {
                containment_runs: case.containment.iter().filter(|c| !c.is_null()).count(),
                case_id: case.case_id,
                tenant: case.tenant,
                user_id: case.user_id,
                user_principal_name: case.user_principal_name,
                display_name: case.display_name,
                status: case.status.as_str().to_owned(),
                level: case.level,
                score: case.score,
                incomplete_count: case.incomplete_count,
                extracted_at: crate::bec::check::time_text(case.extracted_at),
                requested_at: crate::bec::check::time_text(Some(case.requested_at)),
                requested_by: case.requested_by,
                error_message: case.error_message,
            });
        }
        Ok(Outcome::json(rows))
    }
}
