//! `ListUserSettings` (CIPP-API `Invoke-ListUserSettings.ps1`): the CIPP frontend's settings
//! for the caller: everyone's (`allUsers`) when saved, else the caller's own, else CIPP's
//! defaults, with the caller's own under `UserSpecificSettings` and the caller's bookmarks
//! under `UserBookmarks`.

use cipp_store::ALL_USERS;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::UserError;
use crate::op::types::NoParams;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::user_settings::own_key;

pub struct ListUserSettings;

const FAILED: &str = "Function Error: the user settings could not be read";

/// The settings as the frontend saved them, with where the offboarding defaults come from.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct UserSettings(pub Value);

/// The settings keys the user pages read; the frontend keeps whatever else it saves.
fn settings_object(description: &str) -> ObjectBuilder {
    let typed = |schema_type: Type, description: &str| {
        ObjectBuilder::new()
            .schema_type(schema_type)
            .description(Some(description))
    };
    let label_value = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(description))
            .property("label", ObjectBuilder::new().schema_type(Type::String))
            .property("value", ObjectBuilder::new().schema_type(Type::String))
    };
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .property("direction", typed(Type::String, "`ltr` by default."))
        .property("paletteMode", typed(Type::String, "`light` or `dark`."))
        .property("currentTheme", label_value("The theme."))
        .property("pinNav", typed(Type::Boolean, "Whether the side nav stays open."))
        .property(
            "showDevtools",
            typed(Type::Boolean, "Whether the frontend shows its developer tools."),
        )
        .property(
            "usageLocation",
            label_value("The default usage location of the add-user forms."),
        )
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
}

impl PartialSchema for UserSettings {
    fn schema() -> RefOr<Schema> {
        settings_object(
            "The frontend's settings as saved (any further keys are kept as the frontend sent them).",
        )
        .property(
            "offboardingDefaultsSource",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["allUsers", "user"]))
                .description(Some(
                    "Whether `offboardingDefaults` are everyone's or the caller's own.",
                )),
        )
        .property(
            "UserSpecificSettings",
            settings_object("The caller's own settings, when saved."),
        )
        .property(
            "UserBookmarks",
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property("path", ObjectBuilder::new().schema_type(Type::String))
                        .property("label", ObjectBuilder::new().schema_type(Type::String)),
                )
                .description(Some(
                    "The caller's bookmarks (`ExecUserBookmarks`), when any are saved.",
                )),
        )
        .into()
    }
}

impl ToSchema for UserSettings {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UserSettings")
    }
}

fn defaults() -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("direction".into(), json!("ltr"));
    fields.insert("paletteMode".into(), json!("light"));
    fields.insert(
        "currentTheme".into(),
        json!({"value": "light", "label": "light"}),
    );
    fields.insert("pinNav".into(), json!(true));
    fields.insert("showDevtools".into(), json!(false));
    fields
}

fn any_offboarding_default_on(settings: Option<&Value>) -> bool {
    settings
        .and_then(|s| s.get("offboardingDefaults"))
        .and_then(Value::as_object)
        .is_some_and(|o| o.values().any(|v| v == &Value::Bool(true)))
}

impl Operation for ListUserSettings {
    type Params = NoParams;
    type Answer = UserSettings;
    const NAME: &'static str = "ListUserSettings";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserSettings.ps1",
        frontend: Some("src/layouts/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "An API client's own settings are kept under its client id. A store failure is a 500 (CIPP: 400 with the exception text).",
    );

    fn example() -> Value {
        json!({})
    }

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<UserSettings>, UserError> {
        let store = &ctx.store;
        let all_users = store
            .get_user_settings(ALL_USERS)
            .await
            .map_err(|e| UserError::internal(FAILED, e))?;
        let own = store
            .get_user_settings(&own_key(&ctx.caller.identity()))
            .await
            .map_err(|e| UserError::internal(FAILED, e))?;
        let (settings, mut source) = match (&all_users, &own) {
            (Some(all), _) => (all.clone(), "allUsers"),
            (None, Some(own)) => (own.clone(), "user"),
            (None, None) => (Value::Object(defaults()), "allUsers"),
        };
        let Value::Object(mut fields) = settings else {
            // Only objects are saved; anything else is answered as it is kept.
            return Ok(Outcome::json(UserSettings(settings)));
        };
        // The user's own offboarding defaults win when the shared ones switch nothing on.
        if all_users.is_some()
            && !any_offboarding_default_on(all_users.as_ref())
            && any_offboarding_default_on(own.as_ref())
            && let Some(offboarding) = own.as_ref().and_then(|o| o.get("offboardingDefaults"))
        {
            fields.insert("offboardingDefaults".into(), offboarding.clone());
            source = "user";
        }
        fields.insert("offboardingDefaultsSource".into(), json!(source));
        if let Some(own) = own {
            fields.insert("UserSpecificSettings".into(), own);
        }
        // The caller's bookmarks (ExecUserBookmarks), when any are saved; CIPP leaves an empty
        // list out.
        let bookmarks = store
            .bookmarks_get(&own_key(&ctx.caller.identity()))
            .await
            .map_err(|e| UserError::internal(FAILED, e))?;
        match bookmarks {
            Some(Value::Array(list)) if list.is_empty() => {}
            Some(list @ Value::Array(_)) => {
                fields.insert("UserBookmarks".into(), list);
            }
            Some(Value::Null) | None => {}
            Some(one) => {
                fields.insert("UserBookmarks".into(), Value::Array(vec![one]));
            }
        }
        Ok(Outcome::json(UserSettings(Value::Object(fields))))
    }
}
