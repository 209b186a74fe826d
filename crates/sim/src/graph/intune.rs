//! Intune managed-device actions, as CIPP's `ExecDeviceAction` sends them (beta):
//! `POST deviceManagement/managedDevices('{id}')/{action}`, `POST …('{id}')/users/$ref` (primary
//! user), `DELETE deviceManagement/managedDevices/{id}`, and `GET …/{id}` / `GET …/{id}/users` to
//! read the effect back.
//!
//! Each accepted action is recorded on the device as Graph reports it, in `deviceActionResults`
//! (`actionName`, `actionState: pending`, times); `setDeviceName` also renames the device at
//! once (Intune does it at the next check-in) so a test can read the name back. An action Graph
//! does not have is its 400 "Resource not found for the segment".

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::reads::{collection, select};
use super::{Ctx, GraphError, ok_json};
use crate::seed_reads::Device;

type Answer = Result<HttpResponse, GraphError>;

/// The managedDevice actions Graph (beta) has that CIPP's device pages send.
const ACTIONS: &[&str] = &[
    "syncDevice",
    "rebootNow",
    "shutDown",
    "remoteLock",
    "resetPasscode",
    "retire",
    "wipe",
    "cleanWindowsDevice",
    "locateDevice",
    "windowsDefenderScan",
    "windowsDefenderUpdateSignatures",
    "rotateLocalAdminPassword",
    "rotateBitLockerKeys",
    "rotateFileVaultKey",
    "bypassActivationLock",
    "enableLostMode",
    "disableLostMode",
    "playLostModeSound",
    "setDeviceName",
    "createDeviceLogCollectionRequest",
    "pauseConfigurationRefresh",
    "initiateOnDemandProactiveRemediation",
    "recoverPasscode",
    "triggerConfigurationManagerAction",
    "updateWindowsDeviceAccount",
    "deprovision",
    "disable",
    "reenable",
];

/// Answers the routes this module owns; `None` for every other path.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &str, s: &[&str]) -> Option<Answer> {
    let answer = match (method, s) {
        ("GET", ["deviceManagement", "managedDevices", id]) => get(ctx, id),
        ("DELETE", ["deviceManagement", "managedDevices", id]) => delete(ctx, id),
        ("GET", ["deviceManagement", "managedDevices", id, "users"]) => users(ctx, id),
        ("POST", ["deviceManagement", "managedDevices", id, "users", "$ref"]) => set_user(ctx, id),
        ("POST", ["deviceManagement", "managedDevices", id, action]) => act(ctx, id, action),
        _ => return None,
    };
    Some(answer)
}

fn managed_id(d: &Device) -> Option<&str> {
    d.managed
        .as_ref()
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
}

fn with_device<R>(
    ctx: &Ctx<'_>,
    id: &str,
    f: impl FnOnce(&mut Map<String, Value>) -> Result<R, GraphError>,
) -> Result<R, GraphError> {
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let mut r = data.write();
    let device = r
        .devices
        .iter_mut()
        .find(|d| managed_id(d).is_some_and(|m| m.eq_ignore_ascii_case(id)))
        .and_then(|d| d.managed.as_mut())
        .ok_or_else(|| {
            GraphError::new(
                404,
                "ResourceNotFound",
                format!("{{\r\n  \"_version\": 3,\r\n  \"Message\": \"Resource not found: managedDevice {id}\"\r\n}}"),
            )
        })?;
    f(device)
}

fn get(ctx: &Ctx<'_>, id: &str) -> Answer {
    let row = with_device(ctx, id, |m| {
        let mut row = m.clone();
        row.entry("deviceActionResults")
            .or_insert_with(|| json!([]));
        Ok(row)
    })?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(ctx.context("deviceManagement/managedDevices/$entity")),
    );
    body.extend(select(ctx, row));
    Ok(ok_json(StatusCode::OK, &Value::Object(body)))
}

fn delete(ctx: &Ctx<'_>, id: &str) -> Answer {
    let data = ctx.sim.reads.tenant(ctx.sim.seed, &ctx.tenant);
    let mut r = data.write();
    let device = r
        .devices
        .iter_mut()
        .find(|d| managed_id(d).is_some_and(|m| m.eq_ignore_ascii_case(id)))
        .ok_or_else(|| GraphError::not_found(id))?;
    device.managed = None;
    Ok(HttpResponse::NoContent().finish())
}

fn users(ctx: &Ctx<'_>, id: &str) -> Answer {
    let user_id = with_device(ctx, id, |m| {
        Ok(m.get("userId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned())
    })?;
    let store = ctx.tenant.users.read();
    let items: Vec<Value> = super::reads::user_ref(ctx, &store, &user_id)
        .into_iter()
        .collect();
    collection(ctx, "users", items, 100)
}

fn set_user(ctx: &Ctx<'_>, id: &str) -> Answer {
    let key = super::relations::referenced(ctx)?;
    let store = ctx.tenant.users.read();
    let user = store.get(&key).ok_or_else(|| GraphError::not_found(&key))?;
    let text =
        |name: &str| crate::user::prop_index(name).map_or(Value::Null, |i| user.get(i).clone());
    let (uid, upn, name, mail) = (
        user.id().to_owned(),
        text("userPrincipalName"),
        text("displayName"),
        text("mail"),
    );
    drop(store);
    with_device(ctx, id, |m| {
        m.insert("userId".into(), json!(uid));
        m.insert("userPrincipalName".into(), upn);
        m.insert("userDisplayName".into(), name);
        m.insert("emailAddress".into(), mail);
        Ok(())
    })?;
    Ok(HttpResponse::NoContent().finish())
}

fn act(ctx: &Ctx<'_>, id: &str, action: &str) -> Answer {
    let Some(name) = ACTIONS.iter().find(|a| a.eq_ignore_ascii_case(action)) else {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!("Resource not found for the segment '{action}'."),
        ));
    };
    let body = ctx.json_body()?;
    let new_name = if *name == "setDeviceName" {
        match body.get("deviceName").and_then(Value::as_str) {
            Some(n) if !n.trim().is_empty() => Some(n.to_owned()),
            _ => {
                return Err(GraphError::bad_request(
                    "BadRequest",
                    "The parameter 'deviceName' is required.",
                ));
            }
        }
    } else {
        None
    };
    let now = super::inner_date() + "Z";
    with_device(ctx, id, |m| {
        if let Some(n) = new_name {
            m.insert("deviceName".into(), json!(n));
        }
        let results = m.entry("deviceActionResults").or_insert_with(|| json!([]));
        if let Value::Array(list) = results {
            list.push(json!({
                "actionName": name,
                "actionState": "pending",
                "startDateTime": now,
                "lastUpdatedDateTime": now,
            }));
        }
        Ok(())
    })?;
    Ok(HttpResponse::NoContent().finish())
}
