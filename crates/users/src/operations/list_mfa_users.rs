//! `ListMFAUsers` (CIPP-API `Invoke-ListMFAUsers.ps1` → `Get-CIPPMFAState.ps1`): one row per
//! user with per-user MFA, registration, Conditional Access and security-defaults coverage.
//!
//! The reads and their fallbacks follow CIPP: security defaults null when unreadable; without
//! the registration report (licensing) no CA policies are read and `CoveredByCA` says why;
//! policies are read app-only and only those requiring MFA count. Where CIPP would quietly
//! answer something it cannot know, the row says so instead: a failed group-membership read
//! makes the CA part fail as a whole (CIPP skips the group), and an unreadable role-assignment
//! list leaves `IsAdmin` null (CIPP: false).

use std::collections::{HashMap, HashSet};

use cipp_graph::{BatchRequest, GraphClient, GraphVersion};
use futures::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::{Ctx, Method, Operation, Outcome, RowStream, Source, TenantUse};
use crate::read_support::{NamedTenant, batch_values, failed, named_tenant};

pub struct ListMFAUsers;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The tenant (its id, default domain or initial domain) or `AllTenants`. Each row's
    /// `Tenant` echoes it as sent, as in CIPP.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: String,
    /// Accepted for CIPP's frontend; the report is always read live (there is no reporting
    /// database here).
    #[serde(rename = "UseReportDB", default)]
    pub use_report_db: bool,
}

/// One user's MFA coverage, or (with `AllTenants`) a tenant that could not be read.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListMfaUsersEntry {
    User(ListMfaUsersRow),
    Unreachable(ListMfaUsersUnreachable),
}

/// One user's row in CIPP's shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListMfaUsersRow {
    /// The `tenantFilter` as sent (the default domain with `AllTenants`).
    #[serde(rename = "Tenant")]
    pub tenant: String,
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "UPN")]
    pub upn: String,
    #[serde(rename = "DisplayName")]
    pub display_name: Option<String>,
    #[serde(rename = "AccountEnabled")]
    pub account_enabled: Option<bool>,
    /// The legacy per-user MFA state: `disabled`, `enabled` or `enforced`.
    #[serde(rename = "PerUser")]
    pub per_user: Option<String>,
    #[serde(rename = "isLicensed")]
    pub is_licensed: bool,
    /// Null when the registration report could not be read.
    #[serde(rename = "MFARegistration")]
    pub mfa_registration: Option<bool>,
    /// Null when the registration report could not be read.
    #[serde(rename = "MFACapable")]
    pub mfa_capable: Option<bool>,
    #[serde(rename = "MFAMethods")]
    pub mfa_methods: Vec<String>,
    /// `Enforced - All Apps`, `Enforced - Specific Apps`, `Not Enforced`, or why the
    /// policies could not be read.
    #[serde(rename = "CoveredByCA")]
    pub covered_by_ca: String,
    /// The MFA-requiring Conditional Access policies that name the user.
    #[serde(rename = "CAPolicies")]
    pub ca_policies: Vec<ListMfaUsersPolicy>,
    /// Whether security defaults are on; null when unreadable.
    #[serde(rename = "CoveredBySD")]
    pub covered_by_sd: Option<bool>,
    /// Whether the user holds a directory role; null when role assignments are unreadable.
    #[serde(rename = "IsAdmin")]
    pub is_admin: Option<bool>,
    #[serde(rename = "UserType")]
    pub user_type: Option<String>,
    /// The UPN without `#`.
    #[serde(rename = "RowKey")]
    pub row_key: String,
    /// Always `users`.
    #[serde(rename = "PartitionKey")]
    pub partition_key: String,
}

/// One Conditional Access policy as it applies to a user.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListMfaUsersPolicy {
    #[serde(rename = "DisplayName")]
    pub display_name: Option<String>,
    /// False when the user is excluded (directly, as a guest, by group or by role).
    #[serde(rename = "UserIncluded")]
    pub user_included: bool,
    /// Whether the policy covers all applications.
    #[serde(rename = "AllApps")]
    pub all_apps: bool,
    #[serde(rename = "PolicyState")]
    pub policy_state: Option<String>,
    /// The excluding group's name (or id when it cannot be read).
    #[serde(rename = "ExcludedViaGroup", skip_serializing_if = "Option::is_none")]
    pub excluded_via_group: Option<String>,
    /// The excluding role's name (or template id when it cannot be read).
    #[serde(rename = "ExcludedViaRole", skip_serializing_if = "Option::is_none")]
    pub excluded_via_role: Option<String>,
}

/// CIPP's row for a tenant it could not read, plus the reason in `CippStatus`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListMfaUsersUnreachable {
    #[serde(rename = "Tenant")]
    pub tenant: String,
    /// The tenant again.
    #[serde(rename = "UPN")]
    pub upn: String,
    /// `none`.
    #[serde(rename = "AccountEnabled")]
    pub account_enabled: String,
    /// `Could not connect to tenant`.
    #[serde(rename = "PerUser")]
    pub per_user: String,
    /// `none`.
    #[serde(rename = "MFARegistration")]
    pub mfa_registration: String,
    /// `Could not connect to tenant`.
    #[serde(rename = "CoveredByCA")]
    pub covered_by_ca: String,
    /// `none`.
    #[serde(rename = "CoveredBySD")]
    pub covered_by_sd: String,
    /// Empty.
    #[serde(rename = "CAPolicies")]
    pub ca_policies: Vec<ListMfaUsersPolicy>,
    /// Empty.
    #[serde(rename = "MFAMethods")]
    pub mfa_methods: Vec<String>,
    #[serde(rename = "RowKey")]
    pub row_key: String,
    #[serde(rename = "PartitionKey")]
    pub partition_key: String,
    /// Why: `Could not connect to tenant. <reason>`, or the time budget ran out.
    #[serde(rename = "CippStatus")]
    pub cipp_status: String,
}

impl Operation for ListMFAUsers {
    type Params = Params;
    type Answer = Vec<ListMfaUsersEntry>;
    const NAME: &'static str = "ListMFAUsers";
    const TAG: &'static str = "Identity > Reports";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    // The rows echo the tenantFilter as sent, so the operation reads it itself.
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListMFAUsers.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "AllTenants is read live (CIPP serves a two-hour cache and queues a refill); a tenant \
         that fails is CIPP's \"Could not connect to tenant\" row with the reason in \
         `CippStatus`. `UseReportDB` is accepted and read live too: there is no reporting \
         database here. A failure is a 500 with the normalised Graph text (CIPP: 403). Where \
         CIPP would quietly answer something it cannot know, the row says so instead: a failed \
         group-membership read makes the CA part fail as a whole (CIPP skips the group), and an \
         unreadable role-assignment list leaves `IsAdmin` null (CIPP: false).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<ListMfaUsersEntry>>, UserError> {
        let graph = ctx.graph.clone();
        match named_tenant(&ctx, &params.tenant_filter).await? {
            NamedTenant::One(tenant) => {
                let rows = list_mfa_users(&graph, &tenant.customer_id, &params.tenant_filter)
                    .await?
                    .into_iter()
                    .map(ListMfaUsersEntry::User)
                    .collect();
                Ok(Outcome::json(rows)
                    .audit_tenant(&tenant.default_domain_name, &tenant.customer_id))
            }
            NamedTenant::All => {
                let pages = ctx
                    .fan_out(move |tenant| {
                        let (graph, id) = (graph.clone(), tenant.customer_id.clone());
                        let label = tenant.default_domain_name.clone();
                        stream::once(async move {
                            list_mfa_users(&graph, &id, &label)
                                .await?
                                .into_iter()
                                .map(|row| to_row(ListMfaUsersEntry::User(row)))
                                .collect()
                        })
                        .boxed_local()
                    })
                    .await?
                    .map(|page| page?.into_iter().map(cipp_failure_row).collect())
                    .boxed_local();
                Ok(Outcome::rows(RowStream {
                    prefix: String::new(),
                    pages,
                    suffix: String::new(),
                }))
            }
        }
    }
}

fn to_row(entry: ListMfaUsersEntry) -> Result<Value, UserError> {
    serde_json::to_value(entry)
        .map_err(|e| UserError::internal("An MFA report row could not be written", e))
}

/// Gives fan-out's `{Tenant, CippStatus}` rows the fields CIPP's MFA report shows.
fn cipp_failure_row(row: Value) -> Result<Value, UserError> {
    match (
        row.get("UPN"),
        row["Tenant"].as_str(),
        row["CippStatus"].as_str(),
    ) {
        (None, Some(tenant), Some(status)) => to_row(ListMfaUsersEntry::Unreachable(
            unreachable_tenant_row(tenant, status),
        )),
        _ => Ok(row),
    }
}

const USERS: &str = "users?$top=999&$select=id,UserPrincipalName,DisplayName,accountEnabled,assignedLicenses,perUserMfaState,userType";
const REGISTRATION: &str = "reports/authenticationMethods/userRegistrationDetails?$top=999&$select=userPrincipalName,isMfaRegistered,isMfaCapable,methodsRegistered";
const POLICIES: &str = "identity/conditionalAccess/policies?$top=999&$filter=state%20eq%20'enabled'&$select=id,displayName,state,grantControls,conditions";
const ASSIGNMENTS: &str = "roleManagement/directory/roleAssignments?$expand=principal";
const DEFINITIONS: &str =
    "roleManagement/directory/roleDefinitions?$select=id,templateId,displayName";
const NOT_LICENSED: &str =
    "MFA registration not available - licensing required for Conditional Access reporting";
/// CIPP does not count this refusal as an error worth logging: the tenant simply lacks P1.
const NO_PREMIUM: &str = "Tenant is not a B2C tenant and doesn't have premium licenses";

/// The rows for one tenant. `label` fills `Tenant` (CIPP echoes the caller's `tenantFilter`).
pub async fn list_mfa_users(
    graph: &GraphClient,
    tenant: &str,
    label: &str,
) -> Result<Vec<ListMfaUsersRow>, UserError> {
    let users = graph
        .get_all(tenant, GraphVersion::V1, USERS, &[])
        .await
        .map_err(|e| failed("", e))?;
    let mut errors: Vec<String> = Vec::new();

    let secure_defaults = match graph
        .get(
            tenant,
            GraphVersion::Beta,
            "policies/identitySecurityDefaultsEnforcementPolicy",
            &[],
        )
        .await
    {
        Ok(policy) => policy.get("isEnabled").and_then(Value::as_bool),
        Err(e) => {
            errors.push(format!("SecureDefaults: {}", normalize_graph_error(&e)));
            None
        }
    };

    let app = graph.app_only();
    let mut coverage = Coverage::default();
    let mut assignments = None;
    match app
        .get_all(tenant, GraphVersion::Beta, REGISTRATION, &[])
        .await
    {
        Ok(records) => {
            coverage.registration = Some(
                records
                    .into_iter()
                    .filter_map(|r| {
                        let upn = r.get("userPrincipalName")?.as_str()?.to_lowercase();
                        Some((upn, r))
                    })
                    .collect(),
            );
            assignments = optional(graph, tenant, ASSIGNMENTS).await;
            match read_policies(graph, tenant, assignments.as_deref()).await {
                Ok(policies) => coverage.policies = Some(policies),
                Err(message) => {
                    errors.push(format!("CAPolicies: {message}"));
                    coverage.ca_error = Some(format!("CA policies not available: {message}"));
                }
            }
        }
        Err(e) => {
            let message = normalize_graph_error(&e);
            if message != NO_PREMIUM {
                errors.push(format!("MFARegistration: {message}"));
            }
            coverage.ca_error = Some(NOT_LICENSED.to_owned());
        }
    }
    if assignments.is_none() {
        assignments = optional(graph, tenant, ASSIGNMENTS).await;
    }
    let admins: Option<HashSet<String>> = assignments.as_deref().map(|list| {
        list.iter()
            .filter(|a| a["principal"]["@odata.type"] == "#microsoft.graph.user")
            .filter_map(|a| a["principal"]["id"].as_str().map(str::to_lowercase))
            .collect()
    });
    if !errors.is_empty() {
        // CIPP writes one Error log row for these; the rows still carry what could be read.
        tracing::warn!(tenant, ?errors, "The MFA report encountered errors");
    }
    Ok(users
        .iter()
        .map(|user| user_row(user, label, &coverage, secure_defaults, admins.as_ref()))
        .collect())
}

/// A read whose failure CIPP ignores (`-ErrorAction SilentlyContinue`): `None` when it failed.
async fn optional(graph: &GraphClient, tenant: &str, path: &str) -> Option<Vec<Value>> {
    match graph.get_all(tenant, GraphVersion::V1, path, &[]).await {
        Ok(items) => Some(items),
        Err(e) => {
            tracing::info!(tenant, path, error = %e, "optional MFA report read failed");
            None
        }
    }
}

#[derive(Default)]
struct Coverage {
    /// Registration records by lower-cased UPN; `None` when the report could not be read.
    registration: Option<HashMap<String, Value>>,
    policies: Option<Policies>,
    ca_error: Option<String>,
}

/// The MFA-requiring policies and what is needed to place users in and out of them.
#[derive(Default)]
struct Policies {
    all_users: Vec<Value>,
    guests: Vec<Value>,
    /// Policies per user id (direct, group and role inclusion, in CIPP's order), lower-case ids.
    per_user: HashMap<String, Vec<Value>>,
    exclude_groups_of: HashMap<String, HashSet<String>>,
    exclude_roles_of: HashMap<String, HashSet<String>>,
    group_names: HashMap<String, String>,
    role_names: HashMap<String, String>,
}

fn requires_mfa(policy: &Value) -> bool {
    let grant = &policy["grantControls"];
    contains(&grant["builtInControls"], "mfa")
        || grant["authenticationStrength"]["requirementsSatisfied"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("mfa"))
}

/// PowerShell's `-contains` on a JSON list: case-insensitive.
fn contains(list: &Value, wanted: &str) -> bool {
    ids(list).iter().any(|v| v.eq_ignore_ascii_case(wanted))
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn users_condition<'p>(policy: &'p Value, list: &str) -> Vec<&'p str> {
    ids(&policy["conditions"]["users"][list])
}

/// Reads the policies and resolves the groups and roles they name; `Err` is the text for
/// `CA policies not available: …`.
async fn read_policies(
    graph: &GraphClient,
    tenant: &str,
    assignments: Option<&[Value]>,
) -> Result<Policies, String> {
    let all = graph
        .app_only()
        .get_all(tenant, GraphVersion::Beta, POLICIES, &[])
        .await
        .map_err(|e| normalize_graph_error(&e))?;
    let definitions = optional(graph, tenant, DEFINITIONS)
        .await
        .unwrap_or_default();
    let mfa: Vec<Value> = all.into_iter().filter(requires_mfa).collect();
    let mut out = Policies::default();
    let mut include_groups: Vec<String> = Vec::new();
    let mut exclude_groups: Vec<String> = Vec::new();
    let mut include_roles: HashSet<String> = HashSet::new();
    let mut exclude_roles: HashSet<String> = HashSet::new();
    let add_unique = |list: &mut Vec<String>, id: &str| {
        if !list.iter().any(|g| g.eq_ignore_ascii_case(id)) {
            list.push(id.to_lowercase());
        }
    };
    for policy in &mfa {
        let included = users_condition(policy, "includeUsers");
        if included.iter().any(|u| u.eq_ignore_ascii_case("All")) {
            out.all_users.push(policy.clone());
        } else {
            for user in included {
                push(&mut out.per_user, user, policy);
            }
        }
        if !policy["conditions"]["users"]["includeGuestsOrExternalUsers"].is_null() {
            out.guests.push(policy.clone());
        }
        for group in users_condition(policy, "includeGroups") {
            add_unique(&mut include_groups, group);
        }
        for group in users_condition(policy, "excludeGroups") {
            add_unique(&mut exclude_groups, group);
        }
        include_roles.extend(
            users_condition(policy, "includeRoles")
                .iter()
                .map(|r| r.to_lowercase()),
        );
        exclude_roles.extend(
            users_condition(policy, "excludeRoles")
                .iter()
                .map(|r| r.to_lowercase()),
        );
    }

    if !include_groups.is_empty() || !exclude_groups.is_empty() {
        let mut members_of_include: HashMap<String, HashSet<String>> = HashMap::new();
        let member_requests = include_groups
            .iter()
            .map(|g| (format!("include-{g}"), g))
            .chain(exclude_groups.iter().map(|g| (format!("exclude-{g}"), g)))
            .map(|(id, g)| BatchRequest::get(format!("groups/{g}/members?$select=id")).with_id(id))
            .collect();
        for (id, members) in
            batch_values(graph, tenant, GraphVersion::Beta, member_requests, true).await?
        {
            let (exclude, group) = match id.split_once('-') {
                Some(("exclude", g)) => (true, g.to_owned()),
                Some((_, g)) => (false, g.to_owned()),
                None => continue,
            };
            for member in members.iter().filter_map(|m| m["id"].as_str()) {
                let map = if exclude {
                    &mut out.exclude_groups_of
                } else {
                    &mut members_of_include
                };
                map.entry(member.to_lowercase())
                    .or_default()
                    .insert(group.clone());
            }
        }
        let mut seen = HashSet::new();
        let detail_requests = include_groups
            .iter()
            .chain(exclude_groups.iter())
            .filter(|g| seen.insert(g.to_string()))
            .map(|g| BatchRequest::get(format!("groups/{g}?$select=id,displayName")).with_id(g))
            .collect();
        // A name that cannot be read is shown as the group id, as CIPP does.
        let details = graph
            .batch(tenant, GraphVersion::Beta, detail_requests)
            .await
            .unwrap_or_default();
        for answer in details.iter().filter(|a| a.status == 200) {
            if let Some(name) = answer.body.as_ref().and_then(|b| b["displayName"].as_str()) {
                out.group_names.insert(answer.id.clone(), name.to_owned());
            }
        }
        add_by_membership(
            &mut out.per_user,
            &mfa,
            "includeGroups",
            &members_of_include,
        );
    }

    if !include_roles.is_empty() || !exclude_roles.is_empty() {
        let mut template_of_definition: HashMap<String, String> = HashMap::new();
        for definition in &definitions {
            if let (Some(id), Some(template)) =
                (definition["id"].as_str(), definition["templateId"].as_str())
            {
                template_of_definition.insert(id.to_lowercase(), template.to_lowercase());
                if let Some(name) = definition["displayName"].as_str() {
                    out.role_names
                        .insert(template.to_lowercase(), name.to_owned());
                }
            }
        }
        let mut roles_of_include: HashMap<String, HashSet<String>> = HashMap::new();
        for assignment in assignments.unwrap_or_default() {
            if assignment["principal"]["@odata.type"] != "#microsoft.graph.user" {
                continue;
            }
            let (Some(principal), Some(definition)) = (
                assignment["principalId"].as_str(),
                assignment["roleDefinitionId"].as_str(),
            ) else {
                continue;
            };
            let definition = definition.to_lowercase();
            // Built-in roles' definition ids equal their template ids.
            let template = template_of_definition
                .get(&definition)
                .cloned()
                .unwrap_or(definition);
            let principal = principal.to_lowercase();
            if include_roles.contains(&template) {
                roles_of_include
                    .entry(principal.clone())
                    .or_default()
                    .insert(template.clone());
            }
            if exclude_roles.contains(&template) {
                out.exclude_roles_of
                    .entry(principal)
                    .or_default()
                    .insert(template);
            }
        }
        add_by_membership(&mut out.per_user, &mfa, "includeRoles", &roles_of_include);
    }
    Ok(out)
}

fn push(per_user: &mut HashMap<String, Vec<Value>>, user: &str, policy: &Value) {
    per_user
        .entry(user.to_lowercase())
        .or_default()
        .push(policy.clone());
}

/// Adds each policy naming `list` (groups or roles) to the users in any of them.
fn add_by_membership(
    per_user: &mut HashMap<String, Vec<Value>>,
    policies: &[Value],
    list: &str,
    membership: &HashMap<String, HashSet<String>>,
) {
    for policy in policies {
        let targets: Vec<String> = users_condition(policy, list)
            .iter()
            .map(|t| t.to_lowercase())
            .collect();
        if targets.is_empty() {
            continue;
        }
        let mut users: Vec<&String> = membership
            .iter()
            .filter(|(_, of)| targets.iter().any(|t| of.contains(t)))
            .map(|(user, _)| user)
            .collect();
        // Stable output whatever the hash order.
        users.sort();
        for user in users {
            push(per_user, user, policy);
        }
    }
}

/// One user's row in CIPP's shape.
fn user_row(
    user: &Value,
    label: &str,
    coverage: &Coverage,
    secure_defaults: Option<bool>,
    admins: Option<&HashSet<String>>,
) -> ListMfaUsersRow {
    let id = user["id"].as_str().unwrap_or_default();
    let upn = user["userPrincipalName"].as_str().unwrap_or_default();
    let guest = user["userType"].as_str() == Some("Guest");
    let policies = coverage
        .policies
        .as_ref()
        .map(|p| user_policies(p, &id.to_lowercase(), guest))
        .unwrap_or_default();
    let mut enforced = false;
    let mut all_apps = false;
    for policy in &policies {
        let enabled = policy
            .policy_state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("enabled"));
        if policy.user_included && enabled {
            enforced = true;
            all_apps |= policy.all_apps;
        }
    }
    let covered = if enforced && all_apps {
        "Enforced - All Apps".to_owned()
    } else if enforced {
        "Enforced - Specific Apps".to_owned()
    } else if let Some(error) = &coverage.ca_error {
        error.clone()
    } else {
        "Not Enforced".to_owned()
    };
    let record = coverage
        .registration
        .as_ref()
        .and_then(|r| r.get(&upn.to_lowercase()));
    let truthy = |v: &Value| match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        _ => true,
    };
    let licensed = user["assignedLicenses"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    let text = |v: &Value| v.as_str().map(str::to_owned);
    ListMfaUsersRow {
        tenant: label.to_owned(),
        id: id.to_owned(),
        upn: upn.to_owned(),
        display_name: text(&user["displayName"]),
        account_enabled: user["accountEnabled"].as_bool(),
        per_user: text(&user["perUserMfaState"]),
        is_licensed: licensed,
        mfa_registration: record.map(|r| truthy(&r["isMfaRegistered"])),
        mfa_capable: record.map(|r| truthy(&r["isMfaCapable"])),
        mfa_methods: record
            .and_then(|r| r["methodsRegistered"].as_array())
            .map(|methods| methods.iter().filter_map(text).collect())
            .unwrap_or_default(),
        covered_by_ca: covered,
        ca_policies: policies,
        covered_by_sd: secure_defaults,
        is_admin: admins.map(|a| a.contains(&id.to_lowercase())),
        user_type: text(&user["userType"]),
        row_key: upn.replace('#', ""),
        partition_key: "users".to_owned(),
    }
}

/// Whether a policy's `…GuestsOrExternalUsers` condition names internal guests.
fn names_internal_guests(policy: &Value, condition: &str) -> bool {
    policy["conditions"]["users"][condition]["guestOrExternalUserTypes"]
        .as_str()
        .is_some_and(|types| {
            types
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("internalGuest"))
        })
}

/// The user's policies in CIPP's order: guest policies, then the ones naming the user (directly,
/// by group or by role), then the all-users ones; excluded ones stay with `UserIncluded: false`.
fn user_policies(p: &Policies, id: &str, guest: bool) -> Vec<ListMfaUsersPolicy> {
    let mut out = Vec::new();
    if guest {
        for policy in &p.guests {
            if names_internal_guests(policy, "includeGuestsOrExternalUsers")
                && !names_internal_guests(policy, "excludeGuestsOrExternalUsers")
            {
                out.push(policy_entry(p, policy, id, false));
            }
        }
    }
    for policy in p.per_user.get(id).into_iter().flatten() {
        out.push(policy_entry(p, policy, id, false));
    }
    for policy in &p.all_users {
        let guest_excluded = guest && names_internal_guests(policy, "excludeGuestsOrExternalUsers");
        out.push(policy_entry(p, policy, id, guest_excluded));
    }
    out
}

fn policy_entry(
    p: &Policies,
    policy: &Value,
    id: &str,
    excluded_as_guest: bool,
) -> ListMfaUsersPolicy {
    let mut excluded = excluded_as_guest
        || users_condition(policy, "excludeUsers")
            .iter()
            .any(|u| u.eq_ignore_ascii_case(id));
    let mut via_group = None;
    let mut via_role = None;
    if !excluded && let Some(groups) = p.exclude_groups_of.get(id) {
        via_group = users_condition(policy, "excludeGroups")
            .into_iter()
            .find(|g| groups.contains(&g.to_lowercase()))
            .map(|g| {
                p.group_names
                    .get(&g.to_lowercase())
                    .cloned()
                    .unwrap_or_else(|| g.to_owned())
            });
        excluded = via_group.is_some();
    }
    if !excluded && let Some(roles) = p.exclude_roles_of.get(id) {
        via_role = users_condition(policy, "excludeRoles")
            .into_iter()
            .find(|r| roles.contains(&r.to_lowercase()))
            .map(|r| {
                p.role_names
                    .get(&r.to_lowercase())
                    .cloned()
                    .unwrap_or_else(|| r.to_owned())
            });
        excluded = via_role.is_some();
    }
    ListMfaUsersPolicy {
        display_name: policy["displayName"].as_str().map(str::to_owned),
        user_included: !excluded,
        all_apps: contains(
            &policy["conditions"]["applications"]["includeApplications"],
            "All",
        ),
        policy_state: policy["state"].as_str().map(str::to_owned),
        excluded_via_group: via_group,
        excluded_via_role: via_role,
    }
}

/// CIPP's cached row for a tenant it could not read, plus the reason in `CippStatus`.
pub fn unreachable_tenant_row(tenant: &str, reason: &str) -> ListMfaUsersUnreachable {
    ListMfaUsersUnreachable {
        tenant: tenant.to_owned(),
        upn: tenant.to_owned(),
        account_enabled: "none".to_owned(),
        per_user: "Could not connect to tenant".to_owned(),
        mfa_registration: "none".to_owned(),
        covered_by_ca: "Could not connect to tenant".to_owned(),
        covered_by_sd: "none".to_owned(),
        ca_policies: Vec::new(),
        mfa_methods: Vec::new(),
        row_key: tenant.to_owned(),
        partition_key: "users".to_owned(),
        cipp_status: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(users: Value, apps: &[&str], grant: Value) -> Value {
        json!({
            "displayName": "P",
            "state": "enabled",
            "grantControls": grant,
            "conditions": {"users": users, "applications": {"includeApplications": apps}},
        })
    }

    #[test]
    fn only_policies_requiring_mfa_count() {
        let builtin = policy(json!({}), &[], json!({"builtInControls": ["MFA"]}));
        let strength = policy(
            json!({}),
            &[],
            json!({"authenticationStrength": {"requirementsSatisfied": "mfa"}}),
        );
        let block = policy(json!({}), &[], json!({"builtInControls": ["block"]}));
        assert!(requires_mfa(&builtin));
        assert!(requires_mfa(&strength));
        assert!(!requires_mfa(&block));
    }

    #[test]
    fn an_excluded_group_is_named_and_the_user_is_not_included() {
        let all = policy(
            json!({"includeUsers": ["All"], "excludeGroups": ["g1"]}),
            &["All"],
            json!({"builtInControls": ["mfa"]}),
        );
        let mut p = Policies {
            all_users: vec![all],
            ..Policies::default()
        };
        p.exclude_groups_of
            .insert("u1".into(), HashSet::from(["g1".to_owned()]));
        p.group_names.insert("g1".into(), "MFA Exclusions".into());
        let as_json = |policies| serde_json::to_value::<Vec<ListMfaUsersPolicy>>(policies).unwrap();
        let excluded = as_json(user_policies(&p, "u1", false));
        assert_eq!(excluded[0]["UserIncluded"], false);
        assert_eq!(excluded[0]["ExcludedViaGroup"], "MFA Exclusions");
        let included = as_json(user_policies(&p, "u2", false));
        assert_eq!(included[0]["UserIncluded"], true);
        assert_eq!(included[0]["AllApps"], true);
        assert!(included[0].get("ExcludedViaGroup").is_none());
    }

    #[test]
    fn guests_get_guest_policies_unless_internal_guests_are_excluded() {
        let guests = policy(
            json!({"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest"}}),
            &["app"],
            json!({"builtInControls": ["mfa"]}),
        );
        let p = Policies {
            guests: vec![guests],
            ..Policies::default()
        };
        assert_eq!(user_policies(&p, "g", true).len(), 1);
        assert!(user_policies(&p, "m", false).is_empty());
        let mut refused = p.guests[0].clone();
        refused["conditions"]["users"]["excludeGuestsOrExternalUsers"] =
            json!({"guestOrExternalUserTypes": "internalGuest"});
        let p = Policies {
            guests: vec![refused],
            ..Policies::default()
        };
        assert!(user_policies(&p, "g", true).is_empty());
    }

    #[test]
    fn coverage_is_worded_as_cipp_words_it() {
        let coverage = Coverage {
            ca_error: Some(NOT_LICENSED.to_owned()),
            ..Coverage::default()
        };
        let user = json!({"id": "u", "userPrincipalName": "a#b@x", "assignedLicenses": [{}]});
        let row = serde_json::to_value(user_row(&user, "t", &coverage, None, None)).unwrap();
        assert_eq!(row["CoveredByCA"], NOT_LICENSED);
        assert_eq!(row["RowKey"], "ab@x");
        assert_eq!(row["isLicensed"], true);
        assert_eq!(row["MFARegistration"], Value::Null);
        assert_eq!(row["MFAMethods"], json!([]));
        assert_eq!(row["IsAdmin"], Value::Null);
    }

    #[test]
    fn a_tenant_that_failed_gets_cipps_unreachable_row_with_the_reason() {
        let row = cipp_failure_row(
            json!({"Tenant": "t.example", "CippStatus": "Could not connect to tenant. x"}),
        )
        .unwrap();
        assert_eq!(row["UPN"], "t.example");
        assert_eq!(row["AccountEnabled"], "none");
        assert_eq!(row["CoveredByCA"], "Could not connect to tenant");
        assert_eq!(row["CippStatus"], "Could not connect to tenant. x");
        let user = json!({"Tenant": "t.example", "UPN": "a@t.example"});
        assert_eq!(cipp_failure_row(user.clone()).unwrap(), user);
    }
}
