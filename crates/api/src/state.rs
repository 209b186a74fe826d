//! What every request can reach: settings, the Graph client, token validation, the store, the
//! operation registry and the users domain's environment (tenant directory, proxy guard). Built
//! once at start-up and shared.

use cipp_graph::GraphClient;
use cipp_users_domain::op::Environment;
use std::sync::Arc;

use crate::auth::jwt::TokenValidator;
use crate::registry::Registry;
use crate::settings::Settings;

pub struct AppState {
    pub settings: Settings,
    pub graph: GraphClient,
    pub tokens: TokenValidator,
    pub registry: Arc<Registry>,
    pub store: cipp_store::Store,
    pub env: Arc<Environment>,
    /// Seals the answers kept for `Idempotency-Key`: the configured encryption key, or one made
    /// at start (then only this process can read its kept answers back).
    pub answer_seal: cipp_store::EncryptionKey,
    /// The OpenAPI document as served, made on its first request: generating it takes about
    /// 20 ms and several MB that a service nobody reads the document of should not pay at start.
    pub document: std::sync::OnceLock<actix_web::web::Bytes>,
}
