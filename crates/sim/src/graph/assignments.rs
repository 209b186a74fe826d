//! Licence, role and photo writes: `assignLicense` (with Graph's errors for an unknown SKU, a
//! SKU with no seats left and a user without `usageLocation`), `reprocessLicenseAssignment`,
//! removing a directory-role member (`…/members/{id}/$ref`, by role id or
//! `directoryRoles(roleTemplateId='…')`) or a role assignment, and setting (`PUT`) or removing
//! a user's photo.
//!
//! Seats: a tenant's purchased units per SKU are fixed the first time they are needed (a
//! `subscribedSkus` read or an assignment), from the holders at that moment, so assigning
//! licences uses them up. Roles and photos live in `seed_reads::TenantReads`, so the read routes
//! see every change made here.

use std::collections::HashMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use parking_lot::Mutex;
use serde_json::{Map, Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::seed_reads::{Photo, TenantReads};
use crate::state::UserStore;
use crate::user::{User, prop_index};

type Answer = Result<HttpResponse, GraphError>;

/// Graph's limit for a profile photo.
const MAX_PHOTO_BYTES: usize = 4 * 1024 * 1024;

/// Purchased units per tenant id and SKU id (lower case).
#[derive(Default)]
pub(crate) struct LicenceState {
    tenants: Mutex<HashMap<String, HashMap<String, usize>>>,
}

impl LicenceState {
    /// The enabled units of a SKU: fixed on first use from the number of holders then.
    pub fn enabled(&self, tenant: &str, sku: &str, holders: usize) -> usize {
        *self
            .tenants
            .lock()
            .entry(tenant.to_owned())
            .or_default()
            .entry(sku.to_ascii_lowercase())
            .or_insert(holders + holders / 10 + 5)
    }

    fn known(&self, tenant: &str, sku: &str) -> bool {
        self.tenants
            .lock()
            .get(tenant)
            .is_some_and(|skus| skus.contains_key(&sku.to_ascii_lowercase()))
    }
}

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("POST", ["users", key, "assignLicense"]) => assign_license(ctx, key),
        ("POST", ["users", key, "reprocessLicenseAssignment"]) => reprocess(ctx, key),
        ("DELETE", ["directoryRoles", role, "members", member, "$ref"]) => {
            remove_role_member(ctx, role, member)
        }
        ("DELETE", [role, "members", member, "$ref"]) => {
            let template = role
                .strip_prefix("directoryRoles(roleTemplateId='")?
                .strip_suffix("')")?;
            remove_role_member(ctx, &format!("roleTemplateId={template}"), member)
        }
        ("POST", ["directoryRoles"]) => activate_role(ctx),
        ("POST", ["directoryRoles", role, "members", "$ref"]) => add_role_member(ctx, role),
        ("POST", [role, "members", "$ref"]) => {
            let template = role
                .strip_prefix("directoryRoles(roleTemplateId='")?
                .strip_suffix("')")?;
            add_role_member(ctx, &format!("roleTemplateId={template}"))
        }
        ("DELETE", ["roleManagement", "directory", "roleAssignments", id]) => {
            remove_assignment(ctx, id)
        }
        ("PUT", ["users", key, "photo", "$value"]) => set_photo(ctx, key),
        ("DELETE", ["users", key, "photo", "$value"]) => remove_photo(ctx, key),
        _ => return None,
    };
    Some(answer)
}

fn reads(ctx: &Ctx<'_>) -> std::sync::Arc<parking_lot::RwLock<TenantReads>> {
    ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant)
}

/// A live user's sequence number by object id or UPN, with Graph's errors.
fn locate(store: &UserStore, key: &str) -> Result<u64, GraphError> {
    let is_guid = uuid::Uuid::parse_str(key).is_ok() && key.len() == 36;
    if !is_guid && !key.contains('@') {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("Invalid object identifier '{key}'."),
        ));
    }
    store
        .find_seq(key)
        .ok_or_else(|| GraphError::not_found(key))
}

fn licences_of(user: &User) -> Vec<Value> {
    prop_index("assignedLicenses")
        .and_then(|i| user.get(i).as_array().cloned())
        .unwrap_or_default()
}

fn sku_of(licence: &Value) -> &str {
    licence.get("skuId").and_then(Value::as_str).unwrap_or("")
}

fn user_entity(ctx: &Ctx<'_>, user: &User) -> Value {
    let mut obj = Map::new();
    obj.insert("@odata.context".into(), json!(ctx.context("users/$entity")));
    obj.extend(user.render(None, ctx.beta()));
    Value::Object(obj)
}

fn missing_parameter(name: &str) -> GraphError {
    GraphError::bad_request(
        "Request_BadRequest",
        format!(
            "One or more parameters of the function import 'assignLicense' are missing from the request payload. The missing parameters are: {name}."
        ),
    )
}

/// `POST users/{id}/assignLicense`: removes, then adds; 200 with the user.
fn assign_license(ctx: &Ctx<'_>, key: &str) -> Answer {
    let body = ctx.json_body()?;
    let adds = body
        .get("addLicenses")
        .and_then(Value::as_array)
        .ok_or_else(|| missing_parameter("addLicenses"))?;
    let removes = body
        .get("removeLicenses")
        .and_then(Value::as_array)
        .ok_or_else(|| missing_parameter("removeLicenses"))?;
    let mut add_skus = Vec::new();
    for item in adds {
        let sku = item.get("skuId").and_then(Value::as_str).unwrap_or("");
        if uuid::Uuid::parse_str(sku).is_err() {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "Invalid value specified for property 'skuId' of resource 'AssignedLicense': '{sku}'."
                ),
            ));
        }
        let disabled = item.get("disabledPlans").cloned().unwrap_or(json!([]));
        add_skus.push((sku.to_ascii_lowercase(), disabled));
    }
    let mut remove_skus = Vec::new();
    for item in removes {
        let sku = item.as_str().unwrap_or("");
        if uuid::Uuid::parse_str(sku).is_err() {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!("Invalid value specified for property 'removeLicenses': '{sku}'."),
            ));
        }
        remove_skus.push(sku.to_ascii_lowercase());
    }

    let mut store = ctx.tenant.users.write();
    let seq = locate(&store, key)?;
    let mut holders: HashMap<String, usize> = HashMap::new();
    for (_, user) in store.iter_after(None) {
        for licence in licences_of(user) {
            *holders
                .entry(sku_of(&licence).to_ascii_lowercase())
                .or_default() += 1;
        }
    }
    let user = store
        .live
        .get(&seq)
        .ok_or_else(|| GraphError::not_found(key))?;
    let mut current = licences_of(user);
    let held = |list: &[Value], sku: &str| list.iter().any(|l| sku_of(l).eq_ignore_ascii_case(sku));
    for sku in &remove_skus {
        if !held(&current, sku) {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                "User does not have a corresponding license.",
            ));
        }
    }
    let tenant_id = &ctx.tenant.id;
    for (sku, _) in &add_skus {
        let count = holders.get(sku).copied().unwrap_or(0);
        if count == 0 && !ctx.sim.licences.known(tenant_id, sku) {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!("License {sku} does not correspond to a valid company License."),
            ));
        }
    }
    let usage = prop_index("usageLocation")
        .and_then(|i| user.get(i).as_str())
        .unwrap_or("");
    if !add_skus.is_empty() && usage.trim().is_empty() {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "License assignment cannot be done for user with invalid usage location.",
        ));
    }
    for (sku, _) in &add_skus {
        let count = holders.get(sku).copied().unwrap_or(0);
        let enabled = ctx.sim.licences.enabled(tenant_id, sku, count);
        if !held(&current, sku) && count >= enabled {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!("Subscription with SKU {sku} does not have any available licenses."),
            ));
        }
    }
    current.retain(|l| {
        !remove_skus
            .iter()
            .any(|r| sku_of(l).eq_ignore_ascii_case(r))
    });
    for (sku, disabled) in add_skus {
        current.retain(|l| !sku_of(l).eq_ignore_ascii_case(&sku));
        current.push(json!({"disabledPlans": disabled, "skuId": sku}));
    }
    let user = store
        .get_mut(seq)
        .ok_or_else(|| GraphError::not_found(key))?;
    user.set_named("assignedLicenses", Value::Array(current));
    Ok(ok_json(StatusCode::OK, &user_entity(ctx, user)))
}

/// `POST users/{id}/reprocessLicenseAssignment`: nothing changes here; 200 with the user.
fn reprocess(ctx: &Ctx<'_>, key: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let seq = locate(&store, key)?;
    let user = store
        .live
        .get(&seq)
        .ok_or_else(|| GraphError::not_found(key))?;
    Ok(ok_json(StatusCode::OK, &user_entity(ctx, user)))
}

/// `DELETE directoryRoles/{role}/members/{id}/$ref`; `role` is an id or `roleTemplateId=…`.
fn remove_role_member(ctx: &Ctx<'_>, role_key: &str, member: &str) -> Answer {
    let data = reads(ctx);
    let mut r = data.write();
    let role = match role_key.split_once('=') {
        Some((_, template)) => r
            .roles
            .iter_mut()
            .find(|role| role.template_id.eq_ignore_ascii_case(template)),
        None => r
            .roles
            .iter_mut()
            .find(|role| role.id.eq_ignore_ascii_case(role_key)),
    }
    .ok_or_else(|| GraphError::not_found(role_key))?;
    let at = role
        .members
        .iter()
        .position(|m| m.eq_ignore_ascii_case(member))
        .ok_or_else(|| GraphError::not_found(member))?;
    role.members.remove(at);
    Ok(HttpResponse::NoContent().finish())
}

/// Role templates a tenant has not activated yet, which `POST directoryRoles` activates:
/// (template id, display name, description).
const INACTIVE_TEMPLATES: [(&str, &str, &str); 4] = [
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
    ),
    (
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "SharePoint Administrator",
        "Can manage all aspects of the SharePoint service.",
    ),
    (
        "69091246-20e8-4a56-aa4d-066075b2a7a8",
        "Teams Administrator",
        "Can manage the Microsoft Teams service.",
    ),
    (
        "b0f54661-2d74-4c50-afa3-1ec803f12efe",
        "Billing Administrator",
        "Can perform common billing related tasks like updating payment information.",
    ),
];

/// `POST directoryRoles {roleTemplateId}`: activates a role from its template. An active role is
/// Graph's conflict error; an unknown template its not-found error.
fn activate_role(ctx: &Ctx<'_>) -> Answer {
    let body = ctx.json_body()?;
    let template = body
        .get("roleTemplateId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let data = reads(ctx);
    let mut r = data.write();
    if r.roles
        .iter()
        .any(|role| role.template_id.eq_ignore_ascii_case(&template))
    {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "A conflicting object with one or more of the specified property values is present in the directory.",
        ));
    }
    let (template_id, display_name, description) = INACTIVE_TEMPLATES
        .iter()
        .find(|(t, _, _)| t.eq_ignore_ascii_case(&template))
        .copied()
        .ok_or_else(|| GraphError::not_found(&template))?;
    let role = crate::seed_reads::Role {
        id: uuid::Uuid::new_v4().to_string(),
        template_id,
        display_name,
        description,
        members: Vec::new(),
    };
    let answer = json!({
        "@odata.context": ctx.context("directoryRoles/$entity"),
        "id": role.id,
        "deletedDateTime": null,
        "description": description,
        "displayName": display_name,
        "roleTemplateId": template_id,
    });
    r.roles.push(role);
    Ok(ok_json(StatusCode::CREATED, &answer))
}

/// `POST directoryRoles/{role}/members/$ref`; `role` is an id or `roleTemplateId=…`. The role
/// must be active; a member already there is Graph's error for a duplicate reference.
fn add_role_member(ctx: &Ctx<'_>, role_key: &str) -> Answer {
    let member = super::relations::referenced(ctx)?;
    let store = ctx.tenant.users.read();
    let seq = locate(&store, &member)?;
    let id = store
        .live
        .get(&seq)
        .map(|u| u.id().to_owned())
        .ok_or_else(|| GraphError::not_found(&member))?;
    drop(store);
    let data = reads(ctx);
    let mut r = data.write();
    let role = match role_key.split_once('=') {
        Some((_, template)) => r
            .roles
            .iter_mut()
            .find(|role| role.template_id.eq_ignore_ascii_case(template)),
        None => r
            .roles
            .iter_mut()
            .find(|role| role.id.eq_ignore_ascii_case(role_key)),
    }
    .ok_or_else(|| GraphError::not_found(role_key))?;
    if role.members.iter().any(|m| m.eq_ignore_ascii_case(&id)) {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'members'.",
        ));
    }
    role.members.push(id);
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE roleManagement/directory/roleAssignments/{id}`; ids are `{templateId}-{principalId}`
/// as the read route writes them.
fn remove_assignment(ctx: &Ctx<'_>, id: &str) -> Answer {
    let (template, principal) = match (id.get(..36), id.get(37..)) {
        (Some(t), Some(p)) if id.as_bytes().get(36) == Some(&b'-') => (t, p),
        _ => return Err(GraphError::not_found(id)),
    };
    let data = reads(ctx);
    let mut r = data.write();
    let role = r
        .roles
        .iter_mut()
        .find(|role| role.template_id.eq_ignore_ascii_case(template))
        .ok_or_else(|| GraphError::not_found(id))?;
    let at = role
        .members
        .iter()
        .position(|m| m.eq_ignore_ascii_case(principal))
        .ok_or_else(|| GraphError::not_found(id))?;
    role.members.remove(at);
    Ok(HttpResponse::NoContent().finish())
}

/// The image type of a photo by its magic bytes; `None` when it is not an image Graph takes.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        Some("image/png")
    } else if bytes.starts_with(b"GIF8") {
        Some("image/gif")
    } else if bytes.starts_with(b"BM") {
        Some("image/bmp")
    } else {
        None
    }
}

/// `PUT users/{id}/photo/$value` with the image bytes: 200 with an empty body, as Graph's doc.
fn set_photo(ctx: &Ctx<'_>, key: &str) -> Answer {
    if ctx.body.len() > MAX_PHOTO_BYTES {
        return Err(GraphError::new(
            413,
            "RequestEntityTooLarge",
            "The photo exceeds the maximum size of 4 MB.",
        ));
    }
    let content_type = image_type(ctx.body).ok_or_else(|| {
        GraphError::bad_request("ImageNotValid", "The image data is not a valid image.")
    })?;
    let store = ctx.tenant.users.read();
    let seq = locate(&store, key)?;
    let user = store
        .live
        .get(&seq)
        .ok_or_else(|| GraphError::not_found(key))?;
    let data = reads(ctx);
    data.write().photos.insert(
        user.id().to_owned(),
        Some(Photo {
            content_type,
            bytes: ctx.body.to_vec(),
        }),
    );
    Ok(HttpResponse::Ok().finish())
}

/// `DELETE users/{id}/photo/$value`: 204, or `ImageNotFound` when there is none.
fn remove_photo(ctx: &Ctx<'_>, key: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let seq = locate(&store, key)?;
    let user = store
        .live
        .get(&seq)
        .ok_or_else(|| GraphError::not_found(key))?;
    let data = reads(ctx);
    let mut r = data.write();
    if r.photo_of(user).is_none() {
        return Err(GraphError::new(
            404,
            "ImageNotFound",
            "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
        ));
    }
    r.photos.insert(user.id().to_owned(), None);
    Ok(HttpResponse::NoContent().finish())
}
