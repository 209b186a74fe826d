//! `AddJITRoleTemplate` (CIPP-API `Invoke-AddJITRoleTemplate.ps1`, newest upstream): saves a JIT
//! role template, a named allow-list of directory roles. It reads back through
//! `ListJITRoleTemplates`.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::UserError;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::templates::{Stamp, now, save_role_template};

pub struct AddJITRoleTemplate;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The template's name (unique, any case).
    #[serde(rename = "templateName")]
    pub template_name: String,
    /// The directory roles allowed, as the picker sends them (`[{label, value: roleTemplateId}]`).
    #[serde(rename = "roles", default)]
    pub roles: Vec<Value>,
}

impl Operation for AddJITRoleTemplate {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "AddJITRoleTemplate";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the JIT role templates");
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-AddJITRoleTemplate.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `templateName` or no `roles` is a 400 naming it and a duplicate name a 409 (CIPP: 500 with `Failed to create JIT Role Template: …`). `createdBy` names the caller from its token.",
    );

    fn example() -> Value {
        json!({
            "templateName": "Helpdesk only",
            "roles": [{"label": "Helpdesk Administrator", "value": "729827e3-9c14-49f7-bb1b-9608f156bbb8"}],
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        const FAILED: &str = "Failed to create JIT Role Template";
        let id = Uuid::new_v4();
        let stamp = Stamp {
            created_by: Value::String(ctx.caller.actor()),
            created_date: Value::String(now()),
            modified_by: None,
        };
        let name = params.template_name;
        save_role_template(&ctx, id, &name, params.roles, stamp, FAILED).await?;
        Ok(Outcome::json(TextResults::new(format!(
            "Created JIT Role Template '{name}' with GUID {id}"
        ))))
    }
}
