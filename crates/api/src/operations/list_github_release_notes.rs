//! `ListGitHubReleaseNotes`: the CIPP frontend asks on the first visit of each version and opens a
//! dialog for a non-empty answer. This service has no GitHub access (and must not reach out), so
//! it serves the configured notes (`CIPP_RELEASE_NOTES`), `[]` by default.

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::{Context, Reply};
use crate::error::ApiError;

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        Ok(Reply::ok(Value::Array(
            ctx.state.settings.release_notes.clone(),
        )))
    }
    .boxed_local()
}
