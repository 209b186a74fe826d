//! A user's sponsors (`PUT|POST users/{id}/sponsors/$ref`, `GET users/{id}/sponsors`,
//! `DELETE users/{id}/sponsors/{sponsor}/$ref`): the users or groups responsible for a guest
//! or member, as Graph keeps them. Adding a sponsor the user already has is Graph's conflict.

use actix_web::HttpResponse;
use serde_json::{Value, json};

use super::{Ctx, GraphError};

type Answer = Result<HttpResponse, GraphError>;

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("PUT" | "POST", ["users", key, "sponsors", "$ref"]) => add_sponsor(ctx, key),
        ("GET", ["users", key, "sponsors"]) => list_sponsors(ctx, key),
        ("DELETE", ["users", key, "sponsors", sponsor, "$ref"]) => {
            remove_sponsor(ctx, key, sponsor)
        }
        _ => return None,
    };
    Some(answer)
}

fn user_id(ctx: &Ctx<'_>, key: &str) -> Result<String, GraphError> {
    ctx.tenant
        .users
        .read()
        .get(key)
        .map(|u| u.id().to_owned())
        .ok_or_else(|| GraphError::not_found(key))
}

fn add_sponsor(ctx: &Ctx<'_>, key: &str) -> Answer {
    let user = user_id(ctx, key)?;
    let body = ctx.json_body()?;
    let link = body
        .get("@odata.id")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            GraphError::bad_request(
                "Request_BadRequest",
                "Missing required property '@odata.id'.",
            )
        })?;
    let target = link
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let sponsor = user_id(ctx, &target)?;
    let mut sponsors = ctx.tenant.sponsors.write();
    let list = sponsors.entry(user).or_default();
    if list.contains(&sponsor) {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'sponsors'.",
        ));
    }
    list.push(sponsor);
    Ok(HttpResponse::NoContent().finish())
}

fn list_sponsors(ctx: &Ctx<'_>, key: &str) -> Answer {
    let user = user_id(ctx, key)?;
    let ids = ctx
        .tenant
        .sponsors
        .read()
        .get(&user)
        .cloned()
        .unwrap_or_default();
    let users = ctx.tenant.users.read();
    let rows: Vec<Value> = ids
        .iter()
        .filter_map(|id| users.get(id))
        .map(|u| {
            json!({
                "@odata.type": "#microsoft.graph.user",
                "id": u.id(),
                "displayName": crate::user::prop_index("displayName").map(|i| u.get(i).clone()),
                "userPrincipalName": u.upn(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "value": rows })))
}

fn remove_sponsor(ctx: &Ctx<'_>, key: &str, sponsor: &str) -> Answer {
    let user = user_id(ctx, key)?;
    let mut sponsors = ctx.tenant.sponsors.write();
    let list = sponsors.entry(user).or_default();
    let before = list.len();
    list.retain(|s| !s.eq_ignore_ascii_case(sponsor));
    if list.len() == before {
        return Err(GraphError::not_found(sponsor));
    }
    Ok(HttpResponse::NoContent().finish())
}
