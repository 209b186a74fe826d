//! Everything one operation call may use: the Graph client, the store, the tenant directory, the
//! service's environment, who is calling and the tenant the call targets. The API crate builds
//! it; nothing here knows HTTP.

use cipp_graph::GraphClient;
use futures::StreamExt;
use futures::stream::{self, LocalBoxStream};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use super::params::RawParams;
use super::{RowPages, TenantUse};
use crate::graph_proxy_guard::ProxyGuard;
use crate::password::PasswordSettings;
use crate::tenant_directory::TenantDirectory;
use crate::{Tenant, UserError};

/// CIPP's refusal text for a tenant outside the caller's scope.
pub const DENIED_TENANT: &str = "Access to this tenant is not allowed";

/// Who is calling, as the operations need it. The API crate implements it over its
/// authenticated caller.
pub trait CallerInfo {
    /// Who did it, for logs and `createdBy` fields.
    fn actor(&self) -> String;
    fn identity(&self) -> CallerIdentity;
    /// Role names for display.
    fn role_names(&self) -> Vec<String>;
    /// The concrete permissions the caller holds.
    fn permissions(&self) -> Vec<String>;
    /// Whether the caller holds the built-in admin or superadmin role.
    fn is_admin(&self) -> bool;
    /// Whether a tenant, known by all of its names, is in the caller's scope.
    fn permits_tenant(&self, names: &[&str]) -> bool;
    /// Whether `AllTenants` may be the target of an operation requiring `permission`.
    fn may_target_all_tenants(&self, permission: &str) -> bool;
    /// Whether no tenant list limits the caller (so even tenants the directory does not list,
    /// e.g. in old log rows, are in scope).
    fn sees_every_tenant(&self) -> bool;
}

#[derive(Debug, Clone)]
pub enum CallerIdentity {
    /// An app calling with client credentials (PSA/RMM integrations, scripts).
    ApiClient { client_id: String, name: String },
    /// A signed-in user.
    User {
        user_principal_name: String,
        object_id: String,
    },
}

/// The service-wide settings and services operations read.
/// Cloned only for a dry run, which swaps in a job engine that queues nothing.
#[derive(Clone)]
pub struct Environment {
    pub tenants: Arc<TenantDirectory>,
    pub proxy_guard: ProxyGuard,
    pub partner_client_id: String,
    /// Demo mode: the simulator stands in for Microsoft 365.
    pub demo: bool,
    pub all_tenants_budget: Duration,
    pub all_tenants_concurrency: usize,
    pub feature_flags: std::collections::BTreeMap<String, bool>,
    pub release_notes: Vec<Value>,
    /// A ListLogs answer without `PageSize` stops after this many rows and says so.
    pub list_logs_max_rows: usize,
    /// The durable job engine (offboarding, scheduled changes): its jobs outlive the request.
    pub jobs: cipp_jobs::Engine,
    /// Whether a webhook is configured for `postExecution.webhook`.
    pub webhook_configured: bool,
    /// The rows of the BEC containment jobs this replica runs, shared with their job kind.
    pub bec_containment: Arc<crate::bec::containment::Board>,
    /// Seals what this service keeps of Microsoft's secrets (the MFA connector's client secret):
    /// the configured encryption key, or a per-process one when none is set.
    pub secret_seal: cipp_store::EncryptionKey,
}

/// The tenant a call targets, resolved before `run`.
#[derive(Debug, Clone)]
pub enum Target {
    /// The operation takes no tenant (or finds its tenants itself).
    None,
    One(Box<Tenant>),
    /// `AllTenants`: the operation fans out over [`Ctx::visible_tenants`].
    All,
}

#[derive(Clone)]
pub struct Ctx {
    pub graph: GraphClient,
    pub store: cipp_store::Store,
    pub env: Arc<Environment>,
    pub caller: Arc<dyn CallerInfo>,
    pub target: Target,
    /// The operation being run and its permission.
    pub operation: &'static str,
    /// The call's parameters as sent (query and body merged), for work that outlives the
    /// request (a scheduled job runs them later through the same parameter rules).
    pub request: Value,
    pub role: Option<&'static str>,
    /// Whether the call came as a POST. CIPP reads query and body alike, so almost no operation
    /// cares; ExecBECCheck does (its newest frontend starts a run with a POST and reads with GETs).
    pub posted: bool,
    /// Set for `WhatIf=true`: `graph` and `env.jobs` are then clones that record writes instead
    /// of making them, and an operation that would wait for its own job does not.
    pub dry_run: Option<cipp_graph::DryRun>,
}

impl Ctx {
    /// The one tenant the call targets (for operations declared [`TenantUse::One`]).
    pub fn tenant(&self) -> Result<&Tenant, UserError> {
        match &self.target {
            Target::One(tenant) => Ok(tenant),
            Target::All => Err(UserError::invalid(
                "tenantFilter",
                format!(
                    "tenantFilter: {} acts on one tenant, not AllTenants",
                    self.operation
                ),
            )),
            Target::None => Err(UserError::missing("tenantFilter")),
        }
    }

    /// Resolves a tenant the operation names itself (e.g. per item): 400 when unknown, 403 when
    /// outside the caller's scope.
    pub async fn tenant_named(&self, field: &str, name: &str) -> Result<Tenant, UserError> {
        let tenant = self.env.tenants.find(name).await?.ok_or_else(|| {
            UserError::invalid(
                field,
                format!(
                    "{field}: '{name}' is not a tenant this CIPP manages (use its tenant id, default domain or initial domain)"
                ),
            )
        })?;
        if !self.permits(&tenant) {
            return Err(UserError::refused(DENIED_TENANT));
        }
        Ok(tenant)
    }

    pub fn permits(&self, tenant: &Tenant) -> bool {
        self.caller.permits_tenant(&[
            &tenant.customer_id,
            &tenant.default_domain_name,
            &tenant.initial_domain_name,
        ])
    }

    /// Whether the caller may name `AllTenants` for this operation.
    pub fn may_target_all_tenants(&self) -> bool {
        self.caller
            .may_target_all_tenants(self.role.unwrap_or_default())
    }

    /// The tenants an `AllTenants` request covers: every tenant in the caller's scope.
    pub async fn visible_tenants(&self) -> Result<Vec<Tenant>, UserError> {
        Ok(self
            .env
            .tenants
            .all()
            .await?
            .iter()
            .filter(|t| self.permits(t))
            .cloned()
            .collect())
    }

    /// CIPP's stored password settings for the generator; a store failure falls back to CIPP's
    /// defaults (and says so in the log) rather than failing the write.
    pub async fn password_settings(&self) -> PasswordSettings {
        crate::password::stored_settings(&self.store).await
    }

    /// Every visible tenant's rows, as pages, within the AllTenants budget: each tenant's
    /// failure (or unfinished work) becomes a row of its own instead of failing the answer.
    pub async fn fan_out<F>(&self, per_tenant: F) -> Result<RowPages, UserError>
    where
        F: Fn(&Tenant) -> RowPages + 'static,
    {
        let tenants = self.visible_tenants().await?;
        Ok(fan_out(
            tenants,
            self.env.all_tenants_budget,
            self.env.all_tenants_concurrency,
            per_tenant,
        ))
    }
}

/// Resolves `tenantFilter` (or `tenantId`) as the operation declares it: 400 when missing or
/// unknown, 403 when outside the caller's tenants or `AllTenants` is not allowed.
pub async fn resolve_target(
    use_: TenantUse,
    raw: &RawParams,
    env: &Environment,
    caller: &dyn CallerInfo,
    role: Option<&str>,
    operation: &str,
) -> Result<Target, UserError> {
    if use_ == TenantUse::None {
        return Ok(Target::None);
    }
    let name = raw
        .string("tenantFilter")
        .or_else(|| raw.string("tenantId"))
        .ok_or_else(|| UserError::missing("tenantFilter"))?;
    if name.eq_ignore_ascii_case("AllTenants") {
        if use_ == TenantUse::One {
            return Err(UserError::invalid(
                "tenantFilter",
                format!("tenantFilter: {operation} acts on one tenant, not AllTenants"),
            ));
        }
        if !caller.may_target_all_tenants(role.unwrap_or_default()) {
            return Err(UserError::refused(DENIED_TENANT));
        }
        return Ok(Target::All);
    }
    let tenant = env.tenants.find(&name).await?.ok_or_else(|| {
        UserError::invalid(
            "tenantFilter",
            format!(
                "tenantFilter: '{name}' is not a tenant this CIPP manages (use its tenant id, default domain or initial domain)"
            ),
        )
    })?;
    Ok(Target::One(Box::new(tenant)))
}

/// Whether the caller may act on the resolved tenant (checked after the audit row has learnt
/// the tenant, so a refusal is recorded against it).
pub fn check_scope(target: &Target, caller: &dyn CallerInfo) -> Result<(), UserError> {
    if let Target::One(tenant) = target
        && !caller.permits_tenant(&[
            &tenant.customer_id,
            &tenant.default_domain_name,
            &tenant.initial_domain_name,
        ])
    {
        return Err(UserError::refused(DENIED_TENANT));
    }
    Ok(())
}

/// Reads the first page now and returns a stream of all pages, the first included, so the
/// common failures (no access, unknown user) still get their own status code.
pub async fn start_rows<S>(pages: S) -> Result<RowPages, UserError>
where
    S: futures::Stream<Item = Result<Vec<Value>, UserError>> + 'static,
{
    let mut pages = pages.boxed_local();
    match pages.next().await {
        None => Ok(stream::empty().boxed_local()),
        Some(Err(error)) => Err(error),
        Some(Ok(first)) => Ok(stream::once(async move { Ok(first) })
            .chain(pages)
            .boxed_local()),
    }
}

/// The rows of every tenant, as pages. `per_tenant` starts one tenant's page stream.
pub fn fan_out<F>(
    tenants: Vec<Tenant>,
    budget: Duration,
    concurrency: usize,
    per_tenant: F,
) -> RowPages
where
    F: Fn(&Tenant) -> RowPages + 'static,
{
    let deadline = Instant::now() + budget;
    metrics::histogram!("cipp_all_tenants_fanout_tenants").record(tenants.len() as f64);
    stream::iter(tenants)
        .map(move |tenant| {
            let label = tenant.default_domain_name.clone();
            tenant_rows(label, per_tenant(&tenant), deadline, budget)
        })
        .flatten_unordered(concurrency.max(1))
        .map(Ok)
        .boxed_local()
}

enum FanState {
    Running(RowPages),
    Done,
}

fn tenant_rows(
    label: String,
    pages: RowPages,
    deadline: Instant,
    budget: Duration,
) -> LocalBoxStream<'static, Vec<Value>> {
    stream::unfold(FanState::Running(pages), move |state| {
        let label = label.clone();
        async move {
            let FanState::Running(mut pages) = state else {
                return None;
            };
            match tokio::time::timeout_at(deadline, pages.next()).await {
                Ok(Some(Ok(rows))) => Some((rows, FanState::Running(pages))),
                Ok(None) => None,
                Ok(Some(Err(error))) => {
                    tracing::info!(tenant = %label, %error, "tenant failed during AllTenants");
                    let row = json!({
                        "Tenant": label,
                        "CippStatus": format!("Could not connect to tenant. {error}"),
                    });
                    Some((vec![row], FanState::Done))
                }
                Err(_) => {
                    let row = json!({
                        "Tenant": label,
                        "CippStatus": format!(
                            "Not finished within the {} s time budget for AllTenants requests; ask for this tenant on its own",
                            budget.as_secs()
                        ),
                    });
                    Some((vec![row], FanState::Done))
                }
            }
        }
    })
    .boxed_local()
}
