//! Microsoft Graph client for the CIPP-compatible user API.
//!
//! - `client`: [`GraphClient`] requests, headers, retries, decoding.
//! - `paging`: `@odata.nextLink` / `@odata.count` handling ([`GraphPage`]).
//! - `builder`: [`GraphClientBuilder`] (partner refresh token, concurrency limits, Exchange origin).
//! - `tokens`: the [`TokenProvider`] trait, [`TokenMode`] (partner or app-only), the
//!   single-flight caches and the azure_identity client-credentials provider.
//! - `partner`: delegated tokens from the partner refresh token ([`PartnerTokens`]) and the
//!   [`RefreshTokenStore`] the rotated token goes to.
//! - `dry_run`: `WhatIf` clones that send reads and record writes ([`DryRun`]).
//! - `batch`: `$batch` in chunks of 20 ([`BatchRequest`], [`BatchResponse`]).
//! - `exchange`: Exchange Online admin REST (`InvokeCommand`) through [`GraphClient::exchange`].
//! - `sharepoint`: SharePoint REST on a site and the admin CSOM `ProcessQuery`
//!   ([`GraphClient::sharepoint_rest`], [`GraphClient::sharepoint_process_query`]).
//! - `mfa_connector`: the Azure MFA connector's token and two-way authentication calls.
//! - `limits`: [`ConcurrencyLimits`] per tenant and overall.
//! - `retry`: `Retry-After` parsing and backoff.
//! - `settings`: [`GraphSettings`], [`RetryPolicy`], [`GraphVersion`].
//! - `error`: [`GraphError`].
//!
//! Knows HTTP, tokens and Graph wire formats; nothing about the web framework or storage.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cipp_graph::GraphError> {
//! use cipp_graph::{GraphClient, GraphSettings, GraphVersion};
//! use secrecy::SecretString;
//!
//! let settings = GraphSettings::public_cloud("app-id", SecretString::from("app-secret"))?;
//! let graph = GraphClient::new(settings)?;
//! let users = graph
//!     .get_all(
//!         "contoso.onmicrosoft.com",
//!         GraphVersion::Beta,
//!         "users?$top=999&$count=true&$select=id,userPrincipalName",
//!         &[("ConsistencyLevel", "eventual")],
//!     )
//!     .await?;
//! # let _ = users;
//! # Ok(())
//! # }
//! ```

pub mod batch;
pub mod builder;
pub mod client;
pub mod dry_run;
pub mod error;
pub mod exchange;
pub mod limits;
pub mod mfa_connector;
pub mod paging;
pub mod partner;
pub(crate) mod retry;
pub mod settings;
pub mod sharepoint;
pub mod tls;
pub mod tokens;

pub use batch::{BATCH_CHUNK, BatchRequest, BatchResponse};
pub use builder::{GraphClientBuilder, PUBLIC_EXCHANGE_URL};
pub use client::{GraphClient, graph_url};
pub use dry_run::{DryRun, PlannedWrite};
pub use error::GraphError;
pub use exchange::{EXCHANGE_SCOPE, ExchangeOutput};
pub use limits::ConcurrencyLimits;
pub use paging::{GraphPage, resolve_next_link};
pub use partner::{InMemoryRefreshTokenStore, PartnerTokens, RefreshTokenStore};
pub use settings::{
    DEFAULT_GRAPH_SCOPE, GraphSettings, GraphVersion, PUBLIC_AUTHORITY_HOST, PUBLIC_GRAPH_URL,
    RetryPolicy,
};
pub use sharepoint::{DEFAULT_SHAREPOINT_ADMIN_URL, sharepoint_scope};
pub use tokens::{
    AccessToken, CachedTokens, ClientCredentialsTokens, ClientSecretProvider, EARLY_EXPIRY,
    TokenMode, TokenProvider,
};

/// HTTP method type accepted by [`GraphClient::send`].
pub use reqwest::Method;
