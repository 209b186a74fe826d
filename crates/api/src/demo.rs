//! Demo mode: the simulated Microsoft 365 runs in-process and this service is pointed at it by
//! base URLs and credentials only, so demo and production share every code path.
//!
//! The credentials below are fixed and documented. They are valid only against the simulator.

use cipp_sim::{SimApp, SimConfig, SimHandle};
use url::Url;

use crate::auth::roles::CustomRole;
use crate::settings::{ApiClient, Settings};

pub const PARTNER_CLIENT_ID: &str = "c1990000-0000-4000-8000-000000000001";
pub const PARTNER_CLIENT_SECRET: &str = "demo-partner-secret-valid-only-against-the-simulator";
pub const API_APP_ID: &str = "c1990000-0000-4000-8000-0000000000a1";
/// The custom role demo mode defines: user-management permissions on the first demo tenant only.
pub const CUSTOM_ROLE_NAME: &str = "custom";

/// One demo API client: a role and its client-credential pair.
#[derive(Debug, Clone)]
pub struct DemoClient {
    pub role: &'static str,
    pub client_id: &'static str,
    pub client_secret: &'static str,
}

pub const DEMO_CLIENTS: [DemoClient; 5] = [
    DemoClient {
        role: "readonly",
        client_id: "c1990000-0000-4000-8000-000000000011",
        client_secret: "demo-readonly-secret",
    },
    DemoClient {
        role: "editor",
        client_id: "c1990000-0000-4000-8000-000000000012",
        client_secret: "demo-editor-secret",
    },
    DemoClient {
        role: "admin",
        client_id: "c1990000-0000-4000-8000-000000000013",
        client_secret: "demo-admin-secret",
    },
    DemoClient {
        role: "superadmin",
        client_id: "c1990000-0000-4000-8000-000000000014",
        client_secret: "demo-superadmin-secret",
    },
    DemoClient {
        role: CUSTOM_ROLE_NAME,
        client_id: "c1990000-0000-4000-8000-000000000015",
        client_secret: "demo-custom-secret",
    },
];

/// What demo mode started, for printing and for tests.
pub struct Demo {
    pub simulator: SimHandle,
    pub token_url: Url,
    pub scope: String,
}

impl Demo {
    /// One line per demo client and one for the CA file, as the README documents them.
    pub fn credential_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = DEMO_CLIENTS
            .iter()
            .map(|c| {
                format!(
                    "demo-client role={} client_id={} client_secret={} token_url={} scope={}",
                    c.role, c.client_id, c.client_secret, self.token_url, self.scope
                )
            })
            .collect();
        lines.push(format!(
            "demo-ca path={}",
            self.simulator.ca_pem_path.display()
        ));
        lines
    }
}

/// The simulator's refresh token for the partner admin, so demo mode runs in partner (GDAP)
/// mode as production does. Without it the demo falls back to app-only tokens.
async fn partner_refresh_token(simulator: &SimHandle) -> Option<secrecy::SecretString> {
    let certificate = reqwest::Certificate::from_pem(simulator.ca_pem.as_bytes()).ok()?;
    let client = reqwest::Client::builder()
        .tls_certs_merge([certificate])
        .build()
        .ok()?;
    let url = simulator.base_url.join("_sim/partner-refresh-token").ok()?;
    let body: serde_json::Value = client.get(url).send().await.ok()?.json().await.ok()?;
    body.get("refresh_token")
        .and_then(serde_json::Value::as_str)
        .map(|t| secrecy::SecretString::from(t.to_owned()))
}

/// Starts the simulator and rewrites the settings to use it.
pub async fn start(settings: &mut Settings) -> Result<Demo, cipp_sim::SimError> {
    let mut clients: Vec<SimApp> = DEMO_CLIENTS
        .iter()
        .map(|c| SimApp {
            client_id: c.client_id.to_owned(),
            client_secret: c.client_secret.to_owned(),
            display_name: format!("Demo {} client", c.role),
            roles: Vec::new(),
        })
        .collect();
    clients.dedup_by(|a, b| a.client_id == b.client_id);
    let config = SimConfig {
        bind: settings.demo.sim_bind,
        seed: settings.demo.seed,
        cert_dir: settings.data_dir.join("demo"),
        customer_tenants: settings.demo.customer_tenants,
        big_tenant_users: settings.demo.big_tenant_users,
        partner_app: SimApp {
            client_id: PARTNER_CLIENT_ID.to_owned(),
            client_secret: PARTNER_CLIENT_SECRET.to_owned(),
            display_name: "CIPP demo partner app".to_owned(),
            roles: Vec::new(),
        },
        api_app_id: API_APP_ID.to_owned(),
        api_accepts_v2_tokens: settings.demo.v2_tokens,
        clients,
    };
    let simulator = cipp_sim::start(config).await?;
    let base = simulator.base_url.clone();
    settings.partner_tenant_id = simulator.partner_tenant_id.clone();
    settings.partner_client_id = PARTNER_CLIENT_ID.to_owned();
    settings.partner_client_secret = PARTNER_CLIENT_SECRET.to_owned().into();
    settings.authority_host = base.clone();
    settings.graph_base_url = base.clone();
    settings.exchange_base_url = base.clone();
    settings.mfa_push_url = base.clone();
    settings.mfa_otp_url = base.clone();
    // The simulator serves every tenant's SharePoint admin site under its own origin.
    settings.sharepoint_admin_url = format!(
        "{}/_sp/{{tenant}}-admin",
        base.as_str().trim_end_matches('/')
    );
    settings.api_app_id = API_APP_ID.to_owned();
    settings.extra_ca_file = Some(simulator.ca_pem_path.clone());
    settings.partner_refresh_token = partner_refresh_token(&simulator).await;
    settings
        .api_clients
        .extend(DEMO_CLIENTS.iter().map(|c| ApiClient {
            client_id: c.client_id.to_owned(),
            name: format!("Demo {} client", c.role),
            role: c.role.to_owned(),
        }));
    let first_tenant = simulator
        .tenants
        .first()
        .map(|t| t.customer_id.clone())
        .unwrap_or_default();
    settings.custom_roles.push(CustomRole {
        name: CUSTOM_ROLE_NAME.to_owned(),
        include: vec!["Identity.User.*".to_owned()],
        exclude: Vec::new(),
        allowed_tenants: vec![first_tenant],
        blocked_tenants: Vec::new(),
    });
    let token_url = base
        .join(&format!(
            "{}/oauth2/v2.0/token",
            simulator.partner_tenant_id
        ))
        .unwrap_or_else(|_| base.clone());
    Ok(Demo {
        simulator,
        token_url,
        scope: format!("api://{API_APP_ID}/.default"),
    })
}
