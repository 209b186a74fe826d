//! Writes to a user's relationships: group membership (`POST groups/{id}/members/$ref`,
//! `DELETE groups/{id}/members/{user}/$ref`) and the manager (`PUT|DELETE users/{id}/manager/$ref`).
//! Licences (`assignLicense`) are `assignments.rs`'s.
//!
//! Graph's rules kept here: mail-enabled security groups and distribution lists are owned by
//! Exchange and refuse Graph membership writes; groups synced from AD and dynamic groups refuse
//! them too; adding an existing member or removing a non-member is an error; a synced user's
//! manager is owned by AD.

use actix_web::HttpResponse;
use serde_json::Value;

use super::{Ctx, GraphError};
use crate::seed_reads::Group;
use crate::state::UserStore;
use crate::user::User;

type Answer = Result<HttpResponse, GraphError>;

const SYNCED_REFUSAL: &str = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.";

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("POST", ["groups", gid, "members", "$ref"]) => add_member(ctx, gid),
        ("DELETE", ["groups", gid, "members", uid, "$ref"]) => remove_member(ctx, gid, uid),
        ("PUT", ["users", key, "manager", "$ref"]) => set_manager(ctx, key),
        ("DELETE", ["users", key, "manager", "$ref"]) => remove_manager(ctx, key),
        _ => return None,
    };
    Some(answer)
}

fn no_content() -> Answer {
    Ok(HttpResponse::NoContent().finish())
}

/// A live user by object id or UPN, with Graph's errors.
fn find<'s>(store: &'s UserStore, key: &str) -> Result<&'s User, GraphError> {
    let is_guid = uuid::Uuid::parse_str(key).is_ok() && key.len() == 36;
    if !is_guid && !key.contains('@') {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("Invalid object identifier '{key}'."),
        ));
    }
    store.get(key).ok_or_else(|| GraphError::not_found(key))
}

/// The object an `{"@odata.id": ".../directoryObjects/{id}"}` body points at (the last segment;
/// `users/{upn}` works too, as in Graph).
pub(super) fn referenced(ctx: &Ctx<'_>) -> Result<String, GraphError> {
    let body = ctx.json_body()?;
    let link = body
        .get("@odata.id")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            GraphError::bad_request(
                "Request_BadRequest",
                "The request body must contain an @odata.id reference.",
            )
        })?;
    let last = link.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(last)
        .decode_utf8_lossy()
        .into_owned();
    // `users('{id}')` names the object by key, as `users/{id}` does.
    let decoded = match decoded.split_once("('") {
        Some((_, key)) if decoded.ends_with("')") => key.trim_end_matches("')").to_owned(),
        _ => decoded,
    };
    if decoded.is_empty() {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("Invalid object identifier '{link}'."),
        ));
    }
    Ok(decoded)
}

/// Why Graph refuses membership writes to this group, if it does.
pub(super) fn membership_refusal(group: &Group) -> Option<GraphError> {
    let v = &group.value;
    let flag = |name: &str| v.get(name).and_then(Value::as_bool) == Some(true);
    let types: Vec<&str> = v
        .get("groupTypes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if flag("onPremisesSyncEnabled") {
        return Some(GraphError::bad_request(
            "Request_BadRequest",
            SYNCED_REFUSAL,
        ));
    }
    if types
        .iter()
        .any(|t| t.eq_ignore_ascii_case("DynamicMembership"))
    {
        return Some(GraphError::bad_request(
            "Request_BadRequest",
            "Insufficient privileges to complete the operation.",
        ));
    }
    let unified = types.iter().any(|t| t.eq_ignore_ascii_case("Unified"));
    if flag("mailEnabled") && !unified {
        return Some(GraphError::bad_request(
            "Request_BadRequest",
            "Cannot Update a mail-enabled security groups and or distribution list.",
        ));
    }
    None
}

fn add_member(ctx: &Ctx<'_>, gid: &str) -> Answer {
    let member = referenced(ctx)?;
    let store = ctx.tenant.users.read();
    let user_id = find(&store, &member)?.id().to_owned();
    drop(store);
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let mut r = data.write();
    let group = r
        .groups
        .iter_mut()
        .find(|g| g.id().eq_ignore_ascii_case(gid))
        .ok_or_else(|| GraphError::not_found(gid))?;
    if let Some(refusal) = membership_refusal(group) {
        return Err(refusal);
    }
    if group.members.iter().any(|m| m == &user_id) {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'members'.",
        ));
    }
    group.members.push(user_id);
    no_content()
}

fn remove_member(ctx: &Ctx<'_>, gid: &str, uid: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let user_id = store.get(uid).map(|u| u.id().to_owned());
    drop(store);
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let mut r = data.write();
    let group = r
        .groups
        .iter_mut()
        .find(|g| g.id().eq_ignore_ascii_case(gid))
        .ok_or_else(|| GraphError::not_found(gid))?;
    if let Some(refusal) = membership_refusal(group) {
        return Err(refusal);
    }
    let id = user_id.ok_or_else(|| GraphError::not_found(uid))?;
    let before = group.members.len();
    group.members.retain(|m| m != &id);
    if group.members.len() == before {
        return Err(GraphError::not_found(uid));
    }
    no_content()
}

fn set_manager(ctx: &Ctx<'_>, key: &str) -> Answer {
    let target = referenced(ctx)?;
    let mut store = ctx.tenant.users.write();
    let user = find(&store, key)?;
    let (user_id, synced) = (user.id().to_owned(), user.is_synced());
    let manager_id = store
        .get(&target)
        .map(|m| m.id().to_owned())
        .ok_or_else(|| GraphError::not_found(&target))?;
    if synced {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            SYNCED_REFUSAL,
        ));
    }
    if manager_id == user_id {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "The manager of a user cannot be the user itself.",
        ));
    }
    let seq = store
        .find_seq(&user_id)
        .ok_or_else(|| GraphError::not_found(key))?;
    if let Some(user) = store.get_mut(seq) {
        user.manager = Some(manager_id);
    }
    no_content()
}

fn remove_manager(ctx: &Ctx<'_>, key: &str) -> Answer {
    let mut store = ctx.tenant.users.write();
    let user = find(&store, key)?;
    if user.is_synced() {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            SYNCED_REFUSAL,
        ));
    }
    let user_id = user.id().to_owned();
    let seq = store
        .find_seq(&user_id)
        .ok_or_else(|| GraphError::not_found(key))?;
    match store.get_mut(seq) {
        Some(user) if user.manager.is_some() => {
            user.manager = None;
            no_content()
        }
        _ => Err(GraphError::not_found("manager")),
    }
}
