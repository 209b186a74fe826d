//! `Set-CIPPManager` and `Set-CIPPSponsor`, shared by PatchUser and EditUser: one beta `$batch`
//! of `PUT users/<user>/{manager,sponsors}/$ref`, one result line per user.

use cipp_graph::{BatchRequest, GraphClient, GraphVersion, Method};
use serde_json::json;

use crate::path_segment;

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

/// The single-user relationships CIPP sets by reference: the manager (`Set-CIPPManager`) and a
/// sponsor (`Set-CIPPSponsor`). Both are one beta `$batch` of `PUT users/<user>/<path>/$ref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Manager,
    Sponsor,
}

impl Relation {
    fn path(self) -> &'static str {
        match self {
            Relation::Manager => "manager",
            Relation::Sponsor => "sponsors",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Relation::Manager => "manager",
            Relation::Sponsor => "sponsor",
        }
    }
}

/// `Set-CIPPManager`: one beta `$batch` of `PUT users/<user>/manager/$ref`. A failed batch call
/// is an error for the caller to report.
pub async fn set_managers(
    graph: &GraphClient,
    tenant: &str,
    users: &[String],
    manager: &str,
) -> Result<Vec<ManagerResult>, cipp_graph::GraphError> {
    set_relation(graph, tenant, users, manager, Relation::Manager).await
}

/// `Set-CIPPSponsor`: one beta `$batch` of `PUT users/<user>/sponsors/$ref`, one result per user
/// (`Set <user>'s sponsor to <s>` or `Failed to set <user>'s sponsor: <msg>`).
pub async fn set_sponsors(
    graph: &GraphClient,
    tenant: &str,
    users: &[String],
    sponsor: &str,
) -> Result<Vec<ManagerResult>, cipp_graph::GraphError> {
    set_relation(graph, tenant, users, sponsor, Relation::Sponsor).await
}

/// One beta `$batch` of `PUT users/<user>/<relation>/$ref`, one result per user, in order.
pub async fn set_relation(
    graph: &GraphClient,
    tenant: &str,
    users: &[String],
    target: &str,
    relation: Relation,
) -> Result<Vec<ManagerResult>, cipp_graph::GraphError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let reference = json!({
        "@odata.id": format!("https://graph.microsoft.com/beta/users/{}", path_segment(target))
    });
    let requests = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            BatchRequest::new(
                Method::PUT,
                format!("users/{}/{}/$ref", path_segment(user), relation.path()),
            )
            .with_id(i.to_string())
            .with_body(reference.clone())
        })
        .collect();
    let answers = graph.batch(tenant, GraphVersion::Beta, requests).await?;
    let noun = relation.noun();
    Ok(users
        .iter()
        .zip(answers)
        .map(|(user, answer)| {
            let success = matches!(answer.status, 200 | 204);
            let result = if success {
                format!("Set {user}'s {noun} to {target}")
            } else {
                format!(
                    "Failed to set {user}'s {noun}: {}",
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
