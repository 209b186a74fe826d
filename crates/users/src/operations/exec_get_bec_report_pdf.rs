//! `ExecGetBecReportPdf` (CIPP-API `Invoke-ExecGetBecReportPdf.ps1`, newest upstream): a
//! completed BEC case as a PDF, the summary or the full report, for the user page's
//! "Download report" button. The case is named by `caseId`, or is the user's newest completed one.

use cipp_store::{BecCase, BecCaseStatus};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::bec::report::{self, Names, Variant};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecGetBecReportPdf;

/// Upstream's text when the tenant or both ways of naming the case are missing.
pub const REQUIRED: &str = "A tenantFilter and either a caseId or a userId are required";
/// Upstream's text when the user has no completed case.
pub const NO_USER_CASE: &str = "No completed BEC analysis is stored for this user. Run the BEC check first, then generate the report.";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user's tenant.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
    /// The case (`BEC-<yyyyMMddHHmmss>-<6 hex>`). Without it, the user's newest completed case.
    #[serde(rename = "caseId")]
    pub case_id: Option<String>,
    /// The user (object id or user principal name), when no `caseId` is given.
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
    /// `summary` for the summary; anything else is the full report.
    #[serde(rename = "variant")]
    pub variant: Option<String>,
    /// The name the report is headed with and its file named after (default: the case's).
    #[serde(rename = "userDisplayName")]
    pub user_display_name: Option<String>,
    /// The user principal name the report shows (default: the case's).
    #[serde(rename = "userName")]
    pub user_name: Option<String>,
}

impl Operation for ExecGetBecReportPdf {
    type Params = Params;
    /// The PDF itself.
    type Answer = Vec<u8>;
    const NAME: &'static str = "ExecGetBecReportPdf";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    // The tenant is resolved here, so a request without one gets upstream's own 400 text.
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecGetBecReportPdf.ps1",
        frontend: Some("src/pages/identity/administration/users/user/bec.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The PDF is drawn here with PDF's builtin Helvetica (text outside Latin-1 shows as `?`); the full report lists at most 200 rows per finding and says how many more there are. A tenant this CIPP does not manage is a 400 and one outside the caller's tenants a 403; a case of another tenant is the same 404 as a missing one.",
    );
    const CONTENT_TYPES: &'static [&'static str] = &["application/pdf"];

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "caseId": crate::demo::BEC_CASE_ID,
            "variant": "summary",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<u8>>, UserError> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (tenant_name, case_id, user_id) = (
            given(&params.tenant_filter),
            given(&params.case_id),
            given(&params.user_id),
        );
        let Some(tenant_name) = tenant_name else {
            return Err(UserError::invalid("tenantFilter", REQUIRED));
        };
        if case_id.is_none() && user_id.is_none() {
            return Err(UserError::invalid("caseId", REQUIRED));
        }
        let tenant = ctx.tenant_named("tenantFilter", &tenant_name).await?;
        let case = match (case_id, user_id) {
            (Some(case_id), _) => completed_case(&ctx, &tenant.default_domain_name, &case_id)
                .await?
                .ok_or_else(|| UserError::not_found(no_case(&case_id)))?,
            (None, Some(user)) => newest_completed_case(&ctx, &tenant.default_domain_name, &user)
                .await?
                .ok_or_else(|| UserError::not_found(NO_USER_CASE))?,
            (None, None) => return Err(UserError::invalid("caseId", REQUIRED)),
        };
        let mut names = Names::of_case(&case);
        if let Some(display_name) = given(&params.user_display_name) {
            names.display_name = display_name;
        }
        if let Some(user_name) = given(&params.user_name) {
            names.user_principal_name = user_name;
        }
        let variant = Variant::parse(params.variant.as_deref());
        let file_name = report::file_name(variant, &names.display_name);
        let case_id = case.case_id.clone();
        // Drawing a long report is CPU work; it runs off the request's worker thread.
        let pdf = tokio::task::spawn_blocking(move || report::render(&case, variant, &names))
            .await
            .map_err(|e| UserError::internal("The report could not be drawn", e))?
            .map_err(|_| UserError::not_found(no_case(&case_id)))?;
        Ok(Outcome::bytes("application/pdf", pdf)
            .file_name(file_name)
            .audit_target(case_id))
    }
}

/// Upstream's 404 text for a case that is missing, of another tenant or not completed.
fn no_case(case_id: &str) -> String {
    format!(
        "No completed BEC analysis is stored for case '{case_id}'. Run the BEC check first, then generate the report."
    )
}

/// The case with its report when it belongs to `tenant` and has completed.
pub async fn completed_case(
    ctx: &Ctx,
    tenant: &str,
    case_id: &str,
) -> Result<Option<BecCase>, UserError> {
    let case = ctx
        .store
        .bec_get(case_id)
        .await
        .map_err(|e| UserError::internal("The BEC case could not be read", e))?;
    Ok(case.filter(|case| {
        case.tenant.eq_ignore_ascii_case(tenant)
            && case.status == BecCaseStatus::Completed
            && case.results.is_some()
    }))
}

/// The newest completed case of a user of `tenant`, named by object id or user principal name.
async fn newest_completed_case(
    ctx: &Ctx,
    tenant: &str,
    user: &str,
) -> Result<Option<BecCase>, UserError> {
    let cases = ctx
        .store
        .bec_list(Some(tenant), None)
        .await
        .map_err(|e| UserError::internal("The BEC cases could not be read", e))?;
    // Listed newest first; the listing holds no reports, so the chosen case is read whole.
    let newest = cases.into_iter().find(|case| {
        case.status == BecCaseStatus::Completed
            && (case.user_id.eq_ignore_ascii_case(user)
                || case.user_principal_name.eq_ignore_ascii_case(user))
    });
    match newest {
        Some(case) => completed_case(ctx, tenant, &case.case_id).await,
        None => Ok(None),
    }
}
