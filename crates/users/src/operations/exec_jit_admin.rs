//! `ExecJITAdmin` (CIPP-API `Invoke-ExecJITAdmin.ps1` with `Set-CIPPUserJITAdmin` and
//! `Set-CIPPUserJITAdminProperties`, newest upstream): makes a user a just-in-time admin. A new
//! user is created now (password generated); the roles and groups are granted by a scheduled
//! task (at `StartDate`, or at once) and taken away by a second task at `EndDate` running the
//! expire action. Both tasks are jobs on the job engine (see [`crate::jit_admin`]), listed by
//! ListScheduledItems.

use std::time::Duration;

use cipp_graph::GraphVersion;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;
use utoipa::ToSchema;

use crate::jit_admin::{self, JitAction, JitTaskParameters};
use crate::jit_approval;
use crate::normalize::normalize_graph_error;
use crate::op::types::{Guid, ItemState, ResultItem, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::operations::list_jit_admin::cipp_user_extension;
use crate::task_notify::{self, PostExecution};
use crate::{ErrorKind, UserError, is_guid};

pub struct ExecJITAdmin;

/// The store key of CIPP's JIT admin settings (CIPP: table `Config`, PK and RK
/// `JITAdminSettings`): `{"MaxDuration": "<ISO 8601 duration>", …}`.
pub const SETTINGS_KEY: &str = "JITAdminSettings";

/// How often CIPP tries to create the TAP (the new user may not be visible yet), and the pause
/// after each failed try.
const TAP_ATTEMPTS: usize = 11;
const TAP_PAUSE: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// `create` (any case) makes a new user; anything else uses `existingUser`.
    #[serde(rename = "userAction")]
    pub user_action: Option<String>,
    /// The existing user (a `{label, value}` picker): object id or UPN.
    #[serde(rename = "existingUser")]
    pub existing_user: Option<UserId>,
    /// The new user's UPN local part.
    #[serde(rename = "Username")]
    pub username: Option<String>,
    /// The new user's UPN domain (a picker or text).
    #[serde(rename = "Domain")]
    pub domain: Option<String>,
    #[serde(rename = "FirstName")]
    pub first_name: Option<String>,
    #[serde(rename = "LastName")]
    pub last_name: Option<String>,
    /// The new user's two-letter country (a picker or text); sent only when given.
    #[serde(rename = "usageLocation")]
    pub usage_location: Option<String>,
    /// Directory role template ids (pickers whose value is the template id).
    #[serde(rename = "AdminRoles", default)]
    pub admin_roles: Vec<Guid>,
    /// Group ids (pickers whose value is the group id).
    #[serde(rename = "GroupMemberships", default)]
    pub group_memberships: Vec<Guid>,
    /// When the grant starts, Unix seconds; absent or past: now.
    #[serde(rename = "StartDate")]
    pub start_date: Option<i64>,
    /// When the expire action runs, Unix seconds.
    #[serde(rename = "EndDate")]
    pub end_date: Option<i64>,
    /// What happens at `EndDate` (a picker): `RemoveRoles`, `RemoveGroups`,
    /// `RemoveRolesAndGroups`, `DisableUser` or `DeleteUser`.
    #[serde(rename = "ExpireAction")]
    pub expire_action: Option<ExpireAction>,
    /// Why; kept in the user's JIT values and the tasks.
    #[serde(rename = "reason")]
    pub reason: Option<String>,
    /// Creates a Temporary Access Pass instead of answering the new user's password.
    #[serde(rename = "UseTAP", default)]
    pub use_tap: bool,
    /// The TAP's lifetime; default the JIT duration, within the tenant's TAP policy.
    #[serde(rename = "tapLifetimeInMinutes")]
    pub tap_lifetime_in_minutes: Option<i64>,
    /// Who hears of each task's outcome (the page's `postExecution` picker): `Webhook` adds a
    /// signed webhook as each task's last step; e-mail and PSA are not available here and are
    /// refused with a 400.
    #[serde(rename = "postExecution", alias = "PostExecution")]
    pub post_execution: Option<PostExecution>,
    /// Provisions an approved request (its requester only), exactly as it was approved.
    #[serde(rename = "ApprovalRequestId")]
    pub approval_request_id: Option<String>,
}

/// The expire actions `Set-CIPPUserJITAdmin` takes.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum ExpireAction {
    RemoveRoles,
    RemoveGroups,
    RemoveRolesAndGroups,
    DisableUser,
    DeleteUser,
}

impl ExpireAction {
    fn action(self) -> JitAction {
        match self {
            Self::RemoveRoles => JitAction::RemoveRoles,
            Self::RemoveGroups => JitAction::RemoveGroups,
            Self::RemoveRolesAndGroups => JitAction::RemoveRolesAndGroups,
            Self::DisableUser => JitAction::DisableUser,
            Self::DeleteUser => JitAction::DeleteUser,
        }
    }
}

/// `{"Results": [...]}`: result items (to copy) and plain lines, in CIPP's order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecJitAdminResults {
    #[serde(rename = "Results")]
    pub results: Vec<ExecJitAdminLine>,
}

/// One entry of `Results`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ExecJitAdminLine {
    Item(ResultItem),
    Text(String),
}

fn item(text: String, copy: String) -> ExecJitAdminLine {
    ExecJitAdminLine::Item(ResultItem {
        result_text: text,
        state: ItemState::Success,
        copy_field: Some(copy),
    })
}

/// CIPP's 400 with `Results` as a one-line array.
fn answered(kind: ErrorKind, message: String) -> UserError {
    UserError::Answered {
        kind,
        results: json!([message]),
        message,
    }
}

impl Operation for ExecJITAdmin {
    type Params = Params;
    type Answer = ExecJitAdminResults;
    const NAME: &'static str = "ExecJITAdmin";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecJITAdmin.ps1",
        frontend: Some("src/pages/identity/administration/jit-admin/add.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The enable and expire tasks are jobs on this service's job engine, listed by ListScheduledItems (command `Set-CIPPUserJITAdmin`); a task's step log holds `Set-CIPPUserJITAdmin`'s text and the per-role or per-group failures CIPP only logs. A missing or unknown `ExpireAction`, a missing `EndDate`, or, for `create`, a missing `Username` or `Domain` is a 400 naming the field (CIPP queues a task that fails, runs the expiry at once, or sends Graph a broken user). The maximum duration is the `MaxDuration` of the `JITAdminSettings` store key. No PwPush link is made (the plain password or TAP is answered, as in CIPP without PwPush) `postExecution` `Webhook` is each task's last step (a signed POST to the configured webhook, retried, its outcome in the step log); e-mail and PSA are refused with a 400 naming them, as is a webhook when none is configured. With `RequireApproval` the request is stored for ExecJITAdminRequestDecision (no approval notification is sent); custom roles here carry no JIT role template, so no caller's roles are restricted (ListJITAllowedRoles). Server-local times are UTC. The audit row carries the user and the tasks, never the password or TAP.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "userAction": "existing",
            "existingUser": {"label": "Demo user", "value": crate::demo::USER},
            "AdminRoles": [{"label": "User Administrator", "value": "fe930be7-5e62-47db-91af-98c3a49a38b1"}],
            "StartDate": 1_900_000_000,
            "EndDate": 1_900_003_600,
            "ExpireAction": {"label": "Remove Roles", "value": "RemoveRoles"},
            "reason": "Change CHG0042",
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ExecJitAdminResults>, UserError> {
        let tenant = ctx.tenant()?.clone();
        notify_webhook(&ctx, &params)?;
        if let Some(id) = params.approval_request_id.as_deref() {
            let request = claim(&ctx, &tenant, id).await?;
            let approved: Params = crate::scheduled_user::read(request.request_body.clone())?;
            return provision(&ctx, &tenant, approved, Some(request)).await;
        }
        let roles: Vec<String> = params
            .admin_roles
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect();
        if let Some(requirement) = jit_approval::requirement(&ctx.store, &roles).await {
            return submit(&ctx, &tenant, &params, requirement).await;
        }
        provision(&ctx, &tenant, params, None).await
    }
}

/// Whether each task ends with the webhook; a notice this service cannot send is a 400.
fn notify_webhook(ctx: &Ctx, params: &Params) -> Result<bool, UserError> {
    let asked = params
        .post_execution
        .as_ref()
        .map(PostExecution::asked)
        .unwrap_or_default();
    let problems = task_notify::problems("postExecution", &asked, ctx.env.webhook_configured);
    if problems.is_empty() {
        Ok(asked.webhook)
    } else {
        Err(UserError::invalid("postExecution", problems.join(" ")))
    }
}

/// Makes the user a JIT admin: the user (created or resolved), the TAP, and the two tasks.
/// `approval` is the approved request being provisioned: its requester is the creator and no
/// credentials are made (the approver must not see them).
pub async fn provision(
    ctx: &Ctx,
    tenant: &crate::tenants::Tenant,
    mut params: Params,
    approval: Option<jit_approval::JitRequest>,
) -> Result<Outcome<ExecJitAdminResults>, UserError> {
    if approval.is_some() {
        params.use_tap = false;
    }
    let ctx = ctx.clone();
    let tenant = tenant.clone();
    {
        let expire = params.expire_action.ok_or_else(|| {
            UserError::invalid(
                "ExpireAction",
                "ExpireAction is required: RemoveRoles, RemoveGroups, RemoveRolesAndGroups, DisableUser or DeleteUser.",
            )
        })?;
        let end = params
            .end_date
            .ok_or_else(|| UserError::invalid("EndDate", "EndDate is required (Unix seconds)."))?;
        let start = params.start_date.unwrap_or(0);
        check_max_duration(&ctx, end - start).await?;
        let webhook = notify_webhook(&ctx, &params)?;

        let creating = params
            .user_action
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("create"));
        let reason = params.reason.clone().unwrap_or_default();
        let created_by = approval
            .as_ref()
            .map_or_else(|| ctx.caller.actor(), |a| a.requested_by.clone());
        let extension = match cipp_user_extension(
            &ctx.graph,
            ctx.env.tenants.partner_tenant_id(),
            &ctx.env.partner_client_id,
        )
        .await
        {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "CIPP's schema extension could not be read");
                None
            }
        };
        let mut results = Vec::new();
        let username = if creating {
            let new = NewJitUser::from_params(&params)?;
            let upn = new.upn.clone();
            let jit = jit_admin::jit_values(
                false,
                end,
                Some(start).filter(|s| *s != 0),
                reason_or_default(&reason),
                &created_by,
            );
            let password = create_user(&ctx, &tenant, new, extension.as_deref(), jit).await?;
            results.push(item(format!("Created User: {upn}"), upn.clone()));
            if !params.use_tap && approval.is_none() {
                results.push(item(format!("Password: {password}"), password));
            }
            results.push(ExecJitAdminLine::Text(format!(
                "JIT Admin Expires: {}",
                powershell_time(end)
            )));
            upn
        } else {
            let username = resolve_existing(&ctx, &tenant, params.existing_user.as_ref()).await?;
            results.push(item(format!("User: {username}"), username.clone()));
            username
        };

        if params.use_tap {
            results.extend(create_tap(&ctx, &tenant, &username, &params, start, end).await);
        }
        if let Some(mut request) = approval.clone() {
            request.target_user = username.clone();
            if ctx.dry_run.is_none() {
                jit_approval::save(&ctx.store, &request).await?;
            }
            results.push(ExecJitAdminLine::Text(
                "Sign-in credentials were not generated. The requester can create a TAP or reset the password from the JIT Admin page.".to_owned(),
            ));
        }
        let approval_request_id = approval.as_ref().map(|a| a.id.clone());

        let roles: Vec<String> = params
            .admin_roles
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect();
        let groups: Vec<String> = params
            .group_memberships
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect();
        let reason_param = Some(reason.clone()).filter(|r| !r.trim().is_empty());
        let now = OffsetDateTime::now_utc();
        let starts_later = start > now.unix_timestamp();
        let enable = JitTaskParameters {
            tenant_filter: tenant.default_domain_name.clone(),
            user: username.clone(),
            roles: roles.clone(),
            groups: groups.clone(),
            action: JitAction::enable_for(!roles.is_empty(), !groups.is_empty()),
            reason: reason_param.clone(),
            expiration: Some(end),
            start_date: Some(start),
            created_by: created_by.clone(),
            extension: extension.clone(),
            approval_request_id: approval_request_id.clone(),
        };
        let enable_name = format!("JIT Admin (enable): {username}");
        let enable_line = if starts_later {
            let at = unix_time(start);
            jit_admin::schedule(&ctx, &tenant, enable_name, enable, at, webhook).await?;
            if !creating {
                // The user shows in ListJITAdmin as scheduled until the start.
                let values = jit_admin::jit_values(
                    false,
                    end,
                    Some(start),
                    reason_or_default(&reason),
                    &created_by,
                );
                let user = params
                    .existing_user
                    .as_ref()
                    .map_or(username.as_str(), UserId::as_str);
                jit_admin::write_jit_values(
                    &ctx.graph,
                    &tenant.customer_id,
                    user,
                    extension.as_deref(),
                    values,
                )
                .await;
            }
            format!("Scheduling JIT Admin enable task for {username}")
        } else {
            jit_admin::schedule(&ctx, &tenant, enable_name, enable, now, webhook).await?;
            format!("Queued JIT Admin enable task for {username} to run now")
        };
        tracing::info!(tenant = %tenant.customer_id, "{enable_line}");
        results.push(ExecJitAdminLine::Text(enable_line.clone()));

        let action = expire.action();
        let expire_task = JitTaskParameters {
            tenant_filter: tenant.default_domain_name.clone(),
            user: username.clone(),
            roles,
            groups,
            action,
            reason: reason_param,
            expiration: None,
            start_date: None,
            created_by,
            extension,
            approval_request_id,
        };
        let expire_name = format!("JIT Admin ({}): {username}", action.name());
        jit_admin::schedule(
            &ctx,
            &tenant,
            expire_name,
            expire_task,
            unix_time(end),
            webhook,
        )
        .await?;
        let expire_line = format!("Scheduling JIT Admin {} task for {username}", action.name());
        tracing::info!(tenant = %tenant.customer_id, "{expire_line}");
        results.push(ExecJitAdminLine::Text(expire_line.clone()));

        let audit = format!(
            "{} JIT admin {username}. {enable_line}. {expire_line}.",
            if creating { "Created" } else { "Made" }
        );
        Ok(Outcome::json(ExecJitAdminResults { results })
            .audit_message(audit)
            .audit_target(username))
    }
}

/// The requester takes an approved request to provision it: it must be approved, theirs and
/// for this tenant; it is then `Completed`, so it is provisioned once.
async fn claim(
    ctx: &Ctx,
    tenant: &crate::tenants::Tenant,
    id: &str,
) -> Result<jit_approval::JitRequest, UserError> {
    let actor = ctx.caller.actor();
    let request = jit_approval::find(&ctx.store, id).await?.filter(|r| {
        r.state == "Approved"
            && r.requested_by == actor
            && r.tenant.eq_ignore_ascii_case(&tenant.default_domain_name)
    });
    let Some(mut request) = request else {
        return Err(answered(
            ErrorKind::InvalidInput,
            "This JIT admin request is not approved or has already been provisioned.".to_owned(),
        ));
    };
    request.state = "Completed".to_owned();
    if ctx.dry_run.is_none() {
        // Another replica's claim of the same request makes this one a 409.
        jit_approval::save_if_unchanged(&ctx.store, &request).await?;
    }
    Ok(request)
}

/// A field of the request as sent, found without regard to case.
fn sent<'r>(request: &'r Value, name: &str) -> Option<&'r Value> {
    request
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The labels (else values) of a picker list as sent, comma-separated.
fn labels(request: &Value, name: &str) -> String {
    let Some(Value::Array(items)) = sent(request, name) else {
        return String::new();
    };
    items
        .iter()
        .filter_map(|i| i["label"].as_str().or(i["value"].as_str()).or(i.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Stores the request for approval instead of provisioning it (CIPP's `Pending` row).
async fn submit(
    ctx: &Ctx,
    tenant: &crate::tenants::Tenant,
    params: &Params,
    requirement: jit_approval::Requirement,
) -> Result<Outcome<ExecJitAdminResults>, UserError> {
    if params.expire_action.is_none() {
        return Err(UserError::invalid(
            "ExpireAction",
            "ExpireAction is required: RemoveRoles, RemoveGroups, RemoveRolesAndGroups, DisableUser or DeleteUser.",
        ));
    }
    let end = params
        .end_date
        .ok_or_else(|| UserError::invalid("EndDate", "EndDate is required (Unix seconds)."))?;
    let start = params.start_date.unwrap_or(0);
    check_max_duration(ctx, end - start).await?;
    let creating = params
        .user_action
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("create"));
    let target_user = if creating {
        format!(
            "{}@{}",
            params.username.as_deref().unwrap_or_default(),
            params.domain.as_deref().unwrap_or_default()
        )
    } else {
        params
            .existing_user
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default()
    };
    let mut body = ctx.request.clone();
    if let Value::Object(fields) = &mut body {
        fields.retain(|k, _| !k.eq_ignore_ascii_case("ApprovalRequestId"));
    }
    let request = jit_approval::JitRequest {
        id: uuid::Uuid::new_v4().to_string(),
        state: "Pending".to_owned(),
        tenant: tenant.default_domain_name.clone(),
        target_user,
        role_ids: params.admin_roles.iter().map(|g| g.as_str().to_owned()).collect(),
        role_names: labels(&ctx.request, "AdminRoles"),
        group_ids: params
            .group_memberships
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect(),
        group_names: labels(&ctx.request, "GroupMemberships"),
        reason: params.reason.clone().unwrap_or_default(),
        start_date: start,
        end_date: end,
        requested_by: ctx.caller.actor(),
        requested_at: jit_admin::extension_time(OffsetDateTime::now_utc().unix_timestamp()),
        request_body: body,
        approver_roles: requirement.approver_roles.clone(),
        required_approvals: requirement.required,
        decisions: Vec::new(),
        results: None,
        read_as: None,
    };
    if ctx.dry_run.is_none() {
        jit_approval::save(&ctx.store, &request).await?;
    }
    tracing::info!(
        tenant = %tenant.customer_id,
        "JIT Admin request for {} ({}) submitted for approval",
        request.target_user,
        request.role_names
    );
    let text = format!(
        "JIT Admin request for {} submitted for approval. It needs {} approval(s) from: {}.",
        request.target_user,
        request.required_approvals,
        request.approver_roles.join(", ")
    );
    Ok(Outcome::json(ExecJitAdminResults {
        results: vec![ExecJitAdminLine::Text(text)],
    })
    .audit_target(request.target_user))
}

fn reason_or_default(reason: &str) -> &str {
    if reason.trim().is_empty() {
        "No reason provided"
    } else {
        reason
    }
}

fn unix_time(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A time as PowerShell interpolates a `DateTime`: `MM/dd/yyyy HH:mm:ss` (the server's zone,
/// UTC here).
fn powershell_time(seconds: i64) -> String {
    let format = format_description!("[month]/[day]/[year] [hour]:[minute]:[second]");
    unix_time(seconds).format(&format).unwrap_or_default()
}

/// CIPP's maximum-duration check; a missing or unreadable setting skips it.
async fn check_max_duration(ctx: &Ctx, requested_seconds: i64) -> Result<(), UserError> {
    let settings = match ctx.store.kv_get(SETTINGS_KEY).await {
        Ok(settings) => settings,
        Err(error) => {
            tracing::warn!(%error, "Failed to check JIT Admin max duration setting");
            return Ok(());
        }
    };
    let Some(max) = settings
        .as_ref()
        .and_then(|s| s["MaxDuration"].as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(());
    };
    let Some(max_seconds) = iso_duration_seconds(max) else {
        tracing::warn!(max, "Failed to parse MaxDuration setting");
        return Ok(());
    };
    #[allow(clippy::cast_precision_loss)]
    if (requested_seconds as f64) > max_seconds {
        let days = |s: f64| format!("{:.2}", s / 86_400.0);
        #[allow(clippy::cast_precision_loss)]
        let message = format!(
            "Requested JIT Admin duration ({} days) exceeds the maximum allowed duration of {max} ({} days)",
            days(requested_seconds as f64),
            days(max_seconds)
        );
        tracing::error!(tenant = ?ctx.target, "{message}");
        return Err(answered(ErrorKind::InvalidInput, message));
    }
    Ok(())
}

/// An ISO 8601 duration as .NET's `XmlConvert.ToTimeSpan` reads it (a year is 365 days, a
/// month 30), in seconds; `None` when it is not one.
pub fn iso_duration_seconds(text: &str) -> Option<f64> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let rest = rest.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total = 0.0;
    let mut any = false;
    let mut read = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut number = String::new();
        let mut next = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let at = units[next..].iter().position(|(u, _)| *u == c)? + next;
            let value: f64 = number.parse().ok()?;
            total += value * units[at].1;
            number.clear();
            next = at + 1;
            any = true;
        }
        number.is_empty().then_some(())
    };
    read(
        date,
        &[('Y', 365.0 * 86_400.0), ('M', 30.0 * 86_400.0), ('D', 86_400.0)],
    )?;
    if let Some(time) = time {
        read(time, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    any.then_some(if negative { -total } else { total })
}

/// What CIPP sends to create the JIT admin.
struct NewJitUser {
    upn: String,
    first_name: String,
    last_name: String,
    usage_location: Option<String>,
}

impl NewJitUser {
    fn from_params(params: &Params) -> Result<Self, UserError> {
        let username = params
            .username
            .as_deref()
            .ok_or_else(|| UserError::invalid("Username", "Username is required to create a JIT admin."))?;
        let domain = params
            .domain
            .as_deref()
            .ok_or_else(|| UserError::invalid("Domain", "Domain is required to create a JIT admin."))?;
        Ok(Self {
            upn: format!("{username}@{domain}"),
            first_name: params.first_name.clone().unwrap_or_default(),
            last_name: params.last_name.clone().unwrap_or_default(),
            usage_location: params.usage_location.clone(),
        })
    }
}

/// `POST beta/users` with a generated password and the JIT values (not yet enabled); returns
/// the password for the answer.
async fn create_user(
    ctx: &Ctx,
    tenant: &crate::tenants::Tenant,
    new: NewJitUser,
    extension: Option<&str>,
    jit: Value,
) -> Result<String, UserError> {
    let settings = ctx.password_settings().await;
    let password = crate::password::generate_password(&settings);
    let mail_nickname = new.upn.split('@').next().unwrap_or_default().to_owned();
    let mut body = json!({
        "givenName": new.first_name,
        "surname": new.last_name,
        "accountEnabled": true,
        "displayName": format!("{} {}", new.first_name, new.last_name),
        "userPrincipalName": new.upn,
        "mailNickname": mail_nickname,
        "passwordProfile": {
            "forceChangePasswordNextSignIn": true,
            "forceChangePasswordNextSignInWithMfa": false,
            "password": password.expose_secret(),
        },
    });
    if let Some(ext) = extension {
        body[ext] = jit;
    }
    if let Some(usage) = new.usage_location.filter(|u| !u.trim().is_empty()) {
        body["usageLocation"] = json!(usage);
    }
    ctx.graph
        .post(&tenant.customer_id, GraphVersion::Beta, "users", &body)
        .await
        .map_err(|e| {
            let message = format!(
                "Failed to create JIT Admin user: {}",
                normalize_graph_error(&e)
            );
            answered(ErrorKind::UpstreamRejected, message)
        })?;
    tracing::info!(
        tenant = %tenant.customer_id,
        "Created JIT Admin user: {}",
        new.upn
    );
    Ok(password.expose_secret().to_owned())
}

/// The existing user's UPN: an object id is looked up (a guest keeps the id, as its UPN holds
/// `#EXT#`).
async fn resolve_existing(
    ctx: &Ctx,
    tenant: &crate::tenants::Tenant,
    user: Option<&UserId>,
) -> Result<String, UserError> {
    let Some(user) = user else {
        return Err(answered(
            ErrorKind::InvalidInput,
            "Could not resolve username from existingUser value: ".to_owned(),
        ));
    };
    if !is_guid(user.as_str()) {
        return Ok(user.as_str().to_owned());
    }
    let found = ctx
        .graph
        .get(
            &tenant.customer_id,
            GraphVersion::V1,
            &format!("users/{}", user.segment()),
            &[],
        )
        .await
        .map_err(|e| UserError::Failed {
            message: normalize_graph_error(&e),
            source: Some(Box::new(e)),
        })?;
    let upn = found["userPrincipalName"].as_str().unwrap_or_default();
    if upn.trim().is_empty() {
        return Err(answered(
            ErrorKind::InvalidInput,
            format!(
                "Could not resolve username from existingUser value: {}",
                user.as_str()
            ),
        ));
    }
    Ok(if upn.contains("#EXT#") {
        user.as_str().to_owned()
    } else {
        upn.to_owned()
    })
}

/// CIPP's TAP for the JIT admin: lifetime as asked (else the JIT duration) within the tenant's
/// TAP policy, tried up to 11 times; the two result entries come even when every try failed.
async fn create_tap(
    ctx: &Ctx,
    tenant: &crate::tenants::Tenant,
    username: &str,
    params: &Params,
    start: i64,
    end: i64,
) -> Vec<ExecJitAdminLine> {
    let tenant_id = tenant.customer_id.as_str();
    let requested = params.tap_lifetime_in_minutes.unwrap_or((end - start) / 60);
    let policy = ctx
        .graph
        .get(
            tenant_id,
            GraphVersion::Beta,
            "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
            &[],
        )
        .await;
    let lifetime = match policy {
        Ok(policy) => {
            let max = policy["maximumLifetimeInMinutes"].as_i64().unwrap_or(1440);
            let min = policy["minimumLifetimeInMinutes"].as_i64().unwrap_or(1).min(max);
            Some(requested.clamp(min, max))
        }
        Err(error) => {
            tracing::warn!(%error, "Failed to determine TAP lifetime from policy");
            params.tap_lifetime_in_minutes
        }
    };
    let mut body = serde_json::Map::new();
    if start > OffsetDateTime::now_utc().unix_timestamp() {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        body.insert(
            "startDateTime".into(),
            json!(unix_time(start).format(&format).unwrap_or_default()),
        );
    }
    if let Some(minutes) = lifetime.filter(|m| *m > 0) {
        body.insert("lifetimeInMinutes".into(), json!(minutes));
    }
    let body = Value::Object(body);
    let path = format!(
        "users/{}/authentication/temporaryAccessPassMethods",
        crate::path_segment(username)
    );
    // A dry run plans one request; retrying a planned one would only wait.
    let attempts = if ctx.dry_run.is_some() {
        1
    } else {
        TAP_ATTEMPTS
    };
    let mut created = Value::Null;
    for attempt in 1..=attempts {
        match ctx
            .graph
            .post(tenant_id, GraphVersion::Beta, &path, &body)
            .await
        {
            Ok(Some(answer)) if answer["temporaryAccessPass"].is_string() => {
                created = answer;
                break;
            }
            Ok(_) => {}
            Err(error) => {
                tracing::info!(%error, attempt, "Failed to create TAP, retrying");
                if attempt < attempts {
                    tokio::time::sleep(TAP_PAUSE).await;
                }
            }
        }
    }
    let pass = created["temporaryAccessPass"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let minutes = match &created["lifetimeInMinutes"] {
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let starts = created["startDateTime"]
        .as_str()
        .and_then(|s| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
        .map(|t| powershell_time(t.unix_timestamp()))
        .unwrap_or_default();
    tracing::info!(
        tenant = tenant_id,
        "Created Temporary Access Pass for {username} (lifetime: {minutes} minutes)"
    );
    vec![
        item(format!("Temporary Access Pass: {pass}"), pass),
        ExecJitAdminLine::Text(format!(
            "This TAP is usable starting at {starts} UTC for the next {minutes} minutes"
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations_read_as_dotnet_reads_them() {
        assert_eq!(iso_duration_seconds("P1D"), Some(86_400.0));
        assert_eq!(iso_duration_seconds("PT8H"), Some(28_800.0));
        assert_eq!(iso_duration_seconds("P1DT2H30M"), Some(95_400.0));
        assert_eq!(iso_duration_seconds("P1M"), Some(30.0 * 86_400.0));
        assert_eq!(iso_duration_seconds("PT1.5S"), Some(1.5));
        assert_eq!(iso_duration_seconds("1 day"), None);
        assert_eq!(iso_duration_seconds("P"), None);
        assert_eq!(iso_duration_seconds("PT"), None);
        assert_eq!(iso_duration_seconds("PH1"), None);
        assert_eq!(iso_duration_seconds("PDT1H"), None);
    }

    #[test]
    fn times_are_shown_as_powershell_interpolates_them() {
        assert_eq!(powershell_time(1_767_225_600), "01/01/2026 00:00:00");
    }
}
