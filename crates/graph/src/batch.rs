//! JSON batching (`POST /{version}/$batch`): chunks of 20 sent concurrently within the
//! client's limits, per-item throttling retried in later rounds, results in request order.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use futures::future::join_all;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use url::Url;

use crate::client::{GraphClient, decode_body, graph_url};
use crate::error::GraphError;
use crate::paging::same_origin;
use crate::retry::{RetryBudget, idempotent_method, may_retry_status, parse_retry_after};
use crate::settings::GraphVersion;

/// Graph's limit of requests in one `$batch`.
pub const BATCH_CHUNK: usize = 20;

/// One request inside a `$batch`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchRequest {
    /// The caller's name for the request, echoed in its [`BatchResponse`]; the position in the
    /// list when `None`. Only for the caller: on the wire each item gets its own id.
    pub id: Option<String>,
    pub method: Method,
    /// Relative to the batch's version (`users/{id}?$select=id`, leading `/` optional). An
    /// absolute URL on the Graph origin is accepted and made relative.
    pub url: String,
    /// Per-request headers (`ConsistencyLevel` must be given here, not on the batch).
    pub headers: BTreeMap<String, String>,
    /// JSON body; `Content-Type: application/json` is added when no content type is given.
    pub body: Option<Value>,
}

impl BatchRequest {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            id: None,
            method,
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
        }
    }

    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url)
    }

    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// The answer to one [`BatchRequest`].
///
/// Items Graph failed keep Graph's status and body. Items for which no answer came (the
/// batch call itself failed, or Graph left the item out) get a status from the failure (502
/// when there was none) and a body in Graph's error shape, `{"error":{"code","message"}}`, with
/// a code starting `cippGraph.` so they are told apart from Graph's own errors.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchResponse {
    /// The request's `id`, or its position in the list as a string.
    pub id: String,
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    /// JSON body (base64 string for binary content); `None` when the item had none (204).
    pub body: Option<Value>,
}

impl BatchResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `body.error.message`, when the item failed with a Graph error body.
    pub fn error_message(&self) -> Option<&str> {
        self.body
            .as_ref()
            .and_then(|b| b.get("error"))
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
    }

    /// A header of the item, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn synthetic(id: String, status: u16, code: &str, message: String) -> Self {
        Self {
            id,
            status,
            headers: BTreeMap::new(),
            body: Some(json!({"error": {"code": code, "message": message}})),
        }
    }
}

#[derive(Deserialize)]
struct BatchEnvelope {
    #[serde(default)]
    responses: Vec<WireResponse>,
}

#[derive(Deserialize)]
struct WireResponse {
    id: String,
    status: u16,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Option<Value>,
}

impl GraphClient {
    /// Sends `requests` through `POST {version}/$batch` for the tenant, in this client's token mode.
    ///
    /// - Chunks of 20 go out concurrently, each POST within the per-tenant and overall limits
    ///   and with the usual retries when the batch call itself is throttled.
    /// - Items answered 429, 503 or 504 inside a successful batch are sent again in a later
    ///   round, after the longest `Retry-After` among them (else backoff), within the client's
    ///   [`crate::RetryPolicy`]; after that their last answer is returned.
    /// - One response per request, in request order; nothing is dropped (see [`BatchResponse`]).
    /// - `Err` only when the requests are unusable (bad URL) or no item got any answer from
    ///   Graph (e.g. no token could be had): then the first failure.
    ///
    /// `dependsOn` is not supported, and `@odata.nextLink` inside items is not followed (use
    /// [`GraphClient::pages_from_link`]).
    pub async fn batch(
        &self,
        tenant: &str,
        version: GraphVersion,
        requests: Vec<BatchRequest>,
    ) -> Result<Vec<BatchResponse>, GraphError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(dry_run) = self.dry_run_log() {
            return self.batch_dry_run(tenant, version, requests, dry_run).await;
        }
        let base = self.settings().graph_base_url.clone();
        let wire = requests
            .iter()
            .enumerate()
            .map(|(i, r)| wire_item(&base, version, i, r))
            .collect::<Result<Vec<_>, _>>()?;
        let batch_url = self.graph_url(version, "$batch")?;
        let caller_id =
            |i: usize| -> String { requests[i].id.clone().unwrap_or_else(|| i.to_string()) };

        let mut results: Vec<Option<BatchResponse>> = vec![None; requests.len()];
        let mut pending: Vec<usize> = (0..requests.len()).collect();
        let mut first_error: Option<GraphError> = None;
        let mut answered = false;
        let policy = self.settings().retry.clone();
        let mut budget = RetryBudget::new(&policy);
        loop {
            let round = budget.start_attempt();
            let chunks: Vec<&[usize]> = pending.chunks(BATCH_CHUNK).collect();
            tracing::debug!(
                tenant,
                round,
                items = pending.len(),
                chunks = chunks.len(),
                "sending $batch"
            );
            let outcomes = join_all(
                chunks
                    .iter()
                    .map(|chunk| self.send_chunk(tenant, &batch_url, chunk, &wire)),
            )
            .await;
            let mut retry: Vec<usize> = Vec::new();
            let mut longest_retry_after: Option<Duration> = None;
            for (chunk, outcome) in chunks.iter().zip(outcomes) {
                match outcome {
                    Ok(mut answers) => {
                        answered = true;
                        for &i in chunk.iter() {
                            let Some(item) = answers.remove(&i.to_string()) else {
                                results[i] = Some(BatchResponse::synthetic(
                                    caller_id(i),
                                    502,
                                    "cippGraph.batchItemMissing",
                                    "Graph's $batch answer had no response for this request"
                                        .to_owned(),
                                ));
                                continue;
                            };
                            let response = BatchResponse {
                                id: caller_id(i),
                                status: item.status,
                                headers: item.headers,
                                body: item.body,
                            };
                            // Items are judged one by one: a 503/504 on a write item may
                            // follow its application, so only a 429 retries it.
                            if may_retry_status(
                                response.status,
                                idempotent_method(&requests[i].method),
                            ) {
                                let wait = response
                                    .header("retry-after")
                                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                                if let Some(w) = wait {
                                    longest_retry_after =
                                        Some(longest_retry_after.map_or(w, |l| l.max(w)));
                                }
                                retry.push(i);
                            }
                            results[i] = Some(response);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(tenant, round, error = %e, "a $batch call failed");
                        for &i in chunk.iter() {
                            results[i] = Some(BatchResponse::synthetic(
                                caller_id(i),
                                e.status().unwrap_or(502),
                                "cippGraph.batchFailed",
                                e.to_string(),
                            ));
                        }
                        first_error.get_or_insert(e);
                    }
                }
            }
            if retry.is_empty() {
                break;
            }
            let Some(wait) = budget.next_wait(longest_retry_after) else {
                tracing::warn!(
                    tenant,
                    items = retry.len(),
                    rounds = budget.attempts(),
                    "$batch items still throttled; returning their last answer"
                );
                break;
            };
            tracing::info!(
                tenant,
                items = retry.len(),
                wait_ms = wait.as_millis() as u64,
                "$batch items throttled; retrying them"
            );
            tokio::time::sleep(wait).await;
            pending = retry;
        }
        if !answered && let Some(e) = first_error {
            return Err(e);
        }
        Ok(results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    BatchResponse::synthetic(
                        caller_id(i),
                        502,
                        "cippGraph.batchItemMissing",
                        "no answer".to_owned(),
                    )
                })
            })
            .collect())
    }

    /// A dry run's batch: the reading items are sent, the writing ones recorded and answered as
    /// Graph answers them on success, every answer in request order.
    async fn batch_dry_run(
        &self,
        tenant: &str,
        version: GraphVersion,
        requests: Vec<BatchRequest>,
        dry_run: &crate::dry_run::DryRun,
    ) -> Result<Vec<BatchResponse>, GraphError> {
        let (writes, reads): (Indexed, Indexed) = requests
            .into_iter()
            .enumerate()
            .partition(|(_, r)| crate::dry_run::batch_item_writes(&r.method, &r.url));
        let mut answers: Vec<(usize, BatchResponse)> = Vec::new();
        for (i, request) in writes {
            let target = if request.url.starts_with("https://") {
                request.url.clone()
            } else {
                self.graph_url(version, request.url.trim_start_matches('/'))?
                    .to_string()
            };
            let (status, body) = crate::dry_run::assumed_answer_at(
                &request.method,
                &request.url,
                request.body.as_ref(),
            );
            dry_run.record(crate::dry_run::PlannedWrite {
                service: "graph".to_owned(),
                method: request.method.to_string(),
                target,
                body: request.body.clone(),
                assumed_status: status,
            });
            answers.push((
                i,
                BatchResponse {
                    id: request.id.clone().unwrap_or_else(|| i.to_string()),
                    status,
                    headers: Default::default(),
                    body,
                },
            ));
        }
        if !reads.is_empty() {
            let (positions, reads): (Vec<usize>, Vec<BatchRequest>) = reads
                .into_iter()
                .map(|(i, mut r)| {
                    // The answer is matched back by position; the caller's id is kept.
                    r.id = Some(r.id.unwrap_or_else(|| i.to_string()));
                    (i, r)
                })
                .unzip();
            let sent = Box::pin(self.without_dry_run().batch(tenant, version, reads)).await?;
            answers.extend(positions.into_iter().zip(sent));
        }
        answers.sort_by_key(|(i, _)| *i);
        Ok(answers.into_iter().map(|(_, answer)| answer).collect())
    }

    /// One `$batch` POST; its item answers by wire id.
    async fn send_chunk(
        &self,
        tenant: &str,
        batch_url: &Url,
        chunk: &[usize],
        wire: &[Value],
    ) -> Result<HashMap<String, WireAnswer>, GraphError> {
        let items: Vec<Value> = chunk.iter().map(|&i| wire[i].clone()).collect();
        let body = json!({ "requests": items });
        let reply = self
            .execute(
                tenant,
                Method::POST,
                batch_url.clone(),
                Some(&body),
                &[("Content-Type", "application/json; charset=utf-8")],
            )
            .await?;
        let value = decode_body(&reply)?.unwrap_or(Value::Null);
        let envelope: BatchEnvelope =
            serde_json::from_value(value).map_err(|e| GraphError::Decode {
                message: format!("$batch answer is not a batch response: {e}"),
            })?;
        Ok(envelope
            .responses
            .into_iter()
            .map(|r| {
                let headers = r
                    .headers
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect();
                (
                    r.id.to_lowercase(),
                    WireAnswer {
                        status: r.status,
                        headers,
                        body: r.body,
                    },
                )
            })
            .collect())
    }
}

struct WireAnswer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Option<Value>,
}

/// The JSON of one batch item, with the wire id `index`.
fn wire_item(
    base: &Url,
    version: GraphVersion,
    index: usize,
    request: &BatchRequest,
) -> Result<Value, GraphError> {
    let url = relative_url(base, version, &request.url)?;
    let mut item = Map::new();
    item.insert("id".to_owned(), Value::String(index.to_string()));
    item.insert(
        "method".to_owned(),
        Value::String(request.method.as_str().to_owned()),
    );
    item.insert("url".to_owned(), Value::String(url));
    let mut headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if let Some(body) = &request.body {
        if !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"))
        {
            headers.insert(
                "Content-Type".to_owned(),
                Value::String("application/json".to_owned()),
            );
        }
        item.insert("body".to_owned(), body.clone());
    }
    if !headers.is_empty() {
        item.insert("headers".to_owned(), Value::Object(headers));
    }
    Ok(Value::Object(item))
}

/// `users/x?$select=id` as it would go out in a plain call (same escaping as
/// [`crate::graph_url`]), relative to the version segment.
fn relative_url(base: &Url, version: GraphVersion, url: &str) -> Result<String, GraphError> {
    let prefix = graph_url(base, version, "")?;
    let rest = match Url::parse(url) {
        Ok(absolute) => {
            let on_graph =
                same_origin(base, &absolute) && absolute.as_str().starts_with(prefix.as_str());
            if !on_graph {
                return Err(GraphError::Config {
                    setting: "batch request url",
                    message: format!("'{url}' is not relative and not under {prefix}"),
                });
            }
            absolute.as_str()[prefix.as_str().len()..].to_owned()
        }
        Err(_) => url.to_owned(),
    };
    let full = graph_url(base, version, &rest)?;
    Ok(full
        .as_str()
        .get(prefix.as_str().len()..)
        .unwrap_or_default()
        .to_owned())
}

/// Batch items with their place in the request, for a dry run's split into writes and reads.
type Indexed = Vec<(usize, BatchRequest)>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn base() -> Url {
        Url::parse("https://graph.microsoft.com").unwrap()
    }

    #[test]
    fn relative_urls_are_kept_and_escaped_like_plain_calls() {
        let r = relative_url(
            &base(),
            GraphVersion::Beta,
            "/users/a_b.com#EXT#@t.onmicrosoft.com?$select=id,displayName",
        )
        .unwrap();
        assert_eq!(
            r,
            "users/a_b.com%23EXT%23@t.onmicrosoft.com?$select=id,displayName"
        );
    }

    #[test]
    fn absolute_graph_urls_of_the_same_version_become_relative() {
        let r = relative_url(
            &base(),
            GraphVersion::V1,
            "https://graph.microsoft.com/v1.0/users?$skiptoken=x",
        )
        .unwrap();
        assert_eq!(r, "users?$skiptoken=x");
        assert!(
            relative_url(
                &base(),
                GraphVersion::V1,
                "https://graph.microsoft.com/beta/users"
            )
            .is_err()
        );
        assert!(
            relative_url(&base(), GraphVersion::V1, "https://evil.example/v1.0/users").is_err()
        );
    }

    #[test]
    fn bodies_get_a_json_content_type_unless_one_is_given() {
        let item = wire_item(
            &base(),
            GraphVersion::V1,
            3,
            &BatchRequest::new(Method::PATCH, "users/x").with_body(json!({"a": 1})),
        )
        .unwrap();
        assert_eq!(item["id"], "3");
        assert_eq!(item["method"], "PATCH");
        assert_eq!(item["headers"]["Content-Type"], "application/json");
        let item = wire_item(
            &base(),
            GraphVersion::V1,
            0,
            &BatchRequest::get("users").with_header("ConsistencyLevel", "eventual"),
        )
        .unwrap();
        assert_eq!(item["headers"], json!({"ConsistencyLevel": "eventual"}));
        assert!(item.get("body").is_none());
    }
}
