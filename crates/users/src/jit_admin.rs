//! `ListJITAdmin` (CIPP-API `Invoke-ListJITAdmin.ps1`): the users carrying CIPP's JIT admin
//! values in its `…_cippUser` schema extension, with what they are a member of.
//!
//! The extension is looked up, as CIPP does, among the schema extensions the partner app owns
//! (`beta/schemaExtensions`, partner tenant, app-only), but never created or patched here: a
//! read does not write. Without it no user can carry JIT values, so the answer is empty. Failed
//! reads are errors, where CIPP answers `200` with no users.

use cipp_graph::{BatchRequest, GraphClient, GraphVersion};
use serde_json::{Value, json};

use crate::UserError;
use crate::mfa_users::batch_values;
use crate::read_support::{failed, odata_literal};

/// The JIT admin fields of the extension, in CIPP's row order.
const JIT_FIELDS: [&str; 5] = [
    "jitAdminEnabled",
    "jitAdminExpiration",
    "jitAdminStartDate",
    "jitAdminReason",
    "jitAdminCreatedBy",
];

/// The id (`ext…_cippUser`) of CIPP's user schema extension owned by `app_id`, if it exists.
pub async fn cipp_user_extension(
    graph: &GraphClient,
    partner_tenant: &str,
    app_id: &str,
) -> Result<Option<String>, UserError> {
    let path = format!(
        "schemaExtensions?$filter=owner%20eq%20'{}'",
        odata_literal(app_id)
    );
    let found = graph
        .app_only()
        .get_all(partner_tenant, GraphVersion::Beta, &path, &[])
        .await
        .map_err(|e| failed("Failed to read CIPP's schema extensions: ", e))?;
    Ok(found
        .iter()
        .filter(|s| s["status"].as_str() != Some("Deprecated"))
        .filter_map(|s| s["id"].as_str())
        // CIPP matches the id with `-match '_cippUser'`: a case-insensitive substring.
        .find(|id| id.to_lowercase().contains("_cippuser"))
        .map(str::to_owned))
}

/// CIPP's rows: `{id, displayName, userPrincipalName, accountEnabled, jitAdmin…, memberOf}`.
pub async fn list_jit_admins(
    graph: &GraphClient,
    tenant: &str,
    extension: &str,
) -> Result<Vec<Value>, UserError> {
    let fail = |message: String| UserError::Failed {
        message: format!("Failed to retrieve JIT admin users: {message}"),
        source: None,
    };
    let users_url = format!(
        "users?$count=true&$select=id,accountEnabled,displayName,userPrincipalName,{extension}&$filter={extension}/jitAdminEnabled%20eq%20true%20or%20{extension}/jitAdminEnabled%20eq%20false&$top=999"
    );
    let users: Vec<Value> = batch_values(
        graph,
        tenant,
        GraphVersion::Beta,
        vec![BatchRequest::get(users_url).with_id("users")],
        false,
    )
    .await
    .map_err(fail)?
    .into_iter()
    .flat_map(|(_, items)| items)
    .filter(|u| u["id"].is_string())
    .collect();
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let requests = users
        .iter()
        .filter_map(|u| u["id"].as_str())
        .map(|id| {
            BatchRequest::get(format!(
                "users/{}/memberOf?$select=id,displayName",
                crate::path_segment(id)
            ))
            .with_id(id)
        })
        .collect();
    let member_of = batch_values(graph, tenant, GraphVersion::Beta, requests, false)
        .await
        .map_err(fail)?;
    Ok(users
        .iter()
        .map(|user| {
            let id = user["id"].as_str().unwrap_or_default();
            let groups: Vec<Value> = member_of
                .iter()
                .find(|(key, _)| key == id)
                .map(|(_, items)| {
                    items
                        .iter()
                        .map(|m| json!({"displayName": m["displayName"], "id": m["id"]}))
                        .collect()
                })
                .unwrap_or_default();
            jit_row(user, extension, groups)
        })
        .collect())
}

fn jit_row(user: &Value, extension: &str, member_of: Vec<Value>) -> Value {
    let values = &user[extension];
    let mut row = serde_json::Map::new();
    for field in ["id", "displayName", "userPrincipalName", "accountEnabled"] {
        row.insert(field.into(), user[field].clone());
    }
    for field in JIT_FIELDS {
        row.insert(field.into(), values[field].clone());
    }
    // PowerShell serialises one member as an object and none as null; an array is what the
    // frontend iterates, so every row carries one.
    row.insert("memberOf".into(), Value::Array(member_of));
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_takes_the_jit_values_from_the_extension() {
        let user = json!({
            "id": "u1", "displayName": "A", "userPrincipalName": "a@x", "accountEnabled": true,
            "ext1_cippUser": {"jitAdminEnabled": true, "jitAdminReason": "why"},
        });
        let row = jit_row(
            &user,
            "ext1_cippUser",
            vec![json!({"displayName": "G", "id": "g"})],
        );
        assert_eq!(row["jitAdminEnabled"], true);
        assert_eq!(row["jitAdminReason"], "why");
        assert_eq!(row["jitAdminExpiration"], Value::Null);
        assert_eq!(row["memberOf"][0]["displayName"], "G");
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 10);
    }
}
