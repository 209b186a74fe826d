//! `GetCippAlerts`: banners and toasts for the CIPP frontend, always an array. They report real
//! conditions found now, never constants: demo mode, tenants whose token requests fail, and
//! state that is not ready.

use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;

use super::{Context, Reply};
use crate::error::ApiError;
use crate::settings::Mode;

/// Token checks run at most this many at once and stop after this long, so the shell's
/// alert call stays fast even with hundreds of tenants (tokens are cached after the first call).
const PROBES_IN_FLIGHT: usize = 16;
const PROBE_BUDGET: Duration = Duration::from_secs(10);

pub fn handle(ctx: Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
    async move {
        let mut alerts = Vec::new();
        if ctx.state.settings.mode == Mode::Demo {
            alerts.push(json!({
                "title": "Demo mode",
                "Alert": "This CIPP backend runs against a simulated Microsoft 365: no real tenant is read or changed.",
                "type": "info",
                "maintenance": true,
            }));
        }
        match ctx.visible_tenants().await {
            Err(error) => alerts.push(json!({
                "title": "Tenant list unavailable",
                "Alert": format!("The tenant list could not be read: {}", error.message),
                "type": "error",
            })),
            Ok(tenants) => {
                let graph = ctx.state.graph.clone();
                let probes = futures::stream::iter(tenants)
                    .map(|tenant| {
                        let graph = graph.clone();
                        async move {
                            let result = graph
                                .access_token(&tenant.customer_id, "https://graph.microsoft.com/.default")
                                .await;
                            (tenant, result.err())
                        }
                    })
                    .buffer_unordered(PROBES_IN_FLIGHT)
                    .collect::<Vec<_>>();
                match tokio::time::timeout(PROBE_BUDGET, probes).await {
                    Ok(results) => {
                        for (tenant, error) in results {
                            if let Some(error) = error {
                                alerts.push(json!({
                                    "title": format!("Cannot connect to {}", tenant.display_name),
                                    "Alert": format!(
                                        "Token requests for {} ({}) fail: {}",
                                        tenant.display_name, tenant.default_domain_name,
                                        cipp_users_domain::normalize::normalize_graph_error(&error)
                                    ),
                                    "link": "/tenant/administration/tenants",
                                    "type": "warning",
                                }));
                            }
                        }
                    }
                    Err(_) => alerts.push(json!({
                        "title": "Tenant checks incomplete",
                        "Alert": format!("Checking tenant access took longer than {} s.", PROBE_BUDGET.as_secs()),
                        "type": "warning",
                    })),
                }
            }
        }
        Ok(Reply::ok(Value::Array(alerts)))
    }
    .boxed_local()
}
