//! `ListExtensionsConfig` (CIPP-API `Invoke-ListExtensionsConfig.ps1`): CIPP's extensions
//! configuration as saved (an object keyed by extension: `Sherweb`, `HaloPSA`, …). The add-user
//! form reads only `Sherweb.Enabled`. Nothing configured (or a saved value that is not an
//! object) is `{}`, as CIPP answers.

use serde_json::{Map, Value, json};

use crate::UserError;
use crate::op::types::{GraphRow, NoParams};
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListExtensionsConfig;

impl Operation for ListExtensionsConfig {
    type Params = NoParams;
    /// The configuration object, passed through as saved.
    type Answer = GraphRow;
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

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<GraphRow>, UserError> {
        let saved = ctx.store.extensions_config_get().await.map_err(|e| {
            UserError::internal("The extensions configuration could not be read", e)
        })?;
        Ok(Outcome::json(GraphRow(match saved {
            Some(Value::Object(config)) => config,
            _ => Map::new(),
        })))
    }
}
