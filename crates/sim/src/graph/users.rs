//! `/users`, `/users/{id|upn}` and the user actions, plus deleted users under `/directory`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::filter::{self, Expr, FilterError};
use super::{Ctx, GraphError, ok_json};
use crate::state::{RestoreError, UserStore};
use crate::user::{Field, Kind, PROPS, User, Write, idx, prop_index};

const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 999;

fn now() -> String {
    crate::seed::timestamp(time::OffsetDateTime::now_utc().unix_timestamp())
}

fn unsupported(msg: impl Into<String>) -> GraphError {
    GraphError::bad_request("Request_UnsupportedQuery", msg)
}

fn select_error(name: &str) -> GraphError {
    GraphError::bad_request(
        "BadRequest",
        format!(
            "Parsing OData Select and Expand failed: Could not find a property named '{name}' on type 'microsoft.graph.user'."
        ),
    )
}

fn parse_fields(list: &str) -> Result<Vec<Field>, GraphError> {
    let mut out: Vec<Field> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let field = Field::resolve(name).ok_or_else(|| select_error(name))?;
        if !out.contains(&field) {
            out.push(field);
        }
    }
    Ok(out)
}

fn select(ctx: &Ctx<'_>) -> Result<Option<Vec<Field>>, GraphError> {
    match ctx.option("$select") {
        Some(s) if !s.trim().is_empty() => parse_fields(s).map(Some),
        _ => Ok(None),
    }
}

/// `$expand=manager` or `manager($select=a,b)`: Some(None) for all default properties.
type Expand = Option<Option<Vec<Field>>>;

fn expand(ctx: &Ctx<'_>) -> Result<Expand, GraphError> {
    let Some(raw) = ctx
        .option("$expand")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    let (name, inner) = match raw.find('(') {
        Some(open) if raw.ends_with(')') => (&raw[..open], Some(&raw[open + 1..raw.len() - 1])),
        _ => (raw, None),
    };
    if !name.trim().eq_ignore_ascii_case("manager") {
        return Err(select_error(name.trim()));
    }
    let Some(inner) = inner else {
        return Ok(Some(None));
    };
    let mut fields = None;
    for opt in inner.split(';') {
        let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
        match k.trim().to_ascii_lowercase().as_str() {
            "$select" => fields = Some(parse_fields(v)?),
            "$levels" => {}
            other => {
                return Err(GraphError::bad_request(
                    "BadRequest",
                    format!(
                        "Parsing OData Select and Expand failed: Term '{other}' is not valid in a $select or $expand expression."
                    ),
                ));
            }
        }
    }
    Ok(Some(fields))
}

fn context_fragment(fields: Option<&[Field]>) -> String {
    match fields {
        Some(f) => format!(
            "users({})",
            f.iter().map(Field::name).collect::<Vec<_>>().join(",")
        ),
        None => "users".to_owned(),
    }
}

fn render_user(
    ctx: &Ctx<'_>,
    store: &UserStore,
    user: &User,
    fields: Option<&[Field]>,
    exp: &Expand,
) -> Value {
    let mut obj = user.render(fields, ctx.beta());
    if let Some(manager_fields) = exp
        && let Some(manager) = user.manager.as_deref().and_then(|m| store.by_id(m))
    {
        let mut m = Map::new();
        m.insert("@odata.type".into(), json!("#microsoft.graph.user"));
        m.extend(manager.render(manager_fields.as_deref(), ctx.beta()));
        obj.insert("manager".into(), Value::Object(m));
    }
    Value::Object(obj)
}

fn filter_error(e: FilterError) -> GraphError {
    match e {
        FilterError::Syntax(m) => {
            GraphError::bad_request("BadRequest", format!("Invalid filter clause: {m}"))
        }
        FilterError::UnknownProperty(p) => GraphError::bad_request(
            "BadRequest",
            format!(
                "Invalid filter clause: Could not find a property named '{p}' on type 'microsoft.graph.user'."
            ),
        ),
        FilterError::Unsupported(m) => unsupported(m),
    }
}

/// Advanced-query mode: `ConsistencyLevel: eventual` together with `$count=true`.
fn advanced(ctx: &Ctx<'_>) -> bool {
    ctx.eventual
        && ctx
            .option("$count")
            .is_some_and(|c| c.eq_ignore_ascii_case("true"))
}

fn parse_filter(ctx: &Ctx<'_>, advanced_mode: bool) -> Result<Option<Expr>, GraphError> {
    let Some(raw) = ctx.option("$filter") else {
        return Ok(None);
    };
    let Some((expr, needs)) = filter::parse(raw).map_err(filter_error)? else {
        return Ok(None);
    };
    filter::check_shapes(&expr).map_err(filter_error)?;
    if let Some(op) = needs.advanced
        && !advanced_mode
    {
        return Err(unsupported(format!(
            "Operator '{op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
        )));
    }
    Ok(Some(expr))
}

/// `$search="displayName:jo"`: prefix match on words of the named (or common) properties.
fn parse_search(ctx: &Ctx<'_>) -> Result<Option<(Vec<usize>, String)>, GraphError> {
    let Some(raw) = ctx
        .option("$search")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    if !ctx.eventual {
        return Err(unsupported(
            "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        ));
    }
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| {
            GraphError::bad_request(
                "Request_UnsupportedQuery",
                "Syntax error: The search query must be enclosed in double quotes.",
            )
        })?;
    let (props, term) =
        match inner.split_once(':') {
            Some((p, t)) => (
                vec![prop_index(p).ok_or_else(|| {
                    unsupported(format!("Unsupported property '{p}' in $search."))
                })?],
                t,
            ),
            None => (
                [
                    "displayName",
                    "givenName",
                    "surname",
                    "mail",
                    "userPrincipalName",
                ]
                .iter()
                .filter_map(|n| prop_index(n))
                .collect(),
                inner,
            ),
        };
    Ok(Some((props, term.to_ascii_lowercase())))
}

fn search_matches(user: &User, search: &(Vec<usize>, String)) -> bool {
    search.0.iter().any(|i| {
        user.get(*i).as_str().is_some_and(|v| {
            v.to_ascii_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(search.1.as_str()))
        })
    })
}

fn fingerprint(raw_query: &str) -> u64 {
    // FNV-1a over the query without $skiptoken, so a token only works for its own query.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for pair in raw_query
        .split('&')
        .filter(|p| !p.is_empty() && !is_skiptoken(p))
    {
        for b in pair.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= u64::from(b'&');
    }
    h
}

fn is_skiptoken(pair: &str) -> bool {
    let key = pair.split('=').next().unwrap_or("");
    percent_encoding::percent_decode_str(key)
        .decode_utf8_lossy()
        .eq_ignore_ascii_case("$skiptoken")
}

fn make_token(position: u64, fp: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("RFNwdAI:{position}:{fp:x}"))
}

fn read_token(token: &str, fp: u64) -> Option<u64> {
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split(':');
    if parts.next()? != "RFNwdAI" {
        return None;
    }
    let position = parts.next()?.parse().ok()?;
    let token_fp = u64::from_str_radix(parts.next()?, 16).ok()?;
    (token_fp == fp).then_some(position)
}

#[derive(Clone, Copy)]
enum Order {
    Creation,
    By(usize, bool),
}

fn parse_order(ctx: &Ctx<'_>, has_filter: bool, advanced_mode: bool) -> Result<Order, GraphError> {
    let Some(raw) = ctx
        .option("$orderby")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(Order::Creation);
    };
    let mut parts = raw.split_whitespace();
    let name = parts.next().unwrap_or("");
    let desc = parts.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    let i =
        prop_index(name).ok_or_else(|| unsupported("Sorting not supported for current query."))?;
    let default_sortable = matches!(
        PROPS.get(i).map(|p| p.name),
        Some("displayName" | "userPrincipalName")
    );
    if (has_filter || !default_sortable) && !advanced_mode {
        return Err(unsupported("Sorting not supported for current query."));
    }
    Ok(Order::By(i, desc))
}

pub(super) fn list(ctx: &Ctx<'_>) -> Result<HttpResponse, GraphError> {
    if ctx.option("$skip").is_some() {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "'$skip' is not supported by the service.",
        ));
    }
    let advanced_mode = advanced(ctx);
    let fields = select(ctx)?;
    let exp = expand(ctx)?;
    let top = match ctx.option("$top") {
        None => DEFAULT_PAGE,
        Some(t) => match t.trim().parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE as i64).contains(&n) => n as usize,
            _ => {
                return Err(unsupported(format!(
                    "Invalid page size specified: '{t}'. Must be between 1 and {MAX_PAGE} inclusive."
                )));
            }
        },
    };
    let expr = parse_filter(ctx, advanced_mode)?;
    let search = parse_search(ctx)?;
    let order = parse_order(ctx, expr.is_some(), advanced_mode)?;
    let fp = fingerprint(ctx.raw_query);
    let position = match ctx.option("$skiptoken") {
        Some(t) => Some(read_token(t, fp).ok_or_else(|| {
            GraphError::bad_request(
                "Request_BadRequest",
                format!("Invalid $skiptoken value '{t}'."),
            )
        })?),
        None => None,
    };

    let store = ctx.tenant.users.read();
    let keep = |u: &User| {
        expr.as_ref().is_none_or(|e| filter::eval(e, u))
            && search.as_ref().is_none_or(|s| search_matches(u, s))
    };
    let mut page: Vec<Value> = Vec::with_capacity(top.min(store.len()));
    let mut next: Option<u64> = None;
    match order {
        Order::Creation => {
            let mut last = None;
            for (seq, u) in store.iter_after(position) {
                if !keep(u) {
                    continue;
                }
                if page.len() == top {
                    next = last;
                    break;
                }
                page.push(render_user(ctx, &store, u, fields.as_deref(), &exp));
                last = Some(*seq);
            }
        }
        Order::By(i, desc) => {
            let mut all: Vec<&User> = store.live.values().filter(|u| keep(u)).collect();
            all.sort_by_cached_key(|u| u.get(i).as_str().map(str::to_ascii_lowercase));
            if desc {
                all.reverse();
            }
            let offset = position.unwrap_or(0) as usize;
            for u in all.iter().skip(offset).take(top) {
                page.push(render_user(ctx, &store, u, fields.as_deref(), &exp));
            }
            if all.len() > offset + top {
                next = Some((offset + top) as u64);
            }
        }
    }

    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(ctx.context(&context_fragment(fields.as_deref()))),
    );
    if advanced_mode {
        let total = store.live.values().filter(|u| keep(u)).count();
        body.insert("@odata.count".into(), json!(total));
    }
    if let Some(pos) = next {
        let kept: Vec<&str> = ctx
            .raw_query
            .split('&')
            .filter(|p| !p.is_empty() && !is_skiptoken(p))
            .collect();
        let mut link = format!("{}/users?", ctx.service_root());
        if !kept.is_empty() {
            link.push_str(&kept.join("&"));
            link.push('&');
        }
        link.push_str("$skiptoken=");
        link.push_str(&make_token(pos, fp));
        body.insert("@odata.nextLink".into(), json!(link));
    }
    body.insert("value".into(), Value::Array(page));
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

pub(super) fn count(ctx: &Ctx<'_>) -> Result<HttpResponse, GraphError> {
    if !ctx.eventual {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "$count is not currently supported.",
        ));
    }
    let expr = parse_filter(ctx, true)?;
    let search = parse_search(ctx)?;
    let store = ctx.tenant.users.read();
    let n = store
        .live
        .values()
        .filter(|u| expr.as_ref().is_none_or(|e| filter::eval(e, u)))
        .filter(|u| search.as_ref().is_none_or(|s| search_matches(u, s)))
        .count();
    Ok(HttpResponse::Ok()
        .content_type("text/plain;charset=utf-8")
        .body(n.to_string()))
}

/// Resolves `{id|upn}` to a live user's sequence number, with Graph's errors.
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

pub(super) fn get(ctx: &Ctx<'_>, key: &str) -> Result<HttpResponse, GraphError> {
    let fields = select(ctx)?;
    let exp = expand(ctx)?;
    let store = ctx.tenant.users.read();
    let seq = locate(&store, key)?;
    let user = store
        .live
        .get(&seq)
        .ok_or_else(|| GraphError::not_found(key))?;
    let mut obj = Map::new();
    obj.insert(
        "@odata.context".into(),
        json!(ctx.context(&format!("{}/$entity", context_fragment(fields.as_deref())))),
    );
    if let Value::Object(rendered) = render_user(ctx, &store, user, fields.as_deref(), &exp) {
        obj.extend(rendered);
    }
    Ok(ok_json(StatusCode::OK, &Value::Object(obj)))
}

pub(super) fn manager(ctx: &Ctx<'_>, key: &str) -> Result<HttpResponse, GraphError> {
    let fields = select(ctx)?;
    let store = ctx.tenant.users.read();
    let seq = locate(&store, key)?;
    let user = store
        .live
        .get(&seq)
        .ok_or_else(|| GraphError::not_found(key))?;
    let manager = user
        .manager
        .as_deref()
        .and_then(|m| store.by_id(m))
        .ok_or_else(|| GraphError::not_found("manager"))?;
    let mut obj = Map::new();
    obj.insert(
        "@odata.context".into(),
        json!(ctx.context("directoryObjects/$entity")),
    );
    obj.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    obj.extend(manager.render(fields.as_deref(), ctx.beta()));
    Ok(ok_json(StatusCode::OK, &Value::Object(obj)))
}

const SYNCED_REFUSAL: &str = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.";

fn invalid_value(name: &str) -> GraphError {
    GraphError::bad_request(
        "Request_BadRequest",
        format!("Invalid value specified for property '{name}' of resource 'User'."),
    )
}

/// Password complexity as Entra enforces it: 8-256 characters, three of four classes.
pub(crate) fn password_ok(pw: &str) -> bool {
    let len = pw.chars().count();
    let classes = [
        pw.chars().any(|c| c.is_lowercase()),
        pw.chars().any(|c| c.is_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    (8..=256).contains(&len) && classes >= 3
}

fn weak_password() -> GraphError {
    GraphError::bad_request(
        "Request_BadRequest",
        "The specified password does not comply with password complexity requirements. Please provide a different password.",
    )
}

pub(super) fn patch(ctx: &Ctx<'_>, key: &str) -> Result<HttpResponse, GraphError> {
    let body = ctx.json_body()?;
    let Value::Object(changes) = body else {
        return Err(GraphError::bad_request(
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        ));
    };
    let mut store = ctx.tenant.users.write();
    let seq = locate(&store, key)?;
    let user = store
        .live
        .get(&seq)
        .ok_or_else(|| GraphError::not_found(key))?;
    let synced = user.is_synced();
    let old_upn = user.upn().to_owned();

    // Validate everything first so a refused PATCH changes nothing.
    let mut updates: Vec<(usize, Value)> = Vec::new();
    for (name, value) in &changes {
        if name.starts_with('@') {
            continue;
        }
        let Some(i) = prop_index(name) else {
            return Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "Property '{name}' does not exist as a declared property or extension property."
                ),
            ));
        };
        let Some(prop) = PROPS.get(i) else {
            continue;
        };
        match prop.write {
            Write::No => {
                return Err(GraphError::bad_request(
                    "Request_BadRequest",
                    format!("Property '{}' is read-only and cannot be set.", prop.name),
                ));
            }
            Write::Cloud | Write::ClearOnCloud if synced => {
                return Err(GraphError::bad_request(
                    "Request_BadRequest",
                    SYNCED_REFUSAL,
                ));
            }
            Write::ClearOnCloud if !value.is_null() => {
                return Err(GraphError::bad_request(
                    "Request_BadRequest",
                    format!(
                        "Property '{}' is read-only and cannot be set; it can only be cleared.",
                        prop.name
                    ),
                ));
            }
            _ => {}
        }
        let ok = match (prop.kind, value) {
            (_, Value::Null) => {
                prop.name != "accountEnabled"
                    && prop.name != "userPrincipalName"
                    && prop.name != "displayName"
            }
            (Kind::Str, Value::String(_)) | (Kind::Bool, Value::Bool(_)) => true,
            (Kind::StrList, Value::Array(items)) => items.iter().all(Value::is_string),
            (Kind::Json, Value::Object(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(invalid_value(prop.name));
        }
        if i == idx::UPN {
            let upn = value.as_str().unwrap_or("");
            let domain = upn.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            let verified = ctx
                .tenant
                .domains
                .iter()
                .any(|d| d.is_verified && d.name.eq_ignore_ascii_case(domain));
            if !verified {
                return Err(GraphError::bad_request(
                    "Request_BadRequest",
                    "Property userPrincipalName is invalid.",
                ));
            }
            if store.upn_taken(upn, seq) {
                return Err(GraphError::bad_request(
                    "Request_BadRequest",
                    "Another object with the same value for property userPrincipalName already exists.",
                ));
            }
        }
        if i == idx::PASSWORD_PROFILE {
            let pw = value.get("password").and_then(Value::as_str);
            if let Some(pw) = pw
                && !password_ok(pw)
            {
                return Err(weak_password());
            }
        }
        if i == idx::CIPP_USER_EXTENSION
            && let (Value::Object(patch), Some(user)) = (value, store.live.get(&seq))
        {
            // A schema extension is patched member by member: members not sent are kept, a
            // null clears one, and an extension left with no values reads as absent.
            let mut merged = user.get(i).as_object().cloned().unwrap_or_default();
            for (k, v) in patch {
                if v.is_null() {
                    merged.remove(k);
                } else {
                    merged.insert(k.clone(), v.clone());
                }
            }
            let merged = if merged.is_empty() {
                Value::Null
            } else {
                Value::Object(merged)
            };
            updates.push((i, merged));
            continue;
        }
        updates.push((i, value.clone()));
    }

    let stamp = now();
    let mut new_upn = None;
    if let Some(user) = store.get_mut(seq) {
        for (i, value) in updates {
            if i == idx::PASSWORD_PROFILE {
                // The password itself is write-only; keep only the flags, and note the change.
                let mut kept = Map::new();
                for flag in [
                    "forceChangePasswordNextSignIn",
                    "forceChangePasswordNextSignInWithMfa",
                ] {
                    if let Some(v) = value.get(flag) {
                        kept.insert(flag.into(), v.clone());
                    }
                }
                if value.get("password").is_some() {
                    user.set(idx::LAST_PASSWORD_CHANGE, json!(stamp));
                    user.set(idx::SIGN_IN_SESSIONS_VALID_FROM, json!(stamp));
                }
                user.set(i, Value::Object(kept));
                continue;
            }
            if i == idx::UPN {
                new_upn = value.as_str().map(str::to_owned);
            }
            user.set(i, value);
            if i == idx::MAIL {
                super::user_writes::mail_changed(user);
            }
        }
    }
    if let Some(new_upn) = new_upn {
        store.reindex_upn(seq, &old_upn, &new_upn);
    }
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn delete(ctx: &Ctx<'_>, key: &str) -> Result<HttpResponse, GraphError> {
    let mut store = ctx.tenant.users.write();
    let seq = locate(&store, key)?;
    store.soft_delete(seq, &now());
    Ok(HttpResponse::NoContent().finish())
}

pub(super) fn revoke(ctx: &Ctx<'_>, key: &str) -> Result<HttpResponse, GraphError> {
    let mut store = ctx.tenant.users.write();
    let seq = locate(&store, key)?;
    let stamp = now();
    let id = store
        .live
        .get(&seq)
        .map(|u| u.id().to_owned())
        .unwrap_or_default();
    if let Some(user) = store.get_mut(seq) {
        user.set(idx::SIGN_IN_SESSIONS_VALID_FROM, json!(stamp));
    }
    drop(store);
    ctx.sim.refresh_tokens.lock().retain(|_, g| g.user_id != id);
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context("Edm.Boolean"), "value": true}),
    ))
}

/// Password writeback reset for synced users (and cloud users): 202 with an operation Location.
pub(super) fn reset_password(
    ctx: &Ctx<'_>,
    key: &str,
    method_id: &str,
) -> Result<HttpResponse, GraphError> {
    if !method_id.eq_ignore_ascii_case(PASSWORD_METHOD_ID) {
        return Err(GraphError::not_found(method_id));
    }
    let body = ctx.json_body()?;
    let supplied = body
        .get("newPassword")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(pw) = &supplied
        && !password_ok(pw)
    {
        return Err(weak_password());
    }
    let mut store = ctx.tenant.users.write();
    let seq = locate(&store, key)?;
    let stamp = now();
    let Some(user) = store.get_mut(seq) else {
        return Err(GraphError::not_found(key));
    };
    user.set(idx::LAST_PASSWORD_CHANGE, json!(stamp));
    user.set(idx::SIGN_IN_SESSIONS_VALID_FROM, json!(stamp));
    user.set(
        idx::PASSWORD_PROFILE,
        json!({"forceChangePasswordNextSignIn": true}),
    );
    let id = user.id().to_owned();
    let op = uuid::Uuid::new_v4().to_string();
    let location = format!(
        "{}/users/{id}/authentication/operations/{op}",
        ctx.service_root()
    );
    let body = match supplied {
        Some(_) => json!({}),
        None => json!({
            "@odata.context": ctx.context("microsoft.graph.passwordResetResponse"),
            "newPassword": format!("Sim-{}!", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        }),
    };
    Ok(HttpResponse::Accepted()
        .content_type(super::JSON_CT)
        .insert_header(("Location", location))
        .insert_header(("Retry-After", "1"))
        .body(body.to_string()))
}

pub(super) fn reset_operation(
    ctx: &Ctx<'_>,
    key: &str,
    op: &str,
) -> Result<HttpResponse, GraphError> {
    let store = ctx.tenant.users.read();
    locate(&store, key)?;
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context("microsoft.graph.longRunningOperation"),
            "id": op,
            "createdDateTime": now(),
            "lastActionDateTime": now(),
            "status": "succeeded",
            "statusDetail": null,
            "resourceLocation": null,
        }),
    ))
}

fn deleted_value(ctx: &Ctx<'_>, user: &User, fields: Option<&[Field]>) -> Value {
    let mut obj = Map::new();
    obj.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    obj.extend(user.render(fields, ctx.beta()));
    if fields.is_none() {
        obj.insert("deletedDateTime".into(), user.get(idx::DELETED).clone());
    }
    Value::Object(obj)
}

pub(super) fn list_deleted(ctx: &Ctx<'_>) -> Result<HttpResponse, GraphError> {
    let fields = select(ctx)?;
    let expr = parse_filter(ctx, advanced(ctx))?;
    let store = ctx.tenant.users.read();
    let value: Vec<Value> = store
        .deleted
        .values()
        .filter(|u| expr.as_ref().is_none_or(|e| filter::eval(e, u)))
        .map(|u| deleted_value(ctx, u, fields.as_deref()))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(ctx.context("directoryObjects/microsoft.graph.user")),
    );
    if advanced(ctx) {
        body.insert("@odata.count".into(), json!(value.len()));
    }
    body.insert("value".into(), Value::Array(value));
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

pub(super) fn get_deleted(ctx: &Ctx<'_>, id: &str) -> Result<HttpResponse, GraphError> {
    let fields = select(ctx)?;
    let store = ctx.tenant.users.read();
    let (_, user) = store
        .deleted_by_id(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    let mut obj = Map::new();
    obj.insert(
        "@odata.context".into(),
        json!(ctx.context("directoryObjects/$entity")),
    );
    if let Value::Object(v) = deleted_value(ctx, user, fields.as_deref()) {
        obj.extend(v);
    }
    Ok(ok_json(StatusCode::OK, &Value::Object(obj)))
}

pub(super) fn restore_deleted(ctx: &Ctx<'_>, id: &str) -> Result<HttpResponse, GraphError> {
    let mut store = ctx.tenant.users.write();
    let (seq, _) = store
        .deleted_by_id(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    match store.restore(seq) {
        Ok(user) => {
            let mut obj = Map::new();
            obj.insert(
                "@odata.context".into(),
                json!(ctx.context("directoryObjects/$entity")),
            );
            obj.insert("@odata.type".into(), json!("#microsoft.graph.user"));
            obj.extend(user.render(None, ctx.beta()));
            Ok(ok_json(StatusCode::OK, &Value::Object(obj)))
        }
        Err(RestoreError::NotFound) => Err(GraphError::not_found(id)),
        Err(RestoreError::UpnConflict) => Err(GraphError::bad_request(
            "Request_BadRequest",
            "Another object with the same value for property userPrincipalName already exists.",
        )),
    }
}

pub(super) fn purge_deleted(ctx: &Ctx<'_>, id: &str) -> Result<HttpResponse, GraphError> {
    let mut store = ctx.tenant.users.write();
    let (seq, _) = store
        .deleted_by_id(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    store.purge(seq);
    Ok(HttpResponse::NoContent().finish())
}
