//! `ListExtensionsConfig` (CIPP-API `Invoke-ListExtensionsConfig.ps1`): CIPP's extensions
//! configuration as saved (an object keyed by extension: `Sherweb`, `HaloPSA`, …). The add-user
//! form reads only `Sherweb.Enabled`. Nothing configured (or a saved value that is not an
//! object) is `{}`, as CIPP answers.

use serde::Serialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::UserError;
use crate::op::types::NoParams;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListExtensionsConfig;

/// The configuration object, passed through as saved.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ExtensionsConfig(pub Map<String, Value>);

impl PartialSchema for ExtensionsConfig {
    fn schema() -> RefOr<Schema> {
        let extension = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(description))
                .property(
                    "Enabled",
                    ObjectBuilder::new()
                        .schema_type(Type::Boolean)
                        .description(Some("Whether the extension is on.")),
                )
                .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "One object per configured extension, keyed by its name, as saved (`{}` when nothing is configured).",
            ))
            .property(
                "Sherweb",
                extension("Sherweb; the add-user form reads `Enabled`."),
            )
            .property("HaloPSA", extension("HaloPSA."))
            .property("NinjaOne", extension("NinjaOne."))
            .property("Hudu", extension("Hudu."))
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for ExtensionsConfig {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ExtensionsConfig")
    }
}

impl Operation for ListExtensionsConfig {
    type Params = NoParams;
    type Answer = ExtensionsConfig;
    const NAME: &'static str = "ListExtensionsConfig";
    const TAG: &'static str = "CIPP > Extensions";
    const ROLE: Option<&'static str> = Some("CIPP.Extension.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListExtensionsConfig.ps1",
        frontend: Some("src/components/CippFormPages/CippAddEditUser.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A HaloPSA ticket type saved as a bare id is answered as saved (CIPP looks its name up in HaloPSA to answer `{label, value}`; no HaloPSA is called from here). A store failure is a 500 (CIPP: `{}`).",
    );

    fn example() -> Value {
        json!({})
    }

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<ExtensionsConfig>, UserError> {
        let saved = ctx.store.extensions_config_get().await.map_err(|e| {
            UserError::internal("The extensions configuration could not be read", e)
        })?;
        Ok(Outcome::json(ExtensionsConfig(match saved {
            Some(Value::Object(config)) => config,
            _ => Map::new(),
        })))
    }
}
