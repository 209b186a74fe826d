//! `ListJITAllowedRoles` (CIPP-API `Invoke-ListJITAllowedRoles.ps1`, newest upstream): which
//! directory roles the caller may grant with ExecJITAdmin. CIPP restricts a caller whose custom
//! roles carry a JIT role template; this service's custom roles carry none, so every caller is
//! unrestricted, as CIPP answers for its base roles and for custom roles without a template.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ListJITAllowedRoles;

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Params {}

/// `{Restricted, AllowedRoleIds}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowedRoles {
    /// Whether only `AllowedRoleIds` may be granted.
    #[serde(rename = "Restricted")]
    pub restricted: bool,
    /// The role template ids allowed (meaningful only when restricted).
    #[serde(rename = "AllowedRoleIds")]
    pub allowed_role_ids: Vec<String>,
}

impl Operation for ListJITAllowedRoles {
    type Params = Params;
    type Answer = AllowedRoles;
    const NAME: &'static str = "ListJITAllowedRoles";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.Role.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListJITAllowedRoles.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Always unrestricted: this service's custom roles (configuration) cannot carry CIPP's `AllowedRolesTemplate`, so no caller is limited to a JIT role template's roles.",
    );

    fn example() -> Value {
        json!({})
    }

    async fn run(_ctx: Ctx, _params: Params) -> Result<Outcome<AllowedRoles>, UserError> {
        Ok(Outcome::json(AllowedRoles {
            restricted: false,
            allowed_role_ids: Vec::new(),
        }))
    }
}
