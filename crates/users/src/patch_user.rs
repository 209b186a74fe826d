//! `PatchUser` (CIPP-API `Invoke-PatchUser.ps1`): patches Graph properties on one or more users,
//! possibly across tenants, and sets their managers (`Set-CIPPManager`).

use cipp_graph::{BatchRequest, GraphClient, GraphVersion, Method};
use serde_json::{Map, Value, json};

use crate::{UserError, path_segment};

/// One element of the PatchUser body, its tenant already resolved.
#[derive(Debug, Clone)]
pub struct PatchItem {
    pub id: String,
    /// The tenant id Graph is called with.
    pub tenant: String,
    /// `tenantFilter` as the caller sent it, for the texts and the tenant count.
    pub tenant_label: String,
    /// The Graph properties, patched verbatim.
    pub properties: Map<String, Value>,
    pub manager: Option<String>,
}

/// CIPP's answer: every text for `Results`, and whether anything failed (then 400).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    pub failed: bool,
    pub results: Vec<String>,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The text of a failed batch item: Graph's own message, else CIPP's placeholder.
pub(crate) fn item_error(status: u16, message: Option<&str>) -> String {
    match message {
        Some(m) if !m.trim().is_empty() => m.to_owned(),
        _ => format!("Unknown error (Status: {status})"),
    }
}

/// One `Set-CIPPManager` result per user.
#[derive(Debug, Clone)]
pub struct ManagerResult {
    pub user: String,
    pub success: bool,
    /// `Set <user>'s manager to <m>` or `Failed to set <user>'s manager: <msg>`.
    pub result: String,
}

/// `Set-CIPPManager`: one beta `$batch` of `PUT users/<user>/manager/$ref`. A failed batch call
/// is an error for the caller to report.
pub async fn set_managers(
    graph: &GraphClient,
    tenant: &str,
    users: &[String],
    manager: &str,
) -> Result<Vec<ManagerResult>, cipp_graph::GraphError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let reference = json!({
        "@odata.id": format!("https://graph.microsoft.com/beta/users/{}", path_segment(manager))
    });
    let requests = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            BatchRequest::new(
                Method::PUT,
                format!("users/{}/manager/$ref", path_segment(user)),
            )
            .with_id(i.to_string())
            .with_body(reference.clone())
        })
        .collect();
    let answers = graph.batch(tenant, GraphVersion::Beta, requests).await?;
    Ok(users
        .iter()
        .zip(answers)
        .map(|(user, answer)| {
            let success = matches!(answer.status, 200 | 204);
            let result = if success {
                format!("Set {user}'s manager to {manager}")
            } else {
                format!(
                    "Failed to set {user}'s manager: {}",
                    item_error(answer.status, answer.error_message())
                )
            };
            if success {
                tracing::info!(tenant, user = user.as_str(), "{result}");
            } else {
                tracing::warn!(tenant, user = user.as_str(), "{result}");
            }
            ManagerResult {
                user: user.clone(),
                success,
                result,
            }
        })
        .collect())
}

/// Patches every item, tenant by tenant in the order they first appear, then sets managers
/// grouped by manager. Items with no properties left are neither successes nor failures.
pub async fn patch_users(
    graph: &GraphClient,
    items: &[PatchItem],
) -> Result<PatchOutcome, UserError> {
    let mut tenants: Vec<(&str, &str)> = Vec::new();
    for item in items {
        if !tenants.iter().any(|(t, _)| *t == item.tenant) {
            tenants.push((&item.tenant, &item.tenant_label));
        }
    }
    let mut labels: Vec<String> = Vec::new();
    for item in items {
        if !labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&item.tenant_label))
        {
            labels.push(item.tenant_label.clone());
        }
    }
    let mut errors: Vec<String> = Vec::new();
    let mut patched = 0usize;
    let mut managers_set = 0usize;
    for (tenant, label) in &tenants {
        let mine: Vec<&PatchItem> = items.iter().filter(|i| i.tenant == *tenant).collect();
        let to_patch: Vec<&PatchItem> = mine
            .iter()
            .copied()
            .filter(|i| !i.properties.is_empty())
            .collect();
        let requests: Vec<BatchRequest> = to_patch
            .iter()
            .enumerate()
            .map(|(n, item)| {
                BatchRequest::new(Method::PATCH, format!("users/{}", path_segment(&item.id)))
                    .with_id(n.to_string())
                    .with_body(Value::Object(item.properties.clone()))
            })
            .collect();
        let answers = graph
            .batch(tenant, GraphVersion::Beta, requests)
            .await
            .map_err(|e| UserError::Failed {
                message: format!("Failed to patch user(s). Error: {e}"),
                source: Some(Box::new(e)),
            })?;
        for (item, answer) in to_patch.iter().zip(answers) {
            if matches!(answer.status, 200 | 204) {
                patched += 1;
                tracing::info!(
                    tenant,
                    user = item.id,
                    "Successfully patched user {}",
                    item.id
                );
            } else {
                let detail = item_error(answer.status, answer.error_message());
                tracing::warn!(
                    tenant,
                    user = item.id,
                    "Failed to patch user {}. Error: {detail}",
                    item.id
                );
                errors.push(format!(
                    "Failed to patch user {} in tenant {label}: {detail}",
                    item.id
                ));
            }
        }
        // Managers, one Set-CIPPManager call per distinct manager string.
        let mut by_manager: Vec<(&str, Vec<String>)> = Vec::new();
        for item in &mine {
            let Some(manager) = item.manager.as_deref() else {
                continue;
            };
            match by_manager.iter_mut().find(|(m, _)| *m == manager) {
                Some((_, users)) => users.push(item.id.clone()),
                None => by_manager.push((manager, vec![item.id.clone()])),
            }
        }
        for (manager, users) in by_manager {
            match set_managers(graph, tenant, &users, manager).await {
                Ok(results) => {
                    for r in results {
                        if r.success {
                            managers_set += 1;
                        } else {
                            errors.push(format!(
                                "Failed to set manager for {} in tenant {label}: {}",
                                r.user, r.result
                            ));
                        }
                    }
                }
                Err(e) => {
                    for user in &users {
                        errors.push(format!(
                            "Failed to set manager for {user} in tenant {label}: {e}"
                        ));
                    }
                }
            }
        }
    }
    let any_manager = items.iter().any(|i| i.manager.is_some());
    let across = format!("across {}", plural(labels.len(), "tenant"));
    let summary = if any_manager {
        let rel = plural(managers_set, "manager assignment");
        if patched > 0 {
            format!(
                "Successfully patched {} and updated {rel} {across}",
                plural(patched, "user")
            )
        } else {
            format!("Successfully updated {rel} {across}")
        }
    } else {
        format!("Successfully patched {} {across}", plural(patched, "user"))
    };
    if errors.is_empty() {
        return Ok(PatchOutcome {
            failed: false,
            results: vec![summary],
        });
    }
    let partial = if any_manager {
        summary
    } else {
        format!("Successfully patched {patched} of {} users", items.len())
    };
    errors.push(partial);
    Ok(PatchOutcome {
        failed: true,
        results: errors,
    })
}
