//! `ExecSetOneDriveSharing` (CIPP-API `Invoke-ExecSetOneDriveSharing.ps1`): who a user's
//! OneDrive may share with, set through the SharePoint admin CSOM.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::offboarding_sharepoint::{SharingCapability, set_onedrive_sharing};
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecSetOneDriveSharing;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The OneDrive's owner: a user principal name (or object id).
    #[serde(rename = "UPN")]
    pub upn: UserId,
    /// `Disabled`, `ExternalUserSharingOnly`, `ExternalUserAndGuestSharing` or
    /// `ExistingExternalUserSharingOnly` (`{label, value}` accepted).
    #[serde(rename = "SharingCapability")]
    pub sharing_capability: SharingCapability,
}

impl Operation for ExecSetOneDriveSharing {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecSetOneDriveSharing";
    const TAG: &'static str = "Teams-Sharepoint";
    const ROLE: Option<&'static str> = Some("Teams.SharePoint.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecSetOneDriveSharing.ps1",
        frontend: Some("src/pages/identity/administration/users/user/index.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "An unknown `SharingCapability` or a missing `UPN` is a 400 naming it. SharePoint's own refusal (CSOM `ErrorInfo`) is an error status with CIPP's text (CIPP: 200 with the failure text); a failed call is a 500 with `Failed to set OneDrive sharing for <upn>. Error: …`.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "UPN": crate::demo::USER,
            "SharingCapability": {"label": "Only people in your organization", "value": "Disabled"}})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let text = set_onedrive_sharing(
            &ctx.graph,
            &tenant.customer_id,
            params.upn.as_str(),
            params.sharing_capability,
        )
        .await?;
        Ok(Outcome::json(TextResults::new(text)))
    }
}
