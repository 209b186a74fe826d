//! `ListUserGroups` (CIPP-API `Invoke-ListUserGroups.ps1`): the groups a user is a direct member
//! of, with CIPP's column names and its group-type classification.

use cipp_graph::{GraphClient, GraphVersion};
use serde_json::{Value, json};

use crate::read_support::{failed_or_not_found, required};
use crate::{UserError, path_segment};

/// One page of the user's groups (CIPP does not page: Graph's first page only).
pub async fn list_user_groups(
    graph: &GraphClient,
    tenant: &str,
    user_id: &str,
) -> Result<Vec<Value>, UserError> {
    let user_id = required("userId", user_id)?;
    let path = format!(
        "users/{}/memberOf/$/microsoft.graph.group?$select=id,displayName,mailEnabled,securityEnabled,groupTypes,onPremisesSyncEnabled,mail,isAssignableToRole&$orderby=displayName%20asc",
        path_segment(user_id)
    );
    let prefix = format!("Failed to retrieve groups for user {user_id}: ");
    let page = graph
        .get(tenant, GraphVersion::Beta, &path, &[])
        .await
        .map_err(|e| failed_or_not_found(&prefix, e))?;
    let groups = page
        .get("value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(groups.iter().map(group_row).collect())
}

/// CIPP's row for one group.
pub fn group_row(group: &Value) -> Value {
    let flag = |name: &str| group.get(name).and_then(Value::as_bool).unwrap_or(false);
    let types: Vec<&str> = group
        .get("groupTypes")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (mail, security) = (flag("mailEnabled"), flag("securityEnabled"));
    let (calculated, label) = if types.contains(&"Unified") {
        (json!("m365"), json!("Microsoft 365"))
    } else if mail && security {
        (json!("security"), json!("Mail-Enabled Security"))
    } else if !mail && security {
        (json!("generic"), json!("Security"))
    } else if types.is_empty() && mail && !security {
        (json!("distributionList"), json!("Distribution List"))
    } else {
        (Value::Null, Value::Null)
    };
    let field = |name: &str| group.get(name).cloned().unwrap_or(Value::Null);
    json!({
        "id": field("id"),
        "DisplayName": field("displayName"),
        "MailEnabled": field("mailEnabled"),
        "Mail": field("mail"),
        "SecurityGroup": field("securityEnabled"),
        "GroupTypes": types.join(","),
        "OnPremisesSync": field("onPremisesSyncEnabled"),
        "IsAssignableToRole": field("isAssignableToRole"),
        "calculatedGroupType": calculated,
        "groupType": label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_types_are_classified_in_cipps_order() {
        let row = |g: Value| group_row(&g);
        let m365 =
            row(json!({"groupTypes": ["Unified", "DynamicMembership"], "mailEnabled": true}));
        assert_eq!(m365["calculatedGroupType"], "m365");
        assert_eq!(m365["GroupTypes"], "Unified,DynamicMembership");
        let secure = row(json!({"groupTypes": [], "mailEnabled": true, "securityEnabled": true}));
        assert_eq!(secure["groupType"], "Mail-Enabled Security");
        let generic = row(json!({"groupTypes": [], "mailEnabled": false, "securityEnabled": true}));
        assert_eq!(generic["calculatedGroupType"], "generic");
        let dl = row(json!({"groupTypes": [], "mailEnabled": true, "securityEnabled": false}));
        assert_eq!(dl["groupType"], "Distribution List");
        let odd = row(json!({"groupTypes": ["x"], "mailEnabled": true, "securityEnabled": false}));
        assert_eq!(odd["calculatedGroupType"], Value::Null);
    }
}
