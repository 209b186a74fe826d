//! Who is calling and what they may do: bearer tokens (and, when enabled, Static Web Apps
//! principals) become a [`Caller`] with CIPP roles; [`roles`] decides per operation and tenant.

pub mod caller;
pub mod jwt;
pub mod roles;

pub use caller::Caller;
