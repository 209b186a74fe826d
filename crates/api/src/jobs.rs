//! The durable job engine of this replica: where its database is, which job kinds it runs,
//! and its worker. Jobs share the store's backend: a SQLite file beside the store's by default,
//! the `cipp_jobs` schema of the store's PostgreSQL database when replicas share the work.

use cipp_graph::GraphClient;
use cipp_jobs::{Engine, EngineOptions, JobsDb};
use cipp_users_domain::bec::containment::{self, Board, ContainmentJob};
use cipp_users_domain::offboarding::{KIND, OffboardingJob};
use cipp_users_domain::scheduled_user::UserTaskJob;
use cipp_users_domain::task_notify::WebhookTarget;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

use crate::StartupError;
use crate::settings::Settings;

/// The PostgreSQL schema the jobs tables (apalis' and ours) live in.
const SCHEMA: &str = "cipp_jobs";

/// Connects the jobs database and registers every job kind; [`Engine::start`] starts the worker.
pub async fn engine(
    settings: &Settings,
    graph: &GraphClient,
    store: &cipp_store::Store,
    http: &reqwest::Client,
    containment: &Arc<Board>,
) -> Result<Engine, StartupError> {
    let db = match &settings.database_url {
        Some(url) => JobsDb::connect(url.expose_secret(), Some(SCHEMA)).await,
        None => {
            let path = settings.data_dir.join("jobs.db");
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| StartupError::Jobs(e.to_string()))?;
            }
            JobsDb::connect(&path.display().to_string(), None).await
        }
    }
    .map_err(|e| StartupError::Jobs(e.to_string()))?;
    let webhook = match (&settings.webhook_url, &settings.webhook_secret) {
        (Some(url), Some(secret)) => Some(WebhookTarget {
            url: url.clone(),
            secret: secret.clone(),
            http: http.clone(),
            backoff: vec![
                Duration::from_secs(1),
                Duration::from_secs(4),
                Duration::from_secs(15),
            ],
        }),
        _ => None,
    };
    let options = EngineOptions {
        owner: format!("{}-{}", hostname(), uuid::Uuid::new_v4()),
        lease: settings.jobs_lease,
        per_tenant: i64::from(settings.jobs_per_tenant),
        per_replica: settings.jobs_per_replica as usize,
        ..EngineOptions::default()
    };
    let engine = Engine::new(db, options)
        .with_kind(
            KIND,
            OffboardingJob::new(graph.clone(), store.clone(), webhook.clone()),
        )
        .with_kind(
            cipp_users_domain::scheduled_user::KIND,
            UserTaskJob::new(graph.clone(), store.clone(), webhook.clone()),
        )
        .with_kind(
            cipp_users_domain::jit_admin::KIND,
            cipp_users_domain::jit_admin::JitAdminJob::new(
                graph.clone(),
                store.clone(),
                webhook.clone(),
            ),
        )
        .with_kind(
            cipp_users_domain::bec::check::KIND,
            cipp_users_domain::bec::check::CheckJob::new(graph.clone(), store.clone()),
        )
        .with_kind(
            cipp_users_domain::bec::ip_review::KIND,
            cipp_users_domain::bec::ip_review::ReviewJob::new(store.clone()),
        )
        .with_kind(
            cipp_users_domain::vacation_groups::KIND,
            cipp_users_domain::vacation_groups::VacationJob::new(
                graph.clone(),
                store.clone(),
                webhook,
            ),
        )
        .with_kind(
            containment::KIND,
            ContainmentJob::new(graph.clone(), store.clone(), containment.clone()),
        )
        .with_kind(
            cipp_users_domain::bec::containment_actions::CA_REMOVAL_KIND,
            cipp_users_domain::bec::containment_actions::CaRemovalJob::new(graph.clone()),
        );
    // Containment schedules the removal of the CA policies it makes on this same engine.
    containment.attach(engine.clone());
    Ok(engine)
}

/// Keeps `cipp_jobs{state}` (jobs by state, across every replica sharing the database)
/// current for `/metrics`, read every 15 s.
pub fn spawn_state_gauges(engine: Engine) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15));
        loop {
            tick.tick().await;
            match engine.counts().await {
                Ok(counts) => {
                    for state in ["queued", "running", "completed", "failed", "cancelled"] {
                        let n = counts
                            .iter()
                            .find(|(s, _)| s == state)
                            .map_or(0, |(_, n)| *n);
                        #[allow(clippy::cast_precision_loss)]
                        metrics::gauge!("cipp_jobs", "state" => state).set(n as f64);
                    }
                }
                Err(error) => tracing::warn!(%error, "counting jobs by state"),
            }
        }
    });
}

/// Names the replica in leases and logs; the container's or machine's host name.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "replica".to_owned())
}
