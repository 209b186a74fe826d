//! `RemoveUserDefaultTemplate` (CIPP-API `Invoke-RemoveUserDefaultTemplate.ps1`): deletes a user default template.

use cipp_store::TemplateKind;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::{Guid, TextResults};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::templates::remove;

pub struct RemoveUserDefaultTemplate;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The template to delete.
    #[serde(rename = "ID")]
    pub id: Guid,
}

impl Operation for RemoveUserDefaultTemplate {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "RemoveUserDefaultTemplate";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the new-user templates");
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-RemoveUserDefaultTemplate.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is not a GUID, is a 400 naming it, and an unknown one a 404 (CIPP: 500). A custom role removes only templates of its own tenants, and `AllTenants` ones only when it may target AllTenants (CIPP checks nothing).",
    );

    fn example() -> Value {
        json!({"ID": crate::demo::USER_DEFAULT_TEMPLATE_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        remove(
            &ctx,
            TemplateKind::NewUserDefaults,
            &params.id,
            "User Default Template",
            "Failed to delete User Default Template",
        )
        .await
    }
}
