//! What the client needs to know: where Graph and Entra live, who we are, how patient to be.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::error::GraphError;

/// Graph API version segment of the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GraphVersion {
    V1,
    Beta,
}

impl GraphVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            GraphVersion::V1 => "v1.0",
            GraphVersion::Beta => "beta",
        }
    }
}

impl fmt::Display for GraphVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bounds for retrying throttled (429/503/504) responses and failed connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    /// Upper bound on the sum of all waits between attempts of one logical call.
    pub max_total_wait: Duration,
    /// First backoff step when the server gives no `Retry-After`.
    pub base_delay: Duration,
    /// Cap on one backoff step (a server's `Retry-After` is honoured beyond it, within `max_total_wait`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_total_wait: Duration::from_secs(60),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Everything the Graph client and its token provider are configured with.
#[derive(Clone)]
pub struct GraphSettings {
    /// `https://graph.microsoft.com` in production; the simulator's origin in demo and tests.
    pub graph_base_url: Url,
    /// `https://login.microsoftonline.com` in production; the simulator's origin in demo and tests.
    pub authority_host: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    /// PEM of extra trusted roots (the simulator's CA), for both Graph and token requests.
    pub extra_ca_pem: Option<Vec<u8>>,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub user_agent: String,
}

/// Public Microsoft Graph origin.
pub const PUBLIC_GRAPH_URL: &str = "https://graph.microsoft.com";
/// Public Entra ID authority.
pub const PUBLIC_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// Scope used when a caller does not name one.
pub const DEFAULT_GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

impl GraphSettings {
    /// Settings with the documented defaults for everything but the endpoints and the app identity.
    pub fn new(
        graph_base_url: Url,
        authority_host: Url,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        Self {
            graph_base_url,
            authority_host,
            client_id: client_id.into(),
            client_secret,
            extra_ca_pem: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            user_agent: concat!("CIPP-Users/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Settings pointing at the public Microsoft cloud.
    pub fn public_cloud(
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Result<Self, GraphError> {
        let graph = parse_setting("graph_base_url", PUBLIC_GRAPH_URL)?;
        let authority = parse_setting("authority_host", PUBLIC_AUTHORITY_HOST)?;
        Ok(Self::new(graph, authority, client_id, client_secret))
    }

    /// Fails fast, naming the setting, on values that can only break later.
    pub fn validate(&self) -> Result<(), GraphError> {
        check_http_origin("graph_base_url", &self.graph_base_url)?;
        check_http_origin("authority_host", &self.authority_host)?;
        if self.authority_host.scheme() != "https" {
            // azure_identity refuses anything else, so say it here with the setting's name.
            return Err(GraphError::Config {
                setting: "authority_host",
                message: "must use https".to_owned(),
            });
        }
        if self.retry.max_attempts == 0 {
            return Err(GraphError::Config {
                setting: "retry.max_attempts",
                message: "must be at least 1".to_owned(),
            });
        }
        Ok(())
    }
}

fn parse_setting(setting: &'static str, value: &str) -> Result<Url, GraphError> {
    Url::parse(value).map_err(|e| GraphError::Config {
        setting,
        message: e.to_string(),
    })
}

pub(crate) fn check_http_origin(setting: &'static str, url: &Url) -> Result<(), GraphError> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(GraphError::Config {
            setting,
            message: format!("'{url}' is not an http(s) origin"),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(GraphError::Config {
            setting,
            message: "must not carry a query or fragment".to_owned(),
        });
    }
    Ok(())
}

// Hand-written so the PEM blob stays out of logs; the secret prints redacted anyway.
impl fmt::Debug for GraphSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphSettings")
            .field("graph_base_url", &self.graph_base_url.as_str())
            .field("authority_host", &self.authority_host.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field(
                "extra_ca_pem",
                &self
                    .extra_ca_pem
                    .as_ref()
                    .map(|p| format!("{} bytes", p.len())),
            )
            .field("retry", &self.retry)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn debug_output_never_shows_the_client_secret() {
        let s = GraphSettings::public_cloud("app", SecretString::from("hunter2-secret")).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"));
        assert!(printed.contains("REDACTED"));
    }

    #[test]
    fn an_http_authority_host_is_rejected_naming_the_setting() {
        let mut s = GraphSettings::public_cloud("app", SecretString::from("x")).unwrap();
        s.authority_host = Url::parse("http://127.0.0.1:1").unwrap();
        match s.validate() {
            Err(GraphError::Config { setting, .. }) => assert_eq!(setting, "authority_host"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn versions_render_as_graph_url_segments() {
        assert_eq!(GraphVersion::V1.as_str(), "v1.0");
        assert_eq!(GraphVersion::Beta.as_str(), "beta");
    }
}
