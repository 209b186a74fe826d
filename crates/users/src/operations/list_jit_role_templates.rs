//! `ListJITRoleTemplates` (CIPP-API `Invoke-ListJITRoleTemplates.ps1`, newest upstream): the JIT
//! role templates, sorted by name.

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

pub struct ListJITRoleTemplates;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// Only the template with this id.
    #[serde(rename = "GUID")]
    pub guid: Option<Guid>,
}

/// A JIT role template as saved by `AddJITRoleTemplate`/`EditJITRoleTemplate`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct JitRoleTemplate(pub TemplateRow);

impl PartialSchema for JitRoleTemplate {
    fn schema() -> RefOr<Schema> {
        templates::row_schema(
            "A JIT role template: a named allow-list of directory roles.",
            &[
                ("templateName", Type::String, "The template's name."),
                ("roles", Type::Array, "The roles, as the picker sent them (`{label, value: roleTemplateId}`)."),
                ("createdBy", Type::String, "Who saved it first."),
                ("createdDate", Type::String, "When, UTC `yyyy-MM-ddTHH:mm:ssZ`."),
                ("modifiedBy", Type::String, "Who changed it last."),
                ("modifiedDate", Type::String, "When, UTC `yyyy-MM-ddTHH:mm:ssZ`."),
            ],
        )
    }
}

impl ToSchema for JitRoleTemplate {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("JitRoleTemplate")
    }
}

/// The templates, sorted by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
pub struct JitRoleTemplates(pub Vec<JitRoleTemplate>);

impl Operation for ListJITRoleTemplates {
    type Params = Params;
    type Answer = JitRoleTemplates;
    const NAME: &'static str = "ListJITRoleTemplates";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListJITRoleTemplates.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A `GUID` that is not a GUID is a 400 naming it. Rows carry `tenantFilter: AllTenants` (the templates are not per tenant).",
    );

    fn example() -> Value {
        json!({})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<JitRoleTemplates>, UserError> {
        let rows = templates::list(&ctx, TemplateKind::JitRole, None, true, params.guid.as_ref())
            .await?;
        Ok(Outcome::json(JitRoleTemplates(
            rows.into_iter().map(JitRoleTemplate).collect(),
        )))
    }
}
