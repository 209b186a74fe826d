//! CIPP's role model: the four built-in roles (`data/cipp-roles.json`) and custom roles from
//! configuration, checked against an operation's `x-cipp-role` and the target tenant.
//!
//! Texts of refusals are CIPP's (`Test-CIPPAccess.ps1`). One deliberate difference: a custom
//! role's empty allowed-tenant list means *no* tenant (CIPP treats it as every tenant).

use cipp_users_domain::normalize::wildcard_match;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::LazyLock;

const BUILT_IN_ROLES: &str = include_str!("../../data/cipp-roles.json");
const ALL_PERMISSIONS: &str = include_str!("../../../../openapi/cipp-permissions.json");

/// Built-in roles in CIPP's order; when a caller holds several, the later one wins, except that
/// superadmin always beats admin (it is last anyway).
pub const BASE_ROLE_ORDER: [&str; 4] = ["readonly", "editor", "admin", "superadmin"];

#[derive(Debug, Clone, Deserialize)]
struct Patterns {
    include: Vec<String>,
    exclude: Vec<String>,
}

static BASE_ROLES: LazyLock<Vec<(String, Patterns)>> = LazyLock::new(|| {
    let parsed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(BUILT_IN_ROLES).unwrap_or_default();
    parsed
        .into_iter()
        .filter_map(|(name, v)| serde_json::from_value(v).ok().map(|p| (name, p)))
        .collect()
});

/// Every permission an operation anywhere in CIPP requires (the upstream spec's `x-cipp-role` values).
pub static EVERY_PERMISSION: LazyLock<Vec<String>> = LazyLock::new(|| {
    #[derive(Deserialize)]
    struct File {
        permissions: Vec<String>,
    }
    serde_json::from_str::<File>(ALL_PERMISSIONS)
        .map(|f| f.permissions)
        .unwrap_or_default()
});

/// A custom role from configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CustomRole {
    pub name: String,
    /// Permission patterns granted, e.g. `Identity.User.*`; `X.ReadWrite` also grants `X.Read`.
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Tenant ids or domains, or `AllTenants`. Empty means no tenant.
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
    #[serde(default)]
    pub blocked_tenants: Vec<String>,
}

impl CustomRole {
    fn grants(&self, permission: &str) -> bool {
        let included = self.include.iter().any(|p| {
            wildcard_match(p, permission)
                || (permission.ends_with(".Read")
                    && p.ends_with(".ReadWrite")
                    && wildcard_match(&p.replace(".ReadWrite", ".Read"), permission))
        });
        included && !self.exclude.iter().any(|p| wildcard_match(p, permission))
    }

    fn all_tenants(&self) -> bool {
        self.blocked_tenants.is_empty()
            && self
                .allowed_tenants
                .iter()
                .any(|t| t.eq_ignore_ascii_case("AllTenants"))
    }
}

fn base_role_grants(role: &str, permission: &str) -> bool {
    BASE_ROLES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(role))
        .is_some_and(|(_, p)| {
            p.include.iter().any(|i| wildcard_match(i, permission))
                && !p.exclude.iter().any(|e| wildcard_match(e, permission))
        })
}

pub fn is_base_role(name: &str) -> bool {
    BASE_ROLE_ORDER.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// A caller's roles resolved against configuration.
#[derive(Debug, Clone, Default)]
pub struct RoleSet {
    /// The effective built-in role, if any.
    pub base: Option<&'static str>,
    pub custom: Vec<CustomRole>,
}

/// Which tenants a caller may act on.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantScope {
    All,
    /// Allowed tenants and blocked tenants (ids or domains, as configured).
    Limited {
        allowed: Vec<String>,
        blocked: Vec<String>,
        all_except_blocked: bool,
    },
}

impl TenantScope {
    /// Whether a tenant, known by all of its names, is in scope.
    pub fn permits(&self, names: &[&str]) -> bool {
        let named = |list: &[String]| {
            list.iter()
                .any(|entry| names.iter().any(|n| n.eq_ignore_ascii_case(entry)))
        };
        match self {
            TenantScope::All => true,
            TenantScope::Limited {
                allowed,
                blocked,
                all_except_blocked,
            } => (*all_except_blocked || named(allowed)) && !named(blocked),
        }
    }
}

pub const DENIED_NO_ROLE: &str = "Access to this CIPP API endpoint is not allowed, the user does not have the required permission";
pub const DENIED_TENANT: &str = "Access to this tenant is not allowed";

impl RoleSet {
    /// Resolves role names (built-in or custom) against the configured custom roles.
    pub fn resolve(names: &[String], custom_roles: &[CustomRole]) -> Self {
        let base = BASE_ROLE_ORDER
            .iter()
            .rev()
            .find(|b| names.iter().any(|n| n.eq_ignore_ascii_case(b)))
            .copied();
        let custom = custom_roles
            .iter()
            .filter(|c| names.iter().any(|n| n.eq_ignore_ascii_case(&c.name)))
            .cloned()
            .collect();
        RoleSet { base, custom }
    }

    fn is_admin(&self) -> bool {
        matches!(self.base, Some("admin" | "superadmin"))
    }

    /// The operation-level check; `Err` carries CIPP's refusal text.
    pub fn check_permission(&self, permission: &str) -> Result<(), String> {
        if let Some(base) = self.base {
            if !base_role_grants(base, permission) {
                return Err(format!(
                    "Access to this CIPP API endpoint is not allowed, the '{base}' base role does not have the required permission: {permission}"
                ));
            }
            if self.is_admin() || self.custom.is_empty() {
                return Ok(());
            }
        } else if self.custom.is_empty() {
            return Err(DENIED_NO_ROLE.to_owned());
        }
        if self.custom.iter().any(|c| c.grants(permission)) {
            Ok(())
        } else {
            Err(format!(
                "Access to this CIPP API endpoint is not allowed, you do not have the required permission: {permission}"
            ))
        }
    }

    /// The tenants this caller may act on. Built-in roles alone are never tenant-scoped.
    pub fn tenant_scope(&self) -> TenantScope {
        if self.is_admin() || self.custom.is_empty() {
            return TenantScope::All;
        }
        if self.custom.iter().any(CustomRole::all_tenants) {
            return TenantScope::All;
        }
        let mut allowed = Vec::new();
        let mut blocked = Vec::new();
        let mut all_except_blocked = false;
        for role in &self.custom {
            if role
                .allowed_tenants
                .iter()
                .any(|t| t.eq_ignore_ascii_case("AllTenants"))
            {
                all_except_blocked = true;
            }
            allowed.extend(role.allowed_tenants.iter().cloned());
            blocked.extend(role.blocked_tenants.iter().cloned());
        }
        TenantScope::Limited {
            allowed,
            blocked,
            all_except_blocked,
        }
    }

    /// Whether the pseudo-tenant `AllTenants` may be the target of an operation requiring `permission`:
    /// reads yes (narrowed to the caller's tenants), writes only for unrestricted callers.
    pub fn may_target_all_tenants(&self, permission: &str) -> bool {
        self.tenant_scope() == TenantScope::All || !permission.ends_with("Write")
    }

    /// The concrete permissions this caller holds, as `/api/me` lists them.
    pub fn permissions(&self) -> Vec<String> {
        let from_base = |base: &str| -> BTreeSet<String> {
            EVERY_PERMISSION
                .iter()
                .filter(|p| base_role_grants(base, p))
                .cloned()
                .collect()
        };
        let from_custom: BTreeSet<String> = EVERY_PERMISSION
            .iter()
            .filter(|p| self.custom.iter().any(|c| c.grants(p)))
            .cloned()
            .collect();
        let set: BTreeSet<String> = match self.base {
            Some(base) if self.is_admin() || self.custom.is_empty() => from_base(base),
            Some(base) => from_base(base)
                .intersection(&from_custom)
                .cloned()
                .collect(),
            None => from_custom,
        };
        set.into_iter().filter(|p| !p.ends_with("None")).collect()
    }

    /// Role names for display (`/api/me`).
    pub fn names(&self) -> Vec<String> {
        self.base
            .map(str::to_owned)
            .into_iter()
            .chain(self.custom.iter().map(|c| c.name.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(include: &[&str], allowed: &[&str]) -> CustomRole {
        CustomRole {
            name: "helpdesk".into(),
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: vec![],
            allowed_tenants: allowed.iter().map(|s| s.to_string()).collect(),
            blocked_tenants: vec![],
        }
    }

    #[test]
    fn readonly_may_read_but_not_write_and_says_why() {
        let roles = RoleSet::resolve(&["readonly".into()], &[]);
        assert!(roles.check_permission("Identity.User.Read").is_ok());
        assert_eq!(
            roles
                .check_permission("Identity.User.ReadWrite")
                .unwrap_err(),
            "Access to this CIPP API endpoint is not allowed, the 'readonly' base role does not have the required permission: Identity.User.ReadWrite"
        );
    }

    #[test]
    fn editor_beats_readonly_and_superadmin_beats_admin() {
        assert_eq!(
            RoleSet::resolve(&["readonly".into(), "editor".into()], &[]).base,
            Some("editor")
        );
        assert_eq!(
            RoleSet::resolve(&["superadmin".into(), "admin".into()], &[]).base,
            Some("superadmin")
        );
        assert!(
            RoleSet::resolve(&["admin".into()], &[])
                .check_permission("CIPP.SuperAdmin.ReadWrite")
                .is_err()
        );
    }

    #[test]
    fn a_caller_without_roles_is_refused_with_cipps_text() {
        assert_eq!(
            RoleSet::default()
                .check_permission("Identity.User.Read")
                .unwrap_err(),
            DENIED_NO_ROLE
        );
    }

    #[test]
    fn a_custom_readwrite_grant_implies_read_and_nothing_else() {
        let role = custom(&["Identity.User.ReadWrite"], &["t1"]);
        let roles = RoleSet::resolve(&["helpdesk".into()], &[role]);
        assert!(roles.check_permission("Identity.User.Read").is_ok());
        assert!(roles.check_permission("Identity.User.ReadWrite").is_ok());
        assert!(roles.check_permission("Exchange.Mailbox.Read").is_err());
    }

    #[test]
    fn an_empty_allowed_tenant_list_permits_no_tenant() {
        let roles = RoleSet::resolve(&["helpdesk".into()], &[custom(&["*"], &[])]);
        assert!(!roles.tenant_scope().permits(&["any-id", "any.example"]));
    }

    #[test]
    fn a_limited_custom_role_may_target_only_its_tenants_and_never_write_to_all() {
        let roles = RoleSet::resolve(
            &["helpdesk".into()],
            &[custom(&["Identity.User.*"], &["contoso.example"])],
        );
        assert!(roles.tenant_scope().permits(&["id-1", "Contoso.example"]));
        assert!(!roles.tenant_scope().permits(&["id-2", "fabrikam.example"]));
        assert!(roles.may_target_all_tenants("Identity.User.Read"));
        assert!(!roles.may_target_all_tenants("Identity.User.ReadWrite"));
    }

    #[test]
    fn permissions_expand_over_every_upstream_permission() {
        let editor = RoleSet::resolve(&["editor".into()], &[]).permissions();
        assert!(editor.contains(&"Identity.User.ReadWrite".to_string()));
        assert!(!editor.iter().any(|p| p.starts_with("CIPP.Admin.")));
        let superadmin = RoleSet::resolve(&["superadmin".into()], &[]).permissions();
        assert_eq!(
            superadmin.len(),
            EVERY_PERMISSION
                .iter()
                .filter(|p| !p.ends_with("None"))
                .count()
        );
        let custom_only = RoleSet::resolve(
            &["helpdesk".into()],
            &[custom(&["Identity.User.*"], &["x"])],
        )
        .permissions();
        assert!(custom_only.iter().all(|p| p.starts_with("Identity.User.")));
        assert!(!custom_only.is_empty());
    }
}
