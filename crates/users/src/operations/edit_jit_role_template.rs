//! `EditJITRoleTemplate` (CIPP-API `Invoke-EditJITRoleTemplate.ps1`, newest upstream): replaces
//! a JIT role template's name and roles, keeping who created it and when.

use cipp_store::TemplateKind;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::{Guid, TextResults};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::templates::{Stamp, find, save_role_template, template_id};

pub struct EditJITRoleTemplate;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The template to change.
    #[serde(rename = "GUID")]
    pub guid: Guid,
    /// The new name (unique among the others, any case).
    #[serde(rename = "templateName")]
    pub template_name: String,
    /// The directory roles allowed, as the picker sends them.
    #[serde(rename = "roles", default)]
    pub roles: Vec<Value>,
}

impl Operation for EditJITRoleTemplate {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "EditJITRoleTemplate";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the JIT role templates");
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-EditJITRoleTemplate.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or malformed `GUID`, a missing `templateName` or no `roles` is a 400 naming it, an unknown `GUID` a 404 and a duplicate name a 409 (CIPP: 500 with `Failed to update JIT Role Template: …`). `modifiedBy` names the caller from its token.",
    );

    fn example() -> Value {
        json!({
            "GUID": crate::demo::JIT_ROLE_TEMPLATE_ID,
            "templateName": "Demo helpdesk",
            "roles": [{"label": "Helpdesk Administrator", "value": "729827e3-9c14-49f7-bb1b-9608f156bbb8"}],
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        const FAILED: &str = "Failed to update JIT Role Template";
        let guid = params.guid;
        let id = template_id("GUID", &guid)?;
        let existing = find(&ctx, TemplateKind::JitRole, id, FAILED)
            .await?
            .ok_or_else(|| {
                UserError::not_found(format!(
                    "{FAILED}: JIT Role Template with GUID '{guid}' not found"
                ))
            })?;
        let kept = |field: &str| existing.body.get(field).cloned().unwrap_or(Value::Null);
        let stamp = Stamp {
            created_by: kept("createdBy"),
            created_date: kept("createdDate"),
            modified_by: Some(ctx.caller.actor()),
        };
        let name = params.template_name;
        save_role_template(&ctx, id, &name, params.roles, stamp, FAILED).await?;
        Ok(Outcome::json(TextResults::new(format!(
            "Updated JIT Role Template '{name}' (GUID: {id})"
        ))))
    }
}
