//! The CIPP users API: actix-web, CIPP wire compatibility, authentication and roles, the
//! operation registry and its OpenAPI document.
//!
//! A request's path: [`dispatch`] finds the operation in the [`registry`], [`auth`] validates the
//! caller and checks its role, then runs the operation the users domain crate declares through
//! one generic path (tenant, typed parameters, run, answer, [`audit`]). This crate holds no
//! per-operation code; [`spec`] documents every operation from its declared types.

pub mod audit;
pub mod auth;
pub mod demo;
pub mod dispatch;
pub mod error;
pub mod frontend;
pub mod health;
pub mod idempotency;
pub mod jobs;
pub mod observe;
pub mod prometheus;
pub mod refresh_tokens;
pub mod registry;
pub mod settings;
pub mod spec;
pub mod state;
pub mod streaming;
pub mod transport;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use cipp_graph::{GraphClient, GraphSettings, RetryPolicy};
use cipp_users_domain::graph_proxy_guard::ProxyGuard;
use cipp_users_domain::op::Environment;
use cipp_users_domain::tenant_directory::TenantDirectory;
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::jwt::TokenValidator;
use crate::registry::Registry;
use crate::settings::{Mode, Settings};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error("starting the simulator: {0}")]
    Simulator(#[from] cipp_sim::SimError),
    #[error("reading {path}: {source}")]
    CaFile {
        path: String,
        source: std::io::Error,
    },
    #[error("building the Graph client: {0}")]
    Graph(#[from] cipp_graph::GraphError),
    #[error("building an HTTP client: {0}")]
    Http(String),
    #[error(transparent)]
    Blocklist(#[from] cipp_users_domain::graph_proxy_guard::BlocklistError),
    #[error("opening the store: {0}")]
    Store(#[from] cipp_store::StoreError),
    #[error("validating tokens: {0}")]
    Tokens(#[from] auth::jwt::TokenError),
    #[error("starting the job engine: {0}")]
    Jobs(String),
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("binding {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

pub struct Application {
    address: std::net::SocketAddr,
    port: u16,
    server: Server,
    metrics_address: std::net::SocketAddr,
    metrics_server: actix_web::dev::ServerHandle,
    demo: Option<demo::Demo>,
    state: web::Data<AppState>,
}

impl Application {
    /// Builds the service (and, in demo mode, the simulator) and binds its listener.
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        let demo = match settings.mode {
            Mode::Demo => {
                // The demo's credentials are published: reachable beyond this machine, anyone
                // who can reach it can call the API with them.
                if settings.demo_beyond_loopback() {
                    tracing::warn!(
                        bind = %settings.bind,
                        "demo mode is listening beyond loopback; its credentials are public, use production mode for anything reachable"
                    );
                }
                Some(demo::start(&mut settings).await?)
            }
            Mode::Production => None,
        };
        let extra_ca_pem = match &settings.extra_ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|source| StartupError::CaFile {
                path: path.display().to_string(),
                source,
            })?),
            None => None,
        };
        let graph_settings = GraphSettings {
            graph_base_url: settings.graph_base_url.clone(),
            authority_host: settings.authority_host.clone(),
            client_id: settings.partner_client_id.clone(),
            client_secret: settings.partner_client_secret.clone(),
            extra_ca_pem: extra_ca_pem.clone(),
            retry: RetryPolicy {
                max_attempts: settings.graph_max_attempts,
                ..RetryPolicy::default()
            },
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            user_agent: format!("CIPP-Users/{}", env!("CARGO_PKG_VERSION")),
        };
        let store = connect_store(&settings).await?;
        if settings.mode == Mode::Demo {
            // The templates the template examples edit and remove.
            cipp_users_domain::demo::seed_store(&store).await?;
        }
        let mut graph = GraphClient::builder(graph_settings)
            .exchange_base_url(settings.exchange_base_url.clone())
            .sharepoint_admin_url(settings.sharepoint_admin_url.clone())
            .mfa_connector_urls(settings.mfa_push_url.clone(), settings.mfa_otp_url.clone())
            .concurrency(
                settings.graph_concurrency_per_tenant,
                settings.graph_concurrency_overall,
            );
        if let Some(token) = &settings.partner_refresh_token {
            graph = graph.partner_refresh_token(token.clone());
        }
        let answer_seal = match &settings.encryption_key {
            Some(key) => cipp_store::EncryptionKey::from_base64(key.expose_secret())?,
            None => cipp_store::EncryptionKey::generate()?,
        };
        if let Some(key) = &settings.encryption_key {
            let key = cipp_store::EncryptionKey::from_base64(key.expose_secret())?;
            let kept = refresh_tokens::StoredRefreshToken::new(
                store.clone(),
                key,
                settings.partner_refresh_token.clone(),
                settings.mode == Mode::Demo,
            );
            graph = graph.refresh_token_store(Arc::new(kept));
        }
        let graph = graph.build()?;
        let http = http_client(extra_ca_pem.as_deref())?;
        let tokens = TokenValidator::new(
            &settings.authority_host,
            &settings.partner_tenant_id,
            &settings.api_app_id,
            http.clone(),
        )?;
        let registry = Arc::new(Registry::load()?);
        let proxy_guard = match &settings.graph_proxy_blocklist {
            Some(patterns) => ProxyGuard::new(patterns),
            None => ProxyGuard::with_default_blocklist(),
        }
        .map_err(StartupError::Blocklist)?;
        let bec_containment = Arc::default();
        let jobs = jobs::engine(&settings, &graph, &store, &http, &bec_containment).await?;
        if settings.mode == Mode::Demo {
            // The scheduled task the scheduler examples read and remove.
            cipp_users_domain::demo::seed_jobs(&jobs)
                .await
                .map_err(|e| StartupError::Jobs(e.to_string()))?;
        }
        let env = Arc::new(Environment {
            tenants: std::sync::Arc::new(TenantDirectory::new(
                graph.clone(),
                settings.partner_tenant_id.clone(),
            )),
            proxy_guard,
            partner_client_id: settings.partner_client_id.clone(),
            demo: settings.mode == Mode::Demo,
            all_tenants_budget: settings.all_tenants_budget,
            all_tenants_concurrency: settings.all_tenants_concurrency,
            feature_flags: settings.feature_flags.clone(),
            release_notes: settings.release_notes.clone(),
            list_logs_max_rows: settings.list_logs_max_rows,
            jobs: jobs.clone(),
            webhook_configured: settings.webhook_url.is_some(),
            bec_containment,
            secret_seal: answer_seal.clone(),
        });
        // The worker runs for the life of the process; its jobs outlive any request.
        jobs.start();
        let bind = settings.bind;
        let metrics_bind = settings.metrics_bind;
        let state = web::Data::new(AppState {
            settings,
            graph,
            tokens,
            registry,
            store: store.clone(),
            env,
            answer_seal,
            document: std::sync::OnceLock::new(),
        });
        auth::sign_in::spawn_session_cleanup(store.clone(), &state.settings.sign_in);
        audit::spawn_retention(store, state.settings.audit_retention_days);
        warm_up(state.clone());
        let listener = TcpListener::bind(bind).map_err(|source| StartupError::Bind {
            address: bind.to_string(),
            source,
        })?;
        let address = listener.local_addr().unwrap_or(bind);
        let port = address.port();
        let server = serve(listener, state.clone())?;
        let metrics_listener =
            TcpListener::bind(metrics_bind).map_err(|source| StartupError::Bind {
                address: metrics_bind.to_string(),
                source,
            })?;
        let metrics_address = metrics_listener.local_addr().unwrap_or(metrics_bind);
        let metrics_server = prometheus::serve(
            metrics_listener,
            prometheus::handle().map_err(StartupError::Metrics)?,
        )
        .map_err(|source| StartupError::Bind {
            address: metrics_bind.to_string(),
            source,
        })?;
        let metrics_handle = metrics_server.handle();
        // Sampled only once the recorder is installed, or the first sample is lost.
        jobs::spawn_state_gauges(state.env.jobs.clone());
        // A server does nothing until polled; this one serves from now on, apart from the API's.
        tokio::spawn(metrics_server);
        Ok(Self {
            address,
            port,
            server,
            metrics_address,
            metrics_server: metrics_handle,
            demo,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address `GET /metrics` is served on (its own listener, `CIPP_METRICS_BIND`).
    pub fn metrics_addr(&self) -> std::net::SocketAddr {
        self.metrics_address
    }

    pub fn metrics_port(&self) -> u16 {
        self.metrics_address.port()
    }

    /// The address the API's listener actually bound (the OS's port when 0 was asked for).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.address
    }

    pub fn demo(&self) -> Option<&demo::Demo> {
        self.demo.as_ref()
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle that stops the server.
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the API server stops (a signal, or its handle), then stops the metrics one.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.metrics_server.stop(true).await;
        served
    }
}

/// PostgreSQL when `CIPP_DATABASE_URL` is set, else SQLite in the data directory.
async fn connect_store(settings: &Settings) -> Result<cipp_store::Store, StartupError> {
    let location = match &settings.database_url {
        Some(url) => url.expose_secret().to_owned(),
        None => format!("sqlite://{}", settings.data_dir.join("cipp.db").display()),
    };
    let store = cipp_store::Store::connect(&location).await?;
    tracing::info!(backend = ?store.backend(), "store ready");
    Ok(store)
}

fn http_client(extra_ca_pem: Option<&[u8]>) -> Result<reqwest::Client, StartupError> {
    cipp_graph::tls::trusted_client_builder(extra_ca_pem)
        .map_err(|e| StartupError::Http(e.to_string()))?
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| StartupError::Http(e.to_string()))
}

/// Reads the signing keys while the server starts, so the first caller does not wait for them
/// (they are read again on demand if this fails, which is only logged). The tenant list is
/// left to the first call that needs one: reading it here would call Graph for every tenant on
/// each start, before anyone asked for anything.
fn warm_up(state: web::Data<AppState>) {
    tokio::spawn(async move {
        if let Err(error) = state.tokens.ready().await {
            tracing::warn!(%error, "warm-up: the signing keys could not be read yet");
        }
    });
}

fn serve(listener: TcpListener, state: web::Data<AppState>) -> Result<Server, StartupError> {
    let body_timeout = state.settings.request_body_timeout;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(transport::MAX_BODY_BYTES))
            // Head and body limits, inside the correlation layer so refusals carry an id too.
            .wrap(actix_web::middleware::from_fn(move |request, next| {
                transport::limits(body_timeout, request, next)
            }))
            // Every answer carries a correlation id that the logs of the request also carry.
            .wrap(actix_web::middleware::from_fn(observe::correlate))
            .route("/health/live", web::get().to(health::live))
            .route("/health/ready", web::get().to(health::ready))
            .route("/api/openapi.json", web::get().to(spec::serve))
            .service(SwaggerUi::new("/swagger-ui/{_:.*}").config(Config::from("/api/openapi.json")))
            .route("/api/{name}", web::route().to(dispatch::dispatch))
            .configure(auth::sign_in::routes)
            // The frontend's files when same-origin hosting is on, else "Endpoint not found".
            .default_service(web::route().to(frontend::serve))
    })
    // The head must arrive within 5 s (the body has its own limit, in `transport`); a client
    // that does not close after its answer is dropped after 5 s more.
    // Answers go out as written (streamed pages included), not after the client's delayed ACK.
    .tcp_nodelay(true)
    .client_request_timeout(Duration::from_secs(5))
    .client_disconnect_timeout(Duration::from_secs(5))
    .listen(listener)
    .map_err(|source| StartupError::Bind {
        address: "listener".into(),
        source,
    })?
    .run();
    Ok(server)
}
