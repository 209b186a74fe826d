//! `ExecJITAdminRequestDecision` (CIPP-API `Invoke-ExecJITAdminRequestDecision.ps1`, newest
//! upstream): an approver approves or rejects a pending JIT admin request. A rejection ends it;
//! the last required approval provisions it as ExecJITAdmin would, for its requester.

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::jit_approval::{self, Decision};
use crate::op::types::TextListResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::operations::exec_jit_admin::{self, ExecJitAdminLine};
use crate::{ErrorKind, UserError};

pub struct ExecJITAdminRequestDecision;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The request (`RequestId` of ListJITAdminRequests).
    #[serde(rename = "RequestId")]
    pub request_id: Option<String>,
    /// `Approve` or `Reject`.
    #[serde(rename = "Decision")]
    pub decision: Option<String>,
    /// Why; required when rejecting.
    #[serde(rename = "Note")]
    pub note: Option<String>,
}

fn refused(message: impl Into<String>) -> UserError {
    let message = message.into();
    UserError::Answered {
        kind: ErrorKind::InvalidInput,
        results: json!([message]),
        message,
    }
}

impl Operation for ExecJITAdminRequestDecision {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecJITAdminRequestDecision";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecJITAdminRequestDecision.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Approvers are matched by their role names here (base or custom role). A decision is written only over the request state it was made on, across replicas (CIPP: the table row's ETag); when another decision came first the answer is upstream's `This request was updated by someone else. Refresh and try again.` as a 409 (CIPP: 400). No approval notification is sent. The provisioning answers no password or TAP, as in CIPP.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "RequestId": crate::demo::JIT_ADMIN_REQUEST_ID,
            "Decision": "Reject",
            "Note": "Not needed",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let tenant = ctx.tenant()?.clone();
        let decision = match params.decision.as_deref() {
            Some(d) if d.eq_ignore_ascii_case("Approve") => "Approve",
            Some(d) if d.eq_ignore_ascii_case("Reject") => "Reject",
            _ => return Err(refused("Decision must be Approve or Reject.")),
        };
        let note = params.note.unwrap_or_default();
        if decision == "Reject" && note.trim().is_empty() {
            return Err(refused("A note is required when rejecting a request."));
        }
        let id = params.request_id.unwrap_or_default();
        if uuid::Uuid::parse_str(id.trim()).is_err() {
            return Err(refused("Invalid request id."));
        }
        let mut request = jit_approval::find(&ctx.store, &id)
            .await?
            .filter(|r| r.tenant.eq_ignore_ascii_case(&tenant.default_domain_name))
            .ok_or_else(|| refused("JIT Admin request not found."))?;
        if request.state != "Pending" {
            return Err(refused(format!(
                "This request is already {}.",
                request.state.to_lowercase()
            )));
        }
        let caller = ctx.caller.actor();
        if decision == "Approve" && caller == request.requested_by {
            return Err(refused("You cannot approve your own request."));
        }
        let roles = ctx.caller.role_names();
        if !roles.iter().any(|r| {
            request
                .approver_roles
                .iter()
                .any(|a| a.eq_ignore_ascii_case(r))
        }) {
            return Err(refused(format!(
                "Only users with one of these roles can decide on this request: {}",
                request.approver_roles.join(", ")
            )));
        }
        if request.decisions.iter().any(|d| d.by == caller) {
            return Err(refused("You have already approved this request."));
        }
        request.decisions.push(Decision {
            by: caller.clone(),
            at: jit_approval_time(),
            decision: decision.to_owned(),
            note: note.clone(),
        });
        let approvals = request
            .decisions
            .iter()
            .filter(|d| d.decision == "Approve")
            .count();
        let approvals = i64::try_from(approvals).unwrap_or(i64::MAX);
        let state = if decision == "Reject" {
            "Rejected"
        } else if approvals >= request.required_approvals {
            "Approved"
        } else {
            "Pending"
        };
        if state == "Approved" && request.end_date <= OffsetDateTime::now_utc().unix_timestamp() {
            return Err(refused(
                "The requested access window has already ended. Reject this request instead.",
            ));
        }
        request.state = state.to_owned();
        let verb = if decision == "Approve" {
            "approved"
        } else {
            "rejected"
        };
        tracing::info!(
            tenant = %tenant.customer_id,
            "{caller} {verb} the JIT Admin request for {} ({})",
            request.target_user,
            request.role_names
        );
        let target = request.target_user.clone();
        let lines = match state {
            "Rejected" => {
                save_decided(&ctx, &request).await?;
                vec![format!("Rejected the JIT Admin request for {target}.")]
            }
            "Pending" => {
                save_decided(&ctx, &request).await?;
                vec![format!(
                    "Approval recorded ({approvals} of {}).",
                    request.required_approvals
                )]
            }
            _ => {
                // Provisioned at once, for the requester; it is then Completed (or Failed).
                request.state = "Completed".to_owned();
                save_decided(&ctx, &request).await?;
                let params: exec_jit_admin::Params =
                    crate::scheduled_user::read(request.request_body.clone())?;
                let provisioned =
                    exec_jit_admin::provision(&ctx, &tenant, params, Some(request.clone())).await;
                let (texts, ok) = match provisioned {
                    Ok(outcome) => match outcome.body {
                        crate::op::Body::Json(answer) => (
                            answer
                                .results
                                .into_iter()
                                .map(|line| match line {
                                    ExecJitAdminLine::Item(item) => item.result_text,
                                    ExecJitAdminLine::Text(text) => text,
                                })
                                .collect::<Vec<_>>(),
                            true,
                        ),
                        _ => (Vec::new(), true),
                    },
                    Err(error) => (vec![error.to_string()], false),
                };
                if let Some(mut stored) = jit_approval::find(&ctx.store, &request.id).await? {
                    stored.results = Some(texts.join("\n"));
                    if !ok {
                        stored.state = "Failed".to_owned();
                    }
                    save(&ctx, &stored).await?;
                }
                let mut lines = vec![format!("Approved the JIT Admin request for {target}.")];
                lines.extend(texts);
                lines
            }
        };
        Ok(Outcome::json(TextListResults::new(lines)).audit_target(target))
    }
}

/// Writes a decision over the state it was made on; a 409 when another replica's decision
/// came first.
async fn save_decided(ctx: &Ctx, request: &jit_approval::JitRequest) -> Result<(), UserError> {
    if ctx.dry_run.is_some() {
        return Ok(());
    }
    jit_approval::save_if_unchanged(&ctx.store, request).await
}

async fn save(ctx: &Ctx, request: &jit_approval::JitRequest) -> Result<(), UserError> {
    if ctx.dry_run.is_some() {
        return Ok(());
    }
    jit_approval::save(&ctx.store, request).await
}

fn jit_approval_time() -> String {
    crate::jit_admin::extension_time(OffsetDateTime::now_utc().unix_timestamp())
}
