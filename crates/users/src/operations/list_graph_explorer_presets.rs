//! `ListGraphExplorerPresets` (CIPP-API `Invoke-ListGraphExplorerPresets.ps1`): the saved Graph
//! Explorer presets the caller owns plus every shared one, by name, optionally only those of one
//! endpoint. Every CIPP table asks for these to offer its filter presets.
//!
//! CIPP ships no built-in presets from the API (the frontend has its own); the presets are the
//! ones saved in the store.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::user_settings::own_key;

pub struct ListGraphExplorerPresets;

const FAILED: &str = "Could not list presets";

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// Only presets of this Graph endpoint (`users`, `/users`: a leading `/` does not count;
    /// compared without regard to case).
    #[serde(rename = "Endpoint")]
    pub endpoint: Option<String>,
}

/// `{Results, Metadata: {Count}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PresetList {
    #[serde(rename = "Results")]
    pub results: Vec<Preset>,
    #[serde(rename = "Metadata")]
    pub metadata: PresetCount,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PresetCount {
    #[serde(rename = "Count")]
    pub count: usize,
}

/// One preset as the frontend reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preset {
    pub id: String,
    pub name: String,
    /// Whether every user sees it.
    #[serde(rename = "IsShared")]
    pub is_shared: bool,
    /// Whether the caller saved it.
    #[serde(rename = "IsMyPreset")]
    pub is_my_preset: bool,
    /// Who saved it.
    #[serde(rename = "Owner")]
    pub owner: String,
    /// The query: `endpoint`, `$filter`, `$select`, `$count`, `$expand`, `$search`, `$orderby`,
    /// `$top`, `NoPagination`, `ReverseTenantLookup`, `ReverseTenantLookupProperty`, `AsApp`,
    /// `version`, `IsShared`, as saved.
    pub params: GraphRow,
}

fn endpoint_of(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('/').unwrap_or(text)
}

impl Operation for ListGraphExplorerPresets {
    type Params = Params;
    type Answer = PresetList;
    const NAME: &'static str = "ListGraphExplorerPresets";
    const TAG: &'static str = "Tenant > Tools";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListGraphExplorerPresets.ps1",
        frontend: Some("src/components/CippTable/CippDataTable.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A store failure is a 500 naming it (CIPP logs it and answers an empty list). An API client's own presets are those saved under its client id.",
    );

    fn example() -> Value {
        json!({"Endpoint": "users"})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<PresetList>, UserError> {
        let me = own_key(&ctx.caller.identity());
        let presets = ctx
            .store
            .graph_presets_visible_to(&me)
            .await
            .map_err(|e| UserError::internal(FAILED, e))?;
        let wanted = params.endpoint.as_deref().map(endpoint_of);
        let results: Vec<Preset> = presets
            .into_iter()
            .map(|p| Preset {
                is_my_preset: p.owner.eq_ignore_ascii_case(&me),
                params: GraphRow(match p.params {
                    Value::Object(map) => map,
                    // Only objects are saved; anything else answers as no query at all.
                    _ => serde_json::Map::new(),
                }),
                id: p.id,
                name: p.name,
                is_shared: p.is_shared,
                owner: p.owner,
            })
            .filter(|p| {
                wanted.is_none_or(|w| {
                    let endpoint = p.params.0.get("endpoint").and_then(Value::as_str);
                    endpoint.is_some_and(|e| endpoint_of(e).eq_ignore_ascii_case(w))
                })
            })
            .collect();
        Ok(Outcome::json(PresetList {
            metadata: PresetCount {
                count: results.len(),
            },
            results,
        }))
    }
}
