//! `RemoveJITAdminTemplate` (CIPP-API `Invoke-RemoveJITAdminTemplate.ps1`): deletes a JIT admin template.

use cipp_store::TemplateKind;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::{Guid, TextResults};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::templates::remove;

pub struct RemoveJITAdminTemplate;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The template to delete.
    #[serde(rename = "ID")]
    pub id: Guid,
}

impl Operation for RemoveJITAdminTemplate {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "RemoveJITAdminTemplate";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the JIT admin templates");
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-RemoveJITAdminTemplate.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is not a GUID, is a 400 naming it, and an unknown one a 404 (CIPP: 500). A custom role removes only templates of its own tenants, and `AllTenants` ones only when it may target AllTenants (CIPP checks nothing).",
    );

    fn example() -> Value {
        json!({"ID": crate::demo::OTHER_JIT_ADMIN_TEMPLATE_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        remove(
            &ctx,
            TemplateKind::JitAdmin,
            &params.id,
            "JIT Admin Template",
            "Failed to delete JIT Admin Template",
        )
        .await
    }
}
