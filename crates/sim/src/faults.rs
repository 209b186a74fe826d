//! Fault injection: forced statuses and delays, matched by path prefix, method and tenant.
//!
//! Rates draw from a generator seeded from the simulator seed, so a run can be repeated.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct FaultSpec {
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub rate: Option<f64>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub retry_after: Option<serde_json::Number>,
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

struct Fault {
    id: String,
    path: String,
    method: Option<String>,
    /// Tenant id when the spec named a known tenant, else the raw lower-cased value.
    tenant: Option<String>,
    status: Option<u16>,
    rate: f64,
    remaining: Option<u64>,
    retry_after: Option<String>,
    latency_ms: u64,
}

/// What the faults decided for one request.
#[derive(Debug, Default)]
pub(crate) struct Firing {
    pub latency_ms: u64,
    pub status: Option<u16>,
    pub retry_after: Option<String>,
}

pub(crate) struct FaultSet {
    faults: Vec<Fault>,
    rng: ChaCha8Rng,
    next_id: u64,
}

impl FaultSet {
    pub fn new(seed: u64) -> Self {
        Self {
            faults: Vec::new(),
            rng: crate::seed::rng_for(seed ^ 0xFA01_7000, 0),
            next_id: 1,
        }
    }

    pub fn add(&mut self, spec: FaultSpec, tenant_id: Option<String>) -> Result<String, String> {
        let rate = spec.rate.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&rate) {
            return Err("rate must be between 0 and 1".to_owned());
        }
        if spec.status.is_none() && spec.latency_ms.is_none() {
            return Err("a fault needs a status, a latency_ms, or both".to_owned());
        }
        if let Some(status) = spec.status
            && !(100..=599).contains(&status)
        {
            return Err("status must be an HTTP status code".to_owned());
        }
        let id = format!("fault-{}", self.next_id);
        self.next_id += 1;
        self.faults.push(Fault {
            id: id.clone(),
            path: spec.path,
            method: spec.method.map(|m| m.to_ascii_uppercase()),
            tenant: tenant_id.or(spec.tenant.map(|t| t.to_ascii_lowercase())),
            status: spec.status,
            rate,
            remaining: spec.count,
            retry_after: spec.retry_after.map(|n| n.to_string()),
            latency_ms: spec.latency_ms.unwrap_or(0),
        });
        Ok(id)
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.faults.len();
        self.faults.retain(|f| f.id != id);
        self.faults.len() != before
    }

    /// Decides the faults for a request. Latencies add up; the first firing status wins.
    pub fn check(&mut self, method: &str, path: &str, tenant: Option<&str>) -> Firing {
        let mut firing = Firing::default();
        let tenant = tenant.map(str::to_ascii_lowercase);
        for fault in &mut self.faults {
            if firing.status.is_some() && fault.status.is_some() {
                continue;
            }
            if !path.starts_with(&fault.path) || fault.remaining == Some(0) {
                continue;
            }
            if fault.method.as_deref().is_some_and(|m| m != method) {
                continue;
            }
            if let Some(want) = &fault.tenant
                && tenant.as_deref() != Some(want.as_str())
            {
                continue;
            }
            // Always draw, so the sequence depends only on the matching requests.
            let draw: f64 = self.rng.random();
            if draw >= fault.rate {
                continue;
            }
            if let Some(left) = fault.remaining.as_mut() {
                *left -= 1;
            }
            firing.latency_ms += fault.latency_ms;
            if let Some(status) = fault.status {
                firing.status = Some(status);
                firing.retry_after = fault.retry_after.clone();
            }
        }
        firing
    }
}
