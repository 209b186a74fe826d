//! `ExecRestoreDeleted` (CIPP-API `Invoke-ExecRestoreDeleted.ps1`): brings an object back from
//! the tenant's deleted items.

use cipp_graph::GraphVersion;
use serde_json::{Value, json};

use crate::deleted_objects::{DeletedItem, Naming};
use crate::normalize::normalize_graph_error;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::{UserError, path_segment};

pub struct ExecRestoreDeleted;

/// The deleted item, as both deleted-item operations name it.
pub type Params = DeletedItem;

impl Operation for ExecRestoreDeleted {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecRestoreDeleted";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Tenant.Directory.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecRestoreDeleted.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is not a GUID, is a 400 naming it (CIPP sends the call with an empty id and answers Graph's 500). As in CIPP, a Graph failure (an unknown id included) is a 500 with CIPP's text and Graph's reason.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "ID": crate::demo::DELETED_USER_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let id = params.id.as_str();
        let names = Naming {
            user_principal_name: params.user_principal_name.as_deref(),
            display_name: params.display_name.as_deref(),
        }
        .suffix();
        ctx.graph
            .post(
                &tenant.customer_id,
                GraphVersion::Beta,
                &format!("directory/deletedItems/{}/restore", path_segment(id)),
                &json!({}),
            )
            .await
            .map_err(|error| UserError::Failed {
                message: format!(
                    "Failed to restore deleted item with ID: '{id}'{names} Error: {}",
                    normalize_graph_error(&error)
                ),
                source: Some(Box::new(error)),
            })?;
        let message = format!("Successfully restored deleted item with ID: '{id}'{names}");
        tracing::info!(tenant = %tenant.customer_id, "{message}");
        Ok(Outcome::json(TextResults::new(message)))
    }
}
