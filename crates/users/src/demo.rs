//! Names from demo mode's simulated Microsoft 365 (seed 365, the default), used by the request
//! examples in the OpenAPI document so Swagger UI's "Try it out" works against demo mode. A test
//! runs every example against demo mode and fails when one of these no longer exists.

/// The first demo customer tenant (the demo custom role's only tenant).
pub const TENANT: &str = "contoso.example";
pub const TENANT_ID: &str = "475dc858-a69e-46d3-96ff-74fcc8906550";
/// A second demo tenant.
pub const OTHER_TENANT: &str = "fabrikam.example";
/// A cloud-only, enabled, licensed user of [`TENANT`].
pub const USER: &str = "kenji.robbins@contoso.example";
pub const USER_ID: &str = "5e8dc4ec-274a-4a5f-9c08-e54c84f02ee0";
/// Another cloud-only user, for examples that remove or restore something.
pub const OTHER_USER: &str = "olga.watanabe@contoso.example";
pub const OTHER_USER_ID: &str = "acb5caca-543a-411b-84c8-31b11cdc210c";
/// A user synced from on-premises AD.
pub const SYNCED_USER: &str = "enrico.braun@contoso.example";
