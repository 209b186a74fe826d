//! `ListDeletedItems` (CIPP-API `Invoke-ListDeletedItems.ps1`): the tenant's recycle bin, every
//! object type in one Graph `$batch`, each item tagged with a readable `TargetType`.

use cipp_graph::{BatchRequest, GraphClient, GraphVersion};
use futures::TryStreamExt;
use serde_json::{Value, json};

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::types::NoParams;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};
use crate::read_support::{GraphRows, graph_rows};

pub struct ListDeletedItems;

impl Operation for ListDeletedItems {
    type Params = NoParams;
    /// Graph's deleted objects, each with `TargetType` (`User`, `Group`, `Service Principal`, …).
    type Answer = GraphRows;
    const NAME: &'static str = "ListDeletedItems";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Tenant.Directory.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::One;
    const SOURCE: Source = Source {
        upstream: "Invoke-ListDeletedItems.ps1",
        frontend: None,
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "CIPP drops every object type whose read failed and still answers 200; here only types \
         Graph refuses as unavailable (400/404) are skipped, and any other failure is a 500 \
         `Failed to retrieve deleted items: …`.",
    );

    fn example() -> Value {
        json!({"tenantFilter": crate::demo::TENANT})
    }

    async fn run(ctx: Ctx, _params: NoParams) -> Result<Outcome<GraphRows>, UserError> {
        let tenant = ctx.tenant()?;
        let rows = list_deleted_items(&ctx.graph, &tenant.customer_id).await?;
        Ok(Outcome::json(graph_rows(rows)))
    }
}

/// The deleted-item types CIPP asks for, in its order (the answer keeps this order).
pub const DELETED_TYPES: &[&str] = &[
    "administrativeUnit",
    "application",
    "externalUserProfile",
    "pendingExternalUserProfile",
    "user",
    "group",
    "servicePrincipal",
    "certificateBasedAuthPki",
    "certificateAuthorityDetail",
];

/// Every deleted object with `TargetType`. A type Graph refuses as such (400 or 404: not
/// available in this tenant or cloud) is skipped as CIPP skips it; any other failure of a type
/// fails the read, where CIPP would silently leave that type out.
pub async fn list_deleted_items(
    graph: &GraphClient,
    tenant: &str,
) -> Result<Vec<Value>, UserError> {
    let requests = DELETED_TYPES
        .iter()
        .map(|t| {
            BatchRequest::get(format!("directory/deletedItems/microsoft.graph.{t}")).with_id(*t)
        })
        .collect();
    let failed = |detail: String, source| UserError::Failed {
        message: format!("Failed to retrieve deleted items: {detail}"),
        source,
    };
    let answers = graph
        .batch(tenant, GraphVersion::Beta, requests)
        .await
        .map_err(|e| failed(normalize_graph_error(&e), Some(Box::new(e))))?;
    let mut out = Vec::new();
    for kind in DELETED_TYPES {
        let Some(answer) = answers.iter().find(|a| a.id == *kind) else {
            return Err(failed(format!("no answer for {kind}"), None));
        };
        match answer.status {
            200 => {}
            400 | 404 => {
                tracing::info!(
                    tenant,
                    kind,
                    status = answer.status,
                    error = answer.error_message().unwrap_or(""),
                    "deleted-item type not available; skipped"
                );
                continue;
            }
            status => {
                return Err(failed(
                    format!(
                        "{kind}: {}",
                        answer
                            .error_message()
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("HTTP {status}"))
                    ),
                    None,
                ));
            }
        }
        let label = title_words(kind);
        let body = answer.body.as_ref();
        let mut items: Vec<Value> = body
            .and_then(|b| b.get("value"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(next) = body
            .and_then(|b| b.get("@odata.nextLink"))
            .and_then(Value::as_str)
        {
            let rest: Vec<_> = graph
                .pages_from_link(tenant, next, &[])
                .try_collect()
                .await
                .map_err(|e| {
                    failed(
                        format!("{kind}: {}", normalize_graph_error(&e)),
                        Some(Box::new(e)),
                    )
                })?;
            items.extend(rest.into_iter().flat_map(|p| p.items));
        }
        for mut item in items {
            if let Value::Object(fields) = &mut item {
                fields.insert("TargetType".into(), Value::String(label.clone()));
            }
            out.push(item);
        }
    }
    Ok(out)
}

/// `servicePrincipal` → `Service Principal`, as CIPP formats the type names.
pub fn title_words(name: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() || words.is_empty() {
            words.push(c.to_ascii_uppercase().to_string());
        } else if let Some(last) = words.last_mut() {
            last.push(c);
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_become_title_case_words() {
        assert_eq!(title_words("administrativeUnit"), "Administrative Unit");
        assert_eq!(title_words("user"), "User");
        assert_eq!(
            title_words("pendingExternalUserProfile"),
            "Pending External User Profile"
        );
        assert_eq!(
            title_words("certificateBasedAuthPki"),
            "Certificate Based Auth Pki"
        );
    }
}
