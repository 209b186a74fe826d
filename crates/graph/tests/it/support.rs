//! Shared test doubles: counting token providers, quick retry settings, a TLS front for wiremock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use cipp_graph::{AccessToken, GraphClient, GraphError, GraphSettings, RetryPolicy, TokenProvider};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use secrecy::SecretString;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use url::Url;
use wiremock::MockServer;

pub const TOKEN: &str = "test-access-token-0123456789";

/// Captures everything logged at TRACE level while the guard lives (tests run on one thread).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Hands out a fixed token, counting how often it was asked; slow enough that concurrent callers overlap.
pub struct CountingTokens {
    pub calls: AtomicUsize,
    pub fail: bool,
    pub lifetime: Duration,
}

impl Default for CountingTokens {
    fn default() -> Self {
        Self {
            calls: AtomicUsize::new(0),
            fail: false,
            lifetime: Duration::from_secs(3600),
        }
    }
}

impl CountingTokens {
    pub fn failing() -> Self {
        Self {
            fail: true,
            ..Self::default()
        }
    }

    pub fn short_lived(lifetime: Duration) -> Self {
        Self {
            lifetime,
            ..Self::default()
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl TokenProvider for CountingTokens {
    async fn token(&self, tenant: &str, _scope: &str) -> Result<AccessToken, GraphError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        if self.fail {
            return Err(GraphError::Token {
                tenant: tenant.to_owned(),
                status: Some(400),
                code: Some("AADSTS65001".to_owned()),
                message: "AADSTS65001: no consent".to_owned(),
            });
        }
        Ok(AccessToken::new(TOKEN, SystemTime::now() + self.lifetime))
    }
}

/// Settings for a test server, with retries fast enough for tests.
pub fn settings(graph_base: &str) -> GraphSettings {
    let mut s = GraphSettings::new(
        Url::parse(graph_base).unwrap(),
        Url::parse("https://login.invalid").unwrap(),
        "11111111-2222-3333-4444-555555555555",
        SecretString::from("s3cr3t-value"),
    );
    s.retry = RetryPolicy {
        max_attempts: 4,
        max_total_wait: Duration::from_secs(2),
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
    };
    s.connect_timeout = Duration::from_secs(2);
    s.request_timeout = Duration::from_secs(5);
    s.user_agent = "CIPP-Users/test".to_owned();
    s
}

pub fn client_for(server: &MockServer) -> (GraphClient, Arc<CountingTokens>) {
    let tokens = Arc::new(CountingTokens::default());
    let client = GraphClient::with_token_provider(settings(&server.uri()), tokens.clone()).unwrap();
    (client, tokens)
}

/// A private CA and a leaf certificate for 127.0.0.1/localhost signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

pub fn pki() -> TestPki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cipp-graph test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    TestPki {
        ca_pem: ca_cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    }
}

/// Terminates TLS on a loopback port and pipes the plaintext to `backend` (a wiremock server).
pub async fn tls_front(backend: SocketAddr, acceptor: TlsAcceptor) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}
