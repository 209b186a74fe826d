//! Group writes and reads beyond `reads.rs`/`relations.rs`, as CIPP's group pages use them:
//! `PATCH groups/{id}` (properties and `members@odata.bind` / `owners@odata.bind`), owners
//! (`GET groups/{id}/owners`, `POST groups/{id}/owners/$ref`,
//! `DELETE groups/{id}/owners/{user}/$ref`), `GET groups?$expand=members|owners(...)` and
//! `POST directoryObjects/getByIds`.
//!
//! Graph's rules kept: Exchange-owned groups (distribution lists, mail-enabled security groups)
//! refuse every Graph write, membership and owners included (they change through Exchange:
//! `exchange::groups`); dynamic groups refuse member writes; an existing link added again and a
//! missing one removed are errors.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::reads::{collection, group_json, select};
use super::relations::{membership_refusal, referenced};
use super::{Ctx, GraphError, ok_json};
use crate::seed_reads::Group;
use crate::state::UserStore;

type Answer = Result<HttpResponse, GraphError>;

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("GET", ["groups"]) if ctx.option("$expand").is_some() => list_expanded(ctx),
        ("PATCH", ["groups", gid]) => patch(ctx, gid),
        ("GET", ["groups", gid, "owners"]) => owners(ctx, gid),
        ("POST", ["groups", gid, "owners", "$ref"]) => add_owner(ctx, gid),
        ("DELETE", ["groups", gid, "owners", uid, "$ref"]) => remove_owner(ctx, gid, uid),
        ("POST", ["directoryObjects", "getByIds"]) => get_by_ids(ctx),
        _ => return None,
    };
    Some(answer)
}

fn no_content() -> Answer {
    Ok(HttpResponse::NoContent().finish())
}

/// A user as a directory object, with the properties `props` names (all when empty).
fn user_object(store: &UserStore, id: &str, props: &[String]) -> Option<Value> {
    let user = store.by_id(id)?;
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    out.insert("id".into(), json!(user.id()));
    for name in [
        "displayName",
        "userPrincipalName",
        "mail",
        "mailNickname",
        "userType",
        "accountEnabled",
    ] {
        if props.is_empty() || props.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            let value = crate::user::prop_index(name).map_or(Value::Null, |i| user.get(i).clone());
            out.insert(name.into(), value);
        }
    }
    Some(Value::Object(out))
}

/// `members($select=a,b)` → ("members", ["a", "b"]).
fn parse_expand(raw: &str) -> Result<(String, Vec<String>), GraphError> {
    let raw = raw.trim();
    let (nav, inner) = match raw.split_once('(') {
        Some((nav, rest)) => (nav.trim(), rest.trim_end_matches(')')),
        None => (raw, ""),
    };
    if !nav.eq_ignore_ascii_case("members") && !nav.eq_ignore_ascii_case("owners") {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("Could not find a property named '{nav}' on type 'microsoft.graph.group'."),
        ));
    }
    if raw.contains(',') && !inner.contains(',') {
        return Err(GraphError::bad_request(
            "Request_UnsupportedQuery",
            "Only one navigation property can be expanded.",
        ));
    }
    let props = inner
        .strip_prefix("$select=")
        .map(|list| list.split(',').map(|p| p.trim().to_owned()).collect())
        .unwrap_or_default();
    Ok((nav.to_ascii_lowercase(), props))
}

fn list_expanded(ctx: &Ctx<'_>) -> Answer {
    let (nav, props) = parse_expand(ctx.option("$expand").unwrap_or(""))?;
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let r = data.read();
    let store = ctx.tenant.users.read();
    let mut items: Vec<Value> = r
        .groups
        .iter()
        .map(|g| {
            let links = if nav == "members" {
                &g.members
            } else {
                &g.owners
            };
            let mut row = select(ctx, g.value.clone());
            let linked: Vec<Value> = links
                .iter()
                .filter_map(|id| user_object(&store, id, &props))
                .collect();
            row.insert(nav.clone(), Value::Array(linked));
            Value::Object(row)
        })
        .collect();
    items.sort_by(|a, b| {
        let name = |v: &Value| v["displayName"].as_str().unwrap_or("").to_ascii_lowercase();
        name(a).cmp(&name(b))
    });
    collection(ctx, "groups", items, 100)
}

fn find_group<'g>(groups: &'g mut [Group], gid: &str) -> Result<&'g mut Group, GraphError> {
    groups
        .iter_mut()
        .find(|g| g.id().eq_ignore_ascii_case(gid))
        .ok_or_else(|| GraphError::not_found(gid))
}

/// Whether Exchange owns the group (mail-enabled and not Microsoft 365).
pub(crate) fn exchange_owned(group: &Group) -> bool {
    let v = &group.value;
    let unified = v
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x.as_str() == Some("Unified")));
    v.get("mailEnabled").and_then(Value::as_bool) == Some(true) && !unified
}

fn exchange_refusal() -> GraphError {
    GraphError::bad_request(
        "Request_BadRequest",
        "Cannot Update a mail-enabled security groups and or distribution list.",
    )
}

/// The object id a bind link (`https://graph.microsoft.com/v1.0/directoryObjects/{id}`) names.
fn bound_id(link: &Value) -> Result<String, GraphError> {
    let text = link.as_str().unwrap_or("");
    let last = text.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let last = last
        .trim_start_matches("directoryObjects('")
        .trim_end_matches("')");
    if last.is_empty() {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("Invalid object identifier '{text}'."),
        ));
    }
    Ok(last.to_owned())
}

const PROPERTIES: [&str; 7] = [
    "displayName",
    "description",
    "mailNickname",
    "mailEnabled",
    "securityEnabled",
    "membershipRule",
    "visibility",
];

fn patch(ctx: &Ctx<'_>, gid: &str) -> Answer {
    let body = ctx.json_body()?;
    let Some(fields) = body.as_object() else {
        return Err(GraphError::bad_request(
            "BadRequest",
            "The request body must be a JSON object.",
        ));
    };
    // Bound objects are resolved before the group is locked (users before groups, as elsewhere).
    let resolve = |name: &str| -> Result<Vec<String>, GraphError> {
        let Some(list) = fields.get(name) else {
            return Ok(Vec::new());
        };
        let store = ctx.tenant.users.read();
        list.as_array()
            .ok_or_else(|| {
                GraphError::bad_request(
                    "BadRequest",
                    format!("The property '{name}' must be a collection."),
                )
            })?
            .iter()
            .map(|link| {
                let id = bound_id(link)?;
                store
                    .get(&id)
                    .map(|u| u.id().to_owned())
                    .ok_or_else(|| GraphError::not_found(&id))
            })
            .collect()
    };
    let new_members = resolve("members@odata.bind")?;
    let new_owners = resolve("owners@odata.bind")?;
    for key in fields.keys() {
        let known = PROPERTIES.iter().any(|p| p == key)
            || key == "members@odata.bind"
            || key == "owners@odata.bind";
        if !known {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "Property '{key}' does not exist as a declared property or extension property."
                ),
            ));
        }
    }
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let mut r = data.write();
    let group = find_group(&mut r.groups, gid)?;
    if exchange_owned(group) {
        return Err(exchange_refusal());
    }
    if !new_members.is_empty()
        && let Some(refusal) = membership_refusal(group)
    {
        return Err(refusal);
    }
    for (links, list, what) in [
        (&new_members, &group.members, "members"),
        (&new_owners, &group.owners, "owners"),
    ] {
        if links.iter().any(|id| list.contains(id)) {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "One or more added object references already exist for the following modified properties: '{what}'."
                ),
            ));
        }
    }
    for key in PROPERTIES {
        if let Some(v) = fields.get(key) {
            group.value.insert(key.to_owned(), v.clone());
        }
    }
    group.members.extend(new_members);
    group.owners.extend(new_owners);
    no_content()
}

fn owners(ctx: &Ctx<'_>, gid: &str) -> Answer {
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let r = data.read();
    let group = r
        .groups
        .iter()
        .find(|g| g.id().eq_ignore_ascii_case(gid))
        .ok_or_else(|| GraphError::not_found(gid))?;
    let store = ctx.tenant.users.read();
    let items: Vec<Value> = group
        .owners
        .iter()
        .filter_map(|id| super::reads::user_ref(ctx, &store, id))
        .collect();
    collection(ctx, "directoryObjects", items, 100)
}

fn add_owner(ctx: &Ctx<'_>, gid: &str) -> Answer {
    let key = referenced(ctx)?;
    let store = ctx.tenant.users.read();
    let user_id = store
        .get(&key)
        .map(|u| u.id().to_owned())
        .ok_or_else(|| GraphError::not_found(&key))?;
    drop(store);
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let mut r = data.write();
    let group = find_group(&mut r.groups, gid)?;
    if exchange_owned(group) {
        return Err(exchange_refusal());
    }
    if group.owners.contains(&user_id) {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'owners'.",
        ));
    }
    group.owners.push(user_id);
    no_content()
}

fn remove_owner(ctx: &Ctx<'_>, gid: &str, uid: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let user_id = store.get(uid).map(|u| u.id().to_owned());
    drop(store);
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let mut r = data.write();
    let group = find_group(&mut r.groups, gid)?;
    if exchange_owned(group) {
        return Err(exchange_refusal());
    }
    let id = user_id.ok_or_else(|| GraphError::not_found(uid))?;
    let before = group.owners.len();
    group.owners.retain(|o| o != &id);
    if group.owners.len() == before {
        return Err(GraphError::not_found(uid));
    }
    no_content()
}

/// `POST directoryObjects/getByIds` with `{"ids": [...]}`: the users and groups found, in any
/// order; unknown ids are left out (Graph does not fail for them).
fn get_by_ids(ctx: &Ctx<'_>) -> Answer {
    let body = ctx.json_body()?;
    let ids: Vec<String> = match body.get("ids") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                "Invalid request: the 'ids' parameter is required.",
            ));
        }
    };
    let store = ctx.tenant.users.read();
    let mut items: Vec<Value> = ids
        .iter()
        .filter_map(|id| user_object(&store, id, &[]))
        .collect();
    drop(store);
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let r = data.read();
    items.extend(
        r.groups
            .iter()
            .filter(|g| ids.iter().any(|id| id.eq_ignore_ascii_case(g.id())))
            .map(|g| Value::Object(group_json(g))),
    );
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context("directoryObjects"), "value": items}),
    ))
}
