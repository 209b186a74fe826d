//! CIPP user operations, independent of HTTP frameworks.
//!
//! Each operation is one module with one public async function: it takes the Graph client, a
//! resolved tenant and typed inputs, makes the calls CIPP-API makes in the order it makes them, and
//! returns either the value CIPP answers with or a [`UserError`] carrying CIPP's message text.
//! The API crate maps these to status codes; nothing here knows about HTTP frameworks or status codes.

pub mod bec;
pub mod convert_mailbox;
pub mod deleted_objects;
pub mod demo;
pub mod error;
pub mod folder_permissions;
pub mod graph_proxy_guard;
pub mod group_membership;
pub mod groups;
pub mod jit_admin;
pub mod jit_approval;
pub mod licence_overview;
pub mod licences;
pub mod mailbox_access;
pub mod mailbox_flags;
pub mod mailbox_readback;
pub mod mailbox_reads;
pub mod mailbox_rules;
pub mod managers;
pub mod mfa_connector;
pub mod normalize;
pub mod offboarding;
pub mod offboarding_exchange;
pub mod offboarding_sharepoint;
pub mod onedrive_shortcuts;
pub mod op;
pub mod operations;
pub mod password;
pub(crate) mod read_support;
pub mod scheduled_task;
pub mod scheduled_user;
pub mod task_notify;
pub mod templates;
pub mod tenant_directory;
pub mod tenants;
pub mod user_form;
pub mod user_settings;
pub mod vacation_groups;

pub use error::{ErrorKind, UserError};
pub use tenants::Tenant;

/// Percent-encodes one URL path segment (a user id or UPN) so that it cannot add path segments
/// or a query to the Graph URL. `@` stays literal because Graph addresses users by UPN that way.
pub fn path_segment(value: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'@')
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~')
        .remove(b'\'');
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

/// Whether a user is synced from on-premises AD (CIPP's first call before changing sign-in
/// state or a password: `GET v1.0/users/<id>?$select=onPremisesSyncEnabled`).
pub async fn is_synced(
    graph: &cipp_graph::GraphClient,
    tenant: &str,
    user_segment: &str,
) -> Result<bool, cipp_graph::GraphError> {
    let user = graph
        .get(
            tenant,
            cipp_graph::GraphVersion::V1,
            &format!("users/{user_segment}?$select=onPremisesSyncEnabled"),
            &[],
        )
        .await?;
    Ok(user
        .get("onPremisesSyncEnabled")
        .and_then(serde_json::Value::as_bool)
        == Some(true))
}

/// A GUID in its 8-4-4-4-12 hex form (what Graph takes as an object or SKU id); checked before
/// a value is put into a URL or a Graph body.
pub fn is_guid(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Encodes a caller-supplied OData expression (a `$filter` value) so it stays one query
/// parameter: `&`, `#`, `+` and spaces would otherwise split or change the query.
pub fn query_value(value: &str) -> String {
    const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'&')
        .add(b'#')
        .add(b'+')
        .add(b'%')
        .add(b'"')
        .add(b'<')
        .add(b'>');
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_id_cannot_escape_its_path_segment() {
        assert_eq!(path_segment("a/../b?x=1"), "a%2F..%2Fb%3Fx%3D1");
        assert_eq!(
            path_segment("jo_smith#EXT#@partner.onmicrosoft.com"),
            "jo_smith%23EXT%23@partner.onmicrosoft.com"
        );
    }

    #[test]
    fn a_filter_value_cannot_add_query_parameters() {
        assert_eq!(
            query_value("startswith(displayName,'A') and x eq 'a&$select=id'"),
            "startswith(displayName,'A')%20and%20x%20eq%20'a%26$select=id'"
        );
    }
}
