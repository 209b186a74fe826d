//! `ExecScheduleGroupMembershipVacation` (CIPP-API `Invoke-ExecScheduleGroupMembershipVacation.ps1`,
//! newest upstream): per group, two `Set-CIPPVacationGroupMembership` tasks, one adding the
//! users at the start date and one removing them again at the end date (see
//! [`crate::vacation_groups`]).

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::task_notify::{self, PostExecution};
use crate::vacation_groups::{self, Action, VacationParameters};

pub struct ExecScheduleGroupMembershipVacation;

const FAILED: &str = "Failed to schedule group membership vacation mode";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The users going on vacation: user picker options (`addedFields.userPrincipalName`, else
    /// `value`) or UPNs.
    #[serde(rename = "Users", default)]
    pub users: Vec<VacationUser>,
    /// The groups to put them in: `{value: group id, label, addedFields.groupType}`; entries
    /// without a value are skipped.
    #[serde(rename = "Groups", default)]
    pub groups: Vec<VacationGroup>,
    /// When the users are added (Unix seconds).
    #[serde(rename = "startDate")]
    pub start_date: Option<i64>,
    /// When the users are removed again (Unix seconds).
    #[serde(rename = "endDate")]
    pub end_date: Option<i64>,
    /// Who hears of each task's outcome: `Webhook` adds a signed webhook as each task's last
    /// step; e-mail and PSA are not available here and are refused with a 400.
    #[serde(rename = "postExecution", alias = "PostExecution")]
    pub post_execution: Option<PostExecution>,
    /// Kept on both tasks (ListScheduledItems' `Reference`).
    #[serde(rename = "reference")]
    pub reference: Option<String>,
}

/// A user: a picker option or the UPN alone.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum VacationUser {
    Upn(String),
    Option(VacationUserOption),
}

/// A user picker option.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VacationUserOption {
    pub label: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "addedFields")]
    pub added_fields: Option<VacationUserFields>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VacationUserFields {
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
}

/// A group picker option.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VacationGroup {
    /// The group's display name, for the task names and the answer.
    pub label: Option<String>,
    /// The group's object id.
    pub value: Option<String>,
    #[serde(rename = "addedFields")]
    pub added_fields: Option<VacationGroupFields>,
}

/// What the group picker knows of a group's kind.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VacationGroupFields {
    #[serde(rename = "groupType")]
    pub group_type: Option<String>,
}

fn blank_to_none(text: Option<&String>) -> Option<String> {
    text.map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

impl VacationUser {
    /// `addedFields.userPrincipalName ?? value ?? the entry itself`.
    fn upn(&self) -> Option<String> {
        match self {
            Self::Upn(upn) => blank_to_none(Some(upn)),
            Self::Option(o) => blank_to_none(
                o.added_fields
                    .as_ref()
                    .and_then(|f| f.user_principal_name.as_ref()),
            )
            .or_else(|| blank_to_none(o.value.as_ref())),
        }
    }
}

impl Operation for ExecScheduleGroupMembershipVacation {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecScheduleGroupMembershipVacation";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Group.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecScheduleGroupMembershipVacation.ps1",
        frontend: Some("src/components/CippWizard/CippWizardVacationConfirmation.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The tasks are jobs on this service's job engine (ListScheduledItems lists them under CIPP's names with command `Set-CIPPVacationGroupMembership`). No users, no groups or a missing or non-positive `startDate`/`endDate` is a 400 with CIPP's text followed by the field in brackets (CIPP: 500). `postExecution` `Webhook` is each task's last step (a signed POST to the configured webhook, retried, its outcome in the step log); e-mail and PSA are refused with a 400 naming them, as is a webhook when none is configured. A run that fails as a whole (CIPP's `Failed to add/remove vacation group membership …` text) is a `Failed` task; CIPP shows it `Completed`. Users are resolved one Graph read each rather than CIPP's `getByIds` and `$batch`, and members are written one call each.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "Users": [{"label": "Kenji Robbins", "value": crate::demo::USER,
                       "addedFields": {"userPrincipalName": crate::demo::USER}}],
            "Groups": [{"label": "Engineering", "value": crate::demo::GROUP_ID,
                        "addedFields": {"groupType": "Security"}}],
            "startDate": 1_900_000_000,
            "endDate": 1_900_604_800,
            "reference": "Summer leave",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        // CIPP's text, with the field it is about.
        let invalid =
            |field: &str, text: &str| UserError::invalid(field, format!("{FAILED}: {text} ({field})"));
        let upns: Vec<String> = params.users.iter().filter_map(VacationUser::upn).collect();
        if upns.is_empty() {
            return Err(invalid("Users", "At least one user is required."));
        }
        let groups: Vec<&VacationGroup> = params
            .groups
            .iter()
            .filter(|g| g.value.as_deref().is_some_and(|v| !v.trim().is_empty()))
            .collect();
        if groups.is_empty() {
            return Err(invalid("Groups", "At least one group is required."));
        }
        let date = |field: &str, value: Option<i64>| {
            value
                .filter(|d| *d > 0)
                .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d).ok())
                .ok_or_else(|| invalid(field, "A start date and end date are required."))
        };
        let start = date("startDate", params.start_date)?;
        let end = date("endDate", params.end_date)?;
        let asked = params
            .post_execution
            .as_ref()
            .map(PostExecution::asked)
            .unwrap_or_default();
        let problems =
            task_notify::problems("postExecution", &asked, ctx.env.webhook_configured);
        if !problems.is_empty() {
            return Err(UserError::invalid("postExecution", problems.join(" ")));
        }
        let tenant = ctx.tenant()?.clone();

        let mut user_display = upns.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        if upns.len() > 3 {
            user_display.push_str(&format!(" (+{} more)", upns.len() - 3));
        }
        let mut labels = Vec::new();
        for group in groups {
            let id = group.value.clone().unwrap_or_default().trim().to_owned();
            let label = blank_to_none(group.label.as_ref()).unwrap_or_else(|| id.clone());
            // Links the two runs, so the remove takes out only the users the add put in.
            let key = uuid::Uuid::new_v4().to_string();
            let group_type = group
                .added_fields
                .as_ref()
                .and_then(|f| blank_to_none(f.group_type.as_ref()));
            for (action, verb, at) in [(Action::Add, "Add", start), (Action::Remove, "Remove", end)] {
                let parameters = VacationParameters {
                    tenant_filter: tenant.default_domain_name.clone(),
                    users: upns.clone(),
                    group_id: id.clone(),
                    group_type: group_type.clone(),
                    action,
                    membership_key: key.clone(),
                };
                vacation_groups::schedule(
                    &ctx,
                    &tenant,
                    format!("{verb} Group Membership Vacation Mode: {label} - {user_display}"),
                    at,
                    parameters,
                    params.reference.clone(),
                    asked.webhook,
                )
                .await
                .map_err(|e| UserError::Failed {
                    message: format!("{FAILED}: {e}"),
                    source: None,
                })?;
            }
            labels.push(label);
        }
        let message = format!(
            "Successfully scheduled group membership vacation mode for {user_display} in {}.",
            labels.join(", ")
        );
        tracing::info!(tenant = %tenant.default_domain_name, "{message}");
        Ok(Outcome::json(TextResults::new(message))
            .audit_tenant(tenant.default_domain_name, tenant.customer_id))
    }
}
