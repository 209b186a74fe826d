//! Fault injection: forced statuses and delays, matched by path prefix, method and tenant.
//!
//! Rates draw from a generator seeded from the simulator seed, so a run can be repeated.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// The body of `POST /_sim/faults`. A fault matches requests whose path starts with `path`
/// (for `$batch` items: the inner path as if sent alone, e.g. `/v1.0/users/x`), optionally
/// only for one `method` and one `tenant` (id or any domain; for Graph the token's `tid`, for
/// token routes and Exchange the tenant in the URL). What it does when it fires:
///
/// - `status`: answer with that status and the route's own error body: Graph's
///   `{"error": {code, message, innerError}}` (429 `TooManyRequests`, 503
///   `serviceNotAvailable`, 504 `GatewayTimeout`, ...), Entra's `{error, error_description,
///   error_codes, ...}` on token and discovery routes, Exchange's nested error on `/adminapi`.
///   Inside a Graph `$batch` the item gets the status and the batch itself stays 200.
/// - `retry_after`: a number of seconds (integer or fractional) sent as `Retry-After` with
///   the forced status (in the item's `headers` inside a batch); leave it out for none.
/// - `latency_ms`: delay before answering (adds up across matching faults).
/// - `drop: true`: close the connection without any answer (every request in flight on that
///   connection fails too, as with a real connection reset).
/// - `malformed: true`: answer 200 with `Content-Type: application/json` and a JSON body
///   cut off half way (the real answer truncated; a fixed fragment when it had no body).
/// - `aadsts: <code>`: on token routes only, Entra's error for that AADSTS code with Entra's
///   status (65001 consent → 400 `invalid_grant`, 700082 expired refresh token → 400
///   `invalid_grant`, 53003 blocked by Conditional Access → 400 `invalid_grant`, 7000215 bad
///   secret → 401 `invalid_client`, 90002 unknown tenant → 400 `invalid_tenant`, 50076 MFA
///   required, 50057 disabled account, 700016 app not in tenant, 90055 throttled → 429, ...;
///   other codes → 400 `invalid_request`). Ignored on other routes.
/// - `acknowledge: true`: answer success without doing anything (Exchange: 200 with an empty
///   `value`; Graph: 204), as a write the service acknowledged but lost. Lets a test check
///   that a change is read back rather than assumed.
/// - `rate` (0..1, default 1) fires it for that share of matching requests, drawn from the
///   seeded generator; `count` limits how many times it fires in total.
///
/// - `cmdlet`: only Exchange `InvokeCommand` requests (alone or inside an Exchange `$batch`)
///   whose `CmdletInput.CmdletName` is this name, compared case-insensitively, e.g.
///   `{"cmdlet": "Get-MessageTraceV2", "status": 500}` fails the message trace while every
///   other cmdlet answers. `path` may then be left out (it defaults to `/adminapi/`).
///
/// A fault needs at least one of `status`, `latency_ms`, `drop`, `malformed`, `acknowledge` or
/// `aadsts`.
/// When several faults match, latencies add up and the first one with an action wins.
#[derive(Debug, Deserialize)]
pub(crate) struct FaultSpec {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub cmdlet: Option<String>,
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
    #[serde(default)]
    pub drop: bool,
    #[serde(default)]
    pub malformed: bool,
    #[serde(default)]
    pub aadsts: Option<u32>,
    #[serde(default)]
    pub acknowledge: bool,
}

/// What a firing fault does instead of the normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Status(u16),
    Drop,
    Malformed,
    Aadsts(u32),
    Acknowledge,
}

struct Fault {
    id: String,
    path: String,
    /// Lower-cased cmdlet name the request must run.
    cmdlet: Option<String>,
    method: Option<String>,
    /// Tenant id when the spec named a known tenant, else the raw lower-cased value.
    tenant: Option<String>,
    action: Option<Action>,
    rate: f64,
    remaining: Option<u64>,
    retry_after: Option<String>,
    latency_ms: u64,
}

/// What the faults decided for one request.
#[derive(Debug, Default)]
pub(crate) struct Firing {
    pub latency_ms: u64,
    pub action: Option<Action>,
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
        let actions = [
            spec.status.is_some(),
            spec.drop,
            spec.malformed,
            spec.aadsts.is_some(),
            spec.acknowledge,
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if actions > 1 {
            return Err(
                "a fault takes only one of status, drop, malformed, acknowledge and aadsts"
                    .to_owned(),
            );
        }
        if actions == 0 && spec.latency_ms.is_none() {
            return Err(
                "a fault needs a status, drop, malformed, acknowledge, aadsts or latency_ms"
                    .to_owned(),
            );
        }
        if let Some(status) = spec.status
            && !(100..=599).contains(&status)
        {
            return Err("status must be an HTTP status code".to_owned());
        }
        let cmdlet = spec
            .cmdlet
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty());
        let path = match (spec.path, &cmdlet) {
            (Some(p), _) => p,
            (None, Some(_)) => "/adminapi/".to_owned(),
            (None, None) => return Err("a fault needs a path (or a cmdlet)".to_owned()),
        };
        let id = format!("fault-{}", self.next_id);
        self.next_id += 1;
        self.faults.push(Fault {
            id: id.clone(),
            path,
            cmdlet,
            method: spec.method.map(|m| m.to_ascii_uppercase()),
            tenant: tenant_id.or(spec.tenant.map(|t| t.to_ascii_lowercase())),
            action: match (spec.status, spec.drop, spec.malformed, spec.aadsts) {
                (Some(status), ..) => Some(Action::Status(status)),
                (_, true, ..) => Some(Action::Drop),
                (_, _, true, _) => Some(Action::Malformed),
                (.., Some(code)) => Some(Action::Aadsts(code)),
                _ if spec.acknowledge => Some(Action::Acknowledge),
                _ => None,
            },
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

    /// Whether some fault looks at cmdlet names (so the caller must read the request body).
    pub fn wants_cmdlet(&self) -> bool {
        self.faults.iter().any(|f| f.cmdlet.is_some())
    }

    /// Decides the faults for a request. Latencies add up; the first firing action wins.
    /// `cmdlet` is the Exchange cmdlet the request runs, if any.
    pub fn check(
        &mut self,
        method: &str,
        path: &str,
        tenant: Option<&str>,
        cmdlet: Option<&str>,
    ) -> Firing {
        let mut firing = Firing::default();
        let tenant = tenant.map(str::to_ascii_lowercase);
        for fault in &mut self.faults {
            if firing.action.is_some() && fault.action.is_some() {
                continue;
            }
            if !path.starts_with(&fault.path) || fault.remaining == Some(0) {
                continue;
            }
            if fault.method.as_deref().is_some_and(|m| m != method) {
                continue;
            }
            if let Some(want) = &fault.cmdlet
                && !cmdlet.is_some_and(|c| c.eq_ignore_ascii_case(want))
            {
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
            if let Some(action) = fault.action {
                firing.action = Some(action);
                firing.retry_after = fault.retry_after.clone();
            }
        }
        firing
    }
}
