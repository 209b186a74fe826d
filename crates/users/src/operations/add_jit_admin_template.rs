//! `AddJITAdminTemplate` (CIPP-API `Invoke-AddJITAdminTemplate.ps1`): saves the JIT admin
//! form's values as a template. It reads back through `ListJITAdminTemplates`.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::UserError;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::templates::{
    JitAdminUserAction, JitTemplateInput, Stamp, TemplateFlag, now, save_jit, template_tenant,
};

pub struct AddJITAdminTemplate;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The template's name (unique per tenant, any case).
    #[serde(rename = "templateName")]
    pub template_name: String,
    /// Whether the form preselects it for its tenant (one default per tenant).
    #[serde(rename = "defaultForTenant", default)]
    pub default_for_tenant: TemplateFlag,
    /// The roles to grant, as the form's picker sends them (`[{label, value: roleTemplateId}]`).
    #[serde(rename = "defaultRoles")]
    pub default_roles: Option<Value>,
    /// The groups to add the admin to, as the form's picker sends them.
    #[serde(rename = "defaultGroups")]
    pub default_groups: Option<Value>,
    /// How long the access lasts, as the form sends it (`{label, value: "P1D"}`).
    #[serde(rename = "defaultDuration")]
    pub default_duration: Option<Value>,
    /// What happens when it ends, as the form sends it.
    #[serde(rename = "defaultExpireAction")]
    pub default_expire_action: Option<Value>,
    /// Who is told, as the form sends it.
    #[serde(rename = "defaultNotificationActions")]
    pub default_notification_actions: Option<Value>,
    /// The reason text the form prefills.
    #[serde(rename = "reasonTemplate")]
    pub reason_template: Option<String>,
    /// Whether the roles are preselected.
    #[serde(rename = "defaultUseRoles", default)]
    pub default_use_roles: TemplateFlag,
    /// Whether the groups are preselected.
    #[serde(rename = "defaultUseGroups", default)]
    pub default_use_groups: TemplateFlag,
    /// Whether a Temporary Access Pass is generated.
    #[serde(rename = "generateTAPByDefault", default)]
    pub generate_tap_by_default: TemplateFlag,
    /// `create` a new user or `select` an existing one (`select` needs one tenant).
    #[serde(rename = "defaultUserAction")]
    pub default_user_action: Option<JitAdminUserAction>,
    /// The existing user (with `select`), as the form's picker sends it.
    #[serde(rename = "defaultExistingUser")]
    pub default_existing_user: Option<Value>,
    /// The new user's first name (with `create`).
    #[serde(rename = "defaultFirstName")]
    pub default_first_name: Option<String>,
    /// The new user's last name (with `create`).
    #[serde(rename = "defaultLastName")]
    pub default_last_name: Option<String>,
    /// The new user's user name (with `create`).
    #[serde(rename = "defaultUserName")]
    pub default_user_name: Option<String>,
    /// The new user's usage location (with `create`).
    #[serde(rename = "defaultUsageLocation")]
    pub default_usage_location: Option<String>,
    /// The new user's domain (with `create`, one tenant only), as the form sends it.
    #[serde(rename = "defaultDomain")]
    pub default_domain: Option<Value>,
}

impl From<Params> for JitTemplateInput {
    fn from(p: Params) -> Self {
        Self {
            name: p.template_name,
            default_for_tenant: p.default_for_tenant.0,
            default_roles: p.default_roles,
            default_groups: p.default_groups,
            default_duration: p.default_duration,
            default_expire_action: p.default_expire_action,
            default_notification_actions: p.default_notification_actions,
            reason_template: p.reason_template,
            default_use_roles: p.default_use_roles.0,
            default_use_groups: p.default_use_groups.0,
            generate_tap_by_default: p.generate_tap_by_default.0,
            default_user_action: p.default_user_action,
            default_existing_user: p.default_existing_user,
            default_first_name: p.default_first_name,
            default_last_name: p.default_last_name,
            default_user_name: p.default_user_name,
            default_usage_location: p.default_usage_location,
            default_domain: p.default_domain,
        }
    }
}

impl Operation for AddJITAdminTemplate {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "AddJITAdminTemplate";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the JIT admin templates");
    const TENANT: TenantUse = TenantUse::OneOrAll;
    const SOURCE: Source = Source {
        upstream: "Invoke-AddJITAdminTemplate.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or blank `tenantFilter` or `templateName`, or an unknown tenant, is a 400 naming the field (CIPP: 500). The stored `tenantFilter` is the tenant's default domain (or `AllTenants`), whichever name the caller used. A custom role saves templates only for its own tenants, and `AllTenants` ones only when it may target AllTenants. A duplicate name is a 409 and `defaultUserAction: select` with AllTenants a 400, both checked before anything is written (CIPP: 500, after already clearing the other templates' `defaultForTenant`). `createdBy`/`modifiedBy` name the caller from its token (CIPP decodes Static Web Apps' `x-ms-client-principal` header and fails without it). Names and the user action are saved as text (a `{label, value}` as its value).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "templateName": "Break glass",
            "defaultDuration": {"label": "1 day", "value": "P1D"},
            "defaultUserAction": "create",
            "defaultFirstName": "Jit",
            "defaultUseRoles": true
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        const FAILED: &str = "Failed to create JIT Admin Template";
        let tenant = template_tenant(&ctx)?;
        let name = params.template_name.clone();
        let id = Uuid::new_v4();
        let stamp = Stamp {
            created_by: Value::String(ctx.caller.actor()),
            created_date: Value::String(now()),
            modified_by: None,
        };
        save_jit(&ctx, id, &tenant, params.into(), stamp, FAILED).await?;
        Ok(Outcome::json(TextResults::new(format!(
            "Created JIT Admin Template '{name}' with GUID {id}"
        ))))
    }
}
