//! `ListUserConditionalAccessPolicies` (CIPP-API `Invoke-ListUserConditionalAccessPolicies.ps1`):
//! Conditional Access what-if evaluation for one user against CIPP's fixed application.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::{Value, json};

use crate::UserError;
use crate::read_support::{ensure_user_exists, failed, required};

/// The application CIPP evaluates against (Microsoft's "Office 365" app id as CIPP sends it).
const WHAT_IF_APPLICATION: &str = "67ad5377-2d78-4ac2-a867-6300cda00e85";

/// The what-if results (`value`) for the user, evaluated app-only as CIPP does.
pub async fn list_user_ca_policies(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
) -> Result<Vec<Value>, UserError> {
    let user_id = required("UserID", user_id)?;
    let body = json!({
        "conditionalAccessWhatIfSubject": {
            "@odata.type": "#microsoft.graph.userSubject",
            "userId": user_id,
        },
        "conditionalAccessContext": {
            "@odata.type": "#microsoft.graph.whatIfApplicationContext",
            "includeApplications": [WHAT_IF_APPLICATION],
        },
        "conditionalAccessWhatIfConditions": {},
    });
    let prefix = format!("Failed to retrieve Conditional Access policies for user {user_id}: ");
    match graph
        .app_only()
        .post(
            tenant,
            GraphVersion::Beta,
            "identity/conditionalAccess/evaluate",
            &body,
        )
        .await
    {
        Ok(answer) => Ok(answer
            .as_ref()
            .and_then(|a| a.get("value"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()),
        Err(e) => {
            // The evaluation refuses an unknown user with a 400; say 404 when that is why.
            if matches!(e.status(), Some(400 | 404)) {
                ensure_user_exists(graph, tenant, user_id, &prefix).await?;
            }
            Err(failed(&prefix, e))
        }
    }
}
