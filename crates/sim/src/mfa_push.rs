//! The Azure MFA connector (StrongAuthenticationService) and the token it needs, as CIPP's
//! "Send MFA push" uses them:
//!
//! - `POST /{tenant}/oauth2/token` (Entra's v1 endpoint): `client_credentials` for the Azure
//!   Multi-Factor Auth Client app (`981f26a1-…`) with a secret from `addPassword` on that app's
//!   service principal in the tenant (`graph::sp_credentials`), `resource` the connector.
//!   Answers the v1 shape (numbers as strings). A secret younger than the propagation delay
//!   is refused with AADSTS7000215, as Entra does for a few seconds; a disabled service
//!   principal gives AADSTS7000112; a tenant without it AADSTS700016.
//! - `POST /StrongAuthenticationService.svc/Connector/BeginTwoWayAuthentication` (the double
//!   slash CIPP sends is accepted too): with `SyncCall=true` a push, answered when the user
//!   answers; with `SyncCall=false` a session for a typed code (`SessionId`), when the user has a
//!   code method (software OATH or a phone).
//! - `POST …/Connector/EndTwoWayAuthentication` with `SessionId` and `AdditionalAuthData`.
//!
//! What a user does with a push is scripted per user (admin API below); by default a user with
//! the Authenticator app approves and one without is not registered
//! (`AuthenticationMethodNotConfigured`). A push that times out answers `PhoneAppNoResponse`
//! after the configured wait. Every prompt is recorded, so a test reads back that it was sent.
//!
//! Admin API: `PUT /_sim/mfa/{tenant}/{user}` `{"push": "approve"|"deny"|"timeout"|"fraud"|
//! "default", "otp": "<code>"}`; `GET /_sim/mfa/{tenant}/{user}` → `{"prompts": [...]}`;
//! `PUT /_sim/mfa` `{"propagation_ms", "timeout_ms"}` (defaults 0 and 300).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use parking_lot::Mutex;
use quick_xml::events::Event;
use serde_json::{Value, json};

use crate::http::Inbound;
use crate::state::{Sim, Tenant};
use crate::tokens::{self, EntraError};

pub(crate) const MFA_CLIENT_APP_ID: &str = "981f26a1-7f43-403b-a875-f8b09b8cd720";
pub(crate) const MFA_CLIENT_APP_NAME: &str = "Azure Multi-Factor Auth Client";
pub(crate) const CONNECTOR_RESOURCE: &str =
    "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector";

/// A client secret `addPassword` handed out, kept where only the token endpoint reads it.
pub(crate) struct IssuedSecret {
    pub tenant_id: String,
    pub app_id: String,
    pub key_id: String,
    pub secret: String,
    pub start: String,
    pub end: String,
    pub added: Instant,
}

/// What a user does when a push arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PushAnswer {
    Approve,
    Deny,
    Timeout,
    Fraud,
}

#[derive(Default, Clone)]
struct Script {
    push: Option<PushAnswer>,
    otp: Option<String>,
}

struct Timing {
    propagation: Duration,
    timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            propagation: Duration::ZERO,
            timeout: Duration::from_millis(300),
        }
    }
}

type UserKey = (String, String);

#[derive(Default)]
pub(crate) struct MfaState {
    secrets: Mutex<Vec<IssuedSecret>>,
    scripts: Mutex<HashMap<UserKey, Script>>,
    prompts: Mutex<HashMap<UserKey, Vec<Value>>>,
    sessions: Mutex<HashMap<String, UserKey>>,
    timing: Mutex<Timing>,
}

impl MfaState {
    pub(crate) fn add_secret(&self, secret: IssuedSecret) {
        self.secrets.lock().push(secret);
    }

    pub(crate) fn remove_secret(&self, tenant_id: &str, key_id: &str) {
        self.secrets
            .lock()
            .retain(|s| !(s.tenant_id == tenant_id && s.key_id == key_id));
    }

    fn record_prompt(&self, key: &UserKey, prompt: Value) {
        self.prompts
            .lock()
            .entry(key.clone())
            .or_default()
            .push(prompt);
    }
}

fn user_key(tenant: &Tenant, upn: &str) -> UserKey {
    (tenant.id.clone(), upn.trim().to_ascii_lowercase())
}

// ---- The v1 token endpoint -------------------------------------------------------------------

pub(crate) fn token_v1(
    sim: &Sim,
    tenant: Option<Arc<Tenant>>,
    raw: &str,
    body: &[u8],
) -> HttpResponse {
    match token_v1_inner(sim, tenant, raw, body) {
        Ok(answer) => HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .insert_header(("Cache-Control", "no-store, no-cache"))
            .body(answer.to_string()),
        Err(e) => e.response(),
    }
}

fn token_v1_inner(
    sim: &Sim,
    tenant: Option<Arc<Tenant>>,
    raw: &str,
    body: &[u8],
) -> Result<Value, EntraError> {
    let tenant = tenant.ok_or_else(|| tokens::unknown_tenant(raw))?;
    let form = tokens::parse_form(body);
    let grant = tokens::field(&form, "grant_type").ok_or_else(|| tokens::missing("grant_type"))?;
    if grant != "client_credentials" {
        return Err(EntraError::new(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    let client_id = tokens::field(&form, "client_id")
        .ok_or_else(|| tokens::missing("client_id"))?
        .to_ascii_lowercase();
    let resource = tokens::field(&form, "resource").ok_or_else(|| tokens::missing("resource"))?;
    if !resource.eq_ignore_ascii_case(CONNECTOR_RESOURCE) {
        return Err(EntraError::new(
            400,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}.",
                tenant.display_name
            ),
        ));
    }
    let secret = tokens::field(&form, "client_secret").unwrap_or("");
    let apps = sim.enterprise_apps.tenant(sim.seed, &tenant);
    let enabled = apps
        .lock()
        .sps
        .iter()
        .find(|sp| sp["appId"] == client_id.as_str())
        .map(|sp| sp["accountEnabled"] != false);
    match enabled {
        None => {
            return Err(EntraError::new(
                400,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                    tenant.display_name
                ),
            ));
        }
        Some(false) => {
            return Err(EntraError::new(
                401,
                "unauthorized_client",
                7000112,
                format!("Application '{client_id}'({MFA_CLIENT_APP_NAME}) is disabled."),
            ));
        }
        Some(true) => {}
    }
    let propagation = sim.mfa.timing.lock().propagation;
    let now = time::OffsetDateTime::now_utc();
    let valid = sim.mfa.secrets.lock().iter().any(|s| {
        s.tenant_id == tenant.id
            && s.app_id == client_id
            && s.secret == secret
            && s.added.elapsed() >= propagation
            && within(&s.start, &s.end, now)
    });
    if !valid {
        return Err(EntraError::new(
            401,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        ));
    }
    let (iat, exp) = tokens::times();
    let claims = json!({
        "aud": CONNECTOR_RESOURCE,
        "iss": format!("https://sts.windows.net/{}/", tenant.id),
        "iat": iat, "nbf": iat, "exp": exp,
        "appid": client_id,
        "appidacr": "1",
        "idtyp": "app",
        "tid": tenant.id,
        "ver": "1.0",
    });
    let token = tokens::sign(sim, &claims)?;
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": (exp - iat).to_string(),
        "ext_expires_in": (exp - iat).to_string(),
        "expires_on": exp.to_string(),
        "not_before": iat.to_string(),
        "resource": CONNECTOR_RESOURCE,
        "access_token": token,
    }))
}

/// Whether `now` lies in the credential's validity; a date that does not parse does not bound it.
fn within(start: &str, end: &str, now: time::OffsetDateTime) -> bool {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    };
    parse(start).is_none_or(|s| s <= now) && parse(end).is_none_or(|e| now < e)
}

// ---- The connector ---------------------------------------------------------------------------

/// The tenant a connector call is for, from its token (for stats and faults).
pub(crate) fn stat_tenant(sim: &Sim, inb: &Inbound<'_>) -> Option<String> {
    tokens::validate(sim, inb.headers.get("authorization"), &[CONNECTOR_RESOURCE])
        .ok()
        .and_then(|c| c.get("tid").and_then(Value::as_str).map(str::to_owned))
}

pub(crate) async fn connector(sim: &Sim, inb: &Inbound<'_>, rest: &str) -> HttpResponse {
    let action = rest
        .trim_start_matches("Connector")
        .trim_start_matches('/')
        .trim_end_matches('/');
    if inb.method != "POST" {
        return HttpResponse::MethodNotAllowed().finish();
    }
    let claims =
        match tokens::validate(sim, inb.headers.get("authorization"), &[CONNECTOR_RESOURCE]) {
            Ok(c) => c,
            Err(message) => {
                return HttpResponse::Unauthorized()
                    .content_type("text/plain; charset=utf-8")
                    .body(message);
            }
        };
    let tenant = claims
        .get("tid")
        .and_then(Value::as_str)
        .and_then(|t| sim.resolve_tenant(t));
    let Some(tenant) = tenant else {
        return HttpResponse::Unauthorized().finish();
    };
    let xml = String::from_utf8_lossy(inb.body);
    match action {
        "BeginTwoWayAuthentication" => begin(sim, &tenant, &xml).await,
        "EndTwoWayAuthentication" => end(sim, &xml),
        _ => HttpResponse::NotFound().finish(),
    }
}

async fn begin(sim: &Sim, tenant: &Tenant, xml: &str) -> HttpResponse {
    let upn = element(xml, "UserPrincipalName").unwrap_or_default();
    let sync = element(xml, "SyncCall").is_none_or(|v| v.eq_ignore_ascii_case("true"));
    let key = user_key(tenant, &upn);
    let methods = user_methods(sim, tenant, &upn);
    let Some(methods) = methods else {
        return two_way("Begin", "UserNotFound", None, false, &upn);
    };
    let has = |kind: &str| {
        methods
            .iter()
            .any(|m| m["@odata.type"] == format!("#microsoft.graph.{kind}").as_str())
    };
    if !sync {
        let can_take_code =
            has("softwareOathAuthenticationMethod") || has("phoneAuthenticationMethod");
        sim.mfa.record_prompt(
            &key,
            json!({"kind": "otp-session", "opened": can_take_code}),
        );
        if !can_take_code {
            return two_way(
                "Begin",
                "AuthenticationMethodNotConfigured",
                None,
                false,
                &upn,
            );
        }
        let session = uuid::Uuid::new_v4().to_string();
        sim.mfa.sessions.lock().insert(session.clone(), key);
        return two_way("Begin", "Success", Some(&session), false, &upn);
    }
    let scripted = sim.mfa.scripts.lock().get(&key).and_then(|s| s.push);
    let answer = match scripted {
        Some(answer) => Some(answer),
        None if has("microsoftAuthenticatorAuthenticationMethod") => Some(PushAnswer::Approve),
        None => None,
    };
    let (value, approved) = match answer {
        None => ("AuthenticationMethodNotConfigured", false),
        Some(PushAnswer::Approve) => ("Success", true),
        Some(PushAnswer::Deny) => ("PhoneAppDenied", false),
        Some(PushAnswer::Fraud) => ("PhoneAppFraud", false),
        Some(PushAnswer::Timeout) => {
            let wait = sim.mfa.timing.lock().timeout;
            tokio::time::sleep(wait).await;
            ("PhoneAppNoResponse", false)
        }
    };
    sim.mfa
        .record_prompt(&key, json!({"kind": "push", "result": value}));
    two_way("Begin", value, None, approved, &upn)
}

fn end(sim: &Sim, xml: &str) -> HttpResponse {
    let session = element(xml, "SessionId").unwrap_or_default();
    let code = element(xml, "AdditionalAuthData").unwrap_or_default();
    let Some(key) = sim.mfa.sessions.lock().remove(&session) else {
        return two_way("End", "SessionNotFound", None, false, "");
    };
    let expected = sim.mfa.scripts.lock().get(&key).and_then(|s| s.otp.clone());
    let right = expected.is_some_and(|e| e == code.trim());
    let value = if right {
        "Success"
    } else {
        "OathCodeIncorrect"
    };
    sim.mfa
        .record_prompt(&key, json!({"kind": "otp-check", "result": value}));
    two_way("End", value, None, right, &key.1)
}

/// The user's authentication methods, `None` when there is no such user.
fn user_methods(sim: &Sim, tenant: &Tenant, upn: &str) -> Option<Vec<Value>> {
    let users = tenant.users.read();
    let user = users.get(upn.trim())?;
    let data = sim.reads.tenant(sim.seed, tenant);
    let mut reads = data.write();
    Some(reads.methods_of(user).clone())
}

/// The connector's answer: the elements in its data-contract order, no namespace.
fn two_way(
    which: &str,
    value: &str,
    session: Option<&str>,
    authenticated: bool,
    upn: &str,
) -> HttpResponse {
    let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
    let body = format!(
        "<{which}TwoWayAuthenticationResponse><Version>1.0</Version><Result><Value>{}</Value><Message/></Result>\
         <SessionId>{}</SessionId><AuthenticationResult>{authenticated}</AuthenticationResult>\
         <UserPrincipalName>{}</UserPrincipalName></{which}TwoWayAuthenticationResponse>",
        esc(value),
        esc(session.unwrap_or("")),
        esc(upn)
    );
    HttpResponse::build(StatusCode::OK)
        .content_type("application/xml; charset=utf-8")
        .body(body)
}

/// The text of the first element named `name` (local name, any prefix), entities resolved.
fn element(xml: &str, name: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if !inside && e.local_name().as_ref() == name.as_bytes() => {
                inside = true;
            }
            Event::Text(t) if inside => text.push_str(&t.decode().ok()?),
            Event::GeneralRef(r) if inside => {
                let entity = format!("&{};", r.decode().ok()?);
                text.push_str(&quick_xml::escape::unescape(&entity).ok()?);
            }
            Event::End(_) if inside => return Some(text.trim().to_owned()),
            Event::Eof => return None,
            _ => {}
        }
    }
}

// ---- Admin API -------------------------------------------------------------------------------

pub(crate) fn admin(sim: &Sim, method: &str, segs: &[&str], body: &[u8]) -> Option<HttpResponse> {
    let bad = |msg: String| HttpResponse::BadRequest().json(json!({ "error": msg }));
    Some(match (method, segs) {
        ("PUT" | "POST", ["mfa"]) => {
            let parsed: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => return Some(bad(e.to_string())),
            };
            let mut timing = sim.mfa.timing.lock();
            if let Some(ms) = parsed.get("propagation_ms").and_then(Value::as_u64) {
                timing.propagation = Duration::from_millis(ms);
            }
            if let Some(ms) = parsed.get("timeout_ms").and_then(Value::as_u64) {
                timing.timeout = Duration::from_millis(ms);
            }
            HttpResponse::Ok().json(json!({
                "propagation_ms": timing.propagation.as_millis() as u64,
                "timeout_ms": timing.timeout.as_millis() as u64,
            }))
        }
        (_, ["mfa", tenant, user]) => {
            let Some(tenant) = sim.resolve_tenant(tenant) else {
                return Some(HttpResponse::NotFound().json(json!({"error": "no such tenant"})));
            };
            let key = user_key(&tenant, user);
            match method {
                "GET" => {
                    let prompts = sim
                        .mfa
                        .prompts
                        .lock()
                        .get(&key)
                        .cloned()
                        .unwrap_or_default();
                    HttpResponse::Ok().json(json!({ "prompts": prompts }))
                }
                "PUT" | "POST" => {
                    let parsed: Value = match serde_json::from_slice(body) {
                        Ok(v) => v,
                        Err(e) => return Some(bad(e.to_string())),
                    };
                    let push = match parsed.get("push").and_then(Value::as_str) {
                        None | Some("default") => None,
                        Some("approve") => Some(PushAnswer::Approve),
                        Some("deny") => Some(PushAnswer::Deny),
                        Some("timeout") => Some(PushAnswer::Timeout),
                        Some("fraud") => Some(PushAnswer::Fraud),
                        Some(other) => {
                            return Some(bad(format!(
                                "push must be approve, deny, timeout, fraud or default, not {other}"
                            )));
                        }
                    };
                    let otp = parsed.get("otp").and_then(Value::as_str).map(str::to_owned);
                    sim.mfa.scripts.lock().insert(key, Script { push, otp });
                    HttpResponse::NoContent().finish()
                }
                _ => HttpResponse::MethodNotAllowed().finish(),
            }
        }
        _ => return None,
    })
}
