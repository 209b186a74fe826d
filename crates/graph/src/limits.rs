//! How many HTTP attempts may be in flight, per tenant and overall, so a fan-out over hundreds
//! of tenants cannot flood Graph or Exchange. A permit covers one attempt (send and body
//! read), never the wait before a retry.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::GraphError;

/// Limits on concurrent HTTP attempts made by one [`crate::GraphClient`] (and its clones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcurrencyLimits {
    /// Attempts in flight for one tenant (Graph and Exchange together).
    pub per_tenant: usize,
    /// Attempts in flight across all tenants.
    pub overall: usize,
}

impl Default for ConcurrencyLimits {
    fn default() -> Self {
        Self {
            per_tenant: 8,
            overall: 64,
        }
    }
}

impl ConcurrencyLimits {
    pub(crate) fn validate(&self) -> Result<(), GraphError> {
        for (setting, value) in [
            ("concurrency.per_tenant", self.per_tenant),
            ("concurrency.overall", self.overall),
        ] {
            if value == 0 || value > Semaphore::MAX_PERMITS {
                return Err(GraphError::Config {
                    setting,
                    message: format!("must be between 1 and {}", Semaphore::MAX_PERMITS),
                });
            }
        }
        Ok(())
    }
}

/// Tenant semaphores are dropped once this many exist and nobody holds them.
const PRUNE_ABOVE: usize = 1024;

pub(crate) struct Limiter {
    limits: ConcurrencyLimits,
    overall: Arc<Semaphore>,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Both permits for one attempt; released on drop.
pub(crate) struct Permit {
    _tenant: OwnedSemaphorePermit,
    _overall: OwnedSemaphorePermit,
}

impl Limiter {
    pub(crate) fn new(limits: ConcurrencyLimits) -> Self {
        Self {
            limits,
            overall: Arc::new(Semaphore::new(limits.overall)),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn limits(&self) -> ConcurrencyLimits {
        self.limits
    }

    fn tenant_semaphore(&self, tenant: &str) -> Arc<Semaphore> {
        let key = tenant.trim().to_lowercase();
        let mut map = self.tenants.lock();
        if let Some(s) = map.get(&key) {
            return s.clone();
        }
        if map.len() >= PRUNE_ABOVE {
            // Only the map holds an idle tenant's semaphore, and an idle one has all its permits.
            map.retain(|_, s| Arc::strong_count(s) > 1);
        }
        let s = Arc::new(Semaphore::new(self.limits.per_tenant));
        map.insert(key, s.clone());
        s
    }

    /// Waits for a tenant slot first, then an overall one, so a tenant at its own limit never
    /// sits on overall slots other tenants could use.
    pub(crate) async fn acquire(&self, tenant: &str) -> Result<Permit, GraphError> {
        let closed = |_| GraphError::Config {
            setting: "concurrency",
            message: "limiter closed".to_owned(),
        };
        let tenant_permit = self
            .tenant_semaphore(tenant)
            .acquire_owned()
            .await
            .map_err(closed)?;
        let overall = self.overall.clone().acquire_owned().await.map_err(closed)?;
        Ok(Permit {
            _tenant: tenant_permit,
            _overall: overall,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn zero_limits_are_refused() {
        let bad = ConcurrencyLimits {
            per_tenant: 0,
            overall: 4,
        };
        assert!(bad.validate().is_err());
        assert!(ConcurrencyLimits::default().validate().is_ok());
    }

    #[tokio::test]
    async fn a_tenant_at_its_limit_does_not_hold_overall_slots() {
        let limiter = Limiter::new(ConcurrencyLimits {
            per_tenant: 1,
            overall: 2,
        });
        let _a = limiter.acquire("a").await.unwrap();
        // A second attempt for "a" waits on the tenant semaphore, not holding an overall slot.
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), limiter.acquire("A")).await;
        assert!(waiting.is_err());
        let _b = tokio::time::timeout(std::time::Duration::from_millis(50), limiter.acquire("b"))
            .await
            .unwrap()
            .unwrap();
    }
}
