//! `ExecRemoveAdminRole` (CIPP-API `Invoke-ExecRemoveAdminRole.ps1`): removes users from an
//! Entra directory role, one `DELETE …/members/{id}/$ref` per user, in order. `Results` is an
//! array of strings, one per user; 200 when all succeeded, 207 when some failed, 500 when all
//! failed (CIPP's `Get-CippBulkStatusCode`).

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::normalize::normalize_graph_error;
use crate::op::types::{Guid, TextListResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{ErrorKind, UserError};

pub struct ExecRemoveAdminRole;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The role's template id; wins over `RoleId`, as in CIPP.
    #[serde(rename = "RoleTemplateId")]
    pub role_template_id: Option<Guid>,
    /// The activated role's object id, used when no `RoleTemplateId` is given.
    #[serde(rename = "RoleId")]
    pub role_id: Option<Guid>,
    /// The role's name for the texts: a string, or a `{label, value}` whose label (else value)
    /// is used.
    #[serde(rename = "RoleName")]
    pub role_name: Option<ExecRemoveAdminRoleName>,
    /// The users to remove: ids, `{label, value}` options or user objects.
    #[serde(rename = "Users", default)]
    pub users: Vec<ExecRemoveAdminRoleUser>,
}

/// `RoleName` as the frontend sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ExecRemoveAdminRoleName {
    /// A picker option: the label is the name.
    Option(ExecRemoveAdminRoleNameOption),
    Text(String),
}

/// A picker option naming the role.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExecRemoveAdminRoleNameOption {
    /// The role's display name.
    pub label: Option<String>,
    /// Used when there is no label.
    pub value: Option<String>,
}

/// One entry of `Users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ExecRemoveAdminRoleUser {
    /// A picker option or a user object.
    Object(ExecRemoveAdminRoleMember),
    /// The user's id alone.
    Id(UserId),
}

/// A `Users` entry as an object: the id from `value`, `id` or `UserId`; the name for the texts
/// from `addedFields`, then `userPrincipalName`, `displayName`, `label` or `UserName`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExecRemoveAdminRoleMember {
    /// The user's id (a picker option's value).
    pub value: Option<UserId>,
    /// The user's id (a user object).
    pub id: Option<UserId>,
    /// The user's id (CIPP's own shape).
    #[serde(rename = "UserId")]
    pub user_id: Option<UserId>,
    /// The picker's label.
    pub label: Option<String>,
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
    /// The names a picker option carries.
    #[serde(rename = "addedFields")]
    pub added_fields: Option<ExecRemoveAdminRoleAddedFields>,
}

/// Names a user picker adds to its option.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExecRemoveAdminRoleAddedFields {
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
}

/// CIPP's 400 text when the tenant, the role or the users are missing.
pub const REQUIRED: &str = "TenantFilter, RoleId or RoleTemplateId, and Users are required to remove an admin role assignment.";

/// Which role: a template id wins over an instance id, as in CIPP.
pub enum RoleRef<'a> {
    Template(&'a Guid),
    Instance(&'a Guid),
}

/// One entry of `Users`: the id (`None` when none was given) and the name used in texts.
pub struct RoleMember {
    pub id: Option<UserId>,
    pub name: String,
}

fn named(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl RoleMember {
    /// CIPP's reading of a `Users` entry.
    pub fn from_entry(entry: ExecRemoveAdminRoleUser) -> Self {
        match entry {
            ExecRemoveAdminRoleUser::Id(id) => Self {
                name: id.as_str().to_owned(),
                id: Some(id),
            },
            ExecRemoveAdminRoleUser::Object(member) => {
                let id = member.value.or(member.id).or(member.user_id);
                let added = member.added_fields.as_ref();
                let name = added
                    .and_then(|a| named(&a.user_principal_name).or_else(|| named(&a.display_name)))
                    .or_else(|| named(&member.user_principal_name))
                    .or_else(|| named(&member.display_name))
                    .or_else(|| named(&member.label))
                    .or_else(|| named(&member.user_name))
                    .or_else(|| id.as_ref().map(|i| i.as_str().to_owned()))
                    .unwrap_or_default();
                Self { id, name }
            }
        }
    }
}

impl Operation for ExecRemoveAdminRole {
    type Params = Params;
    type Answer = TextListResults;
    const NAME: &'static str = "ExecRemoveAdminRole";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecRemoveAdminRole.ps1",
        frontend: Some("src/pages/identity/administration/users/user/index.jsx"),
    };
    const PARTIAL: bool = true;
    const DIFFERENCES: Option<&'static str> = Some(
        "A `RoleId`/`RoleTemplateId` that is not a GUID, or a user id that is neither an object id nor a user principal name, is a 400 naming it (CIPP sends it to Graph). A missing `tenantFilter` is the common 400 naming it (CIPP: its `TenantFilter, RoleId or RoleTemplateId, and Users are required…` text, which a missing role or no users still get).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "RoleTemplateId": GLOBAL_ADMINISTRATOR,
            "RoleName": {"label": "Global Administrator", "value": GLOBAL_ADMINISTRATOR},
            "Users": [{"label": DEMO_ADMIN, "value": DEMO_ADMIN_ID}],
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextListResults>, UserError> {
        let role = match (&params.role_template_id, &params.role_id) {
            (Some(t), _) => Some(RoleRef::Template(t)),
            (None, Some(id)) => Some(RoleRef::Instance(id)),
            (None, None) => None,
        };
        let users: Vec<RoleMember> = params
            .users
            .into_iter()
            .map(RoleMember::from_entry)
            .collect();
        let (Some(role), false) = (role, users.is_empty()) else {
            return Err(UserError::Answered {
                kind: ErrorKind::InvalidInput,
                message: REQUIRED.to_owned(),
                results: json!([REQUIRED]),
            });
        };
        // `.label ?? .value ?? raw`, as CIPP reads `RoleName`.
        let name = match params.role_name {
            Some(ExecRemoveAdminRoleName::Text(text)) => text,
            Some(ExecRemoveAdminRoleName::Option(option)) => named(&option.label)
                .or_else(|| named(&option.value))
                .unwrap_or_default(),
            None => String::new(),
        };
        let tenant = ctx.tenant()?;
        let outcome =
            remove_admin_role(&ctx.graph, &tenant.customer_id, &role, &name, &users).await;
        // CIPP's `Get-CippBulkStatusCode`: 200 none failed, 207 some, 500 all.
        if outcome.failed > 0 && outcome.failed >= users.len() {
            let message = outcome.results.join(" | ");
            return Err(UserError::Answered {
                kind: ErrorKind::of_failure_texts(outcome.results.iter().map(String::as_str)),
                message,
                results: json!(outcome.results),
            });
        }
        let partial = outcome.failed > 0;
        Ok(Outcome::json(TextListResults::new(outcome.results)).partial(partial))
    }
}

/// The Global Administrator role's template id (the same in every tenant).
const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";

/// Demo mode's Global Administrator of [`crate::demo::TENANT`] (the seed's only role member), for
/// the example.
const DEMO_ADMIN: &str = "admin@contoso.example";
const DEMO_ADMIN_ID: &str = "64f61bb9-7f60-493b-8eea-36abad152301";

/// Each user's outcome text, and how many failed.
pub struct RemovalOutcome {
    pub results: Vec<String>,
    pub failed: usize,
}

/// Removes every user from the role, sequentially, delegated, v1.0.
pub async fn remove_admin_role(
    graph: &GraphClient,
    tenant: &str,
    role: &RoleRef<'_>,
    role_name: &str,
    users: &[RoleMember],
) -> RemovalOutcome {
    let mut outcome = RemovalOutcome {
        results: Vec::new(),
        failed: 0,
    };
    for user in users {
        let Some(id) = &user.id else {
            outcome.failed += 1;
            outcome.results.push(format!(
                "Skipped a {role_name} role removal request because UserId was empty."
            ));
            continue;
        };
        let member = id.segment();
        let path = match role {
            RoleRef::Template(t) => {
                format!("directoryRoles(roleTemplateId='{t}')/members/{member}/$ref")
            }
            RoleRef::Instance(id) => format!("directoryRoles/{id}/members/{member}/$ref"),
        };
        match graph.delete(tenant, GraphVersion::V1, &path).await {
            Ok(()) => {
                let text = format!(
                    "Successfully removed {} from admin role {role_name}.",
                    user.name
                );
                tracing::info!(tenant, "{text}");
                outcome.results.push(text);
            }
            Err(e) => {
                outcome.failed += 1;
                let normalized = normalize_graph_error(&e);
                let mut text = format!(
                    "Failed to remove {} from admin role {role_name}. {normalized}",
                    user.name
                );
                let lower = normalized.to_ascii_lowercase();
                if matches!(role, RoleRef::Template(_))
                    && (lower.contains("does not exist")
                        || lower.contains("not found")
                        || lower.contains("404"))
                {
                    text.push_str(" The role may not be activated in this tenant.");
                }
                tracing::warn!(tenant, detail = ?e, "{text}");
                outcome.results.push(text);
            }
        }
    }
    outcome
}
