//! The audit log: who did what, to which user, in which tenant, and did it work.
//!
//! Every call that changes something, and every call refused with 403, writes exactly one row
//! before its answer is sent. Anonymous 401s are counted per source address and minute in one
//! row, so unauthenticated traffic cannot flood the store. Reads are recorded (at Debug) only
//! when `CIPP_AUDIT_READS` is on. Secrets never reach a row: parameters that carry them are
//! redacted by name, and a value the answer offers to copy (a password, a temporary access
//! pass) is cut out of the message.

use actix_web::{HttpMessage, HttpRequest};
use cipp_store::{ActorKind, AuditEntry, AuditResult, Severity, Store};
use serde_json::{Map, Value, json};
use std::net::IpAddr;
use std::time::Duration;

use crate::auth::Caller;
use crate::auth::caller::Identity;
use crate::registry::OperationSpec;
use crate::state::AppState;

/// The id of one request, in its logs, its `x-correlation-id` header and its audit row.
#[derive(Clone, Debug)]
pub struct CorrelationId(pub String);

/// What a call learned that the audit row needs: the tenant it acted on, and a message to
/// record instead of the answer's (when the answer holds a secret).
#[derive(Default, Debug, Clone)]
pub struct AuditNotes {
    pub tenant: Option<(String, String)>,
    pub message: Option<String>,
    /// The object acted on, when the operation names it (else it is read from the parameters).
    pub target: Option<String>,
}

pub fn correlation_id(request: &HttpRequest) -> String {
    request
        .extensions()
        .get::<CorrelationId>()
        .map(|c| c.0.clone())
        .unwrap_or_default()
}

/// The caller's address: the first `X-Forwarded-For` hop when the peer is a trusted proxy,
/// else the peer itself (a header from anyone else could be forged).
pub fn source_ip(request: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<String> {
    let peer = request.peer_addr().map(|a| a.ip());
    if let Some(peer) = peer
        && trusted_proxies.contains(&peer)
        && let Some(first) = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        let hop = first.trim();
        // Strip a port (`1.2.3.4:5678`, `[::1]:5678`) and brackets, as CIPP does.
        let host = if let Some(rest) = hop.strip_prefix('[') {
            rest.split(']').next().unwrap_or(rest)
        } else if hop.matches(':').count() == 1 {
            hop.split(':').next().unwrap_or(hop)
        } else {
            hop
        };
        if host.parse::<IpAddr>().is_ok() {
            return Some(host.to_owned());
        }
    }
    peer.map(|p| p.to_string())
}

/// Whether an operation changes something (as its declaration, or else its role, says).
pub fn is_write(spec: &OperationSpec) -> bool {
    spec.writes
}

fn secret_name(name: &str) -> bool {
    cipp_users_domain::op::params::is_secret_key(name)
}

/// Longer parameter values (a photo's base64, a pasted document) are cut to this many characters:
/// an audit row records what was asked, not the payload.
const MAX_PARAMETER_CHARS: usize = 512;

/// Parameters with every secret-bearing value replaced and long values shortened, recursively.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    let v = if secret_name(k) {
                        json!("[redacted]")
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(text) if text.chars().count() > MAX_PARAMETER_CHARS => {
            let kept: String = text.chars().take(MAX_PARAMETER_CHARS).collect();
            let omitted = text.chars().count() - MAX_PARAMETER_CHARS;
            json!(format!("{kept}… [{omitted} more characters not recorded]"))
        }
        other => other.clone(),
    }
}

/// At most this many keys of an object are recorded; a caller could send thousands.
const MAX_PARAMETER_KEYS: usize = 64;
/// A row's parameters and its message are each kept under this many bytes of JSON, so one
/// call cannot grow the log (or a ListLogs answer) by more than a bounded amount.
pub const MAX_ROW_PART_BYTES: usize = 8 * 1024;

/// Redacted parameters cut to the row's bounds: objects keep their first keys, and what does not
/// fit is dropped, marked with `"[cut]": "<what was left out>"`.
pub fn bounded_parameters(value: Value) -> Value {
    let Value::Object(fields) = value else {
        let text = value.to_string();
        if text.len() <= MAX_ROW_PART_BYTES {
            return value;
        }
        return json!({"[cut]": format!("{} bytes of parameters not recorded", text.len())});
    };
    let total = fields.len();
    let mut kept = Map::new();
    let mut size = 2;
    let mut dropped = 0usize;
    for (key, value) in fields {
        let cost = key.len() + value.to_string().len() + 4;
        if kept.len() >= MAX_PARAMETER_KEYS || size + cost > MAX_ROW_PART_BYTES - 128 {
            dropped += 1;
            continue;
        }
        size += cost;
        kept.insert(key, value);
    }
    if dropped > 0 {
        kept.insert(
            "[cut]".to_owned(),
            json!(format!("{dropped} of {total} parameters not recorded")),
        );
    }
    Value::Object(kept)
}

/// A message cut to the row's bound, marked when cut.
pub fn bounded_message(message: String) -> String {
    if message.len() <= MAX_ROW_PART_BYTES {
        return message;
    }
    let mut end = MAX_ROW_PART_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… [{} more bytes not recorded]",
        &message[..end],
        message.len() - end
    )
}

/// The text an answer carries (`Results` as a string, `resultText`s, or strings), with every
/// value it offers to copy cut out.
pub fn answer_message(body: &Value) -> String {
    let results = body.get("Results").unwrap_or(body);
    let mut copy_values = Vec::new();
    let text = match results {
        Value::String(s) => s.clone(),
        Value::Object(o) => item_text(o, &mut copy_values),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                Value::Object(o) => item_text(o, &mut copy_values),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" | "),
        other => other.to_string(),
    };
    copy_values
        .iter()
        .filter(|v| !v.is_empty())
        .fold(text, |text, secret| {
            text.replace(secret.as_str(), "[redacted]")
        })
}

fn item_text(item: &Map<String, Value>, copy_values: &mut Vec<String>) -> String {
    if let Some(Value::String(copy)) = item.get("copyField") {
        copy_values.push(copy.clone());
    }
    item.get("resultText")
        .or_else(|| item.get("Results"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_default()
}

/// One finished call, as the audit log needs it.
pub struct CallRecord<'a> {
    pub request: &'a HttpRequest,
    pub spec: &'a OperationSpec,
    pub caller: &'a Caller,
    pub parameters: Value,
    pub notes: &'a AuditNotes,
    pub status: u16,
    pub message: String,
}

/// Writes the row for a call when it must be audited; returns once the row is stored.
pub async fn record_call(state: &AppState, call: CallRecord<'_>) {
    let refused = call.status == 403;
    let write = is_write(call.spec);
    if !(write || refused || state.settings.audit_reads) {
        return;
    }
    let (actor_kind, app_id) = match &call.caller.identity {
        Identity::ApiClient { client_id, .. } => (ActorKind::ApiClient, Some(client_id.clone())),
        Identity::User { .. } => (ActorKind::User, None),
    };
    let (result, severity) = match call.status {
        s if s < 400 && (write || refused) => (AuditResult::Success, Severity::Info),
        s if s < 400 => (AuditResult::Success, Severity::Debug),
        403 => (AuditResult::Error, Severity::Warning),
        _ => (AuditResult::Error, Severity::Error),
    };
    let target = call
        .notes
        .target
        .clone()
        .or_else(|| {
            ["ID", "id", "UserID", "userPrincipalName", "user"]
                .iter()
                .find_map(|k| lookup(&call.parameters, k))
                .map(str::to_owned)
        })
        .map(bounded_name);
    let roles = call.caller.roles.names();
    let row = AuditEntry {
        id: uuid::Uuid::new_v4(),
        time: time::OffsetDateTime::now_utc(),
        actor: bounded_name(call.caller.actor()),
        actor_kind,
        app_id,
        role: (!roles.is_empty()).then(|| roles.join(",")),
        source_ip: source_ip(call.request, &state.settings.trusted_proxies),
        tenant: None,
        tenant_id: None,
        operation: call.spec.name.clone(),
        target,
        parameters: Value::Null,
        result,
        message: bounded_message(call.notes.message.clone().unwrap_or(call.message)),
        severity,
        correlation_id: correlation_id(call.request),
        status: call.status,
    };
    for (index, part) in rows_by_tenant(state, call.notes, &call.parameters)
        .await
        .into_iter()
        .enumerate()
    {
        let entry = AuditEntry {
            // The first row keeps the id made above; each further tenant's row gets its own.
            id: if index == 0 {
                row.id
            } else {
                uuid::Uuid::new_v4()
            },
            tenant: part.tenant,
            tenant_id: part.tenant_id,
            parameters: bounded_parameters(redact(&part.parameters)),
            ..row.clone()
        };
        if let Err(error) = state.store.insert_audit(&entry).await {
            // The action itself has happened; losing its row is reported loudly, not hidden.
            tracing::error!(%error, operation = %entry.operation, "the audit row could not be written");
        }
    }
}

/// One audit row's tenant and the parameters that concern it.
struct TenantPart {
    tenant: Option<String>,
    tenant_id: Option<String>,
    parameters: Value,
}

/// A write whose body is a list of items each naming its own `tenantFilter` (ExecBulkLicense,
/// PatchUser) leaves one row per tenant holding that tenant's items, so a caller limited to some
/// tenants reads its own part of the call and nothing of the others'. Any other call leaves one
/// row, with the tenant the operation resolved or the `tenantFilter` it was sent.
async fn rows_by_tenant(
    state: &AppState,
    notes: &AuditNotes,
    parameters: &Value,
) -> Vec<TenantPart> {
    if let Some(groups) = items_by_tenant(parameters) {
        let mut parts = Vec::with_capacity(groups.len());
        for (label, items) in groups {
            let (tenant, tenant_id) = match state.env.tenants.find(&label).await {
                Ok(Some(found)) => (found.default_domain_name, Some(found.customer_id)),
                // Not a tenant this CIPP manages: the row names what was sent, which matches
                // no tenant-scoped reader.
                _ => (bounded_name(label), None),
            };
            parts.push(TenantPart {
                tenant: Some(tenant),
                tenant_id,
                parameters: Value::Array(items),
            });
        }
        return parts;
    }
    let (tenant, tenant_id) = match &notes.tenant {
        Some((domain, id)) => (Some(domain.clone()), Some(id.clone())),
        None => (
            Some(
                lookup(parameters, "tenantFilter")
                    .map(|t| bounded_name(t.to_owned()))
                    .unwrap_or_else(|| "None".to_owned()),
            ),
            None,
        ),
    };
    vec![TenantPart {
        tenant,
        tenant_id,
        parameters: parameters.clone(),
    }]
}

/// An array body's items grouped by their `tenantFilter` text (first appearance first), when
/// every item is an object naming one; `None` for any other body.
fn items_by_tenant(parameters: &Value) -> Option<Vec<(String, Vec<Value>)>> {
    let items = parameters.as_array().filter(|items| !items.is_empty())?;
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for item in items {
        let label = lookup(item, "tenantFilter")?.trim().to_owned();
        match groups
            .iter_mut()
            .find(|(seen, _)| seen.eq_ignore_ascii_case(&label))
        {
            Some((_, list)) => list.push(item.clone()),
            None => groups.push((label, vec![item.clone()])),
        }
    }
    Some(groups)
}

/// A name-like field (tenant, target, actor) taken from the caller is kept to this many
/// characters: no real one is longer, and a refused call must not store an unbounded text.
const MAX_NAME_CHARS: usize = 256;

fn bounded_name(text: String) -> String {
    if text.chars().count() <= MAX_NAME_CHARS {
        return text;
    }
    let kept: String = text.chars().take(MAX_NAME_CHARS).collect();
    format!("{kept}… [cut]")
}

/// The largest row [`record_call`] can write: every caller-sized part at its bound. Benchmarks
/// and tests fill the log with it to show what a flood of hostile calls can cost.
pub fn largest_possible_row(time: time::OffsetDateTime, tenant: &str) -> AuditEntry {
    let long = "y".repeat(MAX_PARAMETER_CHARS * 2);
    let parameters: Map<String, Value> = (0..MAX_PARAMETER_KEYS * 2)
        .map(|i| (format!("field{i:04}"), json!(long)))
        .collect();
    let name = |prefix: &str| bounded_name(format!("{prefix}{}", "z".repeat(MAX_NAME_CHARS)));
    AuditEntry {
        id: uuid::Uuid::new_v4(),
        time,
        actor: name("actor"),
        actor_kind: ActorKind::ApiClient,
        app_id: Some(uuid::Uuid::new_v4().to_string()),
        role: Some("editor".to_owned()),
        source_ip: Some("203.0.113.7".to_owned()),
        tenant: Some(tenant.to_owned()),
        tenant_id: None,
        operation: "ExecDisableUser".to_owned(),
        target: Some(name("target")),
        parameters: bounded_parameters(redact(&Value::Object(parameters))),
        result: AuditResult::Error,
        message: bounded_message("m".repeat(MAX_ROW_PART_BYTES * 2)),
        severity: Severity::Warning,
        correlation_id: uuid::Uuid::new_v4().to_string(),
        status: 403,
    }
}

/// Counts an anonymous 401 in its source's row for this minute.
pub async fn record_unauthorized(state: &AppState, request: &HttpRequest) {
    let ip =
        source_ip(request, &state.settings.trusted_proxies).unwrap_or_else(|| "unknown".into());
    if let Err(error) = state
        .store
        .record_unauthorized(&ip, time::OffsetDateTime::now_utc())
        .await
    {
        tracing::warn!(%error, "an anonymous 401 could not be counted");
    }
}

fn lookup<'a>(parameters: &'a Value, key: &str) -> Option<&'a str> {
    let value = parameters
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))?
        .1;
    match value {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o.get("value").and_then(Value::as_str),
        _ => None,
    }
}

/// Deletes rows older than the retention period, hourly.
pub fn spawn_retention(store: Store, days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
            match store.delete_audit_before(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, days, "deleted audit rows past retention"),
                Err(error) => tracing::warn!(%error, "audit retention failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_parameters_are_redacted_at_any_depth() {
        let params = json!({"ID": "x", "password": "p", "nested": {"ClientSecret": "s", "TAP": "t"}, "list": [{"refreshToken": "r"}]});
        let redacted = redact(&params);
        assert_eq!(redacted["ID"], "x");
        for pointer in [
            "/password",
            "/nested/ClientSecret",
            "/nested/TAP",
            "/list/0/refreshToken",
        ] {
            assert_eq!(
                redacted.pointer(pointer),
                Some(&json!("[redacted]")),
                "{pointer}"
            );
        }
    }

    #[test]
    fn a_long_value_is_shortened_in_the_row() {
        let photo = "A".repeat(10_000);
        let redacted = redact(&json!({"photoData": photo}));
        let kept = redacted["photoData"].as_str().unwrap();
        assert!(kept.len() < 600, "{}", kept.len());
        assert!(kept.ends_with("[9488 more characters not recorded]"));
    }

    #[test]
    fn a_value_offered_for_copying_is_cut_out_of_the_message() {
        let body = json!({"Results": {"resultText": "The new password is Abc$123xyz", "copyField": "Abc$123xyz", "state": "success"}});
        assert_eq!(answer_message(&body), "The new password is [redacted]");
        assert_eq!(answer_message(&json!({"Results": "Done"})), "Done");
    }
}
