//! `/users/{id}/mailboxSettings`: Graph's view of the same mailbox the Exchange cmdlets use.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::exchange::{self, mailbox::Mailbox};

fn no_mailbox() -> GraphError {
    GraphError::new(
        404,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
    )
}

fn not_found(key: &str) -> GraphError {
    GraphError::new(
        404,
        "ErrorInvalidUser",
        format!("The requested user '{key}' is invalid."),
    )
}

fn load(ctx: &Ctx<'_>, key: &str) -> Result<(String, Mailbox), GraphError> {
    let store = ctx.tenant.users.read();
    let user = store.get(key).ok_or_else(|| not_found(key))?;
    let m = exchange::graph_mailbox(ctx.sim, &ctx.tenant, &store, user).ok_or_else(no_mailbox)?;
    Ok((user.id().to_owned(), m))
}

pub(super) fn get(ctx: &Ctx<'_>, key: &str, sub: Option<&str>) -> Result<HttpResponse, GraphError> {
    let (id, m) = load(ctx, key)?;
    let mut body = Map::new();
    let (fragment, value) = match sub {
        Some(_) => (
            format!("users('{id}')/mailboxSettings/automaticRepliesSetting"),
            exchange::auto_reply_to_graph(&m),
        ),
        None => (
            format!("users('{id}')/mailboxSettings"),
            exchange::mailbox_settings(&m),
        ),
    };
    body.insert("@odata.context".into(), json!(ctx.context(&fragment)));
    if let Value::Object(v) = value {
        body.extend(v);
    }
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::bad_request("RequestBodyRead", message)
}

/// PATCH answers 200 with only the properties it changed, as Graph does.
pub(super) fn patch(ctx: &Ctx<'_>, key: &str) -> Result<HttpResponse, GraphError> {
    let Value::Object(changes) = ctx.json_body()? else {
        return Err(bad("The request body must be a JSON object."));
    };
    // The write lock serialises this read-modify-write with Exchange's cmdlets.
    let store = ctx.tenant.users.write();
    let user = store.get(key).ok_or_else(|| not_found(key))?;
    let id = user.id().to_owned();
    let mut m =
        exchange::graph_mailbox(ctx.sim, &ctx.tenant, &store, user).ok_or_else(no_mailbox)?;
    for (k, v) in &changes {
        match k.as_str() {
            "automaticRepliesSetting" => {
                let Value::Object(patch) = v else {
                    return Err(bad("automaticRepliesSetting must be an object."));
                };
                exchange::auto_reply_from_graph(&mut m, patch).map_err(bad)?;
            }
            "timeZone" => m.time_zone = v.as_str().unwrap_or("UTC").to_owned(),
            "dateFormat" => m.date_format = v.as_str().unwrap_or_default().to_owned(),
            "timeFormat" => m.time_format = v.as_str().unwrap_or_default().to_owned(),
            "language" => {
                if let Some(l) = v.get("locale").and_then(Value::as_str) {
                    m.locale = l.to_owned();
                }
            }
            k if k.starts_with('@') => {}
            other => {
                return Err(GraphError::bad_request(
                    "ErrorInvalidProperty",
                    format!("The property '{other}' cannot be updated through mailboxSettings."),
                ));
            }
        }
    }
    if m.auto_reply.state == "Scheduled" && m.auto_reply.end <= m.auto_reply.start {
        return Err(GraphError::bad_request(
            "ErrorInvalidParameter",
            "The end time of the scheduled automatic reply must be after its start time.",
        ));
    }
    let full = exchange::mailbox_settings(&m);
    ctx.tenant.mailboxes.write().insert(id.clone(), m);
    drop(store);
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(ctx.context(&format!("users('{id}')/mailboxSettings"))),
    );
    for k in changes.keys().filter(|k| !k.starts_with('@')) {
        body.insert(k.clone(), full.get(k).cloned().unwrap_or(Value::Null));
    }
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

/// `GET /users/{id}/events`: the meetings the user organises, not cancelled.
pub(super) fn events(ctx: &Ctx<'_>, key: &str) -> Result<HttpResponse, GraphError> {
    let (id, m) = load(ctx, key)?;
    let (upn, name) = {
        let store = ctx.tenant.users.read();
        let user = store.get(key).ok_or_else(|| not_found(key))?;
        (
            user.upn().to_owned(),
            crate::exchange::mailbox::str_at(user, "displayName").to_owned(),
        )
    };
    let value = exchange::devices_calendar::graph_events(&m, &upn, &name);
    let body = json!({
        "@odata.context": ctx.context(&format!("users('{id}')/events")),
        "value": value,
    });
    Ok(ok_json(StatusCode::OK, &body))
}
