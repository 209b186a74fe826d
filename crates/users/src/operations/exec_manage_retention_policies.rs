//! `ExecManageRetentionPolicies` (CIPP-API `Invoke-ExecManageRetentionPolicies.ps1`): without
//! changes, the tenant's retention policies (`Get-RetentionPolicy`, one by `name`); with
//! `CreatePolicies`, `ModifyPolicies` or `DeletePolicies`, those changes, one line each. Each
//! change is read back (`Get-RetentionPolicy`) before its line claims it.

use cipp_graph::GraphClient;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::UserError;
use crate::error::{ErrorKind, upstream_kind};
use crate::mailbox_readback::{Expect, ReadBack};
use crate::normalize::normalize_graph_error;
use crate::op::types::GraphRow;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct ExecManageRetentionPolicies;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPolicy {
    /// The new policy's name.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// The retention tags it links.
    #[serde(rename = "RetentionPolicyTagLinks")]
    pub retention_policy_tag_links: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PolicyChange {
    /// The policy to change (its name or GUID).
    #[serde(rename = "Identity")]
    pub identity: Option<String>,
    /// A new name.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// Tags to link besides the current ones.
    #[serde(rename = "AddTags")]
    pub add_tags: Option<Vec<String>>,
    /// Tags to unlink.
    #[serde(rename = "RemoveTags")]
    pub remove_tags: Option<Vec<String>>,
    /// The whole new tag list (when neither `AddTags` nor `RemoveTags` is given).
    #[serde(rename = "RetentionPolicyTagLinks")]
    pub retention_policy_tag_links: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// Listing only: the one policy to read.
    #[serde(rename = "name")]
    pub name: Option<String>,
    #[serde(rename = "CreatePolicies", default)]
    pub create_policies: Vec<NewPolicy>,
    #[serde(rename = "ModifyPolicies", default)]
    pub modify_policies: Vec<PolicyChange>,
    /// Names (or GUIDs) of the policies to delete.
    #[serde(rename = "DeletePolicies", default)]
    pub delete_policies: Vec<String>,
}

/// The policies (`Get-RetentionPolicy`'s objects), or one line per change; never wrapped in
/// `Results`, as in CIPP.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Answer {
    Policies(Vec<GraphRow>),
    Lines(Vec<String>),
}

enum Step {
    Create {
        name: String,
        tags: Option<Vec<String>>,
    },
    Modify {
        identity: String,
        name: Option<String>,
        add: Option<Vec<String>>,
        remove: Option<Vec<String>>,
        links: Option<Vec<String>>,
    },
    Delete(String),
}

impl Operation for ExecManageRetentionPolicies {
    type Params = Params;
    type Answer = Answer;
    const NAME: &'static str = "ExecManageRetentionPolicies";
    const TAG: &'static str = "Email-Exchange > Administration > Mailbox Retention";
    const ROLE: Option<&'static str> = Some("Exchange.RetentionPolicies.ReadWrite");
    const METHOD: Method = Method::Post;
    const WRITES: bool = true;
    const PARTIAL: bool = true;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ExecManageRetentionPolicies.ps1",
        frontend: Some("src/components/CippComponents/CippExchangeActions.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "A policy to create without `Name`, to modify without `Identity`, or an empty name to delete is a 400 naming it before anything changes (CIPP: a failure line). Changes run one call each rather than in one Exchange batch. All failing is Exchange's status when every line names the same cause (CIPP: 500), with the lines in `Results` as every failure of this service (CIPP: a bare array). Each change is read back: a change Exchange does not show (yet) is its line saying what it shows, counted as not done.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, params: Params) -> Result<Outcome<Answer>, UserError> {
        let tenant = ctx.tenant()?;
        let tenant_id = tenant.customer_id.as_str();
        let steps = plan(&params)?;
        if steps.is_empty() {
            return list(&ctx.graph, tenant_id, params.name.as_deref()).await;
        }
        let mut lines = Vec::new();
        let mut failed = 0;
        for step in steps {
            match apply(&ctx.graph, tenant_id, step).await {
                Ok(line) => lines.push(line),
                Err(line) => {
                    failed += 1;
                    lines.push(line);
                }
            }
        }
        tracing::info!(tenant = tenant_id, "{}", lines.join(" | "));
        if failed == lines.len() {
            return Err(UserError::Answered {
                kind: crate::mailbox_readback::kind_of_lines(&lines),
                message: lines.join(" | "),
                results: json!(lines),
            });
        }
        Ok(Outcome::json(Answer::Lines(lines)).partial(failed > 0))
    }
}

fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The changes asked for, checked before any is made.
fn plan(params: &Params) -> Result<Vec<Step>, UserError> {
    let mut steps = Vec::new();
    for (i, p) in params.create_policies.iter().enumerate() {
        let name = clean(p.name.as_deref()).ok_or_else(|| {
            UserError::invalid(
                format!("CreatePolicies[{i}].Name"),
                format!("CreatePolicies[{i}].Name: Failed to create policy - Name is required"),
            )
        })?;
        steps.push(Step::Create {
            name,
            tags: p.retention_policy_tag_links.clone(),
        });
    }
    for (i, p) in params.modify_policies.iter().enumerate() {
        let identity = clean(p.identity.as_deref()).ok_or_else(|| {
            UserError::invalid(
                format!("ModifyPolicies[{i}].Identity"),
                format!("ModifyPolicies[{i}].Identity: Failed to modify policy - Identity is required"),
            )
        })?;
        steps.push(Step::Modify {
            identity,
            name: clean(p.name.as_deref()),
            add: p.add_tags.clone().filter(|t| !t.is_empty()),
            remove: p.remove_tags.clone().filter(|t| !t.is_empty()),
            links: p.retention_policy_tag_links.clone().filter(|t| !t.is_empty()),
        });
    }
    for (i, identity) in params.delete_policies.iter().enumerate() {
        let identity = clean(Some(identity)).ok_or_else(|| {
            UserError::invalid(
                format!("DeletePolicies[{i}]"),
                format!("DeletePolicies[{i}]: Failed to delete policy - Identity is required"),
            )
        })?;
        steps.push(Step::Delete(identity));
    }
    Ok(steps)
}

async fn list(
    graph: &GraphClient,
    tenant: &str,
    name: Option<&str>,
) -> Result<Outcome<Answer>, UserError> {
    let name = clean(name);
    let parameters = match &name {
        Some(n) => json!({"Identity": n}),
        None => json!({}),
    };
    match graph
        .exchange(tenant, "Get-RetentionPolicy", parameters, None)
        .await
    {
        Ok(rows) => Ok(Outcome::json(Answer::Policies(
            rows.into_iter()
                .filter_map(|r| match r {
                    Value::Object(m) => Some(GraphRow(m)),
                    _ => None,
                })
                .collect(),
        ))),
        Err(error) => {
            let reason = normalize_graph_error(&error);
            let message = match &name {
                Some(n) => format!("Failed to retrieve retention policy '{n}': {reason}"),
                None => format!("Failed to retrieve retention policies: {reason}"),
            };
            Err(UserError::Answered {
                kind: upstream_kind(&error).unwrap_or(ErrorKind::UpstreamFailed),
                results: json!([message]),
                message,
            })
        }
    }
}

/// `Get-RetentionPolicy` on one policy, to read a change back.
fn policy(identity: &str) -> ReadBack<'_> {
    ReadBack {
        cmdlet: "Get-RetentionPolicy",
        identity,
        anchor: None,
        checks: Vec::new(),
    }
}

/// One change and its read-back: `Ok(CIPP's line)` or `Err(the failure's line)`.
async fn apply(graph: &GraphClient, tenant: &str, step: Step) -> Result<String, String> {
    match step {
        Step::Create { name, tags } => {
            let mut parameters = json!({"Name": name});
            if let Some(t) = tags.as_ref().filter(|t| !t.is_empty()) {
                parameters["RetentionPolicyTagLinks"] = json!(t);
            }
            graph
                .exchange(tenant, "New-RetentionPolicy", parameters, None)
                .await
                .map_err(|e| {
                    format!(
                        "Failed to create retention policy {name}: {}",
                        normalize_graph_error(&e)
                    )
                })?;
            let mut check = policy(&name).expect("Name", Expect::Text(name.clone()));
            if let Some(t) = tags.filter(|t| !t.is_empty()) {
                check = check.expect("RetentionPolicyTagLinks", Expect::Names(t));
            }
            check
                .verify(graph, tenant, &format!("creating retention policy {name}"))
                .await?;
            Ok(format!("Successfully created retention policy: {name}"))
        }
        Step::Modify {
            identity,
            name,
            add,
            remove,
            links,
        } => {
            let mut parameters = json!({"Identity": identity});
            if let Some(n) = &name {
                parameters["Name"] = json!(n);
            }
            let tags = if add.is_some() || remove.is_some() {
                let current = graph
                    .exchange(
                        tenant,
                        "Get-RetentionPolicy",
                        json!({"Identity": identity}),
                        None,
                    )
                    .await
                    .map_err(|_| {
                        format!(
                            "Failed to modify policy {identity} - Could not retrieve current policy"
                        )
                    })?;
                let mut tags: Vec<String> = current
                    .first()
                    .and_then(|p| p.get("RetentionPolicyTagLinks"))
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                // Added, then removed (CIPP computes the removal from the current list and so
                // drops the additions when both are given; a user means both).
                for t in add.unwrap_or_default() {
                    if !tags.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
                        tags.push(t);
                    }
                }
                let remove = remove.unwrap_or_default();
                tags.retain(|x| !remove.iter().any(|r| r.eq_ignore_ascii_case(x)));
                Some(tags)
            } else {
                links
            };
            if let Some(t) = &tags {
                parameters["RetentionPolicyTagLinks"] = json!(t);
            }
            graph
                .exchange(tenant, "Set-RetentionPolicy", parameters, None)
                .await
                .map_err(|e| {
                    format!(
                        "Failed to modify retention policy {identity}: {}",
                        normalize_graph_error(&e)
                    )
                })?;
            let now = name.clone().unwrap_or_else(|| identity.clone());
            let mut check = policy(&now);
            if let Some(n) = name {
                check = check.expect("Name", Expect::Text(n));
            }
            if let Some(t) = tags {
                check = check.expect("RetentionPolicyTagLinks", Expect::Names(t));
            }
            check
                .verify(graph, tenant, &format!("modifying retention policy {identity}"))
                .await?;
            Ok(format!("Successfully modified retention policy: {identity}"))
        }
        Step::Delete(identity) => {
            // CIPP refuses to delete a policy a mailbox still has (and ignores a failed check).
            let assigned = graph
                .exchange(
                    tenant,
                    "Get-Mailbox",
                    json!({"Filter": format!("RetentionPolicy -eq '{identity}'"), "ResultSize": 1}),
                    None,
                )
                .await
                .map(|rows| !rows.is_empty())
                .unwrap_or(false);
            if assigned {
                return Err(format!(
                    "Cannot delete retention policy {identity} - still assigned to mailboxes"
                ));
            }
            graph
                .exchange(
                    tenant,
                    "Remove-RetentionPolicy",
                    json!({"Identity": identity, "Confirm": false}),
                    None,
                )
                .await
                .map_err(|e| {
                    format!(
                        "Failed to delete retention policy {identity}: {}",
                        normalize_graph_error(&e)
                    )
                })?;
            match graph
                .exchange(tenant, "Get-RetentionPolicy", json!({"Identity": identity}), None)
                .await
            {
                Err(e) if upstream_kind(&e) == Some(ErrorKind::NotFound) => {
                    Ok(format!("Successfully deleted retention policy: {identity}"))
                }
                Err(e) => Err(format!(
                    "Exchange accepted deleting retention policy {identity}, but reading it back failed, so it is not confirmed: {}",
                    normalize_graph_error(&e)
                )),
                Ok(_) => Err(format!(
                    "Exchange accepted deleting retention policy {identity}, but reading it back shows it still exists. Exchange may still be applying it; check again in a few minutes."
                )),
            }
        }
    }
}
