//! Microsoft Graph (`/v1.0/…` and `/beta/…`): envelope, errors and routing.

pub(crate) mod apps;
pub(crate) mod assignments;
mod contacts_policies;
pub(crate) mod credentials;
mod directory;
mod drives;
pub(crate) mod extensions;
pub(crate) mod filter;
pub(crate) mod groups;
mod intune;
mod mailbox;
mod reads;
mod relations;
pub(crate) mod sharepoint;
mod sites;
mod sp_credentials;
mod sponsors;
mod subscriptions;
pub(crate) mod teams;
mod user_writes;
mod users;

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::state::{Sim, Tenant};

pub(crate) const JSON_CT: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A Graph error about to be rendered as `{"error": {code, message, innerError}}`.
#[derive(Debug)]
pub(crate) struct GraphError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn not_found(key: &str) -> Self {
        Self::new(
            404,
            "Request_ResourceNotFound",
            format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }
}

/// Graph's error code and message for a status forced by a fault.
pub(crate) fn fault_error(status: u16) -> GraphError {
    let (code, message) = match status {
        400 => ("BadRequest", "Bad request."),
        401 => (
            "InvalidAuthenticationToken",
            "Access token validation failure.",
        ),
        403 => (
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        404 => (
            "Request_ResourceNotFound",
            "Resource does not exist or one of its queried reference-property objects are not present.",
        ),
        409 => (
            "Directory_ConcurrencyViolation",
            "Error due to concurrent requests being made to the tenant. Please wait briefly and retry.",
        ),
        429 => ("TooManyRequests", "Please retry again later."),
        500 => ("InternalServerError", "An internal server error occurred."),
        502 => ("BadGateway", "Bad gateway."),
        503 => (
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry later.",
        ),
        504 => ("GatewayTimeout", "The gateway timed out."),
        _ => ("UnknownError", "An unknown error occurred."),
    };
    GraphError::new(status, code, message)
}

pub(crate) fn inner_date() -> String {
    // Graph's innerError.date has no zone suffix and no fractional seconds.
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

pub(crate) fn error_response(
    err: &GraphError,
    request_id: &str,
    client_request_id: &str,
    retry_after: Option<&str>,
) -> HttpResponse {
    let mut inner = Map::new();
    if err.status == 429 {
        inner.insert("code".into(), json!("429"));
        inner.insert("message".into(), json!("Please retry after"));
        inner.insert("status".into(), json!("429"));
    }
    inner.insert("date".into(), json!(inner_date()));
    inner.insert("request-id".into(), json!(request_id));
    inner.insert("client-request-id".into(), json!(client_request_id));
    let body = json!({"error": {"code": err.code, "message": err.message, "innerError": Value::Object(inner)}});
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = HttpResponse::build(status);
    resp.content_type("application/json");
    if let Some(ra) = retry_after {
        resp.insert_header(("Retry-After", ra.to_owned()));
    }
    if err.status == 401 {
        resp.insert_header((
            "WWW-Authenticate",
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
        ));
    }
    resp.body(body.to_string())
}

/// Everything a Graph handler needs about the request.
pub(crate) struct Ctx<'a> {
    pub sim: &'a Sim,
    pub tenant: Arc<Tenant>,
    /// `v1.0` or `beta`.
    pub version: &'a str,
    pub eventual: bool,
    /// Decoded query options, names lower-cased.
    pub query: Vec<(String, String)>,
    pub raw_query: &'a str,
    pub body: &'a [u8],
}

impl Ctx<'_> {
    pub fn beta(&self) -> bool {
        self.version == "beta"
    }

    pub fn option(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn service_root(&self) -> String {
        format!("{}/{}", self.sim.base_url, self.version)
    }

    pub fn context(&self, fragment: &str) -> String {
        format!("{}/$metadata#{fragment}", self.service_root())
    }

    pub fn json_body(&self) -> Result<Value, GraphError> {
        if self.body.is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        serde_json::from_slice(self.body).map_err(|e| {
            GraphError::bad_request(
                "BadRequest",
                format!("Unable to read JSON request payload. {e}"),
            )
        })
    }
}

pub(crate) fn ok_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(JSON_CT)
        .body(body.to_string())
}

/// Splits a query string into decoded (lower-cased name, value) pairs; `+` means a space.
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k).to_ascii_lowercase(), dec(v))
        })
        .collect()
}

/// Path segments after the version, percent-decoded, with `users('key')` split into two.
fn segments(rest: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in rest.split('/').filter(|s| !s.is_empty()) {
        let seg = percent_decode_str(raw).decode_utf8_lossy().into_owned();
        if let Some(open) = seg.find("('")
            && seg.ends_with("')")
            && !seg.contains('=')
        {
            out.push(seg[..open].to_owned());
            out.push(seg[open + 2..seg.len() - 2].replace("''", "'"));
        } else {
            out.push(seg);
        }
    }
    out
}

/// The first path segments the routes know, in Graph's spelling.
const ROOTS: &[&str] = &[
    "auditLogs",
    "contacts",
    "deviceManagement",
    "devices",
    "directory",
    "directoryRoles",
    "domains",
    "groups",
    "identity",
    "identityProtection",
    "invitations",
    "oauth2PermissionGrants",
    "organization",
    "policies",
    "roleManagement",
    "schemaExtensions",
    "servicePrincipals",
    "sites",
    "subscribedSkus",
    "tenantRelationships",
    "users",
];

pub(crate) fn dispatch(
    ctx: &Ctx<'_>,
    method: &str,
    rest: &str,
) -> Result<HttpResponse, GraphError> {
    let mut segs = segments(rest);
    // Graph matches entity-set names without regard to case (the CA tab asks for
    // `ServicePrincipals`); the routes below are written in Graph's own spelling.
    if let Some(first) = segs.first_mut()
        && let Some(root) = ROOTS.iter().find(|r| r.eq_ignore_ascii_case(first))
    {
        *first = (*root).to_owned();
    }
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    if let Some(answer) = sp_credentials::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = apps::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = contacts_policies::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = sharepoint::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = drives::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = teams::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = credentials::dispatch(ctx, method, &s) {
        return answer;
    }
    // Group, device, site and subscription routes for CIPP's group and licence pages.
    for module in [
        groups::dispatch,
        intune::dispatch,
        sites::dispatch,
        subscriptions::dispatch,
    ] {
        if let Some(answer) = module(ctx, method, &s) {
            return answer;
        }
    }
    if let Some(answer) = reads::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = extensions::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = user_writes::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = assignments::dispatch(ctx, method, &s) {
        return answer;
    }
    if let Some(answer) = sponsors::dispatch(ctx, method, &s) {
        return answer;
    }
    // Last: where another module answers the same route, that one wins.
    if let Some(answer) = relations::dispatch(ctx, method, &s) {
        return answer;
    }
    let not_allowed = || {
        GraphError::new(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    };
    match s.as_slice() {
        ["users"] => match method {
            "GET" => users::list(ctx),
            _ => Err(not_allowed()),
        },
        ["users", "$count"] => match method {
            "GET" => users::count(ctx),
            _ => Err(not_allowed()),
        },
        ["users", key] => match method {
            "GET" => users::get(ctx, key),
            "PATCH" => users::patch(ctx, key),
            "DELETE" => users::delete(ctx, key),
            _ => Err(not_allowed()),
        },
        ["users", key, "events"] => match method {
            "GET" => mailbox::events(ctx, key),
            _ => Err(not_allowed()),
        },
        ["users", key, "mailboxSettings"] => match method {
            "GET" => mailbox::get(ctx, key, None),
            "PATCH" => mailbox::patch(ctx, key),
            _ => Err(not_allowed()),
        },
        [
            "users",
            key,
            "mailboxSettings",
            sub @ "automaticRepliesSetting",
        ] => match method {
            "GET" => mailbox::get(ctx, key, Some(sub)),
            _ => Err(not_allowed()),
        },
        ["users", key, "manager"] => match method {
            "GET" => users::manager(ctx, key),
            _ => Err(not_allowed()),
        },
        [
            "users",
            key,
            action @ ("revokeSignInSessions" | "invalidateAllRefreshTokens"),
        ] => match method {
            "POST" if *action == "revokeSignInSessions" || ctx.beta() => users::revoke(ctx, key),
            "POST" => Err(GraphError::bad_request(
                "BadRequest",
                format!("Resource not found for the segment '{action}'."),
            )),
            _ => Err(not_allowed()),
        },
        [
            "users",
            key,
            "authentication",
            "methods",
            method_id,
            "resetPassword",
        ] => match method {
            "POST" => users::reset_password(ctx, key, method_id),
            _ => Err(not_allowed()),
        },
        ["users", key, "authentication", "operations", op] => match method {
            "GET" => users::reset_operation(ctx, key, op),
            _ => Err(not_allowed()),
        },
        ["directory", "deletedItems", "microsoft.graph.user"] => match method {
            "GET" => users::list_deleted(ctx),
            _ => Err(not_allowed()),
        },
        ["directory", "deletedItems", id] => match method {
            "GET" => users::get_deleted(ctx, id),
            "DELETE" => users::purge_deleted(ctx, id),
            _ => Err(not_allowed()),
        },
        ["directory", "deletedItems", id, "restore"] => match method {
            "POST" => users::restore_deleted(ctx, id),
            _ => Err(not_allowed()),
        },
        ["tenantRelationships", "delegatedAdminRelationships"] => match method {
            "GET" => directory::relationships(ctx),
            _ => Err(not_allowed()),
        },
        ["tenantRelationships", call] if call.starts_with("findTenantInformationByTenantId(") => {
            match method {
                "GET" => directory::find_tenant(ctx, call),
                _ => Err(not_allowed()),
            }
        }
        ["domains"] => match method {
            "GET" => directory::domains(ctx),
            _ => Err(not_allowed()),
        },
        ["organization"] => match method {
            "GET" => directory::organization(ctx),
            _ => Err(not_allowed()),
        },
        [] => Ok(ok_json(
            StatusCode::OK,
            &json!({"@odata.context": ctx.context(""), "value": []}),
        )),
        [first, ..] => Err(GraphError::bad_request(
            "BadRequest",
            format!("Resource not found for the segment '{first}'."),
        )),
    }
}
