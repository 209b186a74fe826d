//! `ListNewUserDefaults` (CIPP-API `Invoke-ListNewUserDefaults.ps1`): the user default
//! templates the add-user form offers, filtered by tenant as CIPP does.

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

pub struct ListNewUserDefaults;

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
    #[serde(rename = "ID")]
    pub id: Option<Guid>,
}

fn yes() -> bool {
    true
}

/// A user default template as saved by `AddUserDefaults`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct UserDefaultTemplate(pub TemplateRow);

impl PartialSchema for UserDefaultTemplate {
    fn schema() -> RefOr<Schema> {
        templates::row_schema(
            "A user default template: the add-user form's values as saved (text, or `{label, value}` where the form has a picker).",
            &[
                ("usernameFormat", Type::String, "How the user name is built, e.g. `%FirstName%.%LastName%`."),
                ("usernameSpaceHandling", Type::String, "What happens to spaces in the user name."),
                ("primDomain", Type::String, "The user name's domain."),
                ("usageLocation", Type::String, "The usage location (ISO country code)."),
                ("department", Type::String, "The department."),
                ("jobTitle", Type::String, "The job title."),
            ],
        )
    }
}

impl ToSchema for UserDefaultTemplate {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UserDefaultTemplate")
    }
}

/// The templates, sorted by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
pub struct UserDefaultTemplates(pub Vec<UserDefaultTemplate>);

impl Operation for ListNewUserDefaults {
    type Params = Params;
    type Answer = UserDefaultTemplates;
    const NAME: &'static str = "ListNewUserDefaults";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListNewUserDefaults.ps1",
        frontend: Some("src/components/CippFormPages/CippAddEditUser.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A tenant-scoped caller sees only its own tenants' templates and the ones for every tenant. An `ID` that is not a GUID, or an `includeAllTenants` that is not a boolean, is a 400 naming it.",
    );

    fn example() -> Value {
        json!({"TenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<UserDefaultTemplates>, UserError> {
        let rows = templates::list(
            &ctx,
            TemplateKind::NewUserDefaults,
            params.tenant_filter.as_deref(),
            params.include_all_tenants,
            params.id.as_ref(),
        )
        .await?;
        Ok(Outcome::json(UserDefaultTemplates(
            rows.into_iter().map(UserDefaultTemplate).collect(),
        )))
    }
}
