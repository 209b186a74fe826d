//! What every request can reach: settings, the Graph client, token validation, the tenant list
//! and the operation registry. Built once at start-up and shared.

use cipp_graph::GraphClient;
use cipp_users_domain::graph_proxy_guard::ProxyGuard;
use std::sync::Arc;

use crate::auth::jwt::TokenValidator;
use crate::registry::Registry;
use crate::settings::Settings;
use crate::tenants::TenantDirectory;

pub struct AppState {
    pub settings: Settings,
    pub graph: GraphClient,
    pub tokens: TokenValidator,
    pub tenants: TenantDirectory,
    pub registry: Arc<Registry>,
    pub proxy_guard: ProxyGuard,
    pub store: cipp_store::Store,
}
