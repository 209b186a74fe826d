//! Template writes, kept in the store (CIPP-API `Invoke-AddUserDefaults.ps1`,
//! `Invoke-RemoveUserDefaultTemplate.ps1`, `Invoke-AddJITAdminTemplate.ps1`,
//! `Invoke-EditJITAdminTemplate.ps1`, `Invoke-RemoveJITAdminTemplate.ps1`). They read back
//! through `ListNewUserDefaults` and `ListJITAdminTemplates` with CIPP's field names.
//!
//! Deliberate differences:
//! - A missing or blank `tenantFilter`/`templateName`/`GUID`/`ID`, a value that is not a GUID,
//!   or an unknown tenant is a 400 naming the field (CIPP: 500; AddUserDefaults checks nothing).
//! - The stored `tenantFilter` is the tenant's default domain (or `AllTenants`), whichever name
//!   the caller used, so the template lists under the name the frontend filters by.
//! - Tenant scope: a custom role writes, edits and removes only templates of its own tenants,
//!   and `AllTenants` templates only when it may target AllTenants (CIPP checks only the
//!   `tenantFilter` sent, and Remove nothing).
//! - An unknown `GUID` in AddUserDefaults or EditJITAdminTemplate is a 404 (CIPP: AddUserDefaults
//!   creates it and says "Updated"; Edit answers 500).
//! - A duplicate JIT template name is a 409 and `defaultUserAction: select` with AllTenants a 400,
//!   both checked before anything is written (CIPP: 500, after already clearing the other
//!   templates' `defaultForTenant`).
//! - `createdBy`/`modifiedBy` name the caller from its token (CIPP decodes Static Web Apps'
//!   `x-ms-client-principal` header and fails without it).

use actix_web::http::StatusCode;
use cipp_store::{StoreError, Template, TemplateKind};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde_json::{Map, Value, json};
use time::macros::format_description;
use uuid::Uuid;

use super::{Context, Reply, TargetTenant};
use crate::auth::roles::DENIED_TENANT;
use crate::error::ApiError;

const ALL_TENANTS: &str = "AllTenants";

pub fn add_user_defaults(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        const FAILED: &str = "Failed to create User Default Template";
        let kind = TemplateKind::NewUserDefaults;
        let tenant = template_tenant(&ctx).await?;
        let name = ctx.params.required("templateName")?;
        // A GUID means "save over this template"; it must exist and be the caller's to change.
        let existing = match ctx.params.string("GUID") {
            Some(guid) => {
                let id = parse_guid("GUID", &guid)?;
                let found = find(&ctx, kind, id, FAILED).await?.ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!("User Default Template with GUID {guid} not found"),
                    )
                })?;
                authorize_existing(&ctx, &found.tenant).await?;
                Some(found)
            }
            None => None,
        };
        let body = user_defaults_body(&ctx, &tenant, &name);
        let id = existing.as_ref().map_or_else(Uuid::new_v4, |t| t.id);
        let template = Template {
            id,
            tenant,
            name: name.clone(),
            body,
        };
        ctx.state
            .store
            .put_template(kind, &template)
            .await
            .map_err(store_failed(FAILED))?;
        let action = if existing.is_some() {
            "Updated"
        } else {
            "Created"
        };
        Ok(Reply::results(format!(
            "{action} User Default Template '{name}' with GUID {id}"
        )))
    }
    .boxed_local()
}

pub fn remove_user_default_template(
    ctx: Context,
) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    remove(
        ctx,
        TemplateKind::NewUserDefaults,
        "User Default Template",
        "Failed to delete User Default Template",
    )
    .boxed_local()
}

pub fn add_jit_admin_template(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        const FAILED: &str = "Failed to create JIT Admin Template";
        let tenant = template_tenant(&ctx).await?;
        let name = ctx.params.required("templateName")?;
        let id = Uuid::new_v4();
        let stamp = Stamp {
            created_by: Value::String(ctx.caller.actor()),
            created_date: Value::String(now()),
            modified: false,
        };
        save_jit(&ctx, id, &tenant, &name, stamp, FAILED).await?;
        Ok(Reply::results(format!(
            "Created JIT Admin Template '{name}' with GUID {id}"
        )))
    }
    .boxed_local()
}

pub fn edit_jit_admin_template(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        const FAILED: &str = "Failed to update JIT Admin Template";
        // CIPP checks GUID first, then tenantFilter, then templateName.
        let guid = ctx.params.required("GUID")?;
        let id = parse_guid("GUID", &guid)?;
        let tenant = template_tenant(&ctx).await?;
        let name = ctx.params.required("templateName")?;
        let existing = find(&ctx, TemplateKind::JitAdmin, id, FAILED)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("Template with GUID '{guid}' not found"),
                )
            })?;
        authorize_existing(&ctx, &existing.tenant).await?;
        let stamp = Stamp {
            created_by: existing
                .body
                .get("createdBy")
                .cloned()
                .unwrap_or(Value::Null),
            created_date: existing
                .body
                .get("createdDate")
                .cloned()
                .unwrap_or(Value::Null),
            modified: true,
        };
        save_jit(&ctx, id, &tenant, &name, stamp, FAILED).await?;
        Ok(Reply::results(format!(
            "Updated JIT Admin Template '{name}' (GUID: {id})"
        )))
    }
    .boxed_local()
}

pub fn remove_jit_admin_template(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    remove(
        ctx,
        TemplateKind::JitAdmin,
        "JIT Admin Template",
        "Failed to delete JIT Admin Template",
    )
    .boxed_local()
}

/// Who made the template and when; Edit keeps the creator and adds the modifier.
struct Stamp {
    created_by: Value,
    created_date: Value,
    modified: bool,
}

async fn save_jit(
    ctx: &Context,
    id: Uuid,
    tenant: &str,
    name: &str,
    stamp: Stamp,
    failed: &'static str,
) -> Result<(), ApiError> {
    let kind = TemplateKind::JitAdmin;
    let action = ctx.params.string("defaultUserAction");
    let is = |wanted: &str| {
        action
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(wanted))
    };
    if tenant == ALL_TENANTS && is("select") {
        return Err(ApiError::bad_request(format!(
            "{failed}: defaultUserAction cannot be \"select\" when tenantFilter is \"AllTenants\""
        )));
    }
    let store = &ctx.state.store;
    let others: Vec<Template> = store
        .list_templates(kind, None)
        .await
        .map_err(store_failed(failed))?
        .into_iter()
        .filter(|t| t.id != id && t.tenant.eq_ignore_ascii_case(tenant))
        .collect();
    // PowerShell's -eq: names compare without regard to case.
    if others.iter().any(|t| t.name.eq_ignore_ascii_case(name)) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{failed}: A template with name '{name}' already exists for tenant '{tenant}'"),
        ));
    }
    let default_for_tenant = ps_truthy(&raw(ctx, "defaultForTenant"));
    if default_for_tenant {
        // One default per tenant: the others give up the flag.
        for mut other in others {
            if other.body.get("defaultForTenant") == Some(&Value::Bool(true))
                && let Value::Object(fields) = &mut other.body
            {
                fields.insert("defaultForTenant".into(), Value::Bool(false));
                store
                    .put_template(kind, &other)
                    .await
                    .map_err(store_failed(failed))?;
            }
        }
    }
    let mut body = Map::new();
    body.insert("tenantFilter".into(), json!(tenant));
    body.insert("templateName".into(), json!(name));
    body.insert("defaultForTenant".into(), json!(default_for_tenant));
    for key in [
        "defaultRoles",
        "defaultGroups",
        "defaultDuration",
        "defaultExpireAction",
        "defaultNotificationActions",
        "reasonTemplate",
    ] {
        body.insert(key.into(), raw(ctx, key));
    }
    for key in [
        "defaultUseRoles",
        "defaultUseGroups",
        "generateTAPByDefault",
    ] {
        body.insert(key.into(), json!(ps_truthy(&raw(ctx, key))));
    }
    body.insert("createdBy".into(), stamp.created_by);
    body.insert("createdDate".into(), stamp.created_date);
    if stamp.modified {
        body.insert("modifiedBy".into(), json!(ctx.caller.actor()));
        body.insert("modifiedDate".into(), json!(now()));
    }
    if action.is_some() {
        body.insert("defaultUserAction".into(), raw(ctx, "defaultUserAction"));
    }
    if is("select") && ps_truthy(&raw(ctx, "defaultExistingUser")) {
        body.insert(
            "defaultExistingUser".into(),
            raw(ctx, "defaultExistingUser"),
        );
    }
    if is("create") {
        for key in ["defaultFirstName", "defaultLastName", "defaultUserName"] {
            if ctx.params.string(key).is_some() {
                body.insert(key.into(), raw(ctx, key));
            }
        }
        if let Some(location) = ctx.params.string("defaultUsageLocation") {
            body.insert("defaultUsageLocation".into(), json!(location));
        }
        // A domain belongs to one tenant, so AllTenants templates never carry one.
        let domain = raw(ctx, "defaultDomain");
        let keep = match &domain {
            Value::String(s) => !s.trim().is_empty(),
            other => ps_truthy(other),
        };
        if tenant != ALL_TENANTS && keep {
            body.insert("defaultDomain".into(), domain);
        }
    }
    let template = Template {
        id,
        tenant: tenant.to_owned(),
        name: name.to_owned(),
        body: Value::Object(body),
    };
    store
        .put_template(kind, &template)
        .await
        .map_err(store_failed(failed))
}

async fn remove(
    ctx: Context,
    kind: TemplateKind,
    label: &'static str,
    failed: &'static str,
) -> Result<Reply, ApiError> {
    let given = ctx.params.required("ID")?;
    let id = parse_guid("ID", &given)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{label} with ID {given} not found"),
        )
    };
    let template = find(&ctx, kind, id, failed).await?.ok_or_else(not_found)?;
    authorize_existing(&ctx, &template.tenant).await?;
    let deleted = ctx
        .state
        .store
        .delete_template(kind, id)
        .await
        .map_err(store_failed(failed))?;
    if !deleted {
        return Err(not_found());
    }
    Ok(Reply::results(format!(
        "Successfully deleted {label} with ID: {given}"
    )))
}

/// The tenant a new or edited template is for, as stored: 400 when `tenantFilter` is missing or
/// names no managed tenant, 403 outside the caller's tenants (and for `AllTenants` unless the
/// caller may target it).
async fn template_tenant(ctx: &Context) -> Result<String, ApiError> {
    Ok(match ctx.target_tenant().await? {
        TargetTenant::All => ALL_TENANTS.to_owned(),
        TargetTenant::One(tenant) => tenant.default_domain_name,
    })
}

/// Whether the caller may change a stored template of `tenant`; 403 otherwise.
async fn authorize_existing(ctx: &Context, tenant: &str) -> Result<(), ApiError> {
    let permitted = if tenant.eq_ignore_ascii_case(ALL_TENANTS) {
        let permission = ctx.spec.role.as_deref().unwrap_or_default();
        ctx.caller.roles.may_target_all_tenants(permission)
    } else {
        let scope = ctx.scope();
        // An unreadable tenant list leaves only the stored name to match: fail closed.
        match ctx.state.env.tenants.find(tenant).await.ok().flatten() {
            Some(t) => {
                ctx.audit.borrow_mut().tenant =
                    Some((t.default_domain_name.clone(), t.customer_id.clone()));
                scope.permits(&[
                    &t.customer_id,
                    &t.default_domain_name,
                    &t.initial_domain_name,
                ])
            }
            None => scope.permits(&[tenant]),
        }
    };
    if permitted {
        Ok(())
    } else {
        Err(ApiError::forbidden(DENIED_TENANT))
    }
}

async fn find(
    ctx: &Context,
    kind: TemplateKind,
    id: Uuid,
    failed: &'static str,
) -> Result<Option<Template>, ApiError> {
    Ok(ctx
        .state
        .store
        .list_templates(kind, None)
        .await
        .map_err(store_failed(failed))?
        .into_iter()
        .find(|t| t.id == id))
}

/// The fields CIPP's AddUserDefaults keeps, under its names; absent ones are null as there.
fn user_defaults_body(ctx: &Context, tenant: &str, name: &str) -> Value {
    const AS_SENT: &[&str] = &[
        "givenName",
        "surname",
        "displayName",
        "usernameSpaceReplacement",
        "addedAliases",
        "Autopassword",
        "password",
        "MustChangePass",
        "licenses",
        "removeLicenses",
        "jobTitle",
        "streetAddress",
        "city",
        "state",
        "postalCode",
        "country",
        "companyName",
        "department",
        "mobilePhone",
        "otherMails",
        "setManager",
        "setSponsor",
        "copyFrom",
        "sharedCalendars",
        "sharedMailboxes",
        "sharedMailboxPermission",
    ];
    // Autocomplete fields: a `{label, value}` object is kept as its value.
    const VALUE_OF: &[&str] = &[
        "usernameFormat",
        "usernameSpaceHandling",
        "primDomain",
        "usageLocation",
        "sharedCalendarPermission",
    ];
    let mut body = Map::new();
    body.insert("tenantFilter".into(), json!(tenant));
    body.insert("templateName".into(), json!(name));
    body.insert(
        "defaultForTenant".into(),
        json!(ps_truthy(&raw(ctx, "defaultForTenant"))),
    );
    for key in AS_SENT {
        body.insert((*key).into(), raw(ctx, key));
    }
    for key in VALUE_OF {
        let value = match raw(ctx, key) {
            Value::Object(fields) => fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null),
            text @ Value::String(_) => text,
            _ => Value::Null,
        };
        body.insert((*key).into(), value);
    }
    // The form may send the first phone as `businessPhones[0]`; blanks go, always an array.
    let phones = match raw(ctx, "businessPhones") {
        Value::Null => raw(ctx, "businessPhones[0]"),
        sent => sent,
    };
    let phones: Vec<Value> = match phones {
        Value::Array(items) => items.into_iter().filter(|v| !blank(v)).collect(),
        one if !blank(&one) => vec![one],
        _ => Vec::new(),
    };
    body.insert("businessPhones".into(), Value::Array(phones));
    let groups = match raw(ctx, "addToGroups") {
        sent if ps_truthy(&sent) => sent,
        _ => raw(ctx, "groupMemberships"),
    };
    body.insert("groupMemberships".into(), groups);
    Value::Object(body)
}

fn raw(ctx: &Context, key: &str) -> Value {
    ctx.params.raw(key).unwrap_or(Value::Null)
}

fn blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// PowerShell's `[bool]` cast, which CIPP applies to its flags (`"false"` is true).
fn ps_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::Array(items) => !items.is_empty(),
        Value::Object(_) => true,
    }
}

fn parse_guid(field: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value.trim())
        .map_err(|_| ApiError::bad_request(format!("{field}: '{value}' is not a GUID")))
}

/// UTC `yyyy-MM-ddTHH:mm:ssZ`, as CIPP stamps its templates.
fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

fn store_failed(prefix: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{prefix}: {error}"),
        )
    }
}
