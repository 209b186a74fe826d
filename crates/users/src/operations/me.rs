//! `me`: who the caller is and what they may do, in the shape the CIPP frontend reads
//! (`clientPrincipal`, `permissions`). CIPP-API answers it in its access check
//! (`Test-CIPPAccess.ps1`), not in a function of its own.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::NoParams;
use crate::op::{CallerIdentity, Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct Me;

/// A signed-in user or an API client: the frontend reads `clientPrincipal` and `permissions`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum MeAnswer {
    User(MeUser),
    ApiClient(MeApiClient),
}

/// A signed-in user, as Static Web Apps describes one.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeUser {
    #[serde(rename = "clientPrincipal")]
    pub client_principal: MeUserPrincipal,
    /// The concrete permissions the caller holds.
    pub permissions: Vec<String>,
    /// Always `true`: `false` would replace the whole frontend with its setup wizard.
    #[serde(rename = "initialSetupComplete")]
    pub initial_setup_complete: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeUserPrincipal {
    /// Always `aad`.
    #[serde(rename = "identityProvider")]
    pub identity_provider: String,
    /// The user's object id.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The user principal name.
    #[serde(rename = "userDetails")]
    pub user_details: String,
    /// The caller's roles, then `authenticated` and `anonymous`, as Static Web Apps lists them.
    #[serde(rename = "userRoles")]
    pub user_roles: Vec<String>,
}

/// An app calling with client credentials (or a provider's proxy signing its users in with a
/// bearer token): the frontend's pages read `clientPrincipal.userRoles`, so it is there too.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeApiClient {
    #[serde(rename = "clientPrincipal")]
    pub client_principal: MeApiClientPrincipal,
    /// The concrete permissions the caller holds.
    pub permissions: Vec<String>,
    /// Always `true`, as for a signed-in user.
    #[serde(rename = "initialSetupComplete")]
    pub initial_setup_complete: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeApiClientPrincipal {
    /// The client id.
    #[serde(rename = "appId")]
    pub app_id: String,
    /// The client's configured name (empty when it has none).
    #[serde(rename = "appName")]
    pub app_name: String,
    /// The caller's roles.
    #[serde(rename = "appRole")]
    pub app_role: Vec<String>,
    /// Always `aad`.
    #[serde(rename = "identityProvider")]
    pub identity_provider: String,
    /// The client id.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The client's name, or its id when it has none.
    #[serde(rename = "userDetails")]
    pub user_details: String,
    /// The caller's roles, then `authenticated` and `anonymous`, as for a signed-in user: the
    /// frontend decides what to show from these.
    #[serde(rename = "userRoles")]
    pub user_roles: Vec<String>,
}

impl Operation for Me {
    type Params = NoParams;
    type Answer = MeAnswer;
    const NAME: &'static str = "me";
    const TAG: &'static str = "CIPP > Core";
    const ROLE: Option<&'static str> = None;
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Test-CIPPAccess.ps1",
        frontend: Some("src/layouts/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "CIPP answers 403 to API clients holding a built-in role (a parameter-binding bug in `Test-CIPPAccess.ps1`); here every caller gets its permissions. An API client's `clientPrincipal` also carries `userRoles` (its roles, `authenticated`, `anonymous`), `userId`, `userDetails` and `identityProvider`, so the frontend's pages work when a provider's proxy signs users in with bearer tokens.",
    );

    fn example() -> Value {
        json!({})
    }

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<MeAnswer>, UserError> {
        let roles = ctx.caller.role_names();
        let permissions = ctx.caller.permissions();
        let answer = match ctx.caller.identity() {
            CallerIdentity::ApiClient { client_id, name } => {
                let mut user_roles = roles.clone();
                user_roles.extend(["authenticated".to_owned(), "anonymous".to_owned()]);
                MeAnswer::ApiClient(MeApiClient {
                    client_principal: MeApiClientPrincipal {
                        user_details: if name.is_empty() {
                            client_id.clone()
                        } else {
                            name.clone()
                        },
                        user_id: client_id.clone(),
                        app_id: client_id,
                        app_name: name,
                        app_role: roles,
                        identity_provider: "aad".to_owned(),
                        user_roles,
                    },
                    permissions,
                    initial_setup_complete: true,
                })
            }
            CallerIdentity::User {
                user_principal_name,
                object_id,
            } => {
                let mut user_roles = roles;
                user_roles.extend(["authenticated".to_owned(), "anonymous".to_owned()]);
                MeAnswer::User(MeUser {
                    client_principal: MeUserPrincipal {
                        identity_provider: "aad".to_owned(),
                        user_id: object_id,
                        user_details: user_principal_name,
                        user_roles,
                    },
                    permissions,
                    initial_setup_complete: true,
                })
            }
        };
        Ok(Outcome::json(answer))
    }
}
