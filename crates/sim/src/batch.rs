//! Graph JSON batching: `POST /{v1.0|beta}/$batch`.
//!
//! Each item runs through the same pipeline as a request off the wire ([`crate::http::serve`]):
//! the batch's bearer token, faults matched on the item's own path (`/v1.0/users/x`), and
//! stats recorded under that path. Items run in request order so `dependsOn` can be checked;
//! the answers are returned in a shuffled order (seeded), never in request order.

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};

use crate::graph::{self, GraphError};
use crate::http::{Headers, Inbound, Outcome, serve};
use crate::state::Sim;

const MAX_REQUESTS: usize = 20;

struct Item {
    id: String,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    depends_on: Vec<String>,
}

fn batch_error(message: impl Into<String>) -> GraphError {
    GraphError::bad_request("BadRequest", message)
}

fn text_field(obj: &Map<String, Value>, name: &str) -> Option<String> {
    match obj.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// `users?$top=1`, `/users/x`, or an absolute Graph URL → (`/v1.0/users/x`, query).
fn split_url(version: &str, url: &str) -> (String, String) {
    let mut rel = url;
    if let Some(after_scheme) = url.split_once("://").map(|(_, r)| r) {
        rel = after_scheme
            .find('/')
            .map_or("", |slash| &after_scheme[slash..]);
        for v in ["/v1.0/", "/beta/"] {
            if let Some(stripped) = rel.strip_prefix(v) {
                rel = stripped;
            }
        }
    }
    let rel = rel.trim_start_matches('/');
    let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
    (format!("/{version}/{path}"), query.to_owned())
}

fn parse(version: &str, body: &[u8]) -> Result<Vec<Item>, GraphError> {
    let envelope: Value =
        serde_json::from_slice(body).map_err(|_| batch_error("Invalid batch payload format."))?;
    let Some(requests) = envelope.get("requests").and_then(Value::as_array) else {
        return Err(batch_error("Invalid batch payload format."));
    };
    if requests.is_empty() {
        return Err(batch_error("Invalid batch payload format."));
    }
    if requests.len() > MAX_REQUESTS {
        return Err(batch_error(
            "Number of requests inside batch exceeds the limit.",
        ));
    }
    let mut items: Vec<Item> = Vec::with_capacity(requests.len());
    for raw in requests {
        let Some(obj) = raw.as_object() else {
            return Err(batch_error("Invalid batch payload format."));
        };
        let (Some(id), Some(method), Some(url)) = (
            text_field(obj, "id"),
            text_field(obj, "method"),
            text_field(obj, "url"),
        ) else {
            return Err(batch_error("Invalid batch payload format."));
        };
        if items.iter().any(|i| i.id.eq_ignore_ascii_case(&id)) {
            return Err(batch_error(format!(
                "Batch request contains duplicate request id '{id}'."
            )));
        }
        let headers: Vec<(String, String)> = obj
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| {
                h.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.to_ascii_lowercase());
        let body = match obj.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => {
                let Some(ct) = &content_type else {
                    return Err(batch_error(format!(
                        "Write request id : {id} does not contain Content-Type header or body."
                    )));
                };
                match value {
                    Value::String(s) if !ct.contains("json") => STANDARD
                        .decode(s)
                        .map_err(|_| batch_error("Invalid batch payload format."))?,
                    other => serde_json::to_vec(other).unwrap_or_default(),
                }
            }
        };
        let depends_on: Vec<String> = match obj.get("dependsOn") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for dep in &depends_on {
            if !items.iter().any(|i| i.id.eq_ignore_ascii_case(dep)) {
                return Err(batch_error(format!(
                    "Request with id '{id}' depends on '{dep}', which is not an earlier request in the batch."
                )));
            }
        }
        let (path, query) = split_url(version, &url);
        items.push(Item {
            id,
            method: method.to_ascii_uppercase(),
            path,
            query,
            headers,
            body,
            depends_on,
        });
    }
    Ok(items)
}

/// Turns an inner answer into a batch item: status, headers, and a JSON (or base64) body.
fn item_response(id: &str, resp: HttpResponse) -> Value {
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    let mut json_body = false;
    for (name, value) in resp.headers() {
        let name = name.as_str();
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let Ok(value) = value.to_str() else {
            continue;
        };
        let pretty = match name {
            "content-type" => {
                json_body = value.contains("json");
                "Content-Type".to_owned()
            }
            "retry-after" => "Retry-After".to_owned(),
            "location" => "Location".to_owned(),
            "cache-control" => "Cache-Control".to_owned(),
            other => other.to_owned(),
        };
        headers.insert(pretty, json!(value));
    }
    let bytes = resp.into_body().try_into_bytes().unwrap_or_default();
    let mut item = Map::new();
    item.insert("id".into(), json!(id));
    item.insert("status".into(), json!(status));
    item.insert("headers".into(), Value::Object(headers));
    if !bytes.is_empty() {
        let body = if json_body {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        } else {
            match std::str::from_utf8(&bytes) {
                Ok(text) if !text.contains('\0') => Value::String(text.to_owned()),
                _ => Value::String(STANDARD.encode(&bytes)),
            }
        };
        item.insert("body".into(), body);
    }
    Value::Object(item)
}

fn failed_dependency(id: &str) -> Value {
    json!({
        "id": id,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": {"error": {
            "code": "FailedDependency",
            "message": "The request was not executed because a request it depends on failed.",
            "innerError": {"date": graph::inner_date()},
        }},
    })
}

pub(crate) async fn run(sim: &Sim, outer: &Inbound<'_>, version: &str) -> Outcome {
    let items = match parse(version, outer.body) {
        Ok(items) => items,
        Err(e) => {
            let rid = uuid::Uuid::new_v4().to_string();
            return Outcome::Reply(graph::error_response(&e, &rid, &rid, None));
        }
    };
    let authorization = outer.headers.get("authorization").unwrap_or("").to_owned();
    let mut statuses: Vec<(String, u16)> = Vec::with_capacity(items.len());
    let mut answers: Vec<Value> = Vec::with_capacity(items.len());
    for item in &items {
        let dependency_failed = item.depends_on.iter().any(|dep| {
            statuses
                .iter()
                .find(|(id, _)| id.eq_ignore_ascii_case(dep))
                .is_none_or(|(_, s)| !(200..300).contains(s))
        });
        if dependency_failed {
            statuses.push((item.id.clone(), 424));
            answers.push(failed_dependency(&item.id));
            continue;
        }
        // The batch's own token; ConsistencyLevel and the rest come from the item only.
        let mut headers: Vec<(String, String)> = item
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect();
        headers.push(("authorization".to_owned(), authorization.clone()));
        let inbound = Inbound {
            method: &item.method,
            path: &item.path,
            query: &item.query,
            headers: Headers::List(&headers),
            body: &item.body,
        };
        match serve(sim, &inbound, false).await {
            Outcome::Drop => return Outcome::Drop,
            Outcome::Reply(resp) => {
                statuses.push((item.id.clone(), resp.status().as_u16()));
                answers.push(item_response(&item.id, resp));
            }
        }
    }
    // Clients must correlate by id: never answer in request order.
    let n = answers.len();
    if n > 1 {
        let original: Vec<Value> = answers.iter().map(|a| a["id"].clone()).collect();
        answers.shuffle(&mut *sim.batch_rng.lock());
        let same = answers.iter().zip(&original).all(|(a, id)| a["id"] == *id);
        if same {
            answers.rotate_left(1);
        }
    }
    Outcome::Reply(graph::ok_json(
        StatusCode::OK,
        &json!({"responses": answers}),
    ))
}
