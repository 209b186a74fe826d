//! Changing one user's groups and addresses the way CIPP does, shared by AddUser and EditUser:
//! `Set-CIPPCopyGroupMembers` (the source user's groups, Exchange-owned ones through
//! `Add-DistributionGroupMember`), membership changes through Exchange, and aliases added by
//! writing `mail` (Exchange keeps each address written there as a proxy address).

use cipp_graph::{BatchRequest, GraphClient, GraphError, GraphVersion};
use serde_json::{Value, json};

use crate::normalize::normalize_graph_error;
use crate::op::types::UserId;
use crate::path_segment;

/// Copied group memberships, as CIPP reports them.
#[derive(Debug, Default, Clone)]
pub struct CopyResult {
    pub success: Vec<String>,
    pub error: Vec<String>,
    pub skipped: Vec<String>,
}

/// `{"@odata.id": ".../v1.0/directoryObjects/<id>"}`, the member reference CIPP's group helpers
/// send.
pub fn directory_object(id: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")})
}

/// `Add-DistributionGroupMember` (or `Remove-…` when `add` is false) with CIPP's parameters:
/// distribution lists and mail-enabled security groups refuse Graph membership writes.
pub async fn distribution_member(
    graph: &GraphClient,
    tenant: &str,
    add: bool,
    group: &str,
    member: &str,
) -> Result<(), GraphError> {
    let cmdlet = if add {
        "Add-DistributionGroupMember"
    } else {
        "Remove-DistributionGroupMember"
    };
    graph
        .exchange(
            tenant,
            cmdlet,
            json!({"Identity": group, "Member": member, "BypassSecurityGroupManagerCheck": true}),
            None,
        )
        .await
        .map(|_| ())
}

/// Sets the user's `mail` to each alias in turn, then to `back_to`: how CIPP adds aliases
/// (each address written to `mail` stays a proxy address). Stops at the first refusal; the
/// aliases written before it stay.
pub async fn write_aliases(
    graph: &GraphClient,
    tenant: &str,
    user: &str,
    aliases: &[String],
    back_to: &str,
) -> Result<(), GraphError> {
    let path = format!("users/{}", path_segment(user));
    for mail in aliases.iter().map(String::as_str).chain([back_to]) {
        graph
            .patch(tenant, GraphVersion::Beta, &path, &json!({"mail": mail}))
            .await?;
    }
    Ok(())
}

/// `Set-CIPPCopyGroupMembers`: the source's groups, minus those that cannot or need not be
/// joined, added to `target` (a UPN or id). Only a failed first `$batch` is an error (its
/// normalised text), as only that escapes CIPP's helper.
pub async fn copy_groups(
    graph: &GraphClient,
    tenant: &str,
    source: &UserId,
    target: &str,
) -> Result<CopyResult, String> {
    let reads = graph
        .batch(
            tenant,
            GraphVersion::Beta,
            vec![
                BatchRequest::get(format!("users/{}", path_segment(target))).with_id("user"),
                BatchRequest::get(format!("users/{}/memberOf", path_segment(target)))
                    .with_id("userMembership"),
                BatchRequest::get(format!("users/{}/memberOf", source.segment()))
                    .with_id("copyFromMembership"),
            ],
        )
        .await
        .map_err(|error| normalize_graph_error(&error))?;
    let body = |id: &str| {
        reads
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.body.clone())
            .unwrap_or(Value::Null)
    };
    let values = |v: Value| -> Vec<Value> {
        v.get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let user_id = body("user")
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(target)
        .to_owned();
    let current: Vec<String> = values(body("userMembership"))
        .iter()
        .filter_map(|g| g.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut result = CopyResult::default();
    let mut already = Vec::new();
    for group in values(body("copyFromMembership")) {
        if group.get("@odata.type").and_then(Value::as_str) != Some("#microsoft.graph.group") {
            continue;
        }
        let id = group.get("id").and_then(Value::as_str).unwrap_or_default();
        let label = group
            .get("displayName")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(id)
            .to_owned();
        let types: Vec<&str> = group
            .get("groupTypes")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if types.contains(&"DynamicMembership") {
            result.skipped.push(format!("Skipped {label}: its membership is set by a dynamic rule, so members cannot be added directly."));
            continue;
        }
        if group.get("onPremisesSyncEnabled").and_then(Value::as_bool) == Some(true) {
            result.skipped.push(format!("Skipped {label}: it is synced from on-premises Active Directory and has to be changed there."));
            continue;
        }
        if group
            .get("visibility")
            .and_then(Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case("Public"))
        {
            result.skipped.push(format!(
                "Skipped {label}: it is a public group, which users can join themselves."
            ));
            continue;
        }
        if current.iter().any(|c| c.eq_ignore_ascii_case(id)) {
            already.push(label);
            continue;
        }
        let exchange = group.get("mailEnabled").and_then(Value::as_bool) == Some(true)
            && !types.contains(&"Unified");
        let outcome = if exchange {
            distribution_member(graph, tenant, true, id, target).await
        } else {
            graph
                .post(
                    tenant,
                    GraphVersion::Beta,
                    &format!("groups/{}/members/$ref", path_segment(id)),
                    &directory_object(&user_id),
                )
                .await
                .map(|_| ())
        };
        match outcome {
            Ok(()) => {
                tracing::info!(tenant, "Added {target} to group {label}");
                result.success.push(format!("Added user to group: {label}"));
            }
            Err(error) => {
                let text = normalize_graph_error(&error);
                tracing::warn!(tenant, "We've failed to add the group {label}: {text}");
                result
                    .error
                    .push(format!("We've failed to add the group {label}: {text}"));
            }
        }
    }
    if !already.is_empty() {
        let noun = if already.len() == 1 {
            "group"
        } else {
            "groups"
        };
        result.skipped.push(format!(
            "Already a member of {} {noun}, left unchanged: {}.",
            already.len(),
            already.join(", ")
        ));
    }
    Ok(result)
}
