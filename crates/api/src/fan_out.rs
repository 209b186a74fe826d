//! `AllTenants`, answered inside the request: the work runs per tenant the caller may see,
//! within the Graph client's concurrency limits and a time budget, and each tenant's failure
//! (or unfinished work) becomes a row of its own instead of failing the whole answer.

use cipp_users_domain::Tenant;
use futures::StreamExt;
use futures::stream::{self, LocalBoxStream};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

use crate::error::ApiError;
use crate::streaming::RowPages;

/// The rows of every tenant, as pages. `per_tenant` starts one tenant's page stream.
pub fn fan_out<F>(
    tenants: Vec<Tenant>,
    budget: Duration,
    concurrency: usize,
    per_tenant: F,
) -> RowPages
where
    F: Fn(&Tenant) -> LocalBoxStream<'static, Result<Vec<Value>, ApiError>> + 'static,
{
    let deadline = Instant::now() + budget;
    stream::iter(tenants)
        .map(move |tenant| {
            let label = tenant.default_domain_name.clone();
            tenant_rows(label, per_tenant(&tenant), deadline, budget)
        })
        .flatten_unordered(concurrency.max(1))
        .map(Ok)
        .boxed_local()
}

enum State {
    Running(LocalBoxStream<'static, Result<Vec<Value>, ApiError>>),
    Done,
}

fn tenant_rows(
    label: String,
    pages: LocalBoxStream<'static, Result<Vec<Value>, ApiError>>,
    deadline: Instant,
    budget: Duration,
) -> LocalBoxStream<'static, Vec<Value>> {
    stream::unfold(State::Running(pages), move |state| {
        let label = label.clone();
        async move {
            let State::Running(mut pages) = state else {
                return None;
            };
            match tokio::time::timeout_at(deadline, pages.next()).await {
                Ok(Some(Ok(rows))) => Some((rows, State::Running(pages))),
                Ok(None) => None,
                Ok(Some(Err(error))) => {
                    tracing::info!(tenant = %label, error = %error.message, "tenant failed during AllTenants");
                    let row = json!({
                        "Tenant": label,
                        "CippStatus": format!("Could not connect to tenant. {}", error.message),
                    });
                    Some((vec![row], State::Done))
                }
                Err(_) => {
                    let row = json!({
                        "Tenant": label,
                        "CippStatus": format!(
                            "Not finished within the {} s time budget for AllTenants requests; ask for this tenant on its own",
                            budget.as_secs()
                        ),
                    });
                    Some((vec![row], State::Done))
                }
            }
        }
    })
    .boxed_local()
}
