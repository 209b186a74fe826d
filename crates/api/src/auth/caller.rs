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

/// Validates the bearer token of a request and resolves the caller's roles. Any failure is a
/// 401 whose reason goes to the log, not to the caller.
pub async fn authenticate(request: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("no Authorization header"))?;
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
