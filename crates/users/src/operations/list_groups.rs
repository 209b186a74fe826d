//! `ListGroups` (CIPP-API `Invoke-ListGroups.ps1`): a tenant's groups with the fields CIPP adds
//! (`groupType`, `calculatedGroupType`, `teamsEnabled`, `dynamicGroupBool`, `primDomain`,
//! `membersCsv`, `ownersCsv`, `SID`), or, with `groupID`, one group's details with its members
//! and owners (the owners of Exchange-owned groups from `Get-DistributionGroup`'s `ManagedBy`).

use cipp_graph::{BatchRequest, GraphClient, GraphVersion};
use futures::TryStreamExt;
use reqwest::Method as HttpMethod;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::groups::{exchange_kind, kind, prim_domain, sid, teams_enabled};
use crate::normalize::normalize_graph_error;
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::failed;
use crate::{UserError, path_segment};

pub struct ListGroups;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// One group's object id: answer its details instead of the list.
    #[serde(rename = "groupID")]
    pub group_id: Option<crate::op::types::Guid>,
    /// The kind of the `groupID` group as CIPP names it (`Microsoft 365`, `Security`,
    /// `Distribution List`, `Mail-Enabled Security`): it decides where owners and the external
    /// senders setting are read. It does not filter the list.
    #[serde(rename = "groupType")]
    pub group_type: Option<String>,
    /// With `groupID`: include the members.
    #[serde(default)]
    pub members: bool,
    /// With `groupID`: include the owners.
    #[serde(default)]
    pub owners: bool,
    /// List mode: each group's members (their `userPrincipalName`) inline; wins over `expandOwners`.
    #[serde(rename = "expandMembers", default)]
    pub expand_members: bool,
    /// List mode: each group's owners inline.
    #[serde(rename = "expandOwners", default)]
    pub expand_owners: bool,
    /// CIPP reads its reporting database for the list when `true`; this service reads live.
    #[serde(rename = "UseReportDB", default)]
    pub use_report_db: bool,
}

/// The list (an array of groups) or, with `groupID`, one object
/// `{groupInfo, members, owners, allowExternal, sendCopies, hideFromOutlookClients, SID}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListGroupsAnswer {
    List(Vec<GraphRow>),
    Detail(GroupDetail),
}

/// One group's details as the group edit page reads them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupDetail {
    /// The group as Graph has it, with `primDomain`, `teamsEnabled`, `groupType`,
    /// `calculatedGroupType` and `dynamicGroupBool`.
    #[serde(rename = "groupInfo")]
    pub group_info: GraphRow,
    /// Sorted by display name; empty unless `members` was asked for.
    pub members: Vec<GraphRow>,
    /// Sorted by display name; empty unless `owners` was asked for.
    pub owners: Vec<GraphRow>,
    /// Whether senders outside the organisation may mail the group (`true` for security groups).
    #[serde(rename = "allowExternal")]
    pub allow_external: bool,
    /// Microsoft 365 groups: whether members get copies of group mail; null otherwise.
    #[serde(rename = "sendCopies")]
    pub send_copies: Option<bool>,
    /// Microsoft 365 groups: whether the group is hidden from Outlook; null otherwise.
    #[serde(rename = "hideFromOutlookClients")]
    pub hide_from_outlook_clients: Option<bool>,
    #[serde(rename = "SID")]
    pub sid: Option<String>,
}

const LIST_SELECT: &str = "id,createdDateTime,displayName,description,mail,mailEnabled,mailNickname,resourceProvisioningOptions,securityEnabled,visibility,organizationId,onPremisesSamAccountName,membershipRule,groupTypes,onPremisesSyncEnabled,resourceProvisioningOptions,assignedLicenses,userPrincipalName,licenseProcessingState";
const GROUP_SELECT: &str = "id,createdDateTime,displayName,description,mail,mailEnabled,mailNickname,resourceProvisioningOptions,securityEnabled,visibility,organizationId,onPremisesSamAccountName,membershipRule,groupTypes,assignedLicenses,userPrincipalName,onPremisesSyncEnabled,licenseProcessingState";
const LINK_SELECT: &str = "id,userPrincipalName,displayName,hideFromOutlookClients,hideFromAddressLists,mail,mailEnabled,mailNickname,resourceProvisioningOptions,securityEnabled,visibility,organizationId,onPremisesSamAccountName,membershipRule";

impl Operation for ListGroups {
    type Params = Params;
    type Answer = ListGroupsAnswer;
    const NAME: &'static str = "ListGroups";
    const TAG: &'static str = "Identity > Administration > Groups";
    const ROLE: Option<&'static str> = Some("Identity.Group.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListGroups.ps1",
        frontend: Some("src/pages/identity/administration/groups/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "This service keeps no reporting database: `UseReportDB` reads live, and `AllTenants` is a \
         400 (CIPP answers its cached report). An unknown `groupID` is a 404 with Graph's text \
         (CIPP answers 200 with Graph's error as `groupInfo`). A failed read is a 500 with the \
         normalised text (CIPP: 403). `groupID` must be an object id (400 naming it otherwise).",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<ListGroupsAnswer>, UserError> {
        if (params.members || params.owners) && params.group_id.is_none() {
            return Err(UserError::invalid(
                "groupID",
                "The 'members' and 'owners' parameters require 'groupID' to be set.",
            ));
        }
        let tenant = ctx.tenant()?.customer_id.clone();
        let answer = match &params.group_id {
            None => ListGroupsAnswer::List(list(&ctx.graph, &tenant, &params).await?),
            Some(id) => {
                ListGroupsAnswer::Detail(detail(&ctx.graph, &tenant, id.as_str(), &params).await?)
            }
        };
        Ok(Outcome::json(answer))
    }
}

/// CIPP's added fields for a group (those both modes add).
fn decorate(group: &mut Map<String, Value>) {
    let view = Value::Object(group.clone());
    let (label, code) = kind(&view).unzip();
    group.insert("primDomain".into(), json!(prim_domain(&view)));
    group.insert("teamsEnabled".into(), json!(teams_enabled(&view)));
    group.insert("groupType".into(), json!(label));
    group.insert("calculatedGroupType".into(), json!(code));
    group.insert(
        "dynamicGroupBool".into(),
        json!(crate::groups::has_type(&view, "DynamicMembership")),
    );
}

fn upns(group: &Map<String, Value>, nav: &str) -> String {
    group
        .get(nav)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|m| m.get("userPrincipalName").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn by_display_name(rows: &mut [GraphRow]) {
    let key = |r: &GraphRow| {
        r.0.get("displayName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase()
    };
    rows.sort_by_key(key);
}

async fn list(graph: &GraphClient, tenant: &str, params: &Params) -> Result<Vec<GraphRow>, UserError> {
    let _ = params.use_report_db;
    let mut path = format!("groups?$top=999&$select={LIST_SELECT}");
    // Graph expands one navigation property only; members wins, as in CIPP.
    if params.expand_members {
        path.push_str("&$expand=members($select=userPrincipalName)");
    } else if params.expand_owners {
        path.push_str("&$expand=owners($select=userPrincipalName)");
    }
    let pages: Vec<_> = graph
        .pages(tenant, GraphVersion::Beta, &path, &[])
        .try_collect()
        .await
        .map_err(|e| failed("", e))?;
    let mut rows: Vec<GraphRow> = pages
        .into_iter()
        .flat_map(|p| p.items)
        .filter_map(|v| match v {
            Value::Object(mut g) => {
                decorate(&mut g);
                let members = upns(&g, "members");
                let owners = upns(&g, "owners");
                g.insert("membersCsv".into(), json!(members));
                g.insert("ownersCsv".into(), json!(owners));
                let id = g.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
                g.insert("SID".into(), json!(sid(&id)));
                Some(GraphRow(g))
            }
            _ => None,
        })
        .collect();
    by_display_name(&mut rows);
    Ok(rows)
}

fn rows_of(body: Option<&Value>) -> Vec<GraphRow> {
    let mut rows: Vec<GraphRow> = body
        .and_then(|b| b.get("value"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_object().cloned().map(GraphRow))
                .collect()
        })
        .unwrap_or_default();
    by_display_name(&mut rows);
    rows
}

async fn detail(
    graph: &GraphClient,
    tenant: &str,
    group_id: &str,
    params: &Params,
) -> Result<GroupDetail, UserError> {
    let kind = params.group_type.as_deref().unwrap_or("");
    let exchange = exchange_kind(kind);
    let m365 = kind.eq_ignore_ascii_case("Microsoft 365");
    let exo_failed = |e: cipp_graph::GraphError| UserError::Failed {
        message: normalize_graph_error(&e),
        source: Some(Box::new(e)),
    };
    let segment = path_segment(group_id);
    let mut requests = vec![
        BatchRequest::get(format!("groups/{segment}?$select={GROUP_SELECT}")).with_id("1"),
    ];
    if params.members {
        requests.push(
            BatchRequest::get(format!("groups/{segment}/members?$top=999&$select={LINK_SELECT}"))
                .with_id("2"),
        );
    }
    let mut distribution: Option<Value> = None;
    if exchange {
        // Exchange owns these groups' owners (ManagedBy) and their sender restriction.
        let found = graph
            .exchange(
                tenant,
                "Get-DistributionGroup",
                json!({"Identity": group_id}),
                None,
            )
            .await
            .map_err(exo_failed)?;
        distribution = found.into_iter().next();
    }
    if params.owners {
        if exchange {
            let ids: Vec<Value> = distribution
                .as_ref()
                .and_then(|d| d.get("ManagedBy"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            requests.push(
                BatchRequest::new(HttpMethod::POST, "directoryObjects/getByIds")
                    .with_body(json!({"ids": ids}))
                    .with_id("3"),
            );
        } else {
            requests.push(
                BatchRequest::get(format!("groups/{segment}/owners?$top=999&$select={LINK_SELECT}"))
                    .with_id("3"),
            );
        }
    }
    let mut unified: Option<Value> = None;
    if m365 {
        let found = graph
            .exchange(
                tenant,
                "Get-UnifiedGroup",
                json!({"Identity": group_id}),
                None,
            )
            .await
            .map_err(exo_failed)?;
        unified = found.into_iter().next();
    }
    let answers = graph
        .app_only()
        .batch(tenant, GraphVersion::Beta, requests)
        .await
        .map_err(|e| failed("", e))?;
    let answer = |id: &str| answers.iter().find(|a| a.id == id);
    let info = answer("1").ok_or_else(|| UserError::failed_list("Graph did not answer the group read"))?;
    if !info.is_success() {
        let text = info
            .error_message()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("HTTP {}", info.status));
        return Err(if info.status == 404 {
            UserError::not_found(crate::normalize::normalize_message(&text))
        } else {
            UserError::Failed {
                message: crate::normalize::normalize_message(&text),
                source: None,
            }
        });
    }
    let mut group = info
        .body
        .as_ref()
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    decorate(&mut group);
    let link_rows = |id: &str| -> Result<Vec<GraphRow>, UserError> {
        match answer(id) {
            None => Ok(Vec::new()),
            Some(a) if a.is_success() => Ok(rows_of(a.body.as_ref())),
            Some(a) => Err(UserError::Failed {
                message: crate::normalize::normalize_message(
                    a.error_message().unwrap_or("The request failed"),
                ),
                source: None,
            }),
        }
    };
    let members = link_rows("2")?;
    let owners = link_rows("3")?;
    let only_internal = if exchange {
        distribution
            .as_ref()
            .and_then(|d| d.get("RequireSenderAuthenticationEnabled"))
            .and_then(Value::as_bool)
    } else {
        unified
            .as_ref()
            .and_then(|u| u.get("RequireSenderAuthenticationEnabled"))
            .and_then(Value::as_bool)
    };
    let unified_flag = |name: &str| {
        unified
            .as_ref()
            .and_then(|u| u.get(name))
            .and_then(Value::as_bool)
    };
    let send_copies = m365.then(|| {
        unified_flag("SubscriptionEnabled") == Some(true)
            && unified_flag("AutoSubscribeNewMembers") == Some(true)
    });
    Ok(GroupDetail {
        sid: sid(group_id),
        group_info: GraphRow(group),
        members,
        owners,
        allow_external: only_internal != Some(true),
        send_copies,
        hide_from_outlook_clients: if m365 {
            unified_flag("HiddenFromExchangeClientsEnabled")
        } else {
            None
        },
    })
}
