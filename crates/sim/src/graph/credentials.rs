//! Credential and identity-protection writes: authentication methods by type (list, get,
//! DELETE), Temporary Access Pass creation, sign-in preferences (PATCH), risky users (list, get,
//! dismiss) and the source-of-authority switch (`onPremisesSyncBehavior`).
//!
//! Methods live in `seed_reads::TenantReads::methods`, so `GET …/authentication/methods` sees
//! every change made here. What has no home there (preferred method, risk records, cloud-managed
//! flags) is kept in [`CredentialState`], per tenant; risk records are seeded on first use from
//! the simulator seed and the user id, so start-up does no work for them.

use std::collections::HashMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use parking_lot::Mutex;
use rand::Rng;
use serde_json::{Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::seed::{guid, timestamp};
use crate::seed_reads::{PASSWORD_METHOD_ID, rng_for_id};
use crate::state::UserStore;
use crate::user::{User, idx, prop_index};

type Answer = Result<HttpResponse, GraphError>;

/// The per-type collections under `…/authentication/`, with the `@odata.type` of their items.
const METHOD_TYPES: &[(&str, &str)] = &[
    ("phoneMethods", "phoneAuthenticationMethod"),
    ("emailMethods", "emailAuthenticationMethod"),
    ("fido2Methods", "fido2AuthenticationMethod"),
    (
        "microsoftAuthenticatorMethods",
        "microsoftAuthenticatorAuthenticationMethod",
    ),
    ("softwareOathMethods", "softwareOathAuthenticationMethod"),
    (
        "temporaryAccessPassMethods",
        "temporaryAccessPassAuthenticationMethod",
    ),
    (
        "windowsHelloForBusinessMethods",
        "windowsHelloForBusinessAuthenticationMethod",
    ),
    ("passwordMethods", "passwordAuthenticationMethod"),
];

/// The values `userPreferredMethodForSecondaryAuthentication` accepts, as Graph spells them.
const PREFERRED_METHODS: &[&str] = &[
    "push",
    "oath",
    "voiceMobile",
    "voiceAlternateMobile",
    "voiceOffice",
    "sms",
];

/// State this module keeps beside the users and the read data, by tenant id.
#[derive(Default)]
pub(crate) struct CredentialState {
    tenants: Mutex<HashMap<String, TenantCredentials>>,
}

#[derive(Default)]
struct TenantCredentials {
    /// User id → the preferred secondary method set by PATCH.
    preferred: HashMap<String, String>,
    /// User id → riskyUser record; `None` until first used, then seeded.
    risky: Option<HashMap<String, Value>>,
    /// Object id → `isCloudManaged` set by PATCH.
    cloud_managed: HashMap<String, bool>,
}

/// The preferred method a PATCH stored for a user, if any (read by `GET …/signInPreferences`).
pub(crate) fn stored_preference(ctx: &Ctx<'_>, user_id: &str) -> Option<String> {
    ctx.sim
        .credentials
        .tenants
        .lock()
        .get(&ctx.tenant.id)
        .and_then(|t| t.preferred.get(user_id).cloned())
}

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("POST", ["users", key, "authentication", "temporaryAccessPassMethods"]) => {
            create_tap(ctx, key)
        }
        ("GET", ["users", key, "authentication", kind]) if odata_type(kind).is_some() => {
            list_methods(ctx, key, kind)
        }
        ("GET", ["users", key, "authentication", kind, id]) if odata_type(kind).is_some() => {
            get_method(ctx, key, kind, id)
        }
        ("DELETE", ["users", key, "authentication", kind, id]) if odata_type(kind).is_some() => {
            delete_method(ctx, key, kind, id)
        }
        ("DELETE", ["users", key, "authentication", "qrCodePinMethod"]) if ctx.beta() => {
            // No seeded user has a QR code PIN; Graph answers 404 for a method that is absent.
            with_user(ctx, key, |_| Err(GraphError::not_found("qrCodePinMethod")))
        }
        ("PATCH", ["users", key, "authentication", "signInPreferences"]) if ctx.beta() => {
            set_preferences(ctx, key)
        }
        ("GET", ["riskyUsers"] | ["identityProtection", "riskyUsers"]) => list_risky(ctx),
        ("POST", ["riskyUsers", "dismiss"] | ["identityProtection", "riskyUsers", "dismiss"]) => {
            dismiss_risky(ctx)
        }
        ("GET", ["riskyUsers", id] | ["identityProtection", "riskyUsers", id]) => {
            get_risky(ctx, id)
        }
        (
            _,
            [
                kind @ ("users" | "groups" | "contacts"),
                id,
                "onPremisesSyncBehavior",
            ],
        ) => {
            if !ctx.beta() {
                return Some(Err(GraphError::bad_request(
                    "BadRequest",
                    "Resource not found for the segment 'onPremisesSyncBehavior'.",
                )));
            }
            match method {
                "GET" => get_sync_behavior(ctx, kind, id),
                "PATCH" => set_sync_behavior(ctx, kind, id),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(answer)
}

fn odata_type(kind: &str) -> Option<&'static str> {
    METHOD_TYPES
        .iter()
        .find(|(segment, _)| *segment == kind)
        .map(|(_, t)| *t)
}

fn full_type(kind: &str) -> String {
    format!("#microsoft.graph.{}", odata_type(kind).unwrap_or_default())
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

fn with_user<T>(
    ctx: &Ctx<'_>,
    key: &str,
    f: impl FnOnce(&User) -> Result<T, GraphError>,
) -> Result<T, GraphError> {
    let store = ctx.tenant.users.read();
    f(find(&store, key)?)
}

/// Runs `f` on the user's (seeded on first use) authentication methods.
fn with_methods<T>(
    ctx: &Ctx<'_>,
    key: &str,
    f: impl FnOnce(&User, &mut Vec<Value>) -> Result<T, GraphError>,
) -> Result<T, GraphError> {
    let store = ctx.tenant.users.read();
    let user = find(&store, key)?;
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let mut reads = data.write();
    f(user, reads.methods_of(user))
}

fn list_methods(ctx: &Ctx<'_>, key: &str, kind: &str) -> Answer {
    let wanted = full_type(kind);
    with_methods(ctx, key, |user, methods| {
        let items: Vec<Value> = methods
            .iter()
            .filter(|m| m["@odata.type"] == wanted.as_str())
            .cloned()
            .collect();
        Ok(ok_json(
            StatusCode::OK,
            &json!({
                "@odata.context": ctx.context(&format!("users('{}')/authentication/{kind}", user.id())),
                "value": items,
            }),
        ))
    })
}

fn get_method(ctx: &Ctx<'_>, key: &str, kind: &str, id: &str) -> Answer {
    let wanted = full_type(kind);
    with_methods(ctx, key, |user, methods| {
        let found = methods
            .iter()
            .find(|m| m["@odata.type"] == wanted.as_str() && m["id"] == id)
            .ok_or_else(|| GraphError::not_found(id))?;
        let mut body = found.as_object().cloned().unwrap_or_default();
        body.insert(
            "@odata.context".into(),
            json!(ctx.context(&format!(
                "users('{}')/authentication/{kind}/$entity",
                user.id()
            ))),
        );
        Ok(ok_json(StatusCode::OK, &Value::Object(body)))
    })
}

fn delete_method(ctx: &Ctx<'_>, key: &str, kind: &str, id: &str) -> Answer {
    if kind == "passwordMethods" || id == PASSWORD_METHOD_ID {
        return Err(GraphError::bad_request(
            "badRequest",
            "The password authentication method cannot be deleted.",
        ));
    }
    let wanted = full_type(kind);
    let user_id = with_methods(ctx, key, |user, methods| {
        let before = methods.len();
        methods.retain(|m| !(m["@odata.type"] == wanted.as_str() && m["id"] == id));
        if methods.len() == before {
            return Err(GraphError::not_found(id));
        }
        Ok(user.id().to_owned())
    })?;
    // A preference that named a method type the user no longer has is dropped with it.
    let remaining = with_methods(ctx, key, |_, methods| Ok(methods.clone()))?;
    let mut tenants = ctx.sim.credentials.tenants.lock();
    if let Some(t) = tenants.get_mut(&ctx.tenant.id)
        && let Some(preferred) = t.preferred.get(&user_id)
        && !registered_for(preferred, &remaining)
    {
        t.preferred.remove(&user_id);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Whether the user has a method that can serve `preferred` (a `PREFERRED_METHODS` value).
fn registered_for(preferred: &str, methods: &[Value]) -> bool {
    let has_type = |t: &str| {
        methods
            .iter()
            .any(|m| m["@odata.type"] == format!("#microsoft.graph.{t}").as_str())
    };
    let has_phone = |kind: &str| {
        methods.iter().any(|m| {
            m["@odata.type"] == "#microsoft.graph.phoneAuthenticationMethod"
                && m["phoneType"] == kind
        })
    };
    match preferred {
        "push" => has_type("microsoftAuthenticatorAuthenticationMethod"),
        "oath" => {
            has_type("softwareOathAuthenticationMethod")
                || has_type("microsoftAuthenticatorAuthenticationMethod")
        }
        "voiceMobile" | "sms" => has_phone("mobile"),
        "voiceAlternateMobile" => has_phone("alternateMobile"),
        "voiceOffice" => has_phone("office"),
        _ => false,
    }
}

fn set_preferences(ctx: &Ctx<'_>, key: &str) -> Answer {
    let body = ctx.json_body()?;
    let requested = body
        .get("userPreferredMethodForSecondaryAuthentication")
        .and_then(Value::as_str);
    let Some(requested) = requested else {
        // Only the other property (or nothing) was sent: accepted, nothing stored here.
        with_user(ctx, key, |_| Ok(()))?;
        return Ok(HttpResponse::NoContent().finish());
    };
    // Enum values in requests are case-insensitive; stored as Graph spells them.
    let canonical = PREFERRED_METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(requested))
        .ok_or_else(|| {
            GraphError::bad_request(
                "badRequest",
                format!(
                    "Invalid value '{requested}' for property 'userPreferredMethodForSecondaryAuthentication'."
                ),
            )
        })?;
    let user_id = with_methods(ctx, key, |user, methods| {
        if registered_for(canonical, methods) {
            Ok(user.id().to_owned())
        } else {
            Err(GraphError::bad_request(
                "badRequest",
                format!(
                    "The user has no registered authentication method that supports '{canonical}'."
                ),
            ))
        }
    })?;
    ctx.sim
        .credentials
        .tenants
        .lock()
        .entry(ctx.tenant.id.clone())
        .or_default()
        .preferred
        .insert(user_id, (*canonical).to_owned());
    Ok(HttpResponse::NoContent().finish())
}

/// Parses a request `startDateTime`: ISO 8601 with an offset, or without one (taken as UTC).
fn parse_start(text: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Iso8601;
    if let Ok(t) = time::OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(t);
    }
    time::PrimitiveDateTime::parse(text, &Iso8601::DEFAULT)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// A pass in the shape Graph issues (`+drkzqAD`): eight characters, random per call.
fn new_pass() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789+@#%&*";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

fn create_tap(ctx: &Ctx<'_>, key: &str) -> Answer {
    let body = ctx.json_body()?;
    let invalid = |message: &str| GraphError::bad_request("badRequest", message.to_owned());
    let lifetime = match body.get("lifetimeInMinutes") {
        None | Some(Value::Null) => 60,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| invalid("Invalid value for property 'lifetimeInMinutes'."))?,
    };
    if !(10..=43_200).contains(&lifetime) {
        return Err(invalid(
            "The lifetime of the temporary access pass must be between 10 and 43200 minutes.",
        ));
    }
    let once = match body.get("isUsableOnce") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("Invalid value for property 'isUsableOnce'.")),
    };
    let now = time::OffsetDateTime::now_utc();
    let start = match body.get("startDateTime") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .and_then(parse_start)
                .ok_or_else(|| invalid("Invalid value for property 'startDateTime'."))?,
        ),
    };
    let start_at = start.unwrap_or(now);
    let usable = start_at <= now;
    let created = timestamp(now.unix_timestamp());
    let pass = new_pass();
    with_methods(ctx, key, |user, methods| {
        let id = guid(&mut rng_for_id(
            ctx.sim.seed,
            &format!("{}{}", user.id(), now.unix_timestamp_nanos()),
            41,
        ));
        let stored = json!({
            "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
            "id": id,
            // The secret is shown once, in this answer; reads give null.
            "temporaryAccessPass": null,
            "createdDateTime": created,
            "startDateTime": timestamp(start_at.unix_timestamp()),
            "lifetimeInMinutes": lifetime,
            "isUsableOnce": once,
            "isUsable": usable,
            "methodUsabilityReason": if usable { "EnabledByPolicy" } else { "NotYetValid" },
        });
        // One pass per user: a new one replaces the old.
        methods.retain(|m| m["@odata.type"] != stored["@odata.type"]);
        methods.push(stored.clone());
        let mut answer = stored.as_object().cloned().unwrap_or_default();
        answer.insert("temporaryAccessPass".into(), json!(pass));
        answer.insert(
            "@odata.context".into(),
            json!(ctx.context(&format!(
                "users('{}')/authentication/temporaryAccessPassMethods/$entity",
                user.id()
            ))),
        );
        Ok(ok_json(StatusCode::CREATED, &Value::Object(answer)))
    })
}

fn text_of(user: &User, name: &str) -> Value {
    prop_index(name).map_or(Value::Null, |i| user.get(i).clone())
}

/// The tenant's risk records, seeded once: about one member in ten has been flagged. Built
/// without holding the credential lock, which is never held while another lock is taken.
fn seed_risky(ctx: &Ctx<'_>) {
    let seeded = ctx
        .sim
        .credentials
        .tenants
        .lock()
        .get(&ctx.tenant.id)
        .is_some_and(|t| t.risky.is_some());
    if seeded {
        return;
    }
    let anchor = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut records = HashMap::new();
    for (_, user) in ctx.tenant.users.read().iter_after(None) {
        if user.get(idx::USER_TYPE).as_str() == Some("Guest") {
            continue;
        }
        let mut rng = rng_for_id(ctx.sim.seed, user.id(), 31);
        if !rng.random_bool(0.1) {
            continue;
        }
        let level = ["low", "medium", "high"][rng.random_range(0..3)];
        records.insert(
            user.id().to_owned(),
            json!({
                "id": user.id(),
                "isDeleted": false,
                "isProcessing": false,
                "riskLastUpdatedDateTime": timestamp(anchor - rng.random_range(3_600..30 * 86_400)),
                "riskLevel": level,
                "riskState": "atRisk",
                "riskDetail": "none",
                "userDisplayName": text_of(user, "displayName"),
                "userPrincipalName": user.upn(),
            }),
        );
    }
    let mut tenants = ctx.sim.credentials.tenants.lock();
    let t = tenants.entry(ctx.tenant.id.clone()).or_default();
    if t.risky.is_none() {
        t.risky = Some(records);
    }
}

/// Runs `f` on the tenant's (seeded) risk records.
fn with_risky<T>(ctx: &Ctx<'_>, f: impl FnOnce(&mut HashMap<String, Value>) -> T) -> T {
    seed_risky(ctx);
    let mut tenants = ctx.sim.credentials.tenants.lock();
    let t = tenants.entry(ctx.tenant.id.clone()).or_default();
    f(t.risky.get_or_insert_with(HashMap::new))
}

fn list_risky(ctx: &Ctx<'_>) -> Answer {
    let mut items: Vec<Value> = with_risky(ctx, |r| r.values().cloned().collect());
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    if let Some(filter) = ctx.option("$filter") {
        // The filters CIPP's pages send: `riskState eq 'atRisk'` and the like.
        if let Some((field, value)) = filter.split_once(" eq ") {
            let value = value.trim().trim_matches('\'');
            items.retain(|r| r[field.trim()] == value);
        }
    }
    Ok(ok_json(
        StatusCode::OK,
        &json!({"@odata.context": ctx.context("riskyUsers"), "value": items}),
    ))
}

fn get_risky(ctx: &Ctx<'_>, id: &str) -> Answer {
    let record = with_risky(ctx, |r| r.get(&id.to_ascii_lowercase()).cloned())
        .ok_or_else(|| GraphError::not_found(id))?;
    let mut body = record.as_object().cloned().unwrap_or_default();
    body.insert(
        "@odata.context".into(),
        json!(ctx.context("riskyUsers/$entity")),
    );
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

fn dismiss_risky(ctx: &Ctx<'_>) -> Answer {
    let body = ctx.json_body()?;
    let ids: Vec<String> = match body.get("userIds") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_ascii_lowercase))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                GraphError::bad_request("BadRequest", "Invalid value for property 'userIds'.")
            })?,
        _ => {
            return Err(GraphError::bad_request(
                "BadRequest",
                "The property 'userIds' is required.",
            ));
        }
    };
    // Every id must be a user of the tenant; nothing changes unless all are.
    let ids = {
        let store = ctx.tenant.users.read();
        ids.iter()
            .map(|id| find(&store, id).map(|u| u.id().to_owned()))
            .collect::<Result<Vec<_>, _>>()?
    };
    let now = timestamp(time::OffsetDateTime::now_utc().unix_timestamp());
    with_risky(ctx, |records| {
        for id in ids {
            // A user never flagged has no record; dismissing leaves it without one.
            if let Some(Value::Object(record)) = records.get_mut(&id) {
                record.insert("riskState".into(), json!("dismissed"));
                record.insert("riskLevel".into(), json!("none"));
                record.insert("riskDetail".into(), json!("adminDismissedAllRiskForUser"));
                record.insert("riskLastUpdatedDateTime".into(), json!(now));
            }
        }
    });
    Ok(HttpResponse::NoContent().finish())
}

/// Whether the directory object exists (users by id or UPN, groups by id; no contacts are
/// simulated), and its object id.
fn sync_target(ctx: &Ctx<'_>, kind: &str, id: &str) -> Result<String, GraphError> {
    match kind {
        "users" => with_user(ctx, id, |u| Ok(u.id().to_owned())),
        "groups" => {
            let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
            let reads = data.read();
            reads
                .groups
                .iter()
                .find(|g| g.id().eq_ignore_ascii_case(id))
                .map(|g| g.id().to_owned())
                .ok_or_else(|| GraphError::not_found(id))
        }
        _ => Err(GraphError::not_found(id)),
    }
}

fn get_sync_behavior(ctx: &Ctx<'_>, kind: &str, id: &str) -> Answer {
    let object_id = sync_target(ctx, kind, id)?;
    let managed = ctx
        .sim
        .credentials
        .tenants
        .lock()
        .get(&ctx.tenant.id)
        .and_then(|t| t.cloud_managed.get(&object_id).copied())
        .unwrap_or(false);
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": ctx.context(&format!("{kind}('{object_id}')/onPremisesSyncBehavior/$entity")),
            "isCloudManaged": managed,
        }),
    ))
}

fn set_sync_behavior(ctx: &Ctx<'_>, kind: &str, id: &str) -> Answer {
    let body = ctx.json_body()?;
    let Some(managed) = body.get("isCloudManaged").and_then(Value::as_bool) else {
        return Err(GraphError::bad_request(
            "BadRequest",
            "Invalid value for property 'isCloudManaged'.",
        ));
    };
    let object_id = sync_target(ctx, kind, id)?;
    if kind == "users" {
        // Cloud-managed: the object is no longer mastered on-premises, so Entra edits stick.
        // Back to on-premises: a user that came from AD is synced again (at once, here; the
        // real service waits for the next sync cycle).
        let mut store = ctx.tenant.users.write();
        if let Some(seq) = store.find_seq(&object_id)
            && let Some(user) = store.get_mut(seq)
        {
            let from_ad = !text_of(user, "onPremisesSecurityIdentifier").is_null();
            if managed {
                user.set(idx::ON_PREM_SYNC, json!(false));
            } else if from_ad {
                user.set(idx::ON_PREM_SYNC, json!(true));
            }
        }
    }
    ctx.sim
        .credentials
        .tenants
        .lock()
        .entry(ctx.tenant.id.clone())
        .or_default()
        .cloud_managed
        .insert(object_id, managed);
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_time_without_an_offset_is_read_as_utc() {
        let with = parse_start("2025-01-02T03:04:05Z").map(|t| t.unix_timestamp());
        let without = parse_start("2025-01-02T03:04:05.0000000").map(|t| t.unix_timestamp());
        assert_eq!(with, without);
        assert!(with.is_some());
        assert!(parse_start("next tuesday").is_none());
    }

    #[test]
    fn a_preference_needs_a_method_that_can_serve_it() {
        let methods = vec![json!({
            "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
            "phoneType": "mobile",
        })];
        assert!(registered_for("sms", &methods));
        assert!(registered_for("voiceMobile", &methods));
        assert!(!registered_for("push", &methods));
        assert!(!registered_for("voiceOffice", &methods));
    }

    #[test]
    fn a_pass_has_eight_characters() {
        assert_eq!(new_pass().chars().count(), 8);
    }
}
