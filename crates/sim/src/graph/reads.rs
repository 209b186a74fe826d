//! Read routes beyond users: sign-ins, memberships, groups and roles, devices, Conditional
//! Access, authentication methods and the MFA reports, photos, licences, deleted objects.
//! The data comes from `seed_reads`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::seed_reads::{Group, Role, TenantReads, registered_name};
use crate::state::UserStore;
use crate::user::{User, idx, prop_index};

type Answer = Result<HttpResponse, GraphError>;

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let get = method == "GET";
    let answer = match s {
        ["auditLogs", "signIns"] if get => sign_in_list(ctx),
        [
            "users",
            key,
            rel @ ("memberOf" | "transitiveMemberOf"),
            cast @ ..,
        ] if get => {
            let cast = match cast {
                [] => None,
                ["$", c] | [c] => Some(*c),
                _ => return None,
            };
            member_of(ctx, key, *rel == "transitiveMemberOf", cast)
        }
        ["users", key, rel @ ("ownedDevices" | "registeredDevices")] if get => {
            user_devices(ctx, key, rel)
        }
        ["users", key, "managedDevices"] if get => user_managed_devices(ctx, key),
        ["devices"] if get => all_devices(ctx),
        ["devices", id] => match method {
            "GET" => device(ctx, id),
            "PATCH" => patch_device(ctx, id),
            "DELETE" => delete_device(ctx, id),
            _ => return None,
        },
        ["deviceManagement", "managedDevices"] if get => all_managed_devices(ctx),
        ["groups"] if get => groups(ctx),
        ["groups", id] if get => group(ctx, id),
        ["groups", id, "members"] if get => group_members(ctx, id),
        ["directoryRoles"] if get => directory_roles(ctx),
        ["directoryRoles", key, "members"] if get => role_members(ctx, key, false),
        ["directoryRoles", key, "members", "$count"] if get => role_members(ctx, key, true),
        ["roleManagement", "directory", "roleDefinitions"] if get => role_definitions(ctx),
        ["roleManagement", "directory", "roleAssignments"] if get => role_assignments(ctx),
        ["subscribedSkus"] if get => subscribed_skus(ctx),
        ["identity", "conditionalAccess", "policies"] if get => ca_policies(ctx),
        ["identity", "conditionalAccess", "policies"] if method == "POST" => create_ca_policy(ctx),
        ["identity", "conditionalAccess", "policies", id] => match method {
            "GET" => ca_policy(ctx, id),
            "DELETE" => delete_ca_policy(ctx, id),
            _ => return None,
        },
        ["identity", "conditionalAccess", "evaluate"] if method == "POST" => ca_evaluate(ctx),
        ["policies", "identitySecurityDefaultsEnforcementPolicy"] if get => Ok(ok_json(
            StatusCode::OK,
            &json!({
                "@odata.context": ctx.context("policies/identitySecurityDefaultsEnforcementPolicy/$entity"),
                "id": "00000000-0000-0000-0000-000000000005",
                "displayName": "Security Defaults",
                "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft.",
                "isEnabled": false,
            }),
        )),
        ["users", key, "authentication", "methods"] if get => auth_methods(ctx, key),
        ["users", key, "authentication", "requirements"] if ctx.beta() => match method {
            "GET" => requirements(ctx, key),
            "PATCH" => set_requirements(ctx, key),
            _ => return None,
        },
        ["users", key, "authentication", "signInPreferences"] if get && ctx.beta() => {
            sign_in_preferences(ctx, key)
        }
        [
            "reports",
            "authenticationMethods",
            "userRegistrationDetails",
        ] if get => registration_details(ctx),
        ["users", key, "photo"] if get => photo(ctx, key, false),
        ["users", key, "photo", "$value"] if get => photo(ctx, key, true),
        ["directory", "deletedItems", cast]
            if get && cast.starts_with("microsoft.graph.") && *cast != "microsoft.graph.user" =>
        {
            deleted_items(ctx, cast)
        }
        _ => return None,
    };
    Some(answer)
}

fn reads(ctx: &Ctx<'_>) -> std::sync::Arc<parking_lot::RwLock<TenantReads>> {
    ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant)
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

fn str_prop<'u>(user: &'u User, name: &str) -> &'u Value {
    prop_index(name).map_or(&Value::Null, |i| user.get(i))
}

/// `$select` applied to a JSON object; `@odata.type` always stays, as Graph keeps it.
pub(super) fn select(ctx: &Ctx<'_>, value: Map<String, Value>) -> Map<String, Value> {
    let Some(list) = ctx.option("$select") else {
        return value;
    };
    let wanted: Vec<String> = list
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    value
        .into_iter()
        .filter(|(k, _)| k == "@odata.type" || wanted.contains(&k.to_ascii_lowercase()))
        .collect()
}

/// A collection answer with `$top`/`$skiptoken` paging (the token is the offset) and `$count`.
pub(super) fn collection(
    ctx: &Ctx<'_>,
    context: &str,
    items: Vec<Value>,
    default_page: usize,
) -> Answer {
    let top = match ctx.option("$top") {
        None => default_page,
        Some(t) => match t.trim().parse::<usize>() {
            Ok(n) if (1..=999).contains(&n) => n,
            _ => {
                return Err(GraphError::bad_request(
                    "Request_UnsupportedQuery",
                    format!(
                        "Invalid page size specified: '{t}'. Must be between 1 and 999 inclusive."
                    ),
                ));
            }
        },
    };
    let offset = match ctx.option("$skiptoken") {
        Some(t) => t.parse::<usize>().map_err(|_| {
            GraphError::bad_request(
                "Request_BadRequest",
                format!("Invalid $skiptoken value '{t}'."),
            )
        })?,
        None => 0,
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(top).collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(ctx.context(context)));
    if ctx
        .option("$count")
        .is_some_and(|c| c.eq_ignore_ascii_case("true"))
    {
        body.insert("@odata.count".into(), json!(total));
    }
    if offset + top < total {
        let kept: Vec<&str> = ctx
            .raw_query
            .split('&')
            .filter(|p| {
                !p.is_empty()
                    && !p.to_ascii_lowercase().starts_with("%24skiptoken")
                    && !p.to_ascii_lowercase().starts_with("$skiptoken")
            })
            .collect();
        let path = context.split('(').next().unwrap_or(context);
        let mut link = format!("{}/{path}?", ctx.service_root());
        if !kept.is_empty() {
            link.push_str(&kept.join("&"));
            link.push('&');
        }
        link.push_str(&format!("$skiptoken={}", offset + top));
        body.insert("@odata.nextLink".into(), json!(link));
    }
    body.insert("value".into(), Value::Array(page));
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

fn count_answer(n: usize) -> Answer {
    Ok(HttpResponse::Ok()
        .content_type("text/plain;charset=utf-8")
        .body(n.to_string()))
}

fn needs_eventual(ctx: &Ctx<'_>) -> Result<(), GraphError> {
    if ctx.eventual {
        Ok(())
    } else {
        Err(GraphError::bad_request(
            "Request_BadRequest",
            "$count is not currently supported.",
        ))
    }
}

/// `field op value` clauses joined by `and`, as the sign-in log accepts them.
struct SignInFilter {
    clauses: Vec<(String, String, String)>,
}

impl SignInFilter {
    fn parse(raw: &str) -> Result<Self, GraphError> {
        let invalid =
            || GraphError::bad_request("BadRequest", format!("Invalid filter clause: '{raw}'."));
        let cleaned = raw.replace(['(', ')'], " ");
        let mut clauses = Vec::new();
        let lower = cleaned.to_ascii_lowercase();
        let mut rest: &str = &cleaned;
        let mut rest_lower: &str = &lower;
        loop {
            let (clause, more) = match rest_lower.find(" and ") {
                Some(at) => (&rest[..at], Some(at + 5)),
                None => (rest, None),
            };
            let mut parts = clause.trim().splitn(3, ' ');
            let (Some(field), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(invalid());
            };
            let op = op.to_ascii_lowercase();
            if !matches!(op.as_str(), "eq" | "ne" | "ge" | "le" | "gt" | "lt") {
                return Err(invalid());
            }
            let value = value.trim().trim_matches('\'').to_owned();
            clauses.push((field.to_owned(), op, value));
            match more {
                Some(at) => {
                    rest = &rest[at..];
                    rest_lower = &rest_lower[at..];
                }
                None => break,
            }
        }
        Ok(Self { clauses })
    }

    fn user_key(&self) -> Option<&str> {
        self.clauses
            .iter()
            .find(|(f, op, _)| {
                op == "eq"
                    && (f.eq_ignore_ascii_case("userId")
                        || f.eq_ignore_ascii_case("userPrincipalName"))
            })
            .map(|(_, _, v)| v.as_str())
    }

    fn keeps(&self, record: &Value) -> bool {
        self.clauses.iter().all(|(field, op, want)| {
            let mut v = record;
            for part in field.split('/') {
                v = v.get(part).unwrap_or(&Value::Null);
            }
            let have = match v {
                Value::String(s) => s.to_ascii_lowercase(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let want = want.to_ascii_lowercase();
            let ord = match (have.parse::<f64>(), want.parse::<f64>()) {
                (Ok(a), Ok(b)) => a.partial_cmp(&b),
                _ => Some(have.as_str().cmp(want.as_str())),
            };
            use std::cmp::Ordering::{Equal, Greater, Less};
            match op.as_str() {
                "eq" => ord == Some(Equal),
                "ne" => ord != Some(Equal),
                "ge" => matches!(ord, Some(Greater | Equal)),
                "gt" => ord == Some(Greater),
                "le" => matches!(ord, Some(Less | Equal)),
                _ => ord == Some(Less),
            }
        })
    }
}

fn sign_in_list(ctx: &Ctx<'_>) -> Answer {
    let filter = match ctx.option("$filter") {
        Some(f) if !f.trim().is_empty() => Some(SignInFilter::parse(f)?),
        _ => None,
    };
    let data = reads(ctx);
    let (anchor, policies) = {
        let r = data.read();
        (r.anchor, r.policies.clone())
    };
    let store = ctx.tenant.users.read();
    let of = |u| crate::incident::sign_ins(ctx.sim.seed, anchor, u, &policies, &ctx.tenant);
    let mut records: Vec<Value> = match filter.as_ref().and_then(SignInFilter::user_key) {
        Some(key) => store.get(key).map(of).unwrap_or_default(),
        None => store.iter_after(None).flat_map(|(_, u)| of(u)).collect(),
    };
    drop(store);
    if let Some(f) = &filter {
        records.retain(|r| f.keeps(r));
    }
    // Newest first, whatever $orderby says (the service's only order).
    records.sort_by(|a, b| {
        b["createdDateTime"]
            .as_str()
            .cmp(&a["createdDateTime"].as_str())
    });
    collection(ctx, "auditLogs/signIns", records, 1000)
}

pub(super) fn group_json(group: &Group) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!("#microsoft.graph.group"));
    out.extend(group.value.clone());
    out
}

fn role_json(role: &Role) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "@odata.type".into(),
        json!("#microsoft.graph.directoryRole"),
    );
    out.insert("id".into(), json!(role.id));
    out.insert("deletedDateTime".into(), Value::Null);
    out.insert("description".into(), json!(role.description));
    out.insert("displayName".into(), json!(role.display_name));
    out.insert("roleTemplateId".into(), json!(role.template_id));
    out
}

fn sort_by_display_name(ctx: &Ctx<'_>, items: &mut [Value]) {
    if let Some(order) = ctx.option("$orderby") {
        let desc = order.to_ascii_lowercase().ends_with(" desc");
        items.sort_by_cached_key(|v| {
            v.get("displayName")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
        });
        if desc {
            items.reverse();
        }
    }
}

fn member_of(ctx: &Ctx<'_>, key: &str, transitive: bool, cast: Option<&str>) -> Answer {
    let store = ctx.tenant.users.read();
    let user = find(&store, key)?;
    let id = user.id().to_owned();
    drop(store);
    let data = reads(ctx);
    let r = data.read();
    let (groups, roles) = r.member_of(&id);
    let with_groups = matches!(cast, None | Some("microsoft.graph.group"));
    let with_roles = matches!(cast, None | Some("microsoft.graph.directoryRole"));
    if cast.is_some() && !with_groups && !with_roles {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                cast.unwrap_or_default()
            ),
        ));
    }
    let mut items: Vec<Value> = Vec::new();
    if with_groups {
        items.extend(
            groups
                .into_iter()
                .map(|g| Value::Object(select(ctx, group_json(g)))),
        );
    }
    if with_roles {
        items.extend(
            roles
                .into_iter()
                .map(|r| Value::Object(select(ctx, role_json(r)))),
        );
    }
    sort_by_display_name(ctx, &mut items);
    let rel = if transitive {
        "transitiveMemberOf"
    } else {
        "memberOf"
    };
    collection(ctx, &format!("directoryObjects/{rel}"), items, 100)
}

fn device_json(value: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!("#microsoft.graph.device"));
    out.extend(value.clone());
    out
}

fn user_devices(ctx: &Ctx<'_>, key: &str, rel: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let id = find(&store, key)?.id().to_owned();
    drop(store);
    let data = reads(ctx);
    let r = data.read();
    let items: Vec<Value> = r
        .devices
        .iter()
        .filter(|d| d.owner == id)
        .map(|d| Value::Object(select(ctx, device_json(&d.value))))
        .collect();
    collection(ctx, &format!("directoryObjects/{rel}"), items, 100)
}

fn user_managed_devices(ctx: &Ctx<'_>, key: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let id = find(&store, key)?.id().to_owned();
    drop(store);
    let data = reads(ctx);
    let r = data.read();
    let items: Vec<Value> = r
        .devices
        .iter()
        .filter(|d| d.owner == id)
        .filter_map(|d| d.managed.clone())
        .map(|m| Value::Object(select(ctx, m)))
        .collect();
    collection(ctx, "users/managedDevices", items, 1000)
}

fn all_devices(ctx: &Ctx<'_>) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let items: Vec<Value> = r
        .devices
        .iter()
        .map(|d| Value::Object(select(ctx, d.value.clone())))
        .collect();
    collection(ctx, "devices", items, 100)
}

fn device(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let found = r
        .devices
        .iter()
        .find(|d| d.id().eq_ignore_ascii_case(id))
        .ok_or_else(|| GraphError::not_found(id))?;
    let mut body = device_json(&found.value);
    body.insert(
        "@odata.context".into(),
        json!(ctx.context("devices/$entity")),
    );
    Ok(ok_json(StatusCode::OK, &Value::Object(select(ctx, body))))
}

/// `PATCH devices/{id}`: the writable properties CIPP sends (`accountEnabled`, names).
fn patch_device(ctx: &Ctx<'_>, id: &str) -> Answer {
    let body = ctx.json_body()?;
    let Some(changes) = body.as_object() else {
        return Err(GraphError::bad_request(
            "BadRequest",
            "A JSON object is required.",
        ));
    };
    for (key, value) in changes {
        let ok = match key.as_str() {
            "accountEnabled" => value.is_boolean(),
            "displayName" | "extensionAttributes" => true,
            _ => false,
        };
        if !ok {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!("Invalid value or property '{key}' for a device."),
            ));
        }
    }
    let data = reads(ctx);
    let mut w = data.write();
    let found = w
        .devices
        .iter_mut()
        .find(|d| d.id().eq_ignore_ascii_case(id))
        .ok_or_else(|| GraphError::not_found(id))?;
    for (key, value) in changes {
        found.value.insert(key.clone(), value.clone());
    }
    Ok(HttpResponse::NoContent().finish())
}

fn delete_device(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = reads(ctx);
    let mut w = data.write();
    let before = w.devices.len();
    w.devices.retain(|d| !d.id().eq_ignore_ascii_case(id));
    if w.devices.len() == before {
        return Err(GraphError::not_found(id));
    }
    Ok(HttpResponse::NoContent().finish())
}

fn ca_policy(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let found = r
        .policies
        .iter()
        .find(|p| p["id"].as_str().is_some_and(|p| p.eq_ignore_ascii_case(id)))
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| GraphError::not_found(id))?;
    Ok(ok_json(StatusCode::OK, &Value::Object(select(ctx, found))))
}

/// `POST identity/conditionalAccess/policies`: kept as sent, with an id and timestamps.
fn create_ca_policy(ctx: &Ctx<'_>) -> Answer {
    let body = ctx.json_body()?;
    let Some(given) = body.as_object() else {
        return Err(GraphError::bad_request(
            "BadRequest",
            "A JSON object is required.",
        ));
    };
    let name = given
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let state = given.get("state").and_then(Value::as_str).unwrap_or("");
    if name.trim().is_empty() {
        return Err(GraphError::bad_request(
            "BadRequest",
            "displayName is required.",
        ));
    }
    if !["enabled", "disabled", "enabledForReportingButNotEnabled"].contains(&state) {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("Invalid value '{state}' for property 'state'."),
        ));
    }
    if given.get("conditions").is_none_or(Value::is_null) {
        return Err(GraphError::bad_request(
            "BadRequest",
            "conditions is required.",
        ));
    }
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut policy = given.clone();
    policy.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
    policy.insert("createdDateTime".into(), json!(now));
    policy.insert("modifiedDateTime".into(), Value::Null);
    let answer = Value::Object(policy.clone());
    reads(ctx).write().policies.push(Value::Object(policy));
    Ok(ok_json(StatusCode::CREATED, &answer))
}

fn delete_ca_policy(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = reads(ctx);
    let mut w = data.write();
    let before = w.policies.len();
    w.policies
        .retain(|p| !p["id"].as_str().is_some_and(|p| p.eq_ignore_ascii_case(id)));
    if w.policies.len() == before {
        return Err(GraphError::not_found(id));
    }
    Ok(HttpResponse::NoContent().finish())
}

fn all_managed_devices(ctx: &Ctx<'_>) -> Answer {
    // The one filter CIPP sends here: userPrincipalName eq '<upn>'.
    let upn = match ctx.option("$filter") {
        Some(f) => {
            let parsed = SignInFilter::parse(f)?;
            parsed
                .clauses
                .iter()
                .find(|(field, op, _)| {
                    field.eq_ignore_ascii_case("userPrincipalName") && op == "eq"
                })
                .map(|(_, _, v)| v.to_ascii_lowercase())
        }
        None => None,
    };
    let data = reads(ctx);
    let r = data.read();
    let items: Vec<Value> = r
        .devices
        .iter()
        .filter_map(|d| d.managed.as_ref())
        .filter(|m| {
            upn.as_deref().is_none_or(|u| {
                m.get("userPrincipalName")
                    .and_then(Value::as_str)
                    .is_some_and(|have| have.eq_ignore_ascii_case(u))
            })
        })
        .map(|m| Value::Object(select(ctx, m.clone())))
        .collect();
    collection(ctx, "deviceManagement/managedDevices", items, 1000)
}

fn groups(ctx: &Ctx<'_>) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let mut items: Vec<Value> = r
        .groups
        .iter()
        .map(|g| Value::Object(select(ctx, g.value.clone())))
        .collect();
    sort_by_display_name(ctx, &mut items);
    collection(ctx, "groups", items, 100)
}

fn group(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let group = r
        .groups
        .iter()
        .find(|g| g.id().eq_ignore_ascii_case(id))
        .ok_or_else(|| GraphError::not_found(id))?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(ctx.context("groups/$entity")),
    );
    body.extend(select(ctx, group.value.clone()));
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

pub(super) fn user_ref(ctx: &Ctx<'_>, store: &UserStore, id: &str) -> Option<Value> {
    let user = store.by_id(id)?;
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    out.insert("id".into(), json!(user.id()));
    for name in [
        "displayName",
        "userPrincipalName",
        "mail",
        "userType",
        "accountEnabled",
    ] {
        out.insert(name.into(), str_prop(user, name).clone());
    }
    Some(Value::Object(select(ctx, out)))
}

fn group_members(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let group = r
        .groups
        .iter()
        .find(|g| g.id().eq_ignore_ascii_case(id))
        .ok_or_else(|| GraphError::not_found(id))?;
    let store = ctx.tenant.users.read();
    let items: Vec<Value> = group
        .members
        .iter()
        .filter_map(|m| user_ref(ctx, &store, m))
        .collect();
    collection(ctx, "directoryObjects", items, 100)
}

fn find_role<'r>(r: &'r TenantReads, key: &str) -> Result<&'r Role, GraphError> {
    let found = match key.split_once('=') {
        Some((prop, value)) if prop.eq_ignore_ascii_case("roleTemplateId") => r
            .roles
            .iter()
            .find(|role| role.template_id.eq_ignore_ascii_case(value)),
        _ => r
            .roles
            .iter()
            .find(|role| role.id.eq_ignore_ascii_case(key)),
    };
    found.ok_or_else(|| GraphError::not_found(key))
}

fn directory_roles(ctx: &Ctx<'_>) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let items: Vec<Value> = r
        .roles
        .iter()
        .map(|role| {
            let mut v = role_json(role);
            v.remove("@odata.type");
            Value::Object(select(ctx, v))
        })
        .collect();
    collection(ctx, "directoryRoles", items, 100)
}

fn role_members(ctx: &Ctx<'_>, key: &str, count: bool) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let role = find_role(&r, key)?;
    let store = ctx.tenant.users.read();
    let items: Vec<Value> = role
        .members
        .iter()
        .filter_map(|m| user_ref(ctx, &store, m))
        .collect();
    if count {
        needs_eventual(ctx)?;
        return count_answer(items.len());
    }
    collection(ctx, "directoryObjects", items, 100)
}

fn role_definitions(ctx: &Ctx<'_>) -> Answer {
    let data = reads(ctx);
    let r = data.read();
    let items: Vec<Value> = r
        .roles
        .iter()
        .map(|role| {
            let mut v = Map::new();
            v.insert("id".into(), json!(role.template_id));
            v.insert("templateId".into(), json!(role.template_id));
            v.insert("displayName".into(), json!(role.display_name));
            v.insert("description".into(), json!(role.description));
            v.insert("isBuiltIn".into(), json!(true));
            v.insert("isEnabled".into(), json!(true));
            Value::Object(select(ctx, v))
        })
        .collect();
    collection(ctx, "roleManagement/directory/roleDefinitions", items, 999)
}

fn role_assignments(ctx: &Ctx<'_>) -> Answer {
    let expand = ctx
        .option("$expand")
        .is_some_and(|e| e.to_ascii_lowercase().starts_with("principal"));
    let data = reads(ctx);
    let r = data.read();
    let store = ctx.tenant.users.read();
    let mut items = Vec::new();
    for role in &r.roles {
        for member in &role.members {
            let mut v = Map::new();
            v.insert(
                "id".into(),
                json!(format!("{}-{}", role.template_id, member)),
            );
            v.insert("principalId".into(), json!(member));
            v.insert("roleDefinitionId".into(), json!(role.template_id));
            v.insert("directoryScopeId".into(), json!("/"));
            if expand && let Some(principal) = user_ref(ctx, &store, member) {
                v.insert("principal".into(), principal);
            }
            items.push(Value::Object(v));
        }
    }
    collection(ctx, "roleManagement/directory/roleAssignments", items, 999)
}

/// Licences bought: every SKU the seeded users hold, with enough seats.
fn subscribed_skus(ctx: &Ctx<'_>) -> Answer {
    let store = ctx.tenant.users.read();
    let mut used: Vec<(String, usize)> = Vec::new();
    for (_, user) in store.iter_after(None) {
        let Some(list) = str_prop(user, "assignedLicenses").as_array() else {
            continue;
        };
        for sku in list
            .iter()
            .filter_map(|l| l.get("skuId").and_then(Value::as_str))
        {
            match used.iter_mut().find(|(s, _)| s == sku) {
                Some((_, n)) => *n += 1,
                None => used.push((sku.to_owned(), 1)),
            }
        }
    }
    let items: Vec<Value> = used
        .into_iter()
        .map(|(sku, n)| {
            let part = sku_part_number(&sku);
            json!({
                "id": format!("{}_{sku}", ctx.tenant.id),
                "accountId": ctx.tenant.id,
                "accountName": ctx.tenant.display_name,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": n,
                "skuId": sku,
                "skuPartNumber": part,
                "subscriptionIds": [super::subscriptions::subscription_id(ctx.sim.seed, &ctx.tenant.id, &sku)],
                "prepaidUnits": {"enabled": ctx.sim.licences.enabled(&ctx.tenant.id, &sku, n), "suspended": 0, "warning": 0, "lockedOut": 0},
                "servicePlans": super::subscriptions::service_plans(&sku),
            })
        })
        .collect();
    collection(ctx, "subscribedSkus", items, 999)
}

pub(super) fn sku_part_number(sku: &str) -> &'static str {
    match sku {
        crate::seed::SKU_O365_E3 => "ENTERPRISEPACK",
        crate::seed::SKU_M365_E3 => "SPE_E3",
        crate::seed::SKU_BUSINESS_PREMIUM => "SPB",
        crate::seed::SKU_BUSINESS_STANDARD => "O365_BUSINESS_PREMIUM",
        crate::seed::SKU_EXO_PLAN1 => "EXCHANGESTANDARD",
        _ => "UNKNOWN",
    }
}

fn ca_policies(ctx: &Ctx<'_>) -> Answer {
    let state = match ctx.option("$filter") {
        Some(f) => {
            let parsed = SignInFilter::parse(f)?;
            parsed
                .clauses
                .iter()
                .find(|(field, op, _)| field.eq_ignore_ascii_case("state") && op == "eq")
                .map(|(_, _, v)| v.clone())
        }
        None => None,
    };
    let data = reads(ctx);
    let r = data.read();
    let items: Vec<Value> = r
        .policies
        .iter()
        .filter(|p| {
            state
                .as_deref()
                .is_none_or(|s| p["state"].as_str() == Some(s))
        })
        .filter_map(|p| p.as_object().cloned())
        .map(|p| Value::Object(select(ctx, p)))
        .collect();
    collection(ctx, "identity/conditionalAccess/policies", items, 999)
}

/// Whether a policy's user conditions take in a user, as CA evaluation decides it.
fn applies_to(
    policy: &Value,
    user_id: &str,
    groups: &[String],
    roles: &[String],
    guest: bool,
) -> (bool, &'static str) {
    let users = &policy["conditions"]["users"];
    let has = |list: &str, ids: &[String]| {
        users[list].as_array().is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|v| ids.iter().any(|i| i.eq_ignore_ascii_case(v)))
        })
    };
    let me = [user_id.to_owned()];
    if has("excludeUsers", &me) {
        return (false, "excludedUser");
    }
    if has("excludeGroups", groups) {
        return (false, "excludedGroup");
    }
    if has("excludeRoles", roles) {
        return (false, "excludedRole");
    }
    let all = users["includeUsers"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == "All"));
    let included = all
        || has("includeUsers", &me)
        || has("includeGroups", groups)
        || has("includeRoles", roles)
        || (guest && !users["includeGuestsOrExternalUsers"].is_null());
    if included {
        (true, "users")
    } else {
        (false, "notIncludedUser")
    }
}

fn ca_evaluate(ctx: &Ctx<'_>) -> Answer {
    if !ctx.beta() {
        return Err(GraphError::bad_request(
            "BadRequest",
            "Resource not found for the segment 'evaluate'.",
        ));
    }
    let body = ctx.json_body()?;
    // Graph's two request shapes: `conditionalAccessWhatIfSubject` and the newer
    // `signInIdentity` (what CIPP's ExecCACheck sends).
    let user_id = body["conditionalAccessWhatIfSubject"]["userId"]
        .as_str()
        .or_else(|| body["signInIdentity"]["userId"].as_str())
        .unwrap_or_default()
        .to_owned();
    let store = ctx.tenant.users.read();
    let user = store
        .by_id(&user_id.to_ascii_lowercase())
        .or_else(|| store.get(&user_id))
        .ok_or_else(|| {
            GraphError::bad_request(
                "BadRequest",
                format!("User with id '{user_id}' was not found in the tenant."),
            )
        })?;
    let id = user.id().to_owned();
    let guest = user.get(idx::USER_TYPE).as_str() == Some("Guest");
    drop(store);
    let data = reads(ctx);
    let r = data.read();
    let (groups, roles) = r.member_of(&id);
    let groups: Vec<String> = groups.iter().map(|g| g.id().to_owned()).collect();
    let roles: Vec<String> = roles.iter().map(|r| r.template_id.to_owned()).collect();
    let items: Vec<Value> = r
        .policies
        .iter()
        .map(|p| {
            let (applies, reason) = applies_to(p, &id, &groups, &roles, guest);
            let mut v = p.as_object().cloned().unwrap_or_default();
            v.insert(
                "@odata.type".into(),
                json!("#microsoft.graph.whatIfAnalysisResult"),
            );
            v.insert("policyApplies".into(), json!(applies));
            v.insert(
                "analysisReasons".into(),
                json!(if applies { "none" } else { reason }),
            );
            Value::Object(v)
        })
        .collect();
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context("Collection(microsoft.graph.whatIfAnalysisResult)"),
            "value": items,
        }),
    ))
}

fn auth_methods(ctx: &Ctx<'_>, key: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let user = find(&store, key)?;
    let data = reads(ctx);
    let mut r = data.write();
    let items = r.methods_of(user).clone();
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context(&format!("users('{}')/authentication/methods", user.id())),
            "value": items,
        }),
    ))
}

fn requirements(ctx: &Ctx<'_>, key: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let user = find(&store, key)?;
    let state = str_prop(user, "perUserMfaState")
        .as_str()
        .unwrap_or("disabled")
        .to_owned();
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context(&format!("users('{}')/authentication/requirements/$entity", user.upn())),
            "perUserMfaState": state,
        }),
    ))
}

fn set_requirements(ctx: &Ctx<'_>, key: &str) -> Answer {
    let body = ctx.json_body()?;
    let state = body["perUserMfaState"].as_str().unwrap_or_default();
    if !matches!(state, "disabled" | "enabled" | "enforced") {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("Invalid value '{state}' for property 'perUserMfaState'."),
        ));
    }
    let mut store = ctx.tenant.users.write();
    let seq = {
        find(&store, key)?;
        store
            .find_seq(key)
            .ok_or_else(|| GraphError::not_found(key))?
    };
    if let (Some(user), Some(i)) = (store.get_mut(seq), prop_index("perUserMfaState")) {
        user.set(i, json!(state));
    }
    Ok(HttpResponse::NoContent().finish())
}

fn sign_in_preferences(ctx: &Ctx<'_>, key: &str) -> Answer {
    let store = ctx.tenant.users.read();
    let user = find(&store, key)?;
    let data = reads(ctx);
    let mut r = data.write();
    let methods = r.methods_of(user);
    let has = |t: &str| methods.iter().any(|m| m["@odata.type"] == t);
    let preferred = if has("#microsoft.graph.microsoftAuthenticatorAuthenticationMethod") {
        json!("push")
    } else if has("#microsoft.graph.phoneAuthenticationMethod") {
        json!("sms")
    } else {
        Value::Null
    };
    // A preference set by PATCH wins over the one derived from the methods.
    let preferred =
        super::credentials::stored_preference(ctx, user.id()).map_or(preferred, Value::String);
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context(&format!("users('{}')/authentication/signInPreferences/$entity", user.id())),
            "isSystemPreferredAuthenticationMethodEnabled": true,
            "userPreferredMethodForSecondaryAuthentication": preferred,
            "systemPreferredAuthenticationMethod": preferred,
        }),
    ))
}

fn registration_details(ctx: &Ctx<'_>) -> Answer {
    let store = ctx.tenant.users.read();
    let data = reads(ctx);
    let mut r = data.write();
    let admins: Vec<String> = r
        .roles
        .iter()
        .flat_map(|role| role.members.clone())
        .collect();
    let mut items = Vec::new();
    for (_, user) in store.iter_after(None) {
        let methods = r.methods_of(user);
        let registered: Vec<&'static str> = methods
            .iter()
            .filter_map(|m| m["@odata.type"].as_str().and_then(registered_name))
            .collect();
        let capable = !registered.is_empty();
        let guest = user.get(idx::USER_TYPE).as_str() == Some("Guest");
        let row = json!({
            "id": user.id(),
            "userPrincipalName": user.upn(),
            "userDisplayName": str_prop(user, "displayName"),
            "userType": if guest { "guest" } else { "member" },
            "isAdmin": admins.iter().any(|a| a == user.id()),
            "isSsprRegistered": capable,
            "isSsprEnabled": capable,
            "isSsprCapable": capable,
            "isMfaRegistered": capable,
            "isMfaCapable": capable && user.get(prop_index("accountEnabled").unwrap_or(0)) == &json!(true),
            "isPasswordlessCapable": registered.contains(&"passKeyDeviceBound"),
            "methodsRegistered": registered,
            "defaultMfaMethod": registered.first().copied().unwrap_or("none"),
            "lastUpdatedDateTime": crate::seed::timestamp(r.anchor),
        });
        items.push(Value::Object(select(
            ctx,
            row.as_object().cloned().unwrap_or_default(),
        )));
    }
    collection(
        ctx,
        "reports/authenticationMethods/userRegistrationDetails",
        items,
        999,
    )
}

fn photo(ctx: &Ctx<'_>, key: &str, bytes: bool) -> Answer {
    let store = ctx.tenant.users.read();
    let user = find(&store, key)?;
    let data = reads(ctx);
    let photo = data.write().photo_of(user);
    let Some(photo) = photo else {
        return Err(GraphError::new(
            404,
            "ImageNotFound",
            "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
        ));
    };
    if bytes {
        return Ok(HttpResponse::Ok()
            .content_type(photo.content_type)
            .body(photo.bytes));
    }
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context(&format!("users('{}')/photo/$entity", user.id())),
            "@odata.mediaContentType": photo.content_type,
            "@odata.mediaEtag": format!("\"{:08X}\"", crate::seed_reads::key_of(user.id()) as u32),
            "id": "48x48",
            "width": 48,
            "height": 48,
        }),
    ))
}

const DELETABLE_TYPES: &[&str] = &[
    "administrativeUnit",
    "application",
    "externalUserProfile",
    "pendingExternalUserProfile",
    "group",
    "servicePrincipal",
    "certificateBasedAuthPki",
    "certificateAuthorityDetail",
];

fn deleted_items(ctx: &Ctx<'_>, cast: &str) -> Answer {
    let kind = cast.trim_start_matches("microsoft.graph.");
    if !DELETABLE_TYPES.contains(&kind) {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("Type '{cast}' is not a valid type for deleted items."),
        ));
    }
    let items = if kind == "group" {
        let data = reads(ctx);
        let r = data.read();
        r.deleted_groups
            .iter()
            .filter_map(|g| g.as_object().cloned())
            .map(|g| Value::Object(select(ctx, g)))
            .collect()
    } else {
        Vec::new()
    };
    collection(ctx, &format!("directoryObjects/{cast}"), items, 999)
}
