//! `ListJITAdminRequests` (CIPP-API `Invoke-ListJITAdminRequests.ps1`, newest upstream): the JIT
//! admin requests that went through approval, newest first, with their decisions and whether
//! the caller may approve or reject them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::jit_approval::{self, Decision};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListJITAdminRequests;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// One tenant's requests; absent or `AllTenants`: every tenant the caller may see.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
}

/// One request.
#[derive(Debug, Serialize, ToSchema)]
pub struct JitAdminRequestRow {
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `Pending`, `Approved`, `Rejected`, `Completed` or `Failed`.
    #[serde(rename = "State")]
    pub state: String,
    #[serde(rename = "Tenant")]
    pub tenant: String,
    #[serde(rename = "TargetUser")]
    pub target_user: String,
    /// The roles' names, comma-separated.
    #[serde(rename = "Roles")]
    pub roles: String,
    /// The groups' names, comma-separated.
    #[serde(rename = "Groups")]
    pub groups: String,
    #[serde(rename = "Reason")]
    pub reason: String,
    /// Unix seconds.
    #[serde(rename = "StartDate")]
    pub start_date: i64,
    #[serde(rename = "EndDate")]
    pub end_date: i64,
    #[serde(rename = "RequestedBy")]
    pub requested_by: String,
    #[serde(rename = "RequestedAt")]
    pub requested_at: String,
    /// The roles that may decide, comma-separated.
    #[serde(rename = "ApproverRoles")]
    pub approver_roles: String,
    /// `<n> of <required>`.
    #[serde(rename = "Approvals")]
    pub approvals: String,
    #[serde(rename = "Decisions")]
    pub decisions: Vec<Decision>,
    /// The provisioning's lines, once approved.
    #[serde(rename = "Results")]
    pub results: Option<String>,
    #[serde(rename = "CanApprove")]
    pub can_approve: bool,
    #[serde(rename = "CanReject")]
    pub can_reject: bool,
}

impl Operation for ListJITAdminRequests {
    type Params = Params;
    type Answer = Vec<JitAdminRequestRow>;
    const NAME: &'static str = "ListJITAdminRequests";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListJITAdminRequests.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Approvers are matched by the caller's role names. An unknown `tenantFilter` is a 400 naming it.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<JitAdminRequestRow>>, UserError> {
        let tenant = match params.tenant_filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.eq_ignore_ascii_case("AllTenants") => None,
            Some(t) => Some(ctx.tenant_named("tenantFilter", t).await?),
        };
        let visible: Vec<String> = ctx
            .visible_tenants()
            .await?
            .into_iter()
            .map(|t| t.default_domain_name)
            .collect();
        let caller = ctx.caller.actor();
        let roles = ctx.caller.role_names();
        let mut rows: Vec<JitAdminRequestRow> = jit_approval::all(&ctx.store)
            .await?
            .into_iter()
            .filter(|r| {
                tenant
                    .as_ref()
                    .is_none_or(|t| r.tenant.eq_ignore_ascii_case(&t.default_domain_name))
                    && visible.iter().any(|v| v.eq_ignore_ascii_case(&r.tenant))
            })
            .map(|r| {
                let approvals = r.decisions.iter().filter(|d| d.decision == "Approve").count();
                let may_decide = r.state == "Pending"
                    && !r.decisions.iter().any(|d| d.by == caller)
                    && roles
                        .iter()
                        .any(|x| r.approver_roles.iter().any(|a| a.eq_ignore_ascii_case(x)));
                JitAdminRequestRow {
                    can_approve: may_decide && caller != r.requested_by,
                    can_reject: may_decide,
                    approvals: format!("{approvals} of {}", r.required_approvals),
                    approver_roles: r.approver_roles.join(", "),
                    request_id: r.id,
                    state: r.state,
                    tenant: r.tenant,
                    target_user: r.target_user,
                    roles: r.role_names,
                    groups: r.group_names,
                    reason: r.reason,
                    start_date: r.start_date,
                    end_date: r.end_date,
                    requested_by: r.requested_by,
                    requested_at: r.requested_at,
                    decisions: r.decisions,
                    results: r.results,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.requested_at.cmp(&a.requested_at));
        Ok(Outcome::json(rows))
    }
}
