//! `RemoveJITRoleTemplate` (CIPP-API `Invoke-RemoveJITRoleTemplate.ps1`, newest upstream):
//! deletes a JIT role template.

use cipp_store::TemplateKind;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::{Guid, TextResults};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::templates::remove;

pub struct RemoveJITRoleTemplate;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The template to delete (query or body).
    #[serde(rename = "ID")]
    pub id: Guid,
}

impl Operation for RemoveJITRoleTemplate {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "RemoveJITRoleTemplate";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the JIT role templates");
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-RemoveJITRoleTemplate.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is not a GUID, is a 400 naming it (CIPP: 500).",
    );

    fn example() -> Value {
        json!({"ID": crate::demo::OTHER_JIT_ROLE_TEMPLATE_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        remove(
            &ctx,
            TemplateKind::JitRole,
            &params.id,
            "JIT Role Template",
            "Failed to delete JIT Role Template",
        )
        .await
    }
}
