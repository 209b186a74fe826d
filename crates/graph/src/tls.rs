//! Building the reqwest clients used for Graph and for the token endpoint, with the same TLS trust.

use std::time::Duration;

use reqwest::{Certificate, Client, redirect};

use crate::error::GraphError;
use crate::settings::GraphSettings;

/// What a client is for; token requests never follow redirects (a redirect there is an attack or a misconfiguration).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Purpose {
    Graph,
    Token,
}

/// A reqwest client trusting the platform roots plus `extra_ca_pem`.
///
/// reqwest 0.13's rustls backend verifies through rustls-platform-verifier; on Linux and
/// Windows `tls_certs_merge` hands the extra roots to `Verifier::new_with_extra_roots`, so a
/// private CA (the simulator's) is trusted alongside the system store. A test in
/// `tests/it/tls.rs` proves this against a freshly generated CA.
pub(crate) fn build_http_client(
    settings: &GraphSettings,
    purpose: Purpose,
) -> Result<Client, GraphError> {
    let mut builder = Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(settings.user_agent.clone());
    builder = match purpose {
        // Graph 302s to report downloads; reqwest drops Authorization on cross-host redirects.
        Purpose::Graph => builder.redirect(redirect::Policy::limited(5)),
        Purpose::Token => builder.redirect(redirect::Policy::none()),
    };
    if let Some(pem) = &settings.extra_ca_pem {
        let certs = Certificate::from_pem_bundle(pem).map_err(|e| GraphError::Config {
            setting: "extra_ca_pem",
            message: format!("not a PEM certificate bundle: {e}"),
        })?;
        if certs.is_empty() {
            return Err(GraphError::Config {
                setting: "extra_ca_pem",
                message: "contains no certificate".to_owned(),
            });
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(|e| GraphError::Config {
        setting: "extra_ca_pem",
        message: format!("could not build the HTTP client: {}", error_chain(&e)),
    })
}

/// Joins an error's message with its sources; reqwest hides the useful part (refused, bad cert) in `source()`.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}
