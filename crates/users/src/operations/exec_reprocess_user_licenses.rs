//! `ExecReprocessUserLicenses` (CIPP-API `Invoke-ExecReprocessUserLicenses.ps1`): asks Entra to
//! re-evaluate a user's licence assignments. `Results` is a string.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecReprocessUserLicenses;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose licence assignments are re-evaluated.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// The user's principal name, used in the answer's text only (the id is named without it).
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
}

impl Operation for ExecReprocessUserLicenses {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecReprocessUserLicenses";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecReprocessUserLicenses.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is neither an object id nor a user principal name, is a 400 naming the field (CIPP posts to `users//…`). Without `userPrincipalName` the texts name the id (CIPP leaves a blank).",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "ID": crate::demo::USER_ID,
            "userPrincipalName": crate::demo::USER,
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let message = reprocess_user_licenses(
            &ctx.graph,
            &tenant.customer_id,
            &params.id,
            params.user_principal_name.as_deref(),
        )
        .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// `POST beta/users/{id}/reprocessLicenseAssignment` with `{}`, app-only as CIPP. `upn` is only
/// for the texts; without one the id is named (CIPP leaves a blank).
pub async fn reprocess_user_licenses(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    upn: Option<&str>,
) -> Result<String, UserError> {
    let user_id = user.as_str();
    let name = upn
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(user_id);
    let path = format!("users/{}/reprocessLicenseAssignment", user.segment());
    match graph
        .app_only()
        .post(tenant, GraphVersion::Beta, &path, &json!({}))
        .await
    {
        Ok(_) => {
            let message = format!(
                "Successfully reprocessed license assignments for user {name}. License assignment states will be updated shortly."
            );
            tracing::info!(tenant, user = user_id, "{message}");
            Ok(message)
        }
        Err(e) => Err(UserError::Failed {
            message: format!(
                "Failed to reprocess license assignments for {name}. {}",
                normalize_graph_error(&e)
            ),
            source: Some(Box::new(e)),
        }),
    }
}
