//! Creating service principals for Microsoft's own apps and their client secrets, as the MFA
//! push set-up uses them (`crate::mfa_push`):
//!
//! - `POST /servicePrincipals` `{"appId"}` → 201 with the new service principal; only
//!   Microsoft first-party apps the simulator knows can be added (Graph's 400 otherwise), and a
//!   second one for the same app is Graph's 409.
//! - `POST /servicePrincipals/{id}/addPassword` `{"passwordCredential": {displayName,
//!   startDateTime, endDateTime}}` → 200 with `secretText` (the only time it is shown) and
//!   `hint`; the credential is listed in the service principal's `passwordCredentials`.
//! - `POST /servicePrincipals/{id}/removePassword` `{"keyId"}` → 204.
//!
//! The secret itself is kept beside the apps, never in the listed object, so only the token
//! endpoint sees it.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use rand::Rng;
use serde_json::{Map, Value, json};

use super::{Ctx, GraphError, ok_json};
use crate::mfa_push::{IssuedSecret, MFA_CLIENT_APP_ID, MFA_CLIENT_APP_NAME};

type Answer = Result<HttpResponse, GraphError>;

/// First-party apps a tenant may not have yet, with their names.
const ADDABLE_APPS: &[(&str, &str)] = &[(MFA_CLIENT_APP_ID, MFA_CLIENT_APP_NAME)];

pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    Some(match (method, s) {
        ("POST", ["servicePrincipals"]) => create(ctx),
        ("POST", ["servicePrincipals", id, "addPassword"]) => add_password(ctx, id),
        ("POST", ["servicePrincipals", id, "removePassword"]) => remove_password(ctx, id),
        _ => return None,
    })
}

fn create(ctx: &Ctx<'_>) -> Answer {
    let body = ctx.json_body()?;
    let app_id = body
        .get("appId")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| {
            GraphError::bad_request(
                "Request_BadRequest",
                "A value is required for property 'appId' of resource 'ServicePrincipal'.",
            )
        })?;
    let Some((_, name)) = ADDABLE_APPS.iter().find(|(id, _)| *id == app_id) else {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            ),
        ));
    };
    let apps = ctx.sim.enterprise_apps.tenant(ctx.sim.seed, &ctx.tenant);
    let mut guard = apps.lock();
    if guard.sps.iter().any(|sp| sp["appId"] == app_id.as_str()) {
        return Err(GraphError::new(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            "Another object with the same value for property servicePrincipalNames already exists.",
        ));
    }
    let created = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "appId": app_id,
        "displayName": name,
        "appDisplayName": name,
        "publisherName": "Microsoft Services",
        "createdDateTime": now_iso(),
        "accountEnabled": true,
        "servicePrincipalType": "Application",
        "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "signInAudience": "AzureADMultipleOrgs",
        "servicePrincipalNames": [app_id],
        "notes": null,
        "tags": [],
        "passwordCredentials": [],
    });
    guard.sps.extend(created.as_object().cloned());
    let mut answer = Map::new();
    answer.insert(
        "@odata.context".into(),
        json!(ctx.context("servicePrincipals/$entity")),
    );
    answer.extend(created.as_object().cloned().unwrap_or_default());
    Ok(ok_json(StatusCode::CREATED, &Value::Object(answer)))
}

fn add_password(ctx: &Ctx<'_>, id: &str) -> Answer {
    let body = ctx.json_body()?;
    let requested = body.get("passwordCredential").cloned().unwrap_or(json!({}));
    let text = |name: &str| {
        requested
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let now = now_iso();
    let start = text("startDateTime").unwrap_or_else(|| now.clone());
    let end = match text("endDateTime") {
        Some(end) => end,
        None => {
            crate::seed::timestamp(time::OffsetDateTime::now_utc().unix_timestamp() + 730 * 86_400)
        }
    };
    let secret = new_secret();
    let key_id = uuid::Uuid::new_v4().to_string();
    let listed = json!({
        "customKeyIdentifier": null,
        "displayName": text("displayName"),
        "endDateTime": end,
        "hint": secret.chars().take(3).collect::<String>(),
        "keyId": key_id,
        "secretText": null,
        "startDateTime": start,
    });
    let apps = ctx.sim.enterprise_apps.tenant(ctx.sim.seed, &ctx.tenant);
    let app_id = {
        let mut guard = apps.lock();
        let sp = guard
            .sps
            .iter_mut()
            .find(|sp| sp["id"] == id)
            .ok_or_else(|| GraphError::not_found(id))?;
        let credentials = sp.entry("passwordCredentials").or_insert_with(|| json!([]));
        if let Some(list) = credentials.as_array_mut() {
            list.push(listed.clone());
        }
        sp.get("appId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    ctx.sim.mfa.add_secret(IssuedSecret {
        tenant_id: ctx.tenant.id.clone(),
        app_id,
        key_id,
        secret: secret.clone(),
        start,
        end,
        added: std::time::Instant::now(),
    });
    let mut answer = listed;
    answer["secretText"] = json!(secret);
    answer["@odata.context"] = json!(ctx.context("microsoft.graph.passwordCredential"));
    Ok(ok_json(StatusCode::OK, &answer))
}

fn remove_password(ctx: &Ctx<'_>, id: &str) -> Answer {
    let body = ctx.json_body()?;
    let Some(key_id) = body.get("keyId").and_then(Value::as_str) else {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "A value is required for property 'keyId'.",
        ));
    };
    let apps = ctx.sim.enterprise_apps.tenant(ctx.sim.seed, &ctx.tenant);
    let mut guard = apps.lock();
    let sp = guard
        .sps
        .iter_mut()
        .find(|sp| sp["id"] == id)
        .ok_or_else(|| GraphError::not_found(id))?;
    let removed = sp
        .get_mut("passwordCredentials")
        .and_then(Value::as_array_mut)
        .map(|list| {
            let before = list.len();
            list.retain(|c| c["keyId"] != key_id);
            before != list.len()
        })
        .unwrap_or(false);
    if !removed {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!("No password credential found with keyId '{key_id}'."),
        ));
    }
    ctx.sim.mfa.remove_secret(&ctx.tenant.id, key_id);
    Ok(HttpResponse::NoContent().finish())
}

fn now_iso() -> String {
    crate::seed::timestamp(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// A secret shaped like Entra's: 40 characters from its alphabet.
fn new_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
