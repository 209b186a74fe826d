//! Who is calling and what they may do: bearer tokens (and, when enabled, Static Web Apps
//! principals, and same-origin hosting's sign-in sessions) become a [`Caller`] with CIPP roles; [`roles`] decides per operation and tenant.

pub mod caller;
pub mod jwt;
pub mod roles;
pub mod session;
pub mod sign_in;

pub use caller::Caller;
