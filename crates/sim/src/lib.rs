//! A simulated Microsoft 365 for tests, demos and benchmarks: the Entra token endpoint,
//! Microsoft Graph and the Exchange Online admin REST API, all served over loopback HTTPS from
//! one origin. The `cipp-sim` binary runs it in its own process (see `src/bin/cipp-sim.rs`:
//! `--bind`, `--seed`, `--tenants`, `--users`, `--cert-dir`; one JSON line on stdout).
//!
//! Map of the crate:
//! - [`start`] / [`SimConfig`] / [`SimHandle`]: this file.
//! - `tls`: the per-start CA and the server certificate for 127.0.0.1 / localhost.
//! - `keys`, `tokens`: token signing, the token endpoint, discovery and JWKS.
//! - `http`: the one pipeline (route, faults, dispatch, stats) for requests and batch items.
//! - `graph`: envelope and errors (`mod.rs`), `$filter` (`filter.rs`), users, GDAP, domains,
//!   `mailboxSettings` (`mailbox.rs`); `batch`: Graph JSON batching.
//! - `exchange`: InvokeCommand, its `$batch`, cmdlets (`cmdlets.rs`) and the mailbox model
//!   shared with Graph (`mailbox.rs`).
//! - `admin`: the `/_sim/…` test API (faults, stats, tenants, stored users, Exchange errors).
//! - `seed`, `state`, `user`, `faults`: deterministic data, in-memory state, fault matching.
//! - `incident`: the planted business-email-compromise incident of each customer tenant.
//!
//! Routes (besides the admin API):
//! - `POST /{tenant}/oauth2/v2.0/token` (client_credentials, refresh_token), discovery, JWKS.
//!   Refresh tokens rotate: each use returns a new one and the used one stays valid (Entra's
//!   behaviour for confidential clients) until `revokeSignInSessions`. Delegated tokens carry
//!   `scp`, `upn`, `idtyp: "user"`; app-only tokens carry `roles`, `idtyp: "app"` (Exchange
//!   tokens for the partner app hold `Exchange.ManageAsApp`).
//! - Graph `/{v1.0|beta}/…`: users (list/get/patch/delete, manager, revoke, password reset),
//!   deleted items, GDAP relationships, domains, organization,
//!   `GET|PATCH /users/{id}/mailboxSettings`, `GET …/mailboxSettings/automaticRepliesSetting`.
//! - Credentials (`graph/credentials.rs`): `GET …/authentication/{type}Methods[/{id}]`,
//!   `DELETE …/authentication/{type}Methods/{id}` (204; the password method is refused), beta
//!   `DELETE …/authentication/qrCodePinMethod`, `POST …/authentication/temporaryAccessPassMethods`
//!   (201 with the pass, shown once; lifetime 10–43200, default 60; one pass per user), beta
//!   `PATCH …/authentication/signInPreferences` (the method must be registered), `riskyUsers`
//!   (list, get, `POST riskyUsers/dismiss`; about one member in ten seeded at risk, on first use)
//!   and beta `{users|groups|contacts}/{id}/onPremisesSyncBehavior` (GET/PATCH `isCloudManaged`;
//!   a cloud-managed user is no longer synced, so Entra edits such as clearing
//!   `onPremisesImmutableId` are accepted).
//! - Licences, roles, photos (`graph/assignments.rs`): `POST users/{id}/assignLicense` (Graph's
//!   400s for an unknown SKU, no seats left, no `usageLocation`; seats fixed per tenant on first
//!   use), `POST users/{id}/reprocessLicenseAssignment`, `DELETE directoryRoles/{id}/members/{id}/$ref`
//!   (also `directoryRoles(roleTemplateId='…')`), `DELETE roleManagement/directory/roleAssignments/{id}`,
//!   `PUT|DELETE users/{id}/photo/$value` (the bytes the photo GET then serves).
//! - Relationship writes (`graph/relations.rs`): `POST groups/{id}/members/$ref`, `DELETE
//!   groups/{id}/members/{user}/$ref` (refused for synced, dynamic and Exchange-owned groups;
//!   an existing member or a non-member is an error), `POST users/{id}/assignLicense`, `PUT|DELETE
//!   users/{id}/manager/$ref` (a synced user's manager is AD's).
//! - User writes (`graph/user_writes.rs`): `POST /users` (201; Graph's required properties,
//!   verified UPN domain, allowed characters, password complexity, duplicate UPN), `POST
//!   /invitations` (a guest `…#EXT#@<initial domain>`, `PendingAcceptance`; an address in one of
//!   the tenant's domains is refused); writing `mail` makes it the primary SMTP proxy address and
//!   keeps the old ones as aliases.
//! - OneDrive and SharePoint (`graph/sharepoint.rs`): `GET users/{id}/drive`, `…/drive/root`
//!   (`sharepointIds`), `GET sites/root`; site REST under `/_sp/{name}-my/personal/{user}/_api/`
//!   (`web/ensureuser`, `web/getuserbyid(N)` with MERGE, `web/siteusers`) and the admin CSOM
//!   `POST /_sp/{name}-admin/_vti_bin/client.svc/ProcessQuery` (site `SharingCapability`;
//!   `RequestPersonalSites` creates a licensed member's missing OneDrive),
//!   with SharePoint tokens (scope `{sim origin}/.default`).
//! - Teams Phone (`graph/teams.rs`, beta): `GET admin/teams/telephoneNumberManagement/numberAssignments`
//!   (paged) and `POST …/numberAssignments/unassignNumber` (202), also inside `$batch`.
//! - Enterprise apps (`graph/apps.rs`): `GET servicePrincipals` (`$select`, `$top` paging,
//!   `$filter` with `and`-joined `eq|ne|ge|gt|le|lt` and `in (…)` clauses, e.g.
//!   `createdDateTime ge …`, `appId in ('a','b')`), `GET|PATCH|DELETE servicePrincipals/{id}`
//!   (PATCH `accountEnabled`, `tags`, `notes` → 204), `GET users/{id}/oauth2PermissionGrants`,
//!   `GET oauth2PermissionGrants?$filter=clientId eq '…'`, `GET|DELETE oauth2PermissionGrants/{id}`,
//!   `GET users/{id}/appRoleAssignments` (empty).
//! - Contacts and the TAP policy (`graph/contacts_policies.rs`): `GET contacts` (`$select`,
//!   `$top`, `$count`), `GET contacts/{id}`, `GET policies/authenticationMethodsPolicy/
//!   authenticationMethodConfigurations/TemporaryAccessPass`. Entity-set names (the first path
//!   segment) match without regard to case, as Graph's do.
//! - Derived user properties (`user_derived.rs`): `licenseAssignmentStates`, `identities`,
//!   `onPremisesExtensionAttributes` when selected.
//! - A planted business-email-compromise incident in every customer tenant (`incident.rs`):
//!   attacker sign-ins, an inbox rule, a trusted sender, a FullAccess grant, audit records, a
//!   message-trace burst, a consented malicious app, a new MFA method and a password change.
//! - `POST /{v1.0|beta}/$batch`: at most 20 items (more: 400 "Number of requests inside batch
//!   exceeds the limit."), ids unique case-insensitively, relative `url`s, `Content-Type`
//!   required with a `body`. Items run through the same pipeline as single requests (the
//!   batch's token, faults matched on the item path such as `/v1.0/users/x`, stats under that
//!   path; the batch itself counts as `/v1.0/$batch`). `dependsOn` on a failed (non-2xx) item
//!   gives 424. Answers come back shuffled (seeded), never in request order.
//! - `POST /adminapi/{beta|v1.0}/{tenant id or domain}/InvokeCommand` with
//!   `{"CmdletInput": {"CmdletName", "Parameters"}}` and `X-AnchorMailbox`; an Exchange token
//!   (`aud` `https://outlook.office365.com`) for that tenant. Answers
//!   `{"@odata.context", "adminapi.warnings@odata.type", "@adminapi.warnings", "value": [...],
//!   "@odata.nextLink"?}`; page size from `Prefer: odata.maxpagesize=N` (≤ 1000); the client
//!   re-POSTs the same body to the nextLink. `?$select=A,B` trims objects. Cmdlets:
//!   Get-Mailbox, Set-Mailbox, Enable-Mailbox (-Archive, -AutoExpandingArchive),
//!   Get/Set-MailboxAutoReplyConfiguration, Get-InboxRule, Enable/Disable/Remove-InboxRule,
//!   Get/Add/Remove-MailboxPermission, Get/Add/Remove-RecipientPermission, Get/Set-CASMailbox,
//!   Get/Set-MailboxJunkEmailConfiguration, Get-MailboxStatistics, Get-OrganizationConfig,
//!   Get-BlockedSenderAddress, Search-UnifiedAuditLog (`exchange/audit_log.rs`),
//!   Get-AdminAuditLogConfig, Get-AcceptedDomain, Get-MessageTraceV2 and Get-MessageTrace
//!   (`exchange/message_trace.rs`), the mobile-device and folder-permission cmdlets
//!   (`exchange/devices_calendar.rs`). Errors use Exchange's nested shapes (see `/_sim/exchange`).
//!   Also `POST /adminapi/beta/{tenant}/$batch` (absolute InvokeCommand URLs, answers in
//!   request order) and `GET /adminapi/beta/{tenant}/Mailbox('{id}')/Exchange.GetMailboxStatistics()`.
//!   One mailbox, two views: addresses, names and the address-book flag are the directory
//!   user's; auto-replies are the same state as Graph's `automaticRepliesSetting`.
//!
//! - The Azure MFA connector and its token (`mfa_push.rs`): `POST /{tenant}/oauth2/token` (v1,
//!   the MFA client app with a secret from `POST servicePrincipals/{id}/addPassword`,
//!   `graph/sp_credentials.rs`), `POST /StrongAuthenticationService.svc/Connector/
//!   {Begin|End}TwoWayAuthentication` (XML); pushes answered as each user is scripted to.
//!
//! Admin API (no auth, same origin, not counted in stats):
//! - `POST /_sim/faults` `{"path", "method"?, "tenant"?, "cmdlet"?, "status"?, "rate"?, "count"?,
//!   "retry_after"?, "latency_ms"?, "drop"?, "malformed"?, "aadsts"?}` → `{"id"}` (see
//!   `faults::FaultSpec` for what each does); `DELETE /_sim/faults`, `DELETE /_sim/faults/{id}`.
//! - `GET /_sim/stats` → `{"requests": [{method, path, tenant, status, count}], "total"}`
//!   (a dropped request counts with status 0); `DELETE /_sim/stats`.
//! - `GET /_sim/tenants`, `POST /_sim/tenants` `{"count", "users"}` → `{"tenants": [...]}`.
//! - `GET /_sim/partner-refresh-token` → `{"refresh_token", "client_id", "tenant_id", "user_principal_name"}`:
//!   a delegated refresh token for the partner admin, for the `refresh_token` grant.
//! - `GET /_sim/users/{tenant}/{id or upn}` → the stored user, deleted ones included.
//! - `GET /_sim/sharepoint/{tenant}/sites` → `{"name", "sites": [{url, owner, ownerId,
//!   sharingCapability, siteAdmins}]}`: the tenant's OneDrive sites.
//! - `GET /_sim/incident/{tenant}` → the planted incident: `{tenantId, userId,
//!   userPrincipalName, displayName, attackerIp, attackerCountry, failedSignInIp, ruleName,
//!   ruleIdentity, deletedRuleName, trustedSender, mailboxPermissionTrustee, maliciousAppId,
//!   maliciousServicePrincipalId, benignServicePrincipalId, grantId, mfaMethodId,
//!   passwordChangedDateTime, sharedFileName, burstSubject, burstStart, internalRecipients}`.
//! - `PUT /_sim/mfa/{tenant}/{user}` `{"push", "otp"}`, `GET` there → `{"prompts"}`,
//!   `PUT /_sim/mfa` `{"propagation_ms", "timeout_ms"}`: the MFA push script (`mfa_push.rs`).
//! - `GET /_sim/exchange` → `{"error_format"}`; `PUT /_sim/exchange` `{"error_format": "pipe" |
//!   "json" | "innererror" | "innererror-camel" | "message"}` picks where cmdlet error texts go:
//!   `error.details[0].message` as `ErrorId|ExceptionType|Text` (default) or as a JSON string,
//!   `error.innererror.internalexception.message`, the camel-cased `innerError.internalException`,
//!   or `error.message` alone.
//!
//! Trusting the simulator from reqwest 0.13 (rustls): `add_root_certificate` is deprecated there;
//! use `Client::builder().tls_certs_only([Certificate::from_pem(handle.ca_pem.as_bytes())?])`
//! (only the simulator CA) or `.tls_certs_merge([...])` (platform roots plus the simulator CA).

mod admin;
mod authorize;
pub use authorize::{DEMO_SIGN_IN_ROLES, demo_sign_in_upn};
mod batch;
mod exchange;
mod faults;
mod graph;
mod http;
mod incident;
mod keys;
mod mfa_push;
mod seed;
mod seed_groups;
mod seed_reads;
mod state;
mod tls;
mod token_modes;
mod tokens;
mod user;
mod user_derived;
mod writes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;

use crate::faults::FaultSet;
use crate::state::{Apps, Registry, Sim};

/// How to build the simulated world.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub bind: SocketAddr,
    /// Same seed, same tenants, users and ids on every start.
    pub seed: u64,
    /// The CA certificate PEM is written here as `sim-ca.pem` (the directory is created).
    pub cert_dir: PathBuf,
    /// Customer tenants with an active GDAP relationship (at least 3 are created).
    pub customer_tenants: usize,
    /// Users in the first customer tenant, so that paging happens.
    pub big_tenant_users: usize,
    /// The partner (CIPP SAM) app: Graph/Exchange tokens for the partner tenant and every
    /// customer tenant with an active GDAP relationship.
    pub partner_app: SimApp,
    /// The app id of our API; tokens for scope `api://<api_app_id>/.default`.
    pub api_app_id: String,
    /// Entra's requestedAccessTokenVersion for the API app: false → v1 tokens, true → v2.
    pub api_accepts_v2_tokens: bool,
    /// Further client apps registered in the partner tenant (API callers).
    pub clients: Vec<SimApp>,
}

/// An app registration the simulator knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimApp {
    pub client_id: String,
    pub client_secret: String,
    pub display_name: String,
    /// App roles put in the `roles` claim of tokens for the API app.
    pub roles: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 42,
            cert_dir: std::env::temp_dir().join("cipp-sim"),
            customer_tenants: 3,
            big_tenant_users: 2000,
            partner_app: SimApp {
                client_id: "0a4e5b8c-8d1f-4c47-9a35-5f1f2b7e6c01".to_owned(),
                client_secret: "sim-partner-secret".to_owned(),
                display_name: "CIPP-SAM (simulated)".to_owned(),
                roles: Vec::new(),
            },
            api_app_id: "6c3e1d2a-7b4f-4e8a-9c1d-2f3b4a5c6d7e".to_owned(),
            api_accepts_v2_tokens: false,
            clients: Vec::new(),
        }
    }
}

/// A customer tenant as the simulator seeded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantInfo {
    pub customer_id: String,
    pub default_domain_name: String,
    pub initial_domain_name: String,
    pub display_name: String,
    pub user_count: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("simulator I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("simulator TLS setup failed: {0}")]
    Tls(String),
    #[error("simulator key setup failed: {0}")]
    Key(String),
    #[error("simulator base URL is invalid: {0}")]
    Url(#[from] url::ParseError),
}

/// A running simulator. Dropping it does not stop the server; call [`SimHandle::stop`].
pub struct SimHandle {
    /// e.g. `https://127.0.0.1:40123`: authority, Graph and Exchange host all in one.
    pub base_url: url::Url,
    pub ca_pem_path: PathBuf,
    pub ca_pem: String,
    pub partner_tenant_id: String,
    pub partner_tenant_domain: String,
    /// Customer tenants with an active GDAP relationship, in seed order; the first is the big one.
    pub tenants: Vec<TenantInfo>,
    /// Customer tenants whose GDAP relationship ended: token requests for them fail (AADSTS65001).
    pub inactive_tenants: Vec<TenantInfo>,
    server: actix_web::dev::ServerHandle,
    port: u16,
}

impl SimHandle {
    /// Stops the server gracefully and waits for it.
    pub async fn stop(&self) {
        self.server.stop(true).await;
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Binds, spawns the server on the current tokio runtime, and returns once it is listening.
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    // Keygen and TLS run beside the seeding; together they dominate startup in debug builds.
    let key_job = std::thread::spawn(keys::shared_signing_key);
    let tls_job = std::thread::spawn(tls::generate);

    let listener = std::net::TcpListener::bind(config.bind)?;
    let port = listener.local_addr()?.port();
    let base = format!("https://127.0.0.1:{port}");
    let base_url = url::Url::parse(&base)?;

    let mut registry = Registry::default();
    let partner = seed::partner_tenant(config.seed);
    let (admin_id, admin_upn) = {
        let store = partner.users.read();
        store
            .iter_after(None)
            .next()
            .map(|(_, u)| (u.id().to_owned(), u.upn().to_owned()))
            .unwrap_or_default()
    };
    let partner_tenant_id = partner.id.clone();
    let partner_tenant_domain = partner.default_domain().to_owned();
    registry.add(partner, true);
    let customers = config.customer_tenants.max(3) as u64;
    for i in 0..customers {
        let users = if i == 0 {
            config.big_tenant_users.max(1)
        } else {
            seed::small_tenant_size(config.seed, i)
        };
        registry.add(
            seed::customer_tenant(config.seed, i, users, "active"),
            false,
        );
    }
    // One former customer whose relationship was terminated, to exercise consent failures.
    let former = seed::customer_tenant(config.seed, customers, 12, "terminated");
    let inactive_tenants = vec![former.info()];
    registry.add(former, false);
    registry.next_customer_index = customers + 1;
    if let Some(partner) = &registry.partner {
        seed_reads::enrich_tenant(config.seed, partner);
    }
    for tenant in &registry.customers {
        seed_reads::enrich_tenant(config.seed, tenant);
    }
    let tenants: Vec<TenantInfo> = registry
        .customers
        .iter()
        .filter(|t| t.has_active_gdap())
        .map(|t| t.info())
        .collect();

    let join_err = |_| SimError::Key("startup worker panicked".to_owned());
    let key = key_job.join().map_err(join_err)??;
    let tls = tls_job.join().map_err(join_err)??;
    let ca_pem_path = tls::write_ca_pem(&config.cert_dir, &tls.ca_pem)?;

    let sim = Arc::new(Sim {
        base_url: base.clone(),
        seed: config.seed,
        apps: Apps {
            partner: config.partner_app.clone(),
            clients: config.clients.clone(),
            api_app_id: config.api_app_id.clone(),
            api_v2: config.api_accepts_v2_tokens,
        },
        keys: RwLock::new(vec![key]),
        registry: RwLock::new(registry),
        faults: Mutex::new(FaultSet::new(config.seed)),
        batch_rng: Mutex::new(seed::rng_for(config.seed ^ 0xBA7C_4000, 0)),
        exo_error_format: Mutex::new(exchange::ErrorFormat::Pipe),
        stats: Mutex::new(HashMap::new()),
        writes: Default::default(),
        refresh_tokens: Mutex::new(HashMap::new()),
        partner_admin_id: admin_id,
        partner_admin_upn: admin_upn,
        reads: Default::default(),
        credentials: Default::default(),
        licences: Default::default(),
        sharepoint: Default::default(),
        teams: Default::default(),
        enterprise_apps: Default::default(),
        mfa: Default::default(),
        audit_sessions: Default::default(),
        tenant_wide: Default::default(),
        mailbox_settings: Default::default(),
        auth_codes: Default::default(),
    });

    let data = web::Data::new(Arc::clone(&sim));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
            .default_service(web::to(http::entry))
    })
    .on_connect(http::on_connect)
    // Microsoft's front doors answer without Nagle's delay; with it, a small answer written
    // after the TLS session tickets waited for the client's delayed ACK (40 ms on a new
    // connection, benches/RESULTS.md P6).
    .tcp_nodelay(true)
    // Idle connections are kept longer than the Graph client's 90 s pool, as Microsoft's front
    // doors do: with actix's 5 s default the simulator closed connections the client was about
    // to reuse, and calls failed with "connection closed before message completed" under load.
    .keep_alive(std::time::Duration::from_secs(120))
    .workers(2)
    .disable_signals()
    .listen_rustls_0_23(listener, tls.server_config)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);

    Ok(SimHandle {
        base_url,
        ca_pem_path,
        ca_pem: tls.ca_pem,
        partner_tenant_id,
        partner_tenant_domain,
        tenants,
        inactive_tenants,
        server: handle,
        port,
    })
}
