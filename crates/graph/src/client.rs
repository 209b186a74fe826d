//! The Graph client: URL building, headers, one logical call with bounded retries.

use std::sync::Arc;
use std::time::SystemTime;

use futures::TryStreamExt;
use reqwest::Method;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::Instrument;
use url::Url;
use uuid::Uuid;

use crate::builder::GraphClientBuilder;
use crate::dry_run::DryRun;
use crate::error::{GraphError, api_error, parse_error_body};
use crate::limits::{ConcurrencyLimits, Limiter};
use crate::paging::{GraphPage, resolve_next_link};
use crate::retry::{
    RetryBudget, is_retryable_status, may_retry_status, parse_retry_after, replay_safe,
};
use crate::settings::{DEFAULT_GRAPH_SCOPE, GraphSettings, GraphVersion};
use crate::tls::error_chain;
use crate::tokens::{TokenCache, TokenMode, TokenProvider};

/// Microsoft Graph (and Exchange Online admin REST) client.
///
/// Cheap to clone; clones share connections, the token cache and the concurrency limits.
/// Each clone carries the [`TokenMode`] its calls use: [`GraphClient::app_only`] and
/// [`GraphClient::partner`] return such clones.
#[derive(Clone)]
pub struct GraphClient {
    pub(crate) inner: Arc<Inner>,
    mode: TokenMode,
    /// Set on a `WhatIf` clone: writes are recorded here instead of sent.
    dry_run: Option<DryRun>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: TokenCache,
    pub(crate) settings: GraphSettings,
    pub(crate) limiter: Limiter,
    pub(crate) exchange_base_url: Url,
    /// SharePoint admin URL template (`{tenant}` is the SharePoint tenant name).
    pub(crate) sharepoint_admin_template: String,
    /// The MFA connector's push and OTP origins (`crate::mfa_connector`).
    pub(crate) mfa_push_url: Url,
    pub(crate) mfa_otp_url: Url,
}

/// A successful HTTP answer, before any decoding.
#[derive(Debug)]
pub(crate) struct RawReply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// What one logical call is: where it goes, with which token, carrying what.
pub(crate) struct Call<'a> {
    pub tenant: &'a str,
    pub method: Method,
    pub url: Url,
    pub body: Option<&'a Value>,
    /// A non-JSON body (a photo), sent as is; its `Content-Type` comes from `headers`.
    pub raw_body: Option<&'a [u8]>,
    pub headers: &'a [(&'a str, &'a str)],
    pub scope: &'a str,
    /// `graph`, `exchange` or `sharepoint`, for the span.
    pub service: &'static str,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field(
                "graph_base_url",
                &self.inner.settings.graph_base_url.as_str(),
            )
            .field("exchange_base_url", &self.inner.exchange_base_url.as_str())
            .field("mode", &self.mode)
            .field("concurrency", &self.inner.limiter.limits())
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// App-only client: client-credentials tokens from Entra through azure_identity, cached per
    /// tenant. For partner (delegated) tokens, limits or Exchange settings use [`GraphClient::builder`].
    pub fn new(settings: GraphSettings) -> Result<Self, GraphError> {
        GraphClientBuilder::new(settings).build()
    }

    /// Client with a caller-supplied app-mode token source (tests, other grants).
    /// It sits behind the client's token cache, so it is asked once per tenant and scope
    /// until the token nears expiry.
    pub fn with_token_provider(
        settings: GraphSettings,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<Self, GraphError> {
        GraphClientBuilder::new(settings)
            .app_token_provider(tokens)
            .build()
    }

    /// Starts a client with more than the settings: a partner refresh token, concurrency
    /// limits, the Exchange origin.
    pub fn builder(settings: GraphSettings) -> GraphClientBuilder {
        GraphClientBuilder::new(settings)
    }

    pub(crate) fn from_parts(inner: Inner, mode: TokenMode) -> Self {
        Self {
            inner: Arc::new(inner),
            mode,
            dry_run: None,
        }
    }

    /// A clone that sends reads and records writes in `log` instead of sending them (see
    /// [`crate::dry_run`]). Token modes chosen from the clone keep the dry run.
    pub fn dry_run(&self, log: DryRun) -> GraphClient {
        GraphClient {
            inner: self.inner.clone(),
            mode: self.mode,
            dry_run: Some(log),
        }
    }

    /// The same client sending everything (for the reads a dry run has already sorted out).
    pub(crate) fn without_dry_run(&self) -> GraphClient {
        GraphClient {
            inner: self.inner.clone(),
            mode: self.mode,
            dry_run: None,
        }
    }

    /// The dry run this clone records into, if it is one.
    pub fn dry_run_log(&self) -> Option<&DryRun> {
        self.dry_run.as_ref()
    }

    /// A clone whose calls use app-only tokens (CIPP's `AsApp`).
    pub fn app_only(&self) -> GraphClient {
        self.with_mode(TokenMode::App)
    }

    /// A clone whose calls use delegated tokens from the partner refresh token. Its calls fail
    /// with [`GraphError::Token`] when no refresh token is configured.
    pub fn partner(&self) -> GraphClient {
        self.with_mode(TokenMode::Partner)
    }

    /// A clone using the given token mode.
    pub fn with_mode(&self, mode: TokenMode) -> GraphClient {
        GraphClient {
            inner: self.inner.clone(),
            mode,
            dry_run: self.dry_run.clone(),
        }
    }

    /// The token mode this client's calls use.
    pub fn token_mode(&self) -> TokenMode {
        self.mode
    }

    /// Whether partner (delegated) tokens are configured.
    pub fn has_partner_tokens(&self) -> bool {
        self.inner.tokens.has_partner()
    }

    /// The concurrency limits shared by this client and its clones.
    pub fn concurrency_limits(&self) -> ConcurrencyLimits {
        self.inner.limiter.limits()
    }

    /// The Exchange Online origin `exchange` calls go to.
    pub fn exchange_base_url(&self) -> &Url {
        &self.inner.exchange_base_url
    }

    /// The SharePoint admin URL template (see [`crate::DEFAULT_SHAREPOINT_ADMIN_URL`]).
    pub fn sharepoint_admin_template(&self) -> &str {
        &self.inner.sharepoint_admin_template
    }

    pub fn settings(&self) -> &GraphSettings {
        &self.inner.settings
    }

    /// A (cached) access token for the tenant and scope, in this client's token mode.
    pub async fn access_token(
        &self,
        tenant: &str,
        scope: &str,
    ) -> Result<SecretString, GraphError> {
        Ok(self
            .inner
            .tokens
            .token(self.mode, tenant, scope)
            .await?
            .secret)
    }

    /// One GET; the body as JSON (an empty body is `Null`, a non-JSON text body a JSON string).
    pub async fn get(
        &self,
        tenant: &str,
        version: GraphVersion,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Value, GraphError> {
        let url = self.graph_url(version, path_and_query)?;
        let reply = self
            .execute(tenant, Method::GET, url, None, headers)
            .await?;
        Ok(decode_body(&reply)?.unwrap_or(Value::Null))
    }

    /// One GET of a non-JSON resource (a photo's `$value`): the body bytes and the answer's
    /// `Content-Type`. Sends `Accept: */*` unless the caller gives an `Accept` header.
    pub async fn get_bytes(
        &self,
        tenant: &str,
        version: GraphVersion,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<(Vec<u8>, Option<String>), GraphError> {
        let url = self.graph_url(version, path_and_query)?;
        let mut all: Vec<(&str, &str)> = vec![("Accept", "*/*")];
        all.extend_from_slice(headers);
        let reply = self.execute(tenant, Method::GET, url, None, &all).await?;
        let content_type = reply
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((reply.body, content_type))
    }

    /// GET following every `@odata.nextLink`: the `value` items of all pages, or the single
    /// object when the body is not a collection.
    pub async fn get_all(
        &self,
        tenant: &str,
        version: GraphVersion,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Vec<Value>, GraphError> {
        self.pages(tenant, version, path_and_query, headers)
            .try_fold(Vec::new(), |mut all, page| async move {
                all.extend(page.items);
                Ok(all)
            })
            .await
    }

    /// The pages of a GET, lazily, following `@odata.nextLink` only on the Graph origin.
    pub fn pages(
        &self,
        tenant: &str,
        version: GraphVersion,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> impl futures::Stream<Item = Result<GraphPage, GraphError>> + Send + use<> {
        let start = self.graph_url(version, path_and_query);
        crate::paging::page_stream(self.clone(), tenant, start, headers)
    }

    /// Pages starting from a nextLink a caller kept (must be on the Graph origin).
    pub fn pages_from_link(
        &self,
        tenant: &str,
        next_link: &str,
        headers: &[(&str, &str)],
    ) -> impl futures::Stream<Item = Result<GraphPage, GraphError>> + Send + use<> {
        let start = resolve_next_link(&self.inner.settings.graph_base_url, next_link);
        crate::paging::page_stream(self.clone(), tenant, start, headers)
    }

    /// PATCH with a JSON body; `None` for 204 No Content.
    pub async fn patch(
        &self,
        tenant: &str,
        version: GraphVersion,
        path: &str,
        body: &Value,
    ) -> Result<Option<Value>, GraphError> {
        self.send(tenant, Method::PATCH, version, path, Some(body), &[])
            .await
    }

    /// POST with a JSON body; the created object, or `None` for an empty answer.
    pub async fn post(
        &self,
        tenant: &str,
        version: GraphVersion,
        path: &str,
        body: &Value,
    ) -> Result<Option<Value>, GraphError> {
        self.send(tenant, Method::POST, version, path, Some(body), &[])
            .await
    }

    /// DELETE; success is any 2xx.
    pub async fn delete(
        &self,
        tenant: &str,
        version: GraphVersion,
        path: &str,
    ) -> Result<(), GraphError> {
        self.send(tenant, Method::DELETE, version, path, None, &[])
            .await
            .map(|_| ())
    }

    /// PUT of raw bytes (a photo's `$value`) with their content type; success is any 2xx.
    pub async fn put_bytes(
        &self,
        tenant: &str,
        version: GraphVersion,
        path: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<(), GraphError> {
        let url = self.graph_url(version, path)?;
        self.execute_call(Call {
            tenant,
            method: Method::PUT,
            url,
            body: None,
            raw_body: Some(bytes),
            headers: &[("Content-Type", content_type)],
            scope: DEFAULT_GRAPH_SCOPE,
            service: "graph",
        })
        .await
        .map(|_| ())
    }

    /// Any method, optional JSON body, extra headers; `None` when the answer has no body.
    pub async fn send(
        &self,
        tenant: &str,
        method: Method,
        version: GraphVersion,
        path_and_query: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Option<Value>, GraphError> {
        let url = self.graph_url(version, path_and_query)?;
        let reply = self.execute(tenant, method, url, body, headers).await?;
        decode_body(&reply)
    }

    /// `{graph_base_url}/{version}/{path_and_query}`, sent as written (see [`graph_url`]).
    pub fn graph_url(
        &self,
        version: GraphVersion,
        path_and_query: &str,
    ) -> Result<Url, GraphError> {
        graph_url(&self.inner.settings.graph_base_url, version, path_and_query)
    }

    pub(crate) fn base_url(&self) -> &Url {
        &self.inner.settings.graph_base_url
    }

    /// One logical Graph call in this client's token mode (see [`GraphClient::execute_call`]).
    pub(crate) async fn execute(
        &self,
        tenant: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<RawReply, GraphError> {
        self.execute_call(Call {
            tenant,
            method,
            url,
            body,
            raw_body: None,
            headers,
            scope: DEFAULT_GRAPH_SCOPE,
            service: "graph",
        })
        .await
    }

    /// One logical call: same `client-request-id` on every attempt, retries within the policy,
    /// a concurrency permit held for each attempt (not while waiting to retry), one span.
    pub(crate) async fn execute_call(&self, call: Call<'_>) -> Result<RawReply, GraphError> {
        if let Some(dry_run) = &self.dry_run
            && crate::dry_run::is_write(&call)
        {
            return Ok(crate::dry_run::plan(dry_run, &call));
        }
        let client_request_id = Uuid::new_v4();
        let span = tracing::info_span!(
            "graph_request",
            service = call.service,
            mode = %self.mode,
            tenant = %call.tenant,
            method = %call.method,
            path = %call.url.path(),
            client_request_id = %client_request_id,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        self.execute_in_span(call, client_request_id, &span)
            .instrument(span.clone())
            .await
    }

    async fn execute_in_span(
        &self,
        call: Call<'_>,
        client_request_id: Uuid,
        span: &tracing::Span,
    ) -> Result<RawReply, GraphError> {
        let Call {
            tenant,
            method,
            url,
            body,
            raw_body,
            headers,
            scope,
            service,
        } = call;
        let header_map = self.request_headers(headers, client_request_id, body.is_some())?;
        // Decided before the body is serialized: a write is never sent twice after an answer
        // that may have followed its application (503, 504, a dropped connection).
        let replay_safe = replay_safe(&method, url.path(), body);
        // Serialized once, re-sent as is on retries.
        let body: Option<Vec<u8>> = match body {
            _ if raw_body.is_some() => raw_body.map(<[u8]>::to_vec),
            Some(v) => Some(serde_json::to_vec(v).map_err(|e| GraphError::Decode {
                message: format!("request body is not serializable: {e}"),
            })?),
            None => None,
        };
        let mut budget = RetryBudget::new(&self.inner.settings.retry);
        // Metric labels: the service and the host, never the tenant or the path (unbounded).
        let host = url.host_str().unwrap_or("").to_owned();
        let count = |status: &str, throttled: bool| {
            metrics::counter!(
                "cipp_graph_requests_total",
                "service" => service,
                "host" => host.clone(),
                "status" => status.to_owned(),
                "throttled" => if throttled { "true" } else { "false" },
            )
            .increment(1);
        };
        let retried = |reason: &'static str| {
            metrics::counter!(
                "cipp_graph_retries_total",
                "service" => service,
                "host" => host.clone(),
                "reason" => reason,
            )
            .increment(1);
        };
        loop {
            let attempt = budget.start_attempt();
            span.record("attempt", attempt);
            let token = self.inner.tokens.token(self.mode, tenant, scope).await?;
            let auth = bearer_header(tenant, &token.secret)?;
            let mut request = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .headers(header_map.clone())
                .header(AUTHORIZATION, auth);
            if let Some(b) = &body {
                request = request.body(b.clone());
            }
            tracing::debug!(attempt, "sending request");
            // The permit covers the send and the body read, and is released before any wait.
            let outcome = {
                let _permit = self.inner.limiter.acquire(tenant).await?;
                match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let response_headers = response.headers().clone();
                        response
                            .bytes()
                            .await
                            .map(|bytes| (status, response_headers, bytes))
                    }
                    Err(e) => Err(e),
                }
            };
            let (status, response_headers, bytes) = match outcome {
                Ok(answer) => answer,
                Err(e) => {
                    count("error", false);
                    let message = error_chain(&e);
                    // A refused connect never reached the service, so even a POST is safe to
                    // resend; a connection dropped later may have carried the request, so only a
                    // replay-safe one is resent.
                    if (e.is_connect() || replay_safe)
                        && let Some(wait) = budget.next_wait(None)
                    {
                        tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %message, "connect failed; retrying");
                        retried("transport");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    tracing::warn!(attempt, error = %message, "request failed");
                    return Err(GraphError::Transport { message });
                }
            };
            span.record("status", status);
            count(&status.to_string(), status == 429);
            if (200..300).contains(&status) {
                tracing::debug!(status, attempt, "request succeeded");
                return Ok(RawReply {
                    status,
                    headers: response_headers,
                    body: bytes.to_vec(),
                });
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if may_retry_status(status, replay_safe) {
                let retry_after = response_headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                if let Some(wait) = budget.next_wait(retry_after) {
                    tracing::warn!(
                        status,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        server_said = retry_after.is_some(),
                        "throttled; retrying"
                    );
                    retried(if status == 429 {
                        "throttled"
                    } else {
                        "unavailable"
                    });
                    tokio::time::sleep(wait).await;
                    continue;
                }
                tracing::warn!(
                    status,
                    attempts = budget.attempts(),
                    "still throttled; giving up"
                );
                return Err(throttled_error(status, budget.attempts(), &text));
            }
            if is_retryable_status(status) {
                tracing::warn!(
                    status,
                    attempt,
                    "not retried: the request is not safe to send twice"
                );
                return Err(throttled_error(status, budget.attempts(), &text));
            }
            if status == 401 {
                // The token was refused (expired early, revoked): make the next call fetch a new one.
                self.inner.tokens.invalidate(self.mode, tenant, scope).await;
            }
            let request_id = response_headers
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let err = api_error(status, text, request_id);
            tracing::info!(
                status,
                service,
                code = err.graph_code().unwrap_or(""),
                "service returned an error"
            );
            return Err(err);
        }
    }

    fn request_headers(
        &self,
        extra: &[(&str, &str)],
        client_request_id: Uuid,
        has_body: bool,
    ) -> Result<HeaderMap, GraphError> {
        let mut map = HeaderMap::new();
        map.insert(ACCEPT, HeaderValue::from_static("application/json"));
        map.insert(
            HeaderName::from_static("client-request-id"),
            header_value("client-request-id", &client_request_id.to_string())?,
        );
        if has_body {
            map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        // Caller headers win (e.g. a different User-Agent), as in CIPP.
        for (name, value) in extra {
            let name =
                HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| GraphError::Config {
                    setting: "request header",
                    message: format!("'{name}' is not a valid header name"),
                })?;
            let value = header_value(name.as_str(), value)?;
            map.insert(name, value);
        }
        Ok(map)
    }
}

fn bearer_header(tenant: &str, token: &SecretString) -> Result<HeaderValue, GraphError> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).map_err(|_| {
            GraphError::Token {
                tenant: tenant.to_owned(),
                status: None,
                code: None,
                message: "access token is not a valid header value".to_owned(),
            }
        })?;
    // Keeps the token out of reqwest's and hyper's debug output.
    value.set_sensitive(true);
    Ok(value)
}

fn throttled_error(status: u16, attempts: u32, body: &str) -> GraphError {
    let parsed = parse_error_body(body, None);
    GraphError::Throttled {
        status,
        attempts,
        message: [parsed.message, parsed.code]
            .into_iter()
            .find(|m| !m.is_empty())
            .unwrap_or_else(|| format!("HTTP {status}")),
    }
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, GraphError> {
    HeaderValue::from_str(value).map_err(|_| GraphError::Config {
        setting: "request header",
        message: format!("value for '{name}' is not a valid header value"),
    })
}

pub(crate) fn check_graph_base_url(settings: &GraphSettings) -> Result<(), GraphError> {
    let url = &settings.graph_base_url;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(GraphError::Config {
            setting: "graph_base_url",
            message: format!("'{url}' is not an http(s) origin"),
        });
    }
    Ok(())
}

/// Builds `{base}/{version}/{path_and_query}`.
///
/// The caller's text goes out as written: `$`, `(`, `)`, `=`, `,`, `:` and existing `%XX`
/// escapes are kept; only what a URL cannot carry is percent-encoded (spaces, `"`, `<`, `>`,
/// non-ASCII, by the `url` crate). A `#` is encoded too, because Graph paths and filters carry
/// it as data (`#EXT#` guest UPNs) and a fragment never reaches the server. One catch: the
/// WHATWG URL rules that reqwest follows encode `'` in queries as `%27`, which servers decode
/// to the same value.
pub fn graph_url(
    base: &Url,
    version: GraphVersion,
    path_and_query: &str,
) -> Result<Url, GraphError> {
    let rest = path_and_query.trim_start_matches('/').replace('#', "%23");
    let base = base.as_str().trim_end_matches('/');
    let full = format!("{base}/{}/{rest}", version.as_str());
    Url::parse(&full).map_err(|e| GraphError::Config {
        setting: "path_and_query",
        message: format!("'{path_and_query}' does not make a valid URL: {e}"),
    })
}

/// `None` for an empty body (204 and friends); JSON when it parses; text bodies as a JSON string.
pub(crate) fn decode_body(reply: &RawReply) -> Result<Option<Value>, GraphError> {
    if reply.status == 204 || reply.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(&reply.body) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let is_text = reply
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.trim_start().starts_with("text/"));
            match (is_text, std::str::from_utf8(&reply.body)) {
                (true, Ok(text)) => Ok(Some(Value::String(text.to_owned()))),
                _ => Err(GraphError::Decode {
                    message: format!("response body is not JSON: {e}"),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn base() -> Url {
        Url::parse("https://graph.microsoft.com").unwrap()
    }

    #[test]
    fn cipp_style_queries_are_kept_as_written() {
        let q = "users?$top=999&$filter=&$count=true&$expand=manager($select=id,userPrincipalName,displayName)";
        let url = graph_url(&base(), GraphVersion::Beta, q).unwrap();
        assert_eq!(
            url.as_str(),
            "https://graph.microsoft.com/beta/users?$top=999&$filter=&$count=true&$expand=manager($select=id,userPrincipalName,displayName)"
        );
    }

    #[test]
    fn a_leading_slash_is_tolerated_and_a_trailing_one_kept() {
        let url = graph_url(&base(), GraphVersion::V1, "/users/").unwrap();
        assert_eq!(url.as_str(), "https://graph.microsoft.com/v1.0/users/");
    }

    #[test]
    fn spaces_and_hashes_are_percent_encoded() {
        let url = graph_url(
            &base(),
            GraphVersion::V1,
            "users/a_b.com#EXT#@t.onmicrosoft.com?$filter=accountEnabled eq false",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://graph.microsoft.com/v1.0/users/a_b.com%23EXT%23@t.onmicrosoft.com?$filter=accountEnabled%20eq%20false"
        );
    }

    #[test]
    fn a_base_url_with_a_path_prefix_keeps_it() {
        let b = Url::parse("https://127.0.0.1:8443/graph/").unwrap();
        let url = graph_url(&b, GraphVersion::Beta, "users").unwrap();
        assert_eq!(url.as_str(), "https://127.0.0.1:8443/graph/beta/users");
    }

    #[test]
    fn text_bodies_such_as_count_decode_as_json_numbers_or_strings() {
        let reply = RawReply {
            status: 200,
            headers: HeaderMap::new(),
            body: b"893".to_vec(),
        };
        assert_eq!(decode_body(&reply).unwrap(), Some(Value::from(893)));
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let reply = RawReply {
            status: 200,
            headers,
            body: b"hello there".to_vec(),
        };
        assert_eq!(
            decode_body(&reply).unwrap(),
            Some(Value::String("hello there".to_owned()))
        );
    }
}
