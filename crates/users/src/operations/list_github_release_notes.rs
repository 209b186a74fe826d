//! `ListGitHubReleaseNotes` (CIPP-API `Invoke-ListGitHubReleaseNotes.ps1`): the CIPP frontend
//! asks on the first visit of each version and opens a dialog for a non-empty answer. This
//! service has no GitHub access (and must not reach out), so it serves the configured notes
//! (`CIPP_RELEASE_NOTES`), `[]` by default.

use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::UserError;
use crate::op::types::NoParams;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListGitHubReleaseNotes;

/// One release note, served exactly as configured.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ReleaseNote(pub Value);

impl PartialSchema for ReleaseNote {
    fn schema() -> RefOr<Schema> {
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A release note as configured (`CIPP_RELEASE_NOTES`); the frontend reads these properties.",
            ))
            .property("releaseTag", text("The version, e.g. `v10.9.0` (or `tagName`)."))
            .property("tagName", text("The version, when `releaseTag` is not given."))
            .property("name", text("The release's title."))
            .property("body", text("The notes, in Markdown."))
            .property("htmlUrl", text("Where the release is published."))
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for ReleaseNote {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ReleaseNote")
    }
}

/// The notes, as a list (a bare `Vec<ReleaseNote>` has no schema of its own to refer to).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
pub struct ReleaseNotes(pub Vec<ReleaseNote>);

impl Operation for ListGitHubReleaseNotes {
    type Params = NoParams;
    type Answer = ReleaseNotes;
    const NAME: &'static str = "ListGitHubReleaseNotes";
    const TAG: &'static str = "Tools > GitHub";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListGitHubReleaseNotes.ps1",
        frontend: Some("src/components/ReleaseNotesDialog.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The notes are the configured ones (`CIPP_RELEASE_NOTES`, `[]` by default), not read from GitHub: this service does not reach out to GitHub.",
    );

    fn example() -> Value {
        json!({})
    }

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<ReleaseNotes>, UserError> {
        let notes = ctx.env.release_notes.iter().cloned().map(ReleaseNote).collect();
        Ok(Outcome::json(ReleaseNotes(notes)))
    }
}
