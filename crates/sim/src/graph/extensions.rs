//! CIPP's Graph schema extension (`ext…_cippUser`): its definition under `/schemaExtensions`,
//! owned by the partner app, and the JIT admin values seeded on a few users per tenant.
//!
//! The values live on the users as one stored property (see `user::PROPS`), so `$select`,
//! `$filter=<ext>/jitAdminEnabled eq true` and PATCH work on them like on any other property.

use actix_web::http::StatusCode;
use rand::Rng;
use serde_json::{Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::seed::timestamp;
use crate::seed_reads::rng_for_id;
use crate::state::UserStore;
use crate::user::idx;

/// The extension's id: Graph prefixes the owner's name (`cippUser`) with `ext` and eight
/// characters of its own. Fixed, because schema extensions are global, not per tenant.
pub(crate) const CIPP_USER_EXTENSION: &str = "extq7k2m9cp_cippUser";

type Answer = Result<actix_web::HttpResponse, GraphError>;

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    match s {
        ["schemaExtensions"] if method == "GET" => Some(list(ctx)),
        ["schemaExtensions", id] if method == "GET" => Some(get(ctx, id)),
        _ => None,
    }
}

fn definition(ctx: &Ctx<'_>) -> Value {
    let property = |name: &str, kind: &str| json!({"name": name, "type": kind});
    json!({
        "id": CIPP_USER_EXTENSION,
        "description": "CIPP User Schema",
        "targetTypes": ["User"],
        "status": "Available",
        "owner": ctx.sim.apps.partner.client_id,
        "properties": [
            property("jitAdminEnabled", "Boolean"),
            property("jitAdminExpiration", "DateTime"),
            property("jitAdminReason", "String"),
            property("jitAdminStartDate", "DateTime"),
            property("jitAdminCreatedBy", "String"),
            property("mailboxType", "String"),
            property("archiveEnabled", "Boolean"),
            property("autoExpandingArchiveEnabled", "Boolean"),
            property("perUserMfaState", "String"),
        ],
    })
}

/// `$filter=owner eq '<app id>'` (or `id eq '…'`) narrows the one definition there is.
fn list(ctx: &Ctx<'_>) -> Answer {
    let def = definition(ctx);
    let keep = match ctx.option("$filter") {
        None => true,
        Some(filter) => {
            let (field, value) = parse_eq(filter).ok_or_else(|| {
                GraphError::bad_request(
                    "BadRequest",
                    format!("Invalid filter clause: '{filter}' is not supported here."),
                )
            })?;
            def.get(field.as_str())
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case(&value))
        }
    };
    let items: Vec<Value> = if keep { vec![def] } else { Vec::new() };
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context("schemaExtensions"), "value": items}),
    ))
}

fn get(ctx: &Ctx<'_>, id: &str) -> Answer {
    if !id.eq_ignore_ascii_case(CIPP_USER_EXTENSION) {
        return Err(GraphError::not_found(id));
    }
    let mut def = definition(ctx);
    if let Some(obj) = def.as_object_mut() {
        obj.insert(
            "@odata.context".into(),
            json!(ctx.context("schemaExtensions/$entity")),
        );
    }
    Ok(ok_json(StatusCode::OK, &def))
}

/// `field eq 'value'` → (field, value); the only filter shape CIPP sends here.
fn parse_eq(filter: &str) -> Option<(String, String)> {
    let (field, rest) = filter.trim().split_once(' ')?;
    let value = rest.trim().strip_prefix("eq")?.trim();
    let value = value.strip_prefix('\'')?.strip_suffix('\'')?;
    Some((field.to_owned(), value.replace("''", "'")))
}

/// JIT admin values on up to four enabled members: one active, one expired (disabled), one
/// scheduled, and one whose extension carries no JIT fields at all (so the filter must skip it).
pub(crate) fn seed_jit_admins(seed: u64, tenant_id: &str, store: &mut UserStore) {
    let candidates: Vec<u64> = store
        .iter_after(None)
        .filter(|(_, u)| {
            u.get(idx::USER_TYPE).as_str() == Some("Member")
                && u.get(crate::user::prop_index("accountEnabled").unwrap_or(0)) == &json!(true)
        })
        .map(|(seq, _)| *seq)
        .collect();
    if candidates.is_empty() {
        return;
    }
    let mut rng = rng_for_id(seed, tenant_id, 11);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let hour = 3600;
    let values = [
        json!({
            "jitAdminEnabled": true,
            "jitAdminStartDate": timestamp(now - 2 * hour),
            "jitAdminExpiration": timestamp(now + 6 * hour),
            "jitAdminReason": "Change CHG0042: Exchange transport rule update",
            "jitAdminCreatedBy": "tech@msp-partner.example",
        }),
        json!({
            "jitAdminEnabled": false,
            "jitAdminStartDate": timestamp(now - 50 * hour),
            "jitAdminExpiration": timestamp(now - 26 * hour),
            "jitAdminReason": "Ticket 1187: licence clean-up",
            "jitAdminCreatedBy": "tech@msp-partner.example",
        }),
        json!({
            "jitAdminEnabled": false,
            "jitAdminStartDate": timestamp(now + 24 * hour),
            "jitAdminExpiration": timestamp(now + 28 * hour),
            "jitAdminReason": "Scheduled: quarterly access review",
            "jitAdminCreatedBy": "lead@msp-partner.example",
        }),
        json!({"mailboxType": "Shared"}),
    ];
    let mut used = Vec::new();
    for value in values {
        if used.len() == candidates.len() {
            break;
        }
        let seq = loop {
            let pick = candidates[rng.random_range(0..candidates.len())];
            if !used.contains(&pick) {
                break pick;
            }
        };
        used.push(seq);
        if let Some(user) = store.get_mut(seq) {
            user.set(idx::CIPP_USER_EXTENSION, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_filter_is_read_as_field_and_value() {
        assert_eq!(
            parse_eq("owner eq 'a1''b'"),
            Some(("owner".to_owned(), "a1'b".to_owned()))
        );
        assert_eq!(parse_eq("owner ne 'x'"), None);
    }
}
