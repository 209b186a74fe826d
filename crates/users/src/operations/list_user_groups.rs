//! `ListUserGroups` (CIPP-API `Invoke-ListUserGroups.ps1`): the groups a user is a direct member
//! of, with CIPP's column names and its group-type classification.

use cipp_graph::{GraphClient, GraphVersion};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::op::types::UserId;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::failed_or_not_found;

pub struct ListUserGroups;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The user whose groups are listed.
    #[serde(rename = "userId")]
    pub user_id: UserId,
}

/// One group as CIPP lists it (note the capitalised column names the frontend reads).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListUserGroupsRow {
    /// The group's object id.
    pub id: Option<String>,
    #[serde(rename = "DisplayName")]
    pub display_name: Option<String>,
    #[serde(rename = "MailEnabled")]
    pub mail_enabled: Option<bool>,
    #[serde(rename = "Mail")]
    pub mail: Option<String>,
    /// Graph's `securityEnabled`.
    #[serde(rename = "SecurityGroup")]
    pub security_group: Option<bool>,
    /// Graph's `groupTypes`, comma-joined (`Unified`, `DynamicMembership`, …).
    #[serde(rename = "GroupTypes")]
    pub group_types: String,
    /// Graph's `onPremisesSyncEnabled`.
    #[serde(rename = "OnPremisesSync")]
    pub on_premises_sync: Option<bool>,
    #[serde(rename = "IsAssignableToRole")]
    pub is_assignable_to_role: Option<bool>,
    /// `m365`, `security`, `generic` or `distributionList`; null when none fits.
    #[serde(rename = "calculatedGroupType")]
    pub calculated_group_type: Option<String>,
    /// The same as words: `Microsoft 365`, `Mail-Enabled Security`, `Security` or
    /// `Distribution List`.
    #[serde(rename = "groupType")]
    pub group_type: Option<String>,
}

impl Operation for ListUserGroups {
    type Params = Params;
    type Answer = Vec<ListUserGroupsRow>;
    const NAME: &'static str = "ListUserGroups";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListUserGroups.ps1",
        frontend: Some("src/pages/identity/administration/users/user/edit.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Unlike CIPP (an uncaught plain-text 500), a missing `userId` is a 400, an unknown user a \
         404 with Graph's text, and a failed read a 500 `Failed to retrieve groups for user …`.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT, "userId": crate::demo::USER_ID})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Vec<ListUserGroupsRow>>, UserError> {
        let tenant = ctx.tenant()?;
        let rows = list_user_groups(&ctx.graph, &tenant.customer_id, &params.user_id).await?;
        Ok(Outcome::json(rows))
    }
}

/// One page of the user's groups (CIPP does not page: Graph's first page only).
pub async fn list_user_groups(
    graph: &GraphClient,
    tenant: &str,
    user: &UserId,
) -> Result<Vec<ListUserGroupsRow>, UserError> {
    let path = format!(
        "users/{}/memberOf/$/microsoft.graph.group?$select=id,displayName,mailEnabled,securityEnabled,groupTypes,onPremisesSyncEnabled,mail,isAssignableToRole&$orderby=displayName%20asc",
        user.segment()
    );
    let prefix = format!("Failed to retrieve groups for user {user}: ");
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
pub fn group_row(group: &Value) -> ListUserGroupsRow {
    let flag = |name: &str| group.get(name).and_then(Value::as_bool).unwrap_or(false);
    let types: Vec<&str> = group
        .get("groupTypes")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (mail, security) = (flag("mailEnabled"), flag("securityEnabled"));
    let (calculated, label) = if types.contains(&"Unified") {
        (Some("m365"), Some("Microsoft 365"))
    } else if mail && security {
        (Some("security"), Some("Mail-Enabled Security"))
    } else if !mail && security {
        (Some("generic"), Some("Security"))
    } else if types.is_empty() && mail && !security {
        (Some("distributionList"), Some("Distribution List"))
    } else {
        (None, None)
    };
    let text = |name: &str| group.get(name).and_then(Value::as_str).map(str::to_owned);
    let boolean = |name: &str| group.get(name).and_then(Value::as_bool);
    ListUserGroupsRow {
        id: text("id"),
        display_name: text("displayName"),
        mail_enabled: boolean("mailEnabled"),
        mail: text("mail"),
        security_group: boolean("securityEnabled"),
        group_types: types.join(","),
        on_premises_sync: boolean("onPremisesSyncEnabled"),
        is_assignable_to_role: boolean("isAssignableToRole"),
        calculated_group_type: calculated.map(str::to_owned),
        group_type: label.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_types_are_classified_in_cipps_order() {
        let row = |g: Value| serde_json::to_value(group_row(&g)).unwrap();
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
        assert_eq!(odd["Mail"], Value::Null, "absent fields are null, as in CIPP");
    }
}
