//! `ListFeatureFlags` (CIPP-API `Invoke-ListFeatureFlags.ps1`): CIPP's flag list
//! (`data/FeatureFlags.json`, as CIPP ships it) with each flag's state from configuration
//! (`CIPP_FEATURE_FLAGS`), else CIPP's default. Hidden flags are left out, as the CIPP frontend
//! never shows them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::LazyLock;
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::NoParams;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListFeatureFlags;

const FLAGS: &str = include_str!("../../data/FeatureFlags.json");
static DEFAULT_FLAGS: LazyLock<Vec<FeatureFlag>> = LazyLock::new(|| {
    serde_json::from_str(FLAGS).unwrap_or_else(|error| {
        tracing::error!(%error, "data/FeatureFlags.json does not parse; no flags are listed");
        Vec::new()
    })
});

/// One feature flag. The frontend hides the `Pages` of a flag that is not `Enabled`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeatureFlag {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Description")]
    pub description: String,
    /// Configured state, else CIPP's default.
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    /// Whether CIPP lets a user switch it.
    #[serde(rename = "AllowUserToggle")]
    pub allow_user_toggle: bool,
    /// The ids of the timers the flag switches.
    #[serde(rename = "Timers")]
    pub timers: Vec<String>,
    /// The operations the flag switches.
    #[serde(rename = "Endpoints")]
    pub endpoints: Vec<String>,
    /// The frontend paths the flag switches.
    #[serde(rename = "Pages")]
    pub pages: Vec<String>,
    /// Always false here: hidden flags are left out.
    #[serde(rename = "Hidden")]
    pub hidden: bool,
}

impl Operation for ListFeatureFlags {
    type Params = NoParams;
    type Answer = Vec<FeatureFlag>;
    const NAME: &'static str = "ListFeatureFlags";
    const TAG: &'static str = "CIPP > Core";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListFeatureFlags.ps1",
        frontend: Some("src/layouts/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A flag's state comes from configuration (`CIPP_FEATURE_FLAGS`) over CIPP's defaults, not from CIPP's table; hidden flags are left out.",
    );

    fn example() -> Value {
        json!({})
    }

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<Vec<FeatureFlag>>, UserError> {
        let configured = &ctx.env.feature_flags;
        let flags = DEFAULT_FLAGS
            .iter()
            .filter(|flag| !flag.hidden)
            .cloned()
            .map(|mut flag| {
                if let Some(enabled) = configured.get(&flag.id) {
                    flag.enabled = *enabled;
                }
                flag
            })
            .collect();
        Ok(Outcome::json(flags))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cipps_flag_list_parses_with_every_field() {
        assert!(!super::DEFAULT_FLAGS.is_empty());
    }
}
