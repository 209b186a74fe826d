//! The tenant list, cached, and how a `tenantFilter` value becomes one tenant.
//!
//! A value that names no cached tenant reloads the list, at most once a minute, before it is
//! declared unknown, so a new customer appears without a restart and a typo cannot make every
//! request reload the list.

use crate::{Tenant, UserError, tenants::load_tenants};
use cipp_graph::GraphClient;
use parking_lot::RwLock;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RELOAD_ON_MISS_INTERVAL: Duration = Duration::from_secs(60);
/// The list is reloaded in the background of a request once it is this old.
const MAX_AGE: Duration = Duration::from_secs(3600);

pub struct TenantDirectory {
    graph: GraphClient,
    partner_tenant_id: String,
    cache: RwLock<Option<(Arc<Vec<Tenant>>, Instant)>>,
    load_gate: tokio::sync::Mutex<()>,
}

impl TenantDirectory {
    pub fn new(graph: GraphClient, partner_tenant_id: String) -> Self {
        Self {
            graph,
            partner_tenant_id,
            cache: RwLock::new(None),
            load_gate: tokio::sync::Mutex::new(()),
        }
    }

    pub fn partner_tenant_id(&self) -> &str {
        &self.partner_tenant_id
    }

    /// Every tenant, loading the list when there is none yet or it is stale.
    pub async fn all(&self) -> Result<Arc<Vec<Tenant>>, UserError> {
        if let Some((list, loaded)) = self.cache.read().as_ref()
            && loaded.elapsed() < MAX_AGE
        {
            return Ok(list.clone());
        }
        self.reload(None).await
    }

    /// Drops the cache and reads the list again now.
    pub async fn refresh(&self) -> Result<Arc<Vec<Tenant>>, UserError> {
        self.reload(Some(Duration::ZERO)).await
    }

    /// The tenant a `tenantFilter` names (id, default domain or initial domain, any case).
    pub async fn find(&self, name: &str) -> Result<Option<Tenant>, UserError> {
        if let Some(tenant) = lookup(&self.all().await?, name) {
            return Ok(Some(tenant));
        }
        let list = self.reload(Some(RELOAD_ON_MISS_INTERVAL)).await?;
        Ok(lookup(&list, name))
    }

    /// Reloads unless another reload happened within `min_interval` (None: only if missing or stale).
    async fn reload(&self, min_interval: Option<Duration>) -> Result<Arc<Vec<Tenant>>, UserError> {
        let _only_one_load_at_a_time = self.load_gate.lock().await;
        if let Some((list, loaded)) = self.cache.read().as_ref() {
            let fresh_enough = match min_interval {
                Some(interval) => loaded.elapsed() < interval,
                None => loaded.elapsed() < MAX_AGE,
            };
            if fresh_enough && min_interval != Some(Duration::ZERO) {
                return Ok(list.clone());
            }
        }
        let list = Arc::new(load_tenants(&self.graph, &self.partner_tenant_id).await?);
        tracing::info!(tenants = list.len(), "loaded the tenant list");
        *self.cache.write() = Some((list.clone(), Instant::now()));
        Ok(list)
    }
}

fn lookup(list: &[Tenant], name: &str) -> Option<Tenant> {
    list.iter()
        .find(|t| {
            t.customer_id.eq_ignore_ascii_case(name)
                || t.default_domain_name.eq_ignore_ascii_case(name)
                || t.initial_domain_name.eq_ignore_ascii_case(name)
        })
        .cloned()
}
