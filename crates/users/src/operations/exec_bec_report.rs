//! `ExecBECReport` (CIPP-API `Invoke-ExecBECReport.ps1`, newest upstream): `Action=Delete`
//! removes a BEC run and its report.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};

pub struct ExecBECReport;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// `Delete`, the only action.
    #[serde(rename = "Action")]
    pub action: Option<String>,
    /// The run to act on.
    #[serde(rename = "caseId")]
    pub case_id: Option<String>,
}

impl Operation for ExecBECReport {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecBECReport";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the stored BEC cases");
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecBECReport.ps1",
        frontend: Some("src/pages/identity/administration/bec/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing caseId or an unknown action is a 400 naming it, an unknown run a 404 (CIPP: 500), with CIPP's texts.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "Action": "Delete", "caseId": crate::demo::DEMO_BEC_CASE_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?.default_domain_name.clone();
        let action = params.action.unwrap_or_default();
        if !action.trim_start_matches('!').eq_ignore_ascii_case("Delete") {
            return Err(UserError::invalid(
                "Action",
                format!("Failed: Unknown action '{action}'"),
            ));
        }
        let case_id = params
            .case_id
            .ok_or_else(|| UserError::invalid("caseId", "Failed: caseId is required"))?;
        let missing = || UserError::not_found(format!("Failed: BEC run {case_id} was not found for {tenant}"));
        let case = ctx
            .store
            .bec_get(&case_id)
            .await
            .map_err(|e| UserError::internal("Failed to delete the BEC run", e))?
            .filter(|c| c.tenant.eq_ignore_ascii_case(&tenant))
            .ok_or_else(missing)?;
        ctx.store
            .bec_delete(&case.case_id)
            .await
            .map_err(|e| UserError::internal("Failed to delete the BEC run", e))?;
        Ok(Outcome::json(TextResults::new(format!(
            "Deleted BEC run {case_id} for {tenant}"
        )))
        .audit_target(case.user_principal_name))
    }
}
