//! The Entra side: the v2.0 token endpoint, OpenID discovery documents and JWKS, plus
//! validation of the bearer tokens Graph requests carry.

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Value, json};

use crate::SimApp;
use crate::state::{RefreshGrant, Sim, Tenant};

pub(crate) const GRAPH_AUD: &str = "https://graph.microsoft.com";
pub(crate) const EXCHANGE_AUD: &str = "https://outlook.office365.com";
pub(crate) const LIFETIME: i64 = 3600;

/// The application permissions the partner app holds in Graph and Exchange tokens.
const PARTNER_GRAPH_ROLES: &[&str] = &[
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
    "Group.ReadWrite.All",
    "AuditLog.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "DelegatedAdminRelationship.Read.All",
];
const DELEGATED_SCOPES: &str = "AuditLog.Read.All DelegatedAdminRelationship.ReadWrite.All Directory.AccessAsUser.All Directory.ReadWrite.All Group.ReadWrite.All User.ReadWrite.All UserAuthenticationMethod.ReadWrite.All";

/// An Entra error: the body shape is the same for every AADSTS code.
pub(crate) struct EntraError {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

impl EntraError {
    pub(crate) fn new(
        status: u16,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    pub fn response(&self) -> HttpResponse {
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let now = time::OffsetDateTime::now_utc();
        // Entra's timestamp uses a space, not 'T'.
        let ts = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST))
            .content_type("application/json; charset=utf-8")
            .insert_header(("Cache-Control", "no-store, no-cache"))
            .body(body.to_string())
    }
}

pub(crate) fn unknown_tenant(raw: &str) -> EntraError {
    EntraError::new(
        400,
        "invalid_tenant",
        90002,
        format!(
            "Tenant '{raw}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
        ),
    )
}

/// The Entra error a fault forces for a token request.
pub(crate) fn fault_error(status: u16) -> EntraError {
    match status {
        429 => EntraError::new(
            429,
            "temporarily_unavailable",
            90055,
            "TenantThrottlingError - There are too many incoming requests. This exception is thrown for blocked tenants.",
        ),
        503 | 504 => EntraError::new(
            status,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        ),
        401 => EntraError::new(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided.",
        ),
        400..=499 => EntraError::new(status, "invalid_request", 90014, "The request is invalid."),
        _ => EntraError::new(
            status,
            "server_error",
            90100,
            "An internal server error occurred.",
        ),
    }
}

/// Entra's answer for a given AADSTS code, as forced by an `aadsts` fault.
pub(crate) fn aadsts_error(code: u32) -> EntraError {
    let (status, error, text): (u16, &'static str, &str) = match code {
        65001 => (
            400,
            "invalid_grant",
            "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.",
        ),
        700082 => (
            400,
            "invalid_grant",
            "The refresh token has expired due to inactivity. The token was issued on 2025-09-01T00:00:00.0000000Z and was inactive for 90.00:00:00.",
        ),
        700084 => (
            400,
            "invalid_grant",
            "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended.",
        ),
        70000 => (
            400,
            "invalid_grant",
            "The provided value for the 'refresh_token' is not valid. The refresh token has been revoked or has already been used.",
        ),
        70008 => (
            400,
            "invalid_grant",
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        ),
        53003 => (
            400,
            "invalid_grant",
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        ),
        53000 => (
            400,
            "invalid_grant",
            "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant.",
        ),
        50076 => (
            400,
            "invalid_grant",
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
        ),
        50079 => (
            400,
            "invalid_grant",
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
        ),
        50057 => (
            400,
            "invalid_grant",
            "The user account is disabled. The user object in Active Directory backing this account has been disabled. An admin can re-enable this account through PowerShell.",
        ),
        50126 => (
            400,
            "invalid_grant",
            "Error validating credentials due to invalid username or password.",
        ),
        50173 => (
            400,
            "invalid_grant",
            "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
        ),
        7000215 => (401, "invalid_client", "Invalid client secret provided."),
        7000222 => (
            401,
            "invalid_client",
            "The provided client secret keys for app are expired. Visit the Azure portal to create new keys for your app.",
        ),
        700016 => (
            400,
            "unauthorized_client",
            "Application was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
        ),
        90002 => (
            400,
            "invalid_tenant",
            "Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
        ),
        500011 => (
            400,
            "invalid_resource",
            "The resource principal was not found in the tenant.",
        ),
        70011 => (
            400,
            "invalid_scope",
            "The provided value for the input parameter 'scope' is not valid.",
        ),
        90055 | 50196 => (
            429,
            "temporarily_unavailable",
            "TenantThrottlingError - There are too many incoming requests. This exception is thrown for blocked tenants.",
        ),
        90033 => (
            503,
            "temporarily_unavailable",
            "A transient error has occurred. Please try again.",
        ),
        _ => (400, "invalid_request", "The request is invalid."),
    };
    EntraError::new(status, error, code, text)
}

pub(crate) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

pub(crate) fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

pub(crate) fn missing(name: &str) -> EntraError {
    EntraError::new(
        400,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

enum Resource {
    Graph,
    Exchange,
    Api,
    /// A SharePoint host (its origin is the audience): `https://*.sharepoint.com`, or the
    /// simulator's own origin, where it serves SharePoint under `/_sp/`.
    SharePoint(String),
}

fn resource_for(sim: &Sim, scope: &str) -> Result<Resource, EntraError> {
    // A scope may list several values; Entra issues for the first resource's `.default`.
    let first = scope
        .split_whitespace()
        .find(|s| *s != "offline_access" && *s != "openid" && *s != "profile");
    let invalid = || {
        EntraError::new(
            400,
            "invalid_scope",
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        )
    };
    let Some(first) = first else {
        return Err(invalid());
    };
    let Some(resource) = first.strip_suffix("/.default") else {
        return Err(invalid());
    };
    let resource = resource.trim_end_matches('/');
    if resource.eq_ignore_ascii_case(GRAPH_AUD) {
        Ok(Resource::Graph)
    } else if resource.eq_ignore_ascii_case(EXCHANGE_AUD)
        || resource.eq_ignore_ascii_case("https://outlook.office.com")
    {
        Ok(Resource::Exchange)
    } else if resource.eq_ignore_ascii_case(&sim.base_url)
        || url::Url::parse(resource).is_ok_and(|u| {
            u.scheme() == "https"
                && u.host_str()
                    .is_some_and(|h| h.to_ascii_lowercase().ends_with(".sharepoint.com"))
        })
    {
        Ok(Resource::SharePoint(resource.to_ascii_lowercase()))
    } else if resource.eq_ignore_ascii_case(&format!("api://{}", sim.apps.api_app_id))
        || resource.eq_ignore_ascii_case(&sim.apps.api_app_id)
    {
        Ok(Resource::Api)
    } else {
        Err(EntraError::new(
            400,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        ))
    }
}

fn find_app<'a>(sim: &'a Sim, client_id: &str) -> Option<(&'a SimApp, bool)> {
    if sim.apps.partner.client_id.eq_ignore_ascii_case(client_id) {
        return Some((&sim.apps.partner, true));
    }
    sim.apps
        .clients
        .iter()
        .find(|c| c.client_id.eq_ignore_ascii_case(client_id))
        .map(|c| (c, false))
}

/// A stable object id for an app's service principal in a tenant.
fn sp_object_id(sim: &Sim, client_id: &str, tenant_id: &str) -> String {
    let mut h: u64 = sim.seed ^ 0x5E4C_1CE0;
    for b in client_id.bytes().chain(tenant_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = crate::seed::rng_for(h, 7);
    crate::seed::guid(&mut rng)
}

fn new_refresh_token() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    format!("1.AQ{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Issues a refresh token for the partner admin; used by `/_sim/partner-refresh-token`.
pub(crate) fn issue_partner_refresh_token(sim: &Sim) -> String {
    let token = new_refresh_token();
    sim.refresh_tokens.lock().insert(
        token.clone(),
        RefreshGrant {
            user_id: sim.partner_admin_id.clone(),
        },
    );
    token
}

pub(crate) fn token(
    sim: &Sim,
    tenant: Option<Arc<Tenant>>,
    raw_tenant: &str,
    body: &[u8],
) -> HttpResponse {
    match token_inner(sim, tenant, raw_tenant, body) {
        Ok(v) => HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .insert_header(("Cache-Control", "no-store, no-cache"))
            .body(v.to_string()),
        Err(e) => e.response(),
    }
}

fn token_inner(
    sim: &Sim,
    tenant: Option<Arc<Tenant>>,
    raw_tenant: &str,
    body: &[u8],
) -> Result<Value, EntraError> {
    let Some(tenant) = tenant else {
        return Err(unknown_tenant(raw_tenant));
    };
    let form = parse_form(body);
    let grant = field(&form, "grant_type").ok_or_else(|| missing("grant_type"))?;
    if grant == "authorization_code" {
        return crate::authorize::redeem(sim, &tenant, &form);
    }
    let client_id = field(&form, "client_id").ok_or_else(|| missing("client_id"))?;
    let Some((app, is_partner)) = find_app(sim, client_id) else {
        return Err(EntraError::new(
            400,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                tenant.display_name
            ),
        ));
    };
    let secret = field(&form, "client_secret").ok_or_else(|| {
        EntraError::new(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    })?;
    if secret != app.client_secret {
        return Err(EntraError::new(
            401,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.client_id
            ),
        ));
    }
    let scope = field(&form, "scope").ok_or_else(|| missing("scope"))?;
    let resource = resource_for(sim, scope)?;
    let partner_id = sim.registry.read().partner_id().to_owned();
    let in_partner = tenant.id == partner_id;
    if !in_partner {
        if !is_partner {
            return Err(EntraError::new(
                400,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                    tenant.display_name
                ),
            ));
        }
        if !tenant.has_active_gdap() {
            return Err(EntraError::new(
                400,
                "invalid_grant",
                65001,
                format!(
                    "The user or administrator has not consented to use the application with ID '{client_id}' named '{}'. Send an interactive authorization request for this user and resource.",
                    app.display_name
                ),
            ));
        }
        if matches!(resource, Resource::Api) {
            return Err(EntraError::new(
                400,
                "invalid_resource",
                500011,
                format!(
                    "The resource principal named api://{} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                    sim.apps.api_app_id, tenant.display_name
                ),
            ));
        }
    }

    match grant {
        "client_credentials" => {
            let access = app_token(sim, app, is_partner, &tenant.id, &resource)?;
            Ok(json!({
                "token_type": "Bearer",
                "expires_in": LIFETIME - 1,
                "ext_expires_in": LIFETIME - 1,
                "access_token": access,
            }))
        }
        "refresh_token" => {
            let presented =
                field(&form, "refresh_token").ok_or_else(|| missing("refresh_token"))?;
            if !is_partner {
                return Err(EntraError::new(
                    400,
                    "invalid_grant",
                    9002313,
                    "Invalid request. Request is malformed or invalid.",
                ));
            }
            // Entra issues a new refresh token on every use but, for confidential clients,
            // leaves the presented one valid until it expires or is revoked.
            let grant = sim.refresh_tokens.lock().get(presented).cloned().ok_or_else(|| {
                EntraError::new(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the 'refresh_token' is not valid. The refresh token has been revoked or has already been used.",
                )
            })?;
            let access = user_token(sim, app, &grant.user_id, &tenant.id, &resource)?;
            let next = new_refresh_token();
            sim.refresh_tokens.lock().insert(next.clone(), grant);
            Ok(json!({
                "token_type": "Bearer",
                "scope": scope,
                "expires_in": LIFETIME - 1,
                "ext_expires_in": LIFETIME - 1,
                "access_token": access,
                "refresh_token": next,
            }))
        }
        other => Err(EntraError::new(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

pub(crate) fn sign(sim: &Sim, claims: &Value) -> Result<String, EntraError> {
    let key = sim
        .signing_key()
        .ok_or_else(|| EntraError::new(500, "server_error", 90100, "No signing key."))?;
    key.sign(claims)
        .map_err(|e| EntraError::new(500, "server_error", 90100, e.to_string()))
}

pub(crate) fn times() -> (i64, i64) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    (now, now + LIFETIME)
}

fn app_token(
    sim: &Sim,
    app: &SimApp,
    is_partner: bool,
    tid: &str,
    resource: &Resource,
) -> Result<String, EntraError> {
    let (now, exp) = times();
    let oid = sp_object_id(sim, &app.client_id, tid);
    let claims = match resource {
        Resource::Graph | Resource::Exchange | Resource::SharePoint(_) => {
            // Graph, Exchange and SharePoint tokens are always v1, whichever endpoint issued them.
            let aud = match resource {
                Resource::Graph => GRAPH_AUD,
                Resource::SharePoint(origin) => origin.as_str(),
                _ => EXCHANGE_AUD,
            };
            let mut c = json!({
                "aud": aud,
                "iss": format!("https://sts.windows.net/{tid}/"),
                "iat": now, "nbf": now, "exp": exp,
                "app_displayname": app.display_name,
                "appid": app.client_id,
                "appidacr": "1",
                "idp": format!("https://sts.windows.net/{tid}/"),
                "idtyp": "app",
                "oid": oid,
                "sub": oid,
                "tid": tid,
                "ver": "1.0",
            });
            if is_partner {
                c["roles"] = match resource {
                    Resource::Graph => json!(PARTNER_GRAPH_ROLES),
                    Resource::SharePoint(_) => json!(["Sites.FullControl.All"]),
                    _ => json!(["Exchange.ManageAsApp"]),
                };
            }
            c
        }
        Resource::Api => api_claims(sim, app, tid, &oid, now, exp),
    };
    sign(sim, &claims)
}

fn api_claims(sim: &Sim, app: &SimApp, tid: &str, oid: &str, now: i64, exp: i64) -> Value {
    let mut c = if sim.apps.api_v2 {
        json!({
            "aud": sim.apps.api_app_id,
            "iss": format!("{}/{tid}/v2.0", sim.base_url),
            "iat": now, "nbf": now, "exp": exp,
            "azp": app.client_id,
            "azpacr": "1",
            "idtyp": "app",
            "oid": oid,
            "sub": oid,
            "tid": tid,
            "ver": "2.0",
        })
    } else {
        json!({
            "aud": format!("api://{}", sim.apps.api_app_id),
            "iss": format!("https://sts.windows.net/{tid}/"),
            "iat": now, "nbf": now, "exp": exp,
            "appid": app.client_id,
            "appidacr": "1",
            "idp": format!("https://sts.windows.net/{tid}/"),
            "idtyp": "app",
            "oid": oid,
            "sub": oid,
            "tid": tid,
            "ver": "1.0",
        })
    };
    // Entra leaves `roles` out entirely when the app holds none.
    if !app.roles.is_empty() {
        c["roles"] = json!(app.roles);
    }
    c
}

fn user_token(
    sim: &Sim,
    app: &SimApp,
    user_id: &str,
    tid: &str,
    resource: &Resource,
) -> Result<String, EntraError> {
    let (now, exp) = times();
    let partner_id = sim.registry.read().partner_id().to_owned();
    let aud = match resource {
        Resource::Graph => GRAPH_AUD.to_owned(),
        Resource::Exchange => EXCHANGE_AUD.to_owned(),
        Resource::Api => format!("api://{}", sim.apps.api_app_id),
        Resource::SharePoint(origin) => origin.clone(),
    };
    let claims = json!({
        "aud": aud,
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now, "nbf": now, "exp": exp,
        "acr": "1",
        "amr": ["pwd", "mfa"],
        "app_displayname": app.display_name,
        "appid": app.client_id,
        "appidacr": "1",
        "idp": format!("https://sts.windows.net/{partner_id}/"),
        "idtyp": "user",
        "name": "Sim Admin",
        "oid": user_id,
        "scp": DELEGATED_SCOPES,
        "sub": user_id,
        "tid": tid,
        "unique_name": sim.partner_admin_upn,
        "upn": sim.partner_admin_upn,
        "ver": "1.0",
        "wids": ["62e90394-69f5-4237-9190-012177145e10"],
    });
    sign(sim, &claims)
}

/// Validates a Graph bearer token; Err carries Graph's 401 message.
pub(crate) fn validate_graph(sim: &Sim, header: Option<&str>) -> Result<Value, &'static str> {
    validate(
        sim,
        header,
        &[GRAPH_AUD, "00000003-0000-0000-c000-000000000000"],
    )
}

/// Validates a SharePoint bearer token: issued for the simulator's origin (where it serves
/// SharePoint) or SharePoint's well-known resource id.
pub(crate) fn validate_sharepoint(sim: &Sim, header: Option<&str>) -> Result<Value, &'static str> {
    let own = sim.base_url.to_ascii_lowercase();
    validate(
        sim,
        header,
        &[own.as_str(), "00000003-0000-0ff1-ce00-000000000000"],
    )
}

/// Validates a bearer token for one of `audiences`; Err carries Graph-style 401 text.
pub(crate) fn validate(
    sim: &Sim,
    header: Option<&str>,
    audiences: &[&str],
) -> Result<Value, &'static str> {
    let token = header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("Access token is empty.")?;
    let head = jsonwebtoken::decode_header(token)
        .map_err(|_| "CompactToken parsing failed with error code: 80049217")?;
    let key = head
        .kid
        .as_deref()
        .and_then(|kid| sim.key_by_kid(kid))
        .ok_or("Access token validation failure.")?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(audiences);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "aud"]);
    let data =
        jsonwebtoken::decode::<Value>(token, &key.decoding, &validation).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature
                | jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                    "Access token has expired or is not yet valid."
                }
                jsonwebtoken::errors::ErrorKind::InvalidAudience => "Invalid audience.",
                _ => "Access token validation failure.",
            }
        })?;
    Ok(data.claims)
}

fn v2_issuer(sim: &Sim, tid: &str) -> String {
    format!("{}/{tid}/v2.0", sim.base_url)
}

pub(crate) fn openid_v2(sim: &Sim, tenant: Option<Arc<Tenant>>, raw: &str) -> HttpResponse {
    let tid = match discovery_tid(tenant, raw) {
        Ok(t) => t,
        Err(e) => return e.response(),
    };
    let base = &sim.base_url;
    let doc = json!({
        "token_endpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": v2_issuer(sim, &tid),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{tid}/kerberos"),
        "tenant_region_scope": if tid == "{tenantid}" { Value::Null } else { json!("WW") },
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    });
    discovery_response(&doc)
}

pub(crate) fn openid_v1(sim: &Sim, tenant: Option<Arc<Tenant>>, raw: &str) -> HttpResponse {
    let tid = match discovery_tid(tenant, raw) {
        Ok(t) => t,
        Err(e) => return e.response(),
    };
    let base = &sim.base_url;
    let key_seg = if tid == "{tenantid}" {
        raw.to_owned()
    } else {
        tid.clone()
    };
    let doc = json!({
        "token_endpoint": format!("{base}/{key_seg}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{key_seg}/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": format!("https://sts.windows.net/{tid}/"),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{base}/{key_seg}/oauth2/authorize"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{key_seg}/oauth2/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"],
        "check_session_iframe": format!("{base}/{key_seg}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/{key_seg}/openid/userinfo"),
        "tenant_region_scope": if tid == "{tenantid}" { Value::Null } else { json!("WW") },
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    });
    discovery_response(&doc)
}

/// `/common` and `/organizations` answer with the literal `{tenantid}` placeholder, as Entra does.
fn discovery_tid(tenant: Option<Arc<Tenant>>, raw: &str) -> Result<String, EntraError> {
    if raw.eq_ignore_ascii_case("common") || raw.eq_ignore_ascii_case("organizations") {
        return Ok("{tenantid}".to_owned());
    }
    tenant
        .map(|t| t.id.clone())
        .ok_or_else(|| unknown_tenant(raw))
}

fn discovery_response(doc: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=86400, private"))
        .body(doc.to_string())
}

pub(crate) fn jwks(sim: &Sim, tenant: Option<Arc<Tenant>>, raw: &str, v2: bool) -> HttpResponse {
    let tid = match discovery_tid(tenant, raw) {
        Ok(t) => t,
        Err(e) => return e.response(),
    };
    let issuer = if v2 {
        v2_issuer(sim, &tid)
    } else {
        format!("https://sts.windows.net/{tid}/")
    };
    let keys: Vec<Value> = sim.keys.read().iter().map(|k| k.jwk(&issuer)).collect();
    discovery_response(&json!({"keys": keys}))
}
