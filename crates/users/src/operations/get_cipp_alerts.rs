//! `GetCippAlerts` (CIPP-API `Invoke-GetCippAlerts.ps1`): banners and toasts for the CIPP
//! frontend, always an array. They report real conditions found now, never constants: demo
//! mode, tenants whose token requests fail, and a tenant list that cannot be read.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use utoipa::ToSchema;

use crate::UserError;
use crate::normalize::normalize_graph_error;
use crate::op::{Ctx, Method, Operation, Outcome, Source, TenantUse};

pub struct GetCippAlerts;

/// Token checks run at most this many at once and stop after this long, so the shell's
/// alert call stays fast even with hundreds of tenants (tokens are cached after the first call).
const PROBES_IN_FLIGHT: usize = 16;
const PROBE_BUDGET: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize, ToSchema)]
pub struct Params {
    /// The frontend's version (from its `version.json`); CIPP compares it with the latest
    /// release, which this service does not look up.
    #[serde(rename = "localversion")]
    pub local_version: Option<String>,
}

/// One banner (`maintenance: true`) or toast.
#[derive(Debug, Serialize, ToSchema)]
pub struct CippAlert {
    pub title: String,
    /// The message text.
    #[serde(rename = "Alert")]
    pub alert: String,
    /// The severity the frontend shows it with.
    #[serde(rename = "type")]
    pub kind: CippAlertType,
    /// A frontend path to act on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// `true` shows it as a banner instead of a toast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<bool>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CippAlertType {
    Info,
    Warning,
    Error,
}

impl Operation for GetCippAlerts {
    type Params = Params;
    type Answer = Vec<CippAlert>;
    const NAME: &'static str = "GetCippAlerts";
    const TAG: &'static str = "CIPP > Core";
    const ROLE: Option<&'static str> = Some("CIPP.Core.Read");
    const METHOD: Method = Method::Get;
    const WRITES: bool = false;
    const TENANT: TenantUse = TenantUse::None;
    const ANY_TENANT: bool = true;
    const SOURCE: Source = Source {
        upstream: "Invoke-GetCippAlerts.ps1",
        frontend: Some("src/layouts/index.js"),
    };
    const DIFFERENCES: Option<&'static str> = Some(
        "The alerts are this service's own: demo mode, tenants whose token requests fail and an unreadable tenant list (CIPP's are about its version, its function app and its settings).",
    );

    fn example() -> Value {
        json!({"localversion": "10.9.0"})
    }

    async fn run(ctx: Ctx, _params: Params) -> Result<Outcome<Vec<CippAlert>>, UserError> {
        let mut alerts = Vec::new();
        if ctx.env.demo {
            alerts.push(CippAlert {
                title: "Demo mode".to_owned(),
                alert: "This CIPP backend runs against a simulated Microsoft 365: no real tenant is read or changed.".to_owned(),
                kind: CippAlertType::Info,
                link: None,
                maintenance: Some(true),
            });
        }
        match ctx.visible_tenants().await {
            Err(error) => alerts.push(CippAlert {
                title: "Tenant list unavailable".to_owned(),
                alert: format!("The tenant list could not be read: {error}"),
                kind: CippAlertType::Error,
                link: None,
                maintenance: None,
            }),
            Ok(tenants) => {
                let graph = ctx.graph.clone();
                let probes = futures::stream::iter(tenants)
                    .map(|tenant| {
                        let graph = graph.clone();
                        async move {
                            let result = graph
                                .access_token(
                                    &tenant.customer_id,
                                    "https://graph.microsoft.com/.default",
                                )
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
                                alerts.push(CippAlert {
                                    title: format!("Cannot connect to {}", tenant.display_name),
                                    alert: format!(
                                        "Token requests for {} ({}) fail: {}",
                                        tenant.display_name,
                                        tenant.default_domain_name,
                                        normalize_graph_error(&error)
                                    ),
                                    kind: CippAlertType::Warning,
                                    link: Some("/tenant/administration/tenants".to_owned()),
                                    maintenance: None,
                                });
                            }
                        }
                    }
                    Err(_) => alerts.push(CippAlert {
                        title: "Tenant checks incomplete".to_owned(),
                        alert: format!(
                            "Checking tenant access took longer than {} s.",
                            PROBE_BUDGET.as_secs()
                        ),
                        kind: CippAlertType::Warning,
                        link: None,
                        maintenance: None,
                    }),
                }
            }
        }
        Ok(Outcome::json(alerts))
    }
}
