//! `PatchUser` (CIPP-API `Invoke-PatchUser.ps1`): the patch wizard's body, an array of users
//! (or one), each naming its own tenant: patches Graph properties on each user and sets their
//! managers (`Set-CIPPManager`). `Results` is an array of strings; 400 when anything failed.

use cipp_graph::{BatchRequest, GraphClient, GraphVersion, Method};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::managers::{Relation, item_error, set_managers, set_sponsors};
use crate::op::types::{TextListResults, UserId};
use crate::op::{Ctx, Method as HttpMethod, Operation, Outcome, Source, TenantUse};
use crate::{ErrorKind, UserError, path_segment};

pub struct PatchUser;

/// One user to patch: its id and tenant, an optional manager, and the Graph properties to set.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchUserItem {
    /// The user to patch.
    #[serde(rename = "id")]
    pub id: Option<UserId>,
    /// The user's tenant: its id, default domain or initial domain.
    #[serde(rename = "tenantFilter")]
    pub tenant_filter: Option<String>,
    /// The user's new manager (a user principal name or object id).
    #[serde(rename = "manager")]
    pub manager: Option<UserId>,
    /// The user's new sponsor (a user principal name or object id).
    #[serde(rename = "sponsor")]
    pub sponsor: Option<UserId>,
    /// Every other property is a Graph user property, patched as sent (`null` clears it).
    #[serde(flatten)]
    pub properties: Map<String, Value>,
}

/// CIPP's 400 text when an element has no `id` or `tenantFilter` (or there is none).
const MISSING: &str = "Failed to patch user(s). Some users are missing id or tenantFilter";

impl Operation for PatchUser {
    type Params = Vec<PatchUserItem>;
    type Answer = TextListResults;
    const NAME: &'static str = "PatchUser";
    const TAG: &'static str = "Identity > Administration > Users";
    const ROLE: Option<&'static str> = Some("Identity.User.ReadWrite");
    const METHOD: HttpMethod = HttpMethod::Post;
    const WRITES: bool = true;
    const TENANT: TenantUse = TenantUse::None;
    const SOURCE: Source = Source {
        upstream: "Invoke-PatchUser.ps1",
        frontend: Some("src/pages/identity/administration/users/patch-wizard.jsx"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "Each element's `tenantFilter` must be a tenant this CIPP manages and the caller may use (400/403 naming it). An `id`, `manager` or `sponsor` that is neither an object id nor a user principal name is a 400 naming it.",
    );

    fn example() -> Value {
        json!([{
            "id": crate::demo::USER_ID,
            "tenantFilter": crate::demo::TENANT,
            "jobTitle": "Account Manager",
            "city": "Utrecht",
        }])
    }

    async fn run(
        ctx: Ctx,
        elements: Vec<PatchUserItem>,
    ) -> Result<Outcome<TextListResults>, UserError> {
        let missing = || UserError::Answered {
            kind: ErrorKind::InvalidInput,
            message: MISSING.to_owned(),
            results: json!([MISSING]),
        };
        if elements.is_empty() {
            return Err(missing());
        }
        let mut items = Vec::with_capacity(elements.len());
        let mut first_tenant = None;
        for (index, element) in elements.into_iter().enumerate() {
            let (Some(id), Some(tenant_label)) = (element.id, element.tenant_filter) else {
                return Err(missing());
            };
            let tenant = ctx
                .tenant_named(&format!("[{index}].tenantFilter"), &tenant_label)
                .await?;
            first_tenant.get_or_insert_with(|| {
                (
                    tenant.default_domain_name.clone(),
                    tenant.customer_id.clone(),
                )
            });
            items.push(PatchItem {
                id: id.as_str().to_owned(),
                tenant: tenant.customer_id,
                tenant_label,
                properties: element.properties,
                manager: element.manager.map(String::from),
                sponsor: element.sponsor.map(String::from),
            });
        }
        let outcome = patch_users(&ctx.graph, &items).await?;
        let last = outcome.results.last().cloned().unwrap_or_default();
        if outcome.failed {
            return Err(UserError::Answered {
                kind: ErrorKind::UpstreamRejected,
                message: last,
                results: json!(outcome.results),
            });
        }
        let mut answer = Outcome::json(TextListResults::new(outcome.results)).audit_message(last);
        if let Some((domain, id)) = first_tenant {
            answer = answer.audit_tenant(domain, id);
        }
        Ok(answer)
    }
}

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
    pub sponsor: Option<String>,
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

/// Patches every item, tenant by tenant in the order they first appear, then sets managers
/// grouped by manager, then sponsors grouped by sponsor. Items with no properties left are neither successes nor failures.
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
    let mut sponsors_set = 0usize;
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
        // Managers, then sponsors: one Set-CIPPManager / Set-CIPPSponsor call per distinct
        // target, in the order the targets first appear.
        for relation in [Relation::Manager, Relation::Sponsor] {
            let target_of = |item: &PatchItem| match relation {
                Relation::Manager => item.manager.clone(),
                Relation::Sponsor => item.sponsor.clone(),
            };
            let noun = match relation {
                Relation::Manager => "manager",
                Relation::Sponsor => "sponsor",
            };
            let mut by_target: Vec<(String, Vec<String>)> = Vec::new();
            for item in &mine {
                let Some(target) = target_of(item) else {
                    continue;
                };
                match by_target.iter_mut().find(|(t, _)| *t == target) {
                    Some((_, users)) => users.push(item.id.clone()),
                    None => by_target.push((target, vec![item.id.clone()])),
                }
            }
            for (target, users) in by_target {
                let outcome = match relation {
                    Relation::Manager => set_managers(graph, tenant, &users, &target).await,
                    Relation::Sponsor => set_sponsors(graph, tenant, &users, &target).await,
                };
                match outcome {
                    Ok(results) => {
                        for r in results {
                            if r.success {
                                match relation {
                                    Relation::Manager => managers_set += 1,
                                    Relation::Sponsor => sponsors_set += 1,
                                }
                            } else {
                                errors.push(format!(
                                    "Failed to set {noun} for {} in tenant {label}: {}",
                                    r.user, r.result
                                ));
                            }
                        }
                    }
                    Err(e) => {
                        for user in &users {
                            errors.push(format!(
                                "Failed to set {noun} for {user} in tenant {label}: {e}"
                            ));
                        }
                    }
                }
            }
        }
    }
    let any_manager = items.iter().any(|i| i.manager.is_some());
    let any_sponsor = items.iter().any(|i| i.sponsor.is_some());
    let any_relation = any_manager || any_sponsor;
    let across = format!("across {}", plural(labels.len(), "tenant"));
    let summary = if any_relation {
        let mut relations = Vec::new();
        if any_manager {
            relations.push(plural(managers_set, "manager assignment"));
        }
        if any_sponsor {
            relations.push(plural(sponsors_set, "sponsor assignment"));
        }
        let rel = relations.join(" and ");
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
    let partial = if any_relation {
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
