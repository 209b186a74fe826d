//! Building the reqwest clients used for Graph and for the token endpoint, with the same TLS trust.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use reqwest::{Client, ClientBuilder, redirect};
use rustls::ClientConfig;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use rustls_platform_verifier::Verifier;

use crate::error::GraphError;
use crate::settings::GraphSettings;

/// What a client is for; token requests never follow redirects (a redirect there is an attack or a misconfiguration).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Purpose {
    Graph,
    Token,
}

/// A reqwest client trusting the platform roots plus `extra_ca_pem`.
pub(crate) fn build_http_client(
    settings: &GraphSettings,
    purpose: Purpose,
) -> Result<Client, GraphError> {
    let mut builder = trusted_client_builder(settings.extra_ca_pem.as_deref())?
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(settings.user_agent.clone());
    builder = match purpose {
        // Graph 302s to report downloads; reqwest drops Authorization on cross-host redirects.
        Purpose::Graph => builder.redirect(redirect::Policy::limited(5)),
        Purpose::Token => builder.redirect(redirect::Policy::none()),
    };
    builder.build().map_err(|e| GraphError::Config {
        setting: "extra_ca_pem",
        message: format!("could not build the HTTP client: {}", error_chain(&e)),
    })
}

/// A reqwest client builder whose TLS trusts the platform roots plus `extra_ca_pem` (the
/// simulator's CA), verified by rustls-platform-verifier as reqwest itself would.
///
/// Every client of the process with the same extra roots shares one TLS configuration: reqwest
/// builds a verifier per client, and each read the whole system root store (a third of the CPU
/// from start to the first answer, benches/RESULTS.md P6, with three clients).
pub fn trusted_client_builder(extra_ca_pem: Option<&[u8]>) -> Result<ClientBuilder, GraphError> {
    let config = shared_tls_config(extra_ca_pem)?;
    Ok(Client::builder().tls_backend_preconfigured(config))
}

/// Configurations kept per distinct set of extra roots; a service has one, a test process one
/// per simulator, so only the latest few are kept.
const KEPT_TLS_CONFIGS: usize = 4;

fn shared_tls_config(extra_ca_pem: Option<&[u8]>) -> Result<ClientConfig, GraphError> {
    static CONFIGS: Mutex<Vec<(Option<Vec<u8>>, ClientConfig)>> = Mutex::new(Vec::new());
    let key = extra_ca_pem.map(<[u8]>::to_vec);
    if let Some((_, config)) = CONFIGS.lock().iter().find(|(k, _)| *k == key) {
        return Ok(config.clone());
    }
    let config = tls_config(extra_ca_pem)?;
    let mut configs = CONFIGS.lock();
    if configs.len() >= KEPT_TLS_CONFIGS {
        configs.remove(0);
    }
    configs.push((key, config.clone()));
    Ok(config)
}

fn tls_config(extra_ca_pem: Option<&[u8]>) -> Result<ClientConfig, GraphError> {
    let config_error = |message: String| GraphError::Config {
        setting: "extra_ca_pem",
        message,
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = match extra_ca_pem {
        None => Verifier::new(provider.clone()),
        Some(pem) => {
            let roots = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| config_error(format!("not a PEM certificate bundle: {e}")))?;
            if roots.is_empty() {
                return Err(config_error("contains no certificate".to_owned()));
            }
            Verifier::new_with_extra_roots(roots, provider.clone())
        }
    }
    .map_err(|e| config_error(format!("the platform's roots could not be read: {e}")))?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("no TLS version is available: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // What reqwest offers when it builds the configuration itself.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
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
