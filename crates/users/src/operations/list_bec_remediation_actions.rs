//! `ListBECRemediationActions` (CIPP-API `Invoke-ListBECRemediationActions.ps1`, newest
//! upstream): the containment actions ExecBECRemediate carries out, as the remediation page
//! lists them to choose from.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::bec::containment::{CATALOGUE, ContainmentAction, Impact};
use crate::op::types::NoParams;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListBECRemediationActions;

/// One action of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueRow {
    /// The id ExecBECRemediate's `Actions` takes.
    #[serde(rename = "Id")]
    pub id: &'static str,
    #[serde(rename = "Label")]
    pub label: &'static str,
    #[serde(rename = "Description")]
    pub description: &'static str,
    /// `Critical` actions need the user's UPN typed as `Confirmation`.
    #[serde(rename = "Impact")]
    pub impact: Impact,
    #[serde(rename = "Reversible")]
    pub reversible: bool,
    /// Part of the set an empty `Actions` runs.
    #[serde(rename = "DefaultSelected")]
    pub default_selected: bool,
    /// The order actions run in.
    #[serde(rename = "Order")]
    pub order: u32,
    /// The BEC report section the action's targets are chosen from.
    #[serde(rename = "TargetSource")]
    pub target_source: Option<&'static str>,
    /// The `Parameters` key the chosen targets go in.
    #[serde(rename = "ParameterName")]
    pub parameter_name: Option<&'static str>,
}

impl From<&ContainmentAction> for CatalogueRow {
    fn from(a: &ContainmentAction) -> Self {
        Self {
            id: a.id,
            label: a.label,
            description: a.description,
            impact: a.impact,
            reversible: a.reversible,
            default_selected: a.default_selected,
            order: a.order,
            target_source: a.target_source,
            parameter_name: a.parameter_name,
        }
    }
}

impl Operation for ListBECRemediationActions {
    type Params = NoParams;
    type Answer = Vec<CatalogueRow>;
    const NAME: &'static str = "ListBECRemediationActions";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListBECRemediationActions.ps1",
        frontend: Some("src/components/CippComponents/CippRemediationCard.jsx"),
    };

    fn example() -> Value {
        json!({})
    }

    async fn run(_ctx: Ctx, _params: NoParams) -> Result<Outcome<Vec<CatalogueRow>>, UserError> {
        Ok(Outcome::json(CATALOGUE.iter().map(CatalogueRow::from).collect()))
    }
}
