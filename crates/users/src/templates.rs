//! Templates kept in the store, shared by the template operations: user defaults
//! (`ListNewUserDefaults`, `AddUserDefaults`, `RemoveUserDefaultTemplate`) and JIT admin
//! templates (`ListJITAdminTemplates`, `Add/Edit/RemoveJITAdminTemplate`). Reading filters by
//! tenant as CIPP does; writing checks that the caller may change the template's tenant.

use cipp_store::{Template, TemplateKind};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use time::macros::format_description;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::UserError;
use crate::op::ctx::DENIED_TENANT;
use crate::op::types::{Guid, TextResults};
use crate::op::{Ctx, Outcome, Target};

pub const ALL_TENANTS: &str = "AllTenants";

/// A flag CIPP reads with PowerShell's `[bool]` cast: any non-empty value is true, the text
/// `"false"` included; absent, null, `""`, `0` and `[]` are false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TemplateFlag(pub bool);

impl<'de> Deserialize<'de> for TemplateFlag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|value| Self(ps_truthy(&value)))
    }
}

impl PartialSchema for TemplateFlag {
    fn schema() -> RefOr<Schema> {
        // No type: any JSON value is read, as CIPP casts it.
        ObjectBuilder::new()
            .description(Some(
                "A flag read as CIPP casts it (`[bool]`): any non-empty value is true, the text `\"false\"` included.",
            ))
            .examples([json!(true)])
            .into()
    }
}

impl ToSchema for TemplateFlag {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TemplateFlag")
    }
}

/// PowerShell's `[bool]` cast, which CIPP applies to its flags (`"false"` is true).
pub fn ps_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::Array(items) => !items.is_empty(),
        Value::Object(_) => true,
    }
}

/// A stored template row as the list operations answer it: the saved JSON with CIPP's
/// `GUID`, `RowKey` and `tenantFilter`.
pub type TemplateRow = Map<String, Value>;

/// A template's id as the store keys it.
pub fn template_id(field: &str, guid: &Guid) -> Result<Uuid, UserError> {
    Uuid::parse_str(guid.as_str())
        .map_err(|_| UserError::invalid(field, format!("{field}: '{guid}' is not a GUID")))
}

/// The tenant a new or edited template is for, as stored: the tenant's default domain, or
/// `AllTenants` (the dispatcher has resolved and checked it).
pub fn template_tenant(ctx: &Ctx) -> Result<String, UserError> {
    match &ctx.target {
        Target::All => Ok(ALL_TENANTS.to_owned()),
        Target::One(tenant) => Ok(tenant.default_domain_name.clone()),
        Target::None => Err(UserError::missing("tenantFilter")),
    }
}

/// Whether the caller may change a stored template of `tenant`: 403 otherwise. Answers the
/// tenant (default domain, id) for the audit row when the directory knows it.
pub async fn authorize_existing(
    ctx: &Ctx,
    tenant: &str,
) -> Result<Option<(String, String)>, UserError> {
    let (permitted, audit) = if tenant.eq_ignore_ascii_case(ALL_TENANTS) {
        (ctx.may_target_all_tenants(), None)
    } else {
        // An unreadable tenant list leaves only the stored name to match: fail closed.
        match ctx.env.tenants.find(tenant).await.ok().flatten() {
            Some(t) => (
                ctx.permits(&t),
                Some((t.default_domain_name.clone(), t.customer_id.clone())),
            ),
            None => (ctx.caller.permits_tenant(&[tenant]), None),
        }
    };
    if permitted {
        Ok(audit)
    } else {
        Err(UserError::refused(DENIED_TENANT))
    }
}

/// The stored template with this id.
pub async fn find(
    ctx: &Ctx,
    kind: TemplateKind,
    id: Uuid,
    failed: &'static str,
) -> Result<Option<Template>, UserError> {
    Ok(ctx
        .store
        .list_templates(kind, None)
        .await
        .map_err(|e| UserError::internal(failed, e))?
        .into_iter()
        .find(|t| t.id == id))
}

/// Deletes one template the caller may change: 404 when there is none with this id.
pub async fn remove(
    ctx: &Ctx,
    kind: TemplateKind,
    given: &Guid,
    label: &'static str,
    failed: &'static str,
) -> Result<Outcome<TextResults>, UserError> {
    let id = template_id("ID", given)?;
    let not_found = || UserError::not_found(format!("{label} with ID {given} not found"));
    let template = find(ctx, kind, id, failed).await?.ok_or_else(not_found)?;
    let audit_tenant = authorize_existing(ctx, &template.tenant).await?;
    let deleted = ctx
        .store
        .delete_template(kind, id)
        .await
        .map_err(|e| UserError::internal(failed, e))?;
    if !deleted {
        return Err(not_found());
    }
    let outcome = Outcome::json(TextResults::new(format!(
        "Successfully deleted {label} with ID: {given}"
    )));
    Ok(match audit_tenant {
        Some((domain, id)) => outcome.audit_tenant(domain, id),
        None => outcome,
    })
}

/// The templates the caller may see, filtered as CIPP filters them, sorted by name.
///
/// `tenant` narrows the list to one tenant (by any of its names) and, unless `include_all` is
/// false, the templates made for every tenant; `AllTenants` lists only those.
pub async fn list(
    ctx: &Ctx,
    kind: TemplateKind,
    tenant: Option<&str>,
    include_all: bool,
    id: Option<&Guid>,
) -> Result<Vec<TemplateRow>, UserError> {
    let templates = ctx
        .store
        .list_templates(kind, None)
        .await
        .map_err(|e| UserError::internal("Failed to read templates", e))?;
    // A tenant-scoped caller sees its own tenants' templates and the shared ones; templates name
    // their tenant by default domain, roles may name it by id, so compare every name.
    let visible: Vec<String> = ctx
        .visible_tenants()
        .await?
        .into_iter()
        .flat_map(|t| [t.customer_id, t.default_domain_name, t.initial_domain_name])
        .collect();
    // The tenant asked for, by any of its names (an unknown name matches only itself).
    let asked: Option<Vec<String>> = match tenant {
        None => None,
        Some(f) if f.eq_ignore_ascii_case(ALL_TENANTS) => Some(Vec::new()),
        Some(f) => Some(match ctx.env.tenants.find(f).await? {
            Some(t) => vec![t.customer_id, t.default_domain_name, t.initial_domain_name],
            None => vec![f.to_owned()],
        }),
    };
    let named = |names: &[String], name: &str| names.iter().any(|n| n.eq_ignore_ascii_case(name));
    let mut rows: Vec<(String, TemplateRow)> = templates
        .into_iter()
        .filter(|t| {
            let all = t.tenant.eq_ignore_ascii_case(ALL_TENANTS);
            (all || named(&visible, &t.tenant))
                && match &asked {
                    None => true,
                    Some(names) if names.is_empty() => all,
                    Some(names) => named(names, &t.tenant) || (all && include_all),
                }
        })
        .filter(|t| id.is_none_or(|id| t.id.to_string().eq_ignore_ascii_case(id.as_str())))
        .map(|t| (sort_key(&t), row(t)))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

fn sort_key(template: &Template) -> String {
    template
        .body
        .get("templateName")
        .and_then(Value::as_str)
        .unwrap_or(&template.name)
        .to_lowercase()
}

/// The stored JSON with the template's id as `GUID` and `RowKey`, as CIPP returns it.
fn row(template: Template) -> TemplateRow {
    let mut body = match template.body {
        Value::Object(fields) => fields,
        other => Map::from_iter([("value".to_owned(), other)]),
    };
    body.insert("GUID".into(), json!(template.id.to_string()));
    body.insert("RowKey".into(), json!(template.id.to_string()));
    if !body.contains_key("tenantFilter") {
        body.insert("tenantFilter".into(), json!(template.tenant));
    }
    body
}

/// The schema of a template row: CIPP's fields named, the form's other fields kept as saved.
pub fn row_schema(description: &str, fields: &[(&str, Type, &str)]) -> RefOr<Schema> {
    let text = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description.to_owned()))
    };
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .property("GUID", text("The template's id."))
        .property("RowKey", text("The template's id."))
        .property(
            "tenantFilter",
            text("The tenant's default domain, or `AllTenants`."),
        )
        .property("templateName", text("The template's name."))
        .property(
            "defaultForTenant",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("Whether the form preselects it for its tenant.")),
        );
    // A saved form keeps what was sent, and a field left empty is saved as null.
    for (name, schema_type, description) in fields {
        object = object.property(
            *name,
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    schema_type.clone(),
                    Type::Null,
                ]))
                .description(Some(description.to_owned())),
        );
    }
    object
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .into()
}

/// `create` a new user or `select` an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum JitAdminUserAction {
    #[serde(rename = "create")]
    Create,
    #[serde(rename = "select")]
    Select,
}

impl JitAdminUserAction {
    fn as_str(self) -> &'static str {
        match self {
            JitAdminUserAction::Create => "create",
            JitAdminUserAction::Select => "select",
        }
    }
}

/// What `AddJITAdminTemplate` and `EditJITAdminTemplate` save.
pub struct JitTemplateInput {
    pub name: String,
    pub default_for_tenant: bool,
    pub default_roles: Option<Value>,
    pub default_groups: Option<Value>,
    pub default_duration: Option<Value>,
    pub default_expire_action: Option<Value>,
    pub default_notification_actions: Option<Value>,
    pub reason_template: Option<String>,
    pub default_use_roles: bool,
    pub default_use_groups: bool,
    pub generate_tap_by_default: bool,
    pub default_user_action: Option<JitAdminUserAction>,
    pub default_existing_user: Option<Value>,
    pub default_first_name: Option<String>,
    pub default_last_name: Option<String>,
    pub default_user_name: Option<String>,
    pub default_usage_location: Option<String>,
    pub default_domain: Option<Value>,
}

/// Who made the template and when; Edit keeps the creator and adds the modifier.
pub struct Stamp {
    pub created_by: Value,
    pub created_date: Value,
    /// The modifier, for an edit.
    pub modified_by: Option<String>,
}

/// Saves a JIT admin template under `id` for `tenant`: 400 for `select` with AllTenants and
/// 409 for a name the tenant already has, both before anything is written; one default per
/// tenant, so the others give up the flag.
pub async fn save_jit(
    ctx: &Ctx,
    id: Uuid,
    tenant: &str,
    input: JitTemplateInput,
    stamp: Stamp,
    failed: &'static str,
) -> Result<(), UserError> {
    let kind = TemplateKind::JitAdmin;
    let action = input.default_user_action;
    if tenant == ALL_TENANTS && action == Some(JitAdminUserAction::Select) {
        return Err(UserError::invalid(
            "defaultUserAction",
            format!(
                "{failed}: defaultUserAction cannot be \"select\" when tenantFilter is \"AllTenants\""
            ),
        ));
    }
    let name = input.name;
    let others: Vec<Template> = ctx
        .store
        .list_templates(kind, None)
        .await
        .map_err(|e| UserError::internal(failed, e))?
        .into_iter()
        .filter(|t| t.id != id && t.tenant.eq_ignore_ascii_case(tenant))
        .collect();
    // PowerShell's -eq: names compare without regard to case.
    if others.iter().any(|t| t.name.eq_ignore_ascii_case(&name)) {
        return Err(UserError::Conflict {
            message: format!(
                "{failed}: A template with name '{name}' already exists for tenant '{tenant}'"
            ),
        });
    }
    if input.default_for_tenant {
        for mut other in others {
            if other.body.get("defaultForTenant") == Some(&Value::Bool(true))
                && let Value::Object(fields) = &mut other.body
            {
                fields.insert("defaultForTenant".into(), Value::Bool(false));
                ctx.store
                    .put_template(kind, &other)
                    .await
                    .map_err(|e| UserError::internal(failed, e))?;
            }
        }
    }
    let sent = |value: Option<Value>| value.unwrap_or(Value::Null);
    let mut body = Map::new();
    body.insert("tenantFilter".into(), json!(tenant));
    body.insert("templateName".into(), json!(name));
    body.insert("defaultForTenant".into(), json!(input.default_for_tenant));
    body.insert("defaultRoles".into(), sent(input.default_roles));
    body.insert("defaultGroups".into(), sent(input.default_groups));
    body.insert("defaultDuration".into(), sent(input.default_duration));
    body.insert(
        "defaultExpireAction".into(),
        sent(input.default_expire_action),
    );
    body.insert(
        "defaultNotificationActions".into(),
        sent(input.default_notification_actions),
    );
    body.insert(
        "reasonTemplate".into(),
        input.reason_template.map_or(Value::Null, Value::String),
    );
    body.insert("defaultUseRoles".into(), json!(input.default_use_roles));
    body.insert("defaultUseGroups".into(), json!(input.default_use_groups));
    body.insert(
        "generateTAPByDefault".into(),
        json!(input.generate_tap_by_default),
    );
    body.insert("createdBy".into(), stamp.created_by);
    body.insert("createdDate".into(), stamp.created_date);
    if let Some(modified_by) = stamp.modified_by {
        body.insert("modifiedBy".into(), json!(modified_by));
        body.insert("modifiedDate".into(), json!(now()));
    }
    if let Some(action) = action {
        body.insert("defaultUserAction".into(), json!(action.as_str()));
    }
    if action == Some(JitAdminUserAction::Select)
        && let Some(user) = input.default_existing_user.filter(ps_truthy)
    {
        body.insert("defaultExistingUser".into(), user);
    }
    if action == Some(JitAdminUserAction::Create) {
        for (key, value) in [
            ("defaultFirstName", input.default_first_name),
            ("defaultLastName", input.default_last_name),
            ("defaultUserName", input.default_user_name),
            ("defaultUsageLocation", input.default_usage_location),
        ] {
            if let Some(value) = value {
                body.insert(key.into(), Value::String(value));
            }
        }
        // A domain belongs to one tenant, so AllTenants templates never carry one.
        let keep = |domain: &Value| match domain {
            Value::String(s) => !s.trim().is_empty(),
            other => ps_truthy(other),
        };
        if tenant != ALL_TENANTS
            && let Some(domain) = input.default_domain.filter(keep)
        {
            body.insert("defaultDomain".into(), domain);
        }
    }
    let template = Template {
        id,
        tenant: tenant.to_owned(),
        name,
        body: Value::Object(body),
    };
    ctx.store
        .put_template(kind, &template)
        .await
        .map_err(|e| UserError::internal(failed, e))
}

/// UTC `yyyy-MM-ddTHH:mm:ssZ`, as CIPP stamps its templates.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

/// Saves a JIT role template (CIPP's `JITRoleTemplate` rows, kept for every tenant): the name
/// must be unique (any case) among the others and at least one role given.
pub async fn save_role_template(
    ctx: &Ctx,
    id: Uuid,
    name: &str,
    roles: Vec<Value>,
    stamp: Stamp,
    failed: &'static str,
) -> Result<(), UserError> {
    let kind = TemplateKind::JitRole;
    if roles.is_empty() {
        return Err(UserError::invalid(
            "roles",
            format!("{failed}: At least one role is required (roles)"),
        ));
    }
    let taken = ctx
        .store
        .list_templates(kind, None)
        .await
        .map_err(|e| UserError::internal(failed, e))?
        .into_iter()
        .any(|t| t.id != id && t.name.eq_ignore_ascii_case(name));
    if taken {
        return Err(UserError::Conflict {
            message: format!("{failed}: A JIT Role Template with name '{name}' already exists"),
        });
    }
    let mut body = json!({
        "templateName": name,
        "roles": roles,
        "createdBy": stamp.created_by,
        "createdDate": stamp.created_date,
    });
    if let Some(modified_by) = stamp.modified_by {
        body["modifiedBy"] = json!(modified_by);
        body["modifiedDate"] = json!(now());
    }
    let template = Template {
        id,
        tenant: ALL_TENANTS.to_owned(),
        name: name.to_owned(),
        body,
    };
    ctx.store
        .put_template(kind, &template)
        .await
        .map_err(|e| UserError::internal(failed, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_read_with_powershells_bool_cast() {
        let read = |value: Value| serde_json::from_value::<TemplateFlag>(value).unwrap().0;
        assert!(read(json!("false")));
        assert!(read(json!(true)));
        assert!(read(json!({"label": "x"})));
        assert!(!read(json!("")));
        assert!(!read(json!(0)));
        assert!(!read(json!([])));
        assert!(!read(Value::Null));
    }
}
