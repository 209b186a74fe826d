//! `ExecRestoreDeleted` and `RemoveDeletedObject` (CIPP-API `Invoke-ExecRestoreDeleted.ps1`,
//! `Invoke-RemoveDeletedObject.ps1`): bring an object back from the tenant's deleted items, or
//! delete it for good. The user principal name and display name only name it in the message.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::json;

use crate::normalize::normalize_graph_error;
use crate::{UserError, path_segment};

/// How the message names the object beyond its id.
#[derive(Debug, Default, Clone, Copy)]
pub struct Naming<'a> {
    pub user_principal_name: Option<&'a str>,
    pub display_name: Option<&'a str>,
}

impl Naming<'_> {
    /// CIPP appends each name only when it was given.
    fn suffix(&self) -> String {
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

/// Restores a deleted directory object (POST `directory/deletedItems/{id}/restore`, beta).
pub async fn restore_deleted(
    graph: &GraphClient,
    tenant: &str,
    id: &str,
    naming: Naming<'_>,
) -> Result<String, UserError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let names = naming.suffix();
    graph
        .post(
            tenant,
            GraphVersion::Beta,
            &format!("directory/deletedItems/{}/restore", path_segment(id)),
            &json!({}),
        )
        .await
        .map_err(|error| UserError::Failed {
            message: format!(
                "Failed to restore deleted item with ID: '{id}'{names} Error: {}",
                normalize_graph_error(&error)
            ),
            source: Some(Box::new(error)),
        })?;
    let message = format!("Successfully restored deleted item with ID: '{id}'{names}");
    tracing::info!(tenant, "{message}");
    Ok(message)
}

/// Permanently deletes a deleted directory object (DELETE `directory/deletedItems/{id}`, v1.0).
pub async fn remove_deleted(
    graph: &GraphClient,
    tenant: &str,
    id: &str,
    naming: Naming<'_>,
) -> Result<String, UserError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(UserError::missing("ID"));
    }
    let names = naming.suffix();
    graph
        .delete(
            tenant,
            GraphVersion::V1,
            &format!("directory/deletedItems/{}", path_segment(id)),
        )
        .await
        // CIPP's failure text has no quotes around the id, unlike its success text.
        .map_err(|error| UserError::Failed {
            message: format!(
                "Failed to permanently delete item with ID: {id}{names} Error: {}",
                normalize_graph_error(&error)
            ),
            source: Some(Box::new(error)),
        })?;
    let message = format!("Successfully permanently deleted item with ID: '{id}'{names}");
    tracing::info!(tenant, "{message}");
    Ok(message)
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
