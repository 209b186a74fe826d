//! One file per operation. A handler extracts its parameters, calls one domain function and maps
//! the result. To add an operation: write `operations/<name>.rs` and add one line to
//! [`IMPLEMENTED`]; routing, the OpenAPI document and the coverage table follow from that.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::web;
use cipp_users_domain::Tenant;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use crate::audit::AuditNotes;
use crate::auth::Caller;
use crate::auth::roles::{DENIED_TENANT, TenantScope};
use crate::error::ApiError;
use crate::params::Params;
use crate::registry::OperationSpec;
use crate::state::AppState;
use std::cell::RefCell;
use std::rc::Rc;

// Unused once the user writes moved to the users crate; kept (as asked) until the handler
// layer itself goes.
#[allow(dead_code)]
mod results_array;

/// What an operation answers: a status and a JSON body, whole or streamed.
pub struct Reply {
    pub status: StatusCode,
    pub body: ReplyBody,
}

pub enum ReplyBody {
    Json(Value),
    /// JSON written as it is produced, so large answers never sit in memory whole.
    Stream(crate::streaming::JsonStream),
    /// Raw bytes with their content type (e.g. a user's photo).
    Bytes {
        content_type: String,
        bytes: actix_web::web::Bytes,
    },
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self::with_status(StatusCode::OK, body)
    }

    pub fn with_status(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: ReplyBody::Json(body),
        }
    }

    /// Raw bytes with 200, e.g. an image.
    pub fn bytes(content_type: impl Into<String>, bytes: actix_web::web::Bytes) -> Self {
        Self {
            status: StatusCode::OK,
            body: ReplyBody::Bytes {
                content_type: content_type.into(),
                bytes,
            },
        }
    }

    pub fn stream(body: crate::streaming::JsonStream) -> Self {
        Self {
            status: StatusCode::OK,
            body: ReplyBody::Stream(body),
        }
    }

    /// CIPP's `{"Results": ...}` envelope with 200.
    pub fn results(results: impl Into<Value>) -> Self {
        Self::ok(serde_json::json!({ "Results": results.into() }))
    }
}

pub type Handler = fn(Context) -> LocalBoxFuture<'static, Result<Reply, ApiError>>;

/// The operations built so far: name (as in scope.json) and handler.
pub const IMPLEMENTED: &[(&str, Handler)] = &[];

/// Everything one operation call may use.
pub struct Context {
    pub state: web::Data<AppState>,
    pub caller: Caller,
    pub params: Params,
    pub spec: OperationSpec,
    pub request: HttpRequest,
    /// What the audit row of this call needs from the handler.
    pub audit: Rc<RefCell<AuditNotes>>,
}

/// A target tenant as the caller named it.
pub enum TargetTenant {
    One(Box<Tenant>),
    /// The `AllTenants` pseudo-tenant; the operation fans out over the caller's tenants.
    All,
}

impl Context {
    /// The caller's tenant scope.
    pub fn scope(&self) -> TenantScope {
        self.caller.roles.tenant_scope()
    }

    /// Resolves `tenantFilter` (or `tenantId`) to a tenant the caller may use: 400 when missing
    /// or unknown, 403 when outside the caller's tenants.
    pub async fn target_tenant(&self) -> Result<TargetTenant, ApiError> {
        let name = self
            .params
            .string("tenantFilter")
            .or_else(|| self.params.string("tenantId"))
            .ok_or_else(|| ApiError::bad_request("tenantFilter is required"))?;
        if name.eq_ignore_ascii_case("AllTenants") {
            let permission = self.spec.role.as_deref().unwrap_or_default();
            if !self.caller.roles.may_target_all_tenants(permission) {
                return Err(ApiError::forbidden(DENIED_TENANT));
            }
            return Ok(TargetTenant::All);
        }
        let tenant = self
            .state
            .env
            .tenants
            .find(&name)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "tenantFilter: '{name}' is not a tenant this CIPP manages (use its tenant id, default domain or initial domain)"
                ))
            })?;
        let names = [
            tenant.customer_id.as_str(),
            tenant.default_domain_name.as_str(),
            tenant.initial_domain_name.as_str(),
        ];
        self.audit.borrow_mut().tenant = Some((
            tenant.default_domain_name.clone(),
            tenant.customer_id.clone(),
        ));
        if !self.spec.any_tenant && !self.scope().permits(&names) {
            return Err(ApiError::forbidden(DENIED_TENANT));
        }
        Ok(TargetTenant::One(Box::new(tenant)))
    }

    /// CIPP's stored password settings for the generator; a store failure falls back to CIPP's
    /// defaults (and says so in the log) rather than failing the write.
    pub async fn password_settings(&self) -> cipp_users_domain::password::PasswordSettings {
        use cipp_users_domain::password::PasswordSettings;
        match self.state.store.get_password_settings().await {
            Ok(stored) => serde_json::to_value(stored)
                .and_then(serde_json::from_value::<PasswordSettings>)
                .unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, "password settings unreadable; using CIPP's defaults");
                PasswordSettings::default()
            }
        }
    }

    /// The tenants an `AllTenants` request covers: every tenant in the caller's scope.
    pub async fn visible_tenants(&self) -> Result<Vec<Tenant>, ApiError> {
        let scope = self.scope();
        Ok(self
            .state
            .env
            .tenants
            .all()
            .await?
            .iter()
            .filter(|t| {
                scope.permits(&[
                    &t.customer_id,
                    &t.default_domain_name,
                    &t.initial_domain_name,
                ])
            })
            .cloned()
            .collect())
    }

    /// The target tenant of an operation that acts on one tenant only: `AllTenants` is a 400.
    pub async fn single_tenant(&self) -> Result<Box<Tenant>, ApiError> {
        match self.target_tenant().await? {
            TargetTenant::One(tenant) => Ok(tenant),
            TargetTenant::All => Err(ApiError::bad_request(format!(
                "tenantFilter: {} acts on one tenant, not AllTenants",
                self.spec.name
            ))),
        }
    }
}
