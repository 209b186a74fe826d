//! The authenticated caller of one request.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;

use super::jwt::Claims;
use super::roles::{RoleSet, is_base_role};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub enum Identity {
    /// An app calling with client credentials (PSA/RMM integrations, scripts).
    ApiClient { client_id: String, name: String },
    /// A signed-in user (a delegated token).
    User {
        user_principal_name: String,
        object_id: String,
    },
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Identity,
    pub roles: RoleSet,
}

impl Caller {
    /// Who did it, for logs: the UPN of a user, or the client's configured name and id.
    pub fn actor(&self) -> String {
        match &self.identity {
            Identity::ApiClient { client_id, name } if !name.is_empty() => {
                format!("{name} ({client_id})")
            }
            Identity::ApiClient { client_id, .. } => client_id.clone(),
            Identity::User {
                user_principal_name,
                ..
            } => user_principal_name.clone(),
        }
    }
}

/// The header Azure Static Web Apps adds for its signed-in users (base64 JSON).
const CLIENT_PRINCIPAL: &str = "x-ms-client-principal";

/// Validates the bearer token of a request (or, with same-origin hosting, its session cookie)
/// and resolves the caller's roles. Any failure is a
/// 401 whose reason goes to the log, not to the caller.
///
/// Static Web Apps mode (off unless configured): a request without a bearer token may carry
/// SWA's `x-ms-client-principal`; its `userRoles` then decide, exactly as a token's roles do.
/// The header is trusted only in that mode, because anyone can send it to an API that is not
/// behind Static Web Apps.
pub async fn authenticate(request: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = request
        .headers()
        .get(CLIENT_PRINCIPAL)
        .and_then(|v| v.to_str().ok());
    let header = match (header, principal) {
        (Some(header), _) => header,
        (None, Some(principal)) if state.settings.static_web_apps => {
            check_same_site(request, state)?;
            return static_web_apps_caller(principal, state);
        }
        (None, Some(_)) => {
            return Err(ApiError::unauthorized(
                "an x-ms-client-principal header was sent but Static Web Apps mode is off",
            ));
        }
        // Same-origin hosting's browser sign-in: a session cookie (`session`).
        (None, None) => {
            return match super::session::cookie_caller(request, state).await {
                Some(caller) => caller,
                None => Err(ApiError::unauthorized("no Authorization header")),
            };
        }
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not a bearer token"))?;
    let claims = state
        .tokens
        .validate(token)
        .await
        .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    Ok(caller_from_claims(&claims, state))
}

/// The header the CIPP frontend sends on every call. A cross-site page can only send a
/// custom header after a CORS preflight, which this API never grants, so its presence shows
/// the request came from a page of the API's own origin.
pub const CIPP_VERSION_HEADER: &str = "x-cipp-version";

/// Cross-site request refusal for cookie-authenticated callers (Static Web Apps: the browser
/// adds the session cookie, and Static Web Apps turns it into `x-ms-client-principal`, to a
/// request any page may send). Every request is checked, not only POSTs, because every
/// operation answers every verb: an `<img>` GET could otherwise disable a user. Bearer callers
/// never reach this: a cross-site page cannot attach a token.
fn check_same_site(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let refuse = |message: String| ApiError {
        code: crate::error::CODE_CROSS_SITE,
        ..ApiError::forbidden(message)
    };
    if !request.headers().contains_key(CIPP_VERSION_HEADER) {
        return Err(refuse(
            "Refused: a request signed in through Static Web Apps must carry the X-CIPP-Version header the CIPP frontend sends (a cross-site page cannot)".into(),
        ));
    }
    if let Some(origin) = request.headers().get(actix_web::http::header::ORIGIN) {
        let origin = origin
            .to_str()
            .unwrap_or_default()
            .trim()
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let allowed = state.settings.static_web_apps_origin.as_deref();
        if allowed != Some(origin.as_str()) {
            return Err(refuse(match allowed {
                Some(_) => format!(
                    "Refused: the request comes from origin '{origin}', not the configured CIPP origin"
                ),
                None => format!(
                    "Refused: the request comes from origin '{origin}' and no CIPP origin is configured (CIPP_STATIC_WEB_APPS_ORIGIN)"
                ),
            }));
        }
    }
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientPrincipal {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    user_details: String,
    #[serde(default)]
    user_roles: Vec<String>,
}

fn static_web_apps_caller(header: &str, state: &AppState) -> Result<Caller, ApiError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .map_err(|e| ApiError::unauthorized(format!("x-ms-client-principal is not base64: {e}")))?;
    let principal: ClientPrincipal = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::unauthorized(format!("x-ms-client-principal is not a principal: {e}"))
    })?;
    if principal.user_details.is_empty() {
        return Err(ApiError::unauthorized(
            "x-ms-client-principal names no user",
        ));
    }
    let known: Vec<String> = principal
        .user_roles
        .into_iter()
        .filter(|r| {
            is_base_role(r)
                || state
                    .settings
                    .custom_roles
                    .iter()
                    .any(|c| c.name.eq_ignore_ascii_case(r))
        })
        .collect();
    Ok(Caller {
        identity: Identity::User {
            user_principal_name: principal.user_details,
            object_id: principal.user_id,
        },
        roles: RoleSet::resolve(&known, &state.settings.custom_roles),
    })
}

fn caller_from_claims(claims: &Claims, state: &AppState) -> Caller {
    let known_role = |name: &String| {
        is_base_role(name)
            || state
                .settings
                .custom_roles
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(name))
    };
    let mut role_names: Vec<String> = claims
        .roles
        .iter()
        .filter(|r| known_role(r))
        .cloned()
        .collect();
    let identity = match claims.user_principal_name() {
        Some(upn) => Identity::User {
            user_principal_name: upn.to_owned(),
            object_id: claims.oid.clone().unwrap_or_default(),
        },
        None => {
            let client_id = claims.client_id().unwrap_or_default().to_owned();
            let configured = state
                .settings
                .api_clients
                .iter()
                .find(|c| c.client_id.eq_ignore_ascii_case(&client_id));
            if let Some(client) = configured {
                role_names.push(client.role.clone());
            }
            Identity::ApiClient {
                name: configured.map(|c| c.name.clone()).unwrap_or_default(),
                client_id,
            }
        }
    };
    Caller {
        identity,
        roles: RoleSet::resolve(&role_names, &state.settings.custom_roles),
    }
}

/// What the users domain sees of the caller.
impl cipp_users_domain::op::CallerInfo for Caller {
    fn actor(&self) -> String {
        Caller::actor(self)
    }

    fn identity(&self) -> cipp_users_domain::op::CallerIdentity {
        use cipp_users_domain::op::CallerIdentity;
        match &self.identity {
            Identity::ApiClient { client_id, name } => CallerIdentity::ApiClient {
                client_id: client_id.clone(),
                name: name.clone(),
            },
            Identity::User {
                user_principal_name,
                object_id,
            } => CallerIdentity::User {
                user_principal_name: user_principal_name.clone(),
                object_id: object_id.clone(),
            },
        }
    }

    fn role_names(&self) -> Vec<String> {
        self.roles.names()
    }

    fn permissions(&self) -> Vec<String> {
        self.roles.permissions()
    }

    fn is_admin(&self) -> bool {
        matches!(self.roles.base, Some("admin" | "superadmin"))
    }

    fn permits_tenant(&self, names: &[&str]) -> bool {
        self.roles.tenant_scope().permits(names)
    }

    fn may_target_all_tenants(&self, permission: &str) -> bool {
        self.roles.may_target_all_tenants(permission)
    }

    fn sees_every_tenant(&self) -> bool {
        self.roles.tenant_scope() == super::roles::TenantScope::All
    }
}
