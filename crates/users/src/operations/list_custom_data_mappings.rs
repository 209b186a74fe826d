//! `ListCustomDataMappings` (CIPP-API `Invoke-ListCustomDataMappings.ps1`): the custom data
//! mappings saved in CIPP's settings, optionally only those of one source type, directory object
//! and tenant. The add, edit and patch user forms turn each `Manual Entry` mapping of `User`
//! into a field. Nothing configured is `{Results: []}`, as CIPP answers.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListCustomDataMappings;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// Only mappings of this source type (`Manual Entry`, or an extension's name); case does
    /// not matter, as in CIPP.
    #[serde(rename = "sourceType")]
    pub source_type: Option<String>,
    /// Only mappings onto this directory object (`User`, `Group`, …); case does not matter.
    #[serde(rename = "directoryObject")]
    pub directory_object: Option<String>,
    /// Only mappings that apply to this tenant (its id, default domain or initial domain):
    /// those saved for it or for `AllTenants`. `AllTenants` here means no tenant filter.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MappingList {
    #[serde(rename = "Results")]
    pub results: Vec<Mapping>,
}

/// One mapping as CIPP lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Mapping {
    pub id: String,
    /// The label of the tenant (or `AllTenants`) it applies to.
    pub tenant: Option<String>,
    /// The label of the extension dataset it syncs from, if any.
    pub dataset: Option<String>,
    #[serde(rename = "sourceType")]
    pub source_type: Option<String>,
    #[serde(rename = "directoryObject")]
    pub directory_object: Option<String>,
    /// The synced property's label, or the dataset's selected fields.
    #[serde(rename = "syncProperty")]
    #[schema(value_type = SyncProperty)]
    pub sync_property: Value,
    /// The custom data attribute as saved: `value`, `label`, `addedFields.dataType`,
    /// `addedFields.isMultiValue`, …
    #[serde(rename = "customDataAttribute")]
    #[schema(value_type = GraphRow)]
    pub custom_data_attribute: Value,
    /// The label of the form field a `Manual Entry` mapping shows.
    #[serde(rename = "manualEntryFieldLabel")]
    #[schema(value_type = Option<String>)]
    pub manual_entry_field_label: Value,
}

/// `syncProperty` (documentation only: the value passes through).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SyncProperty {
    /// The synced property's label.
    Label(String),
    /// The dataset's selected fields.
    Fields(Vec<String>),
}

fn label(body: &Value, key: &str) -> Option<String> {
    body.get(key)
        .and_then(|v| v.get("label"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// CIPP reads the mapping's tenant from its `{label, value}` (or a list of them).
fn applies_to(body: &Value, names: &[&str]) -> bool {
    let entry_matches = |entry: &Value| {
        ["value", "label"].iter().any(|k| {
            entry.get(k).and_then(Value::as_str).is_some_and(|v| {
                v.eq_ignore_ascii_case("AllTenants")
                    || names.iter().any(|n| n.eq_ignore_ascii_case(v))
            })
        })
    };
    match body.get("tenantFilter") {
        Some(Value::Array(entries)) => entries.iter().any(entry_matches),
        Some(entry @ Value::Object(_)) => entry_matches(entry),
        Some(Value::String(s)) => {
            s.eq_ignore_ascii_case("AllTenants") || names.iter().any(|n| n.eq_ignore_ascii_case(s))
        }
        _ => false,
    }
}

/// PowerShell's `-eq` on text: case-insensitive.
fn same_text(value: Option<&str>, wanted: &str) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case(wanted))
}

fn mapping_of(id: String, body: &Value) -> Mapping {
    let sync_property = match label(body, "extensionSyncProperty") {
        Some(l) => Value::String(l),
        None => {
            let select = body
                .get("extensionSyncDataset")
                .and_then(|d| d.get("addedFields"))
                .and_then(|f| f.get("select"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            Value::Array(
                select
                    .split(',')
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            )
        }
    };
    Mapping {
        id,
        tenant: label(body, "tenantFilter"),
        dataset: label(body, "extensionSyncDataset"),
        source_type: label(body, "sourceType"),
        directory_object: label(body, "directoryObjectType"),
        sync_property,
        custom_data_attribute: body
            .get("customDataAttribute")
            .cloned()
            .unwrap_or(Value::Null),
        manual_entry_field_label: body
            .get("manualEntryFieldLabel")
            .cloned()
            .unwrap_or(Value::Null),
    }
}

impl Operation for ListCustomDataMappings {
    type Params = Params;
    type Answer = MappingList;
    const NAME: &'static str = "ListCustomDataMappings";
    const TAG: &'static str = "CIPP > Core";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    // tenantFilter is only a filter here, and optional, so the operation reads it.
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListCustomDataMappings.ps1",
        frontend: Some("src/components/CippFormPages/CippAddEditUser.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "With `tenantFilter`, the mappings that apply to that tenant (saved for it or for `AllTenants`) are answered; CIPP's filter leaves exactly those out, which the user forms cannot mean, since they ask for the current tenant's fields. A `tenantFilter` that names no tenant CIPP manages is a 400 naming it, one outside the caller's scope a 403. A store failure is a 500 (CIPP: 200 with `{state: error, resultText: Failed to retrieve mappings: …}`).",
    );

    fn example() -> Value {
        json!({"sourceType": "Manual Entry", "directoryObject": "User", "tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<MappingList>, UserError> {
        let tenant = match params.tenant_filter.as_deref() {
            Some(name) if !name.eq_ignore_ascii_case("AllTenants") => {
                Some(ctx.tenant_named("tenantFilter", name).await?)
            }
            _ => None,
        };
        let saved = ctx.store.custom_data_mappings().await.map_err(|e| {
            UserError::internal("Failed to retrieve mappings: the store could not be read", e)
        })?;
        let results = saved
            .into_iter()
            .filter(|m| {
                tenant.as_ref().is_none_or(|t| {
                    applies_to(
                        &m.body,
                        &[
                            t.customer_id.as_str(),
                            t.default_domain_name.as_str(),
                            t.initial_domain_name.as_str(),
                        ],
                    )
                })
            })
            .map(|m| mapping_of(m.id, &m.body))
            .filter(|m| {
                params
                    .source_type
                    .as_deref()
                    .is_none_or(|s| same_text(m.source_type.as_deref(), s))
                    && params
                        .directory_object
                        .as_deref()
                        .is_none_or(|d| same_text(m.directory_object.as_deref(), d))
            })
            .collect();
        Ok(Outcome::json(MappingList { results }))
    }
}
