//! `ExecBECBulkCheck` (CIPP-API `Invoke-ExecBECBulkCheck.ps1`, newest upstream): starts a BEC
//! check run for each of several users of one tenant; each is its own case and job.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::bec::check;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};

pub struct ExecBECBulkCheck;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The users' object ids.
    #[serde(rename = "UserIds", default)]
    pub user_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    #[serde(rename = "Results")]
    pub results: String,
    /// Groups this call's runs (every case's job shares it as its reference).
    #[serde(rename = "QueueId")]
    pub queue_id: String,
    #[serde(rename = "Cases")]
    pub cases: Vec<QueuedCase>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedCase {
    #[serde(rename = "UserId")]
    pub user_id: String,
    #[serde(rename = "UserPrincipalName")]
    pub user_principal_name: Option<String>,
    #[serde(rename = "CaseId")]
    pub case_id: Option<String>,
    #[serde(rename = "Error", skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Operation for ExecBECBulkCheck {
    type Params = Params;
    type Answer = Answer;
    const NAME: &'static str = "ExecBECBulkCheck";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the stored BEC cases and queue read-only checks");
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecBECBulkCheck.ps1",
        frontend: Some("src/pages/identity/administration/bec/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Each user is read on its own (CIPP asks Graph for 15 at a time); a user Graph does not know is listed with `Error: User not found` and the others still start. No users, or none found, is a 400 / 404 naming them.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserIds": [crate::demo::USER_ID]})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Answer>, UserError> {
        let tenant = ctx.tenant()?.clone();
        let mut ids: Vec<String> = Vec::new();
        for id in params.user_ids.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
            if !ids.iter().any(|k| k.eq_ignore_ascii_case(id)) {
                ids.push(id.to_owned());
            }
        }
        if ids.is_empty() {
            return Err(UserError::invalid("UserIds", "No users to check"));
        }
        let queue_id = format!("bec-{}-{}", tenant.default_domain_name, uuid::Uuid::new_v4().simple());
        let mut cases = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match check::start(&ctx.graph, &ctx.store, &ctx.env.jobs, &tenant, &id, &ctx.caller.actor()).await {
                Ok(case) => cases.push(QueuedCase {
                    user_id: case.user_id,
                    user_principal_name: Some(case.user_principal_name),
                    case_id: Some(case.case_id),
                    error: None,
                }),
                Err(e) if e.kind() == crate::ErrorKind::NotFound || e.kind() == crate::ErrorKind::InvalidInput => {
                    missing.push(id.clone());
                    cases.push(QueuedCase {
                        user_id: id,
                        user_principal_name: None,
                        case_id: None,
                        error: Some("User not found".to_owned()),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let started = cases.iter().filter(|c| c.case_id.is_some()).count();
        if started == 0 {
            return Err(UserError::not_found(
                "Bulk BEC investigation not queued: None of the selected users could be resolved",
            ));
        }
        let mut results = format!(
            "Queued {started} BEC investigation(s). Results appear on the BEC Reports page and each user's Compromise Remediation tab."
        );
        if !missing.is_empty() {
            results.push_str(&format!(
                " {} selected user(s) could not be found and were skipped: {}.",
                missing.len(),
                missing.join(", ")
            ));
        }
        let partial = !missing.is_empty();
        Ok(Outcome::json(Answer {
            results,
            queue_id,
            cases,
        })
        .partial(partial))
    }
}
