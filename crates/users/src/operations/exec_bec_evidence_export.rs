//! `ExecBECEvidenceExport` (CIPP-API `Invoke-ExecBECEvidenceExport.ps1`, newest upstream): a
//! completed BEC case as one ZIP (the report, a CSV per finding, the score, the containment
//! history and both PDFs; see [`crate::bec::evidence`]), answered as base64 inside JSON as
//! upstream does, for the case page's "Export evidence" button.

use base64::Engine;
use cipp_store::BecCaseStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::bec::evidence;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecBECEvidenceExport;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The case to export (`BEC-<yyyyMMddHHmmss>-<6 hex>`).
    #[serde(rename = "caseId")]
    pub case_id: String,
}

/// `{Results: "Evidence package for case <id> created: N files, K KB", Evidence}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    #[serde(rename = "Results")]
    pub results: String,
    #[serde(rename = "Evidence")]
    pub evidence: Package,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Package {
    #[serde(rename = "CaseId")]
    pub case_id: String,
    /// The ZIP's size in bytes.
    #[serde(rename = "Bytes")]
    pub bytes: usize,
    #[serde(rename = "FileCount")]
    pub file_count: usize,
    /// The ZIP, base64.
    #[serde(rename = "ZipBase64")]
    pub zip_base64: String,
}

impl Operation for ExecBECEvidenceExport {
    type Params = Params;
    type Answer = Answer;
    const NAME: &'static str = "ExecBECEvidenceExport";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Post;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecBECEvidenceExport.ps1",
        frontend: Some("src/pages/identity/administration/users/user/bec.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Failures keep upstream's texts with their own statuses (CIPP: 500 for all): a missing field is a 400 naming it, a case that does not exist or belongs to another tenant a 404, a case not completed a 409. CSV cells that a spreadsheet would run as formulas (starting with `=`, `+`, `-`, `@`, tab or carriage return) are written with a leading `'`.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "caseId": crate::demo::BEC_CASE_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Answer>, UserError> {
        let tenant = ctx.tenant()?;
        let case_id = params.case_id.trim().to_owned();
        let not_found = || {
            UserError::not_found(format!(
                "BEC run {case_id} was not found for {}",
                tenant.default_domain_name
            ))
        };
        let case = ctx
            .store
            .bec_get(&case_id)
            .await
            .map_err(|e| UserError::internal("The BEC case could not be read", e))?
            .filter(|case| {
                case.tenant
                    .eq_ignore_ascii_case(&tenant.default_domain_name)
            })
            .ok_or_else(not_found)?;
        if case.status != BecCaseStatus::Completed || case.results.is_none() {
            return Err(UserError::Conflict {
                message: format!(
                    "BEC run {case_id} is {}; only completed runs can be exported",
                    case.status.as_str()
                ),
            });
        }
        // Drawing both PDFs and deflating is CPU work; it runs off the request's worker thread.
        let package = tokio::task::spawn_blocking(move || evidence::package(&case))
            .await
            .map_err(|e| UserError::internal("The evidence package could not be built", e))?
            .map_err(|e| UserError::internal("The evidence package could not be built", e))?;
        let bytes = package.zip.len();
        let results = format!(
            "Evidence package for case {case_id} created: {} files, {:.1} KB",
            package.file_count,
            bytes as f64 / 1024.0
        );
        Ok(Outcome::json(Answer {
            results: results.clone(),
            evidence: Package {
                case_id: case_id.clone(),
                bytes,
                file_count: package.file_count,
                zip_base64: base64::engine::general_purpose::STANDARD.encode(&package.zip),
            },
        })
        // The audit row keeps the text, not a ZIP.
        .audit_message(results)
        .audit_target(case_id))
    }
}
