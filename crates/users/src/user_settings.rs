//! The CIPP frontend's per-user settings, kept in the store (`ListUserSettings`,
//! `ExecUserSettings`): whose settings a caller's own are.

use crate::op::CallerIdentity;

/// A caller's own settings key: its user principal name, or an API client's client id.
pub fn own_key(identity: &CallerIdentity) -> String {
    match identity {
        CallerIdentity::User {
            user_principal_name,
            ..
        } => user_principal_name.clone(),
        CallerIdentity::ApiClient { client_id, .. } => client_id.clone(),
    }
}
