//! `ExecClrOnPremAttributes` (CIPP-API `Invoke-ExecClrOnPremAttributes.ps1` →
//! `Clear-CIPPOnPremisesAttributes.ps1`): clears the on-premises attributes a cloud-only user
//! kept from an earlier sync, restoring the user from deleted items first when it is there. The
//! values cleared are logged first: Microsoft advises keeping them as the way back.

use cipp_graph::{GraphClient, GraphVersion};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::{TextResults, UserId};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecClrOnPremAttributes;

/// The attributes Microsoft documents as clearable on cloud-only users, in CIPP's order.
pub const CLEARABLE: [&str; 7] = [
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesImmutableId",
    "onPremisesObjectIdentifier",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesUserPrincipalName",
];

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The cloud-only user: object id or user principal name.
    #[serde(rename = "ID")]
    pub id: UserId,
    /// The attributes to clear (names in any case, or `{label, value}`); all seven when absent.
    #[serde(rename = "Attributes", default)]
    pub attributes: Vec<String>,
}

impl Operation for ExecClrOnPremAttributes {
    type Params = Params;
    type Answer = TextResults;
    const NAME: &'static str = "ExecClrOnPremAttributes";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecClrOnPremAttributes.ps1",
        frontend: Some("src/components/CippComponents/CippUserActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A missing `ID`, or one that is neither an object id nor a user principal name, is a 400 naming it. An attribute outside the clearable seven is a 400 naming `Attributes` with CIPP's text (CIPP: 500), before anything is read or restored.",
    );

    fn example() -> Value {
        json!({
            "tenantFilter": crate::demo::TENANT,
            "ID": crate::demo::USER_ID,
            "Attributes": ["onPremisesImmutableId", "onPremisesSamAccountName"],
        })
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<TextResults>, UserError> {
        let tenant = ctx.tenant()?;
        let attributes = clearable_attributes(&params.attributes)?;
        let message =
            clear_on_premises_attributes(&ctx.graph, &tenant.customer_id, &params.id, &attributes)
                .await?;
        Ok(Outcome::json(TextResults::new(message)))
    }
}

/// The requested names in their documented spelling; every clearable one when none is given.
pub fn clearable_attributes(requested: &[String]) -> Result<Vec<&'static str>, UserError> {
    if requested.is_empty() {
        return Ok(CLEARABLE.to_vec());
    }
    requested
        .iter()
        .map(|name| {
            CLEARABLE
                .iter()
                .find(|c| c.eq_ignore_ascii_case(name.trim()))
                .copied()
                .ok_or_else(|| {
                    UserError::invalid(
                        "Attributes",
                        format!(
                            "Attributes: '{name}' is not a clearable on-premises attribute. Allowed: {}",
                            CLEARABLE.join(", ")
                        ),
                    )
                })
        })
        .collect()
}

/// Reads the user and its current values (restoring it from deleted items when it is only
/// there), logs them, then sets each attribute to null, app-only as CIPP does.
pub async fn clear_on_premises_attributes(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
    attributes: &[&str],
) -> Result<String, UserError> {
    let list = attributes.join(", ");
    let failed = |error: cipp_graph::GraphError| UserError::Failed {
        message: format!(
            "Failed to clear on-premises attributes ({list}) for {}. Error: {}",
            user.as_str(),
            normalize_graph_error(&error)
        ),
        source: Some(Box::new(error)),
    };
    let segment = user.segment();
    let select = ["id", "userPrincipalName", "displayName"]
        .iter()
        .chain(CLEARABLE.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    let current = match graph
        .get(
            tenant,
            GraphVersion::Beta,
            &format!("users/{segment}?$select={select}"),
            &[],
        )
        .await
    {
        Ok(current) => current,
        Err(_) => {
            // Not a live user (an offboarding deleted it): restore it when it is in deleted
            // items; otherwise the PATCH below fails with Graph's text.
            if let Ok(deleted) = graph
                .get(
                    tenant,
                    GraphVersion::Beta,
                    &format!("directory/deletedItems/{segment}"),
                    &[],
                )
                .await
                && deleted.get("id").is_some()
            {
                graph
                    .post(
                        tenant,
                        GraphVersion::Beta,
                        &format!("directory/deletedItems/{segment}/restore"),
                        &json!({}),
                    )
                    .await
                    .map_err(failed)?;
                tracing::info!(
                    tenant,
                    "Restored deleted user {} to clear on-premises attributes",
                    user.as_str()
                );
            }
            Value::Null
        }
    };
    let previous: Map<String, Value> = attributes
        .iter()
        .map(|a| ((*a).to_owned(), current.get(*a).cloned().unwrap_or(Value::Null)))
        .collect();
    let body: Map<String, Value> = attributes
        .iter()
        .map(|a| ((*a).to_owned(), Value::Null))
        .collect();
    graph
        .app_only()
        .patch(
            tenant,
            GraphVersion::Beta,
            &format!("users/{segment}"),
            &Value::Object(body),
        )
        .await
        .map_err(failed)?;
    let message = format!("Successfully cleared {list} for user {}", user.as_str());
    // The values cleared are the rollback record Microsoft asks to keep.
    let previous = Value::Object(previous).to_string();
    tracing::info!(tenant, %previous, "{message}");
    Ok(message)
}
