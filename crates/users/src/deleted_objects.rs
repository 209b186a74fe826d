//! What `ExecRestoreDeleted` and `RemoveDeletedObject` share: their parameters and how their messages name the
//! deleted item. The user principal name and display name only name it in the message.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::op::types::Guid;

/// How the message names the object beyond its id.
#[derive(Debug, Default, Clone, Copy)]
pub struct Naming<'a> {
    pub user_principal_name: Option<&'a str>,
    pub display_name: Option<&'a str>,
}

impl Naming<'_> {
    /// CIPP appends each name only when it was given.
    pub fn suffix(&self) -> String {
        let mut out = String::new();
        if let Some(upn) = self
            .user_principal_name
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            out.push_str(&format!(" User Principal Name: '{upn}'"));
        }
        if let Some(name) = self.display_name.map(str::trim).filter(|s| !s.is_empty()) {
            out.push_str(&format!(" Display Name: '{name}'"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_given_are_appended() {
        assert_eq!(Naming::default().suffix(), "");
        let both = Naming {
            user_principal_name: Some("ada@x.example"),
            display_name: Some("Ada"),
        };
        assert_eq!(
            both.suffix(),
            " User Principal Name: 'ada@x.example' Display Name: 'Ada'"
        );
        let blank = Naming {
            user_principal_name: Some("  "),
            display_name: Some("Ada"),
        };
        assert_eq!(blank.suffix(), " Display Name: 'Ada'");
    }
}

/// A deleted item as ExecRestoreDeleted and RemoveDeletedObject are sent it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeletedItem {
    /// The deleted item's object id.
    #[serde(rename = "ID")]
    pub id: Guid,
    /// Names the item in the message only.
    #[serde(rename = "userPrincipalName")]
    pub user_principal_name: Option<String>,
    /// Names the item in the message only.
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
}
