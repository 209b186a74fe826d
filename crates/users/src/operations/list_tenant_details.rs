//! `ListTenantDetails` (CIPP-API `Invoke-ListTenantDetails.ps1`): the tenant's organization
//! record (beta `organization`) as CIPP picks it, with CIPP's custom tenant properties and the
//! CIPP tenant groups the tenant belongs to.

use cipp_graph::GraphVersion;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListTenantDetails;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {}

/// The organization's fields CIPP keeps, phones and notification mails joined with `, `.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantDetails {
    #[serde(rename = "displayName")]
    pub display_name: Value,
    pub id: Value,
    pub city: Value,
    pub country: Value,
    #[serde(rename = "countryLetterCode")]
    pub country_letter_code: Value,
    pub street: Value,
    pub state: Value,
    #[serde(rename = "postalCode")]
    pub postal_code: Value,
    #[serde(rename = "businessPhones")]
    pub business_phones: String,
    #[serde(rename = "technicalNotificationMails")]
    pub technical_notification_mails: String,
    #[serde(rename = "tenantType")]
    pub tenant_type: Value,
    #[serde(rename = "createdDateTime")]
    pub created_date_time: Value,
    #[serde(rename = "onPremisesLastPasswordSyncDateTime")]
    pub on_premises_last_password_sync_date_time: Value,
    #[serde(rename = "onPremisesLastSyncDateTime")]
    pub on_premises_last_sync_date_time: Value,
    #[serde(rename = "onPremisesSyncEnabled")]
    pub on_premises_sync_enabled: Value,
    #[serde(rename = "assignedPlans")]
    pub assigned_plans: Vec<GraphRow>,
    /// CIPP's custom properties of the tenant (none are kept by this service: `{}`).
    #[serde(rename = "customProperties")]
    pub custom_properties: GraphRow,
    /// CIPP tenant groups holding the tenant (none exist in this service: `[]`).
    #[serde(rename = "Groups")]
    pub groups: Vec<GraphRow>,
}

impl Operation for ListTenantDetails {
    type Params = Params;
    type Answer = TenantDetails;
    const NAME: &'static str = "ListTenantDetails";
    const TAG: &'static str = "Tenant > Administration > Tenant";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListTenantDetails.ps1",
        frontend: Some("src/pages/tenant/manage/edit.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "This service keeps neither custom tenant properties nor tenant groups, so \
         `customProperties` is always `{}` and `Groups` `[]`. A failure's text is CIPP's, in \
         `Results` (CIPP sends it as the bare body).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, _params: Params) -> Result<Outcome<TenantDetails>, UserError> {
        let tenant = ctx.tenant()?;
        let page = ctx
            .graph
            .get(&tenant.customer_id, GraphVersion::Beta, "organization", &[])
            .await
            .map_err(|e| UserError::Failed {
                message: format!(
                    "Failed to retrieve tenant details: {}",
                    normalize_graph_error(&e)
                ),
                source: Some(Box::new(e)),
            })?;
        let org = page
            .get("value")
            .and_then(Value::as_array)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or(Value::Null);
        Ok(Outcome::json(details(&org)))
    }
}

/// CIPP's selection of the organization's fields.
pub fn details(org: &Value) -> TenantDetails {
    let field = |name: &str| org.get(name).cloned().unwrap_or(Value::Null);
    let joined = |name: &str| {
        org.get(name)
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    TenantDetails {
        display_name: field("displayName"),
        id: field("id"),
        city: field("city"),
        country: field("country"),
        country_letter_code: field("countryLetterCode"),
        street: field("street"),
        state: field("state"),
        postal_code: field("postalCode"),
        business_phones: joined("businessPhones"),
        technical_notification_mails: joined("technicalNotificationMails"),
        tenant_type: field("tenantType"),
        created_date_time: field("createdDateTime"),
        on_premises_last_password_sync_date_time: field("onPremisesLastPasswordSyncDateTime"),
        on_premises_last_sync_date_time: field("onPremisesLastSyncDateTime"),
        on_premises_sync_enabled: field("onPremisesSyncEnabled"),
        assigned_plans: org
            .get("assignedPlans")
            .and_then(Value::as_array)
            .map(|p| {
                p.iter()
                    .filter_map(|x| x.as_object().cloned().map(GraphRow))
                    .collect()
            })
            .unwrap_or_default(),
        custom_properties: GraphRow(Map::new()),
        groups: Vec::new(),
    }
}
