//! [`GraphClientBuilder`]: what a client needs beyond [`GraphSettings`] (whose fields other
//! crates list in struct literals, so new configuration lives here).

use std::fmt;
use std::sync::Arc;

use secrecy::SecretString;
use url::Url;

use crate::client::{GraphClient, Inner, check_graph_base_url};
use crate::error::GraphError;
use crate::limits::{ConcurrencyLimits, Limiter};
use crate::mfa_connector::{PUBLIC_MFA_OTP_URL, PUBLIC_MFA_PUSH_URL};
use crate::partner::{InMemoryRefreshTokenStore, PartnerTokens, RefreshTokenStore};
use crate::settings::{GraphSettings, check_http_origin};
use crate::sharepoint::{DEFAULT_SHAREPOINT_ADMIN_URL, admin_url_from_template};
use crate::tls::{Purpose, build_http_client};
use crate::tokens::{ClientSecretProvider, TokenCache, TokenMode, TokenProvider};

/// Exchange Online's public origin.
pub const PUBLIC_EXCHANGE_URL: &str = "https://outlook.office365.com";

/// Builds a [`GraphClient`]:
///
/// ```no_run
/// # fn demo() -> Result<(), cipp_graph::GraphError> {
/// use cipp_graph::{GraphClient, GraphSettings};
/// use secrecy::SecretString;
///
/// let settings = GraphSettings::public_cloud("app-id", SecretString::from("app-secret"))?;
/// let graph = GraphClient::builder(settings)
///     .partner_refresh_token(SecretString::from("1.AQ..."))
///     .concurrency(8, 64)
///     .build()?;
/// // Partner (delegated) tokens by default once a refresh token is configured:
/// let as_app = graph.app_only();
/// # let _ = as_app;
/// # Ok(())
/// # }
/// ```
pub struct GraphClientBuilder {
    settings: GraphSettings,
    partner_refresh_token: Option<SecretString>,
    refresh_token_store: Option<Arc<dyn RefreshTokenStore>>,
    app_tokens: Option<Arc<dyn TokenProvider>>,
    partner_tokens: Option<Arc<dyn TokenProvider>>,
    concurrency: ConcurrencyLimits,
    exchange_base_url: Option<Url>,
    sharepoint_admin_url: Option<String>,
    mfa_connector_urls: Option<(Url, Url)>,
    default_mode: Option<TokenMode>,
    parallel_refresh_grants: bool,
}

impl GraphClientBuilder {
    pub fn new(settings: GraphSettings) -> Self {
        Self {
            settings,
            partner_refresh_token: None,
            refresh_token_store: None,
            app_tokens: None,
            partner_tokens: None,
            concurrency: ConcurrencyLimits::default(),
            exchange_base_url: None,
            sharepoint_admin_url: None,
            mfa_connector_urls: None,
            default_mode: None,
            parallel_refresh_grants: false,
        }
    }

    /// The partner's refresh token (the Secure Application Model one). Enables partner mode,
    /// which becomes the default. Used while the [`RefreshTokenStore`] holds nothing.
    pub fn partner_refresh_token(mut self, token: SecretString) -> Self {
        self.partner_refresh_token = Some(token);
        self
    }

    /// Where the rotated refresh token is kept (default: in memory). Enables partner mode;
    /// the store's token wins over [`GraphClientBuilder::partner_refresh_token`].
    pub fn refresh_token_store(mut self, store: Arc<dyn RefreshTokenStore>) -> Self {
        self.refresh_token_store = Some(store);
        self
    }

    /// Replaces the app-only token source (default: client credentials through azure_identity).
    pub fn app_token_provider(mut self, tokens: Arc<dyn TokenProvider>) -> Self {
        self.app_tokens = Some(tokens);
        self
    }

    /// Replaces the partner token source (default: the `refresh_token` grant). Enables partner mode.
    pub fn partner_token_provider(mut self, tokens: Arc<dyn TokenProvider>) -> Self {
        self.partner_tokens = Some(tokens);
        self
    }

    /// HTTP attempts in flight per tenant and overall (default 8 and 64).
    pub fn concurrency(mut self, per_tenant: usize, overall: usize) -> Self {
        self.concurrency = ConcurrencyLimits {
            per_tenant,
            overall,
        };
        self
    }

    pub fn concurrency_limits(mut self, limits: ConcurrencyLimits) -> Self {
        self.concurrency = limits;
        self
    }

    /// Exchange Online origin (default `https://outlook.office365.com`).
    pub fn exchange_base_url(mut self, url: Url) -> Self {
        self.exchange_base_url = Some(url);
        self
    }

    /// The Azure MFA connector's origins: where pushes go and where typed codes are checked
    /// (default [`crate::mfa_connector::PUBLIC_MFA_PUSH_URL`] and
    /// [`crate::mfa_connector::PUBLIC_MFA_OTP_URL`]).
    pub fn mfa_connector_urls(mut self, push: Url, otp: Url) -> Self {
        self.mfa_connector_urls = Some((push, otp));
        self
    }

    /// SharePoint admin URL template (default [`crate::DEFAULT_SHAREPOINT_ADMIN_URL`]):
    /// `{tenant}` is replaced by the tenant's SharePoint name. May carry a path (a simulator
    /// serves every tenant's admin site under one origin).
    pub fn sharepoint_admin_url(mut self, template: impl Into<String>) -> Self {
        self.sharepoint_admin_url = Some(template.into());
        self
    }

    /// Lets refresh-token grants for different tenants overlap (see
    /// [`PartnerTokens::parallel_grants`]); off by default, which is safe when the token
    /// endpoint accepts each refresh token only once.
    pub fn parallel_refresh_grants(mut self, parallel: bool) -> Self {
        self.parallel_refresh_grants = parallel;
        self
    }

    /// The mode of the built client (default: partner when configured, else app-only).
    pub fn default_mode(mut self, mode: TokenMode) -> Self {
        self.default_mode = Some(mode);
        self
    }

    pub fn build(self) -> Result<GraphClient, GraphError> {
        let settings = self.settings;
        if self.app_tokens.is_none() {
            // The azure_identity credential needs the full checks (https authority host).
            settings.validate()?;
        } else {
            check_graph_base_url(&settings)?;
            if settings.retry.max_attempts == 0 {
                return Err(GraphError::Config {
                    setting: "retry.max_attempts",
                    message: "must be at least 1".to_owned(),
                });
            }
        }
        self.concurrency.validate()?;
        let app: Arc<dyn TokenProvider> = match self.app_tokens {
            Some(p) => p,
            None => Arc::new(ClientSecretProvider::new(&settings)?),
        };
        let partner: Option<Arc<dyn TokenProvider>> = match (
            self.partner_tokens,
            self.refresh_token_store,
            self.partner_refresh_token,
        ) {
            (Some(p), _, _) => Some(p),
            (None, None, None) => None,
            (None, store, seed) => {
                check_http_origin("authority_host", &settings.authority_host)?;
                let store =
                    store.unwrap_or_else(|| Arc::new(InMemoryRefreshTokenStore::new(seed.clone())));
                Some(Arc::new(
                    PartnerTokens::new(&settings, store, seed)?
                        .parallel_grants(self.parallel_refresh_grants),
                ))
            }
        };
        let exchange_base_url = match self.exchange_base_url {
            Some(u) => u,
            None => Url::parse(PUBLIC_EXCHANGE_URL).map_err(|e| GraphError::Config {
                setting: "exchange_base_url",
                message: e.to_string(),
            })?,
        };
        check_http_origin("exchange_base_url", &exchange_base_url)?;
        let sharepoint_admin_template = self
            .sharepoint_admin_url
            .unwrap_or_else(|| DEFAULT_SHAREPOINT_ADMIN_URL.to_owned());
        // Checked with a sample name, so a bad template stops start-up rather than a call.
        admin_url_from_template(&sharepoint_admin_template, "contoso")?;
        let (mfa_push_url, mfa_otp_url) = match self.mfa_connector_urls {
            Some(urls) => urls,
            None => (
                Url::parse(PUBLIC_MFA_PUSH_URL).map_err(|e| GraphError::Config {
                    setting: "mfa_push_url",
                    message: e.to_string(),
                })?,
                Url::parse(PUBLIC_MFA_OTP_URL).map_err(|e| GraphError::Config {
                    setting: "mfa_otp_url",
                    message: e.to_string(),
                })?,
            ),
        };
        check_http_origin("mfa_push_url", &mfa_push_url)?;
        check_http_origin("mfa_otp_url", &mfa_otp_url)?;
        let mode = match self.default_mode {
            Some(TokenMode::Partner) if partner.is_none() => {
                return Err(GraphError::Config {
                    setting: "default_mode",
                    message: "partner mode needs a partner refresh token".to_owned(),
                });
            }
            Some(m) => m,
            None if partner.is_some() => TokenMode::Partner,
            None => TokenMode::App,
        };
        let http = build_http_client(&settings, Purpose::Graph)?;
        Ok(GraphClient::from_parts(
            Inner {
                http,
                tokens: TokenCache::new(app, partner),
                limiter: Limiter::new(self.concurrency),
                settings,
                exchange_base_url,
                sharepoint_admin_template,
                mfa_push_url,
                mfa_otp_url,
            },
            mode,
        ))
    }
}

impl fmt::Debug for GraphClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClientBuilder")
            .field("settings", &self.settings)
            .field(
                "partner_refresh_token",
                &self.partner_refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "has_refresh_token_store",
                &self.refresh_token_store.is_some(),
            )
            .field("concurrency", &self.concurrency)
            .field(
                "exchange_base_url",
                &self.exchange_base_url.as_ref().map(Url::as_str),
            )
            .field("sharepoint_admin_url", &self.sharepoint_admin_url)
            .field("default_mode", &self.default_mode)
            .field("parallel_refresh_grants", &self.parallel_refresh_grants)
            .finish_non_exhaustive()
    }
}
