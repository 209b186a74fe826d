//! `ExecOneDriveProvision` (CIPP-API `Invoke-ExecOnedriveProvision.ps1`, via
//! `Request-CIPPSPOPersonalSite.ps1`): asks SharePoint to create a user's OneDrive now rather
//! than at first sign-in. The user actions menu offers it as "Pre-provision OneDrive".

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::offboarding_sharepoint::request_personal_sites;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecOneDriveProvision;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose OneDrive is created.
    #[serde(rename = "UserPrincipalName")]
    pub user_principal_name: UserId,
}

impl Operation for ExecOneDriveProvision {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecOneDriveProvision";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecOnedriveProvision.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing or malformed `UserPrincipalName` is a 400 naming it (CIPP asks SharePoint \
         about an empty name). A failure keeps the upstream status where there is one, with \
         CIPP's text `Failed to request personal site for …. Error: …` (CIPP: always 500).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UserPrincipalName": crate::demo::USER})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let upn = params.user_principal_name.as_str().to_owned();
        let text =
            request_personal_sites(&ctx.graph, &tenant.customer_id, std::slice::from_ref(&upn))
                .await?;
        Ok(Outcome::json(TextResults::new(text)).audit_target(upn))
    }
}
