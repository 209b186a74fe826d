//! `ListFeatureFlags`: CIPP's flag list (`data/FeatureFlags.json`, as CIPP ships it) with each
//! flag's state from configuration (`CIPP_FEATURE_FLAGS`), else CIPP's default. Hidden flags
//! are left out, as the CIPP frontend never shows them.

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;
use std::sync::LazyLock;

use super::{Context, Reply};
use crate::error::ApiError;

const FLAGS: &str = include_str!("../../data/FeatureFlags.json");
static DEFAULT_FLAGS: LazyLock<Vec<Value>> =
    LazyLock::new(|| serde_json::from_str(FLAGS).unwrap_or_default());

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let configured = &ctx.state.settings.feature_flags;
        let flags: Vec<Value> = DEFAULT_FLAGS
            .iter()
            .filter(|f| f.get("Hidden").and_then(Value::as_bool) != Some(true))
            .cloned()
            .map(|mut flag| {
                let id = flag
                    .get("Id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if let (Some(enabled), Value::Object(fields)) = (configured.get(&id), &mut flag) {
                    fields.insert("Enabled".into(), Value::Bool(*enabled));
                }
                flag
            })
            .collect();
        Ok(Reply::ok(Value::Array(flags)))
    }
    .boxed_local()
}
