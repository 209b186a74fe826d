//! Settings: `CIPP_`-prefixed environment variables over an optional TOML file
//! (`CIPP_CONFIG_FILE`), validated at start-up with errors that name the setting.
//!
//! Production is the default: the service refuses to start without its credentials, naming each
//! missing one. Demo mode (the embedded simulator and its well-known credentials) is only ever
//! chosen explicitly, with `--demo` or `CIPP_MODE=demo`, so a typo in a production setting never
//! falls back to it.

use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

use crate::auth::roles::CustomRole;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("setting {setting}: {message}")]
    Invalid {
        setting: &'static str,
        message: String,
    },
    /// Every setting production mode needs and did not get, all named at once.
    #[error(
        "missing settings required in production mode: {} (or run the demo with --demo or CIPP_MODE=demo)",
        .0.join(", ")
    )]
    Missing(Vec<&'static str>),
    #[error("reading settings: {0}")]
    Source(#[from] config::ConfigError),
}

pub(crate) fn invalid(setting: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        setting,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The simulator runs in-process and supplies every Microsoft endpoint and credential.
    Demo,
    /// Real Microsoft endpoints (or any others named by the URL settings).
    Production,
}

/// An API client (an Entra app calling this API with client credentials) and its CIPP role.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ApiClient {
    pub client_id: String,
    #[serde(default)]
    pub name: String,
    /// A built-in role (`readonly`, `editor`, `admin`, `superadmin`) or a custom role's name.
    pub role: String,
}

/// The demo mode's simulator.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    pub sim_bind: SocketAddr,
    pub seed: u64,
    /// Entra's `requestedAccessTokenVersion` for the API app in the simulator: v1 tokens unless set.
    pub v2_tokens: bool,
    pub customer_tenants: usize,
    pub big_tenant_users: usize,
}

/// Everything the service needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub bind: SocketAddr,
    /// Where `GET /metrics` is served: its own listener, apart from the API's.
    pub metrics_bind: SocketAddr,
    pub partner_tenant_id: String,
    pub partner_client_id: String,
    pub partner_client_secret: SecretString,
    /// The partner admin's refresh token (CIPP's SAM refresh token). With it, calls use delegated
    /// GDAP tokens per customer tenant, as CIPP does; without it, app-only tokens.
    pub partner_refresh_token: Option<SecretString>,
    pub authority_host: Url,
    pub graph_base_url: Url,
    pub exchange_base_url: Url,
    /// The Azure MFA connector's origin for pushes (ExecSendPush).
    pub mfa_push_url: Url,
    /// The Azure MFA connector's origin for typed-code checks (ExecSendPush with `OTP`).
    pub mfa_otp_url: Url,
    /// The SharePoint admin URL, a template: `{tenant}` is the tenant's SharePoint name (the
    /// first label of Graph's `sites/root` host). Graph does not name the admin host, so it is
    /// a setting; demo mode points it at the simulator.
    pub sharepoint_admin_url: String,
    /// The app id of this API's own Entra registration: tokens must be issued for it.
    pub api_app_id: String,
    /// A PEM file with an extra trusted root certificate (the simulator's CA in demo mode).
    pub extra_ca_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// PostgreSQL URL for the store (several replicas share it); unset: SQLite in `data_dir`.
    pub database_url: Option<SecretString>,
    /// Key (base64, 32 bytes) sealing secrets at rest, e.g. the rotated partner refresh token.
    pub encryption_key: Option<SecretString>,
    /// Audit rows older than this are deleted.
    pub audit_retention_days: u32,
    /// Also audit reads (at severity Debug).
    pub audit_reads: bool,
    /// Proxies whose `X-Forwarded-For` is believed: the first hop is then the caller's address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub api_clients: Vec<ApiClient>,
    pub custom_roles: Vec<CustomRole>,
    /// Static Web Apps' `x-ms-client-principal` header is trusted only when this is set.
    pub static_web_apps: bool,
    /// The origin (`https://cipp.example.com`) of the CIPP frontend: in Static Web Apps mode a
    /// write whose `Origin` header names another origin is refused (cross-site request).
    pub static_web_apps_origin: Option<String>,
    /// How long a client may take to send a request body before it is answered 408.
    pub request_body_timeout: std::time::Duration,
    pub graph_max_attempts: u32,
    /// Graph and Exchange requests in flight at once, per tenant and overall.
    pub graph_concurrency_per_tenant: usize,
    pub graph_concurrency_overall: usize,
    /// Regular expressions refusing customer-content paths in the Graph proxy; `None` is the built-in list.
    pub graph_proxy_blocklist: Option<Vec<String>>,
    /// How long an `AllTenants` request may work before unfinished tenants are reported as such.
    pub all_tenants_budget: std::time::Duration,
    /// How many tenants an `AllTenants` request works on at once.
    pub all_tenants_concurrency: usize,
    /// A ListLogs answer without `PageSize` holds at most this many rows, then one row saying it
    /// was cut and how to narrow the query: its size stays bounded whatever the log holds.
    pub list_logs_max_rows: usize,
    /// Where `postExecution.webhook` notifications go, and the key signing them
    /// (`X-CIPP-Signature: sha256=<HMAC-SHA256 of the body>`); both or neither.
    pub webhook_url: Option<Url>,
    pub webhook_secret: Option<SecretString>,
    /// How long a replica's claim on a job lasts without renewal: a dead replica's jobs are
    /// resumed by another after this.
    pub jobs_lease: std::time::Duration,
    /// Jobs run at once per tenant, across replicas.
    pub jobs_per_tenant: u32,
    /// Jobs this replica runs at once, every tenant together.
    pub jobs_per_replica: u32,
    /// Feature flags switched on or off, by flag `Id`, over CIPP's defaults (`data/FeatureFlags.json`).
    pub feature_flags: std::collections::BTreeMap<String, bool>,
    /// Release notes `ListGitHubReleaseNotes` serves (`[]` unless configured, so no dialog opens).
    pub release_notes: Vec<serde_json::Value>,
    /// Same-origin hosting: the frontend's folder and browser sign-in (`auth::sign_in`).
    pub sign_in: crate::auth::sign_in::SignInSettings,
    pub demo: DemoSettings,
}

/// The raw shape read from the file and the environment; every field optional.
#[derive(Debug, Default, Deserialize)]
struct RawSettings {
    mode: Option<String>,
    bind: Option<String>,
    metrics_bind: Option<String>,
    partner_tenant_id: Option<String>,
    partner_client_id: Option<String>,
    partner_client_secret: Option<String>,
    partner_refresh_token: Option<String>,
    authority_host: Option<String>,
    graph_base_url: Option<String>,
    exchange_base_url: Option<String>,
    mfa_push_url: Option<String>,
    mfa_otp_url: Option<String>,
    sharepoint_admin_url: Option<String>,
    api_app_id: Option<String>,
    extra_ca_file: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    encryption_key: Option<String>,
    audit_retention_days: Option<u32>,
    audit_reads: Option<bool>,
    trusted_proxies: Option<StringListSource>,
    #[serde(default)]
    api_clients: Option<ApiClientsSource>,
    #[serde(default)]
    custom_roles: Option<CustomRolesSource>,
    static_web_apps: Option<bool>,
    static_web_apps_origin: Option<String>,
    request_body_timeout_seconds: Option<u64>,
    graph_max_attempts: Option<u32>,
    graph_concurrency_per_tenant: Option<usize>,
    graph_concurrency_overall: Option<usize>,
    graph_proxy_blocklist: Option<StringListSource>,
    all_tenants_budget_seconds: Option<u64>,
    all_tenants_concurrency: Option<usize>,
    list_logs_max_rows: Option<usize>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    jobs_lease_seconds: Option<u64>,
    jobs_per_tenant: Option<u32>,
    jobs_per_replica: Option<u32>,
    feature_flags: Option<FlagsSource>,
    release_notes: Option<NotesSource>,
    frontend_dir: Option<String>,
    public_url: Option<String>,
    login_client_id: Option<String>,
    login_client_secret: Option<String>,
    login_role_map: Option<crate::auth::sign_in::RoleMapSource>,
    session_hours: Option<u32>,
    demo_sim_bind: Option<String>,
    demo_seed: Option<u64>,
    demo_v2_tokens: Option<bool>,
    demo_customer_tenants: Option<usize>,
    demo_big_tenant_users: Option<usize>,
}

/// Lists come from the file as TOML arrays, or from the environment as JSON text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ApiClientsSource {
    List(Vec<ApiClient>),
    Json(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FlagsSource {
    Map(std::collections::BTreeMap<String, bool>),
    Json(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NotesSource {
    List(Vec<serde_json::Value>),
    Json(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringListSource {
    List(Vec<String>),
    Json(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CustomRolesSource {
    List(Vec<CustomRole>),
    Json(String),
}

impl Settings {
    /// Reads the optional file named by `CIPP_CONFIG_FILE`, then `CIPP_*` environment variables.
    /// `demo_flag` is the command line's `--demo`: demo mode unless `CIPP_MODE` says otherwise.
    pub fn load(demo_flag: bool) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder();
        if let Ok(path) = std::env::var("CIPP_CONFIG_FILE") {
            builder = builder.add_source(config::File::with_name(&path).required(true));
        }
        let mut raw: RawSettings = builder
            .add_source(config::Environment::with_prefix("CIPP").try_parsing(true))
            .build()?
            .try_deserialize()?;
        if demo_flag {
            match raw.mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("demo") => raw.mode = Some("demo".into()),
                Some(other) => {
                    return Err(invalid(
                        "CIPP_MODE",
                        format!("'{other}' contradicts --demo on the command line"),
                    ));
                }
            }
        }
        Self::from_raw(raw)
    }

    /// Demo settings with every port chosen by the OS: what tests start from.
    pub fn demo_for_tests() -> Result<Self, SettingsError> {
        Self::from_raw(RawSettings {
            mode: Some("demo".into()),
            bind: Some("127.0.0.1:0".into()),
            metrics_bind: Some("127.0.0.1:0".into()),
            demo_sim_bind: Some("127.0.0.1:0".into()),
            ..RawSettings::default()
        })
    }

    fn from_raw(raw: RawSettings) -> Result<Self, SettingsError> {
        let mode = match raw.mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("demo") => Mode::Demo,
            None | Some("production") => Mode::Production,
            Some(other) => {
                return Err(invalid(
                    "CIPP_MODE",
                    format!("'{other}' is neither 'demo' nor 'production'"),
                ));
            }
        };
        let bind = parse_addr("CIPP_BIND", raw.bind.as_deref().unwrap_or("127.0.0.1:7071"))?;
        let metrics_bind = parse_addr(
            "CIPP_METRICS_BIND",
            raw.metrics_bind.as_deref().unwrap_or("127.0.0.1:9464"),
        )?;
        if metrics_bind == bind && bind.port() != 0 {
            return Err(invalid(
                "CIPP_METRICS_BIND",
                "must differ from CIPP_BIND: metrics are not served on the API's port",
            ));
        }
        let demo = DemoSettings {
            sim_bind: parse_addr(
                "CIPP_DEMO_SIM_BIND",
                raw.demo_sim_bind.as_deref().unwrap_or("127.0.0.1:7072"),
            )?,
            seed: raw.demo_seed.unwrap_or(365),
            v2_tokens: raw.demo_v2_tokens.unwrap_or(false),
            customer_tenants: raw.demo_customer_tenants.unwrap_or(3).max(3),
            big_tenant_users: raw.demo_big_tenant_users.unwrap_or(2000),
        };
        let api_clients = match raw.api_clients {
            None => Vec::new(),
            Some(ApiClientsSource::List(list)) => list,
            Some(ApiClientsSource::Json(text)) => serde_json::from_str(&text).map_err(|e| {
                invalid(
                    "CIPP_API_CLIENTS",
                    format!("not a JSON list of {{client_id, name, role}}: {e}"),
                )
            })?,
        };
        let custom_roles = match raw.custom_roles {
            None => Vec::new(),
            Some(CustomRolesSource::List(list)) => list,
            Some(CustomRolesSource::Json(text)) => serde_json::from_str(&text).map_err(|e| {
                invalid(
                    "CIPP_CUSTOM_ROLES",
                    format!("not a JSON list of {{name, include, exclude, allowed_tenants, blocked_tenants}}: {e}"),
                )
            })?,
        };
        let graph_proxy_blocklist = match raw.graph_proxy_blocklist {
            None => None,
            Some(StringListSource::List(list)) => Some(list),
            Some(StringListSource::Json(text)) => {
                Some(serde_json::from_str(&text).map_err(|e| {
                    invalid(
                        "CIPP_GRAPH_PROXY_BLOCKLIST",
                        format!("not a JSON list of regular expressions: {e}"),
                    )
                })?)
            }
        };
        if let Some(patterns) = &graph_proxy_blocklist {
            cipp_users_domain::graph_proxy_guard::ProxyGuard::new(patterns)
                .map_err(|e| invalid("CIPP_GRAPH_PROXY_BLOCKLIST", e.to_string()))?;
        }
        let feature_flags = match raw.feature_flags {
            None => Default::default(),
            Some(FlagsSource::Map(map)) => map,
            Some(FlagsSource::Json(text)) => serde_json::from_str(&text).map_err(|e| {
                invalid(
                    "CIPP_FEATURE_FLAGS",
                    format!("not a JSON object of flag id to true/false: {e}"),
                )
            })?,
        };
        let release_notes = match raw.release_notes {
            None => Vec::new(),
            Some(NotesSource::List(list)) => list,
            Some(NotesSource::Json(text)) => serde_json::from_str(&text).map_err(|e| {
                invalid(
                    "CIPP_RELEASE_NOTES",
                    format!("not a JSON list of release notes: {e}"),
                )
            })?,
        };
        let trusted_proxies = match raw.trusted_proxies {
            None => Vec::new(),
            Some(StringListSource::List(list)) => list,
            Some(StringListSource::Json(text)) if text.trim_start().starts_with('[') => {
                serde_json::from_str(&text).map_err(|e| {
                    invalid(
                        "CIPP_TRUSTED_PROXIES",
                        format!("not a JSON list of IP addresses: {e}"),
                    )
                })?
            }
            Some(StringListSource::Json(text)) => text
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        }
        .iter()
        .map(|ip| {
            ip.parse::<std::net::IpAddr>().map_err(|e| {
                invalid(
                    "CIPP_TRUSTED_PROXIES",
                    format!("'{ip}' is not an IP address: {e}"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
        let database_url = raw.database_url.filter(|u| !u.trim().is_empty());
        if let Some(url) = &database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "CIPP_DATABASE_URL",
                "must be a postgres:// URL (leave it unset for the embedded SQLite store)",
            ));
        }
        let encryption_key = raw.encryption_key.filter(|k| !k.trim().is_empty());
        if let Some(key) = &encryption_key {
            cipp_store::EncryptionKey::from_base64(key)
                .map_err(|e| invalid("CIPP_ENCRYPTION_KEY", e.to_string()))?;
        }
        let data_dir = PathBuf::from(raw.data_dir.unwrap_or_else(|| "data".into()));
        let extra_ca_file = raw.extra_ca_file.map(PathBuf::from);
        if let Some(path) = &extra_ca_file
            && mode == Mode::Production
            && !path.is_file()
        {
            return Err(invalid(
                "CIPP_EXTRA_CA_FILE",
                format!("{} is not a readable file", path.display()),
            ));
        }
        let url = |setting: &'static str, value: Option<String>, default: &str| {
            let text = value.unwrap_or_else(|| default.to_owned());
            let parsed = Url::parse(&text)
                .map_err(|e| invalid(setting, format!("'{text}' is not a URL: {e}")))?;
            if parsed.scheme() != "https" {
                return Err(invalid(setting, format!("'{text}' must use https")));
            }
            Ok(parsed)
        };
        let settings = Settings {
            mode,
            bind,
            metrics_bind,
            partner_tenant_id: raw.partner_tenant_id.unwrap_or_default(),
            partner_client_id: raw.partner_client_id.unwrap_or_default(),
            partner_client_secret: SecretString::from(
                raw.partner_client_secret.unwrap_or_default(),
            ),
            partner_refresh_token: raw
                .partner_refresh_token
                .filter(|t| !t.trim().is_empty())
                .map(SecretString::from),
            authority_host: url(
                "CIPP_AUTHORITY_HOST",
                raw.authority_host,
                "https://login.microsoftonline.com",
            )?,
            graph_base_url: url(
                "CIPP_GRAPH_BASE_URL",
                raw.graph_base_url,
                "https://graph.microsoft.com",
            )?,
            exchange_base_url: url(
                "CIPP_EXCHANGE_BASE_URL",
                raw.exchange_base_url,
                "https://outlook.office365.com",
            )?,
            mfa_push_url: url(
                "CIPP_MFA_PUSH_URL",
                raw.mfa_push_url,
                cipp_graph::mfa_connector::PUBLIC_MFA_PUSH_URL,
            )?,
            mfa_otp_url: url(
                "CIPP_MFA_OTP_URL",
                raw.mfa_otp_url,
                cipp_graph::mfa_connector::PUBLIC_MFA_OTP_URL,
            )?,
            sharepoint_admin_url: {
                let text = raw
                    .sharepoint_admin_url
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| cipp_graph::DEFAULT_SHAREPOINT_ADMIN_URL.to_owned());
                // Checked with a sample tenant name: the template itself is not a URL.
                let sample = text.replace("{tenant}", "contoso");
                url("CIPP_SHAREPOINT_ADMIN_URL", Some(sample), "")?;
                text
            },
            api_app_id: raw.api_app_id.unwrap_or_default(),
            extra_ca_file,
            data_dir,
            database_url: database_url.map(SecretString::from),
            encryption_key: encryption_key.map(SecretString::from),
            audit_retention_days: raw.audit_retention_days.unwrap_or(90).max(1),
            audit_reads: raw.audit_reads.unwrap_or(false),
            trusted_proxies,
            api_clients,
            custom_roles,
            static_web_apps: raw.static_web_apps.unwrap_or(false),
            static_web_apps_origin: raw
                .static_web_apps_origin
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty()),
            request_body_timeout: std::time::Duration::from_secs(
                raw.request_body_timeout_seconds.unwrap_or(30).clamp(1, 600),
            ),
            graph_max_attempts: raw.graph_max_attempts.unwrap_or(4).clamp(1, 10),
            graph_proxy_blocklist,
            graph_concurrency_per_tenant: raw
                .graph_concurrency_per_tenant
                .unwrap_or(8)
                .clamp(1, 256),
            graph_concurrency_overall: raw.graph_concurrency_overall.unwrap_or(64).clamp(1, 4096),
            all_tenants_budget: std::time::Duration::from_secs(
                raw.all_tenants_budget_seconds.unwrap_or(50).clamp(1, 600),
            ),
            feature_flags,
            release_notes,
            all_tenants_concurrency: raw.all_tenants_concurrency.unwrap_or(16).clamp(1, 256),
            webhook_url: match raw.webhook_url.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(Url::parse(text).map_err(|e| {
                    invalid("CIPP_WEBHOOK_URL", format!("'{text}' is not a URL: {e}"))
                })?),
            },
            webhook_secret: raw
                .webhook_secret
                .filter(|s| !s.trim().is_empty())
                .map(SecretString::from),
            jobs_lease: std::time::Duration::from_secs(
                raw.jobs_lease_seconds.unwrap_or(30).clamp(5, 3600),
            ),
            jobs_per_tenant: raw.jobs_per_tenant.unwrap_or(4).clamp(1, 64),
            jobs_per_replica: raw.jobs_per_replica.unwrap_or(16).clamp(1, 256),
            list_logs_max_rows: match raw.list_logs_max_rows {
                None => 5_000,
                Some(rows @ 1..=100_000) => rows,
                Some(other) => {
                    return Err(invalid(
                        "CIPP_LIST_LOGS_MAX_ROWS",
                        format!("{other} is not between 1 and 100000"),
                    ));
                }
            },
            sign_in: crate::auth::sign_in::SignInSettings::from_raw(
                mode,
                crate::auth::sign_in::RawSignIn {
                    frontend_dir: raw.frontend_dir,
                    public_url: raw.public_url,
                    login_client_id: raw.login_client_id,
                    login_client_secret: raw.login_client_secret,
                    login_role_map: raw.login_role_map,
                    session_hours: raw.session_hours,
                },
            )?,
            demo,
        };
        if settings.webhook_url.is_some() != settings.webhook_secret.is_some() {
            return Err(invalid(
                if settings.webhook_url.is_some() {
                    "CIPP_WEBHOOK_SECRET"
                } else {
                    "CIPP_WEBHOOK_URL"
                },
                "a webhook needs both CIPP_WEBHOOK_URL and CIPP_WEBHOOK_SECRET (every call is signed)",
            ));
        }
        if mode == Mode::Production {
            settings.validate_production()?;
        }
        Ok(settings)
    }

    /// Demo mode listening where other machines can reach it (not 127.0.0.0/8 or ::1).
    pub fn demo_beyond_loopback(&self) -> bool {
        self.mode == Mode::Demo && !self.bind.ip().is_loopback()
    }

    fn validate_production(&self) -> Result<(), SettingsError> {
        use secrecy::ExposeSecret;
        let required = [
            ("CIPP_PARTNER_TENANT_ID", self.partner_tenant_id.is_empty()),
            ("CIPP_PARTNER_CLIENT_ID", self.partner_client_id.is_empty()),
            (
                "CIPP_PARTNER_CLIENT_SECRET",
                self.partner_client_secret.expose_secret().is_empty(),
            ),
            ("CIPP_API_APP_ID", self.api_app_id.is_empty()),
        ];
        let missing: Vec<&'static str> = required
            .into_iter()
            .filter(|(_, missing)| *missing)
            .map(|(setting, _)| setting)
            .collect();
        if !missing.is_empty() {
            return Err(SettingsError::Missing(missing));
        }
        for (setting, id) in [
            ("CIPP_PARTNER_TENANT_ID", &self.partner_tenant_id),
            ("CIPP_API_APP_ID", &self.api_app_id),
        ] {
            if uuid::Uuid::parse_str(id).is_err() {
                return Err(invalid(setting, format!("'{id}' is not a GUID")));
            }
        }
        Ok(())
    }
}

fn parse_addr(setting: &'static str, text: &str) -> Result<SocketAddr, SettingsError> {
    text.parse().map_err(|e| {
        invalid(
            setting,
            format!("'{text}' is not an address like 127.0.0.1:7071: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(raw: RawSettings) -> String {
        Settings::from_raw(raw)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn no_settings_means_production_mode_which_names_every_missing_credential() {
        let error = error_of(RawSettings::default());
        for setting in [
            "CIPP_PARTNER_TENANT_ID",
            "CIPP_PARTNER_CLIENT_ID",
            "CIPP_PARTNER_CLIENT_SECRET",
            "CIPP_API_APP_ID",
        ] {
            assert!(error.contains(setting), "{setting} in: {error}");
        }
        assert!(error.contains("--demo"), "{error}");
    }

    #[test]
    fn production_with_some_credentials_names_only_the_missing_ones() {
        let raw = RawSettings {
            partner_tenant_id: Some("6babcaad-604b-40ac-a9d7-9fd97c0b779f".into()),
            partner_client_secret: Some("s".into()),
            ..RawSettings::default()
        };
        let error = error_of(raw);
        assert!(error.contains("CIPP_PARTNER_CLIENT_ID"), "{error}");
        assert!(error.contains("CIPP_API_APP_ID"), "{error}");
        assert!(!error.contains("CIPP_PARTNER_TENANT_ID"), "{error}");
        assert!(!error.contains("CIPP_PARTNER_CLIENT_SECRET"), "{error}");
    }

    #[test]
    fn production_with_every_credential_starts_on_port_7071() {
        let raw = RawSettings {
            partner_tenant_id: Some("6babcaad-604b-40ac-a9d7-9fd97c0b779f".into()),
            partner_client_id: Some("c".into()),
            partner_client_secret: Some("s".into()),
            api_app_id: Some("0b7d6c3e-3f0a-4f5e-9d59-2f1f1d6e7a10".into()),
            ..RawSettings::default()
        };
        let settings = Settings::from_raw(raw).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.mode, Mode::Production);
        assert_eq!(settings.bind.port(), 7071);
    }

    #[test]
    fn demo_mode_is_chosen_only_explicitly_and_needs_no_credentials() {
        let raw = RawSettings {
            mode: Some("demo".into()),
            ..RawSettings::default()
        };
        let settings = Settings::from_raw(raw).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.mode, Mode::Demo);
        assert_eq!(settings.bind.port(), 7071);
        assert_eq!(settings.demo.sim_bind.port(), 7072);
    }

    #[test]
    fn demo_mode_bound_beyond_loopback_is_flagged_for_a_warning() {
        let demo_on = |bind: &str| {
            let raw = RawSettings {
                mode: Some("demo".into()),
                bind: Some(bind.into()),
                ..RawSettings::default()
            };
            Settings::from_raw(raw)
                .unwrap_or_else(|e| panic!("{e}"))
                .demo_beyond_loopback()
        };
        assert!(!demo_on("127.0.0.1:7071"));
        assert!(!demo_on("127.3.4.5:7071"));
        assert!(!demo_on("[::1]:7071"));
        assert!(demo_on("0.0.0.0:7071"));
        assert!(demo_on("[::]:7071"));
        assert!(demo_on("192.0.2.10:7071"));
    }

    #[test]
    fn the_metrics_bind_defaults_to_loopback_9464_and_may_not_be_the_api_port() {
        let raw = RawSettings {
            mode: Some("demo".into()),
            ..RawSettings::default()
        };
        let settings = Settings::from_raw(raw).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.metrics_bind.to_string(), "127.0.0.1:9464");
        let raw = RawSettings {
            mode: Some("demo".into()),
            metrics_bind: Some("127.0.0.1:7071".into()),
            ..RawSettings::default()
        };
        assert!(error_of(raw).contains("CIPP_METRICS_BIND"));
    }

    #[test]
    fn a_misspelt_mode_is_refused_rather_than_falling_back_to_demo() {
        let raw = RawSettings {
            mode: Some("prodution".into()),
            ..RawSettings::default()
        };
        assert!(error_of(raw).contains("CIPP_MODE"));
    }

    #[test]
    fn a_plain_http_graph_url_is_refused_with_its_setting_name() {
        let raw = RawSettings {
            mode: Some("demo".into()),
            graph_base_url: Some("http://graph.example".into()),
            ..RawSettings::default()
        };
        let error = Settings::from_raw(raw)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("CIPP_GRAPH_BASE_URL"), "{error}");
    }
}
