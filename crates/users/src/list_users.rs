//! `ListUsers` (CIPP-API `Invoke-ListUsers.ps1`): a tenant's users from Graph beta, with the
//! fields CIPP computes on each row.

use cipp_graph::{GraphClient, GraphVersion};
use futures::{Stream, StreamExt};
use serde_json::{Map, Value, json};

use crate::normalize::normalize_graph_error;
use crate::{UserError, licences, path_segment, query_value};

/// The properties CIPP selects when one user is asked for by id.
const SINGLE_USER_PROPERTIES: &[&str] = &[
    "accountEnabled",
    "ageGroup",
    "assignedLicenses",
    "businessPhones",
    "city",
    "companyName",
    "consentProvidedForMinor",
    "country",
    "createdDateTime",
    "department",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeLeaveDateTime",
    "employeeType",
    "faxNumber",
    "givenName",
    "id",
    "jobTitle",
    "lastPasswordChangeDateTime",
    "legalAgeGroupClassification",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesDistinguishedName",
    "onPremisesImmutableId",
    "onPremisesLastSyncDateTime",
    "onPremisesSyncEnabled",
    "otherMails",
    "postalCode",
    "preferredLanguage",
    "proxyAddresses",
    "showInAddressList",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

const MANAGER_EXPAND: &str = "$expand=manager($select=id,userPrincipalName,displayName)";

/// What the caller asked for.
#[derive(Debug, Default, Clone)]
pub struct ListUsersQuery {
    /// Passed to Graph as `$filter` (CIPP passes it verbatim).
    pub graph_filter: Option<String>,
    /// One user, by object id or UPN.
    pub user_id: Option<String>,
}

/// Lists the users of one tenant (`tenant` is the customer id), or one user with `user_id`.
pub async fn list_users(
    graph: &GraphClient,
    tenant: &str,
    query: &ListUsersQuery,
) -> Result<Vec<Value>, UserError> {
    let filter = query_value(query.graph_filter.as_deref().unwrap_or_default());
    let consistency = [("ConsistencyLevel", "eventual")];
    let users = match query.user_id.as_deref().map(str::trim) {
        Some("") => return Err(UserError::invalid("UserID", "UserID must not be empty")),
        Some(user_id) => {
            let base = format!(
                "users/{}?$top=999&$filter={filter}&$count=true&{MANAGER_EXPAND}",
                path_segment(user_id)
            );
            let selected = format!("{base}&$select={}", SINGLE_USER_PROPERTIES.join(","));
            // CIPP retries once without $select when the selected read fails.
            let user = match graph
                .get(tenant, GraphVersion::Beta, &selected, &consistency)
                .await
            {
                Ok(user) => user,
                Err(first) if first.status() == Some(404) => {
                    return Err(not_found(user_id, &first));
                }
                Err(_) => graph
                    .get(tenant, GraphVersion::Beta, &base, &consistency)
                    .await
                    .map_err(|e| match e.status() {
                        Some(404) => not_found(user_id, &e),
                        _ => failed(e),
                    })?,
            };
            vec![user]
        }
        None => graph
            .get_all(
                tenant,
                GraphVersion::Beta,
                &format!("users/?$top=999&$filter={filter}&$count=true&{MANAGER_EXPAND}"),
                &consistency,
            )
            .await
            .map_err(|e| match e.status() {
                Some(400) => UserError::invalid("graphFilter", normalize_graph_error(&e)),
                _ => failed(e),
            })?,
    };
    Ok(users.into_iter().map(with_computed_fields).collect())
}

/// The users of one tenant page by page, with CIPP's computed fields and `Tenant` set to
/// `tenant_label`: what `ListUsers` streams, for one tenant or for each of many.
pub fn list_users_pages(
    graph: &GraphClient,
    tenant: &str,
    tenant_label: &str,
    graph_filter: Option<&str>,
) -> impl Stream<Item = Result<Vec<Value>, UserError>> + Send + 'static {
    let filter = query_value(graph_filter.unwrap_or_default());
    let label = tenant_label.to_owned();
    graph
        .pages(
            tenant,
            GraphVersion::Beta,
            &format!("users/?$top=999&$filter={filter}&$count=true&{MANAGER_EXPAND}"),
            &[("ConsistencyLevel", "eventual")],
        )
        .map(move |page| match page {
            Ok(page) => Ok(page
                .items
                .into_iter()
                .map(|user| with_tenant(with_computed_fields(user), &label))
                .collect()),
            Err(e) => Err(match e.status() {
                Some(400) => UserError::invalid("graphFilter", normalize_graph_error(&e)),
                _ => failed(e),
            }),
        })
}

/// Adds the `Tenant` field the CIPP frontend reads on rows (CIPP's ListUsers omits it).
pub fn with_tenant(mut row: Value, tenant_label: &str) -> Value {
    if let Value::Object(fields) = &mut row {
        fields.insert("Tenant".into(), Value::String(tenant_label.to_owned()));
    }
    row
}

fn not_found(user_id: &str, error: &cipp_graph::GraphError) -> UserError {
    tracing::debug!(user = user_id, error = %error, "user not found");
    UserError::NotFound {
        message: normalize_graph_error(error),
    }
}

fn failed(error: cipp_graph::GraphError) -> UserError {
    UserError::Failed {
        message: normalize_graph_error(&error),
        source: Some(Box::new(error)),
    }
}

/// Adds CIPP's computed fields: `onPremisesSyncEnabled` as a boolean, `username`, `Aliases`,
/// `LicJoined` and `primDomain`. Every Graph field passes through unchanged.
pub fn with_computed_fields(user: Value) -> Value {
    let Value::Object(mut fields) = user else {
        return user;
    };
    let synced = fields
        .get("onPremisesSyncEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    fields.insert("onPremisesSyncEnabled".into(), Value::Bool(synced));

    let upn = string_field(&fields, "userPrincipalName");
    let (username, domain) = match upn.split_once('@') {
        Some((name, domain)) => (name.to_owned(), domain.to_owned()),
        None => (upn.clone(), String::new()),
    };
    fields.insert("username".into(), Value::String(username));

    let aliases: Vec<&str> = fields
        .get("proxyAddresses")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let aliases = aliases.join(", ");
    fields.insert("Aliases".into(), Value::String(aliases));

    let licences: Vec<&str> = fields
        .get("assignedLicenses")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|l| l.get("skuId").and_then(Value::as_str))
                .filter_map(licences::sku_display_name)
                .collect()
        })
        .unwrap_or_default();
    let licences = licences.join(", ");
    fields.insert("LicJoined".into(), Value::String(licences));
    fields.insert(
        "primDomain".into(),
        json!({ "value": domain, "label": domain }),
    );
    Value::Object(fields)
}

fn string_field(fields: &Map<String, Value>, name: &str) -> String {
    fields
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_fields_follow_cipp() {
        let user = json!({
            "userPrincipalName": "ada@contoso.example",
            "proxyAddresses": ["SMTP:ada@contoso.example", "smtp:a@contoso.example"],
            "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}, {"skuId": "00000000-0000-0000-0000-000000000000"}],
            "onPremisesSyncEnabled": null,
            "manager": {"id": "m"}
        });
        let row = with_computed_fields(user);
        assert_eq!(row["username"], "ada");
        assert_eq!(
            row["Aliases"],
            "SMTP:ada@contoso.example, smtp:a@contoso.example"
        );
        assert_eq!(row["LicJoined"], "Office 365 E3");
        assert_eq!(
            row["primDomain"],
            json!({"value": "contoso.example", "label": "contoso.example"})
        );
        assert_eq!(row["onPremisesSyncEnabled"], false);
        assert_eq!(row["manager"]["id"], "m");
    }
}
