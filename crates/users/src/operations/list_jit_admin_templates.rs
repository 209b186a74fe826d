//! `ListJITAdminTemplates` (CIPP-API `Invoke-ListJITAdminTemplates.ps1`): the JIT admin
//! templates, filtered by tenant as CIPP does.

use cipp_store::TemplateKind;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::UserError;
use crate::op::types::Guid;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::templates::{self, TemplateRow};

pub struct ListJITAdminTemplates;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// One tenant's templates (id, default domain or initial domain), with the ones for every
    /// tenant; `AllTenants` lists only those. Every visible template when absent.
    #[serde(rename = "TenantFilter")]
    pub tenant_filter: Option<String>,
    /// `false` leaves the templates for every tenant out of one tenant's list.
    #[serde(rename = "includeAllTenants", default = "yes")]
    pub include_all_tenants: bool,
    /// Only the template with this id.
    #[serde(rename = "GUID")]
    pub guid: Option<Guid>,
}

fn yes() -> bool {
    true
}

/// A JIT admin template as saved by `AddJITAdminTemplate`/`EditJITAdminTemplate`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct JitAdminTemplate(pub TemplateRow);

impl PartialSchema for JitAdminTemplate {
    fn schema() -> RefOr<Schema> {
        templates::row_schema(
            "A JIT admin template: the JIT admin form's values as saved (text, or `{label, value}` where the form has a picker).",
            &[
                ("defaultUserAction", Type::String, "`create` a new user or `select` an existing one."),
                ("defaultUseRoles", Type::Boolean, "Whether the roles are preselected."),
                ("defaultUseGroups", Type::Boolean, "Whether the groups are preselected."),
                ("generateTAPByDefault", Type::Boolean, "Whether a Temporary Access Pass is generated."),
                ("defaultFirstName", Type::String, "The new user's first name."),
                ("defaultLastName", Type::String, "The new user's last name."),
                ("defaultUserName", Type::String, "The new user's user name."),
                ("defaultUsageLocation", Type::String, "The new user's usage location."),
                ("createdBy", Type::String, "Who saved it first."),
                ("createdDate", Type::String, "When, UTC `yyyy-MM-ddTHH:mm:ssZ`."),
                ("modifiedBy", Type::String, "Who changed it last."),
                ("modifiedDate", Type::String, "When, UTC `yyyy-MM-ddTHH:mm:ssZ`."),
            ],
        )
    }
}

impl ToSchema for JitAdminTemplate {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("JitAdminTemplate")
    }
}

/// The templates, sorted by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
pub struct JitAdminTemplates(pub Vec<JitAdminTemplate>);

impl Operation for ListJITAdminTemplates {
    type Params = Params;
    type Answer = JitAdminTemplates;
    const NAME: &'static str = "ListJITAdminTemplates";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListJITAdminTemplates.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A tenant-scoped caller sees only its own tenants' templates and the ones for every tenant. A `GUID` that is not a GUID, or an `includeAllTenants` that is not a boolean, is a 400 naming it.",
    );

    fn example() -> Value {
        json!({"TenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<JitAdminTemplates>, UserError> {
        let rows = templates::list(
            &ctx,
            TemplateKind::JitAdmin,
            params.tenant_filter.as_deref(),
            params.include_all_tenants,
            params.guid.as_ref(),
        )
        .await?;
        Ok(Outcome::json(JitAdminTemplates(
            rows.into_iter().map(JitAdminTemplate).collect(),
        )))
    }
}
