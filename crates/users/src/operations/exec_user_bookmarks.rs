//! `ExecUserBookmarks` (CIPP-API `Invoke-ExecUserBookmarks.ps1`): saves the signed-in user's
//! bookmarks (the navigation's `{path, label}` list), replacing the saved ones.
//! `ListUserSettings` answers them back as `UserBookmarks`.

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::TextResults;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse, WhatIf};
use crate::user_settings::own_key;

pub struct ExecUserBookmarks;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The bookmarks, under `bookmarks`. Without it (or with `bookmarks` null) the saved
    /// bookmarks are cleared, as in CIPP.
    #[serde(rename = "currentSettings")]
    pub current_settings: Option<CurrentSettings>,
    /// Whose bookmarks: the caller's own (the frontend sends the signed-in user's name); only
    /// admins may save anyone else's.
    #[serde(rename = "user")]
    pub user: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CurrentSettings {
    /// `{path, label}` objects; a single object is saved as a list of one, as CIPP does.
    #[schema(value_type = Object)]
    pub bookmarks: Option<Value>,
}

/// What is saved: a list of objects (one object becomes a list of one); anything else is a 400.
fn bookmark_list(bookmarks: Option<Value>) -> Result<Value, UserError> {
    let field = "currentSettings.bookmarks";
    let list = match bookmarks {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(item @ Value::Object(_)) => vec![item],
        Some(other) => {
            return Err(UserError::invalid(
                field,
                format!("{field} must be a list of {{path, label}} objects, got {other}"),
            ));
        }
    };
    if let Some((i, _)) = list.iter().enumerate().find(|(_, b)| !b.is_object()) {
        return Err(UserError::invalid(
            field,
            format!("{field}[{i}] must be a {{path, label}} object"),
        ));
    }
    Ok(Value::Array(list))
}

impl Operation for ExecUserBookmarks {
    type Params = Params;
    type Answer = Vec<TextResults>;
    const NAME: &'static str = "ExecUserBookmarks";
    const TAG: &'static str = "CIPP > Settings";
    const ROLE: Option<&'static str> = Some("CIPP.Core.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::None;
    const WHAT_IF: WhatIf = WhatIf::OwnState("the caller's bookmarks");
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecUserBookmarks.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "CIPP saves the bookmarks under whatever `user` the body names; here they are the caller's own (an API client's under its client id), and naming another user takes the admin or superadmin role (403 otherwise). Bookmarks that are not `{path, label}` objects are a 400 naming `currentSettings.bookmarks`. A store failure is a 500 (CIPP: 400 `Function Error: …`).",
    );

    fn example() -> Value {
        json!({"currentSettings": {"bookmarks": [{"path": "/identity/administration/users", "label": "Users"}]}})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<TextResults>>, UserError> {
        let own = own_key(&ctx.caller.identity());
        let user = params
            .user
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| own.clone());
        if !user.eq_ignore_ascii_case(&own) && !ctx.caller.is_admin() {
            return Err(UserError::refused(format!(
                "Only admins may change the bookmarks of '{user}'; you may change your own ({own})"
            )));
        }
        let bookmarks = bookmark_list(params.current_settings.and_then(|s| s.bookmarks))?;
        ctx.store
            .bookmarks_put(&user, &bookmarks)
            .await
            .map_err(|e| UserError::internal("Function Error: the bookmarks could not be saved", e))?;
        Ok(Outcome::json(vec![TextResults::new(
            "Successfully added user bookmarks",
        )]))
    }
}
